//! Checkpoint formats: how a model's config, vocabulary and parameters are stored in bytes, and
//! which files make which model ([`files`]).
//! logitlab's own ([`logitlab`]), Hugging Face GPT-2 folders ([`hf_gpt2`], read only), Hugging
//! Face Llama, Qwen2 and Qwen3 folders ([`hf_llama`], read only; their `model.safetensors`
//! through [`safetensors`], shared with GPT-2's) and llama2.c's `model.bin` + `tokenizer.bin`
//! ([`llama2c`], read only), and llama.cpp's GGUF files ([`gguf`] the container,
//! [`gguf_model`] the Llama-family model in it, [`gguf_tokenizer`] its tokenizer; read only). Every safetensors header, logitlab's included, is parsed by
//! [`safetensors_header`], within a memory bound.
//! A format reads and writes one array of f32 values per [`crate::model::Param`] of the layout,
//! so the candle model and the plain-array model save and load through the same code.

use crate::error::Result;

pub mod files;
pub mod gguf;
pub mod gguf_model;
pub mod gguf_tokenizer;
pub mod gguf_write;
pub mod hf_gpt2;
pub mod hf_llama;
pub mod llama2c;
pub mod logitlab;
pub mod safetensors;
pub mod safetensors_header;
pub mod zip;

/// A reader that takes a file as its bytes arrive and says where each next byte belongs, so
/// that every byte is copied once, straight into its place (llama2.c's, safetensors').
pub(crate) trait Slots {
    /// Where the next bytes of the file go: at most `max` of them (and at least one, unless the
    /// file is complete). [`Slots::advance`] then takes them.
    fn next_bytes(&mut self, max: usize) -> &mut [u8];

    /// Takes the first `n` bytes of the last [`Slots::next_bytes`] as the file's next bytes.
    fn advance(&mut self, n: usize) -> Result<()>;

    /// Takes the file's next `len` bytes: `copy(at, dest)` writes the source's bytes
    /// `at..at + dest.len()` into `dest`.
    fn fill(&mut self, len: usize, mut copy: impl FnMut(usize, &mut [u8])) -> Result<()> {
        let mut at = 0;
        while at < len {
            let dest = self.next_bytes(len - at);
            if dest.is_empty() {
                return self.advance(len - at); // past the end: the error
            }
            let n = dest.len();
            copy(at, dest);
            at += n;
            self.advance(n)?;
        }
        Ok(())
    }
}

/// The `copy` of [`Slots::fill`] for bytes already in this memory.
pub(crate) fn copy_from(bytes: &[u8]) -> impl FnMut(usize, &mut [u8]) + '_ {
    move |at, dest| dest.copy_from_slice(&bytes[at..at + dest.len()])
}

/// The f32 value of the float16 with bits `h`, exactly (every float16 is an f32). Without
/// branches on the common path, so that converting a checkpoint's ~1M weights is a vectorised
/// loop rather than a call per weight (it was a third of the page's model load).
pub fn f16_bits_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let em = u32::from(h & 0x7fff); // exponent and mantissa
    let magnitude = if em >= 0x7c00 {
        // All exponent bits set: ±∞ or NaN, kept as such.
        f32::from_bits(0x7f80_0000 | (em & 0x3ff) << 13)
    } else {
        // Shifted into f32's fields the exponent is off by 127 − 15; multiplying by 2^112
        // corrects it, exactly, for normal and subnormal float16 alike.
        f32::from_bits(em << 13) * f32::from_bits(0x7780_0000)
    };
    f32::from_bits(magnitude.to_bits() | sign)
}

/// The bytes of a weights file (`model.safetensors`), read a range at a time: natively a slice; in the browser the file can stay in JS memory and only one tensor at a
/// time is copied into wasm, so loading never holds the whole file and all the f32 weights in
/// wasm memory at once.
pub trait FileBytes {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Bytes `start..end`, with `start ≤ end ≤ len()` (the caller checks).
    fn read(&self, start: usize, end: usize) -> std::borrow::Cow<'_, [u8]>;
}

impl FileBytes for &[u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }
    fn read(&self, start: usize, end: usize) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self[start..end])
    }
}
