//! `post_processor`: the special tokens put around an encoded text when they are asked for
//! (transformers' `tokenizer(text)`): `TemplateProcessing`'s `single` template (Llama 2 and
//! TinyLlama's `<s> $A`, Llama 3's `<|begin_of_text|> $A`), `BertProcessing` / `RobertaProcessing`
//! (cls … sep); `ByteLevel` only moves offsets, so it adds nothing; a `Sequence` of these.

use serde_json::Value;

use super::component::{kind, unsupported, Fields};
use super::json::bad;
use crate::error::{brief, Result};

const SUPPORTED: &str =
    "TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence";

/// The ids before and after the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Around {
    pub before: Vec<u32>,
    pub after: Vec<u32>,
}

/// Reads `post_processor` (null: nothing around).
pub(super) fn read(v: Option<&Value>, field: &str, out: &mut Around) -> Result<()> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let o = Fields::new(v, field)?;
    match kind(&o)? {
        "ByteLevel" => Ok(()),
        "Sequence" => {
            let list = o.list("processors")?;
            for (i, p) in list.iter().enumerate() {
                read(Some(p), &format!("{field}.processors[{i}]"), out)?;
            }
            Ok(())
        }
        "TemplateProcessing" => template(&o, out),
        "BertProcessing" | "RobertaProcessing" => {
            // `cls` and `sep` are ["token", id].
            let id = |key: &str| -> Result<u32> {
                match o.get(key).and_then(Value::as_array).map(Vec::as_slice) {
                    Some([Value::String(_), id]) => id
                        .as_u64()
                        .filter(|&id| id < u32::MAX as u64)
                        .map(|id| id as u32)
                        .ok_or_else(|| {
                            bad(format!("{}[1] is {}, not an id", o.field(key), brief(id)))
                        }),
                    _ => Err(bad(format!(
                        "{} is {}, not [\"token\", id]",
                        o.field(key),
                        o.get(key).map_or("missing".into(), |v| brief(v))
                    ))),
                }
            };
            let (cls, sep) = (id("cls")?, id("sep")?);
            out.before.insert(0, cls);
            out.after.push(sep);
            Ok(())
        }
        other => Err(unsupported(&o.field("type"), other, SUPPORTED)),
    }
}

/// `single`: a list of `{"SpecialToken": {"id": name}}` and one `{"Sequence": {"id": "A"}}`;
/// each name's ids are `special_tokens[name].ids`.
fn template(o: &Fields, out: &mut Around) -> Result<()> {
    let single = o.list("single")?;
    let specials = Fields::new(
        o.get("special_tokens").unwrap_or(&Value::Null),
        &o.field("special_tokens"),
    )?;
    let mut seen_text = false;
    for (i, piece) in single.iter().enumerate() {
        let field = format!("{}[{i}]", o.field("single"));
        let p = Fields::new(piece, &field)?;
        if let Some(seq) = p.get("Sequence") {
            if seq.get("id").and_then(Value::as_str) != Some("A") || seen_text {
                return Err(bad(format!(
                    "{field} is {}; the single template takes the text once, as \"A\"",
                    brief(piece)
                )));
            }
            seen_text = true;
            continue;
        }
        let Some(name) = p
            .get("SpecialToken")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
        else {
            return Err(bad(format!(
                "{field} is {}, neither {{\"SpecialToken\": …}} nor {{\"Sequence\": …}}",
                brief(piece)
            )));
        };
        let ids = specials
            .get(name)
            .and_then(|s| s.get("ids"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad(format!(
                    "{} has no ids for {}",
                    specials.path,
                    super::json::quoted(name)
                ))
            })?;
        for id in ids {
            let id = id
                .as_u64()
                .filter(|&id| id < u32::MAX as u64)
                .ok_or_else(|| bad(format!("{}: an id is {}", specials.path, brief(id))))?;
            if seen_text {
                out.after.push(id as u32);
            } else {
                out.before.push(id as u32);
            }
        }
    }
    if !seen_text {
        return Err(bad(format!(
            "{} has no {{\"Sequence\": {{\"id\": \"A\"}}}}: the text is missing",
            o.field("single")
        )));
    }
    Ok(())
}
