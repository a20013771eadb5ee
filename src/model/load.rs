//! A [`Net`] from each checkpoint format, and back: the one place where [`format`](crate::model::format) (bytes →
//! config, vocabulary and tensors) meets [`net`](crate::model::net) (tensors → forward pass),
//! so that neither knows the other.

use crate::error::Result;
use crate::model::format::{hf_gpt2, llama2c, logitlab};
use crate::model::{Net, Tokenizer};

impl Net {
    /// The checkpoint: safetensors, weights in f16, config and vocabulary in the metadata.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let tensors = self.config().layout().into_iter().zip(self.tensors());
        logitlab::write(
            self.config(),
            logitlab::vocab_of(self.tokenizer())?,
            tensors,
        )
    }

    /// The model as a Hugging Face GPT-2 folder, (file name, bytes), weights stored as `store`:
    /// see [`hf_gpt2::write`].
    pub fn to_hf_gpt2(&self, store: hf_gpt2::StoreAs) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let tensors = self.config().layout().into_iter().zip(self.tensors());
        hf_gpt2::write(self.config(), self.tokenizer(), tensors, store)
    }

    /// Loads a checkpoint written by [`Net::to_safetensors`] from bytes. Anything else is an
    /// error that says what (see [`logitlab::read`]).
    pub fn from_safetensors(bytes: &[u8]) -> Result<Net> {
        let c = logitlab::read(bytes)?;
        Net::from_layout(c.config, c.vocab, c.tensors)
    }

    /// Loads a llama2.c checkpoint: `model.bin` (legacy or version 1) and its `tokenizer.bin`
    /// (see [`llama2c`]).
    pub fn from_llama2c(model_bin: &[u8], tokenizer_bin: &[u8]) -> Result<Net> {
        Net::from_llama2c_checkpoint(llama2c::read(model_bin, tokenizer_bin)?)
    }

    /// The network of a llama2.c checkpoint read by a [`llama2c::Reader`] (the page feeds one
    /// a download as it arrives).
    pub fn from_llama2c_checkpoint(c: llama2c::Checkpoint) -> Result<Net> {
        Net::from_layout(c.config, Tokenizer::SentencePiece(c.tokenizer), c.tensors)
    }

    /// Loads a Hugging Face GPT-2 folder given as (file name, bytes): `config.json`,
    /// `model.safetensors` and `tokenizer.json` (see [`hf_gpt2`]).
    pub fn from_hf_gpt2(files: &[(&str, &[u8])]) -> Result<Net> {
        let c = hf_gpt2::read(files)?;
        Net::from_layout(c.config, c.tokenizer, c.tensors)
    }

    /// [`Net::from_hf_gpt2`] with `model.safetensors` read one tensor at a time (the page keeps
    /// the file in JS memory; see [`hf_gpt2::FileBytes`]).
    pub fn from_hf_gpt2_parts(
        config_json: &[u8],
        model: &dyn hf_gpt2::FileBytes,
        tokenizer_json: &[u8],
    ) -> Result<Net> {
        let c = hf_gpt2::read_parts(config_json, model, tokenizer_json)?;
        Net::from_layout(c.config, c.tokenizer, c.tensors)
    }
}
