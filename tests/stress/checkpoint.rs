//! The `checkpoint` target: the page's checkpoint loader on arbitrary bytes and on mutations of
//! a tiny checkpoint, then forward, generate, save and reload.

use logitlab::model::{Arch, Config, Generator, Gpt, Net, OutputMode, Vocab};
use logitlab::sampling::SampleOptions;

use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{check, no_nan, stress, try_bug, Target, Verdict, MB};

/// A tiny model, so that a checkpoint is ~2 KB and mutations often hit its header.
pub fn tiny_model() -> Gpt {
    let vocab = Vocab::from_chars(vec!['\0', '\n', 'a', 'é', '😀']).unwrap();
    let config = Config {
        vocab_size: 5,
        context_length: 4,
        layers: 1,
        heads: 2,
        embd: 4,
        arch: Arch::LAB,
    };
    Gpt::new(config, vocab, 3).unwrap()
}

/// After a checkpoint loads, it must also run: forward, a few greedy tokens, a save.
fn use_model(model: &Net) -> Verdict {
    let v = model.config().vocab_size;
    let ids: Vec<u32> = (0..model.config().context_length.min(3) as u32)
        .map(|i| i % v as u32)
        .collect();
    for mode in [OutputMode::Logits, OutputMode::LogSoftmax] {
        match model.forward_ids(&ids, mode) {
            Err(e) => return Rejected(e.to_string()),
            Ok(values) => try_bug!(no_nan("forward", &values)),
        }
    }
    let prompt = match model.decode(&ids[..1]) {
        Ok(p) => p,
        Err(e) => return Bug(format!("decode of id 0 failed: {e}")),
    };
    let opts = SampleOptions {
        temperature: 0.0,
        seed: Some(0),
        ..SampleOptions::default()
    };
    let text = Generator::new(model, &prompt, OutputMode::Logits, opts)
        .and_then(|mut g| g.generate(model.config().context_length + 2));
    if let Err(e) = text {
        return Rejected(e.to_string());
    }
    match model.to_safetensors() {
        Err(e) => Bug(format!("a loaded model does not save: {e}")),
        Ok(bytes) => match Net::from_safetensors(&bytes) {
            Err(e) => Bug(format!("a saved model does not load: {e}")),
            Ok(again) => {
                check!(
                    again.config() == model.config(),
                    "config changed on a round trip"
                );
                Verdict::Ok(format!("loads V{v}"))
            }
        },
    }
}

/// `Net::from_safetensors` (the page's loader) on arbitrary bytes and mutations of a tiny
/// checkpoint.
pub fn run_checkpoint(data: &[u8]) -> Verdict {
    match Net::from_safetensors(data) {
        Err(e) => Rejected(e.to_string()),
        Ok(model) => use_model(&model),
    }
}

fn seeds_checkpoint() -> Vec<Vec<u8>> {
    let good = tiny_model().to_safetensors().unwrap();
    vec![vec![], b"not a model".to_vec(), good[..8].to_vec(), good]
}

pub const TARGET: Target = Target {
    name: "checkpoint",
    budget: 3_000,
    max_input: 16_384,
    alloc_cap: 16 * MB,
    names: &["checkpoint", "vocabulary", "ids", "prompt", "model"],
    prefix: false,
    seeds: seeds_checkpoint,
    run: run_checkpoint,
};

#[test]
fn stress_checkpoint() {
    stress(&TARGET);
}
