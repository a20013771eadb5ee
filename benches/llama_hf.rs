//! A Hugging Face Llama folder stored in f32 and in bf16 (the same bf16-rounded random weights;
//! SmolLM2-135M's width, heads and MLP, 8 of its 30 layers and a vocabulary of 8 192, so 33 M
//! parameters), generating greedily token by token with the KV cache, natively on one thread:
//! the memory each holds and the time per token. `cargo bench --bench llama_hf`.

use std::time::Instant;

use logitlab::model::format::hf_llama;
use logitlab::model::{KvCache, Net, OutputMode};

/// `config.json` and `model.safetensors` of the model, its weights stored as `dtype`.
fn folder(dtype: safetensors::Dtype) -> (Vec<u8>, Vec<u8>) {
    let config = serde_json::json!({
        "architectures": ["LlamaForCausalLM"], "vocab_size": 8192, "hidden_size": 576,
        "intermediate_size": 1536, "num_hidden_layers": 8, "num_attention_heads": 9,
        "num_key_value_heads": 3, "max_position_embeddings": 512, "tie_word_embeddings": true,
    });
    let config = serde_json::to_vec(&config).unwrap();
    let (net_config, _) = hf_llama::read_config(&config).unwrap();
    let mut state = 1u32;
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = net_config
        .layout()
        .into_iter()
        .map(|p| {
            let bytes = (0..p.elem_count())
                .flat_map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    // A bf16 of magnitude below 1/16, random sign and mantissa.
                    let bits = ((state >> 16) as u16 & 0x81ff) | 0x3c00;
                    match dtype {
                        safetensors::Dtype::BF16 => bits.to_le_bytes().to_vec(),
                        _ => f32::from_bits(u32::from(bits) << 16).to_le_bytes().to_vec(),
                    }
                })
                .collect();
            (p.hf_name.clone(), p.hf_shape(), bytes)
        })
        .collect();
    let views = tensors.iter().map(|(name, shape, bytes)| {
        let view = safetensors::tensor::TensorView::new(dtype, shape.clone(), bytes).unwrap();
        (name.clone(), view)
    });
    (config, safetensors::serialize(views, None).unwrap())
}

fn main() {
    let tokenizer = include_bytes!("../tests/fixtures/llama/tokenizer.json");
    for dtype in [safetensors::Dtype::F32, safetensors::Dtype::BF16] {
        let (config, model) = folder(dtype);
        let net = Net::from_hf(&[
            ("config.json", &config),
            ("model.safetensors", &model),
            ("tokenizer.json", tokenizer),
        ])
        .unwrap();
        let mut cache = KvCache::new();
        let mut next = 1u32;
        let step = |cache: &mut KvCache, id: u32| {
            let z = net
                .forward_cached(cache, &[id], OutputMode::Logits)
                .unwrap();
            (0..z.len()).fold(0, |b, j| if z[j] > z[b] { j } else { b }) as u32
        };
        for _ in 0..20 {
            next = step(&mut cache, next); // warm-up
        }
        let n = 200;
        let start = Instant::now();
        for _ in 0..n {
            next = step(&mut cache, next);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "native Llama {} weights ({} MB held, one thread): {:.0} tokens/s ({:.2} ms/token, \
             {n} tokens with the KV cache)",
            net.dtype().name(),
            net.weight_bytes() / 1_000_000,
            n as f64 / secs,
            secs * 1e3 / n as f64
        );
    }
}
