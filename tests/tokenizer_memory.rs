//! What reading a large `tokenizer.json` costs in memory: at most 4 times the file, counted by
//! this test binary's allocator (the most bytes alive at once during `from_json`, the
//! tokenizer it returns included). A GPT-2-sized file: 50 000 tokens, 49 744 merges, 1.3 MB,
//! with the vocabulary before the merges (as `tokenizers` writes it) and after (as a JSON
//! writer that sorts keys does).
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use logitlab::model::tokenizer::bpe::byte_char;
use logitlab::model::ByteLevelBpe;
use serde_json::{json, Map, Value};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A byte-level tokenizer.json: the 256 byte tokens, then each merge joins two earlier tokens
/// (chosen by a fixed sequence) into a new one, as GPT-2's vocabulary grows.
fn big_tokenizer_json(tokens: usize, vocab_first: bool) -> Vec<u8> {
    let mut names: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
    let mut vocab = Map::new();
    for (i, n) in names.iter().enumerate() {
        vocab.insert(n.clone(), json!(i));
    }
    let mut merges = Vec::new();
    let mut x: u64 = 7;
    while names.len() < tokens {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = (x >> 33) as usize % names.len().min(2000);
        let b = (x >> 13) as usize % 256;
        let merged = format!("{}{}", names[a], names[b]);
        if merged.chars().count() > 12 || vocab.contains_key(&merged) {
            continue;
        }
        vocab.insert(merged.clone(), json!(names.len()));
        merges.push(Value::String(format!("{} {}", names[a], names[b])));
        names.push(merged);
    }
    let (vocab, merges) = (Value::Object(vocab), Value::Array(merges));
    let model = if vocab_first {
        format!(r#"{{"type": "BPE", "vocab": {vocab}, "merges": {merges}}}"#)
    } else {
        format!(r#"{{"merges": {merges}, "type": "BPE", "vocab": {vocab}}}"#)
    };
    let rest = json!({
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
        "post_processor": {"type": "ByteLevel", "trim_offsets": false},
        "decoder": {"type": "ByteLevel"},
    })
    .to_string();
    format!("{}, \"model\": {model}}}", &rest[..rest.len() - 1]).into_bytes()
}

#[test]
fn reading_costs_at_most_four_times_the_file() {
    for vocab_first in [true, false] {
        let bytes = big_tokenizer_json(50_000, vocab_first);
        assert!(bytes.len() > 1_000_000, "{} bytes", bytes.len());
        let before = LIVE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let t = ByteLevelBpe::from_json(&bytes).unwrap();
        let peak = PEAK.load(Relaxed) - before;
        assert_eq!(t.len(), 50_000);
        assert_eq!(
            t.decode(&t.encode("a tokenizer").unwrap()).unwrap(),
            "a tokenizer"
        );
        let report = format!(
            "vocabulary first: {vocab_first}: reading {} bytes peaked at {} bytes ({:.2}×)",
            bytes.len(),
            peak,
            peak as f64 / bytes.len() as f64
        );
        assert!(peak <= 4 * bytes.len(), "{report}");
        println!("{report}");
    }
}
