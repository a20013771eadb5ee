//! Llama 2's SentencePiece BPE as llama2.c stores and runs it: `tokenizer.bin` holds one piece
//! (its UTF-8 bytes, SentencePiece's `▁` written as a plain space) and one score per id, and
//! encoding merges by score, not by a merge list.
//!
//! `tokenizer.bin` (llama2.c's `tokenizer.py`): u32 max_token_length, then per id f32 score,
//! i32 length, that many bytes. It does not store its size: the model's vocab_size says how
//! many ids there must be.
//!
//! encode (run.c's `encode`, without BOS/EOS):
//! 1. a non-empty text gets a leading space (SentencePiece's dummy prefix);
//! 2. each character becomes the id of its piece, or, if it has none, one id per UTF-8 byte
//!    b: the byte-fallback piece `<0xBB>` at id b + 3 (after `<unk>`, `<s>`, `</s>`);
//! 3. repeatedly, of all adjacent pairs whose concatenation is a piece, the one with the best
//!    score (the leftmost on ties) is merged, until no pair is a piece.
//!
//! run.c rescans every pair after each merge, O(n²) for n characters: seconds for a page of
//! text. We keep the candidate pairs in a max-heap ordered by (score, leftmost) and drop those
//! a merge has made stale when they come up, O(n log n), with the same merges in the same order
//! (the unit tests check it against a transcription of run.c's loop on random texts).
//!
//! decode (run.c's `decode`): each id's piece, `<0xBB>` as the raw byte, and the leading space
//! of a piece right after BOS (id 1) dropped.
//!
//! Memory: the file is untrusted, and a piece may be empty (8 bytes of file). The pieces are
//! kept as one run of bytes with an end offset per id, and found by binary search in a list of
//! ids sorted by piece: 12 bytes per id besides the pieces' own bytes, allocated once, after a
//! first pass has counted them. Reading a file costs at most 2.5 times its size.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::{Code, Error, Result};

/// The id of `<s>` (BOS) in llama2.c's tokenizers; the piece after it loses its leading space.
pub const BOS: u32 = 1;

/// Ids of the byte-fallback pieces start here: `<0xBB>` is id b + 3.
const BYTE_OFFSET: u32 = 3;

/// A SentencePiece-style tokenizer read from llama2.c's `tokenizer.bin`.
#[derive(Debug, Clone)]
pub struct SentencePiece {
    /// Every id's piece as stored (`<0x0A>` for a byte token), one after another.
    text: Vec<u8>,
    /// Where each id's piece ends in `text` (it starts where the one before ends).
    ends: Vec<u32>,
    scores: Vec<f32>,
    /// The ids ordered by piece, then id: a piece's first id is found by binary search.
    by_piece: Vec<u32>,
}

impl PartialEq for SentencePiece {
    fn eq(&self, other: &Self) -> bool {
        let bits = |s: &[f32]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        self.text == other.text
            && self.ends == other.ends
            && bits(&self.scores) == bits(&other.scores)
    }
}

/// Every byte, so that a byte token's decoded form can be a slice like any piece's.
static ALL_BYTES: [u8; 256] = {
    let mut b = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        b[i] = i as u8;
        i += 1;
    }
    b
};

impl Eq for SentencePiece {}

/// The error for a bad `tokenizer.bin`.
fn bad(what: String) -> Error {
    Error::new(format!("tokenizer.bin: {what}"))
}

impl SentencePiece {
    /// Reads `tokenizer.bin`: every id up to the end of the file. The caller checks the count
    /// against the model's vocab_size.
    pub fn from_bytes(data: &[u8]) -> Result<SentencePiece> {
        let u32_at = |at: usize| -> Option<u32> {
            Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
        };
        let max_len = u32_at(0).ok_or_else(|| {
            bad(format!(
                "has {} bytes, shorter than its 4-byte header (max_token_length)",
                data.len()
            ))
        })? as usize;
        // First pass: check every entry and count them, so that the arrays are allocated once,
        // at their size.
        let (mut count, mut text_len) = (0usize, 0usize);
        let mut at = 4;
        while at < data.len() {
            let id = count;
            let (Some(score), Some(len)) = (u32_at(at), u32_at(at + 4)) else {
                return Err(bad(format!(
                    "token {id} is cut off at byte {at}: its score and length need 8 bytes, \
                     {} are left",
                    data.len() - at
                )));
            };
            if f32::from_bits(score).is_nan() {
                return Err(bad(format!("token {id} has score NaN")));
            }
            let len = len as usize;
            if len > max_len {
                return Err(bad(format!(
                    "token {id} has length {len}, more than max_token_length = {max_len}"
                )));
            }
            // `at + 8 + len` could overflow wasm32's usize (len up to u32::MAX).
            if data.len() - at - 8 < len {
                return Err(bad(format!(
                    "token {id} has length {len} but only {} bytes are left",
                    data.len() - at - 8
                )));
            }
            count += 1;
            text_len += len;
            at += 8 + len;
        }
        let mut text = Vec::with_capacity(text_len);
        let mut ends = Vec::with_capacity(count);
        let mut scores = Vec::with_capacity(count);
        let mut at = 4;
        while at < data.len() {
            let len = u32_at(at + 4).unwrap_or(0) as usize;
            scores.push(f32::from_bits(u32_at(at).unwrap_or(0)));
            text.extend_from_slice(&data[at + 8..at + 8 + len]);
            // The pieces fit in the file, which is far below 4 GiB (MAX_TOKENIZER_BIN_BYTES).
            ends.push(text.len() as u32);
            at += 8 + len;
        }
        let mut t = SentencePiece {
            text,
            ends,
            scores,
            by_piece: Vec::new(),
        };
        let mut by_piece: Vec<u32> = (0..count as u32).collect();
        by_piece.sort_unstable_by(|&a, &b| t.piece(a).cmp(t.piece(b)).then(a.cmp(&b)));
        t.by_piece = by_piece;
        Ok(t)
    }

    /// The piece of `id` as stored (`id` < len).
    fn piece(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Text → ids as run.c's `encode` (see the module doc), without BOS or EOS.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut tokens = Vec::with_capacity(text.len() + 1);
        if !text.is_empty() {
            tokens.push(self.id_of(b" ").ok_or_else(|| {
                Error::new("encode: the tokenizer has no piece \" \" for the dummy prefix")
            })?);
        }
        let mut buf = [0; 4];
        for ch in text.chars() {
            let utf8 = ch.encode_utf8(&mut buf).as_bytes();
            match self.id_of(utf8) {
                Some(id) => tokens.push(id),
                None => {
                    for &b in utf8 {
                        let id = u32::from(b) + BYTE_OFFSET;
                        if id as usize >= self.len() {
                            return Err(Error::new(format!(
                                "encode: {ch:?} has no piece and the tokenizer has no \
                                 byte-fallback piece <0x{b:02X}> (id {id})"
                            ))
                            .coded(Code::TextUnspellable, [("char", ch.to_string().into())]));
                        }
                        tokens.push(id);
                    }
                }
            }
        }
        Ok(self.merge(tokens))
    }

    /// The merge loop: the best-scoring adjacent pair that is a piece, leftmost on ties, is
    /// merged until none is left. Symbols form a linked list in text order; a symbol keeps its
    /// index when the one to its right merges into it, so "leftmost" is "smallest index".
    fn merge(&self, ids: Vec<u32>) -> Vec<u32> {
        let n = ids.len();
        let mut id = ids;
        let mut next: Vec<usize> = (1..=n).collect(); // n = none
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect(); // MAX = none
        let mut alive = vec![true; n];
        let mut heap = BinaryHeap::new();
        let mut pair = Vec::new();
        let mut push = |heap: &mut BinaryHeap<Candidate>, id: &[u32], left: usize, right: usize| {
            pair.clear();
            pair.extend_from_slice(self.piece(id[left]));
            pair.extend_from_slice(self.piece(id[right]));
            if let Some(merged) = self.id_of(&pair) {
                let score = self.scores[merged as usize];
                // run.c starts from a best score of −1e10: lower scores never merge.
                if score > -1e10 {
                    heap.push(Candidate {
                        score,
                        left,
                        right,
                        ids: (id[left], id[right]),
                        merged,
                    });
                }
            }
        };
        for i in 1..n {
            push(&mut heap, &id, i - 1, i);
        }
        while let Some(c) = heap.pop() {
            let (l, r) = (c.left, c.right);
            // Stale: one side merged away or changed since the pair was pushed.
            if !alive[l] || !alive[r] || next[l] != r || (id[l], id[r]) != c.ids {
                continue;
            }
            id[l] = c.merged;
            alive[r] = false;
            next[l] = next[r];
            if next[l] < n {
                prev[next[l]] = l;
                push(&mut heap, &id, l, next[l]);
            }
            if prev[l] < n {
                push(&mut heap, &id, prev[l], l);
            }
        }
        (0..n).filter(|&i| alive[i]).map(|i| id[i]).collect()
    }

    /// The first id whose piece is `piece`.
    fn id_of(&self, piece: &[u8]) -> Option<u32> {
        let i = self.by_piece.partition_point(|&id| self.piece(id) < piece);
        let id = *self.by_piece.get(i)?;
        (self.piece(id) == piece).then_some(id)
    }

    /// The bytes of `id` after the id `prev` (run.c's `decode`): a byte token's byte; a piece
    /// after BOS without its leading space.
    pub fn piece_bytes(&self, prev: Option<u32>, id: u32) -> Result<&[u8]> {
        let bytes = self.token_bytes(id)?;
        Ok(match bytes {
            [b' ', rest @ ..] if prev == Some(BOS) => rest,
            _ => bytes,
        })
    }

    /// The bytes of `id` on its own.
    pub fn token_bytes(&self, id: u32) -> Result<&[u8]> {
        if id as usize >= self.len() {
            return Err(Error::arg(
                "ids",
                &format!("token ids in [0, {})", self.len()),
                id,
            ));
        }
        let piece = self.piece(id);
        Ok(match byte_of(piece) {
            Some(b) => &ALL_BYTES[b as usize..=b as usize],
            None => piece,
        })
    }

    /// Ids → bytes, piece by piece as [`SentencePiece::piece_bytes`].
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut prev = None;
        for &id in ids {
            out.extend_from_slice(self.piece_bytes(prev, id)?);
            prev = Some(id);
        }
        Ok(out)
    }

    /// How the page shows one token: its piece with visible whitespace; a byte token as its
    /// character when it is one (ASCII), else as `<0xE2>`.
    pub fn token_text(&self, id: u32) -> Result<String> {
        let bytes = self.token_bytes(id)?;
        Ok(super::visible_bytes(bytes))
    }
}

/// A pair of adjacent symbols whose concatenation is the piece `merged`.
#[derive(Debug)]
struct Candidate {
    score: f32,
    left: usize,
    right: usize,
    /// The two symbols' ids when the pair was found.
    ids: (u32, u32),
    merged: u32,
}

impl Ord for Candidate {
    /// The heap's maximum is the best score, then the leftmost pair (as run.c's scan keeps the
    /// first of equal scores). Scores are never NaN (checked on reading).
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.left.cmp(&self.left))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The byte of a byte-fallback piece `<0xBB>` (two upper-case hex digits), if `piece` is one.
fn byte_of(piece: &[u8]) -> Option<u8> {
    let hex = piece.strip_prefix(b"<0x")?.strip_suffix(b">")?;
    if hex.len() != 2 || !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F')) {
        return None;
    }
    u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(pieces: &[(&str, f32)]) -> Vec<u8> {
        let mut out = 16u32.to_le_bytes().to_vec();
        for (p, s) in pieces {
            out.extend(s.to_le_bytes());
            out.extend((p.len() as u32).to_le_bytes());
            out.extend(p.as_bytes());
        }
        out
    }

    /// run.c's merge loop, transcribed: rescan all pairs, merge the first best, repeat.
    fn merge_like_run_c(t: &SentencePiece, mut tokens: Vec<u32>) -> Vec<u32> {
        loop {
            let mut best: Option<(f32, u32, usize)> = None;
            for (i, w) in tokens.windows(2).enumerate() {
                let pair = [t.piece(w[0]), t.piece(w[1])].concat();
                if let Some(id) = t.id_of(&pair) {
                    let score = t.scores[id as usize];
                    if score > best.map_or(-1e10, |b| b.0) {
                        best = Some((score, id, i));
                    }
                }
            }
            let Some((_, id, i)) = best else {
                return tokens;
            };
            tokens[i] = id;
            tokens.remove(i + 1);
        }
    }

    /// The heap's merges are run.c's, on random texts over the fixture tokenizer's pieces
    /// (many ties and long merge chains) and on a tokenizer whose scores are all equal.
    #[test]
    fn heap_merges_equal_run_c_merges() {
        let data = include_bytes!("../../../tests/fixtures/llama2c/tokenizer.bin");
        let t = SentencePiece::from_bytes(data).unwrap();
        let mut flat = SentencePiece::from_bytes(data).unwrap();
        flat.scores.iter_mut().for_each(|s| *s = 0.0);
        let alphabet: Vec<char> = "the o a  s,.\nRomeJuliTHEO!é😀".chars().collect();
        let mut rng = crate::rng::Rng::new(13);
        for round in 0..300 {
            let len = rng.below(80) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            for t in [&t, &flat] {
                let ids = t.encode(&text).unwrap();
                let mut start = Vec::new();
                for ch in std::iter::once(' ')
                    .filter(|_| !text.is_empty())
                    .chain(text.chars())
                {
                    let s = ch.to_string();
                    match t.id_of(s.as_bytes()) {
                        Some(id) => start.push(id),
                        None => start.extend(s.bytes().map(|b| u32::from(b) + 3)),
                    }
                }
                assert_eq!(ids, merge_like_run_c(t, start), "round {round}: {text:?}");
            }
        }
    }

    /// Merges by score, best first, leftmost on ties; bytes fall back to id b + 3.
    #[test]
    fn encode_merges_best_pair_first() {
        let mut pieces = vec![("<unk>", 0.0), ("\n<s>\n", 0.0), ("\n</s>\n", 0.0)];
        let bytes: Vec<String> = (0..=255).map(|b| format!("<0x{b:02X}>")).collect();
        pieces.extend(bytes.iter().map(|b| (b.as_str(), 0.0)));
        // 259 " ", 260 "a", 261 "b", 262 "ab", 263 " a", 264 " ab"
        pieces.extend([(" ", -1.0), ("a", -2.0), ("b", -3.0), ("ab", -4.0)]);
        pieces.extend([(" a", -5.0), (" ab", -6.0)]);
        let t = SentencePiece::from_bytes(&file(&pieces)).unwrap();
        assert_eq!(t.len(), 265);
        // " a b": "ab" (−4) beats " a" (−5); then " " + "ab" = " ab".
        assert_eq!(t.encode("ab").unwrap(), [264]);
        assert_eq!(t.encode("ba").unwrap(), [259, 261, 260]);
        assert_eq!(t.encode("é").unwrap(), [259, 0xC3 + 3, 0xA9 + 3]);
        assert_eq!(t.encode("").unwrap(), Vec::<u32>::new());
        assert_eq!(
            t.decode_bytes(&[BOS, 264, 0xC3 + 3, 0xA9 + 3]).unwrap(),
            "\n<s>\nabé".as_bytes()
        );
        assert_eq!(t.token_text(264).unwrap(), "␣ab");
        assert_eq!(t.token_text(10 + 3).unwrap(), "↵");
        assert_eq!(t.token_text(0xE2 + 3).unwrap(), "<0xE2>");
    }
}
