//! The wasm-bindgen layer: it converts JS values to Rust, validates them, calls the plain Rust
//! functions and converts the results back. No maths lives here.
//!
//! One rule says where an export lives: in the file named after the Rust module it wraps
//! (`numerics`, `sampling`, `loss`, `distill`, `calibration`, `lab`, `model`, `chat`, `train`); what they all share is in
//! `convert`, which reads the caller's values through `js_value` only: no getter, proxy trap or
//! exception of the caller's can run while Rust holds a value. Every export returns `Result<_, JsError>`; the message names the argument and its
//! range. The conversions accept a `Float32Array` (or any typed array, or a plain array of
//! numbers), so a teacher can type `logitlab.softmax([1, 2, 3])` in the console.
//!
//! Two builds: the sampling lab (no `train` feature) has `lab` and not `train`; the training
//! build, which the page loads only for `Trainer`, has `train` and leaves the lab's experiments
//! out, which keeps it smaller.

pub mod calibration;
pub mod chat;
pub mod convert;
pub mod distill;
pub mod js_value;
#[cfg(not(feature = "train"))]
pub mod lab;
pub mod loss;
pub mod model;
pub mod numerics;
pub mod sampling;
#[cfg(feature = "train")]
pub mod train;
