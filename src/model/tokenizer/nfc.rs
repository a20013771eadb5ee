//! Unicode Normalization Form C, as Qwen2's `tokenizer.json` normalizer applies it, from the
//! tables [`nfc_tables`](super::nfc_tables) generates (Unicode 9.0, as `tokenizers` has it):
//!
//! 1. each character is replaced by its full canonical decomposition (Hangul syllables by the
//!    Unicode algorithm);
//! 2. each run of combining marks is sorted by combining class (a stable sort);
//! 3. each mark, and each Hangul jamo, is composed with the starter before it when the pair has
//!    a primary composite and no character between them blocks it (one of class 0, or of a
//!    class at least its own).
//!
//! Our own tables rather than the `unicode-normalization` crate: the crate adds 124 KB to the
//! page's wasm (63 KB gzipped) and is Unicode 18, not the 9.0 `tokenizers` normalizes with
//! (docs/formats.md).

use std::borrow::Cow;

use super::nfc_tables::{CCC, COMPOSITION, DECOMPOSITION};

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

/// `text` in NFC; borrowed when it already is.
pub fn nfc(text: &str) -> Cow<'_, str> {
    // Below U+0300 no character decomposes, combines or composes with what precedes it.
    if text.chars().all(|c| (c as u32) < 0x300) {
        return Cow::Borrowed(text);
    }
    let mut chars = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose(c as u32, &mut chars);
    }
    reorder(&mut chars);
    let composed = compose(&chars);
    let out: String = composed.into_iter().filter_map(char::from_u32).collect();
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

/// The canonical combining class of `c`.
fn ccc(c: u32) -> u8 {
    match CCC.binary_search_by_key(&c, |&(k, _)| k) {
        Ok(i) => CCC[i].1,
        Err(_) => 0,
    }
}

/// Appends the full canonical decomposition of `c`.
fn decompose(c: u32, out: &mut Vec<u32>) {
    if (S_BASE..S_BASE + S_COUNT).contains(&c) {
        let s = c - S_BASE;
        out.push(L_BASE + s / N_COUNT);
        out.push(V_BASE + (s % N_COUNT) / T_COUNT);
        if !s.is_multiple_of(T_COUNT) {
            out.push(T_BASE + s % T_COUNT);
        }
        return;
    }
    match DECOMPOSITION.binary_search_by_key(&c, |&(k, _, _)| k) {
        Ok(i) => {
            let (_, first, second) = DECOMPOSITION[i];
            decompose(first, out);
            if second != 0 {
                decompose(second, out);
            }
        }
        Err(_) => out.push(c),
    }
}

/// Sorts each run of combining marks by class, keeping the order of equal classes.
fn reorder(chars: &mut [u32]) {
    let mut i = 0;
    while i < chars.len() {
        if ccc(chars[i]) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && ccc(chars[i]) != 0 {
            i += 1;
        }
        // Runs are a few marks: an insertion sort, stable, and far less code than `sort`.
        for j in start + 1..i {
            let mut k = j;
            while k > start && ccc(chars[k - 1]) > ccc(chars[k]) {
                chars.swap(k - 1, k);
                k -= 1;
            }
        }
    }
}

/// The primary composite of `a` then `b`, if there is one.
fn composite(a: u32, b: u32) -> Option<u32> {
    if (L_BASE..L_BASE + L_COUNT).contains(&a) && (V_BASE..V_BASE + V_COUNT).contains(&b) {
        return Some(S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT);
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&a)
        && (a - S_BASE).is_multiple_of(T_COUNT)
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&b)
    {
        return Some(a + (b - T_BASE));
    }
    COMPOSITION
        .binary_search_by_key(&(a, b), |&(x, y, _)| (x, y))
        .ok()
        .map(|i| COMPOSITION[i].2)
}

/// Canonical composition of decomposed, reordered characters.
fn compose(chars: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    // The class of the last character kept after the starter; None right after it.
    let mut last: Option<u8> = None;
    for &c in chars {
        let class = ccc(c);
        if let Some(s) = starter {
            let blocked = last.is_some_and(|l| l == 0 || l >= class);
            if !blocked {
                if let Some(comp) = composite(out[s], c) {
                    out[s] = comp;
                    continue;
                }
            }
        }
        if class == 0 {
            starter = Some(out.len());
            last = None;
        } else {
            last = Some(class);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_decomposes_and_reorders() {
        // Vietnamese: e + circumflex + acute → ế; already NFC stays borrowed.
        assert_eq!(nfc("Tie\u{302}\u{301}ng"), "Tiếng");
        assert!(matches!(nfc("Tiếng Việt"), Cow::Borrowed(_)));
        // Marks out of order: dot below (220) goes before the acute (230), then both compose.
        assert_eq!(nfc("a\u{301}\u{323}"), "ạ\u{301}");
        assert_eq!(nfc("\u{1EAD}"), "\u{1EAD}");
        // A singleton (Ohm sign → Omega) and an excluded composite (U+0958) stay decomposed.
        assert_eq!(nfc("\u{2126}"), "\u{3A9}");
        assert_eq!(nfc("\u{958}"), "\u{915}\u{93C}");
        // Hangul: jamo compose to syllables, LV + T to LVT.
        assert_eq!(nfc("\u{1100}\u{1161}\u{11A8}"), "\u{AC01}");
        assert_eq!(nfc("\u{AC00}\u{11A8}"), "\u{AC01}");
        // A mark before any starter, and a blocked one.
        assert_eq!(nfc("\u{301}a"), "\u{301}a");
        assert_eq!(nfc("a\u{301}\u{301}"), "á\u{301}");
        assert_eq!(nfc(""), "");
    }
}
