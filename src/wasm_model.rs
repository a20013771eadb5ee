//! The wasm-bindgen layer for the model and the trainer (work in progress).
