//! What a loaded model or tokenizer must do, whichever file and target it came from.

use logitlab::model::{Generator, Net, OutputMode, Tokenizer};
use logitlab::sampling::SampleOptions;

use crate::harness::Verdict::{self, Bug, Rejected};
use crate::harness::{check, no_nan, try_bug, Bytes};
use crate::inputs::junk_ids;

/// A loaded model (a Hugging Face folder, a llama2.c `model.bin`) must run: a forward pass
/// without NaN, a few greedy tokens.
pub fn use_hf_model(net: &Net) -> Verdict {
    let v = net.config().vocab_size;
    let ids = match net.encode("Romeo:\nBut soft") {
        Ok(ids) => ids,
        Err(e) => return Bug(format!("the fixed prompt does not encode: {e}")),
    };
    check!(ids.iter().all(|&i| (i as usize) < v), "an id out of range");
    match net.forward_ids(&ids, OutputMode::Logits) {
        Err(e) => return Rejected(e.to_string()),
        Ok(values) => {
            check!(
                values.len() == ids.len() * v,
                "forward gave {} values",
                values.len()
            );
            try_bug!(no_nan("forward", &values));
        }
    }
    let opts = SampleOptions {
        temperature: 0.0,
        seed: Some(0),
        ..SampleOptions::default()
    };
    let mut g = match Generator::new(net, "Romeo:", OutputMode::LogSoftmax, opts) {
        Ok(g) => g,
        Err(e) => return Rejected(e.to_string()),
    };
    if let Err(e) = g.generate(4) {
        return Rejected(e.to_string());
    }
    check!(
        g.tokens().iter().all(|&i| (i as usize) < v),
        "generated an id out of range"
    );
    Verdict::Ok(format!("loads V{v}"))
}

/// Decoding `ids` one at a time gives, in all, `decode` of the ids in range; an id out of range
/// is an error naming `ids`, and leaves the decoder as it was.
pub fn check_stream(t: &Tokenizer, ids: &[u32]) -> Result<(), String> {
    let mut stream = t.stream();
    let mut out = String::new();
    let mut valid = Vec::new();
    for &id in ids {
        match stream.push(t, id) {
            Ok(piece) => {
                out.push_str(&piece);
                valid.push(id);
            }
            Err(e) if (id as usize) >= t.len() && e.to_string().starts_with("ids must be") => {}
            Err(e) => return Err(format!("stream push of id {id} failed: {e}")),
        }
    }
    out.push_str(&stream.finish());
    match t.decode(&valid) {
        Ok(text) if text == out => Ok(()),
        Ok(text) => Err(format!(
            "stream gave {out:?}, decode {text:?} for ids {valid:?}"
        )),
        Err(e) => Err(format!("decode of valid ids failed: {e}")),
    }
}

/// The contract every tokenizer keeps, whatever file it was loaded from: `decode` of arbitrary
/// ids (from `b`) is a text or an error naming `ids`; `token_text` of every id is a text, and of
/// id V an error; the stream decoder, fed the same ids one at a time, agrees with `decode`.
/// Appends ` dec` or ` bad` to `features`; an `Err` is the promise broken.
pub fn check_decoding(t: &Tokenizer, b: &mut Bytes, features: &mut String) -> Result<(), String> {
    let v = t.len();
    let ids = junk_ids(b, v);
    match t.decode(&ids) {
        Ok(_) => features.push_str(" dec"),
        Err(e) => {
            let m = e.to_string();
            if !m.starts_with("ids must be") {
                return Err(format!("decode error: {m}"));
            }
            features.push_str(" bad");
        }
    }
    for id in 0..v as u32 {
        if let Err(e) = t.token_text(id) {
            return Err(format!("token_text({id}) failed: {e}"));
        }
    }
    if t.token_text(v as u32).is_ok() {
        return Err(format!("token_text({v}) is not an error"));
    }
    check_stream(t, &ids)
}
