//! A character-level GPT in the nanoGPT mould (and, for inference, GPT-2 and Llama checkpoints),
//! one concern per module:
//!
//! - [`config`]: its shape ([`Config`], the presets) and its two output designs ([`OutputMode`]);
//! - [`layout`]: every parameter, named once ([`Config::layout`], [`layout::Weights`]);
//! - [`tokenizer`]: text ⇄ token ids ([`Tokenizer`]: characters, [`Vocab`], GPT-2's byte-level
//!   BPE, [`ByteLevelBpe`], or llama2.c's SentencePiece, [`SentencePiece`]);
//! - [`format`]: checkpoint files (logitlab's safetensors; Hugging Face GPT-2, Llama, Qwen2 and
//!   Qwen3 folders; llama2.c);
//! - [`tensor`]: weights as stored (f32, or bf16 / f16 kept in 16 bits, [`Tensor`]);
//! - [`quant`]: weights kept in llama.cpp's quantised blocks (Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) and
//!   their matrix–vector kernels; [`quantize`]: f32 weights into those blocks, as llama.cpp's
//!   reference quantisers write them ([`Net::quantized`]);
//! - [`kernels`] and [`net`]: the network as plain arrays with a KV cache ([`Net`]), which the
//!   page generates with;
//! - [`load`]: a [`Net`] from each checkpoint format, and back;
//! - `graph` (feature `train`): the same network in candle tensor ops, which trains (`Gpt`);
//! - [`generate`]: streaming generation ([`Generator`]);
//! - [`chat`]: a conversation written out by the model's chat template ([`ChatTemplate`]).
//!
//! Each depends only on those above it, so `config` knows nothing of candle and `net` nothing
//! of the checkpoint's bytes.
//!
//! The network is computed twice over, from the same weights: in candle tensor ops, which
//! train (autograd), and as plain arrays with a KV cache, which the page generates with.
//!
//! ```text
//! ids ─► wte[ids] + wpe[pos] ─► N × Block ─► ln_f ─► z = x · wteᵀ ─► OutputMode
//!                               Block: x += attn(ln_1(x)); x += mlp(ln_2(x))
//! ```
//!
//! The head is tied to the token embedding (as in GPT-2 and nanoGPT): one matrix fewer to store.
//! [`OutputMode`] selects the seed's two designs, raw logits z or log_softmax(z), from the very
//! same weights.

pub mod chat;
pub mod config;
pub mod format;
pub mod generate;
#[cfg(feature = "train")]
pub mod graph;
pub mod kernels;
pub mod layout;
pub mod load;
pub mod net;
pub mod quant;
pub mod quantize;
pub mod tensor;
pub mod tokenizer;

pub use chat::ChatTemplate;
pub use config::{
    Arch, Config, Family, Gelu, Llama, OutputMode, Rope, RopeLayout, RopeScaling, Variant,
};
pub use generate::{Decoding, Generated, Generator};
#[cfg(feature = "train")]
pub use graph::Gpt;
pub use layout::{Init, Param};
pub use net::{KvCache, Net, TokenStats};
pub use tensor::{Dtype, Tensor};
pub use tokenizer::{ByteLevelBpe, SentencePiece, StreamDecoder, Tokenizer, Vocab};
