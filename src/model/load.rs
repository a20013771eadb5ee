//! A [`Net`] from each checkpoint format, and back: the one place where [`format`](crate::model::format) (bytes →
//! config, vocabulary and tensors) meets [`net`](crate::model::net) (tensors → forward pass),
//! so that neither knows the other.

use crate::error::Result;
use crate::model::chat::{self, ChatTemplate};
use crate::model::format::files::{hf_architecture, HfArchitecture};
use crate::model::format::safetensors::{self, Source};
use crate::model::format::{gguf_model, hf_gpt2, hf_llama, llama2c, logitlab};
use crate::model::{Net, Tokenizer};

impl Net {
    /// The checkpoint: safetensors, weights in f16, config and vocabulary in the metadata.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let values = self.tensors();
        let tensors = self
            .config()
            .layout()
            .into_iter()
            .zip(values.iter().map(|v| &v[..]));
        logitlab::write(
            self.config(),
            logitlab::vocab_of(self.tokenizer())?,
            tensors,
        )
    }

    /// The model as a Hugging Face GPT-2 folder, (file name, bytes), weights stored as `store`:
    /// see [`hf_gpt2::write`].
    pub fn to_hf_gpt2(&self, store: hf_gpt2::StoreAs) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let values = self.tensors();
        let tensors = self
            .config()
            .layout()
            .into_iter()
            .zip(values.iter().map(|v| &v[..]));
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

    /// [`Net::from_hf_gpt2`] with `model.safetensors` read one tensor at a time (see
    /// [`hf_gpt2::FileBytes`]), or loaded as it arrived ([`safetensors::Reader`]).
    pub fn from_hf_gpt2_parts(
        config_json: &[u8],
        model: Source<'_>,
        tokenizer_json: &[u8],
    ) -> Result<Net> {
        let c = hf_gpt2::read_parts(config_json, model, tokenizer_json)?;
        Net::from_layout(c.config, c.tokenizer, c.tensors)
    }

    /// Loads a Hugging Face folder given as (file name, bytes): `config.json`,
    /// `model.safetensors`, `tokenizer.json` and, if there, `generation_config.json` and
    /// `tokenizer_config.json` (its chat template).
    /// `config.json`'s architecture decides the reader: GPT-2 ([`hf_gpt2`]) or the Llama family
    /// ([`hf_llama`]: Llama, Qwen2, Qwen3, weights kept in their dtype).
    pub fn from_hf(files: &[(&str, &[u8])]) -> Result<Net> {
        let file = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n.rsplit(['/', '\\']).next() == Some(name))
                .map(|&(_, bytes)| bytes)
        };
        let need = |name: &str| file(name).ok_or_else(|| hf_gpt2::missing(name));
        let (config, model) = (need(hf_gpt2::CONFIG)?, need(hf_gpt2::MODEL)?);
        let tokenizer = need(hf_gpt2::TOKENIZER)?;
        let generation = file(hf_llama::GENERATION_CONFIG);
        let net = Net::from_hf_parts(config, Source::Bytes(&model), tokenizer, generation)?;
        net.with_chat_files(file(chat::TOKENIZER_CONFIG), file(chat::JINJA))
    }

    /// The same network with the chat template of its folder's `tokenizer_config.json` and
    /// `chat_template.jinja` (their bytes, each if given; [`ChatTemplate::from_files`]).
    pub fn with_chat_files(
        self,
        tokenizer_config: Option<&[u8]>,
        jinja: Option<&[u8]>,
    ) -> Result<Net> {
        Ok(self.with_chat_template(ChatTemplate::from_files(tokenizer_config, jinja)?))
    }

    /// [`Net::from_hf`] with `model.safetensors` read one tensor at a time (see
    /// [`hf_gpt2::FileBytes`]), or loaded as it arrived: see [`Net::hf_reader`].
    pub fn from_hf_parts(
        config_json: &[u8],
        model: Source<'_>,
        tokenizer_json: &[u8],
        generation_config: Option<&[u8]>,
    ) -> Result<Net> {
        let folder = match hf_architecture(config_json)? {
            HfArchitecture::Gpt2 => {
                HfFolder::Gpt2(hf_gpt2::read_folder(config_json, tokenizer_json)?)
            }
            HfArchitecture::Llama(_) => HfFolder::Llama(hf_llama::read_folder(
                config_json,
                tokenizer_json,
                generation_config,
            )?),
        };
        Net::from_hf_folder(folder, model)
    }

    /// A reader for the `model.safetensors` of the Hugging Face folder whose other files are
    /// `config_json`, `tokenizer_json` and `generation_config` (if any), of `file_len` bytes if
    /// known: it takes the file in parts as they arrive ([`safetensors::Reader`]) and keeps the
    /// tensors the architecture reads, checked from the header before any is allocated. The
    /// small files are read now, so a bad one is refused before the weights are downloaded, in
    /// the order [`Net::from_hf_parts`] refuses it.
    pub fn hf_reader(
        config_json: &[u8],
        tokenizer_json: &[u8],
        generation_config: Option<&[u8]>,
        file_len: Option<usize>,
    ) -> Result<HfReader> {
        let (folder, keep): (HfFolder, safetensors::Keep) = match hf_architecture(config_json)? {
            HfArchitecture::Gpt2 => {
                let c = hf_gpt2::read_folder(config_json, tokenizer_json)?;
                let config = c.config;
                (
                    HfFolder::Gpt2(c),
                    Box::new(move |h| hf_gpt2::tensor_names(h, &config)),
                )
            }
            HfArchitecture::Llama(_) => {
                let c = hf_llama::read_folder(config_json, tokenizer_json, generation_config)?;
                let config = c.config;
                (
                    HfFolder::Llama(c),
                    Box::new(move |h| hf_llama::tensor_names(h, &config)),
                )
            }
        };
        Ok(HfReader {
            folder,
            reader: safetensors::Reader::new(file_len, keep)?,
        })
    }

    /// The network of a folder read but its weights, with them from `model`.
    fn from_hf_folder(folder: HfFolder, model: Source<'_>) -> Result<Net> {
        match folder {
            HfFolder::Gpt2(c) => {
                let c = c.with_weights(model)?;
                Net::from_layout(c.config, c.tokenizer, c.tensors)
            }
            HfFolder::Llama(c) => {
                let c = c.with_weights(model)?;
                Net::from_tensors(c.config, c.tokenizer, c.tensors)?.with_end_ids(c.eos_token_ids)
            }
        }
    }

    /// Loads a GGUF file of the Llama family (llama, qwen2, qwen3; see [`gguf_model`]) named
    /// `file` (for errors): weights kept as stored, quantised ones included.
    pub fn from_gguf(file: &str, bytes: &[u8]) -> Result<Net> {
        Net::from_gguf_checkpoint(gguf_model::read(file, bytes)?)
    }

    /// The network of a GGUF file read by a [`gguf_model::Reader`] (the page feeds one a
    /// download as it arrives). Generation ends at its `eos_token_id`; its
    /// `tokenizer.chat_template`, if it has one, is the model's chat template.
    pub fn from_gguf_checkpoint(c: gguf_model::Checkpoint) -> Result<Net> {
        let t = c.tokenizer;
        let eos: Vec<u32> = t.eos.into_iter().collect();
        // The special tokens a template may write, by their text, as transformers passes them.
        let mut tokens = Vec::new();
        for (name, id) in [("bos_token", t.bos), ("eos_token", t.eos)] {
            if let Some(id) = id.filter(|&id| (id as usize) < t.tokenizer.len()) {
                tokens.push((name, t.tokenizer.decode(&[id])?));
            }
        }
        let chat = t
            .chat_template
            .map(|source| ChatTemplate::from_gguf(source, tokens));
        let net = Net::from_tensors(c.config, t.tokenizer, c.tensors)?.with_end_ids(eos)?;
        Ok(net
            .with_chat_template(chat)
            .with_gguf_vocab(Some(t.metadata)))
    }
}

/// A Hugging Face folder read but its weights, of either reader.
#[derive(Debug)]
enum HfFolder {
    Gpt2(hf_gpt2::Checkpoint),
    Llama(hf_llama::Checkpoint),
}

/// Reads a Hugging Face folder's `model.safetensors` as it arrives, its other files already
/// read ([`Net::hf_reader`]).
#[derive(Debug)]
pub struct HfReader {
    folder: HfFolder,
    reader: safetensors::Reader,
}

impl HfReader {
    /// Bytes of `model.safetensors` received so far.
    pub fn received(&self) -> usize {
        self.reader.received()
    }

    /// Takes `bytes`, the file's next part.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.reader.push(bytes)
    }

    /// Takes the file's next `len` bytes from a source outside this memory (see
    /// [`safetensors::Reader::push_with`]).
    pub fn push_with(&mut self, len: usize, copy: impl FnMut(usize, &mut [u8])) -> Result<()> {
        self.reader.push_with(len, copy)
    }

    /// The network, once every byte is in: an error if the file ended early.
    pub fn finish(self) -> Result<Net> {
        let tensors = self.reader.finish()?;
        Net::from_hf_folder(self.folder, Source::Loaded(tensors))
    }
}
