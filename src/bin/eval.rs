//! Prints the validation figures of checkpoints on the held-out works
//! (`logitlab::data::VALIDATION_WORKS`): cross-entropy per token, and bits per character, the
//! figure that compares models with different tokenizers.
//!
//! ```text
//! cargo run --release --bin eval -- [MODEL ...] [--data DIR] [--sample N]
//! ```
//!
//! A MODEL is a logitlab `.safetensors` checkpoint or a Hugging Face GPT-2 folder (config.json,
//! model.safetensors, tokenizer.json); with none, both shipped models
//! (`www/models/default.safetensors` and `www/models/shakespeare-bpe/`).
//! With `--sample N` it also generates N tokens after "ROMEO:\n" (T = 0.8, seed 42) and
//! reports the generation speed with the KV cache, natively on one thread.

use std::path::{Path, PathBuf};
use std::time::Instant;

use logitlab::data::{load_shakespeare, split_works};
use logitlab::model::{Generator, Gpt, OutputMode};
use logitlab::sampling::SampleOptions;
use logitlab::train::evaluate_text;
use logitlab::{Error, Result};

/// The shipped models, evaluated when no MODEL is given.
const SHIPPED: [&str; 2] = [
    "www/models/default.safetensors",
    "www/models/shakespeare-bpe/",
];

fn report(path: &Path, val_text: &str, sample: usize) -> Result<()> {
    let (model, bytes) = Gpt::load(path)?;
    let c = model.config();
    println!(
        "{}: {} layers x {} embd, {} heads, context {}, vocab {}, {} parameters, {} bytes",
        path.display(),
        c.layers,
        c.embd,
        c.heads,
        c.context_length,
        c.vocab_size,
        c.parameter_count(),
        bytes
    );
    let start = Instant::now();
    let e = evaluate_text(&model, val_text, 32)?;
    println!(
        "validation: {:.4} bits/char ({:.4} nats/token over {} tokens, {} chars, {:.2} chars/token; \
         {:.1} s)",
        e.bits_per_char,
        e.nats_per_token,
        e.tokens,
        e.chars,
        e.chars as f64 / e.tokens as f64,
        start.elapsed().as_secs_f64()
    );
    if sample > 0 {
        let opts = SampleOptions {
            temperature: 0.8,
            seed: Some(42),
            ..SampleOptions::default()
        };
        let mut generator = Generator::new(&model.to_net()?, "ROMEO:\n", OutputMode::Logits, opts)?;
        let start = Instant::now();
        let text = generator.generate(sample)?;
        let secs = start.elapsed().as_secs_f64();
        println!("--- sample (T = 0.8, seed 42) ---\nROMEO:\n{text}\n---");
        println!(
            "generation: {sample} tokens in {secs:.2} s = {:.0} tokens/s (KV cache, 1 thread)",
            sample as f64 / secs
        );
    }
    Ok(())
}

fn run() -> Result<()> {
    let mut models = Vec::new();
    let mut data = PathBuf::from("data");
    let mut sample = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => {
                data = PathBuf::from(
                    args.next()
                        .ok_or_else(|| Error::new("--data needs a value"))?,
                )
            }
            "--sample" => {
                let n = args
                    .next()
                    .ok_or_else(|| Error::new("--sample needs a value"))?;
                sample = n
                    .parse()
                    .map_err(|_| Error::new(format!("--sample: cannot parse {n:?}")))?;
            }
            _ => models.push(PathBuf::from(arg)),
        }
    }
    if models.is_empty() {
        models = SHIPPED.iter().map(PathBuf::from).collect();
    }
    let (_, val_text) = split_works(&load_shakespeare(&data)?)?;
    for path in &models {
        report(path, &val_text, sample)?;
    }
    Ok(())
}

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
