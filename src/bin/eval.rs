//! Prints the validation cross-entropy (nats/char) of a checkpoint on the held-out works
//! (`logitlab::data::VALIDATION_WORKS`), the figure the default model's goal is stated in.
//!
//! ```text
//! cargo run --release --bin eval -- [checkpoint (default www/models/default.safetensors)]
//!     [--data DIR] [--sample N]
//! ```
//!
//! With `--sample N` it also generates N characters after "ROMEO:\n" (T = 0.8, seed 42) and
//! reports the generation speed with the KV cache, natively on one thread.

use std::path::PathBuf;
use std::time::Instant;

use logitlab::data::{load_shakespeare, Corpus};
use logitlab::model::{Generator, Gpt, OutputMode};
use logitlab::sampling::SampleOptions;
use logitlab::train::evaluate;
use logitlab::{Error, Result};

fn run() -> Result<()> {
    let mut checkpoint = PathBuf::from("www/models/default.safetensors");
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
            _ => checkpoint = PathBuf::from(arg),
        }
    }
    let bytes = std::fs::read(&checkpoint)
        .map_err(|e| Error::new(format!("{}: {e}", checkpoint.display())))?;
    let model = Gpt::from_safetensors(&bytes)?;
    let works = load_shakespeare(&data)?;
    let corpus = Corpus::from_works(&works)?;
    // Re-encode the validation text with the checkpoint's own vocabulary.
    let val_text = corpus.vocab.decode(&corpus.val)?;
    let val = model.encode(&val_text)?;
    let c = model.config();
    println!(
        "{}: {} layers x {} embd, {} heads, context {}, vocab {}, {} parameters, {} bytes",
        checkpoint.display(),
        c.layers,
        c.embd,
        c.heads,
        c.context_length,
        c.vocab_size,
        c.parameter_count(),
        bytes.len()
    );
    let start = Instant::now();
    let ce = evaluate(&model, &val, 32)?;
    println!(
        "validation cross-entropy: {ce:.4} nats/char ({:.4} bits/char) on {} held-out chars \
         ({:.1} s)",
        ce / std::f64::consts::LN_2,
        val.len(),
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

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
