//! `added_tokens`: tokens matched in the text before the model sees it (`<|endoftext|>`,
//! `<s>`, `<|im_start|>`, Qwen3's `<think>`). Those with `normalized` false are matched in the
//! raw text, the others in each normalized piece; leftmost first, the longest of those that
//! start at the same place, as `tokenizers`' Aho-Corasick automaton (LeftmostLongest) does.
//! `lstrip` / `rstrip` take the whitespace before / after the token into its match.

use serde_json::Value;

use super::component::{string_field, unsupported, Fields};
use super::json::bad;
use crate::error::Result;

/// One added token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Added {
    pub content: String,
    /// What is matched: `content`, normalized if `normalized`.
    pub pattern: String,
    pub id: u32,
    pub special: bool,
    pub normalized: bool,
    pub lstrip: bool,
    pub rstrip: bool,
}

/// Reads `added_tokens[i]`.
pub(super) fn read(v: &Value, i: usize) -> Result<Added> {
    let o = Fields::new(v, &format!("added_tokens[{i}]"))?;
    let content = string_field(&o, "content")?;
    if content.is_empty() {
        return Err(bad(format!("{} is empty", o.field("content"))));
    }
    let id = match o.get("id").and_then(Value::as_u64) {
        Some(id) if id < u32::MAX as u64 => id as u32,
        _ => {
            return Err(bad(format!(
                "{} is {}; an id must be an integer in [0, {})",
                o.field("id"),
                o.get("id")
                    .map_or("missing".into(), |v| crate::error::brief(v)),
                crate::limits::MAX_MODEL_VOCAB
            )))
        }
    };
    if o.flag("single_word", false)? {
        return Err(unsupported(&o.field("single_word"), "true", "false"));
    }
    Ok(Added {
        content: content.to_string(),
        pattern: content.to_string(),
        id,
        special: o.flag("special", false)?,
        normalized: o.flag("normalized", true)?,
        lstrip: o.flag("lstrip", false)?,
        rstrip: o.flag("rstrip", false)?,
    })
}

/// Splits `text` at the added tokens whose `normalized` is `normalized`: (start, end, None) for
/// text between them, (start, end, Some(id)) for a token (with the whitespace `lstrip` /
/// `rstrip` took). Together the pieces are `text`. One pass over the text: only where a byte
/// begins some token are the tokens that begin with it tried (Llama 3 has 256, all `<|…`).
pub(super) fn split(
    added: &[Added],
    text: &str,
    normalized: bool,
) -> Vec<(usize, usize, Option<u32>)> {
    let mut out = Vec::new();
    let wanted: Vec<&Added> = added
        .iter()
        .filter(|a| a.normalized == normalized)
        .collect();
    // Which bytes begin some token.
    let mut first = [false; 256];
    for a in &wanted {
        if let Some(&b) = a.pattern.as_bytes().first() {
            first[b as usize] = true;
        }
    }
    let bytes = text.as_bytes();
    let mut done = 0; // the end of the last piece written
    let mut i = 0;
    while i < bytes.len() {
        // The next byte that begins some token.
        match bytes[i..].iter().position(|&b| first[b as usize]) {
            Some(k) => i += k,
            None => break,
        }
        // A pattern's first byte is never a UTF-8 continuation byte, so `i` is a character
        // boundary whenever one matches.
        let found = wanted
            .iter()
            .filter(|a| bytes[i..].starts_with(a.pattern.as_bytes()))
            .max_by_key(|a| a.pattern.len());
        let Some(a) = found else {
            i += 1;
            continue;
        };
        let mut from = i;
        let mut end = i + a.pattern.len();
        if a.lstrip {
            from = done + text[done..i].trim_end_matches(char::is_whitespace).len();
        }
        if a.rstrip {
            end = text.len() - text[end..].trim_start_matches(char::is_whitespace).len();
        }
        if from > done {
            out.push((done, from, None));
        }
        out.push((from, end, Some(a.id)));
        done = end;
        i = end;
    }
    if done < text.len() || out.is_empty() {
        out.push((done, text.len(), None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(content: &str, id: u32, lstrip: bool, rstrip: bool) -> Added {
        Added {
            content: content.into(),
            pattern: content.into(),
            id,
            special: true,
            normalized: false,
            lstrip,
            rstrip,
        }
    }

    #[test]
    fn leftmost_longest_with_strips() {
        let added = [
            token("<a>", 1, false, false),
            token("<a><b>", 2, false, false),
            token("[M]", 3, true, true),
        ];
        let text = "x<a><b>y<a> [M]  z";
        let pieces: Vec<(&str, Option<u32>)> = split(&added, text, false)
            .into_iter()
            .map(|(a, b, id)| (&text[a..b], id))
            .collect();
        assert_eq!(
            pieces,
            [
                ("x", None),
                ("<a><b>", Some(2)),
                ("y", None),
                ("<a>", Some(1)),
                (" [M]  ", Some(3)),
                ("z", None)
            ]
        );
        assert_eq!(split(&added, "", false), [(0, 0, None)]);
        assert_eq!(split(&added, "q", true), [(0, 1, None)]);
    }
}
