//! The JS-facing layer in a real browser: conversions, validation and error messages of the
//! wasm-bindgen exports. The maths itself is covered by tests/numerics.rs, tests/sampling.rs and
//! tests/loss.rs, which run here too.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Float32Array, Int32Array, Object, Reflect};
use logitlab::wasm;
use logitlab::wasm::model::{Model, ModelReader};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    v.dyn_into::<js_sys::Error>()
        .expect("a JS Error")
        .message()
        .into()
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap()
}

fn f32s(xs: &[f32]) -> JsValue {
    Float32Array::from(xs).into()
}

#[wasm_bindgen_test]
fn softmax_accepts_typed_and_plain_arrays() {
    let p = wasm::numerics::softmax(f32s(&[1.0, 2.0, 3.0]), None)
        .unwrap()
        .to_vec();
    let d = 1f64.exp() + 2f64.exp() + 3f64.exp();
    assert!((p[2] as f64 - 3f64.exp() / d).abs() < 1e-7);
    let arr = Array::of3(&1.0.into(), &2.0.into(), &3.0.into());
    assert_eq!(
        wasm::numerics::softmax(arr.into(), Some(1.0))
            .unwrap()
            .to_vec(),
        p
    );
    let greedy = wasm::numerics::softmax(f32s(&[1.0, 3.0, 3.0]), Some(0.0))
        .unwrap()
        .to_vec();
    assert_eq!(greedy, vec![0.0, 1.0, 0.0]);
}

#[wasm_bindgen_test]
fn sample_returns_the_contract_fields() {
    let o = obj(&[
        ("temperature", 0.8.into()),
        ("topK", 2.into()),
        ("seed", 42.into()),
    ]);
    let r = wasm::sampling::sample(f32s(&[0.5, 2.0, 1.0, -1.0]), o.clone()).unwrap();
    let probs = get(&r, "probs")
        .dyn_into::<Float32Array>()
        .unwrap()
        .to_vec();
    assert_eq!(probs.len(), 4);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert_eq!(probs[0], 0.0);
    assert_eq!(probs[3], 0.0);
    let token = get(&r, "token").as_f64().unwrap();
    assert!(token == 1.0 || token == 2.0);
    assert_eq!(get(&r, "seed").as_f64(), Some(42.0));
    // The same seed replays the same token.
    let again = wasm::sampling::sample(f32s(&[0.5, 2.0, 1.0, -1.0]), o).unwrap();
    assert_eq!(get(&again, "token").as_f64(), Some(token));
    // No options at all is fine, and the random seed is reported.
    let r = wasm::sampling::sample(f32s(&[0.0, 0.0]), JsValue::UNDEFINED).unwrap();
    assert!(get(&r, "seed").as_f64().unwrap() < 9.007_199_254_740_992e15);
}

#[wasm_bindgen_test]
fn junk_gives_errors_that_name_the_argument_and_the_module_survives() {
    let z = || f32s(&[1.0, 2.0]);
    let cases: Vec<(JsValue, JsValue, &str)> = vec![
        (
            "hello".into(),
            JsValue::UNDEFINED,
            "values must be a Float32Array",
        ),
        (
            JsValue::NULL,
            JsValue::UNDEFINED,
            "values must be a Float32Array",
        ),
        (f32s(&[]), JsValue::UNDEFINED, "values must not be empty"),
        (f32s(&[f32::NAN]), JsValue::UNDEFINED, "values[0] is NaN"),
        (
            z(),
            obj(&[("temperature", (-1).into())]),
            "temperature must be",
        ),
        (
            z(),
            obj(&[("temperature", "hot".into())]),
            "options.temperature must be a number",
        ),
        (z(), obj(&[("topK", 1.5.into())]), "topK must be an integer"),
        (
            z(),
            obj(&[("topP", 2.into())]),
            "topP must be a number in [0, 1]",
        ),
        (z(), obj(&[("minP", f64::NAN.into())]), "minP must be"),
        (
            z(),
            obj(&[("seed", (-3).into())]),
            "seed must be an integer",
        ),
        (
            z(),
            obj(&[("top_k", 3.into())]),
            "options has an unknown field `top_k`; expected one of temperature, topK, topP, \
             minP, seed, input",
        ),
        (
            z(),
            obj(&[("input", 3.into())]),
            "options.input must be a string, got 3",
        ),
        (
            z(),
            obj(&[("input", "softmax".into())]),
            "input must be one of",
        ),
        (z(), 5.into(), "options must be an object"),
    ];
    for (values, options, want) in cases {
        let e = message(wasm::sampling::sample(values, options).unwrap_err());
        assert!(e.contains(want), "{e:?} should contain {want:?}");
    }
    let p = wasm::numerics::softmax(z(), None).unwrap().to_vec();
    assert!((p[1] - 1.0 / (1.0 + (-1f32).exp())).abs() < 1e-7);
}

/// Every list argument is measured before anything is copied into wasm memory. A sparse JS
/// array of a huge `length` costs the test nothing to build; each kind of list says the same.
#[wasm_bindgen_test]
fn lengths_are_capped_before_anything_is_copied() {
    use logitlab::limits::{MAX_LOSS_VALUES, MAX_TEXT_BYTES, MAX_VALUES};
    let sparse = |n: usize| -> JsValue { Array::new_with_length(n as u32).into() };
    let e = message(wasm::numerics::softmax(sparse(MAX_VALUES + 1), None).unwrap_err());
    assert_eq!(
        e,
        "values has 4194305 entries; at most 4194304 are accepted"
    );
    let e = message(
        wasm::numerics::softmax(
            Float32Array::new_with_length(MAX_VALUES as u32 + 1).into(),
            None,
        )
        .unwrap_err(),
    );
    assert_eq!(
        e,
        "values has 4194305 entries; at most 4194304 are accepted"
    );
    let e = message(
        wasm::loss::loss(
            f32s(&[0.0, 1.0]),
            sparse(MAX_LOSS_VALUES + 1),
            JsValue::UNDEFINED,
        )
        .unwrap_err(),
    );
    assert_eq!(
        e,
        "targets has 16777217 entries; at most 16777216 are accepted"
    );
    let model = Model::from_bytes(js_bytes(include_bytes!(
        "../www/models/default.safetensors"
    )))
    .unwrap();
    let e = message(model.decode(sparse(MAX_TEXT_BYTES + 1)).unwrap_err());
    assert_eq!(e, "ids has 8388609 entries; at most 8388608 are accepted");
    // Exactly at the cap is read (and then judged on its contents).
    let e = message(wasm::numerics::softmax(sparse(MAX_VALUES), None).unwrap_err());
    assert!(e.starts_with("values[0] must be a number"), "{e}");
}

#[wasm_bindgen_test]
fn loss_binding_matches_hand_value_and_validates() {
    let opts = obj(&[("classes", 3.into())]);
    let r = wasm::loss::loss(
        f32s(&[1.0, 2.0, 3.0]),
        Int32Array::from(&[2][..]).into(),
        opts,
    )
    .unwrap();
    let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    assert!((get(&r, "loss").as_f64().unwrap() - (lse - 3.0)).abs() < 1e-6);
    let grad = get(&r, "grad").dyn_into::<Float32Array>().unwrap().to_vec();
    assert!((grad.iter().sum::<f32>()).abs() < 1e-6);
    let e = wasm::loss::loss(
        f32s(&[1.0; 3]),
        Int32Array::from(&[2][..]).into(),
        JsValue::UNDEFINED,
    );
    assert!(message(e.unwrap_err()).contains("options.classes is required"));
    let e = wasm::loss::loss(
        f32s(&[1.0; 3]),
        Array::of1(&0.5.into()).into(),
        obj(&[("classes", 3.into())]),
    );
    assert!(message(e.unwrap_err()).contains("targets[0] must be an integer"));
    let e = wasm::loss::loss(
        f32s(&[1.0; 3]),
        Int32Array::from(&[0][..]).into(),
        obj(&[("classes", 3.into()), ("reduction", "avg".into())]),
    );
    assert!(message(e.unwrap_err()).contains("reduction must be \"mean\" or \"sum\""));
}

#[wasm_bindgen_test]
fn pipeline_loss_binding_carries_the_gradient_to_the_logits() {
    let z = [1.0f32, 2.0, 3.0];
    let run = |pipeline: &str| {
        wasm::loss::pipeline_loss(
            f32s(&z),
            Int32Array::from(&[2][..]).into(),
            obj(&[("classes", 3.into()), ("pipeline", pipeline.into())]),
        )
        .unwrap()
    };
    let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    for pipeline in ["crossEntropyOnLogits", "nllOnLogSoftmax"] {
        let r = run(pipeline);
        assert!((get(&r, "loss").as_f64().unwrap() - (lse - 3.0)).abs() < 1e-6);
        let g = get(&r, "gradLogits")
            .dyn_into::<Float32Array>()
            .unwrap()
            .to_vec();
        for (k, gk) in g.iter().enumerate() {
            let want = (z[k] as f64 - lse).exp() - if k == 2 { 1.0 } else { 0.0 };
            assert!((*gk as f64 - want).abs() < 1e-6, "{pipeline}: {g:?}");
        }
    }
    // nll on logits: the "loss" is −z_y = −3 and the gradient −onehot.
    let r = run("nllOnLogits");
    assert_eq!(get(&r, "loss").as_f64(), Some(-3.0));
    let inputs = get(&r, "inputs")
        .dyn_into::<Float32Array>()
        .unwrap()
        .to_vec();
    assert_eq!(inputs, z);
    let e = wasm::loss::pipeline_loss(
        f32s(&z),
        Int32Array::from(&[2][..]).into(),
        obj(&[("classes", 3.into())]),
    );
    assert!(message(e.unwrap_err()).contains("options.pipeline is required"));
    let e = wasm::loss::pipeline_loss(
        f32s(&z),
        Int32Array::from(&[2][..]).into(),
        obj(&[("classes", 3.into()), ("pipeline", "mse".into())]),
    );
    assert!(message(e.unwrap_err()).contains("pipeline must be one of"));
}

/// The committed default checkpoint, loaded as the page loads it (bytes → Model.fromBytes).
const DEFAULT_MODEL: &[u8] = include_bytes!("../www/models/default.safetensors");

/// Bytes as JS hands them to `Model.fromBytes`.
fn js_bytes(b: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(b).into()
}

#[wasm_bindgen_test]
fn default_model_loads_and_writes_shakespeare_like_text() {
    let model = Model::from_bytes(js_bytes(DEFAULT_MODEL)).unwrap();
    let vocab = get(&model.config(), "vocabSize").as_f64().unwrap() as usize;
    let gen = |seed: u32| {
        let o = obj(&[("temperature", 0.8.into()), ("seed", seed.into())]);
        let mut g = model.generate("ROMEO:\n".into(), o).unwrap();
        let mut text = String::new();
        for _ in 0..300 {
            let step = g.next().unwrap();
            let probs = get(&step, "probs").dyn_into::<Float32Array>().unwrap();
            assert_eq!(probs.length() as usize, vocab);
            text.push_str(&get(&step, "text").as_string().unwrap());
        }
        text
    };
    let text = gen(1);
    assert_eq!(text, gen(1), "same seed, same text");
    assert_ne!(text, gen(2));
    // Shakespeare-like: mostly letters and spaces, words of English length, common words.
    let letters = text.chars().filter(|c| c.is_alphabetic()).count() as f64 / 300.0;
    let spaces = text.chars().filter(|&c| c == ' ').count();
    assert!(letters > 0.65, "{letters}: {text}");
    assert!((30..90).contains(&spaces), "{spaces} spaces: {text}");
    let common = [
        " the ", " and ", " to ", " of ", " my ", " not ", " you ", " is ",
    ];
    let hits = common.iter().filter(|w| text.contains(*w)).count();
    assert!(hits >= 2, "{hits} common words in: {text}");
}

#[wasm_bindgen_test]
fn model_forward_modes_and_bad_input() {
    let model = Model::from_bytes(js_bytes(DEFAULT_MODEL)).unwrap();
    let ids: JsValue = model
        .encode("To be, or not".into(), JsValue::UNDEFINED)
        .unwrap()
        .into();
    let logits = model
        .forward(ids.clone(), obj(&[("output", "logits".into())]))
        .unwrap()
        .to_vec();
    let lsm = model
        .forward(ids.clone(), obj(&[("output", "logSoftmax".into())]))
        .unwrap()
        .to_vec();
    let lse = logitlab::numerics::logsumexp(&logits).unwrap();
    for (z, lp) in logits.iter().zip(&lsm) {
        assert!((z - lse - lp).abs() < 1e-4);
    }
    let e = Model::from_bytes(js_bytes(&DEFAULT_MODEL[..100]))
        .err()
        .unwrap();
    assert!(!message(e).is_empty());
    let e = model
        .forward(
            js_sys::Uint32Array::new_with_length(0).into(),
            JsValue::UNDEFINED,
        )
        .err()
        .unwrap();
    assert!(message(e).contains("ids"));
    // Not a string, not an array: an error naming the argument, not a trap in the glue.
    for junk in [JsValue::from(5), JsValue::NULL, JsValue::UNDEFINED] {
        let e = model
            .generate(junk.clone(), JsValue::UNDEFINED)
            .err()
            .unwrap();
        assert!(message(e).starts_with("prompt must be a string"));
        let e = model
            .encode(junk.clone(), JsValue::UNDEFINED)
            .err()
            .unwrap();
        assert!(message(e).starts_with("text must be a string"));
        let e = model.decode(junk.clone()).err().unwrap();
        assert!(message(e).starts_with("ids must be a Uint32Array"));
        let e = Model::from_bytes(junk).err().unwrap();
        assert!(message(e).starts_with("bytes must be a Uint8Array"));
    }
    // The model still answers after the errors.
    assert_eq!(
        model.forward(ids, JsValue::UNDEFINED).unwrap().to_vec(),
        logits
    );
}

/// A Hugging Face GPT-2 folder through `Model.fromFiles`, as the page hands it over.
const HF: &str = "f16-untied-gelu";
fn hf_files(skip: &str) -> JsValue {
    let dir = |name: &str| -> &'static [u8] {
        match name {
            "config.json" => include_bytes!("fixtures/hf/f16-untied-gelu/config.json"),
            "model.safetensors" => include_bytes!("fixtures/hf/f16-untied-gelu/model.safetensors"),
            _ => include_bytes!("fixtures/hf/f16-untied-gelu/tokenizer.json"),
        }
    };
    let o = Object::new();
    for name in ["config.json", "model.safetensors", "tokenizer.json"] {
        if name != skip {
            // A folder path before the name, as a dropped folder gives it.
            let key = format!("{HF}/{name}");
            Reflect::set(&o, &key.into(), &js_bytes(dir(name))).unwrap();
        }
    }
    Reflect::set(&o, &"generation_config.json".into(), &js_bytes(b"{}")).unwrap();
    o.into()
}

#[wasm_bindgen_test]
fn hugging_face_folder_loads_through_from_files() {
    let model = Model::from_files(hf_files("")).unwrap();
    let c = model.config();
    assert_eq!(get(&c, "architecture").as_string().unwrap(), "gpt2");
    assert_eq!(get(&c, "tokenizer").as_string().unwrap(), "bpe");
    assert_eq!(get(&c, "vocabSize").as_f64(), Some(1024.0));
    let expected: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/hf/f16-untied-gelu/expected.json")).unwrap();
    let prompt = expected["prompt"].as_str().unwrap();
    let ids = model
        .encode(prompt.into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec();
    let want: Vec<u32> = expected["prompt_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(ids, want);
    assert_eq!(
        model
            .decode(js_sys::Uint32Array::from(&ids[..]).into())
            .unwrap(),
        prompt
    );
    // The next-token logits after the prompt, to 1e-4.
    let z = model
        .forward(
            js_sys::Uint32Array::from(&ids[..]).into(),
            JsValue::UNDEFINED,
        )
        .unwrap()
        .to_vec();
    let rows = expected["logits"].as_array().unwrap();
    let last = rows.last().unwrap().as_array().unwrap();
    for (a, b) in z.iter().zip(last) {
        assert!((*a as f64 - b.as_f64().unwrap()).abs() < 1e-4);
    }
    // A token's display form: the space shows.
    let space = model
        .encode(" the".into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec();
    assert!(model.token_text(space[0].into()).unwrap().starts_with('␣'));
    assert!(message(model.token_text(5000.into()).unwrap_err())
        .contains("id must be a token id in [0, 1024)"));
}

/// A Hugging Face Qwen3 folder in bf16 through `Model.fromFiles`, its weights in pieces as the
/// page reads a large file: the config the page shows, and every prompt position's logits
/// within 1e-4 of transformers'.
#[wasm_bindgen_test]
fn a_qwen3_bf16_folder_loads_through_from_files() {
    const DIR: &str = "fixtures/llama/qwen3-bf16";
    let model_bytes: &[u8] = include_bytes!("fixtures/llama/qwen3-bf16/model.safetensors");
    let config: &[u8] = include_bytes!("fixtures/llama/qwen3-bf16/config.json");
    let files = |config: &[u8]| {
        let pieces: Array = model_bytes.chunks(10_000).map(js_bytes).collect();
        obj(&[
            (&format!("{DIR}/config.json"), js_bytes(config)),
            (&format!("{DIR}/model.safetensors"), pieces.into()),
            (
                &format!("{DIR}/tokenizer.json"),
                js_bytes(include_bytes!("fixtures/llama/qwen3-bf16/tokenizer.json")),
            ),
            (
                &format!("{DIR}/generation_config.json"),
                js_bytes(include_bytes!(
                    "fixtures/llama/qwen3-bf16/generation_config.json"
                )),
            ),
        ])
    };
    let model = Model::from_files(files(config)).unwrap();
    let c = model.config();
    assert_eq!(get(&c, "architecture").as_string().unwrap(), "qwen3");
    assert_eq!(get(&c, "dtype").as_string().unwrap(), "bf16");
    assert_eq!(get(&c, "headDim").as_f64(), Some(16.0));
    assert_eq!(get(&c, "kvHeads").as_f64(), Some(2.0));
    assert_eq!(get(&c, "tiedHead").as_bool(), Some(true));
    assert_eq!(get(&c, "vocabSize").as_f64(), Some(320.0));
    assert_eq!(model.eos_token_ids().to_vec(), [0, 5]);
    let expected: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/llama/qwen3-bf16/expected.json")).unwrap();
    let prompt = &expected["prompts"][0];
    let ids = model
        .encode(prompt["text"].as_str().unwrap().into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec();
    let want: Vec<u32> = prompt["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(ids, want);
    let z = model
        .forward(
            js_sys::Uint32Array::from(&ids[..]).into(),
            obj(&[("allPositions", true.into())]),
        )
        .unwrap()
        .to_vec();
    let rows = prompt["logits"].as_array().unwrap();
    let want: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect();
    assert_eq!(z.len(), want.len());
    for (a, b) in z.iter().zip(&want) {
        assert!((f64::from(*a) - b).abs() < 1e-4, "{a} vs {b}");
    }
    // One token alone takes the one-row kernels, which hold bfloat16 widened out of index
    // order in wasm: the first position's logits all the same, bit for bit.
    let first = model
        .forward(
            js_sys::Uint32Array::from(&ids[..1]).into(),
            JsValue::UNDEFINED,
        )
        .unwrap()
        .to_vec();
    let bits = |z: &[f32]| z.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&first), bits(&z[..first.len()]));
    // Another architecture is refused by name.
    let gemma = String::from_utf8(config.to_vec())
        .unwrap()
        .replace("Qwen3ForCausalLM", "Gemma3ForCausalLM");
    let e = message(
        Model::from_files(files(gemma.as_bytes()))
            .err()
            .expect("refused"),
    );
    assert!(
        e.contains("Gemma3ForCausalLM is not supported; supported: "),
        "{e}"
    );
}

#[wasm_bindgen_test]
fn from_files_errors_name_the_file() {
    let e = |files: JsValue| message(Model::from_files(files).err().expect("an error"));
    assert!(e(hf_files("tokenizer.json")).starts_with("tokenizer.json: missing"));
    assert!(e(hf_files("model.safetensors")).starts_with("model.safetensors: missing"));
    assert!(e(obj(&[("notes.txt", js_bytes(b"hi"))])).contains("got notes.txt"));
    assert!(e(obj(&[("stories15M.bin", js_bytes(b"x"))])).starts_with("tokenizer.bin: missing"));
    // Which files make the model is decided first; then each file's value is checked.
    assert!(e(obj(&[("config.json", 5.into())])).starts_with("model.safetensors: missing"));
    let wrong_type = obj(&[
        ("config.json", 5.into()),
        ("model.safetensors", js_bytes(b"")),
        ("tokenizer.json", js_bytes(b"{}")),
    ]);
    assert!(e(wrong_type).contains("config.json must be a Uint8Array"));
    assert!(e(JsValue::from(3)).starts_with("files must be an object"));
    // One file's bytes where the record of files belongs: said so, not its indices as names.
    let one = e(js_bytes(&[0u8; 5000]));
    assert!(one.ends_with("got a Uint8Array"), "{one}");
    let bad = obj(&[
        ("config.json", js_bytes(b"{not json")),
        ("model.safetensors", js_bytes(b"")),
        ("tokenizer.json", js_bytes(b"{}")),
    ]);
    assert!(e(bad).starts_with("config.json"));
    // logitlab's own single file, as fromBytes takes it.
    let m = Model::from_files(obj(&[(
        "models/default.safetensors",
        js_bytes(DEFAULT_MODEL),
    )]))
    .unwrap();
    assert_eq!(get(&m.config(), "tokenizer").as_string().unwrap(), "chars");
    assert_eq!(m.token_text(0.into()).unwrap(), "↵");
}

/// The lists the page shows come from the wasm: the four pipelines (with how the page writes
/// them and which are the true cross-entropy) and the training presets with their shapes.
#[wasm_bindgen_test]
fn pipelines_and_presets_are_listed_by_the_wasm() {
    let pipelines: Vec<JsValue> = Array::from(&wasm::loss::pipelines()).to_vec();
    let names: Vec<String> = pipelines
        .iter()
        .map(|p| get(p, "name").as_string().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "crossEntropyOnLogits",
            "nllOnLogSoftmax",
            "nllOnLogits",
            "crossEntropyOnSoftmax"
        ]
    );
    let correct: Vec<bool> = pipelines
        .iter()
        .map(|p| get(p, "correct").as_bool().unwrap())
        .collect();
    assert_eq!(correct, [true, true, false, false]);
    assert_eq!(
        get(&pipelines[3], "formula").as_string().unwrap(),
        "crossEntropy(softmax(logits))"
    );
    // Each name is one `pipelineLoss` takes.
    for name in &names {
        let r = wasm::loss::pipeline_loss(
            f32s(&[1.0, 2.0, 3.0]),
            Int32Array::from(&[2][..]).into(),
            obj(&[("classes", 3.into()), ("pipeline", name.as_str().into())]),
        );
        assert!(r.is_ok(), "{name}");
    }

    let presets: Vec<JsValue> = Array::from(&logitlab::wasm::model::presets()).to_vec();
    let shape = |p: &JsValue| -> (String, [f64; 4]) {
        let n = |k: &str| get(p, k).as_f64().unwrap();
        (
            get(p, "name").as_string().unwrap(),
            [n("contextLength"), n("layers"), n("heads"), n("embd")],
        )
    };
    let presets: Vec<_> = presets.iter().map(shape).collect();
    assert_eq!(
        presets,
        [
            ("tiny".to_string(), [64.0, 2.0, 2.0, 32.0]),
            ("small".to_string(), [64.0, 2.0, 4.0, 64.0]),
            ("medium".to_string(), [128.0, 4.0, 4.0, 128.0]),
        ]
    );
}

const LLAMA_BIN: &[u8] = include_bytes!("fixtures/llama2c/gqa-shared-v0.bin");
const LLAMA_TOKENIZER: &[u8] = include_bytes!("fixtures/llama2c/tokenizer.bin");

/// The next-token logits of a llama2.c model after a short prompt.
fn llama_logits(model: &Model) -> Vec<f32> {
    let ids = model
        .encode("Once upon".into(), JsValue::UNDEFINED)
        .unwrap();
    model
        .forward(ids.into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec()
}

/// `ModelReader` (the page's way in for llama2.c: fed the download as it arrives) and
/// `fromFiles` (whole, or as an array of pieces, which it empties) make the same model.
#[wasm_bindgen_test]
fn a_llama2c_model_read_as_it_arrives_is_the_same_model() {
    let whole = Model::from_files(obj(&[
        ("stories.bin", js_bytes(LLAMA_BIN)),
        ("tokenizer.bin", js_bytes(LLAMA_TOKENIZER)),
    ]))
    .unwrap();
    let want = llama_logits(&whole);
    // With its special tokens, a llama2.c prompt begins with BOS (id 1), as run.c encodes it;
    // without, it is the text alone; an unknown option is named.
    let plain = whole
        .encode("Once upon".into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec();
    let special = obj(&[("addSpecialTokens", true.into())]);
    let with = whole.encode("Once upon".into(), special).unwrap().to_vec();
    assert_eq!(with, [&[1][..], &plain].concat());
    let off = obj(&[("addSpecialTokens", false.into())]);
    assert_eq!(
        whole.encode("Once upon".into(), off).unwrap().to_vec(),
        plain
    );
    // The ids generation starts from, which the page's panels read: BOS, then the text.
    let prompt = whole.prompt_ids("Once upon".into()).unwrap().to_vec();
    assert_eq!(prompt, [&[1][..], &plain].concat());
    let typo = obj(&[("addSpecialToken", true.into())]);
    let e = message(whole.encode("Once upon".into(), typo).unwrap_err());
    assert!(e.contains("unknown field `addSpecialToken`"), "{e}");
    let pieces: Array = LLAMA_BIN.chunks(5000).map(js_bytes).collect();
    let from_pieces = Model::from_files(obj(&[
        ("stories.bin", pieces.clone().into()),
        ("tokenizer.bin", js_bytes(LLAMA_TOKENIZER)),
    ]))
    .unwrap();
    assert_eq!(llama_logits(&from_pieces), want);
    assert!(pieces.iter().all(|p| p.is_undefined()), "pieces let go of");
    for size in [Some(LLAMA_BIN.len() as f64), None] {
        let mut reader = ModelReader::new(size, &js_bytes(LLAMA_TOKENIZER)).unwrap();
        for part in LLAMA_BIN.chunks(999) {
            reader.push(&js_sys::Uint8Array::from(part)).unwrap();
        }
        assert_eq!(reader.received(), LLAMA_BIN.len() as f64);
        assert_eq!(llama_logits(&reader.finish().unwrap()), want);
        assert!(message(reader.finish().err().unwrap()).contains("has failed or finished"));
    }
}

#[wasm_bindgen_test]
fn model_reader_errors_name_the_argument_or_the_field() {
    let tok = js_bytes(LLAMA_TOKENIZER);
    let e = |size: Option<f64>| message(ModelReader::new(size, &tok).err().unwrap());
    assert!(e(Some(-1.0)).starts_with("size must be an integer in [0, 1073741824]"));
    assert!(e(Some(1.5)).contains("got 1.5"));
    assert!(e(Some(2e9)).contains("(bytes) or undefined"));
    assert!(message(ModelReader::new(None, &3.into()).err().unwrap())
        .starts_with("tokenizer.bin must be a Uint8Array"));
    // A bad header is refused by the push that completes it; the reader is spent after it.
    let mut bad = LLAMA_BIN[..300].to_vec();
    bad[12..16].copy_from_slice(&5i32.to_le_bytes());
    let mut reader = ModelReader::new(None, &tok).unwrap();
    let e = message(
        reader
            .push(&js_sys::Uint8Array::from(&bad[..]))
            .unwrap_err(),
    );
    assert_eq!(
        e,
        "model.bin: header field dim must be a multiple of n_heads (5), got 48"
    );
    assert!(message(
        reader
            .push(&js_sys::Uint8Array::from(&bad[..]))
            .unwrap_err()
    )
    .contains("has failed or finished"));
    // A push of anything but bytes is an error that leaves the reader usable; an ArrayBuffer
    // and a DataView are bytes too.
    let mut reader = ModelReader::new(None, &tok).unwrap();
    let look_alike = js_sys::Object::new();
    js_sys::Reflect::set(&look_alike, &"length".into(), &40.into()).unwrap();
    for junk in [
        JsValue::from(look_alike),
        js_sys::Array::of3(&1.into(), &2.into(), &3.into()).into(),
        JsValue::from_str("bytes"),
        JsValue::NULL,
    ] {
        let e = message(reader.push(&junk).unwrap_err());
        assert!(
            e.starts_with("bytes must be a Uint8Array, an ArrayBuffer or a DataView"),
            "{e}"
        );
    }
    let part = js_sys::Uint8Array::from(&LLAMA_BIN[..600]);
    reader.push(&part.buffer()).unwrap();
    let view = js_sys::DataView::new(
        &js_sys::Uint8Array::from(&LLAMA_BIN[..1000]).buffer(),
        600,
        400,
    );
    reader.push(&view).unwrap();
    assert_eq!(reader.received(), 1000.0);
    // Too short.
    let mut reader = ModelReader::new(None, &tok).unwrap();
    reader
        .push(&js_sys::Uint8Array::from(&LLAMA_BIN[..1000]))
        .unwrap();
    assert!(message(reader.finish().err().unwrap())
        .starts_with("model.bin: has 1000 bytes, but its header"));
}

/// A Qwen2 chat folder through `Model.fromFiles`: `chatTemplate`, and `applyChatTemplate` on
/// every conversation of the Qwen2.5-style fixture, equal to transformers' text; its
/// refusals name the argument; `tokenStats`.
#[wasm_bindgen_test]
fn a_chat_template_renders_through_the_js_api_as_transformers_does() {
    const DIR: &str = "fixtures/chat/qwen2-chat";
    let files = |tokenizer_config: Option<&[u8]>| {
        let mut pairs = vec![
            (
                format!("{DIR}/config.json"),
                js_bytes(include_bytes!("fixtures/chat/qwen2-chat/config.json")),
            ),
            (
                format!("{DIR}/model.safetensors"),
                js_bytes(include_bytes!("fixtures/chat/qwen2-chat/model.safetensors")),
            ),
            (
                format!("{DIR}/tokenizer.json"),
                js_bytes(include_bytes!("fixtures/chat/qwen2-chat/tokenizer.json")),
            ),
        ];
        if let Some(bytes) = tokenizer_config {
            pairs.push((format!("{DIR}/tokenizer_config.json"), js_bytes(bytes)));
        }
        let pairs: Vec<(&str, JsValue)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        obj(&pairs)
    };
    let config: &[u8] = include_bytes!("fixtures/chat/qwen2.5/tokenizer_config.json");
    let model = Model::from_files(files(Some(config))).unwrap();
    assert_eq!(get(&model.config(), "chatTemplate").as_bool(), Some(true));
    assert_eq!(
        get(&model.config(), "format").as_string().unwrap(),
        "huggingFace"
    );
    let json: serde_json::Value = serde_json::from_slice(config).unwrap();
    assert_eq!(
        model.chat_template().unwrap(),
        json["chat_template"].as_str().unwrap()
    );
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("fixtures/chat/qwen2.5/cases.json")).unwrap();
    for (i, case) in cases.iter().enumerate() {
        let messages = js_sys::JSON::parse(&case["messages"].to_string()).unwrap();
        let options = obj(&[(
            "addGenerationPrompt",
            case["add_generation_prompt"].as_bool().unwrap().into(),
        )]);
        let text = model.apply_chat_template(messages, options).unwrap();
        assert_eq!(text, case["text"].as_str().unwrap(), "case {i}");
    }
    // addGenerationPrompt defaults to true.
    let hello = || js_sys::JSON::parse(r#"[{"role": "user", "content": "Hello!"}]"#).unwrap();
    assert_eq!(
        model
            .apply_chat_template(hello(), JsValue::UNDEFINED)
            .unwrap(),
        cases[0]["text"].as_str().unwrap()
    );
    let e = |m: JsValue, o: JsValue| message(model.apply_chat_template(m, o).unwrap_err());
    assert!(e("hi".into(), JsValue::UNDEFINED).starts_with("messages must be an array"));
    assert!(e(js_sys::JSON::parse("[1]").unwrap(), JsValue::UNDEFINED)
        .starts_with("messages[0] must be an object"));
    assert!(e(hello(), obj(&[("addGeneration", true.into())]))
        .starts_with("options has an unknown field `addGeneration`"));
    // Without tokenizer_config.json: no template, and a chat is refused, naming the file.
    let plain = Model::from_files(files(None)).unwrap();
    assert_eq!(plain.chat_template(), None);
    assert_eq!(get(&plain.config(), "chatTemplate").as_bool(), Some(false));
    let refused = message(
        plain
            .apply_chat_template(hello(), JsValue::UNDEFINED)
            .unwrap_err(),
    );
    assert!(refused.contains("tokenizer_config.json"), "{refused}");
    let stats = model.token_stats("O Romeo, Romeo".into()).unwrap();
    let tokens = model
        .encode("O Romeo, Romeo".into(), JsValue::UNDEFINED)
        .unwrap()
        .length() as f64;
    assert_eq!(get(&stats, "tokens").as_f64(), Some(tokens));
    assert_eq!(get(&stats, "words").as_f64(), Some(3.0));
    assert_eq!(get(&stats, "perWord").as_f64(), Some(tokens / 3.0));
}

/// A JS value from JSON text, as a page would write it (−Infinity patched in by the caller).
fn js(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

#[wasm_bindgen_test]
fn sampler_binding_reads_steps_reports_them_and_names_bad_fields() {
    use logitlab::wasm::sampling::{chain_from_url, chain_to_url, JsSampler};
    // A chain as JS objects, with a −Infinity bias and a Uint32Array history.
    let chain = js(r#"[{"kind": "logitBias", "bias": [[0, 0]]}, {"kind": "topK", "k": 2}]"#);
    let pair = Reflect::get(&get(&Array::from(&chain).get(0), "bias"), &0.into()).unwrap();
    Reflect::set(&pair, &1.into(), &f64::NEG_INFINITY.into()).unwrap();
    let mut s = JsSampler::new(chain, obj(&[("seed", 5.into())])).unwrap();
    let history: JsValue = js_sys::Uint32Array::from(&[1u32, 2][..]).into();
    let o = obj(&[("history", history)]);
    let d = s
        .distribution(f32s(&[9.0, 2.0, 1.0, 0.5]), o.clone())
        .unwrap();
    let cut = get(&d, "cut")
        .dyn_into::<js_sys::Uint8Array>()
        .unwrap()
        .to_vec();
    assert_eq!(cut, vec![1, 0, 0, 2]);
    let steps = Array::from(&get(&d, "steps"));
    assert_eq!(
        get(&steps.get(1), "kind").as_string().as_deref(),
        Some("topK")
    );
    assert_eq!(get(&steps.get(1), "kept").as_f64(), Some(2.0));
    assert!(get(&steps.get(0), "massRemoved").as_f64().unwrap() > 0.99);
    let t = s.sample(f32s(&[9.0, 2.0, 1.0, 0.5]), o).unwrap();
    let token = get(&t, "token").as_f64().unwrap();
    assert!(token == 1.0 || token == 2.0, "{token}");
    assert_eq!(s.seed(), 5.0);
    // The chain getter fills every field in and gives the bias back as −Infinity.
    let c = Array::from(&s.chain());
    assert_eq!(
        get(&c.get(1), "rule").as_string().as_deref(),
        Some("huggingface")
    );
    let bias = Array::from(&get(&c.get(0), "bias"));
    assert_eq!(
        Array::from(&bias.get(0)).get(1).as_f64(),
        Some(f64::NEG_INFINITY)
    );
    // Presets and the URL form.
    let url = chain_to_url("llama.cpp".into()).unwrap();
    assert!(url.starts_with("pen_64_1_0_0~dry_0_1.75_2_64~"), "{url}");
    let back = Array::from(&chain_from_url("t_0.7~k_40_h".into()).unwrap());
    assert_eq!(get(&back.get(0), "t").as_f64(), Some(0.7));
    // Errors name the step, the field and the range, and carry a code for the page.
    let bad = js(r#"[{"kind": "temperature"}, {"kind": "topP", "p": 1.5}]"#);
    let e: JsValue = JsSampler::new(bad, JsValue::UNDEFINED)
        .err()
        .unwrap()
        .into();
    let msg: String = e
        .clone()
        .dyn_into::<js_sys::Error>()
        .unwrap()
        .message()
        .into();
    assert_eq!(msg, "chain[1].p (topP) must be a number in [0, 1], got 1.5");
    assert_eq!(
        get(&e, "code").as_string().as_deref(),
        Some("chain.badParam")
    );
    assert_eq!(
        get(&get(&e, "params"), "range").as_string().as_deref(),
        Some("[0, 1]")
    );
    let nan = js(r#"[{"kind": "temperature", "t": 0}]"#);
    Reflect::set(&Array::from(&nan).get(0), &"t".into(), &f64::NAN.into()).unwrap();
    let msg = message(JsSampler::new(nan, JsValue::UNDEFINED).err().unwrap());
    assert!(
        msg.starts_with("chain[0].t (temperature) must be a number >= 0, got NaN"),
        "{msg}"
    );
    for (chain, want) in [
        (JsValue::from(3), "chain must be"),
        (js(r#"{"kind": "topK"}"#), "chain must be"),
        (js(r#"["topK"]"#), "chain[0] must be an object"),
    ] {
        let msg = message(JsSampler::new(chain, JsValue::UNDEFINED).err().unwrap());
        assert!(msg.starts_with(want), "{msg}");
    }
    let msg = message(chain_from_url(JsValue::from(1)).unwrap_err());
    assert!(msg.starts_with("text must be a string"), "{msg}");
    let s = JsSampler::new("huggingface".into(), JsValue::UNDEFINED).unwrap();
    let msg = message(
        s.distribution(f32s(&[1.0]), obj(&[("history", js("[1.5]"))]))
            .unwrap_err(),
    );
    assert!(
        msg.starts_with("options.history[0] must be a token id"),
        "{msg}"
    );
    let msg = message(
        s.distribution(f32s(&[1.0]), obj(&[("histroy", js("[]"))]))
            .unwrap_err(),
    );
    assert!(msg.contains("unknown field `histroy`"), "{msg}");
}

/// `model.quantizePlan` and `model.quantize` through the JS API, on the f32 llama GGUF fixture:
/// the copy is Q8_0 and computes, the original stays f32, and bad types are errors that name
/// them; the default model (GPT-2 family) quantises too, its position embedding kept. (`compareModels`, of the sampling build's lab exports, is
/// checked through the page's build in `tests/e2e/weights.test.mjs`.)
#[wasm_bindgen_test]
fn a_model_quantises_through_the_js_api() {
    let bytes = js_sys::Uint8Array::from(&include_bytes!("fixtures/gguf/llama-f32.gguf")[..]);
    let model = Model::from_files(obj(&[("llama-f32.gguf", bytes.into())])).unwrap();
    let plan = model.quantize_plan("q8_0".into()).unwrap();
    assert_eq!(get(&plan, "quantized").as_f64(), Some(16.0));
    assert_eq!(get(&plan, "kept").as_f64(), Some(0.0));
    let needed = get(&plan, "neededBytes").as_f64().unwrap();
    let weights = get(&plan, "weightBytes").as_f64().unwrap();
    assert!(needed > weights && weights > 0.0);
    let q = model.quantize("q8_0".into()).unwrap();
    assert_eq!(
        get(&q.config(), "dtype").as_string().as_deref(),
        Some("q8_0")
    );
    assert_eq!(
        get(&model.config(), "dtype").as_string().as_deref(),
        Some("f32")
    );
    let ids = js_sys::Uint32Array::from(&[1u32, 260, 270, 262, 265][..]);
    let (za, zb) = (
        model
            .forward(ids.clone().into(), JsValue::UNDEFINED)
            .unwrap()
            .to_vec(),
        q.forward(ids.into(), JsValue::UNDEFINED).unwrap().to_vec(),
    );
    assert_eq!(za.len(), zb.len());
    assert!(za != zb && zb.iter().all(|x| x.is_finite()));
    for bad in ["q6_K".into(), JsValue::from(8)] {
        let e = message(model.quantize(bad).err().expect("an error"));
        assert!(e.starts_with("type must be one of"), "{e}");
    }
    let gpt = Model::from_bytes(
        js_sys::Uint8Array::from(&include_bytes!("../www/models/default.safetensors")[..]).into(),
    )
    .unwrap();
    let plan = gpt.quantize_plan("q8_0".into()).unwrap();
    // wte and 4 matrices in each of 4 blocks; wpe kept, as llama.cpp keeps it.
    assert_eq!(get(&plan, "quantized").as_f64(), Some(17.0));
    assert_eq!(get(&plan, "kept").as_f64(), Some(1.0));
    assert_eq!(get(&plan, "positionEmbeddings").as_f64(), Some(1.0));
    assert_eq!(get(&plan, "undivided").as_f64(), Some(0.0));
    let q = gpt.quantize("q8_0".into()).unwrap();
    assert_eq!(
        get(&q.config(), "dtype").as_string().as_deref(),
        Some("q8_0")
    );
    let ids = js_sys::Uint32Array::from(&[1u32, 20, 30, 22, 25][..]);
    let (za, zb) = (
        gpt.forward(ids.clone().into(), JsValue::UNDEFINED)
            .unwrap()
            .to_vec(),
        q.forward(ids.into(), JsValue::UNDEFINED).unwrap().to_vec(),
    );
    assert!(za != zb && zb.iter().all(|x| x.is_finite()));
}

/// `model.toGguf()` through the JS API: the llama fixture quantised to Q8_0 and written is the
/// very file llama.cpp ran in `tests/gguf_write.rs` (the writer and the quantiser give the same
/// bytes in the browser), it reads back through `Model.fromFiles` with the same logits bit for
/// bit, and a GPT-2-family model is refused by name.
#[wasm_bindgen_test]
fn a_model_writes_gguf_through_the_js_api() {
    let bytes = js_sys::Uint8Array::from(&include_bytes!("fixtures/gguf/llama-f32.gguf")[..]);
    let model = Model::from_files(obj(&[("llama-f32.gguf", bytes.into())])).unwrap();
    let q = model.quantize("q8_0".into()).unwrap();
    let file = q.to_gguf().unwrap();
    assert_eq!(
        file.to_vec(),
        include_bytes!("fixtures/gguf_write/llama-q8_0.gguf").to_vec()
    );
    let back = Model::from_files(obj(&[("back.gguf", file.into())])).unwrap();
    assert_eq!(
        get(&back.config(), "dtype").as_string().as_deref(),
        Some("q8_0")
    );
    let ids = js_sys::Uint32Array::from(&[1u32, 260, 270, 262, 265][..]);
    let za = q
        .forward(ids.clone().into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec();
    let zb = back
        .forward(ids.into(), JsValue::UNDEFINED)
        .unwrap()
        .to_vec();
    assert_eq!(za.len(), zb.len());
    assert!(za.iter().zip(&zb).all(|(a, b)| a.to_bits() == b.to_bits()));
    let gpt = Model::from_bytes(
        js_sys::Uint8Array::from(&include_bytes!("../www/models/default.safetensors")[..]).into(),
    )
    .unwrap();
    let e = message(gpt.to_gguf().expect_err("an error"));
    assert!(e.contains("GGUF") && e.contains("GPT-2"), "{e}");
}

/// `distillLoss` returns the contract's fields, takes each name `distillPipelines` lists, and
/// names a bad option, argument or field.
#[wasm_bindgen_test]
fn distill_loss_binding_returns_the_contract_and_names_bad_input() {
    let infos: Vec<JsValue> = Array::from(&wasm::distill::distill_pipelines()).to_vec();
    let names: Vec<String> = infos
        .iter()
        .map(|p| get(p, "name").as_string().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "hinton",
            "probsAsInput",
            "noTSquared",
            "meanReduction",
            "reverseKl",
            "baseline"
        ]
    );
    let reductions: Vec<String> = infos
        .iter()
        .map(|p| get(p, "reduction").as_string().unwrap())
        .collect();
    assert_eq!(reductions[3], "mean");
    assert_eq!(reductions[0], "batchmean");
    assert_eq!(get(&infos[2], "squaresTemperature").as_bool(), Some(false));

    let s = || f32s(&[0.5, -1.0, 2.0, 0.0, 1.0, 1.5]);
    let t = || f32s(&[1.0, 0.0, 0.5, -2.0, 3.0, 0.1]);
    let y = || JsValue::from(Int32Array::from(&[2, 1][..]));
    let mut kl = Vec::new();
    for name in &names {
        let o = obj(&[
            ("pipeline", name.as_str().into()),
            ("temperature", 2.into()),
            ("alpha", 0.25.into()),
        ]);
        let r = wasm::distill::distill_loss(s(), t(), y(), o).unwrap();
        let n = |k: &str| get(&r, k).as_f64().unwrap();
        // loss = 0.75 · klTerm + 0.25 · ceTerm, and the baseline is ceTerm alone.
        let want = if name == "baseline" {
            n("ceTerm")
        } else {
            0.75 * n("klTerm") + 0.25 * n("ceTerm")
        };
        assert!((n("loss") - want).abs() < 1e-12, "{name}");
        for k in ["grad", "softGrad", "hardGrad"] {
            let g = get(&r, k).dyn_into::<Float32Array>().unwrap();
            assert_eq!(g.length(), 6, "{name} {k}");
        }
        kl.push(n("klTerm"));
    }
    // "mean" is 1/V = 1/3 of the recipe; no T² is 1/T² = 1/4 of it.
    assert!((kl[3] * 3.0 - kl[0]).abs() < 1e-12);
    assert!((kl[2] * 4.0 - kl[0]).abs() < 1e-12);
    // No options: the recipe at T = 2, α = 0.5.
    let r = wasm::distill::distill_loss(s(), t(), y(), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&r, "reduction").as_string().unwrap(), "batchmean");

    let cases: Vec<(JsValue, &str)> = vec![
        (
            obj(&[("pipeline", "kd".into())]),
            "options.pipeline must be one of \"hinton\", \"probsAsInput\"",
        ),
        (
            obj(&[("temperature", 0.into())]),
            "temperature must be a number in (0, 1000]",
        ),
        (
            obj(&[("alpha", 2.into())]),
            "alpha must be a number in [0, 1]",
        ),
        (
            obj(&[("reduction", "none".into())]),
            "options.reduction must be one of",
        ),
        (
            obj(&[("temprature", 2.into())]),
            "unknown field `temprature`",
        ),
    ];
    for (o, want) in cases {
        let e = message(wasm::distill::distill_loss(s(), t(), y(), o).unwrap_err());
        assert!(e.contains(want), "{e}");
    }
    let e = message(
        wasm::distill::distill_loss(s(), f32s(&[1.0]), y(), JsValue::UNDEFINED).unwrap_err(),
    );
    assert!(e.contains("teacher has length 1"), "{e}");
    // The module still answers.
    assert!(wasm::distill::distill_loss(s(), t(), y(), JsValue::UNDEFINED).is_ok());
}

/// `calibration` on the default model: the contract's fields, the bins adding up to the
/// positions measured, the same accuracy after the fit, and a bad option named.
#[wasm_bindgen_test]
fn calibration_binding_returns_the_contract_and_names_bad_input() {
    let model = Model::from_bytes(js_bytes(DEFAULT_MODEL)).unwrap();
    let text: JsValue = include_str!("../www/texts/romeo-and-juliet.txt")[..3000].into();
    let r = wasm::calibration::calibration(&model, text.clone(), JsValue::UNDEFINED).unwrap();
    let n = |o: &JsValue, k: &str| get(o, k).as_f64().unwrap();
    let bins = Array::from(&get(&r, "bins")).to_vec();
    assert_eq!(bins.len(), 15);
    let counted: f64 = bins.iter().map(|b| n(b, "count")).sum();
    assert_eq!(counted, n(&r, "positions"));
    // Windows of contextLength + 1 tokens, each one's first token predicted by none.
    let window = n(&model.config(), "contextLength") + 1.0;
    let windows = (n(&r, "tokens") / window).ceil();
    assert_eq!(
        n(&r, "fitPositions") + n(&r, "positions"),
        n(&r, "tokens") - windows
    );
    let after = get(&r, "after");
    assert_eq!(n(&after, "accuracy"), n(&r, "accuracy"));
    assert!(n(&after, "nll") <= n(&r, "nll") + 0.05);
    for k in ["ece", "nll", "brier", "temperature"] {
        assert!(n(&r, k).is_finite() && n(&r, k) >= 0.0, "{k}");
    }
    // Without the fit: every position at T = 1, no `after`.
    let o = obj(&[("fit", false.into()), ("bins", 10.into())]);
    let r = wasm::calibration::calibration(&model, text.clone(), o).unwrap();
    assert_eq!(Array::from(&get(&r, "bins")).length(), 10);
    assert_eq!(n(&r, "temperature"), 1.0);
    assert!(get(&r, "after").is_undefined());
    let cases: Vec<(JsValue, JsValue, &str)> = vec![
        (
            text.clone(),
            obj(&[("bins", 0.into())]),
            "bins must be an integer in [1, 1000]",
        ),
        (
            text.clone(),
            obj(&[("bin", 3.into())]),
            "unknown field `bin`",
        ),
        (
            "R".into(),
            JsValue::UNDEFINED,
            "text must be a text of at least 2 tokens",
        ),
        (3.into(), JsValue::UNDEFINED, "text must be a string"),
    ];
    for (t, o, want) in cases {
        let e = message(wasm::calibration::calibration(&model, t, o).unwrap_err());
        assert!(e.contains(want), "{e}");
    }
}
