//! Reading one component object of a `tokenizer.json` (`{"type": "Split", ...}`): its fields,
//! each error naming the field by its path (`pre_tokenizer.pretokenizers[0].behavior`).

use serde_json::{Map, Value};

use super::json::{bad, quoted};
use crate::error::{brief, Code, Error, Result};

/// A component object and where it is in the file.
pub(super) struct Fields<'v> {
    pub value: &'v Value,
    pub map: &'v Map<String, Value>,
    pub path: String,
}

impl<'v> Fields<'v> {
    /// `v` must be an object.
    pub fn new(v: &'v Value, path: &str) -> Result<Fields<'v>> {
        match v {
            Value::Object(map) => Ok(Fields {
                value: v,
                map,
                path: path.to_string(),
            }),
            v => Err(bad(format!("{path} is {}, not an object", brief(v)))),
        }
    }

    /// The path of field `key`.
    pub fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    pub fn get(&self, key: &str) -> Option<&'v Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A boolean field; `default` when absent or null.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(bad(format!(
                "{} is {}, not true or false",
                self.field(key),
                brief(v)
            ))),
        }
    }

    /// A list field.
    pub fn list(&self, key: &str) -> Result<&'v Vec<Value>> {
        match self.get(key) {
            Some(Value::Array(a)) => Ok(a),
            v => Err(bad(format!(
                "{} is {}, not a list",
                self.field(key),
                v.map_or("missing".into(), |v| brief(v))
            ))),
        }
    }

    /// A count field; `default` when absent or null.
    pub fn count(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if n <= u32::MAX as u64 => Ok(n as usize),
                _ => Err(bad(format!(
                    "{} is {}, not a count",
                    self.field(key),
                    brief(v)
                ))),
            },
        }
    }
}

/// The component's `type`.
pub(super) fn kind<'v>(o: &Fields<'v>) -> Result<&'v str> {
    match o.map.get("type") {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(bad(format!(
            "{} is {}, not a string",
            o.field("type"),
            brief(v)
        ))),
        None => Err(bad(format!(
            "{} is {}; a component needs a \"type\"",
            o.path,
            brief(o.value)
        ))),
    }
}

/// A string field that must be there.
pub(super) fn string_field<'v>(o: &Fields<'v>, key: &str) -> Result<&'v str> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s),
        v => Err(bad(format!(
            "{} is {}, not a string",
            o.field(key),
            v.map_or("missing".into(), |v| brief(v))
        ))),
    }
}

/// A one-character string field (Metaspace's `replacement`, Strip's `content`).
pub(super) fn char_field(o: &Fields, key: &str) -> Result<char> {
    let s = string_field(o, key)?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(bad(format!(
            "{} is {}, not one character",
            o.field(key),
            quoted(s)
        ))),
    }
}

/// `{"String": s}` or `{"Regex": r}` of a Replace or Split; the regex as `Err` for the caller
/// to run or refuse.
pub(super) enum PatternJson<'v> {
    String(&'v str),
    Regex(&'v str),
}

pub(super) fn pattern_field<'v>(o: &Fields<'v>) -> Result<PatternJson<'v>> {
    let p = Fields::new(
        o.get("pattern").unwrap_or(&Value::Null),
        &o.field("pattern"),
    )?;
    match (p.get("String"), p.get("Regex")) {
        (Some(Value::String(s)), None) if !s.is_empty() => Ok(PatternJson::String(s)),
        (None, Some(Value::String(r))) => Ok(PatternJson::Regex(r)),
        _ => Err(bad(format!(
            "{} is {}; a pattern is {{\"String\": a non-empty string}} or {{\"Regex\": a \
             string}}",
            p.path,
            brief(p.value)
        ))),
    }
}

/// Replace's `pattern` (a string; a regex only if it is a plain string) and `content`.
pub(super) fn replace_fields(o: &Fields) -> Result<(String, String)> {
    let from = match pattern_field(o)? {
        PatternJson::String(s) => s.to_string(),
        PatternJson::Regex(r) => match literal_regex(r) {
            Some(s) => s,
            None => {
                return Err(regex_unsupported(
                    &o.field("pattern.Regex"),
                    r,
                    "a plain string (no regex operators)",
                    Code::TokenizerReplaceRegex,
                ))
            }
        },
    };
    let to = string_field(o, "content")?.to_string();
    Ok((from, to))
}

/// A regex that only matches one fixed string (no operators, `\` escapes of punctuation):
/// that string.
pub(super) fn literal_regex(r: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = r.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                e if e.is_ascii_punctuation() => out.push(e),
                _ => return None,
            },
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => {
                return None
            }
            c => out.push(c),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The error for a component, option or pattern the lab does not implement: names the field,
/// the value and what is supported.
pub(super) fn unsupported(field: &str, value: &str, supported: &str) -> Error {
    unsupported_shown(field, quoted(value), supported)
}

/// [`unsupported`] for a value already written out (a JSON value, [`brief`]ed).
pub(super) fn unsupported_shown(field: &str, value: String, supported: &str) -> Error {
    bad(format!(
        "{field} {value} is not supported; supported: {supported}"
    ))
    .coded(
        Code::TokenizerUnsupported,
        [
            ("field", field.to_string().into()),
            ("value", value.into()),
            ("supported", supported.into()),
        ],
    )
}

/// A regex `pattern` at `field` that the lab does not implement, `code` saying what it does
/// implement there (the page's sentence; `supported` is the English message's).
pub(super) fn regex_unsupported(field: &str, pattern: &str, supported: &str, code: Code) -> Error {
    let pattern = quoted(pattern);
    bad(format!(
        "{field} {pattern} is not supported; supported: {supported}"
    ))
    .coded(code, [("field", field.to_string().into())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_regexes() {
        assert_eq!(literal_regex(" ").as_deref(), Some(" "));
        assert_eq!(literal_regex(r"\.\.").as_deref(), Some(".."));
        assert_eq!(literal_regex(r"\s"), None);
        assert_eq!(literal_regex("a+"), None);
        assert_eq!(literal_regex(""), None);
    }
}
