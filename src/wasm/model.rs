//! The wasm-bindgen layer for the model and generation (training: `wasm::train`). It converts
//! and validates JS values, calls [`crate::model`], and converts the results
//! back; no logic lives here. Every export returns `Result<_, JsError>` whose message names the
//! argument.
//!
//! ```js
//! const bytes = new Uint8Array(await (await fetch(defaultModelUrl())).arrayBuffer());
//! const model = Model.fromBytes(bytes);
//! model.config;        // { vocabSize, contextLength, layers, heads, embd, parameters, dtype, … }
//! const ids = model.encode("ROMEO:");                  // Uint32Array
//! model.forward(ids, { output: "logSoftmax" });        // Float32Array, length V
//! const gen = model.generate("ROMEO:", { temperature: 0.8, topK: 20, seed: 1 });
//! gen.next();                        // { token, text, probs: Float32Array, seed }
//! ```

use std::collections::BTreeMap;

use js_sys::{Float32Array, Reflect, Uint32Array, Uint8Array};
use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::limits::{
    MAX_CHECKPOINT_BYTES, MAX_LLAMA2C_BYTES, MAX_TEXT_BYTES, MAX_TOKENIZER_BIN_BYTES,
};
use crate::model::format::files::{self, Format, Role};
use crate::model::format::{gguf_model, gguf_write, hf_gpt2, llama2c};
use crate::model::load::HfReader;
use crate::model::quant::QType;
use crate::model::{self, Dtype, Family, Generator, Net, OutputMode, Tokenizer, Variant};
use crate::wasm::convert::{bytes_arg, ids_arg, js_err, options, string_arg, to_js};
use crate::wasm::js_value::{self, bytes_of, is_array};
use crate::wasm::sampling::sampler_options;

/// Where the page finds the default checkpoint, relative to `www/`.
#[wasm_bindgen(js_name = defaultModelUrl)]
pub fn default_model_url() -> String {
    files::DEFAULT_MODEL_PATH.into()
}

/// A character-level GPT loaded from a checkpoint, for inference ([`Net`]).
#[wasm_bindgen]
pub struct Model {
    pub(crate) inner: Net,
    /// Which files it was read from (the model card names the family by it).
    pub(crate) format: Format,
}

#[wasm_bindgen]
impl Model {
    /// Loads a safetensors checkpoint (e.g. `fetch` → `arrayBuffer` → `Uint8Array`).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(
        #[wasm_bindgen(unchecked_param_type = "Bytes")] bytes: JsValue,
    ) -> Result<Model, JsError> {
        let bytes = bytes_arg("bytes", &bytes, MAX_CHECKPOINT_BYTES)?;
        Ok(Model {
            inner: Net::from_safetensors(&bytes).map_err(js_err)?,
            format: Format::Logitlab,
        })
    }

    /// Loads a model from its files, by name (a folder path before the name is fine):
    ///
    /// - `{ 'config.json': u8, 'model.safetensors': u8, 'tokenizer.json': u8 }`: a Hugging Face
    ///   folder as `save_pretrained` writes it (GPT-2, Llama, Qwen2 or Qwen3, as `config.json`'s
    ///   `architectures` says), with a byte-level BPE tokenizer; `generation_config.json`, if
    ///   given, supplies the end-of-text ids, and `tokenizer_config.json`, if given, the chat
    ///   template (`chatTemplate`); other files (`vocab.json`, …) are ignored;
    /// - `{ 'default.safetensors': u8 }`: one logitlab checkpoint (as `fromBytes`).
    ///
    /// Values are Uint8Arrays or ArrayBuffers. Each file's size is checked against its cap before
    /// it is copied; an error names the file and the field. A large `model.safetensors`,
    /// llama2.c `.bin` or `.gguf` may also be an array of consecutive pieces (Uint8Arrays or
    /// ArrayBuffers): it is read as a stream ([`ModelReader`]), each byte copied once, straight
    /// into its weight, and each piece is removed from the array (set to `undefined`) as soon
    /// as it is read, so the model is not held twice while it loads.
    #[wasm_bindgen(js_name = fromFiles)]
    pub fn from_files(
        #[wasm_bindgen(unchecked_param_type = "Record<string, Bytes | Bytes[]>")] files: JsValue,
    ) -> Result<Model, JsError> {
        // An array, or the bytes of one file, is not a record of named files (its indices would
        // be taken for names).
        if !files.is_object() || is_array(&files) || bytes_of(&files).is_some() {
            return Err(JsError::new(&format!(
                "files must be an object of file name → Uint8Array, like {{ 'config.json': bytes, \
                 'model.safetensors': bytes, 'tokenizer.json': bytes }}, got {}",
                crate::wasm::convert::describe(&files)
            )));
        }
        let unreadable = |e: String| JsError::new(&format!("files: {e}"));
        let names = js_value::keys(&files, MAX_NAMES as usize).map_err(unreadable)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let plan = files::identify(&names).map_err(js_err)?;
        // Every file the model needs is read from the record before any is measured: a getter
        // of the caller's runs now, not between a file's length check and its copy.
        let mut values = Vec::with_capacity(plan.files.len());
        for f in &plan.files {
            let v = js_value::field(&files, &f.name).map_err(unreadable)?;
            values.push(JsPieces::read(files::base(&f.name), &v)?);
        }
        let value = |f: &files::Needed| {
            let i = plan
                .files
                .iter()
                .position(|g| g.name == f.name)
                .unwrap_or(0);
            &values[i]
        };
        let bytes = |role| -> Result<Vec<u8>, JsError> {
            let f = plan.get(role).expect("the format has this file");
            Ok(JsFile::new(files::base(&f.name), value(f), f.cap)?.whole())
        };
        let weights = plan.get(Role::Weights);
        let inner = match plan.format {
            Format::HuggingFace => {
                // model.safetensors is read as a stream of its pieces, each copied straight
                // into the tensors and dropped from the array once read.
                let w = weights.expect("a folder has its weights");
                let mut pieces = JsFile::new(files::base(&w.name), value(w), w.cap)?;
                let config = bytes(Role::Config)?;
                let tokenizer = bytes(Role::Tokenizer)?;
                let optional = |role| match plan.get(role) {
                    Some(_) => bytes(role).map(Some),
                    None => Ok(None),
                };
                let generation = optional(Role::GenerationConfig)?;
                let tokenizer_config = optional(Role::TokenizerConfig)?;
                let jinja = optional(Role::ChatTemplate)?;
                let size = hf_gpt2::FileBytes::len(&pieces);
                let mut reader =
                    Net::hf_reader(&config, &tokenizer, generation.as_deref(), Some(size))
                        .map_err(js_err)?;
                for i in 0..pieces.pieces.len() {
                    let piece = &pieces.pieces[i];
                    let len = piece.length() as usize;
                    reader.push_with(len, copy_from(piece)).map_err(js_err)?;
                    pieces.release(i, value(w));
                }
                reader.finish().and_then(|net| {
                    net.with_chat_files(tokenizer_config.as_deref(), jinja.as_deref())
                })
            }
            Format::Logitlab => Net::from_safetensors(&bytes(Role::Checkpoint)?),
            Format::Llama2c => {
                // Read as a stream of its pieces, each dropped from the array once read.
                let w = weights.expect("a llama2.c model has its checkpoint");
                let mut pieces = JsFile::new(files::base(&w.name), value(w), w.cap)?;
                let tokenizer = bytes(Role::Tokenizer)?;
                let size = hf_gpt2::FileBytes::len(&pieces);
                let mut reader = llama2c::Reader::new(Some(size), &tokenizer).map_err(js_err)?;
                for i in 0..pieces.pieces.len() {
                    let piece = &pieces.pieces[i];
                    let len = piece.length() as usize;
                    reader.push_with(len, copy_from(piece)).map_err(js_err)?;
                    pieces.release(i, value(w));
                }
                reader.finish().and_then(Net::from_llama2c_checkpoint)
            }
            Format::Gguf => {
                // Read as a stream of its pieces, each dropped from the array once read.
                let w = weights.expect("a GGUF model is its file");
                let mut pieces = JsFile::new(files::base(&w.name), value(w), w.cap)?;
                let size = hf_gpt2::FileBytes::len(&pieces);
                let mut reader =
                    gguf_model::Reader::new(files::base(&w.name), Some(size)).map_err(js_err)?;
                for i in 0..pieces.pieces.len() {
                    let piece = &pieces.pieces[i];
                    let len = piece.length() as usize;
                    reader.push_with(len, copy_from(piece)).map_err(js_err)?;
                    pieces.release(i, value(w));
                }
                reader.finish().and_then(Net::from_gguf_checkpoint)
            }
        };
        Ok(Model {
            inner: inner.map_err(js_err)?,
            format: plan.format,
        })
    }

    /// The display form of one token: its text with visible `␣` and `↵`, or `<0xE2>` for a
    /// byte that is only part of a character.
    #[wasm_bindgen(js_name = tokenText)]
    pub fn token_text(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] id: JsValue,
    ) -> Result<String, JsError> {
        let v = self.inner.config().vocab_size;
        match id.as_f64() {
            Some(x) if x.fract() == 0.0 && x >= 0.0 && x < v as f64 => {
                self.inner.tokenizer().token_text(x as u32).map_err(js_err)
            }
            _ => Err(js_err(Error::arg(
                "id",
                &format!("a token id in [0, {v})"),
                crate::wasm::convert::describe(&id),
            ))),
        }
    }

    /// The model as a Hugging Face GPT-2 folder `folder/` (config.json, model.safetensors in
    /// f32, tokenizer.json), zipped (stored, uncompressed) for one download:
    /// `GPT2LMHeadModel.from_pretrained` loads the unzipped folder. The lab's own character
    /// models only, with ASCII characters. A quantised copy is written with its weights
    /// dequantised to f32: transformers runs those weights without the copy's rounding of each
    /// matmul's input to 8-bit blocks, so its logits are close to the copy's, not the same.
    #[wasm_bindgen(js_name = toHuggingFaceZip)]
    pub fn to_hugging_face_zip(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] folder: JsValue,
    ) -> Result<Vec<u8>, JsError> {
        let folder = string_arg("folder", &folder)?;
        if folder.is_empty()
            || folder.len() > 100
            || !folder
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(js_err(Error::arg(
                "folder",
                "1 to 100 letters, digits, '-', '_' or '.'",
                format!("{folder:?}"),
            )));
        }
        let files = self
            .inner
            .to_hf_gpt2(crate::model::format::hf_gpt2::StoreAs::F32)
            .map_err(js_err)?;
        crate::model::format::zip::stored(&folder, &files).map_err(js_err)
    }

    /// The checkpoint bytes (f16 safetensors), e.g. to save a model trained in the page.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Result<Vec<u8>, JsError> {
        self.inner.to_safetensors().map_err(js_err)
    }

    /// The model's shape, architecture and tokenizer.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelConfig")]
    pub fn config(&self) -> JsValue {
        let config = self.inner.config();
        let mut out = ModelConfig::new(config);
        match config.arch.family {
            Family::Gpt2 => out.architecture = Some(Architecture::Gpt2),
            Family::Llama(l) => {
                out.architecture = Some(match l.variant {
                    Variant::Llama => Architecture::Llama,
                    Variant::Qwen2 => Architecture::Qwen2,
                    Variant::Qwen3 => Architecture::Qwen3,
                });
                out.kv_heads = Some(l.kv_heads as u32);
                out.head_dim = Some(l.head_dim as u32);
            }
        }
        out.head_dim = out.head_dim.or(Some((config.embd / config.heads) as u32));
        out.tied_head = Some(config.arch.tied_head);
        out.format = Some(self.format.name());
        out.chat_template = Some(self.inner.chat_template().is_some());
        out.chat_template_file = self.inner.chat_template().map(|t| t.file());
        out.dtype = Some(match self.inner.matrix_dtype() {
            Some(d) => WeightDtype::of(d),
            None => WeightDtype::Mixed,
        });
        out.tensor_types = Some(
            self.inner
                .tensor_types()
                .into_iter()
                .map(|(d, n)| (d.name(), n as u32))
                .collect(),
        );
        out.tokenizer = Some(match self.inner.tokenizer() {
            Tokenizer::Chars(_) => TokenizerKind::Chars,
            Tokenizer::Bpe(_) => TokenizerKind::Bpe,
            Tokenizer::SentencePiece(_) => TokenizerKind::Sentencepiece,
        });
        to_js(&out)
    }

    /// The checkpoint's end-of-text ids (a Hugging Face model's `eos_token_id`, from
    /// `generation_config.json` or `config.json`; a GGUF file's `tokenizer.ggml.eos_token_id`);
    /// generation stops at them (`end`).
    #[wasm_bindgen(getter, js_name = eosTokenIds)]
    pub fn eos_token_ids(&self) -> Uint32Array {
        Uint32Array::from(self.inner.end_ids())
    }

    /// Every id generation stops at (`end`): `eosTokenIds`, then the tokenizer's BOS where it
    /// has one and it is not among them (llama2.c's `<s>`, where run.c stops too; the `<s>` or
    /// `<|begin_of_text|>` a Hugging Face tokenizer begins every text with). Empty for a
    /// model whose texts end only where the caller stops.
    #[wasm_bindgen(getter, js_name = endTokenIds)]
    pub fn end_token_ids(&self) -> Uint32Array {
        Uint32Array::from(&self.inner.text_end_ids()[..])
    }

    /// The vocabulary: character i is token id i (empty for a byte-level BPE model).
    #[wasm_bindgen(getter)]
    pub fn vocab(&self) -> String {
        let vocab = self.inner.tokenizer().chars();
        vocab
            .map(|v| v.chars().iter().collect())
            .unwrap_or_default()
    }

    /// Text → token ids, without special tokens (as transformers'
    /// `tokenizer(text, add_special_tokens=False)`); with `options.addSpecialTokens`, exactly
    /// `tokenizer(text).input_ids` (Llama 2 and TinyLlama begin with `<s>`, Llama 3 with
    /// `<|begin_of_text|>`, Qwen with nothing; llama2.c's models with BOS, as run.c). A
    /// character outside a character model's vocabulary is an error naming it.
    pub fn encode(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "EncodeOptions")] options: JsValue,
    ) -> Result<Uint32Array, JsError> {
        let text = string_arg("text", &text)?;
        let o: EncodeOptions = self::options(&options, "options")?;
        let ids = if o.add_special_tokens.unwrap_or(false) {
            self.inner.encode_with_special(&text)
        } else {
            self.inner.encode(&text)
        }
        .map_err(js_err)?;
        Ok(Uint32Array::from(&ids[..]))
    }

    /// The ids generation starts from for `text`, and which the page's next-token panels read:
    /// the tokenizer's BOS where the model expects one (Llama, llama2.c; never twice), then
    /// `text`'s ids. A character outside a character model's vocabulary is an error naming it.
    #[wasm_bindgen(js_name = promptIds)]
    pub fn prompt_ids(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    ) -> Result<Uint32Array, JsError> {
        let text = string_arg("text", &text)?;
        let ids = self.inner.prompt_ids(&text).map_err(js_err)?;
        Ok(Uint32Array::from(&ids[..]))
    }

    /// How long `text` is in tokens under this model's tokenizer, and in words (runs of
    /// characters between whitespace): `{ tokens, words, perWord }`, `perWord` = tokens / words
    /// (absent for a text without a word).
    #[wasm_bindgen(js_name = tokenStats, unchecked_return_type = "TokenStats")]
    pub fn token_stats(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    ) -> Result<JsValue, JsError> {
        let text = string_arg("text", &text)?;
        if text.len() > MAX_TEXT_BYTES {
            return Err(js_err(Error::arg(
                "text",
                &format!("at most {MAX_TEXT_BYTES} bytes"),
                format!("{} bytes", text.len()),
            )));
        }
        let s = self.inner.token_stats(&text).map_err(js_err)?;
        Ok(to_js(&TokenStats {
            tokens: s.tokens as f64,
            words: s.words as f64,
            per_word: s.per_word,
        }))
    }

    /// Token ids → text. An id ≥ vocabSize is an error.
    pub fn decode(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TokenIds")] ids: JsValue,
    ) -> Result<String, JsError> {
        let ids = ids_arg("ids", &ids, MAX_TEXT_BYTES)?;
        self.inner.decode(&ids).map_err(js_err)
    }

    /// The next-token values after the last id (length V), as `options.output`:
    /// `"logits"` (default) or `"logSoftmax"`. With `allPositions: true`, every position's
    /// values (T × V, row-major). `ids` must hold 1..=contextLength ids.
    pub fn forward(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TokenIds")] ids: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ForwardOptions")] options: JsValue,
    ) -> Result<Float32Array, JsError> {
        let ctx = self.inner.config().context_length;
        let ids = ids_arg("ids", &ids, MAX_TEXT_BYTES)?;
        let ids = &ids[..];
        let o: ForwardOptions = self::options(&options, "options")?;
        let mode = o.output.unwrap_or_default();
        if ids.is_empty() || ids.len() > ctx {
            return Err(js_err(Error::arg(
                "ids",
                &format!("1 to contextLength = {ctx} token ids"),
                ids.len(),
            )));
        }
        let values = if o.all_positions.unwrap_or(false) {
            self.inner.forward_ids(ids, mode)
        } else {
            self.inner.next_token_values(ids, mode)
        }
        .map_err(js_err)?;
        Ok(Float32Array::from(&values[..]))
    }

    /// What `quantize(type)` would take, known before it starts: `{ weightBytes, scratchBytes,
    /// neededBytes, quantized, kept }` (the copy's weights; the most one matrix takes in f32
    /// while it is quantised; their sum, the memory needed besides this model's; how many
    /// matrices become blocks and how many stay). Throws what `quantize` would throw.
    #[wasm_bindgen(js_name = quantizePlan, unchecked_return_type = "QuantizePlan")]
    pub fn quantize_plan(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuantizeType")] qtype: JsValue,
    ) -> Result<JsValue, JsError> {
        let qtype = quantize_type_arg(&qtype)?;
        let p = self.inner.quantize_plan(qtype).map_err(js_err)?;
        Ok(to_js(&QuantizePlan {
            weight_bytes: p.weight_bytes as f64,
            scratch_bytes: p.scratch_bytes as f64,
            needed_bytes: p.needed_bytes() as f64,
            quantized: p.quantized as u32,
            kept: p.kept as u32,
            already_quantized: p.already_quantized as u32,
            position_embeddings: p.position_embeddings as u32,
            undivided: p.undivided() as u32,
        }))
    }

    /// A new Model: this model with every weight matrix whose rows divide into the type's
    /// blocks quantised as llama.cpp's quantiser writes it (`'q8_0'`, `'q4_0'` or `'q4_K'`;
    /// blocks of 32, 32 and 256 values), but a GPT-2's position embedding, which llama.cpp
    /// keeps. This model stays as it is: both are held, so `quantizePlan` says first how much
    /// more memory the copy takes. A pair over 3 GiB is refused (`quantize.tooLarge`).
    pub fn quantize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuantizeType")] qtype: JsValue,
    ) -> Result<Model, JsError> {
        let qtype = quantize_type_arg(&qtype)?;
        Ok(Model {
            inner: self.inner.quantized(qtype).map_err(js_err)?,
            format: self.format,
        })
    }

    /// This model as a GGUF file (version 3) that llama.cpp loads and runs: its architecture's
    /// hyperparameters, its tokenizer's metadata and its tensors in their types (a quantised
    /// copy's blocks as they are held). The writer is deterministic: the same model gives the
    /// same bytes. The tokenizer metadata is the `.gguf`'s a model was read from, or, for a
    /// Hugging Face folder, its byte-level BPE `tokenizer.json` as llama.cpp's converter
    /// writes it. A tokenizer with no such form (llama2.c's SentencePiece; a `tokenizer.json`
    /// whose pre-tokenizer llama.cpp does not name, or that falls back to byte tokens), a
    /// GPT-2-family model and Llama 3's rope scaling are refused with why
    /// (`model.ggufExport`), and so is a file over 2 GiB.
    #[wasm_bindgen(js_name = toGguf)]
    pub fn to_gguf(&self) -> Result<Uint8Array, JsError> {
        let bytes = gguf_write::to_gguf(&self.inner).map_err(js_err)?;
        Ok(Uint8Array::from(&bytes[..]))
    }

    /// Starts streaming generation after `prompt`. Options: the sampler's `temperature`,
    /// `topK`, `topP`, `minP`, `seed` (an integer; absent = random, reported by `gen.seed`),
    /// and `output`: which model output feeds the sampler (`"logits"` or `"logSoftmax"`).
    pub fn generate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] prompt: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "GenerateOptions")] options: JsValue,
    ) -> Result<Generation, JsError> {
        let prompt = string_arg("prompt", &prompt)?;
        let a: GenerateOptions = self::options(&options, "options")?;
        let mode = a.output.unwrap_or_default();
        let o = a.sampler(mode.sample_input())?;
        Ok(Generation {
            inner: Generator::new(&self.inner, &prompt, mode, o).map_err(js_err)?,
        })
    }
}

/// Reads a model's large file as its bytes arrive: a llama2.c `model.bin` (with its
/// `tokenizer.bin`), a Hugging Face folder's `model.safetensors` (with the folder's other
/// files) or a `.gguf` file. The page feeds it a download or a dropped file through one
/// reused buffer, each byte copied once, straight into the weight it belongs to, so a large
/// model is never in memory twice (Qwen2.5-0.5B in bf16: 988 MB).
///
/// ```js
/// // llama2.c: the model file's size (undefined if unknown) and tokenizer.bin's bytes
/// const reader = new ModelReader(file.size, tokenizerBytes);
/// // any format: the other files by name, the streamed file's name and size
/// const reader = ModelReader.forFiles({ 'config.json': u8, 'tokenizer.json': u8 }, 'model.safetensors', size);
/// for await (const part of file.stream()) reader.push(part);  // Uint8Arrays, any sizes
/// const model = reader.finish();
/// ```
///
/// A bad header is refused by the `push` that completes it, before any weight is allocated
/// (a Hugging Face folder's `config.json` already by `forFiles`); after an error the reader is
/// spent.
#[wasm_bindgen]
pub struct ModelReader {
    inner: Option<Streaming>,
}

/// The reader of each format, with the files read whole that the model needs beside it.
enum Streaming {
    Llama2c(llama2c::Reader),
    HuggingFace {
        reader: HfReader,
        tokenizer_config: Option<Vec<u8>>,
        jinja: Option<Vec<u8>>,
    },
    Gguf(gguf_model::Reader),
}

/// `size` as the length of a file of at most `cap` bytes: an integer, or undefined if unknown.
fn size_arg(size: Option<f64>, cap: usize) -> Result<Option<usize>, JsError> {
    match size {
        None => Ok(None),
        Some(s) if s.fract() == 0.0 && (0.0..=cap as f64).contains(&s) => Ok(Some(s as usize)),
        Some(s) => Err(JsError::new(&format!(
            "size must be an integer in [0, {cap}] (bytes) or undefined, got {s}"
        ))),
    }
}

#[wasm_bindgen]
impl ModelReader {
    /// A llama2.c model: `size` is the model file's length in bytes, if known (a file's size,
    /// a download's Content-Length), checked against its header; `tokenizer`: tokenizer.bin's
    /// bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(
        size: Option<f64>,
        #[wasm_bindgen(unchecked_param_type = "Bytes")] tokenizer: &JsValue,
    ) -> Result<ModelReader, JsError> {
        let size = size_arg(size, MAX_LLAMA2C_BYTES)?;
        let tokenizer = bytes_arg("tokenizer.bin", tokenizer, MAX_TOKENIZER_BIN_BYTES)?;
        Ok(ModelReader {
            inner: Some(Streaming::Llama2c(
                llama2c::Reader::new(size, &tokenizer).map_err(js_err)?,
            )),
        })
    }

    /// A reader for the file `name` of the model that `files` (its other files, by name, as
    /// `Model.fromFiles` takes them) and `name` make, which `modelFiles` marks `streamed`;
    /// `size` is its length in bytes, if known. Each of `files` is checked against its cap.
    #[wasm_bindgen(js_name = forFiles)]
    pub fn for_files(
        #[wasm_bindgen(unchecked_param_type = "Record<string, Bytes>")] files: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        size: Option<f64>,
    ) -> Result<ModelReader, JsError> {
        let name = string_arg("name", &name)?;
        if !files.is_object() || is_array(&files) || bytes_of(&files).is_some() {
            return Err(JsError::new(&format!(
                "files must be an object of file name → Uint8Array, got {}",
                crate::wasm::convert::describe(&files)
            )));
        }
        let unreadable = |e: String| JsError::new(&format!("files: {e}"));
        let mut names = js_value::keys(&files, MAX_NAMES as usize).map_err(unreadable)?;
        names.push(name.clone());
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let plan = files::identify(&names).map_err(js_err)?;
        let streamed = plan.files.iter().find(|f| f.streamed);
        let Some(weights) = streamed.filter(|f| f.name == name) else {
            return Err(JsError::new(&format!(
                "name: {} is not read as it arrives in a {} model; use Model.fromFiles",
                crate::error::brief(&name),
                plan.format.name()
            )));
        };
        let size = size_arg(size, weights.cap)?;
        let bytes = |role| -> Result<Option<Vec<u8>>, JsError> {
            let Some(f) = plan.get(role) else {
                return Ok(None);
            };
            let v = js_value::field(&files, &f.name).map_err(unreadable)?;
            let base = files::base(&f.name);
            Ok(Some(
                JsFile::new(base, &JsPieces::read(base, &v)?, f.cap)?.whole(),
            ))
        };
        let need = |role| bytes(role).map(|b| b.expect("the format has this file"));
        let inner = match plan.format {
            Format::Llama2c => {
                let tokenizer = need(Role::Tokenizer)?;
                Streaming::Llama2c(llama2c::Reader::new(size, &tokenizer).map_err(js_err)?)
            }
            Format::HuggingFace => {
                let (config, tokenizer) = (need(Role::Config)?, need(Role::Tokenizer)?);
                let generation = bytes(Role::GenerationConfig)?;
                let reader = Net::hf_reader(&config, &tokenizer, generation.as_deref(), size);
                Streaming::HuggingFace {
                    reader: reader.map_err(js_err)?,
                    tokenizer_config: bytes(Role::TokenizerConfig)?,
                    jinja: bytes(Role::ChatTemplate)?,
                }
            }
            Format::Gguf => {
                Streaming::Gguf(gguf_model::Reader::new(files::base(&name), size).map_err(js_err)?)
            }
            Format::Logitlab => unreachable!("a logitlab checkpoint is not streamed"),
        };
        Ok(ModelReader { inner: Some(inner) })
    }

    /// Takes the file's next bytes (a Uint8Array, an ArrayBuffer or a DataView), copied straight
    /// to where they belong. Anything else is an error that leaves the reader as it was.
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Bytes")] bytes: &JsValue,
    ) -> Result<(), JsError> {
        let bytes = crate::wasm::convert::uint8_arg("bytes", bytes, usize::MAX)?;
        let len = bytes.length() as usize;
        let copy = copy_from(&bytes);
        let pushed = match self.inner.as_mut().ok_or_else(spent)? {
            Streaming::Llama2c(r) => r.push_with(len, copy),
            Streaming::HuggingFace { reader, .. } => reader.push_with(len, copy),
            Streaming::Gguf(r) => r.push_with(len, copy),
        };
        pushed.map_err(|e| {
            self.inner = None;
            js_err(e)
        })
    }

    /// Bytes taken so far.
    #[wasm_bindgen(getter)]
    pub fn received(&self) -> f64 {
        (match &self.inner {
            None => 0,
            Some(Streaming::Llama2c(r)) => r.received(),
            Some(Streaming::HuggingFace { reader, .. }) => reader.received(),
            Some(Streaming::Gguf(r)) => r.received(),
        }) as f64
    }

    /// The model, once every byte is in: an error if the file ended early.
    pub fn finish(&mut self) -> Result<Model, JsError> {
        let (inner, format) = match self.inner.take().ok_or_else(spent)? {
            Streaming::Llama2c(r) => (
                r.finish().and_then(Net::from_llama2c_checkpoint),
                Format::Llama2c,
            ),
            Streaming::HuggingFace {
                reader,
                tokenizer_config,
                jinja,
            } => {
                let net = reader.finish().and_then(|net| {
                    net.with_chat_files(tokenizer_config.as_deref(), jinja.as_deref())
                });
                (net, Format::HuggingFace)
            }
            Streaming::Gguf(r) => (r.finish().and_then(Net::from_gguf_checkpoint), Format::Gguf),
        };
        Ok(Model {
            inner: inner.map_err(js_err)?,
            format,
        })
    }
}

/// The error for a [`ModelReader`] used after an error or `finish`.
fn spent() -> JsError {
    JsError::new("this ModelReader has failed or finished; start a new one")
}

/// Copies bytes `at..at + dest.len()` of a Uint8Array into `dest`: how a reader's
/// `push_with` takes a JS part, each byte copied once, straight to where it belongs.
fn copy_from(bytes: &Uint8Array) -> impl FnMut(usize, &mut [u8]) + '_ {
    move |at, dest| {
        bytes
            .subarray(at as u32, (at + dest.len()) as u32)
            .copy_to(dest);
    }
}

/// One file's value in `Model.fromFiles`' record as the caller gave it: bytes, or an array of
/// consecutive pieces, each read from the array once (a proxy's traps run here, before anything
/// is measured).
struct JsPieces {
    /// The caller's array, if the file came in pieces: its entries are released as they are read.
    array: Option<JsValue>,
    pieces: Vec<JsValue>,
}

impl JsPieces {
    fn read(name: &str, v: &JsValue) -> Result<JsPieces, JsError> {
        if !is_array(v) {
            return Ok(JsPieces {
                array: None,
                pieces: vec![v.clone()],
            });
        }
        let unreadable = |e: String| JsError::new(&format!("{name}: {e}"));
        let len = js_value::array_length(v).map_err(unreadable)?;
        if len > MAX_NAMES as usize {
            return Err(JsError::new(&format!(
                "{name} has {len} pieces; at most {MAX_NAMES} are accepted"
            )));
        }
        let pieces = (0..len as u32)
            .map(|i| js_value::element(v, i).map_err(unreadable))
            .collect::<Result<_, _>>()?;
        Ok(JsPieces {
            array: Some(v.clone()),
            pieces,
        })
    }
}

/// A file that stays in JS memory; [`hf_gpt2::FileBytes::read`] copies one range into wasm.
/// Either one Uint8Array (or ArrayBuffer, or DataView), or consecutive pieces of it (the page
/// reads a large model into 16 MiB pieces), each held through a fresh view of its bytes.
struct JsFile {
    pieces: Vec<Uint8Array>,
    /// Where each piece starts in the file, and the file's length last.
    starts: Vec<usize>,
}

impl JsFile {
    /// The file's pieces, of at most `cap` bytes in all (checked before anything is copied).
    fn new(name: &str, v: &JsPieces, cap: usize) -> Result<JsFile, JsError> {
        let mut starts = vec![0];
        let mut pieces = Vec::with_capacity(v.pieces.len());
        for (i, piece) in v.pieces.iter().enumerate() {
            let what = if v.array.is_some() {
                format!("{name}[{i}]")
            } else {
                name.to_string()
            };
            let piece = crate::wasm::convert::uint8_arg(&what, piece, cap)?;
            let end = starts[starts.len() - 1] + piece.length() as usize;
            if end > cap {
                return Err(JsError::new(&format!(
                    "{name} has more than {cap} bytes; at most {cap} are accepted"
                )));
            }
            starts.push(end);
            pieces.push(piece);
        }
        Ok(JsFile { pieces, starts })
    }

    /// Lets go of piece `i`, here and in the caller's array (set to `undefined`), which holds
    /// the only other reference to it: a model read in pieces is then not held twice.
    fn release(&mut self, i: usize, v: &JsPieces) {
        self.pieces[i] = Uint8Array::new_with_length(0);
        if let Some(array) = &v.array {
            // A proxy's trap may refuse: the piece then stays the caller's to drop.
            let _ = Reflect::set_u32(array, i as u32, &JsValue::UNDEFINED);
        }
    }

    /// The whole file, copied into wasm memory.
    fn whole(&self) -> Vec<u8> {
        let mut out = vec![0u8; hf_gpt2::FileBytes::len(self)];
        self.copy(0, &mut out);
        out
    }

    /// The index of the piece holding byte `at` (< len).
    fn piece_at(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at) - 1
    }

    /// Bytes `start..start + out.len()` into `out`, piece by piece.
    fn copy(&self, start: usize, out: &mut [u8]) {
        let end = start + out.len();
        let mut at = start;
        while at < end {
            let i = self.piece_at(at);
            let (from, to) = (self.starts[i], self.starts[i + 1].min(end));
            self.pieces[i]
                .subarray((at - from) as u32, (to - from) as u32)
                .copy_to(&mut out[at - start..to - start]);
            at = to;
        }
    }
}

impl hf_gpt2::FileBytes for JsFile {
    fn len(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }
    fn read(&self, start: usize, end: usize) -> std::borrow::Cow<'_, [u8]> {
        let mut out = vec![0u8; end - start];
        self.copy(start, &mut out);
        std::borrow::Cow::Owned(out)
    }
}

/// Streaming generation: call `next()` once per token.
#[wasm_bindgen]
pub struct Generation {
    inner: Generator,
}

#[wasm_bindgen]
impl Generation {
    /// Generates one token: `{ token, text, probs, logProb, modelLogProb, seed, end }`, where
    /// `probs` (length V) is the final distribution the token was drawn from, `logProb` the
    /// token's log-probability under it and `modelLogProb` under the model at T = 1
    /// (−surprisal). `end` is true when the model ended the text by producing BOS (llama2.c's
    /// models, as run.c stops there) or one of `eosTokenIds`; calling `next` again is then an
    /// error.
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(unchecked_return_type = "GeneratedToken")]
    pub fn next(&mut self) -> Result<JsValue, JsError> {
        let g = self.inner.next_token().map_err(js_err)?;
        Ok(to_js(&GeneratedToken {
            token: g.token,
            text: g.text,
            probs: Float32Array::from(&g.sample.probs[..]),
            log_prob: g.sample.log_prob as f64,
            model_log_prob: g.sample.model_log_prob as f64,
            seed: self.inner.seed() as f64,
            end: g.end,
        }))
    }

    /// The seed of this generation (given or drawn), to replay it.
    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.inner.seed() as f64
    }

    /// All token ids so far: prompt, then generated.
    #[wasm_bindgen(getter)]
    pub fn tokens(&self) -> Uint32Array {
        Uint32Array::from(self.inner.tokens())
    }
}

/// `Model.encode`'s options.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EncodeOptions {
    /// Add the special tokens the model's sequences begin (and end) with, as transformers'
    /// `add_special_tokens=True` does. Default false.
    #[tsify(optional)]
    pub add_special_tokens: Option<bool>,
}

/// `type` of `Model.quantize`: a type name, or an error listing them.
fn quantize_type_arg(v: &JsValue) -> Result<QType, JsError> {
    match v.as_string() {
        Some(name) => crate::model::quantize::quantize_type(&name).map_err(js_err),
        None => Err(js_err(Error::arg(
            "type",
            "one of 'q8_0', 'q4_0', 'q4_K'",
            crate::wasm::convert::describe(v),
        ))),
    }
}

/// A type `Model.quantize` writes.
#[wasm_bindgen(typescript_custom_section)]
const QUANTIZE_TYPE: &str = r#"export type QuantizeType = "q8_0" | "q4_0" | "q4_K";"#;

/// What `Model.quantize` would take (`Model.quantizePlan`).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct QuantizePlan {
    /// The quantised copy's weights, in bytes.
    pub weight_bytes: f64,
    /// The most bytes one matrix takes while it is quantised (its values in f32).
    pub scratch_bytes: f64,
    /// weightBytes + scratchBytes: the memory the copy needs besides the model's own.
    pub needed_bytes: f64,
    /// Matrices that become blocks.
    pub quantized: u32,
    /// Matrices that stay as they are (already quantised, a position embedding, or rows that
    /// do not divide into the blocks).
    pub kept: u32,
    /// Of those, the ones already quantised.
    pub already_quantized: u32,
    /// Of those, a GPT-2's position embedding, which llama.cpp's quantiser keeps.
    pub position_embeddings: u32,
    /// Of those, the ones whose rows do not divide into the blocks.
    pub undivided: u32,
}

/// A text's length in tokens and in words (`Model.tokenStats`).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct TokenStats {
    /// Its token ids under the model's tokenizer.
    pub tokens: f64,
    /// Its runs of characters between whitespace.
    pub words: f64,
    /// tokens / words; absent for a text without a word.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub per_word: Option<f64>,
}

/// `Model.forward`'s options.
#[derive(serde::Deserialize, Tsify, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardOptions {
    /// What to return: the logits (default) or their log_softmax.
    #[tsify(optional)]
    pub output: Option<OutputMode>,
    /// Every position's values (T × V, row-major) instead of the last one's. Default false.
    #[tsify(optional)]
    pub all_positions: Option<bool>,
}

sampler_options! {
    /// `Model.generate`'s options: the sampler's, and which model output feeds it.
    pub struct GenerateOptions {
        /// Which model output feeds the sampler: the logits (default) or their log_softmax.
        #[tsify(optional)]
        pub output: Option<OutputMode>,
    }
}

/// One generated token.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedToken {
    /// Its id.
    pub token: u32,
    /// Its text (may be empty while a multi-byte character is incomplete).
    pub text: String,
    /// The final distribution it was drawn from (length V).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    #[tsify(type = "Float32Array")]
    pub probs: Float32Array,
    /// log p(token) under `probs`.
    pub log_prob: f64,
    /// log p(token) under the model at T = 1 (−surprisal).
    pub model_log_prob: f64,
    /// The generation's seed.
    pub seed: f64,
    /// The model ended the text: it produced BOS (llama2.c's models; run.c stops there too)
    /// or one of `eosTokenIds` (Hugging Face models). `next` is then an error.
    pub end: bool,
}

/// The transformer's architecture.
#[derive(Serialize, Tsify, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Gpt2,
    /// llama2.c's models and Hugging Face's `LlamaForCausalLM`.
    Llama,
    /// Hugging Face's `Qwen2ForCausalLM`.
    Qwen2,
    /// Hugging Face's `Qwen3ForCausalLM`.
    Qwen3,
}

/// How the weights are held in memory.
#[derive(Serialize, Tsify, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum WeightDtype {
    F32,
    /// Kept as stored, widened to f32 inside the matmuls.
    F16,
    /// Kept as stored, widened to f32 inside the matmuls.
    Bf16,
    /// llama.cpp's quantised blocks (a GGUF file's), kept as stored: the matmuls quantise the
    /// activations as llama.cpp does and sum integer products.
    #[serde(rename = "q8_0")]
    Q8_0,
    #[serde(rename = "q4_0")]
    Q4_0,
    #[serde(rename = "q5_0")]
    Q5_0,
    #[serde(rename = "q4_K")]
    Q4K,
    #[serde(rename = "q6_K")]
    Q6K,
    /// Matrices of several of the types above (`tensorTypes` counts them).
    Mixed,
}

impl WeightDtype {
    fn of(d: Dtype) -> WeightDtype {
        match d {
            Dtype::F32 => WeightDtype::F32,
            Dtype::F16 => WeightDtype::F16,
            Dtype::Bf16 => WeightDtype::Bf16,
            Dtype::Quant(q) => match q {
                QType::Q8_0 => WeightDtype::Q8_0,
                QType::Q4_0 => WeightDtype::Q4_0,
                QType::Q5_0 => WeightDtype::Q5_0,
                QType::Q4K => WeightDtype::Q4K,
                QType::Q6K => WeightDtype::Q6K,
            },
        }
    }
}

/// How text becomes token ids.
#[derive(Serialize, Tsify, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    /// One character, one id.
    Chars,
    /// GPT-2's byte-level BPE.
    Bpe,
    /// llama2.c's SentencePiece vocabulary.
    Sentencepiece,
}

/// A model's shape.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfig {
    /// V, the number of token ids.
    pub vocab_size: u32,
    /// The most ids one forward pass reads.
    pub context_length: u32,
    pub layers: u32,
    pub heads: u32,
    /// The width of each position's vector.
    pub embd: u32,
    /// How many numbers the model holds.
    pub parameters: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub architecture: Option<Architecture>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub tokenizer: Option<TokenizerKind>,
    /// Key/value heads (Llama family only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub kv_heads: Option<u32>,
    /// The width of each attention head.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub head_dim: Option<u32>,
    /// Whether the output head is the token embedding.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub tied_head: Option<bool>,
    /// How the weight matrices are held in memory: their one type, or `mixed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub dtype: Option<WeightDtype>,
    /// How many parameters (matrices, gains and biases) are held in each type, e.g.
    /// `{ q4_K: 154, q6_K: 25, f32: 61 }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "Record<string, number>")]
    pub tensor_types: Option<BTreeMap<&'static str, u32>>,
    /// The files it was read from: "huggingFace", "llama2c", "logitlab" or "gguf".
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(
        optional,
        type = "\"huggingFace\" | \"llama2c\" | \"logitlab\" | \"gguf\""
    )]
    pub format: Option<&'static str>,
    /// Whether it has a chat template (`chatTemplate`, `applyChatTemplate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub chat_template: Option<bool>,
    /// The file its chat template came from: `chat_template.jinja` or `tokenizer_config.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub chat_template_file: Option<&'static str>,
}

impl ModelConfig {
    pub(crate) fn new(c: &model::Config) -> Self {
        ModelConfig {
            vocab_size: c.vocab_size as u32,
            context_length: c.context_length as u32,
            layers: c.layers as u32,
            heads: c.heads as u32,
            embd: c.embd as u32,
            parameters: c.parameter_count() as f64,
            architecture: None,
            tokenizer: None,
            kv_heads: None,
            head_dim: None,
            tied_head: None,
            dtype: None,
            tensor_types: None,
            format: None,
            chat_template: None,
            chat_template_file: None,
        }
    }
}

/// A model-size preset for live training (`Trainer`'s `config.preset`).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PresetInfo {
    /// Its name.
    pub name: &'static str,
    pub context_length: u32,
    pub layers: u32,
    pub heads: u32,
    pub embd: u32,
}

/// The model-size presets for live training, smallest first.
#[wasm_bindgen(unchecked_return_type = "PresetInfo[]")]
pub fn presets() -> JsValue {
    let all: Vec<PresetInfo> = model::Config::PRESETS
        .iter()
        .filter_map(|&name| {
            let c = model::Config::preset(name, 0).ok()?;
            Some(PresetInfo {
                name,
                context_length: c.context_length as u32,
                layers: c.layers as u32,
                heads: c.heads as u32,
                embd: c.embd as u32,
            })
        })
        .collect();
    to_js(&all)
}

/// One file a model needs.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct NeededFile {
    /// "config", "weights", "tokenizer", "checkpoint", "generationConfig" or "tokenizerConfig".
    pub role: &'static str,
    /// The name as given.
    pub name: String,
    /// Its size cap in bytes.
    pub cap: f64,
    /// Read as its bytes arrive (`ModelReader`) rather than whole (`Model.fromFiles`).
    pub streamed: bool,
}

/// The model some files make.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ModelFilesResult {
    /// "huggingFace", "llama2c" or "logitlab".
    pub format: &'static str,
    /// The files it needs, in the order its reader takes them; the others are not read.
    pub files: Vec<NeededFile>,
}

/// Which of `names` (a folder's or a selection's file names, folders before them allowed)
/// make a model, of which format, and how each is read. An error names a missing file, or
/// says that they make no model.
#[wasm_bindgen(js_name = modelFiles, unchecked_return_type = "ModelFilesResult")]
pub fn model_files(
    #[wasm_bindgen(unchecked_param_type = "string[]")] names: JsValue,
) -> Result<JsValue, JsError> {
    let names = string_list("names", &names)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = files::identify(&names).map_err(js_err)?;
    Ok(to_js(&ModelFilesResult {
        format: m.format.name(),
        files: m
            .files
            .into_iter()
            .map(|f| NeededFile {
                role: f.role.name(),
                name: f.name,
                cap: f.cap as f64,
                streamed: f.streamed,
            })
            .collect(),
    }))
}

/// The files of the model a site path names (`?model=`), as [name, path] pairs: the name
/// `Model.fromFiles` knows the file by, and its path relative to `path` (resolve it as a URL):
/// `"models/gpt2/"` → config.json, model.safetensors, tokenizer.json; `"m/x.bin"` → x.bin and
/// `tokenizer` (default: tokenizer.bin beside it); `"m/x.safetensors"` → x.safetensors.
#[wasm_bindgen(js_name = modelPathFiles, unchecked_return_type = "[string, string][]")]
pub fn model_path_files(
    #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "string")] tokenizer: JsValue,
) -> Result<JsValue, JsError> {
    let path = string_arg("path", &path)?;
    let tokenizer = if tokenizer.is_undefined() {
        None
    } else {
        Some(string_arg("tokenizer", &tokenizer)?)
    };
    let files = files::at_path(&path, tokenizer.as_deref()).map_err(js_err)?;
    Ok(to_js(&files))
}

/// The files a site path's model may also have (`?model=` of a folder: generation_config.json
/// and tokenizer_config.json), as [name, path] pairs like `modelPathFiles`': fetched if
/// present, none of them an error when missing.
#[wasm_bindgen(js_name = modelPathOptionalFiles, unchecked_return_type = "[string, string][]")]
pub fn model_path_optional_files(
    #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
) -> Result<JsValue, JsError> {
    let path = string_arg("path", &path)?;
    Ok(to_js(&files::optional_at_path(&path)))
}

/// Most names (of files, of pieces of a file) a list from JS may have.
const MAX_NAMES: u32 = 100_000;

/// A list of strings from JS: at most 100 000 of them, each of at most 4 096 characters.
fn string_list(arg: &str, v: &JsValue) -> Result<Vec<String>, JsError> {
    if !is_array(v) {
        return Err(JsError::new(&format!(
            "{arg} must be an array of strings, got {}",
            crate::wasm::convert::describe(v)
        )));
    }
    let unreadable = |e: String| JsError::new(&format!("{arg}: {e}"));
    let len = js_value::array_length(v).map_err(unreadable)?;
    if len > MAX_NAMES as usize {
        return Err(JsError::new(&format!(
            "{arg} has {len} entries; at most {MAX_NAMES} are accepted"
        )));
    }
    (0..len as u32)
        .map(|i| {
            let x = js_value::element(v, i).map_err(|e| JsError::new(&format!("{arg}{e}")))?;
            match x.as_string() {
                Some(s) if s.len() <= 4096 => Ok(s),
                _ => Err(JsError::new(&format!(
                    "{arg}[{i}] must be a string of at most 4096 bytes, got {}",
                    crate::wasm::convert::describe(&x)
                ))),
            }
        })
        .collect()
}
