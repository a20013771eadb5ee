//! The README's "Limits" table against `src/limits.rs`: one row per constant, and the value a
//! row states is the constant's value. A constant added to `src/limits.rs` without a row, a row
//! naming no constant, or a figure typed wrong fails here. Then the caps at work: one past a
//! cap is a clear error.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use logitlab::data::Corpus;
use logitlab::limits::*;
use logitlab::model::{Generator, Gpt, Net, OutputMode};
use logitlab::sampling::SampleOptions;

const README: &str = include_str!("../README.md");
const LIMITS_RS: &str = include_str!("../src/limits.rs");

/// Every constant of `src/limits.rs` with its value. A new constant must be added here and to
/// the README's table; `every_constant_is_listed` says so if it is not.
fn constants() -> Vec<(&'static str, u64)> {
    vec![
        ("MAX_VALUES", MAX_VALUES as u64),
        ("MAX_LOSS_VALUES", MAX_LOSS_VALUES as u64),
        ("MAX_MODEL_VOCAB", MAX_MODEL_VOCAB as u64),
        ("MAX_CONTEXT_LENGTH", MAX_CONTEXT_LENGTH as u64),
        ("MAX_LAYERS", MAX_LAYERS as u64),
        ("MAX_HEADS", MAX_HEADS as u64),
        ("MAX_EMBD", MAX_EMBD as u64),
        ("MAX_CHECKPOINT_BYTES", MAX_CHECKPOINT_BYTES as u64),
        ("MAX_HF_SAFETENSORS_BYTES", MAX_HF_SAFETENSORS_BYTES as u64),
        ("MAX_SAFETENSORS_TENSORS", MAX_SAFETENSORS_TENSORS as u64),
        ("MAX_LLAMA2C_BYTES", MAX_LLAMA2C_BYTES as u64),
        ("MAX_TOKENIZER_BIN_BYTES", MAX_TOKENIZER_BIN_BYTES as u64),
        ("MAX_GGUF_BYTES", MAX_GGUF_BYTES as u64),
        ("MAX_GGUF_METADATA_BYTES", MAX_GGUF_METADATA_BYTES as u64),
        ("MAX_GGUF_KEYS", MAX_GGUF_KEYS as u64),
        ("MAX_GGUF_TENSORS", MAX_GGUF_TENSORS as u64),
        ("MAX_GGUF_NAME_BYTES", MAX_GGUF_NAME_BYTES as u64),
        ("MAX_GGUF_ARRAY_DEPTH", MAX_GGUF_ARRAY_DEPTH as u64),
        (
            "MAX_GGUF_CHAT_TEMPLATE_BYTES",
            MAX_GGUF_CHAT_TEMPLATE_BYTES as u64,
        ),
        ("MAX_GGUF_INNER_ARRAYS", MAX_GGUF_INNER_ARRAYS as u64),
        ("MAX_INFERENCE_PARAMETERS", MAX_INFERENCE_PARAMETERS),
        ("MAX_WEIGHT_BYTES", MAX_WEIGHT_BYTES as u64),
        ("MAX_QUANTIZED_PAIR_BYTES", MAX_QUANTIZED_PAIR_BYTES as u64),
        ("MAX_TOKENIZER_JSON_BYTES", MAX_TOKENIZER_JSON_BYTES as u64),
        ("MAX_CONFIG_JSON_BYTES", MAX_CONFIG_JSON_BYTES as u64),
        ("MAX_TEXT_BYTES", MAX_TEXT_BYTES as u64),
        ("MAX_CHAT_BYTES", MAX_CHAT_BYTES as u64),
        ("MAX_CHAT_FUEL", MAX_CHAT_FUEL),
        ("MAX_CHAT_VALUES", MAX_CHAT_VALUES as u64),
        ("MAX_CALIBRATION_VALUES", MAX_CALIBRATION_VALUES as u64),
        ("MAX_CALIBRATION_BINS", MAX_CALIBRATION_BINS as u64),
        ("MAX_TRAIN_PARAMETERS", MAX_TRAIN_PARAMETERS as u64),
        ("MAX_TRAIN_ACTIVATIONS", MAX_TRAIN_ACTIVATIONS as u64),
        ("MAX_BATCH_SIZE", MAX_BATCH_SIZE as u64),
        ("MAX_STEPS_PER_CALL", MAX_STEPS_PER_CALL as u64),
        ("MAX_DRAWS", MAX_DRAWS as u64),
        ("MAX_ORDER_TOKENS", MAX_ORDER_TOKENS as u64),
        ("MAX_CHAIN_STEPS", MAX_CHAIN_STEPS as u64),
        ("MAX_HISTORY", MAX_HISTORY as u64),
        ("MAX_SEED", MAX_SEED),
    ]
}

/// The names `src/limits.rs` declares with `pub const NAME:`.
fn declared() -> Vec<&'static str> {
    LIMITS_RS
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("pub const "))
        .filter(|rest| !rest.starts_with("fn "))
        .filter_map(|rest| rest.split(':').next())
        .map(str::trim)
        .collect()
}

/// The rows of the README's "## Limits" table: (constant, largest accepted), from the rows
/// whose first cell is a `CONSTANT` in backticks.
fn rows() -> Vec<(&'static str, &'static str)> {
    let start = README
        .find("\n## Limits\n")
        .expect("the README has a ## Limits section");
    let section = &README[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "a Limits row has 3 cells: {line}");
            (cells[0].trim_matches('`'), cells[2])
        })
        .collect()
}

/// The value a "largest accepted" cell states. Each part separated by " = " must state the same
/// number: `2^22 = 4 194 304 entries`, `64 MiB`, `8 MiB = 8 388 608`, `65 536`. Digits may be
/// grouped by spaces (plain, no-break or narrow no-break); words after the number are ignored.
fn stated(cell: &str) -> u64 {
    let values: Vec<u64> = cell.split(" = ").map(|part| number(part, cell)).collect();
    assert!(
        values.windows(2).all(|w| w[0] == w[1]),
        "the parts of {cell:?} disagree: {values:?}"
    );
    values[0]
}

fn number(part: &str, cell: &str) -> u64 {
    let mut chars = part.trim().chars().peekable();
    let mut digits = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            digits.push(c);
            chars.next();
        } else if matches!(c, ' ' | '\u{a0}' | '\u{202f}') {
            // A group separator only when three digits follow.
            let rest: String = chars.clone().skip(1).take(4).collect();
            let group = rest.chars().take(3).all(|d| d.is_ascii_digit())
                && rest.chars().count() >= 3
                && !rest.chars().nth(3).is_some_and(|d| d.is_ascii_digit());
            if !group {
                break;
            }
            chars.next();
        } else {
            break;
        }
    }
    assert!(
        !digits.is_empty(),
        "no number at the start of {part:?} in {cell:?}"
    );
    let base: u64 = digits.parse().unwrap();
    let rest: String = chars.collect();
    let rest = rest.trim_start();
    if let Some(exp) = rest.strip_prefix('^') {
        let exp: String = exp.chars().take_while(char::is_ascii_digit).collect();
        return base.pow(exp.parse().unwrap());
    }
    let unit = rest.split_whitespace().next().unwrap_or("");
    base * match unit {
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => 1,
    }
}

#[test]
fn every_constant_is_listed() {
    let mut declared = declared();
    let mut listed: Vec<&str> = constants().iter().map(|&(name, _)| name).collect();
    let mut in_readme: Vec<&str> = rows().iter().map(|&(name, _)| name).collect();
    declared.sort_unstable();
    listed.sort_unstable();
    in_readme.sort_unstable();
    assert!(declared.len() >= 19, "src/limits.rs declares {declared:?}");
    assert_eq!(
        declared, listed,
        "src/limits.rs's constants against this test's list (add a new one to both)"
    );
    assert_eq!(
        declared, in_readme,
        "src/limits.rs's constants against the README's Limits rows (one row per constant)"
    );
}

#[test]
fn each_row_states_its_constant() {
    let constants = constants();
    for (name, cell) in rows() {
        let value = constants
            .iter()
            .find(|&&(n, _)| n == name)
            .unwrap_or_else(|| panic!("the README's row {name} names no constant of src/limits.rs"))
            .1;
        assert_eq!(stated(cell), value, "the README's row {name}: {cell:?}");
    }
}

#[test]
fn the_cell_reader_reads_every_form() {
    assert_eq!(stated("2^22 = 4 194 304 entries"), 1 << 22);
    assert_eq!(stated("64 MiB"), 64 << 20);
    assert_eq!(stated("1 GiB"), 1 << 30);
    assert_eq!(stated("8 MiB = 8 388 608"), 8 << 20);
    assert_eq!(stated("65 536"), 65_536);
    assert_eq!(stated("4\u{202f}096"), 4096);
    assert_eq!(stated("10 000"), 10_000);
    assert_eq!(stated("64"), 64);
}

#[test]
#[should_panic(expected = "disagree")]
fn the_cell_reader_catches_parts_that_disagree() {
    stated("2^22 = 4 194 305 entries");
}

/// The size caps of the README's "Limits", each a clear error one past the cap.
#[test]
fn limits_are_enforced_with_clear_errors() {
    let e = Gpt::from_safetensors(&vec![0; MAX_CHECKPOINT_BYTES + 1])
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "checkpoint: 67108865 bytes; at most 67108864 (64 MiB) are accepted"
    );
    let long = "a\n".repeat(MAX_TEXT_BYTES / 2) + "b";
    let e = Corpus::from_text(&long).unwrap_err().to_string();
    assert_eq!(
        e,
        "text has 8388609 bytes of UTF-8; at most 8388608 (8 MiB) are accepted"
    );
    let model = Net::from_safetensors(common::DEFAULT_MODEL).unwrap();
    assert!(model
        .encode(&long)
        .unwrap_err()
        .to_string()
        .starts_with("text has 8388609 bytes"));
    let e = Generator::new(&model, &long, OutputMode::Logits, SampleOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("prompt has 8388609 bytes"), "{e}");
    let ids = vec![0u32; MAX_TEXT_BYTES + 1];
    let e = model.decode(&ids).unwrap_err().to_string();
    assert_eq!(e, "ids must be at most 8388608 token ids, got 8388609");
    // Exactly at the cap is fine.
    assert!(Corpus::from_text(&long[..MAX_TEXT_BYTES]).is_ok());
}
