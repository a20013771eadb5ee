//! `normalizer`: what happens to the text (between added tokens) before it is split into words.
//! `NFC`, `Prepend` and `Replace` of a string, in a `Sequence`; Llama 2 and TinyLlama use
//! Prepend("▁") and Replace(" ", "▁"), Qwen2 NFC. The other normal forms (NFD, NFKC, NFKD)
//! would need tables no model of the lab uses, and are refused.

use std::borrow::Cow;

use serde_json::Value;

use super::component::{kind, string_field, unsupported, Fields};
use crate::error::Result;

/// One normalizer step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Normalizer {
    Nfc,
    /// Puts the string before a non-empty text.
    Prepend(String),
    /// Replaces every occurrence of `from` (leftmost first, not overlapping) by `to`.
    Replace {
        from: String,
        to: String,
    },
}

const SUPPORTED: &str = "NFC, Prepend, Replace, Sequence";

/// Reads `normalizer` (null: none) into its steps, a Sequence flattened.
pub(super) fn read(v: Option<&Value>, field: &str, out: &mut Vec<Normalizer>) -> Result<()> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let o = Fields::new(v, field)?;
    let step = match kind(&o)? {
        "NFC" => Normalizer::Nfc,
        "Prepend" => Normalizer::Prepend(string_field(&o, "prepend")?.to_string()),
        "Replace" => {
            let (from, to) = super::component::replace_fields(&o)?;
            Normalizer::Replace { from, to }
        }
        "Sequence" => {
            let list = o.list("normalizers")?;
            for (i, n) in list.iter().enumerate() {
                read(Some(n), &format!("{field}.normalizers[{i}]"), out)?;
            }
            return Ok(());
        }
        other => return Err(unsupported(&o.field("type"), other, SUPPORTED)),
    };
    out.push(step);
    Ok(())
}

/// `text` through every step.
pub(super) fn normalize<'t>(steps: &[Normalizer], text: &'t str) -> Cow<'t, str> {
    let mut text = Cow::Borrowed(text);
    for step in steps {
        let next: Option<String> = match step {
            Normalizer::Nfc => match crate::model::tokenizer::nfc::nfc(&text) {
                Cow::Borrowed(_) => None,
                Cow::Owned(s) => Some(s),
            },
            Normalizer::Prepend(p) if !text.is_empty() => Some(format!("{p}{text}")),
            Normalizer::Prepend(_) => None,
            Normalizer::Replace { from, to } if text.contains(from.as_str()) => {
                Some(text.replace(from.as_str(), to))
            }
            Normalizer::Replace { .. } => None,
        };
        if let Some(next) = next {
            if next != *text {
                text = Cow::Owned(next);
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_in_order() {
        let steps = [
            Normalizer::Prepend("▁".into()),
            Normalizer::Replace {
                from: " ".into(),
                to: "▁".into(),
            },
        ];
        assert_eq!(normalize(&steps, "a b"), "▁a▁b");
        assert_eq!(normalize(&steps, ""), "");
        assert_eq!(normalize(&[Normalizer::Nfc], "e\u{301}"), "é");
        assert!(matches!(
            normalize(&[Normalizer::Nfc], "abc"),
            Cow::Borrowed(_)
        ));
    }
}
