//! Every size cap of the public API in one place, so that the README's "Limits" table and the
//! code cannot drift apart. None is a limit of the maths: each keeps a wrong argument from
//! exhausting a browser tab's memory (wasm32 has at most 4 GiB) or freezing it, and each is
//! enforced with an error that names the argument and the cap.

use crate::error::{Code, Error, Result};

/// Longest vector `softmax`, `logSoftmax`, `logsumexp`, `temperatureIdentity`, `precision` and
/// `sample` accept from JS: 2^22 = 4 194 304 values, 16× the largest real vocabulary.
pub const MAX_VALUES: usize = 1 << 22;

/// Largest N × C (and targets length) `loss` accepts from JS: 2^24 values (64 MiB as f32).
pub const MAX_LOSS_VALUES: usize = 1 << 24;

/// Largest vocabulary of a model: checked by `Config::validate`, so for every checkpoint and
/// every pasted training text: 2^18 = 262 144 (Qwen's is 151 936, Gemma 3's 262 144).
pub const MAX_MODEL_VOCAB: usize = 1 << 18;

/// Largest shape of a model, field by field: checked by `Config::validate`, so for every
/// checkpoint and every training config (the page's `new Trainer` refuses larger fields first).
pub const MAX_CONTEXT_LENGTH: usize = 4096;
pub const MAX_LAYERS: usize = 64;
pub const MAX_HEADS: usize = 64;
pub const MAX_EMBD: usize = 4096;

/// Largest logitlab checkpoint `model::format::logitlab::read` reads (so `Net::from_safetensors`,
/// `Gpt::from_safetensors` and `Model.fromBytes`): 64 MiB (the default model is 1.6 MB; 64 MiB
/// holds ~33 M parameters in f16).
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 20;

/// Largest Hugging Face `model.safetensors` the readers accept: 2 GiB (GPT-2 small is 548 MB
/// in f32, Qwen2.5-0.5B 988 MB in bf16, Qwen3-0.6B 1.5 GB with its head stored twice). The
/// page streams the file straight into the weights: it is never in memory beside them.
pub const MAX_HF_SAFETENSORS_BYTES: usize = 1 << 31;

/// Most tensors a safetensors header may declare: 16 384 (GPT-2 small has 148, Qwen2.5-0.5B
/// 290, Llama 3 70B 723). Checked as the header is read, so that a header of a million empty
/// tensors is refused before it takes memory.
pub const MAX_SAFETENSORS_TENSORS: usize = 16_384;

/// Largest GGUF file the reader accepts (`model::format::gguf`): 2 GiB (SmolLM2-135M in Q8_0
/// is 145 MB, Qwen2.5-0.5B in Q8_0 531 MB, Qwen3-0.6B in f16 1.2 GB). The page streams it: the
/// file is never in memory beside its weights.
pub const MAX_GGUF_BYTES: usize = 1 << 31;

/// Most bytes a GGUF file's header (metadata and tensor infos) may take: 64 MiB. A vocabulary
/// and its merges are most of it (Qwen2's 151 936 tokens and 151 387 merges take about 6 MB).
/// Every count in the metadata is checked against what is left of it before anything is
/// allocated.
pub const MAX_GGUF_METADATA_BYTES: usize = 64 << 20;

/// Most metadata keys a GGUF file may have: 4 096 (real files have 30 to 60).
pub const MAX_GGUF_KEYS: usize = 4096;

/// Most tensors a GGUF file may declare: 16 384 (Qwen2.5-0.5B has 290).
pub const MAX_GGUF_TENSORS: usize = 16_384;

/// Longest metadata key or tensor name in a GGUF file, in bytes: 256 (ggml's tensor names are
/// under 64).
pub const MAX_GGUF_NAME_BYTES: usize = 256;

/// How deep a GGUF metadata array may nest arrays: 8 (real files nest none).
pub const MAX_GGUF_ARRAY_DEPTH: usize = 8;

/// Longest `tokenizer.chat_template` a GGUF file may carry: 1 MiB (Qwen2.5's is 2.5 KB,
/// Llama 3.1's 4 KB).
pub const MAX_GGUF_CHAT_TEMPLATE_BYTES: usize = 1 << 20;

/// Most arrays inside arrays a GGUF file's metadata may hold, all keys together: 65 536. Each
/// takes 12 bytes in the file but 32 or more in memory.
pub const MAX_GGUF_INNER_ARRAYS: usize = 1 << 16;

/// Largest llama2.c `model.bin` `model::format::llama2c::read` accepts: 1 GiB (stories110M is
/// 438 MB in f32). The file and its f32 weights are both in memory while loading.
pub const MAX_LLAMA2C_BYTES: usize = 1 << 30;

/// Largest llama2.c `tokenizer.bin`: 32 MiB (Llama 2's, 32 000 pieces, is 424 KB).
pub const MAX_TOKENIZER_BIN_BYTES: usize = 32 << 20;

/// Most parameters a model loaded for inference may have, whatever their dtype: 2^31 =
/// 2.1 G (TinyLlama-1.1B has 1.1 G); what they may take in memory is [`MAX_WEIGHT_BYTES`].
pub const MAX_INFERENCE_PARAMETERS: u64 = 1 << 31;

/// Most bytes a loaded model's weights may take in memory, as held (f32: 4 bytes a parameter;
/// a Llama-family model's bf16 or f16 matrices: 2): 2 GiB, half of wasm32's 4 GiB. GPT-2 small
/// takes 498 MB in f32, Qwen3-0.6B 1.2 GB in bf16.
pub const MAX_WEIGHT_BYTES: usize = 1 << 31;

/// Most bytes a model's weights and its quantised copy's may take together, the copy's
/// largest matrix in f32 while it is quantised included (`model.quantize`): 3 GiB of wasm32's
/// 4 GiB, leaving 1 GiB for the KV caches and activations. Qwen3-0.6B in bf16 (1.2 GB) and its
/// Q8_0 copy (0.64 GB) fit.
pub const MAX_QUANTIZED_PAIR_BYTES: usize = 3 << 30;

/// Largest `tokenizer.json`: 32 MiB (GPT-2's is 1.4 MB).
pub const MAX_TOKENIZER_JSON_BYTES: usize = 32 << 20;

/// Largest `config.json` of a Hugging Face folder (`Net::from_hf`, `Model.fromFiles`):
/// 1 MiB (GPT-2's is under 1 KB).
pub const MAX_CONFIG_JSON_BYTES: usize = 1 << 20;

/// Most bytes a chat template (`tokenizer_config.json`'s `chat_template`) may be, may write,
/// and may be given as a conversation's text: 1 MiB (the published templates are a few KB).
pub const MAX_CHAT_BYTES: usize = 1 << 20;

/// Most steps (minijinja's fuel: about one per instruction) one rendering of a chat template
/// may take: 20 million, a fraction of a second; a real template over a long conversation
/// takes thousands.
pub const MAX_CHAT_FUEL: u64 = 20_000_000;

/// Most JS values (messages, fields, strings) a conversation given to `applyChatTemplate` may
/// hold: 65 536.
pub const MAX_CHAT_VALUES: usize = 1 << 16;

/// Longest text (UTF-8 bytes) that `encode`, a prompt or a pasted training text may have:
/// 8 MiB, more than Shakespeare's complete works (5.1 MB). `decode` takes at most as many ids.
pub const MAX_TEXT_BYTES: usize = 8 << 20;

/// Most logits the calibration card keeps for one text (positions × V): 2^24 (64 MiB as f32),
/// so 199 728 positions of the default model (V = 84) or 333 of GPT-2's (V = 50 257). The
/// temperature fit passes over them all at each step, so they are kept rather than recomputed.
pub const MAX_CALIBRATION_VALUES: usize = 1 << 24;

/// Most bins `calibration`'s reliability diagram may have: 1 000 (the page shows 15).
pub const MAX_CALIBRATION_BINS: usize = 1000;

/// Most parameters a model trained by `Trainer` may have: 2^24 = 16.8 M (weights, two AdamW
/// moments and the gradient then take ~256 MiB). The default model has 820 480.
pub const MAX_TRAIN_PARAMETERS: usize = 1 << 24;

/// Most activation values a training step may keep for the backward pass, as estimated by
/// `train::activation_estimate`: 2^27 (512 MiB as f32). The default model's training
/// (batch 32 × context 128) is estimated at 1.06e8.
pub const MAX_TRAIN_ACTIVATIONS: usize = 1 << 27;

/// Most sequences per training step (`TrainOptions::batch_size`, the page's `batchSize`).
pub const MAX_BATCH_SIZE: usize = 4096;

/// Most optimisation steps one `Trainer::step(n)` call runs, so that one call cannot freeze
/// the page for hours.
pub const MAX_STEPS_PER_CALL: usize = 10_000;

/// Most draws one `draws` call makes.
pub const MAX_DRAWS: usize = 100_000;

/// Most tokens `orderMatters` generates through each of its two chains.
pub const MAX_ORDER_TOKENS: usize = 1000;

/// Most steps in a sampler chain (`new Sampler(steps)`): far more than any reference's chain,
/// and each step's cut code fits a byte.
pub const MAX_CHAIN_STEPS: usize = 64;

/// Most ids in a sampler's `history` (the ids so far), which the repetition steps read.
pub const MAX_HISTORY: usize = 1 << 20;

/// Largest seed: 2^53 − 1, the largest integer a JS number holds exactly.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// A size in bytes as the errors state it: "1 GiB", "64 MiB", "1 000 bytes".
pub fn size_name(bytes: usize) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// "{len} bytes; at most {cap} ({cap as a size}) are accepted": the tail of every error for a
/// file or text over its cap, formatted from the cap's constant.
pub fn over_cap(len: usize, cap: usize) -> String {
    format!(
        "{len} bytes; at most {cap} ({}) are accepted",
        size_name(cap)
    )
}

/// A text (an argument named `argument`) must fit in [`MAX_TEXT_BYTES`] bytes of UTF-8.
pub fn check_text_len(argument: &str, text: &str) -> Result<()> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::new(format!(
            "{argument} has {} bytes of UTF-8; at most {MAX_TEXT_BYTES} ({}) are accepted",
            text.len(),
            size_name(MAX_TEXT_BYTES)
        ))
        .coded(
            Code::TextTooLong,
            [("bytes", text.len().into()), ("max", MAX_TEXT_BYTES.into())],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_named_from_the_constants() {
        assert_eq!(size_name(MAX_HF_SAFETENSORS_BYTES), "2 GiB");
        assert_eq!(size_name(MAX_CHECKPOINT_BYTES), "64 MiB");
        assert_eq!(size_name(MAX_TOKENIZER_JSON_BYTES), "32 MiB");
        assert_eq!(size_name(MAX_TEXT_BYTES), "8 MiB");
        assert_eq!(size_name(1536), "1536 bytes");
        assert_eq!(
            over_cap(65 << 20, MAX_CHECKPOINT_BYTES),
            "68157440 bytes; at most 67108864 (64 MiB) are accepted"
        );
    }
}
