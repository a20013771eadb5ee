//! Fixed-budget stress tests: a small mutation fuzzer in the libFuzzer mould, without cargo-fuzz
//! (which needs a nightly compiler). Every public entry point the wasm exports wrap gets seeded
//! junk — NaN, ±∞, −0, subnormals, f32::MAX, i32 extremes, zero and huge lengths, NUL, emoji,
//! mutated checkpoints — and must either return `Ok` with a result free of NaN, or an `Err` whose
//! message names the argument. A panic, a NaN in a result, an unhelpful error or one allocation
//! above the target's stated cap ([`harness::Target::alloc_cap`]) is a failure.
//!
//! ```sh
//! cargo test --test stress -- --nocapture                  # the budget `cargo test` runs
//! STRESS_BUDGET=50 cargo test --release --test stress -- --nocapture   # 50× that budget
//! STRESS_SAVE=1 ...      # also write newly interesting inputs to tests/stress/corpus/<target>/
//! STRESS_SEED=7 ...      # another stream of inputs (default 1; every run is reproducible)
//! STRESS_SHOW=1 ...      # also list the distinct outcomes
//! STRESS_REPLAY=target/stress-failures/<file>.bin cargo test --test stress stress_<target>
//!                        # one input, without the panic guard, for a backtrace
//! ```
//!
//! Inputs are byte strings: each target decodes its arguments from the bytes with
//! [`harness::Bytes`], so one mutator (bit flips, byte insertion and deletion, splices,
//! interesting values) serves every target and a corpus file is just the raw bytes. Every
//! committed corpus file is replayed first, on every run. An input is "interesting" (kept in the
//! corpus to mutate further) when its outcome is new: a new error message shape or a new
//! target-specific feature of the result. A failing input is written to
//! `target/stress-failures/` and printed in hex.
//!
//! Where things are: `harness.rs` is the fuzzer itself. Each target is one file named after it,
//! holding its `run`, its seeds, its `TARGET` (budget, caps, the argument names its errors must
//! give) and its test `stress_<target>`; its corpus is `corpus/<target>/`. What several targets
//! share is in `fixtures.rs` (the files they start from), `inputs.rs` (edit scripts of files,
//! junk ids and text) and `contracts.rs` (what a loaded model or tokenizer must do).
//! `regressions.rs` holds one test per bug a run found. A new target is a new file and a `mod`
//! line below.
//!
//! Native only: the browser gets its own junk test (`tests/e2e/junk.test.mjs`), which also
//! covers the wasm-only argument conversion.

#![cfg(not(target_arch = "wasm32"))]

mod contracts;
mod fixtures;
mod harness;
mod inputs;

mod bpe_encode;
mod bpe_tokenizer;
mod chain;
mod checkpoint;
mod checkpoint_default;
mod hf_config;
mod hf_llama;
mod hf_safetensors;
mod hf_tokenizer;
mod llama2c_model;
mod loss;
mod numerics;
mod sample;
mod sentencepiece;
mod text;
mod train;

mod regressions;
