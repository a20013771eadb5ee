//! Writes a logitlab checkpoint as a Hugging Face GPT-2 folder, with the logits of a prompt
//! for transformers to check against (`tests/fixtures/check_hf_export.py`):
//!
//!     cargo run --release --bin export-hf -- www/models/default.safetensors OUT_DIR

use logitlab::model::{Net, OutputMode};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, checkpoint, out] = &args[..] else {
        eprintln!("usage: export-hf CHECKPOINT.safetensors OUT_DIR");
        std::process::exit(2);
    };
    let net = Net::from_safetensors(&std::fs::read(checkpoint).expect("the checkpoint"))
        .unwrap_or_else(|e| panic!("{checkpoint}: {e}"));
    std::fs::create_dir_all(out).expect("the output folder");
    for (name, bytes) in net
        .to_hf_gpt2(logitlab::model::format::hf_gpt2::StoreAs::F32)
        .unwrap()
    {
        std::fs::write(format!("{out}/{name}"), bytes).expect(name);
    }
    let prompt = "ROMEO:\nBut soft, what light through yonder window breaks?";
    let ids = net.encode(prompt).unwrap();
    let logits = net.forward_ids(&ids, OutputMode::Logits).unwrap();
    let expected = serde_json::json!({ "prompt": prompt, "ids": ids, "logits": logits });
    std::fs::write(format!("{out}/expected_logits.json"), expected.to_string()).unwrap();
    println!("{out}: config.json, model.safetensors, tokenizer.json, expected_logits.json");
}
