//! [`ChatTemplate::apply`]: a conversation rendered by the template with minijinja, in the
//! Jinja dialect transformers sets up (see the parent module). Feature `chat`: the sampling
//! lab's wasm leaves the engine out, and the page loads the build with it for a chat model.

use std::io;

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, ErrorKind, Value};
use serde_json::Value as Json;

use super::{ChatTemplate, FIELD};
use crate::error::{brief_to, Code, Error, Result, BRIEF_DETAIL_CHARS};
use crate::limits::{MAX_CHAT_BYTES, MAX_CHAT_FUEL};

impl ChatTemplate {
    /// The conversation `messages` (JSON objects such as `{"role": "user", "content": "Hi"}`)
    /// written out by the template; with `add_generation_prompt`, followed by what opens the
    /// assistant's reply. An error names `tokenizer_config.json`'s `chat_template` and says
    /// why: the template's own (`raise_exception`), a syntax error, or a bound reached.
    pub fn apply(&self, messages: &[Json], add_generation_prompt: bool) -> Result<String> {
        let mut text = 0usize;
        let mut plain = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            let Json::Object(fields) = m else {
                return Err(Error::arg(
                    &format!("messages[{i}]"),
                    "an object like { role: \"user\", content: \"Hello\" }",
                    m,
                ));
            };
            text += text_bytes(m);
            // transformers drops the keys whose value is null: a template sees them undefined.
            let kept: serde_json::Map<String, Json> = fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            plain.push(Json::Object(kept));
        }
        if text > MAX_CHAT_BYTES {
            return Err(Error::new(format!(
                "messages: {} bytes of text; at most {MAX_CHAT_BYTES} are accepted",
                text
            ))
            .coded(Code::ChatTooLong, [("max", MAX_CHAT_BYTES.into())]));
        }

        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_fuel(Some(MAX_CHAT_FUEL));
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        let template = env
            .template_from_named_str(FIELD, &self.source)
            .map_err(|e| template_error(self, &e))?;

        let mut context: Vec<(&str, Value)> = vec![
            ("messages", Value::from_serialize(&plain)),
            ("add_generation_prompt", Value::from(add_generation_prompt)),
            ("tools", Value::from(())),
            ("documents", Value::from(())),
        ];
        for (name, text) in &self.tokens {
            context.push((name, Value::from(text.as_str())));
        }
        let context: Value = context.into_iter().collect();
        let mut out = Capped {
            bytes: Vec::new(),
            over: false,
        };
        match template.render_captured_to(context, &mut out) {
            Ok(_) => {}
            Err(e) if out.over || e.kind() == ErrorKind::WriteFailure => {
                return Err(Error::new(format!(
                    "{}: writes more than {MAX_CHAT_BYTES} bytes",
                    self.origin()
                ))
                .coded(Code::ChatTooLong, [("max", MAX_CHAT_BYTES.into())]))
            }
            Err(e) if e.kind() == ErrorKind::OutOfFuel => {
                return Err(Error::new(format!(
                    "{}: takes more than {MAX_CHAT_FUEL} steps",
                    self.origin()
                ))
                .coded(Code::ChatTooLong, [("max", MAX_CHAT_BYTES.into())]))
            }
            Err(e) => return Err(template_error(self, &e)),
        }
        String::from_utf8(out.bytes).map_err(|_| {
            template_error(
                self,
                &minijinja::Error::new(ErrorKind::InvalidOperation, "the output is not UTF-8"),
            )
        })
    }
}

/// The bytes of text a message holds (its strings, keys included).
fn text_bytes(v: &Json) -> usize {
    match v {
        Json::String(s) => s.len(),
        Json::Array(a) => a.iter().map(text_bytes).sum(),
        Json::Object(o) => o.iter().map(|(k, v)| k.len() + text_bytes(v)).sum(),
        _ => 8,
    }
}

/// A template's failure, in its words (with its line), naming where the template came from.
fn template_error(template: &ChatTemplate, e: &minijinja::Error) -> Error {
    let raised = std::error::Error::source(e).and_then(|s| s.downcast_ref::<Raised>());
    let detail = match (raised, e.line()) {
        // raise_exception's message is the template author's sentence: quoted as it is.
        (Some(r), Some(line)) => format!("{} (line {line})", r.0),
        (Some(r), None) => r.0.clone(),
        _ => e.to_string(),
    };
    let detail = brief_to(&detail, BRIEF_DETAIL_CHARS);
    Error::new(format!("{}: {detail}", template.origin())).coded(
        Code::ChatTemplate,
        [("file", template.file().into()), ("detail", detail.into())],
    )
}

/// Output that refuses to grow past [`MAX_CHAT_BYTES`].
struct Capped {
    bytes: Vec<u8>,
    over: bool,
}

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_CHAT_BYTES {
            self.over = true;
            return Err(io::Error::other("the chat template's output is too long"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `raise_exception(message)`: the template refuses the conversation.
fn raise_exception(message: String) -> std::result::Result<Value, minijinja::Error> {
    Err(
        minijinja::Error::new(ErrorKind::InvalidOperation, message.clone())
            .with_source(Raised(message)),
    )
}

/// The message of a `raise_exception`, carried as its error's source.
#[derive(Debug)]
struct Raised(String);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

/// `x | tojson`: JSON as Python's `json.dumps(x, ensure_ascii=False, indent=…,
/// sort_keys=…)` writes it (", " and ": " between items without an indent, "," and ": " with).
fn tojson(value: Value, kwargs: Kwargs) -> std::result::Result<Value, minijinja::Error> {
    let indent: Option<Value> = kwargs.get("indent")?;
    let _sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let _ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (v.as_i64(), v.as_str()) {
            (Some(n), _) if (0..=16).contains(&n) => Some(" ".repeat(n as usize)),
            (_, Some(s)) if s.len() <= 16 => Some(s.to_string()),
            _ => {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson: indent must be 0 to 16 spaces or a short string",
                ))
            }
        },
    };
    let mut out = String::new();
    write_json(&value, indent.as_deref(), 0, &mut out)?;
    // Marked safe, as Jinja's own tojson is: autoescaping is off for chat templates anyway.
    Ok(Value::from_safe_string(out))
}

fn write_json(
    v: &Value,
    indent: Option<&str>,
    depth: usize,
    out: &mut String,
) -> std::result::Result<(), minijinja::Error> {
    if depth > 64 || out.len() > MAX_CHAT_BYTES {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "tojson: the value is too deep or too long",
        ));
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(ind) = indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(ind);
            }
        }
    };
    let comma = if indent.is_some() { "," } else { ", " };
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                let x = f64::try_from(v.clone()).unwrap_or(f64::NAN);
                out.push_str(&python_float(x));
            }
        }
        ValueKind::String | ValueKind::Plain => write_string(v.as_str().unwrap_or(""), out),
        ValueKind::Map => {
            let keys: Vec<Value> = v.try_iter()?.collect();
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                newline(out, depth + 1);
                match k.as_str() {
                    Some(s) => write_string(s, out),
                    None => write_string(&k.to_string(), out),
                }
                out.push_str(": ");
                write_json(&v.get_item(k)?, indent, depth + 1, out)?;
            }
            newline(out, depth);
            out.push('}');
        }
        _ => {
            let items: Vec<Value> = match v.try_iter() {
                Ok(it) => it.collect(),
                Err(_) => {
                    write_string(&v.to_string(), out);
                    return Ok(());
                }
            };
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                newline(out, depth + 1);
                write_json(x, indent, depth + 1, out)?;
            }
            newline(out, depth);
            out.push(']');
        }
    }
    Ok(())
}

/// A string as `json.dumps(s, ensure_ascii=False)` writes it.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Python's `repr` writes it (what `json.dumps` uses): `1.0`, `0.5`, `1e+20`,
/// `NaN`, `Infinity`.
fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Shortest digits, then Python's exponent form: 1e+20, 1.5e-07.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// `strftime_now(format)`: the date and time now, written as Python's `strftime` writes it for
/// the codes templates use (`%d %b %B %Y %y %m %H %M %S %a %A %j %%`; others as they are). In
/// the browser the local time; natively UTC.
fn strftime_now(
    format: String,
    _rest: Rest<Value>,
) -> std::result::Result<Value, minijinja::Error> {
    let t = now();
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let month = MONTHS[(t.month as usize).clamp(1, 12) - 1];
        let day = DAYS[t.weekday as usize % 7];
        match chars.next() {
            Some('d') => out.push_str(&format!("{:02}", t.day)),
            Some('b') => out.push_str(&month[..3]),
            Some('B') => out.push_str(month),
            Some('Y') => out.push_str(&t.year.to_string()),
            Some('y') => out.push_str(&format!("{:02}", t.year.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{:02}", t.month)),
            Some('H') => out.push_str(&format!("{:02}", t.hour)),
            Some('M') => out.push_str(&format!("{:02}", t.minute)),
            Some('S') => out.push_str(&format!("{:02}", t.second)),
            Some('a') => out.push_str(&day[..3]),
            Some('A') => out.push_str(day),
            Some('j') => out.push_str(&format!("{:03}", t.day_of_year)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    Ok(Value::from(out))
}

/// A moment's calendar fields.
struct Now {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// 0 = Monday.
    weekday: u32,
    /// 1 = January 1st.
    day_of_year: u32,
}

#[cfg(target_arch = "wasm32")]
fn now() -> Now {
    let d = js_sys::Date::new_0();
    let (year, month, day) = (d.get_full_year() as i64, d.get_month() + 1, d.get_date());
    let start = days_from_civil(year, 1, 1);
    Now {
        year,
        month,
        day,
        hour: d.get_hours(),
        minute: d.get_minutes(),
        second: d.get_seconds(),
        weekday: (d.get_day() + 6) % 7,
        day_of_year: (days_from_civil(year, month, day) - start + 1) as u32,
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn now() -> Now {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    Now {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem / 60 % 60) as u32,
        second: (rem % 60) as u32,
        // 1970-01-01 was a Thursday.
        weekday: (days + 3).rem_euclid(7) as u32,
        day_of_year: (days - days_from_civil(year, 1, 1) + 1) as u32,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (the inverse of [`days_from_civil`]).
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::super::tests::template;
    use super::*;
    use serde_json::json;

    #[test]
    fn the_special_tokens_are_variables() {
        let t = template(json!({"chat_template": "{{ bos_token }}|{{ eos_token }}",
            "bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>"}));
        assert_eq!(t.apply(&[], false).unwrap(), "<s>|</s>");
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let t = template(json!({"chat_template":
            "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with the user') }}{% endif %}"}));
        let e = t
            .apply(&[json!({"role": "assistant", "content": "hi"})], true)
            .unwrap_err();
        assert_eq!(e.code(), Some(Code::ChatTemplate));
        assert_eq!(
            e.to_string(),
            "tokenizer_config.json: chat_template: Conversation must start with the user (line 1)"
        );
        let e = template(json!({"chat_template": "{% for m in messages %}"}))
            .apply(&[], true)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("tokenizer_config.json: chat_template: syntax error"),
            "{e}"
        );
        let e = t.apply(&[json!("hello")], true).unwrap_err();
        assert!(
            e.to_string().starts_with("messages[0] must be an object"),
            "{e}"
        );
    }

    #[test]
    fn a_template_that_runs_away_is_stopped() {
        let endless = template(json!({"chat_template":
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"}));
        let e = endless.apply(&[], false).unwrap_err();
        assert_eq!(e.code(), Some(Code::ChatTooLong));
        assert!(e.to_string().contains("steps"), "{e}");
        let huge = template(json!({"chat_template":
            "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}"}));
        let e = huge.apply(&[], false).unwrap_err();
        assert_eq!(e.code(), Some(Code::ChatTooLong));
        assert!(e.to_string().contains("bytes"), "{e}");
        let long = json!({"role": "user", "content": "x".repeat(MAX_CHAT_BYTES + 1)});
        let e = endless.apply(&[long], false).unwrap_err();
        assert!(e.to_string().starts_with("messages: "), "{e}");
    }

    /// Jinja2 with trim_blocks and lstrip_blocks (as transformers sets them) renders this as
    /// `'    <a>\n    <b>\n  end'`: the indentation before a block tag and the newline after
    /// it are dropped, an expression's are kept.
    #[test]
    fn block_tags_are_trimmed_as_transformers_sets_jinja() {
        let t = template(json!({"chat_template":
            "  {% for m in messages %}\n    <{{ m.role }}>\n  {% endfor %}\n  end"}));
        let m = [json!({"role": "a"}), json!({"role": "b"})];
        assert_eq!(t.apply(&m, false).unwrap(), "    <a>\n    <b>\n  end");
    }

    #[test]
    fn tojson_writes_as_python_does() {
        let t = template(json!({"chat_template":
            "{{ messages[0].x | tojson }}|{{ messages[0].y | tojson(indent=2) }}"}));
        let m = json!({"x": {"a": [1, 2.5, 1.0, null, true, "é\"\n"], "b": {}}, "y": {"k": [1]}});
        assert_eq!(
            t.apply(&[m], false).unwrap(),
            "{\"a\": [1, 2.5, 1.0, null, true, \"é\\\"\\n\"], \"b\": {}}|{\n  \"k\": [\n    1\n  ]\n}"
        );
        assert_eq!(python_float(1e20), "1e+20");
        assert_eq!(python_float(1.5e-7), "1.5e-07");
        assert_eq!(python_float(0.1), "0.1");
    }

    #[test]
    fn strftime_now_writes_a_date() {
        let t = template(json!({"chat_template": "{{ strftime_now('%Y-%m-%d %b %%') }}"}));
        let s = t.apply(&[], false).unwrap();
        assert_eq!(s.len(), "2026-01-01 Jan %".len(), "{s}");
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
