//! The token strings of a `tokenizer.json`, compactly: all of them in one string, each id's
//! span in it, and the vocabulary's ids sorted by token for lookups (a binary search). A map
//! of strings would cost about 60 bytes per token beyond the text; this costs 12, which keeps
//! reading a file within a small multiple of its size (`tests/tokenizer_memory.rs`).

use super::json::{bad, quoted};
use crate::error::Result;
use crate::limits::MAX_MODEL_VOCAB;

/// No token has this id (yet).
const UNSET: (u32, u32) = (u32::MAX, 0);

/// Id → token, and vocabulary token → id.
///
/// The ids arrive in the file's order and may be anything up to [`MAX_MODEL_VOCAB`]: a table
/// indexed by id is made only once they are known to run from 0 without gaps (`gap`), so that a
/// small file naming a large id costs no more than its tokens.
#[derive(Debug, Clone, Default, Eq)]
pub(crate) struct TokenTable {
    text: String,
    /// Each id's (start, length) in `text`, once the ids are settled; [`UNSET`] for none.
    spans: Vec<(u32, u32)>,
    /// Ids placed and not yet in `spans`: (id, start, length), sorted by id once indexed.
    late: Vec<(u32, u32, u32)>,
    sorted: bool,
    /// The ids of `model.vocab`, sorted by token: filled by [`TokenTable::index`].
    by_name: Vec<u32>,
}

impl TokenTable {
    /// Gives `id` the token `name`; another token with that id is an error naming `field`
    /// (found here once the table is indexed, by [`TokenTable::index`] before).
    pub fn place(&mut self, id: u32, name: &str, field: &dyn Fn() -> String) -> Result<()> {
        let i = id as usize;
        if i >= MAX_MODEL_VOCAB {
            return Err(bad(format!(
                "{} is {id}; an id must be an integer in [0, {MAX_MODEL_VOCAB})",
                field()
            )));
        }
        let taken = (i < self.spans.len() && self.spans[i] != UNSET)
            || (self.sorted && self.late.binary_search_by_key(&id, |e| e.0).is_ok());
        if taken {
            let other = self.name(id);
            if other == name {
                return Ok(());
            }
            return Err(bad(format!(
                "{} gives id {id} to {}, which {} already has",
                field(),
                quoted(name),
                quoted(other)
            )));
        }
        if self.text.len() + name.len() > u32::MAX as usize {
            return Err(bad("the tokens' text is too long"));
        }
        let span = (self.text.len() as u32, name.len() as u32);
        self.text.push_str(name);
        if i < self.spans.len() {
            self.spans[i] = span;
        } else if self.sorted {
            let k = self.late.partition_point(|e| e.0 < id);
            self.late.insert(k, (id, span.0, span.1));
        } else {
            self.late.push((id, span.0, span.1));
        }
        Ok(())
    }

    /// Sorts the ids placed so far (the vocabulary) by token, for [`TokenTable::get`]; an id
    /// given two tokens, or a token listed twice, is an error.
    pub fn index(&mut self) -> Result<()> {
        self.late.sort_unstable_by_key(|e| e.0);
        let text = &self.text;
        let token = |e: &(u32, u32, u32)| &text[e.1 as usize..(e.1 + e.2) as usize];
        if let Some(w) = self
            .late
            .windows(2)
            .find(|w| w[0].0 == w[1].0 && token(&w[0]) != token(&w[1]))
        {
            return Err(bad(format!(
                "model.vocab gives id {} to {} and to {}",
                w[0].0,
                quoted(token(&w[0])),
                quoted(token(&w[1]))
            )));
        }
        self.late.dedup_by_key(|e| e.0);
        self.sorted = true;
        let mut ids: Vec<u32> = (0..self.spans.len() as u32)
            .filter(|&id| self.spans[id as usize] != UNSET)
            .chain(self.late.iter().map(|e| e.0))
            .collect();
        ids.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        if let Some(w) = ids.windows(2).find(|w| self.name(w[0]) == self.name(w[1])) {
            return Err(bad(format!(
                "model.vocab gives {} two ids, {} and {}",
                quoted(self.name(w[0])),
                w[0],
                w[1]
            )));
        }
        self.by_name = ids;
        self.text.shrink_to_fit();
        Ok(())
    }

    /// The id of a vocabulary token.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.by_name
            .binary_search_by(|&id| self.name(id).cmp(name))
            .ok()
            .map(|i| self.by_name[i])
    }

    /// The vocabulary's (token, id), sorted by token.
    pub fn vocab(&self) -> impl Iterator<Item = (&str, u32)> {
        self.by_name.iter().map(|&id| (self.name(id), id))
    }

    /// How many tokens the vocabulary has.
    pub fn vocab_len(&self) -> usize {
        self.by_name.len()
    }

    /// The bytes of all the tokens together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Number of ids (the highest placed, plus one).
    pub fn len(&self) -> usize {
        let late = self
            .late
            .iter()
            .map(|e| e.0 as usize + 1)
            .max()
            .unwrap_or(0);
        self.spans.len().max(late)
    }

    /// The first id without a token, if any; else the table indexed by id from now on.
    pub fn gap(&mut self) -> Option<usize> {
        if !self.sorted {
            self.late.sort_unstable_by_key(|e| e.0);
            self.late.dedup_by_key(|e| e.0);
            self.sorted = true;
        }
        if let Some(i) = self.spans.iter().position(|&s| s == UNSET) {
            return Some(i);
        }
        let dense = self.spans.len();
        if let Some(k) = (0..self.late.len()).find(|&k| self.late[k].0 as usize != dense + k) {
            return Some(dense + k);
        }
        self.spans.reserve_exact(self.late.len());
        self.spans
            .extend(self.late.drain(..).map(|(_, start, len)| (start, len)));
        self.late = Vec::new();
        None
    }

    /// The token of `id` (empty for an id without one).
    pub fn name(&self, id: u32) -> &str {
        let span = match self.spans.get(id as usize) {
            Some(&s) if s != UNSET => Some(s),
            _ if self.sorted => self
                .late
                .binary_search_by_key(&id, |e| e.0)
                .ok()
                .map(|k| (self.late[k].1, self.late[k].2)),
            _ => self.late.iter().find(|e| e.0 == id).map(|e| (e.1, e.2)),
        };
        match span {
            Some((start, len)) => &self.text[start as usize..(start + len) as usize],
            None => "",
        }
    }
}

/// Two tables are the same tokenizer's if each id has the same token and the vocabularies hold
/// the same ids (the text's order is the file's).
impl PartialEq for TokenTable {
    fn eq(&self, other: &TokenTable) -> bool {
        self.len() == other.len()
            && (0..self.len() as u32).all(|id| self.name(id) == other.name(id))
            && self.vocab().eq(other.vocab())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_indexes_and_finds() {
        let mut t = TokenTable::default();
        let f = || "x".to_string();
        t.place(2, "b", &f).unwrap();
        t.place(0, "c", &f).unwrap();
        assert_eq!(t.gap(), Some(1));
        t.place(1, "a", &f).unwrap();
        t.index().unwrap();
        assert_eq!(
            (t.get("a"), t.get("b"), t.get("c"), t.get("d")),
            (Some(1), Some(2), Some(0), None)
        );
        assert_eq!(
            t.vocab().collect::<Vec<_>>(),
            [("a", 1), ("b", 2), ("c", 0)]
        );
        assert!(t
            .place(1, "z", &f)
            .unwrap_err()
            .to_string()
            .contains("already has"));
        t.place(3, "a", &f).unwrap();
        assert!(t.index().unwrap_err().to_string().contains("two ids"));
    }
}
