//! Inputs several targets share. A file target's input is an edit script of a fixture, like
//! `checkpoint_default`'s patches, so that most executions get past the parser: structural edits
//! of the file's JSON (junk values, removed, renamed and added fields, nesting), then raw byte
//! patches of the serialised text. The tokenizer targets share junk ids and BPE text.

use serde_json::{json, Map, Value};

use crate::harness::{Bytes, CHARS};

/// Number texts that serde_json cannot make from a `Value`: out of range, non-standard, or
/// broken. An edit puts a placeholder string that serialisation then replaces with one.
const RAW_JSON: [&str; 22] = [
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "1e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "1.0",
    "32.0",
    "3.2e1",
    "1E2",
    "0x20",
    "01",
    "+1",
    ".5",
    "1.",
    "nul",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "1e5",
];

/// Strings that mean something to some parser (or look like numbers).
const JUNK_STRINGS: [&str; 20] = [
    "NaN",
    "Infinity",
    "-1",
    "1e5",
    "",
    "gpt2",
    "BPE",
    "ByteLevel",
    "F32",
    "BF16",
    "null",
    "true",
    "<|endoftext|>",
    "Ġ",
    "\0",
    "😀",
    "a b",
    " ",
    "gelu",
    "transformer.",
];

/// A junk JSON value: integers at the edges of every integer type, fractions, tiny and huge
/// floats, number-like strings, the wrong type, nesting.
fn junk_json(b: &mut Bytes, keys: &[&str], depth: u32) -> Value {
    match b.u8() % 26 {
        0 => Value::Null,
        1 => Value::Bool(b.u8().is_multiple_of(2)),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(1),
        5 => json!(u64::MAX),
        6 => json!(i64::MIN),
        7 => json!((1u64 << 53) + 1),
        8 => json!(0.5),
        9 => json!(-0.0),
        10 => json!(1e308),
        11 => json!(5e-324),
        12 => json!(b.u32()),
        13 => json!(b.u8()),
        14 => json!(1u64 << 32),
        15 => json!(65_536),
        16 => json!(4_097),
        17 => json!(b.pick(&JUNK_STRINGS)),
        18 => Value::String(b.text(64)),
        19 | 20 => Value::String(format!("\u{1}raw{}", b.u8() as usize % RAW_JSON.len())),
        21 => json!([]),
        22 => json!({}),
        23 if depth < 3 => Value::Array(
            (0..b.u8() % 4)
                .map(|_| junk_json(b, keys, depth + 1))
                .collect(),
        ),
        24 if depth < 3 => {
            let mut m = Map::new();
            for _ in 0..1 + b.u8() % 3 {
                let k = b.pick(keys).to_string();
                m.insert(k, junk_json(b, keys, depth + 1));
            }
            Value::Object(m)
        }
        _ => json!(b.u8() as f64 / 7.0),
    }
}

/// The number of children of `v` (an object's fields, an array's elements).
fn children(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

/// Child `i` of `v` (< [`children`]).
fn nth_child_mut(v: &mut Value, i: usize) -> &mut Value {
    match v {
        Value::Object(m) => m.values_mut().nth(i).unwrap(),
        Value::Array(a) => &mut a[i],
        _ => unreachable!(),
    }
}

fn nth_child(v: &Value, i: usize) -> &Value {
    match v {
        Value::Object(m) => m.values().nth(i).unwrap(),
        Value::Array(a) => &a[i],
        _ => unreachable!(),
    }
}

/// A subtree anywhere in `v`, cloned (for grafts).
fn some_subtree(v: &Value, b: &mut Bytes) -> Value {
    let mut v = v;
    for _ in 0..6 {
        let n = children(v);
        if n == 0 || b.u8().is_multiple_of(4) {
            break;
        }
        v = nth_child(v, b.u32() as usize % n);
    }
    v.clone()
}

/// One structural edit of `root`: from one of the `focus` JSON pointers (or the root), down a
/// few levels, then an edit of the node or of one of its children. `keys` are the field names
/// the parser knows, to rename and insert.
pub fn edit_json(root: &mut Value, b: &mut Bytes, keys: &[&str], focus: &[&str]) {
    let donor = some_subtree(root, b);
    let start = b.pick(focus);
    let Some(mut at) = root.pointer(start) else {
        return;
    };
    let mut path = Vec::new();
    for _ in 0..6 {
        let n = children(at);
        if n == 0 || b.u8().is_multiple_of(3) {
            break;
        }
        let i = b.u32() as usize % n;
        path.push(i);
        at = nth_child(at, i);
    }
    let mut node = root.pointer_mut(start).unwrap();
    for i in path {
        node = nth_child_mut(node, i);
    }
    match b.u8() % 12 {
        0..=2 => *node = junk_json(b, keys, 0),
        3 => match node {
            Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(b.u32() as usize % m.len()).cloned().unwrap();
                m.remove(&k);
            }
            Value::Array(a) if !a.is_empty() => {
                a.remove(b.u32() as usize % a.len());
            }
            _ => *node = Value::Null,
        },
        4 => {
            // Rename a field: to another known name, or a near miss.
            if let Value::Object(m) = node {
                if !m.is_empty() {
                    let k = m.keys().nth(b.u32() as usize % m.len()).cloned().unwrap();
                    let v = m.remove(&k).unwrap();
                    let new = match b.u8() % 4 {
                        0 => k.to_uppercase(),
                        1 => format!("{k}{}", b.pick(&CHARS)),
                        2 => format!("transformer.{k}"),
                        _ => b.pick(keys).to_string(),
                    };
                    m.insert(new, v);
                }
            }
        }
        5 => match node {
            Value::Object(m) => {
                let k = b.pick(keys).to_string();
                m.insert(k, junk_json(b, keys, 0));
            }
            Value::Array(a) => {
                let i = b.u32() as usize % (a.len() + 1);
                a.insert(i, junk_json(b, keys, 0));
            }
            _ => *node = junk_json(b, keys, 0),
        },
        6 => {
            // Duplicate an element, or copy one field's value over another's.
            match node {
                Value::Array(a) if !a.is_empty() => {
                    let i = b.u32() as usize % a.len();
                    let x = a[i].clone();
                    a.insert(i, x);
                }
                Value::Object(m) if m.len() >= 2 => {
                    let i = b.u32() as usize % m.len();
                    let j = b.u32() as usize % m.len();
                    let x = m.values().nth(i).cloned().unwrap();
                    *m.values_mut().nth(j).unwrap() = x;
                }
                _ => {}
            }
        }
        7 => {
            // Nesting: one level, or deeper than serde_json's recursion limit (128).
            let depth = b.pick(&[1, 2, 127, 200]);
            let mut v = node.take();
            for _ in 0..depth {
                v = if b.u8().is_multiple_of(2) {
                    json!([v])
                } else {
                    json!({ "type": v })
                };
            }
            *node = v;
        }
        8 | 9 => match node {
            // Arithmetic on numbers: off by one, negated, scaled, made fractional.
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                *node = match b.u8() % 8 {
                    0 => json!(x + 1.0),
                    1 => json!(x - 1.0),
                    2 => json!(-x),
                    3 => json!(x * 2.0),
                    4 => json!(x + 0.5),
                    5 => json!(n.as_u64().map_or(0, |u| u.wrapping_add(1))),
                    6 => json!(n.as_u64().map_or(0, |u| u.wrapping_sub(1))),
                    _ => json!(n.as_u64().map_or(0, |u| u << (b.u8() % 40))),
                };
            }
            Value::String(s) => match b.u8() % 4 {
                0 => {
                    let last = s.char_indices().next_back().map_or(0, |(i, _)| i);
                    s.truncate(last)
                }
                1 => s.push(b.pick(&CHARS)),
                2 => *s = s.repeat(2),
                _ => s.insert(0, b.pick(&CHARS)),
            },
            Value::Array(a) => match b.u8() % 3 {
                0 => a.reverse(),
                1 => a.truncate(b.u8() as usize % (a.len() + 1)),
                _ if a.len() >= 2 => {
                    let i = b.u32() as usize % a.len();
                    let j = b.u32() as usize % a.len();
                    a.swap(i, j);
                }
                _ => {}
            },
            _ => *node = junk_json(b, keys, 0),
        },
        10 => *node = donor,
        _ => *node = Value::String(format!("\u{1}raw{}", b.u8() as usize % RAW_JSON.len())),
    }
}

/// `v` as JSON text (pretty or compact, by the bytes), the raw-number placeholders replaced,
/// then 0–2 raw patches (truncate, insert, overwrite) at any byte.
pub fn json_bytes(v: &Value, b: &mut Bytes) -> Vec<u8> {
    let mut text = if b.u8().is_multiple_of(4) {
        serde_json::to_string_pretty(v).unwrap()
    } else {
        serde_json::to_string(v).unwrap()
    };
    if text.contains("\\u0001raw") {
        for (k, raw) in RAW_JSON.iter().enumerate().rev() {
            text = text.replace(&format!("\"\\u0001raw{k}\""), raw);
        }
    }
    let mut bytes = text.into_bytes();
    let patches = b.u8() % 8 / 3;
    patch_bytes(&mut bytes, b, patches);
    bytes
}

/// `n` raw patches of `bytes` at offsets chosen by `b`: truncate, insert or overwrite.
pub fn patch_bytes(bytes: &mut Vec<u8>, b: &mut Bytes, n: u8) {
    for _ in 0..n {
        let at = b.u32() as usize % (bytes.len() + 1);
        match b.u8() % 8 {
            0 => bytes.truncate(at),
            1 | 2 => {
                let n = 1 + b.u8() as usize % 8;
                let ins: Vec<u8> = (0..n).map(|_| b.u8()).collect();
                bytes.splice(at..at, ins);
            }
            _ => {
                let n = 1 + b.u8() as usize % 8;
                for i in 0..n {
                    let x = b.u8();
                    if let Some(y) = bytes.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
        }
    }
}

/// Arbitrary ids: mostly in range, some just past the end, some anywhere.
pub fn junk_ids(b: &mut Bytes, v: usize) -> Vec<u32> {
    (0..b.len(64))
        .map(|_| match b.u8() % 8 {
            0 => b.u32(),
            1 => (v + b.u8() as usize % 3) as u32,
            _ => (b.u32() as usize % v.max(1)) as u32,
        })
        .collect()
}

/// Text for the BPE: the fixture's kinds of text (English, contractions, Vietnamese NFC and NFD,
/// CJK, emoji), `<|endoftext|>` and pieces of it, whitespace runs, and the mutator's text.
pub fn bpe_text(b: &mut Bytes, max_bytes: usize) -> String {
    const PIECES: [&str; 24] = [
        "<|endoftext|>",
        "<|endoftext",
        "|>",
        "<|",
        " ",
        "   ",
        "\n",
        "\n\n",
        " \t\n ",
        "'s",
        "'ll",
        "'S",
        "Romeo",
        " Juliet",
        " 123",
        "٣½",
        "Tiếng Việt",
        "Tie\u{302}\u{301}ng",
        "中文",
        "🦀😀",
        "\u{3000}",
        "Ġ",
        "\u{FFFD}",
        "ÃĦ",
    ];
    let mut s = String::new();
    for _ in 0..b.len(24) {
        if b.exhausted() && !s.is_empty() {
            break;
        }
        match b.u8() % 4 {
            0 | 1 => s.push_str(b.pick(&PIECES)),
            _ => s.push_str(&b.text(max_bytes.saturating_sub(s.len()))),
        }
        if s.len() >= max_bytes {
            break;
        }
    }
    s
}
