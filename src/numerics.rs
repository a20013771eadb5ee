//! Placeholder on branch `model` so it compiles: main's real `src/numerics.rs` replaces it at merge.
