//! Hugging Face Llama, Qwen2 and Qwen3 folders against the reference fixtures of
//! `tests/fixtures/llama/` (made with transformers by `make_llama_fixtures.py`): logits and
//! greedy ids, the config the JS API shows, the memory a bf16 model takes, every refusal with
//! its error code, and the reference models' shapes. Every file is included with
//! `include_bytes!`, so the same tests also run in the browser.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use logitlab::error::Code;
use logitlab::model::format::hf_llama;
use logitlab::model::format::safetensors::Source;

use logitlab::model::{
    Dtype, Family, Generator, KvCache, Net, OutputMode, RopeLayout, RopeScaling, Variant,
};
use logitlab::sampling::SampleOptions;
use serde_json::{json, Map, Value};

struct Folder {
    name: &'static str,
    config: &'static [u8],
    generation: &'static [u8],
    model: &'static [u8],
    tokenizer: &'static [u8],
    expected: &'static str,
}

macro_rules! folder {
    ($name:literal) => {
        Folder {
            name: $name,
            config: include_bytes!(concat!("fixtures/llama/", $name, "/config.json")),
            generation: include_bytes!(concat!(
                "fixtures/llama/",
                $name,
                "/generation_config.json"
            )),
            model: include_bytes!(concat!("fixtures/llama/", $name, "/model.safetensors")),
            tokenizer: include_bytes!(concat!("fixtures/llama/", $name, "/tokenizer.json")),
            expected: include_str!(concat!("fixtures/llama/", $name, "/expected.json")),
        }
    };
}

fn folders() -> [Folder; 9] {
    [
        folder!("llama-tied-f32"),
        folder!("llama-untied-bf16"),
        folder!("llama-bias-bf16"),
        folder!("llama3-rope-f32"),
        folder!("qwen2-f32"),
        folder!("qwen2-bf16"),
        folder!("qwen2-f16"),
        folder!("qwen3-f32"),
        folder!("qwen3-bf16"),
    ]
}

impl Folder {
    fn files(&self) -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("config.json", self.config),
            ("generation_config.json", self.generation),
            ("model.safetensors", self.model),
            ("tokenizer.json", self.tokenizer),
        ]
    }

    fn net(&self) -> Net {
        Net::from_hf(&self.files()).unwrap()
    }

    fn expected(&self) -> Value {
        serde_json::from_str(self.expected).unwrap()
    }
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as u32)
        .collect()
}

/// Each prompt's ids, and every position's logits within 1e-4 of transformers'.
#[test]
fn logits_match_transformers() {
    for f in folders() {
        let net = f.net();
        let want = f.expected();
        let v = net.config().vocab_size;
        let mut worst = 0f64;
        for p in want["prompts"].as_array().unwrap() {
            let prompt_ids = ids(&p["ids"]);
            let text = p["text"].as_str().unwrap();
            assert_eq!(net.encode(text).unwrap(), prompt_ids, "{}", f.name);
            let got = net.forward_ids(&prompt_ids, OutputMode::Logits).unwrap();
            let rows = p["logits"].as_array().unwrap();
            assert_eq!(rows.len(), prompt_ids.len());
            for (t, row) in rows.iter().enumerate() {
                let row = row.as_array().unwrap();
                assert_eq!(row.len(), v);
                for (j, z) in row.iter().enumerate() {
                    let d = (f64::from(got[t * v + j]) - z.as_f64().unwrap()).abs();
                    worst = worst.max(d);
                }
            }
        }
        println!("{}: max |Δlogit| = {worst:.2e}", f.name);
        assert!(worst < 1e-4, "{}: max |Δlogit| = {worst}", f.name);
    }
}

/// The next-token values (the classifier on the last position alone) are the last row of every
/// position's, bit for bit: from scratch, and after a cached prefix, in both output modes.
#[test]
fn the_last_position_alone_is_the_last_row() {
    for f in folders() {
        let net = f.net();
        let v = net.config().vocab_size;
        let prompt = ids(&f.expected()["prompts"][0]["ids"]);
        assert!(prompt.len() >= 2, "{}", f.name);
        let (head, tail) = prompt.split_at(prompt.len() / 2);
        for mode in [OutputMode::Logits, OutputMode::LogSoftmax] {
            let all = net.forward_ids(&prompt, mode).unwrap();
            let last = &all[all.len() - v..];
            assert_eq!(
                net.next_token_values(&prompt, mode).unwrap(),
                last,
                "{}",
                f.name
            );
            let cached = |last_only: bool| {
                let mut cache = KvCache::new();
                net.forward_cached(&mut cache, head, mode).unwrap();
                if last_only {
                    net.forward_cached_last(&mut cache, tail, mode).unwrap()
                } else {
                    let all = net.forward_cached(&mut cache, tail, mode).unwrap();
                    all[all.len() - v..].to_vec()
                }
            };
            assert_eq!(cached(true), cached(false), "{}", f.name);
        }
    }
}

/// Greedy decoding with the KV cache, one token at a time as the page generates, gives
/// transformers' 64 ids.
#[test]
fn greedy_ids_match_transformers() {
    for f in folders() {
        let net = f.net();
        let want = f.expected();
        let mut cache = KvCache::new();
        let mut pending = ids(&want["prompts"][0]["ids"]);
        let v = net.config().vocab_size;
        let mut greedy = Vec::new();
        for _ in 0..64 {
            let values = net
                .forward_cached(&mut cache, &pending, OutputMode::Logits)
                .unwrap();
            let last = &values[values.len() - v..];
            let best = (0..v).fold(0, |b, j| if last[j] > last[b] { j } else { b }) as u32;
            greedy.push(best);
            pending = vec![best];
        }
        assert_eq!(greedy, ids(&want["greedy"]), "{}", f.name);
    }
}

/// What each folder's config says, as the model holds it: architecture, head width, rotary
/// layout and scaling, biases, dtype as held, end-of-text ids (generation_config.json's win).
#[test]
fn configs_are_read_as_the_family_describes() {
    for f in folders() {
        let net = f.net();
        let c = net.config();
        let Family::Llama(l) = c.arch.family else {
            panic!("{}: not a Llama", f.name)
        };
        let want = f.expected();
        assert_eq!(
            net.dtype().name(),
            want["dtype"].as_str().unwrap(),
            "{}",
            f.name
        );
        assert_eq!(l.rope.layout, RopeLayout::RotateHalf, "{}", f.name);
        assert_eq!((c.embd, c.heads, l.kv_heads, c.layers), (32, 4, 2, 2));
        assert_eq!(
            (c.vocab_size, c.context_length, c.mlp_width()),
            (320, 128, 64)
        );
        let (variant, head_dim, qkv, o, mlp, qk_norm) = match f.name {
            "llama-bias-bf16" => (Variant::Llama, 8, true, true, true, false),
            n if n.starts_with("llama") => (Variant::Llama, 8, false, false, false, false),
            n if n.starts_with("qwen2") => (Variant::Qwen2, 8, true, false, false, false),
            _ => (Variant::Qwen3, 16, false, false, false, true),
        };
        assert_eq!(
            (l.variant, l.head_dim, l.qkv_bias, l.o_bias, l.mlp_bias, l.qk_norm),
            (variant, head_dim, qkv, o, mlp, qk_norm),
            "{}",
            f.name
        );
        let tied = !matches!(f.name, "llama-untied-bf16" | "llama3-rope-f32");
        assert_eq!(c.arch.tied_head, tied, "{}", f.name);
        let eos: &[u32] = if variant == Variant::Qwen3 {
            &[0, 5]
        } else {
            &[0]
        };
        assert_eq!(net.end_ids(), eos, "{}", f.name);
    }
    let c = *folder!("llama3-rope-f32").net().config();
    let Family::Llama(l) = c.arch.family else {
        unreachable!()
    };
    assert_eq!(
        l.rope.scaling,
        RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 64
        }
    );
    // hd 8, θ 10 000: wavelengths 2π·(1, 10, 100, 1000); original 64 keeps those below
    // 64/4 = 16, divides those above 64/1 = 64 by 8, and blends the one between.
    let f = l.rope.inv_freq(8);
    assert_eq!(f[0], 1.0);
    assert!((f[2] - 0.01 / 8.0).abs() < 1e-9, "{f:?}");
    assert!((f[3] - 0.001 / 8.0).abs() < 1e-10, "{f:?}");
    let smooth = (64.0 / (2.0 * std::f32::consts::PI / 0.1) - 1.0) / 3.0;
    assert!((f[1] - ((1.0 - smooth) * 0.1 / 8.0 + smooth * 0.1)).abs() < 1e-7);
    let c = *folder!("llama-untied-bf16").net().config();
    let Family::Llama(l) = c.arch.family else {
        unreachable!()
    };
    assert_eq!(l.rope.scaling, RopeScaling::Linear { factor: 2.0 });
    assert_eq!(l.rope.theta, 500_000.0);
}

/// A text ends at an end-of-text id: Generator reports `end` and gives no further token.
#[test]
fn generation_ends_at_an_end_of_text_id() {
    let f = folder!("qwen3-bf16");
    let want = f.expected();
    let first = ids(&want["greedy"])[0];
    let net = f.net().with_end_ids(vec![first]).unwrap();
    let options = SampleOptions {
        temperature: 0.0,
        seed: Some(1),
        ..SampleOptions::default()
    };
    let prompt = want["prompts"][0]["text"].as_str().unwrap();
    let mut g = Generator::new(&net, prompt, OutputMode::Logits, options).unwrap();
    let token = g.next_token().unwrap();
    assert_eq!((token.token, token.end), (first, true));
    assert!(g.next_token().is_err());
    assert!(f.net().with_end_ids(vec![320]).is_err());
}

/// A bf16 or f16 model keeps its matrices in 16 bits: half the bytes of the same model in f32.
#[test]
fn sixteen_bit_weights_are_kept_in_sixteen_bits() {
    let f32_net = folder!("qwen2-f32").net();
    for f in [folder!("qwen2-bf16"), folder!("qwen2-f16")] {
        let net = f.net();
        let ratio = net.weight_bytes() as f64 / f32_net.weight_bytes() as f64;
        assert!(ratio < 0.55, "{}: {ratio}", f.name);
        assert_ne!(net.dtype(), Dtype::F32);
        // Every parameter, widened to f32 on request (as an export would read them).
        let layout = net.config().layout();
        let widened = net.tensors();
        assert_eq!(widened.len(), layout.len());
        for (p, values) in layout.iter().zip(&widened) {
            assert_eq!(values.len(), p.elem_count(), "{}", p.name);
        }
    }
}

// ---- refusals -------------------------------------------------------------------------

/// The error from loading `folder` with `config.json` edited by `edit`.
fn config_error(f: &Folder, edit: impl FnOnce(&mut Map<String, Value>)) -> logitlab::error::Error {
    let mut json: Value = serde_json::from_slice(f.config).unwrap();
    edit(json.as_object_mut().unwrap());
    let config = serde_json::to_vec(&json).unwrap();
    let mut files = f.files();
    files[0].1 = &config;
    Net::from_hf(&files).expect_err("refused")
}

/// `model.safetensors` with its header edited by `edit` (the data as it was).
fn edited_model(model: &[u8], edit: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    let n = u64::from_le_bytes(model[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&model[8..8 + n]).unwrap();
    edit(header.as_object_mut().unwrap());
    let header = serde_json::to_vec(&header).unwrap();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header);
    out.extend(&model[8 + n..]);
    out
}

fn model_error(f: &Folder, edit: impl FnOnce(&mut Map<String, Value>)) -> logitlab::error::Error {
    let model = edited_model(f.model, edit);
    let mut files = f.files();
    files[2].1 = &model;
    Net::from_hf(&files).expect_err("refused")
}

fn check(e: logitlab::error::Error, code: Code, message: &str) {
    assert_eq!(e.code(), Some(code), "{e}");
    assert!(e.to_string().contains(message), "{e}\n  wants: {message}");
}

#[test]
fn unsupported_architectures_are_refused_by_name() {
    let f = folder!("llama-tied-f32");
    let e = config_error(&f, |c| {
        c.insert("architectures".into(), json!(["Gemma3ForCausalLM"]));
    });
    assert_eq!(
        e.to_string(),
        "config.json: Gemma3ForCausalLM is not supported; supported: LlamaForCausalLM, \
         Qwen2ForCausalLM, Qwen3ForCausalLM, GPT2LMHeadModel"
    );
    assert_eq!(e.code(), Some(Code::ModelArchitecture));
    // Without architectures, model_type decides.
    let e = config_error(&f, |c| {
        c.remove("architectures");
        c.insert("model_type".into(), json!("mistral"));
    });
    check(e, Code::ModelArchitecture, "mistral is not supported");
    let net = {
        let mut json: Value = serde_json::from_slice(f.config).unwrap();
        json.as_object_mut().unwrap().remove("architectures");
        let config = serde_json::to_vec(&json).unwrap();
        let mut files = f.files();
        files[0].1 = &config;
        Net::from_hf(&files).unwrap()
    };
    assert_eq!(net.config().llama().unwrap().variant, Variant::Llama);
}

#[test]
fn config_fields_that_disagree_are_refused_naming_the_field() {
    let llama = folder!("llama-tied-f32");
    let qwen2 = folder!("qwen2-f32");
    let qwen3 = folder!("qwen3-f32");
    // Heads that do not divide the width, without head_dim.
    let e = config_error(&llama, |c| {
        c.remove("head_dim");
        c.insert("num_attention_heads".into(), json!(3));
        c.insert("num_key_value_heads".into(), json!(3));
    });
    // The page's sentence quotes the other field alone, in no language.
    assert!(e
        .params()
        .iter()
        .any(|(k, v)| *k == "other" && *v == "num_attention_heads = 3".into()));
    check(
        e,
        Code::ModelConfigMismatch,
        "config.json: hidden_size = 32 (there is no head_dim) is not a multiple of \
         num_attention_heads = 3",
    );
    // Heads of an odd width, without head_dim: hidden_size and the heads are to blame.
    let e = config_error(&llama, |c| {
        c.remove("head_dim");
        c.insert("num_attention_heads".into(), json!(32));
        c.insert("num_key_value_heads".into(), json!(32));
    });
    check(
        e,
        Code::ModelHeadWidth,
        "config.json: hidden_size = 32 (there is no head_dim: each head is hidden_size / \
         num_attention_heads = 1 wide, and rotary embeddings need an even width) does not fit \
         num_attention_heads = 32",
    );
    // Key/value heads that do not divide the heads.
    let e = config_error(&llama, |c| {
        c.insert("num_key_value_heads".into(), json!(3));
    });
    check(
        e,
        Code::ModelConfigMismatch,
        "config.json: num_key_value_heads = 3 does not divide num_attention_heads = 4",
    );
    // A head_dim the tensors do not have.
    let e = config_error(&qwen3, |c| {
        c.insert("head_dim".into(), json!(8));
    });
    check(
        e,
        Code::ModelTensorShape,
        "model.safetensors: tensor \"model.layers.0.self_attn.q_proj.weight\" has shape \
         [64, 32]; config.json (hidden_size, num_attention_heads, num_key_value_heads and \
         head_dim = 8) implies [32, 32]",
    );
    let e = config_error(&qwen3, |c| {
        c.insert("head_dim".into(), json!(7));
    });
    check(e, Code::ModelConfigValue, "config.json: head_dim is 7");
    // Unknown rotary scalings, in both spellings of the config.
    let e = config_error(&llama, |c| {
        c.insert(
            "rope_parameters".into(),
            json!({"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0}),
        );
    });
    check(
        e,
        Code::ModelConfigValue,
        "config.json: rope_parameters.rope_type is \"dynamic\"; only \"default\", \"linear\" and \
         \"llama3\" are supported",
    );
    let e = config_error(&llama, |c| {
        c.remove("rope_parameters");
        c.insert("rope_theta".into(), json!(10000.0));
        c.insert(
            "rope_scaling".into(),
            json!({"type": "yarn", "factor": 4.0}),
        );
    });
    check(
        e,
        Code::ModelConfigValue,
        "config.json: rope_scaling.type is \"yarn\"",
    );
    let e = config_error(&llama, |c| {
        c.insert(
            "rope_parameters".into(),
            json!({"rope_type": "llama3", "factor": 8.0, "rope_theta": 10000.0}),
        );
    });
    check(
        e,
        Code::ModelConfigMissing,
        "config.json: rope_parameters.low_freq_factor is missing",
    );
    // Sliding-window attention.
    let e = config_error(&qwen2, |c| {
        c.insert("use_sliding_window".into(), json!(true));
    });
    check(e, Code::ModelSlidingWindow, "use_sliding_window is true");
    // Fields missing, of the wrong type, out of range.
    let e = config_error(&qwen2, |c| {
        c.remove("vocab_size");
    });
    check(
        e,
        Code::ModelConfigMissing,
        "config.json: vocab_size is missing",
    );
    let e = config_error(&qwen2, |c| {
        c.insert("hidden_act".into(), json!("gelu"));
    });
    check(
        e,
        Code::ModelConfigValue,
        "config.json: hidden_act is \"gelu\"",
    );
    let e = config_error(&qwen2, |c| {
        c.insert("num_hidden_layers".into(), json!(1e9));
    });
    check(
        e,
        Code::ModelConfigValue,
        "num_hidden_layers is 1000000000.0",
    );
    let e = config_error(&qwen2, |c| {
        c.insert("eos_token_id".into(), json!([0, 320]));
    });
    check(
        e,
        Code::ModelConfigValue,
        "config.json: eos_token_id is [0,320]",
    );
    let e = config_error(&qwen2, |c| {
        c.insert("attention_bias".into(), json!(true));
        c.insert("architectures".into(), json!(["LlamaForCausalLM"]));
    });
    // A Llama with biases the file lacks.
    check(
        e,
        Code::ModelTensorMissing,
        "missing tensor \"model.layers.0.self_attn.o_proj.bias\"",
    );
    // generation_config.json's eos too.
    let mut files = qwen2.files();
    files[1].1 = br#"{"eos_token_id": "x"}"#;
    let e = Net::from_hf(&files).expect_err("refused");
    check(
        e,
        Code::ModelConfigValue,
        "generation_config.json: eos_token_id is \"x\"",
    );
}

#[test]
fn tensors_missing_of_the_wrong_shape_or_dtype_are_refused_by_name() {
    let f = folder!("llama-untied-bf16");
    let rename = |from: &'static str, to: &'static str| {
        move |h: &mut Map<String, Value>| {
            let v = h.remove(from).unwrap();
            h.insert(to.into(), v);
        }
    };
    let e = model_error(&f, rename("lm_head.weight", "head.weight"));
    check(
        e,
        Code::ModelTensorMissing,
        "model.safetensors: missing tensor \"lm_head.weight\" (config.json has \
         tie_word_embeddings false)",
    );
    let e = model_error(
        &f,
        rename(
            "model.layers.1.mlp.up_proj.weight",
            "model.layers.1.mlp.up.weight",
        ),
    );
    assert_eq!(
        e.params()[0],
        ("tensor", "model.layers.1.mlp.up_proj.weight".into())
    );
    check(e, Code::ModelTensorMissing, "up_proj.weight");
    let e = model_error(&f, |h| {
        h["model.layers.0.self_attn.k_proj.weight"]["shape"] = json!([32, 16]);
    });
    check(
        e,
        Code::ModelTensorShape,
        "tensor \"model.layers.0.self_attn.k_proj.weight\" has shape [32, 16]",
    );
    let e = model_error(&f, |h| {
        h["model.layers.0.mlp.down_proj.weight"]["dtype"] = json!("I16");
    });
    check(
        e,
        Code::ModelTensorDtype,
        "tensor \"model.layers.0.mlp.down_proj.weight\" has dtype I16; F32, F16 or BF16 is \
         needed",
    );
    let e = model_error(&f, |h| {
        h["model.layers.0.mlp.down_proj.weight"]["dtype"] = json!("F16");
    });
    check(
        e,
        Code::ModelTensorDtype,
        "the weight matrices must all be of one dtype, and \"model.embed_tokens.weight\" is BF16",
    );
    // A vector may be of another dtype than the matrices: it is widened to f32 anyway.
    let mixed = edited_model(f.model, |h| {
        h["model.norm.weight"]["dtype"] = json!("F16");
    });
    let mut files = f.files();
    files[2].1 = &mixed;
    assert!(Net::from_hf(&files).is_ok());
    // The tiling checks shared with GPT-2's reader still hold.
    let e = model_error(&f, |h| {
        h["model.norm.weight"]["data_offsets"] = json!([0, 64]);
    });
    assert!(e.to_string().contains("overlap"), "{e}");
    // Non-finite weights.
    let mut nan = f.model.to_vec();
    let n = u64::from_le_bytes(nan[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&nan[8..8 + n]).unwrap();
    let start = header["model.embed_tokens.weight"]["data_offsets"][0]
        .as_u64()
        .unwrap() as usize;
    nan[8 + n + start..8 + n + start + 2].copy_from_slice(&0x7fc0u16.to_le_bytes());
    let mut files = f.files();
    files[2].1 = &nan;
    let e = Net::from_hf(&files).expect_err("NaN");
    assert!(e.to_string().contains("holds NaN at index 0"), "{e}");
}

/// The reference models' configs (as their hub pages have them, transformers 4 field names)
/// parse, and the layout counts transformers' parameters for each.
#[test]
fn reference_shapes_count_transformers_parameters() {
    let shapes: Value =
        serde_json::from_str(include_str!("fixtures/llama/reference_shapes.json")).unwrap();
    let shapes = shapes.as_array().unwrap();
    assert_eq!(shapes.len(), 4);
    for s in shapes {
        let name = s["name"].as_str().unwrap();
        let bytes = serde_json::to_vec(&s["config"]).unwrap();
        let (config, eos) = hf_llama::read_config(&bytes).unwrap();
        assert_eq!(
            config.parameter_count(),
            s["parameters"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(eos, [s["config"]["eos_token_id"].as_u64().unwrap() as u32]);
        let l = config.llama().unwrap();
        let theta = s["config"]["rope_theta"].as_f64().unwrap();
        assert_eq!((l.rope.theta, l.rope.scaling), (theta, RopeScaling::None));
        let positions = s["config"]["max_position_embeddings"].as_u64().unwrap() as usize;
        assert_eq!(config.context_length, positions.min(4096), "{name}");
    }
    // The figures the fixtures' README quotes.
    let count = |i: usize| shapes[i]["parameters"].as_u64().unwrap();
    assert_eq!(
        (count(0), count(1), count(2), count(3)),
        (134_515_008, 494_032_768, 596_049_920, 1_100_048_384)
    );
}

// ---- memory -----------------------------------------------------------------------------

#[cfg(not(target_arch = "wasm32"))]
mod memory {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Counts the bytes each thread holds, so a test can measure what loading keeps.
    struct Counting;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = LIVE.try_with(|l| l.set(l.get() + layout.size() as isize));
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let _ = LIVE.try_with(|l| l.set(l.get() - layout.size() as isize));
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            let _ = LIVE.try_with(|l| l.set(l.get() + new as isize - layout.size() as isize));
            unsafe { System.realloc(ptr, layout, new) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    fn live() -> isize {
        LIVE.with(Cell::get)
    }

    /// A random Llama folder of 1.3 M parameters stored as `dtype` ("BF16" or "F32", the same
    /// bf16-rounded values), with the fixtures' tokenizer.
    fn folder(dtype: &str) -> (Vec<u8>, Vec<u8>) {
        let (v, c, hidden, layers) = (2048usize, 128usize, 384usize, 4usize);
        let config = json!({
            "architectures": ["LlamaForCausalLM"], "vocab_size": v, "hidden_size": c,
            "intermediate_size": hidden, "num_hidden_layers": layers,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
            "tie_word_embeddings": false,
        });
        let config = serde_json::to_vec(&config).unwrap();
        let (net_config, _) = hf_llama::read_config(&config).unwrap();
        let mut state = 12345u32;
        let mut tensors = Vec::new();
        for p in net_config.layout() {
            let bits: Vec<u16> = (0..p.elem_count())
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    // |x| < 0.125: exponent 0x3c or less, random mantissa and sign.
                    (state >> 16) as u16 & 0x81ff | 0x3c00
                })
                .collect();
            let bytes: Vec<u8> = match dtype {
                "BF16" => bits.iter().flat_map(|b| b.to_le_bytes()).collect(),
                _ => bits
                    .iter()
                    .flat_map(|&b| f32::from_bits(u32::from(b) << 16).to_le_bytes())
                    .collect(),
            };
            tensors.push((p.hf_name.clone(), p.hf_shape(), bytes));
        }
        let dt = match dtype {
            "BF16" => safetensors::Dtype::BF16,
            _ => safetensors::Dtype::F32,
        };
        let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
            .iter()
            .map(|(n, s, b)| {
                let view = safetensors::tensor::TensorView::new(dt, s.clone(), b).unwrap();
                (n.clone(), view)
            })
            .collect();
        (config, safetensors::serialize(views, None).unwrap())
    }

    /// A bf16 model holds at most 0.6× the bytes of the same model in f32, measured by the
    /// allocator while the loaded model is alive; and both compute the same logits (widening
    /// bf16 is exact).
    #[test]
    fn a_bf16_model_holds_at_most_six_tenths_of_its_f32_bytes() {
        let tokenizer = include_bytes!("fixtures/llama/tokenizer.json");
        let mut held = Vec::new();
        let mut logits = Vec::new();
        for dtype in ["BF16", "F32"] {
            let (config, model) = folder(dtype);
            let before = live();
            let net = Net::from_hf(&[
                ("config.json", &config),
                ("model.safetensors", &model),
                ("tokenizer.json", tokenizer),
            ])
            .unwrap();
            held.push((live() - before) as f64);
            logits.push(net.forward_ids(&[1, 2, 3], OutputMode::Logits).unwrap());
            println!(
                "{dtype}: {} bytes held, weights {}",
                held[held.len() - 1],
                net.weight_bytes()
            );
            drop(net);
        }
        let ratio = held[0] / held[1];
        assert!(held[1] > 4.0e6, "{held:?}");
        assert!(ratio <= 0.6, "bf16 / f32 = {ratio}");
        assert_eq!(logits[0], logits[1]);
    }
}

/// A full context slides a rotary cache (llama.cpp's context shift): the last positions' keys
/// are turned back to positions 0.. . In the first layer, whose keys and values depend on the
/// tokens alone, they are a fresh prefill's; the deeper layers keep what the dropped tokens gave
/// them, so the logits that follow differ from a fresh run's. Generation goes on past the
/// context without recomputing it.
#[test]
fn a_full_context_shifts_a_rotary_cache() {
    for f in [folder!("llama-tied-f32"), folder!("qwen3-f32")] {
        let (name, net) = (f.name, f.net());
        let ids: Vec<u32> = (0..24).map(|i| (i * 37 % 300) as u32).collect();
        let mut shifted = KvCache::new();
        net.forward_cached(&mut shifted, &ids, OutputMode::Logits)
            .unwrap();
        assert!(net.shift_cache(&mut shifted, 10));
        assert_eq!(shifted.len(), 10);
        let mut fresh = KvCache::new();
        net.forward_cached(&mut fresh, &ids[14..], OutputMode::Logits)
            .unwrap();
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4);
        let ((ks, vs), (kf, vf)) = (shifted.layer(0), fresh.layer(0));
        assert_eq!((ks.len(), vs.len()), (kf.len(), vf.len()), "{name}");
        assert!(
            close(ks, kf) && vs == vf,
            "{name}: layer 0 as a fresh prefill's"
        );
        assert!(
            !close(shifted.layer(1).0, fresh.layer(1).0),
            "{name}: layer 1 remembers"
        );
        // The next token, at position 10 in both.
        let a = net
            .forward_cached(&mut shifted, &[5], OutputMode::Logits)
            .unwrap();
        let b = net
            .forward_cached(&mut fresh, &[5], OutputMode::Logits)
            .unwrap();
        assert_eq!(a.len(), b.len());
        // Generation past the context: every token after the first shift costs one row.
        let ctx = net.config().context_length;
        let mut g =
            Generator::new(&net, "a", OutputMode::Logits, SampleOptions::default()).unwrap();
        for _ in 0..ctx + 5 {
            if g.next_token().unwrap().end {
                break;
            }
        }
    }
}

/// Generation through a sampler chain handles the prompt's BOS and a full context as
/// `Generator` does: greedily, both give the same tokens past the context (a shifted rotary
/// cache) until the model ends the text.
#[test]
fn chain_generation_keeps_the_window_as_generator_does() {
    use logitlab::lab::chain::ChainGenerator;
    use logitlab::sampling::chain::from_url;
    for f in [folder!("llama-tied-f32"), folder!("qwen3-f32")] {
        let (name, net) = (f.name, f.net());
        let greedy = SampleOptions {
            temperature: 0.0,
            ..SampleOptions::default()
        };
        let mut g = Generator::new(&net, "a", OutputMode::Logits, greedy).unwrap();
        let steps = from_url("t_0").unwrap();
        let mut c = ChainGenerator::new(&net, "a", OutputMode::Logits, steps, Some(0)).unwrap();
        assert_eq!(g.tokens(), c.tokens(), "{name}");
        let n = net.config().context_length + 5;
        for i in 0..n {
            let (a, b) = (g.next_token().unwrap(), c.next_token().unwrap());
            assert_eq!((a.token, a.end), (b.token, b.end), "{name}, token {i}");
            if a.end {
                break;
            }
        }
    }
}

// ---- read as it arrives -----------------------------------------------------------------

/// The folder `f` with `model` as its `model.safetensors`, fed to [`Net::hf_reader`] in parts
/// whose sizes a small generator picks from `seed` (single bytes, odd sizes, whole kilobytes
/// and more), its length known or not.
fn streamed(f: &Folder, model: &[u8], seed: u64, known: bool) -> logitlab::error::Result<Net> {
    let len = known.then_some(model.len());
    let mut reader = Net::hf_reader(f.config, f.tokenizer, Some(f.generation), len)?;
    let mut state = seed;
    let mut at = 0;
    while at < model.len() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pick = (state >> 33) as usize;
        let size = match pick % 4 {
            0 => 1 + pick / 4 % 3,
            1 => 1 + pick / 4 % 97,
            2 => 1 + pick / 4 % 4096,
            _ => 1 + pick / 4 % 65_536,
        };
        let end = (at + size).min(model.len());
        reader.push(&model[at..end])?;
        at = end;
    }
    assert_eq!(reader.received(), model.len());
    reader.finish()
}

/// The network read whole from the folder `f` with `model` as its `model.safetensors`.
fn whole(f: &Folder, model: &[u8]) -> logitlab::error::Result<Net> {
    Net::from_hf_parts(
        f.config,
        Source::Bytes(&model),
        f.tokenizer,
        Some(f.generation),
    )
}

/// Every weight's bits as held, and the dtype it is held in: two networks compare bit for bit
/// (widening to f32 is exact and one to one, so equal widened bits are equal stored values).
fn bits(n: &Net) -> (Dtype, Vec<Vec<u32>>) {
    let values = n.tensors();
    let bits = values
        .iter()
        .map(|t| t.iter().map(|x| x.to_bits()).collect())
        .collect();
    (n.dtype(), bits)
}

/// The streaming reader, fed each folder's `model.safetensors` in random part sizes with its
/// length known and not, gives the very network the whole file gives, bit for bit.
#[test]
fn model_safetensors_read_as_it_arrives_equals_it_read_whole() {
    for f in folders() {
        let one = whole(&f, f.model).unwrap();
        for (seed, known) in [(1, true), (2, false), (3, true), (4, false), (5, true)] {
            let parts = streamed(&f, f.model, seed, known).unwrap();
            assert_eq!(parts.config(), one.config(), "{}", f.name);
            assert_eq!(parts.end_ids(), one.end_ids(), "{}", f.name);
            assert!(bits(&parts) == bits(&one), "{} seed {seed}", f.name);
        }
        // And it computes the same logits, bit for bit.
        let parts = streamed(&f, f.model, 9, true).unwrap();
        let ids = [1, 2, 3];
        let a = parts.next_token_values(&ids, OutputMode::Logits).unwrap();
        let b = one.next_token_values(&ids, OutputMode::Logits).unwrap();
        let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{}", f.name);
    }
}

/// A bad header is refused by the part that completes it, with the error reading the whole
/// file gives (its length known); a file that ends early, or goes on past its tensors, is
/// refused by name; a bad small file before any byte of the weights.
#[test]
fn model_safetensors_read_as_it_arrives_refuses_what_the_whole_file_refuses() {
    let f = folder!("llama-untied-bf16");
    let edits: [fn(&mut Map<String, Value>); 4] = [
        |h| h["model.norm.weight"]["data_offsets"] = json!([0, 64]),
        |h| h["model.norm.weight"]["data_offsets"] = json!([0, 1u64 << 40]),
        |h| h["model.layers.0.mlp.down_proj.weight"]["dtype"] = json!("I16"),
        |h| {
            h.remove("lm_head.weight");
        },
    ];
    for edit in edits {
        let model = edited_model(f.model, edit);
        let one = whole(&f, &model).expect_err("refused").to_string();
        let len = Some(model.len());
        let mut reader = Net::hf_reader(f.config, f.tokenizer, None, len).unwrap();
        // The header alone (and its 8-byte length) is enough for the refusal.
        let n = 8 + u64::from_le_bytes(model[..8].try_into().unwrap()) as usize;
        let e = reader.push(&model[..n]).expect_err("refused").to_string();
        assert_eq!(e, one);
        assert!(e.starts_with("model.safetensors: "), "{e}");
    }
    // Cut short, with the length known or not; or longer than its header declares.
    let cut = &f.model[..f.model.len() - 3];
    let e = streamed(&f, cut, 1, false).expect_err("short").to_string();
    assert!(e.contains("the file ended after"), "{e}");
    let len = Some(f.model.len());
    let mut reader = Net::hf_reader(f.config, f.tokenizer, None, len).unwrap();
    reader.push(cut).unwrap();
    let e = reader.finish().expect_err("short").to_string();
    assert!(e.contains("the file ended after"), "{e}");
    let mut longer = f.model.to_vec();
    longer.push(0);
    let e = streamed(&f, &longer, 1, false)
        .expect_err("long")
        .to_string();
    assert!(e.contains("has more bytes than the"), "{e}");
    // Cut within the header: the error reading those bytes whole gives.
    let e = streamed(&f, &f.model[..20], 1, false)
        .expect_err("short")
        .to_string();
    assert_eq!(e, whole(&f, &f.model[..20]).expect_err("short").to_string());
    // Small files that cannot make a model are refused before any byte of the weights.
    let e = Net::hf_reader(
        b"{\"architectures\": [\"Gemma3ForCausalLM\"]}",
        f.tokenizer,
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(Code::ModelArchitecture));
    let e = Net::hf_reader(f.config, b"{}", None, None).unwrap_err();
    assert!(e.to_string().starts_with("tokenizer.json: "), "{e}");
}
