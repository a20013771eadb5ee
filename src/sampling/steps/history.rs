//! What the repetition steps read of the history: its last ids, and its repeats.

/// The last `last_n` ids of the history (all of them for −1).
pub(super) fn window(history: &[u32], last_n: i32) -> &[u32] {
    let n = if last_n < 0 {
        history.len()
    } else {
        (last_n as usize).min(history.len())
    };
    &history[history.len() - n..]
}

/// Z-array of the history read backwards: z[k] = how many of the latest ids equal those k
/// back (r = reversed history, z[k] = the longest common prefix of r and r[k..]), z[0] = n.
/// Linear time (the Z-algorithm).
pub(super) fn suffix_matches(history: &[u32]) -> Vec<usize> {
    let r: Vec<u32> = history.iter().rev().copied().collect();
    let n = r.len();
    let mut z = vec![0usize; n + 1];
    if n == 0 {
        return z;
    }
    z[0] = n;
    let (mut l, mut right) = (0usize, 0usize);
    for k in 1..n {
        let mut len = if k < right {
            z[k - l].min(right - k)
        } else {
            0
        };
        while k + len < n && r[len] == r[k + len] {
            len += 1;
        }
        z[k] = len;
        if k + len > right {
            (l, right) = (k, k + len);
        }
    }
    z
}
