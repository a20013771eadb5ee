//! GPT-2 small (124 M parameters, random weights of its shape) generating token by token with
//! the KV cache, natively on one thread: the same plain-array forward pass the page runs, in
//! f32 and quantised to Q8_0, side by side.
//! `./build.sh bench-gpt2` makes the checkpoint and runs this beside PyTorch and Chromium;
//! by hand: `GPT2_DIR=target/gpt2-small cargo bench --bench gpt2_small`.

use std::time::Instant;

use logitlab::model::quant::QType;
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
    let q8 = net.quantized(QType::Q8_0).unwrap();
    let opts = SampleOptions {
        temperature: 0.0,
        ..SampleOptions::default()
    };
    // The f32 model and its Q8_0 copy, in alternating rounds of 16 tokens: on a shared machine
    // both see the same load, and the ratio is what is compared.
    let (rounds, per) = (4, 16);
    let mut secs = [0f64; 2];
    let mut gens: Vec<Generator> = [&net, &q8]
        .map(|m| {
            let mut g =
                Generator::new(m, "Romeo:\nBut soft", OutputMode::Logits, opts.clone()).unwrap();
            g.next_token().unwrap(); // the prompt's prefill and the first token
            g
        })
        .into();
    for _ in 0..rounds {
        for (g, s) in gens.iter_mut().zip(&mut secs) {
            let start = Instant::now();
            for _ in 0..per {
                g.next_token().unwrap();
            }
            *s += start.elapsed().as_secs_f64();
        }
    }
    let n = rounds * per;
    for (name, s) in ["f32", "Q8_0"].iter().zip(secs) {
        println!(
            "native GPT-2 small {name} (one thread): {:.1} tokens/s ({:.1} ms/token, {n} tokens with the KV cache)",
            n as f64 / s,
            s * 1e3 / n as f64,
        );
    }
    println!(
        "Q8_0 against f32: {:.2}× the speed; weights {} against {} bytes; loaded in {load:.2} s",
        secs[0] / secs[1],
        q8.weight_bytes(),
        net.weight_bytes()
    );
}
