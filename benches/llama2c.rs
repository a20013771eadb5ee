//! A llama2.c model of stories15M's shape (dim 288, 6 layers, 6 heads, hidden 768, vocab 32 000,
//! seq_len 256; random weights in the legacy format) generating greedily token by token with the
//! KV cache, natively on one thread: the forward pass the page runs. Beside it, time llama2.c's
//! own run.c on the same file (docs/performance.md):
//! `LLAMA2C_DIR=dir cargo bench --bench llama2c` (dir holds model.bin and tokenizer.bin).

use std::time::Instant;

use logitlab::model::{Generator, Net, OutputMode};
use logitlab::sampling::SampleOptions;

fn main() {
    let Ok(dir) = std::env::var("LLAMA2C_DIR") else {
        println!("llama2c: set LLAMA2C_DIR to a folder with model.bin and tokenizer.bin; skipped");
        return;
    };
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).expect(name);
    let start = Instant::now();
    let net = Net::from_llama2c(&read("model.bin"), &read("tokenizer.bin")).unwrap();
    let load = start.elapsed().as_secs_f64();
    let opts = SampleOptions {
        temperature: 0.0,
        ..SampleOptions::default()
    };
    let mut g = Generator::new(&net, "Once upon a time", OutputMode::Logits, opts).unwrap();
    g.next_token().unwrap(); // BOS and the prompt, then the first token
    let n = 200;
    let start = Instant::now();
    for _ in 0..n {
        g.next_token().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "native llama2.c stories15M shape (one thread): {:.0} tokens/s ({:.2} ms/token, {n} tokens with the KV cache; loaded in {:.2} s)",
        n as f64 / secs,
        secs * 1e3 / n as f64,
        load
    );
}
