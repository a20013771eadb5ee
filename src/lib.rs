//! logitlab: what a language model's output layer does, computed in plain Rust and shown in the
//! browser through WebAssembly.
//!
//! - [`numerics`]: logsumexp, softmax, log_softmax, entropy (the seed's section 2).
//! - [`sampling`]: the sampler chain temperature → top-k → top-p → min-p → draw.
//! - [`loss`]: cross-entropy and NLL with PyTorch semantics, and their gradients.
//! - [`calibration`]: reliability diagram, ECE, NLL, Brier, and the temperature that
//!   calibrates a model (fitted on held-out positions).
//! - [`distill`]: knowledge distillation's six losses (`kl_div` with PyTorch's semantics).
//! - [`lab`]: the lab's experiments (precision, classification, stability, draws, the optimum
//!   of crossEntropy(softmax)): every figure the page shows that the modules above do not.
//! - [`limits`]: every size cap of the API (the README's "Limits").
//! - [`rng`]: the seeded generator shared by weight init and sampling.
//! - [`model`]: the character-level GPT: config and parameter layout, tokenizer, checkpoint
//!   format, the plain-array forward pass the page runs (`model::Net`), its candle graph that
//!   trains (`model::Gpt`, feature `train`, on by default), and generation.
//! - `train` (feature `train`): the step-wise training loop with the four loss pipelines;
//!   [`data`]: the corpus.
//! - `wasm`: the wasm-bindgen layer, one file per module it wraps; it converts and
//!   validates, nothing else.

pub mod calibration;
pub mod data;
pub mod distill;
pub mod error;
pub mod lab;
pub mod limits;
pub mod loss;
pub mod model;
pub mod numerics;
pub mod rng;
pub mod sampling;
#[cfg(feature = "train")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
