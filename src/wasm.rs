//! Placeholder on branch `model` so it compiles: main's real `src/wasm.rs` replaces it at merge.
