//! The `gguf_model` target: the GGUF model fixtures (llama Q8_0, qwen2 Q4_0 and F16, qwen3
//! BF16), their header fields and hyperparameters edited, values of the data patched, cut or
//! extended, then read as a model whole and in random parts; a model that loads must compute
//! and generate.

use logitlab::model::format::gguf_model;
use logitlab::model::Net;

use crate::contracts::use_hf_model;
use crate::gguf_file::{field_value, header_fields};
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{count_from_here, given, stress, Bytes, Target, Verdict, MB};
use crate::inputs::patch_bytes;

const FIXTURES: [&[u8]; 4] = [
    include_bytes!("../fixtures/gguf/llama-q8_0.gguf"),
    include_bytes!("../fixtures/gguf/qwen2-q4_0.gguf"),
    include_bytes!("../fixtures/gguf/qwen2-f16.gguf"),
    include_bytes!("../fixtures/gguf/qwen3-bf16.gguf"),
];

/// A fixture, edited.
fn edited(b: &mut Bytes) -> Vec<u8> {
    let mut bytes = FIXTURES[b.u8() as usize % FIXTURES.len()].to_vec();
    let fields = header_fields(&bytes);
    for _ in 0..b.u8() % 4 {
        match b.u8() % 8 {
            0..=4 => {
                let (at, width) = fields[b.u32() as usize % fields.len()];
                if at + width > bytes.len() {
                    continue; // cut off by an earlier edit
                }
                let mut was = [0u8; 8];
                was[..width].copy_from_slice(&bytes[at..at + width]);
                let v = field_value(b, u64::from_le_bytes(was));
                bytes[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
            }
            5 => {
                // Junk in the weights: an f16 ∞ or NaN where a scale or a value may be.
                let at = b.u32() as usize % (bytes.len() + 1);
                let junk: [u8; 2] = b.pick(&[[0x00, 0x7c], [0x01, 0x7e], [0xff, 0x7b], [0, 0]]);
                for (i, x) in junk.into_iter().enumerate() {
                    if let Some(y) = bytes.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
            6 => {
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

/// `gguf_model::read` on an edited fixture and a [`gguf_model::Reader`] fed it in parts;
/// a model that loads computes finite values and generates.
pub fn run_gguf_model(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let file = edited(&mut b);
    let part = 1 + b.u32() as usize % 8192;
    let known = b.u8().is_multiple_of(2);
    count_from_here();
    given(file.len());
    let whole = gguf_model::read("model.gguf", &file);
    let parts =
        gguf_model::Reader::new("model.gguf", known.then_some(file.len())).and_then(|mut r| {
            file.chunks(part).try_for_each(|c| r.push(c))?;
            r.finish()
        });
    match (&whole, &parts) {
        (Ok(a), Ok(p)) if a.tensors == p.tensors && a.config == p.config => {}
        (Err(a), Err(p)) if !known || a.to_string() == p.to_string() => {}
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
        .position(|t| t.first_non_finite().is_some())
    {
        return Bug(format!("a non-finite weight loaded, in tensor {i}"));
    }
    let net = match Net::from_gguf_checkpoint(c) {
        Ok(net) => net,
        Err(e) => return Bug(format!("a checkpoint read but did not assemble: {e}")),
    };
    match use_hf_model(&net) {
        Verdict::Ok(f) => Verdict::Ok(format!(
            "{f} {:?} {}",
            net.config().llama().map(|l| l.variant),
            net.dtype().name()
        )),
        other => other,
    }
}

fn seeds_gguf_model() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![]];
    for fixture in 0..4 {
        seeds.push(vec![fixture, 0, 0]);
        seeds.push(vec![fixture, 1, 0, 3, 0, 0, 0]);
    }
    seeds
}

pub const TARGET: Target = Target {
    name: "gguf_model",
    budget: 1_500,
    max_input: 256,
    alloc_cap: 4 * MB,
    // `ids must be` for a prompt longer than an edited context_length.
    names: &["model.gguf: ", "model: ", "ids must be "],
    prefix: true,
    seeds: seeds_gguf_model,
    run: run_gguf_model,
};

#[test]
fn stress_gguf_model() {
    stress(&TARGET);
}
