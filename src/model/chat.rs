//! Chat templates: how a chat model wants a conversation written out before it continues it.
//! A Hugging Face folder's `tokenizer_config.json` keeps one as `chat_template`, a Jinja
//! template; [`ChatTemplate::apply`] renders it as transformers'
//! `tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=…)` does:
//!
//! - the same Jinja dialect: `trim_blocks` and `lstrip_blocks` on, loop controls
//!   (`break`, `continue`), Python's string methods (`.strip()`, `.startswith()`, `.split()`, …);
//! - the same variables: `messages` (each message's keys whose value is null dropped),
//!   `add_generation_prompt`, `tools` and `documents` as none, and the special tokens
//!   `tokenizer_config.json` names (`bos_token`, `eos_token`, `unk_token`, `pad_token`: a string,
//!   or an object whose `content` is one); `enable_thinking` and the like are left undefined;
//! - the same helpers: `raise_exception(message)` (an error carrying the message),
//!   `strftime_now(format)` (the date and time now), and a `tojson` filter that writes JSON as
//!   Python's `json.dumps(x, ensure_ascii=False)` does (`indent`, `sort_keys` accepted).
//!
//! A template's work is bounded: at most [`MAX_CHAT_FUEL`] engine steps and
//! [`MAX_CHAT_BYTES`] bytes of output, and conversations of at most [`MAX_CHAT_BYTES`] bytes
//! of text. Every error names `tokenizer_config.json` and `chat_template`.
//!
//! Not supported: `{% macro %}` and `{% generation %}` blocks, and `loop.previtem` /
//! `loop.nextitem` (none of the Llama, Qwen2, Qwen3, SmolLM2 or TinyLlama templates uses
//! them); a map's keys are iterated and written by `tojson` in sorted order, where Python keeps
//! the order they were written in.

use serde_json::Value as Json;

use crate::error::{brief, Code, Error, Result};
use crate::limits::{MAX_CHAT_BYTES, MAX_CONFIG_JSON_BYTES};

/// Rendering, with minijinja: only in builds with the `chat` feature.
#[cfg(feature = "chat")]
mod render;

/// The file a chat template comes from.
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";
/// Its field.
pub const FIELD: &str = "chat_template";
/// The file transformers' `save_pretrained` writes the template to, beside that one.
pub const JINJA: &str = "chat_template.jinja";
/// The metadata key a GGUF file keeps its chat template under.
pub const GGUF_KEY: &str = "tokenizer.chat_template";

/// The special tokens a template sees, as transformers passes them.
const SPECIAL_TOKENS: [&str; 4] = ["bos_token", "eos_token", "unk_token", "pad_token"];

/// A chat template with the special tokens it may write.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTemplate {
    source: String,
    /// The file it came from ([`JINJA`] or [`TOKENIZER_CONFIG`]).
    file: &'static str,
    /// (name, text) of each special token `tokenizer_config.json` sets.
    tokens: Vec<SpecialToken>,
}

impl ChatTemplate {
    /// The chat template of `tokenizer_config.json` (its bytes), if it has one: `chat_template`
    /// is a string, or a list of `{name, template}` of which the one named `"default"` is
    /// taken (as transformers does; a list without it gives none). A malformed file or field
    /// is an error naming it.
    pub fn from_tokenizer_config(bytes: &[u8]) -> Result<Option<ChatTemplate>> {
        ChatTemplate::from_files(Some(bytes), None)
    }

    /// The chat template of a folder: `chat_template.jinja` (its bytes), where recent
    /// transformers' `save_pretrained` writes it, and which wins over
    /// `tokenizer_config.json`'s `chat_template`, else that field
    /// ([`ChatTemplate::from_tokenizer_config`]); the special tokens come from
    /// `tokenizer_config.json`. None if neither holds a template.
    pub fn from_files(
        tokenizer_config: Option<&[u8]>,
        jinja: Option<&[u8]>,
    ) -> Result<Option<ChatTemplate>> {
        let (mut source, tokens) = match tokenizer_config {
            Some(bytes) => read_tokenizer_config(bytes)?,
            None => (None, Vec::new()),
        };
        let mut file = TOKENIZER_CONFIG;
        if let Some(bytes) = jinja {
            let bad = |what: String| Error::new(format!("{JINJA}: {what}"));
            if bytes.len() > MAX_CHAT_BYTES {
                return Err(bad(crate::limits::over_cap(bytes.len(), MAX_CHAT_BYTES)));
            }
            let text = std::str::from_utf8(bytes)
                .map_err(|e| bad(format!("not UTF-8 text (at byte {})", e.valid_up_to())))?;
            source = Some(text.to_string());
            file = JINJA;
        }
        Ok(source.map(|source| ChatTemplate {
            source,
            file,
            tokens,
        }))
    }

    /// The chat template a GGUF file keeps in its metadata as [`GGUF_KEY`] (`source`, checked
    /// against its cap by the GGUF reader), with the special tokens its tokenizer names
    /// (`bos_token`, `eos_token`: their texts), which transformers passes a template too.
    pub fn from_gguf(source: String, tokens: Vec<(&'static str, String)>) -> ChatTemplate {
        ChatTemplate {
            source,
            file: GGUF_KEY,
            tokens,
        }
    }

    /// The template's Jinja source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The file it came from: `chat_template.jinja` or `tokenizer_config.json`; for a GGUF
    /// file, its metadata key `tokenizer.chat_template`.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// Where it is, as an error names it: `chat_template.jinja`, or
    /// `tokenizer_config.json: chat_template`.
    pub fn origin(&self) -> String {
        if self.file == JINJA || self.file == GGUF_KEY {
            self.file.to_string()
        } else {
            format!("{TOKENIZER_CONFIG}: {FIELD}")
        }
    }
}

/// A special token's name and text.
type SpecialToken = (&'static str, String);

/// `tokenizer_config.json`'s chat template (if it has one: `chat_template` is a string, or a
/// list of `{name, template}` of which the one named `"default"` is taken, as transformers
/// does) and its special tokens. A malformed file or field is an error naming it.
fn read_tokenizer_config(bytes: &[u8]) -> Result<(Option<String>, Vec<SpecialToken>)> {
    let bad = |what: String| Error::new(format!("{TOKENIZER_CONFIG}: {what}"));
    if bytes.len() > MAX_CONFIG_JSON_BYTES {
        return Err(bad(crate::limits::over_cap(
            bytes.len(),
            MAX_CONFIG_JSON_BYTES,
        )));
    }
    let json = match serde_json::from_slice(bytes) {
        Ok(Json::Object(m)) => m,
        Ok(_) => return Err(bad("is not a JSON object".into())),
        Err(e) => return Err(bad(format!("not valid JSON: {e}"))),
    };
    let value = |field: &str, v: &Json, wanted: &str| {
        let shown = brief(v);
        Error::new(format!("{TOKENIZER_CONFIG}: {field} is {shown}; {wanted}")).coded(
            Code::ModelConfigValue,
            [
                ("file", TOKENIZER_CONFIG.into()),
                ("field", field.into()),
                ("value", shown.into()),
            ],
        )
    };
    let source = match json.get(FIELD) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(Json::Array(list)) => {
            let mut found = None;
            for (i, entry) in list.iter().enumerate() {
                let (name, template) = (entry.get("name"), entry.get("template"));
                match (name.and_then(Json::as_str), template.and_then(Json::as_str)) {
                    (Some(n), Some(t)) => {
                        if n == "default" {
                            found = Some(t.to_string());
                        }
                    }
                    _ => {
                        return Err(value(
                            &format!("{FIELD}[{i}]"),
                            entry,
                            "each entry needs a string name and a string template",
                        ))
                    }
                }
            }
            found
        }
        Some(v) => {
            return Err(value(
                FIELD,
                v,
                "a string, or a list of {name, template}, is needed",
            ))
        }
    };
    if let Some(source) = &source {
        if source.len() > MAX_CHAT_BYTES {
            return Err(bad(format!(
                "{FIELD}: {}",
                crate::limits::over_cap(source.len(), MAX_CHAT_BYTES)
            )));
        }
    }
    let mut tokens = Vec::new();
    for name in SPECIAL_TOKENS {
        let text = match json.get(name) {
            None | Some(Json::Null) => continue,
            Some(Json::String(s)) => s.clone(),
            Some(v @ Json::Object(o)) => match o.get("content") {
                Some(Json::String(s)) => s.clone(),
                _ => {
                    return Err(value(
                        name,
                        v,
                        "a string, or an object whose content is one, is needed",
                    ))
                }
            },
            Some(v) => {
                return Err(value(
                    name,
                    v,
                    "a string, or an object whose content is one, is needed",
                ))
            }
        };
        tokens.push((name, text));
    }
    Ok((source, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The template of a `tokenizer_config.json` written as `config` (also for `render`'s tests).
    pub(super) fn template(config: Json) -> ChatTemplate {
        ChatTemplate::from_tokenizer_config(config.to_string().as_bytes())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn the_template_and_its_tokens_are_read() {
        let t = template(json!({
            "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ bos_token }}|{{ eos_token }}"}],
            "bos_token": {"__type": "AddedToken", "content": "<s>"},
            "eos_token": "</s>",
        }));
        assert_eq!(t.source(), "{{ bos_token }}|{{ eos_token }}");
        assert_eq!(
            t.tokens,
            [
                ("bos_token", "<s>".to_string()),
                ("eos_token", "</s>".to_string())
            ]
        );
        let none = |j: Json| ChatTemplate::from_tokenizer_config(j.to_string().as_bytes());
        assert_eq!(none(json!({"eos_token": "</s>"})).unwrap(), None);
        assert_eq!(
            none(json!({"chat_template": [{"name": "rag", "template": "x"}]})).unwrap(),
            None
        );
        let e = none(json!({"chat_template": 7})).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelConfigValue));
        assert!(
            e.to_string()
                .starts_with("tokenizer_config.json: chat_template is 7"),
            "{e}"
        );
        let e = none(json!({"chat_template": "x", "eos_token": {"content": 1}})).unwrap_err();
        assert!(e.to_string().contains("eos_token"), "{e}");
        assert!(ChatTemplate::from_tokenizer_config(b"[")
            .unwrap_err()
            .to_string()
            .starts_with("tokenizer_config.json: not valid JSON"));
    }
}
