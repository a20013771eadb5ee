//! The `checkpoint_default` target: patches of the shipped checkpoint, half of them in its
//! header.

use logitlab::model::{Net, OutputMode};

use crate::fixtures::default_checkpoint;
use crate::harness::Verdict::Rejected;
use crate::harness::{no_nan, stress, try_bug, Bytes, Target, Verdict, MB};

/// Mutations of the shipped checkpoint, described as patches so the corpus stays small: the
/// input is a list of (offset, length, bytes) records; half of them land in the header.
pub fn run_checkpoint_default(data: &[u8]) -> Verdict {
    let mut bytes = default_checkpoint().to_vec();
    let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut b = Bytes::new(data);
    let patches = if data.is_empty() { 0 } else { 1 + b.u8() % 4 };
    for _ in 0..patches {
        let region = if b.u8().is_multiple_of(2) {
            header
        } else {
            bytes.len()
        }
        .max(1);
        let at = (b.u32() as usize % region).min(bytes.len());
        match b.u8() % 8 {
            // Truncate here.
            0 => bytes.truncate(at),
            // Insert bytes (shifts every later offset).
            1 => {
                let n = 1 + b.u8() as usize % 8;
                let ins: Vec<u8> = (0..n).map(|_| b.u8()).collect();
                bytes.splice(at..at, ins);
            }
            // Overwrite with bytes.
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
    match Net::from_safetensors(&bytes) {
        Err(e) => Rejected(e.to_string()),
        Ok(model) => {
            // One forward and two tokens: the full use_model is too slow for this budget.
            let ids = match model.encode("ROMEO:") {
                Ok(ids) => ids,
                Err(e) => return Rejected(e.to_string()),
            };
            match model.next_token_values(&ids, OutputMode::LogSoftmax) {
                Err(e) => Rejected(e.to_string()),
                Ok(values) => {
                    try_bug!(no_nan("forward", &values));
                    Verdict::Ok(format!("loads V{}", model.config().vocab_size))
                }
            }
        }
    }
}

fn seeds_checkpoint_default() -> Vec<Vec<u8>> {
    vec![vec![], vec![1, 0, 40, 0, 0, 0, 2, 1, b'9']]
}

pub const TARGET: Target = Target {
    name: "checkpoint_default",
    budget: 300,
    max_input: 64,
    alloc_cap: 16 * MB,
    names: &["checkpoint", "text", "model"],
    prefix: false,
    seeds: seeds_checkpoint_default,
    run: run_checkpoint_default,
};

#[test]
fn stress_checkpoint_default() {
    stress(&TARGET);
}
