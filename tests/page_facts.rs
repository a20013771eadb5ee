//! Facts the page's JavaScript and the Rust both state, tied together: where one cannot read the
//! other (the page must start before its wasm does), this test fails when they drift.
//!
//! - the built-in model's path (`boot.js` fetches it before the wasm is compiled);
//! - the training defaults the URL starts from (`state.js`) and `TrainOptions::page()`;
//! - the default model's training recipe: `build.sh train`, `runs/default.cmd`, `runs/default.md`.

#![cfg(not(target_arch = "wasm32"))]

use logitlab::model::format::files::DEFAULT_MODEL_PATH;
use logitlab::train::TrainOptions;

const BOOT_JS: &str = include_str!("../www/boot.js");
const STATE_JS: &str = include_str!("../www/state.js");
const BUILD_SH: &str = include_str!("../build.sh");
const DEFAULT_CMD: &str = include_str!("../runs/default.cmd");
const DEFAULT_MD: &str = include_str!("../runs/default.md");

/// The words of a command, with shell line continuations (`\` + newline) joined.
fn words(command: &str) -> Vec<&str> {
    command.split_whitespace().filter(|w| *w != "\\").collect()
}

#[test]
fn the_default_models_path_is_the_same_in_boot_js() {
    let line = format!("export const DEFAULT_MODEL = '{DEFAULT_MODEL_PATH}';");
    assert!(BOOT_JS.contains(&line), "boot.js should say {line}");
    assert!(std::path::Path::new("www")
        .join(DEFAULT_MODEL_PATH)
        .is_file());
}

/// The default of `name` in state.js's schema: `['name', value, …]`.
fn state_default(name: &str) -> f64 {
    let start = STATE_JS
        .find(&format!("['{name}', "))
        .unwrap_or_else(|| panic!("state.js has no row {name}"))
        + name.len()
        + 5;
    let value: String = STATE_JS[start..]
        .chars()
        .take_while(|c| *c != ',')
        .collect();
    value
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{name}'s default {value:?}"))
}

#[test]
fn the_pages_training_defaults_are_train_options_page() {
    let page = TrainOptions::page();
    assert_eq!(state_default("learningRate"), page.learning_rate);
    assert_eq!(state_default("batchSize"), page.batch_size as f64);
}

#[test]
fn the_default_models_recipe_is_written_once_in_three_places() {
    let cmd = words(DEFAULT_CMD.trim());
    // build.sh's train(): the same command, then "$@" for overrides.
    let body = &BUILD_SH[BUILD_SH.find("\ntrain() {").expect("build.sh has train()")..];
    let start = body.find("cargo run --release --bin train").unwrap();
    let end = body[start..].find("\"$@\"").unwrap() + start;
    assert_eq!(words(&body[start..end]), cmd, "build.sh train()");
    // runs/default.md's "Reproduce" block.
    let start = DEFAULT_MD.find("cargo run --release --bin train").unwrap();
    let end = DEFAULT_MD[start..].find('\n').unwrap() + start;
    let mut end = end;
    while DEFAULT_MD[..end].trim_end().ends_with('\\') {
        end = DEFAULT_MD[end + 1..].find('\n').unwrap() + end + 1;
    }
    assert_eq!(words(&DEFAULT_MD[start..end]), cmd, "runs/default.md");
}
