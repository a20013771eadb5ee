//! `decoder`: token strings back to text, each step taking the list of strings the step before
//! gave, as `tokenizers` chains them:
//!
//! - `ByteLevel`: every token's characters back to the bytes GPT-2's map names (a token with a
//!   character outside the map, such as an added token, stays its own UTF-8), all of them as
//!   one text, bytes that do not form UTF-8 as U+FFFD;
//! - `ByteFallback`: runs of `<0xNN>` tokens become their bytes: their text if they form UTF-8,
//!   else one U+FFFD per byte;
//! - `Fuse`: all the strings as one;
//! - `Strip`: up to `start` copies of `content` off the front of each string, `stop` off the end;
//! - `Replace`: a string by another in each;
//! - `Metaspace`: `▁` to a space, except in the first token when a `▁` was prepended;
//! - `Sequence` of these.

use serde_json::Value;

use super::component::{char_field, kind, replace_fields, string_field, unsupported, Fields};
use crate::error::Result;
use crate::model::tokenizer::bpe::char_byte;

/// One decoder step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decoder {
    ByteLevel,
    ByteFallback,
    Fuse,
    Strip {
        content: char,
        start: usize,
        stop: usize,
    },
    Replace {
        from: String,
        to: String,
    },
    /// `first`: the first token's replacements are dropped (a `prepend_scheme` other than
    /// never).
    Metaspace {
        replacement: char,
        first: bool,
    },
}

const SUPPORTED: &str = "ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence";

/// Reads `decoder` (null: none) into its steps, a Sequence flattened.
pub(super) fn read(v: Option<&Value>, field: &str, out: &mut Vec<Decoder>) -> Result<()> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let o = Fields::new(v, field)?;
    let step = match kind(&o)? {
        "ByteLevel" => Decoder::ByteLevel,
        "ByteFallback" => Decoder::ByteFallback,
        "Fuse" => Decoder::Fuse,
        "Strip" => Decoder::Strip {
            content: char_field(&o, "content")?,
            start: o.count("start", 0)?,
            stop: o.count("stop", 0)?,
        },
        "Replace" => {
            let (from, to) = replace_fields(&o)?;
            Decoder::Replace { from, to }
        }
        "Metaspace" => {
            let first = match o.get("prepend_scheme") {
                None => o.flag("add_prefix_space", true)?,
                Some(_) => string_field(&o, "prepend_scheme")? != "never",
            };
            Decoder::Metaspace {
                replacement: char_field(&o, "replacement")?,
                first,
            }
        }
        "Sequence" => {
            let list = o.list("decoders")?;
            for (i, d) in list.iter().enumerate() {
                read(Some(d), &format!("{field}.decoders[{i}]"), out)?;
            }
            return Ok(());
        }
        other => return Err(unsupported(&o.field("type"), other, SUPPORTED)),
    };
    out.push(step);
    Ok(())
}

/// The byte a `<0xNN>` token stands for.
pub(super) fn fallback_byte(token: &str) -> Option<u8> {
    // As `tokenizers` reads it (which lets `from_str_radix` take a sign: `<0x+A>` is 0x0A).
    if token.len() != 6 || !token.starts_with("<0x") || !token.ends_with('>') {
        return None;
    }
    u8::from_str_radix(token.get(3..5)?, 16).ok()
}

/// A token's bytes through GPT-2's map, or its own UTF-8 if a character is outside the map.
pub(super) fn byte_level_bytes(token: &str) -> Vec<u8> {
    token
        .chars()
        .map(char_byte)
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_else(|| token.as_bytes().to_vec())
}

/// The decoded text of `tokens`. `at_start`: the tokens begin the text (Metaspace's first
/// token, and a Strip of the fused text, apply only then); without decoder the tokens are
/// joined with spaces, as `tokenizers` does (a space in front too when not `at_start`).
pub(super) fn decode(steps: &[Decoder], tokens: Vec<String>, at_start: bool) -> String {
    if steps.is_empty() {
        let joined = tokens.join(" ");
        return if at_start || tokens.is_empty() {
            joined
        } else {
            format!(" {joined}")
        };
    }
    let mut tokens = tokens;
    // Whether the strings have been made one (Fuse, ByteLevel): a Strip then cuts the text's
    // ends, not each token's.
    let mut fused = false;
    for step in steps {
        tokens = match step {
            Decoder::ByteLevel => {
                fused = true;
                let bytes: Vec<u8> = tokens.iter().flat_map(|t| byte_level_bytes(t)).collect();
                vec![String::from_utf8_lossy(&bytes).into_owned()]
            }
            Decoder::ByteFallback => byte_fallback(tokens),
            Decoder::Fuse => {
                fused = true;
                vec![tokens.concat()]
            }
            Decoder::Strip {
                content,
                start,
                stop,
            } => tokens
                .into_iter()
                .map(|t| {
                    strip(
                        &t,
                        *content,
                        if fused && !at_start { 0 } else { *start },
                        *stop,
                    )
                })
                .collect(),
            Decoder::Replace { from, to } => tokens
                .into_iter()
                .map(|t| t.replace(from.as_str(), to))
                .collect(),
            Decoder::Metaspace { replacement, first } => tokens
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    if i == 0 && at_start && *first {
                        t.chars().filter(|c| c != replacement).collect()
                    } else {
                        t.chars()
                            .map(|c| if c == *replacement { ' ' } else { c })
                            .collect()
                    }
                })
                .collect(),
        };
    }
    tokens.concat()
}

fn byte_fallback(tokens: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut bytes = Vec::new();
    let flush = |bytes: &mut Vec<u8>, out: &mut Vec<String>| {
        if bytes.is_empty() {
            return;
        }
        match String::from_utf8(std::mem::take(bytes)) {
            Ok(s) => out.push(s),
            Err(e) => out.extend(std::iter::repeat_n(
                "\u{FFFD}".to_string(),
                e.as_bytes().len(),
            )),
        }
    };
    for t in tokens {
        match fallback_byte(&t) {
            Some(b) => bytes.push(b),
            None => {
                flush(&mut bytes, &mut out);
                out.push(t);
            }
        }
    }
    flush(&mut bytes, &mut out);
    out
}

/// Up to `start` leading and `stop` trailing `content` characters off `t`.
fn strip(t: &str, content: char, start: usize, stop: usize) -> String {
    let chars: Vec<char> = t.chars().collect();
    let mut a = 0;
    while a < start && a < chars.len() && chars[a] == content {
        a += 1;
    }
    let mut b = chars.len();
    while chars.len() - b < stop && b > a && chars[b - 1] == content {
        b -= 1;
    }
    chars[a..b].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    /// TinyLlama's chain: "▁" to space, byte tokens to text, one string, one leading space off.
    #[test]
    fn llama2_chain() {
        let steps = [
            Decoder::Replace {
                from: "▁".into(),
                to: " ".into(),
            },
            Decoder::ByteFallback,
            Decoder::Fuse,
            Decoder::Strip {
                content: ' ',
                start: 1,
                stop: 0,
            },
        ];
        let t = strings(&["▁Hello", "<0xE2>", "<0x82>", "<0xAC>", "▁", "<0xE2>", "x"]);
        assert_eq!(decode(&steps, t.clone(), true), "Hello€ \u{FFFD}x");
        assert_eq!(decode(&steps, t, false), " Hello€ \u{FFFD}x");
        assert_eq!(fallback_byte("<0x0A>"), Some(10));
        assert_eq!(fallback_byte("<0x0A"), None);
        assert_eq!(fallback_byte("<0xZZ>"), None);
    }

    #[test]
    fn metaspace_first_token_and_no_decoder() {
        let steps = [Decoder::Metaspace {
            replacement: '▁',
            first: true,
        }];
        assert_eq!(decode(&steps, strings(&["▁▁a", "▁b"]), true), "a b");
        assert_eq!(decode(&[], strings(&["a", "b"]), true), "a b");
        assert_eq!(decode(&[], strings(&["a"]), false), " a");
    }
}
