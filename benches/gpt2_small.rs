//! GPT-2 small (124 M parameters, random weights of its shape) generating token by token with
//! the KV cache, natively on one thread: the same plain-array forward pass the page runs.
//! `./build.sh bench-gpt2` makes the checkpoint and runs this beside PyTorch and Chromium;
//! by hand: `GPT2_DIR=target/gpt2-small cargo bench --bench gpt2_small`.

use std::time::Instant;

use logitlab::model::{Generator, Net, OutputMode};
use logitlab::sampling::SampleOptions;

fn main() {
    let Ok(dir) = std::env::var("GPT2_DIR") else {
        println!(
            "gpt2_small: set GPT2_DIR to a GPT-2 folder (./build.sh bench-gpt2 makes one); skipped"
        );
        return;
    };
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).expect(name);
    let (config, model, tokenizer) = (
        read("config.json"),
        read("model.safetensors"),
        read("tokenizer.json"),
    );
    let start = Instant::now();
    let net = Net::from_hf_gpt2(&[
        ("config.json", &config),
        ("model.safetensors", &model),
        ("tokenizer.json", &tokenizer),
    ])
    .unwrap();
    let load = start.elapsed().as_secs_f64();
    drop(model);
    let opts = SampleOptions {
        temperature: 0.0,
        ..SampleOptions::default()
    };
    let mut g = Generator::new(&net, "Romeo:\nBut soft", OutputMode::Logits, opts).unwrap();
    g.next_token().unwrap(); // the prompt's prefill and the first token
    let n = 64;
    let start = Instant::now();
    for _ in 0..n {
        g.next_token().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "native GPT-2 small (one thread): {:.1} tokens/s ({:.1} ms/token, {n} tokens with the KV cache; loaded in {:.2} s)",
        n as f64 / secs,
        secs * 1e3 / n as f64,
        load
    );
}
