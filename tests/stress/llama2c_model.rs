//! The `llama2c_model` target: llama2.c's `model.bin`, edited, read whole and in parts, then a
//! forward pass and a few greedy tokens.

use logitlab::model::format::llama2c;
use logitlab::model::{Net, Tokenizer};

use crate::contracts::use_hf_model;
use crate::fixtures::{LLAMA2C_MODELS, LLAMA2C_TOKENIZER};
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{count_from_here, given, stress, Bytes, Target, Verdict, MB};
use crate::inputs::patch_bytes;

/// Header values that break naive readers: signs, zero, extremes, near misses of the fixtures'
/// (dim 48, hidden 128, layers 2, heads 6, kv_heads 2 or 6, vocab ±512, seq_len 96) and limits.
fn header_value(b: &mut Bytes, was: i32) -> i32 {
    match b.u8() % 4 {
        0 => b.pick(&[
            0,
            -1,
            1,
            2,
            3,
            4,
            5,
            7,
            8,
            12,
            16,
            24,
            64,
            65,
            4096,
            4097,
            16_384,
            65_536,
            65_537,
            1 << 30,
            i32::MAX,
            i32::MIN,
        ]),
        1 => b.pick(&[
            was.wrapping_neg(),
            was.wrapping_add(1),
            was.wrapping_sub(1),
            was.wrapping_mul(2),
            was / 2,
            !was,
        ]),
        2 => b.u32() as i32,
        _ => was.wrapping_add(i32::from(b.u8() as i8)),
    }
}

/// A fixture `model.bin`, edited: header fields (the seven ints, version 1's magic, version and
/// shared_classifier flag), the vocab sign with the classifier dropped or added to match, junk
/// floats in the data, truncation, extension and raw byte patches.
fn edited_model_bin(b: &mut Bytes) -> Vec<u8> {
    let mut bytes = LLAMA2C_MODELS[b.u8() as usize % 3].to_vec();
    let v1 = bytes[..4] == 0x616b_3432u32.to_le_bytes();
    let fields_at = if v1 { 8 } else { 0 };
    let int_at = |bytes: &[u8], at: usize| {
        bytes
            .get(at..at + 4)
            .map_or(0, |w| i32::from_le_bytes(w.try_into().unwrap()))
    };
    let put = |bytes: &mut Vec<u8>, at: usize, v: i32| {
        for (i, x) in v.to_le_bytes().into_iter().enumerate() {
            if let Some(y) = bytes.get_mut(at + i) {
                *y = x;
            }
        }
    };
    let edits = b.u8() % 4;
    for _ in 0..edits {
        match b.u8() % 10 {
            0..=3 => {
                let at = fields_at + 4 * (b.u8() as usize % 7);
                let v = header_value(b, int_at(&bytes, at));
                put(&mut bytes, at, v);
            }
            4 => {
                // Version 1's magic, version or flag; or a legacy file's first word as magic.
                match b.u8() % 4 {
                    0 => put(&mut bytes, 0, 0x616b_3432),
                    1 => put(&mut bytes, 4, header_value(b, 1)),
                    2 => {
                        if let Some(y) = bytes.get_mut(36) {
                            *y = b.pick(&[0, 1, 2, 0xFF]);
                        }
                    }
                    _ => put(&mut bytes, 0, header_value(b, 0x616b_3432)),
                }
            }
            5 => {
                // The classifier flipped between shared and separate, the data to match:
                // a (V, C) table dropped from or added at the end.
                let (dim, vocab) = (int_at(&bytes, fields_at), int_at(&bytes, fields_at + 20));
                let table = (dim.unsigned_abs() as usize) * (vocab.unsigned_abs() as usize) * 4;
                let separate = if v1 {
                    bytes.get(36).is_some_and(|&f| f == 0)
                } else {
                    vocab < 0
                };
                if v1 {
                    if let Some(y) = bytes.get_mut(36) {
                        *y = u8::from(separate);
                    }
                } else {
                    put(&mut bytes, fields_at + 20, vocab.wrapping_neg());
                }
                if table < 1 << 22 {
                    if separate {
                        bytes.truncate(bytes.len().saturating_sub(table));
                    } else {
                        let from = bytes.len().saturating_sub(table);
                        let copy = bytes[from..].to_vec();
                        bytes.extend(copy);
                    }
                }
            }
            6 => {
                // Junk floats in the data.
                let at = b.u32() as usize % (bytes.len() + 1);
                let w = b
                    .pick(&[
                        f32::NAN,
                        f32::INFINITY,
                        f32::NEG_INFINITY,
                        f32::MAX,
                        1e30,
                        -0.0,
                    ])
                    .to_le_bytes();
                for (i, x) in w.into_iter().enumerate() {
                    if let Some(y) = bytes.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
            7 => {
                // Cut or extended by whole floats, or by a few bytes.
                let n = if b.u8().is_multiple_of(2) {
                    4 * (1 + b.u8() as usize % 64)
                } else {
                    1 + b.u8() as usize % 3
                };
                if b.u8().is_multiple_of(2) {
                    bytes.truncate(bytes.len().saturating_sub(n));
                } else {
                    bytes.resize(bytes.len() + n, b.u8());
                }
            }
            8 => {
                let at = b.u32() as usize % (bytes.len() + 1);
                bytes.truncate(at.min(b.pick(&[0, 3, 4, 27, 28, 29, 36, 255, 256, 257, at])));
            }
            _ => {
                let n = 1 + b.u8() % 2;
                patch_bytes(&mut bytes, b, n)
            }
        }
    }
    bytes
}

/// `Net::from_llama2c` on an edited fixture `model.bin`, with the fixture `tokenizer.bin` (one
/// time in 16 cut short); when it loads: its weights are finite, a forward pass without NaN and
/// a few greedy tokens.
pub fn run_llama2c_model(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let model = edited_model_bin(&mut b);
    let tokenizer = if b.u8() % 16 == 15 {
        &LLAMA2C_TOKENIZER[..b.u32() as usize % LLAMA2C_TOKENIZER.len()]
    } else {
        LLAMA2C_TOKENIZER
    };
    // The page reads model.bin in parts as they arrive: any split, with the length known or
    // not, must come to the same checkpoint or the same refusal as the whole file.
    let part = 1 + b.u32() as usize % 4096;
    let known = b.u8().is_multiple_of(2);
    count_from_here();
    given(model.len() + tokenizer.len());
    let whole = llama2c::read(&model, tokenizer);
    let parts = llama2c::Reader::new(known.then_some(model.len()), tokenizer).and_then(|mut r| {
        model.chunks(part).try_for_each(|c| r.push(c))?;
        r.finish()
    });
    match (&whole, &parts) {
        (Ok(a), Ok(b)) if a.tensors == b.tensors && a.config == b.config => {}
        (Err(a), Err(b)) if !known || a.to_string() == b.to_string() => {}
        _ => {
            return Bug(format!(
                "read whole: {:?}; in parts of {part} (length known: {known}): {:?}",
                whole.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
                parts.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
            ))
        }
    }
    let c = match whole {
        Ok(c) => c,
        Err(e) => return Rejected(e.to_string()),
    };
    if let Some(i) = c
        .tensors
        .iter()
        .position(|t| t.iter().any(|x| !x.is_finite()))
    {
        return Bug(format!("a non-finite weight loaded, in tensor {i}"));
    }
    let version = c.version;
    let net = match Net::from_layout(c.config, Tokenizer::SentencePiece(c.tokenizer), c.tensors) {
        Ok(net) => net,
        Err(e) => return Bug(format!("a checkpoint read but did not assemble: {e}")),
    };
    match use_hf_model(&net) {
        Verdict::Ok(f) => Verdict::Ok(format!(
            "v{version} {f} C{} kv{:?} T{}",
            net.config().embd,
            net.config().arch.family,
            match net.config().context_length {
                0..16 => "<16",
                16..96 => "<96",
                96 => "96",
                _ => ">96",
            }
        )),
        other => other,
    }
}

fn seeds_llama2c_model() -> Vec<Vec<u8>> {
    // Each fixture unedited, and with one header field edited.
    let mut seeds = vec![vec![]];
    for fixture in 0..3 {
        seeds.push(vec![fixture, 0, 0]);
        seeds.push(vec![fixture, 1, 0, 3, 0, 0, 0]);
    }
    seeds
}

pub const TARGET: Target = Target {
    name: "llama2c_model",
    budget: 3_000,
    max_input: 256,
    alloc_cap: 4 * MB,
    // `ids must be` for a prompt longer than an edited seq_len.
    names: &["model.bin: ", "tokenizer.bin: ", "model: ", "ids must be "],
    prefix: true,
    seeds: seeds_llama2c_model,
    run: run_llama2c_model,
};

#[test]
fn stress_llama2c_model() {
    stress(&TARGET);
}
