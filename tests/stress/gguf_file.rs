//! The `gguf_file` target: a small GGUF file (every metadata value type, nested arrays, a
//! vocabulary, tensors of several types), its header fields edited (counts, lengths, types,
//! dimensions, offsets, alignment), cut, extended or patched, then read whole and in random
//! parts, with the length known or not: both must come to the same file or a clean refusal.

use logitlab::model::format::gguf::{self, Array, GgmlType, Strings, Value};

use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{count_from_here, given, stress, Bytes, Target, Verdict, MB};
use crate::inputs::patch_bytes;

/// The fixture, and the places of its header's structural fields: (byte offset, width).
fn fixture(alignment: u32) -> (Vec<u8>, Vec<(usize, usize)>) {
    let nested = Array::Array(vec![
        Array::U16(vec![1, 2, 3]),
        Array::Array(vec![Array::String(Strings::from_list(["a", "bc"]))]),
        Array::Array(vec![]),
    ]);
    let metadata = vec![
        ("general.architecture", Value::String("llama".into())),
        ("general.alignment", Value::U32(alignment)),
        ("llama.block_count", Value::U32(2)),
        ("llama.rope.freq_base", Value::F32(10_000.0)),
        ("x.i8", Value::I8(-1)),
        ("x.u64", Value::U64(1 << 40)),
        ("x.f64", Value::F64(-0.5)),
        ("x.bool", Value::Bool(false)),
        (
            "tokenizer.ggml.tokens",
            Value::Array(Array::String(Strings::from_list(
                (0..40).map(|i| format!("tok{i}")),
            ))),
        ),
        (
            "tokenizer.ggml.scores",
            Value::Array(Array::F32((0..40).map(|i| -(i as f32)).collect())),
        ),
        ("x.nested", Value::Array(nested)),
    ];
    let f32s: Vec<u8> = (0..64)
        .flat_map(|i| (i as f32 / 8.0).to_le_bytes())
        .collect();
    let f16s = vec![0x3c; 2 * 32];
    let q8 = vec![1u8; 2 * 34];
    let q4k = vec![2u8; 144];
    let tensors: Vec<(&str, &[u64], GgmlType, &[u8])> = vec![
        ("token_embd.weight", &[8, 8], GgmlType::F32, &f32s),
        ("blk.0.attn_norm.weight", &[32], GgmlType::F16, &f16s),
        ("blk.0.attn_q.weight", &[32, 2], GgmlType::Q8_0, &q8),
        ("blk.0.ffn_down.weight", &[256], GgmlType::Q4_K, &q4k),
    ];
    let file = gguf::write(&metadata, &tensors);
    let fields = header_fields(&file);
    (file, fields)
}

/// The places of a valid GGUF file's header fields: (byte offset, width) of every count,
/// length, type, scalar value, dimension and offset, for edits to aim at.
pub fn header_fields(file: &[u8]) -> Vec<(usize, usize)> {
    let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    fn skip_value(file: &[u8], at: &mut usize, t: u32, fields: &mut Vec<(usize, usize)>) {
        let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
        let width = match t {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            _ => 0,
        };
        if width > 0 {
            // A scalar's value, unless it is one of a long array's many elements.
            if fields.len() < 4096 {
                fields.push((*at, width));
            }
            *at += width;
            return;
        }
        if t == 8 {
            fields.push((*at, 8));
            *at += 8 + u64_at(*at);
            return;
        }
        let inner = u32::from_le_bytes(file[*at..*at + 4].try_into().unwrap());
        let n = u64_at(*at + 4);
        fields.extend([(*at, 4), (*at + 4, 8)]);
        *at += 12;
        for _ in 0..n {
            skip_value(file, at, inner, fields);
        }
    }
    let (tensors, keys) = (u64_at(8), u64_at(16));
    let mut fields = vec![(4, 4), (8, 8), (16, 8)];
    let mut at = 24;
    for _ in 0..keys {
        fields.push((at, 8));
        at += 8 + u64_at(at);
        fields.push((at, 4));
        let t = u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
        at += 4;
        skip_value(file, &mut at, t, &mut fields);
    }
    for _ in 0..tensors {
        fields.push((at, 8));
        at += 8 + u64_at(at);
        let dims = u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        fields.push((at, 4));
        at += 4;
        for _ in 0..dims {
            fields.push((at, 8));
            at += 8;
        }
        fields.extend([(at, 4), (at + 4, 8)]);
        at += 12;
    }
    fields
}

/// A value that breaks naive readers, for a field of `width` bytes holding `was`.
pub fn field_value(b: &mut Bytes, was: u64) -> u64 {
    match b.u8() % 4 {
        0 => b.pick(&[
            0,
            1,
            2,
            3,
            4,
            5,
            7,
            8,
            9,
            12,
            13,
            16,
            24,
            31,
            32,
            33,
            64,
            99,
            255,
            256,
            257,
            1 << 16,
            1 << 31,
            1 << 32,
            1 << 40,
            u64::MAX / 8,
            u64::MAX,
        ]),
        1 => b.pick(&[
            was.wrapping_add(1),
            was.wrapping_sub(1),
            was.wrapping_mul(2),
            was / 2,
            was.wrapping_add(32),
            !was,
        ]),
        2 => b.u64(),
        _ => was.wrapping_add(i64::from(b.u8() as i8) as u64),
    }
}

/// The fixture, edited.
fn edited(b: &mut Bytes) -> Vec<u8> {
    let alignment = b.pick(&[32, 32, 32, 8, 64]);
    let (mut bytes, fields) = fixture(alignment);
    for _ in 0..b.u8() % 4 {
        match b.u8() % 8 {
            0..=3 => {
                let (at, width) = fields[b.u32() as usize % fields.len()];
                if at + width > bytes.len() {
                    continue; // cut off by an earlier edit
                }
                let mut was = [0u8; 8];
                was[..width].copy_from_slice(&bytes[at..at + width]);
                let v = field_value(b, u64::from_le_bytes(was));
                bytes[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
            }
            4 => {
                let n = 1 + b.u8() as usize % 48;
                if b.u8().is_multiple_of(2) {
                    bytes.truncate(bytes.len().saturating_sub(n));
                } else {
                    bytes.resize(bytes.len() + n, b.u8());
                }
            }
            5 => {
                let at = b.u32() as usize % (bytes.len() + 1);
                bytes.truncate(at);
            }
            _ => {
                let n = 1 + b.u8() % 2;
                patch_bytes(&mut bytes, b, n)
            }
        }
    }
    bytes
}

/// `gguf::read` on an edited fixture, and a [`gguf::Reader`] fed it in parts.
pub fn run_gguf_file(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let file = edited(&mut b);
    let part = 1 + b.u32() as usize % 512;
    let known = b.u8().is_multiple_of(2);
    count_from_here();
    given(file.len());
    let whole = gguf::read("model.gguf", &file);
    let parts = gguf::Reader::new(
        "model.gguf",
        known.then_some(file.len()),
        Box::new(|h| Ok(vec![true; h.tensors.len()])),
    )
    .and_then(|mut r| {
        file.chunks(part).try_for_each(|c| r.push(c))?;
        r.finish()
    });
    match (&whole, &parts) {
        // (Compared as printed: a metadata value may be a NaN, which equals nothing.)
        (Ok(a), Ok(p))
            if format!("{:?}", a.header) == format!("{:?}", p.header) && a.data == p.data => {}
        (Err(a), Err(p)) if !known || a.to_string() == p.to_string() => {}
        _ => {
            return Bug(format!(
                "read whole: {:?}; in parts of {part} (length known: {known}): {:?}",
                whole.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
                parts.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
            ))
        }
    }
    let g = match whole {
        Ok(g) => g,
        Err(e) => return Rejected(e.to_string()),
    };
    for (t, d) in g.header.tensors.iter().zip(&g.data) {
        let len = d.as_ref().map_or(0, Vec::len) as u64;
        if len != t.bytes {
            return Bug(format!(
                "tensor {} holds {len} bytes, its info says {}",
                t.name, t.bytes
            ));
        }
    }
    Verdict::Ok(format!(
        "v{} {} keys {} tensors align {}",
        g.header.version,
        g.header.metadata.len(),
        g.header.tensors.len(),
        g.header.alignment
    ))
}

fn seeds_gguf_file() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0, 0],
        vec![0, 1, 0, 3, 0, 0, 0],
        vec![3, 1, 4, 7, 0, 0, 0],
    ]
}

pub const TARGET: Target = Target {
    name: "gguf_file",
    budget: 3_000,
    max_input: 256,
    alloc_cap: MB,
    names: &["model.gguf: "],
    prefix: true,
    seeds: seeds_gguf_file,
    run: run_gguf_file,
};

#[test]
fn stress_gguf_file() {
    stress(&TARGET);
}
