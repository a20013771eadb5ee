//! What parsing an untrusted file costs in memory: at most 4× the bytes given, plus the model
//! they describe once it is validated. A global allocator counts the bytes live at the peak of
//! each parse. Each case is a file a fuzzer found amplified into hundreds of megabytes, at
//! 30 MiB (or a small file that names a large size); every one must fail (or load) within the
//! bound.
//!
//! One test function: the peak is a property of the whole process, so the cases run one after
//! another, never beside another test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use logitlab::model::format::llama2c;
use logitlab::model::{ByteLevelBpe, Net, SentencePiece};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // As an allocator without in-place growth would: both blocks live for a moment.
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            let now = LIVE.fetch_add(new_size, Relaxed) + new_size;
            PEAK.fetch_max(now, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1 << 20;
const CONFIG: &[u8] = include_bytes!("fixtures/hf/f32-tied-gelu_new/config.json");
const TOKENIZER: &[u8] = include_bytes!("fixtures/hf/tokenizer.json");

/// The most bytes live at once while `parse` ran, above what was live before it.
fn peak_of<T>(parse: impl FnOnce() -> T) -> (usize, T) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = parse();
    (PEAK.load(Relaxed) - base, out)
}

/// A safetensors file whose header is `json` (padded to 8 bytes), with no tensor data.
fn safetensors_with_header(json: &str) -> Vec<u8> {
    let mut header = json.as_bytes().to_vec();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(&header);
    file
}

/// `n` copies of `item`, joined by `sep`, between `open` and `close`.
fn repeated(open: &str, item: &str, sep: &str, close: &str, n: usize) -> String {
    let mut s = String::with_capacity(open.len() + n * (item.len() + sep.len()) + close.len());
    s.push_str(open);
    for i in 0..n {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(item);
    }
    s.push_str(close);
    s
}

/// Parses `input`, and adds to `over` a line if its peak passed 4× its size.
fn check(over: &mut Vec<String>, name: &str, input: &[u8], parse: impl FnOnce(&[u8]) -> bool) {
    let (peak, loaded) = peak_of(|| parse(input));
    let ratio = peak as f64 / input.len() as f64;
    println!(
        "{name}: {} bytes in, peak {:.1} MB = {ratio:.2}× (loaded: {loaded})",
        input.len(),
        peak as f64 / 1e6
    );
    if ratio > 4.0 {
        over.push(format!(
            "{name}: {} bytes took {peak} at the peak ({ratio:.2}×)",
            input.len()
        ));
    }
}

#[test]
fn parsing_costs_at_most_four_times_the_input() {
    let n = 30 * MIB;
    let mut over = Vec::new();
    // A safetensors header that is one tensor with a shape of millions of dimensions.
    let dims = repeated(
        r#"{"w":{"dtype":"F32","shape":["#,
        "1",
        ",",
        r#"],"data_offsets":[0,0]}}"#,
        n / 2,
    );
    let file = safetensors_with_header(&dims);
    check(
        &mut over,
        "safetensors header: a shape of 15 M dimensions",
        &file,
        |b| Net::from_safetensors(b).is_ok(),
    );
    check(
        &mut over,
        "GPT-2 folder: the same model.safetensors",
        &file,
        |b| {
            Net::from_hf_gpt2(&[
                ("config.json", CONFIG),
                ("tokenizer.json", TOKENIZER),
                ("model.safetensors", b),
            ])
            .is_ok()
        },
    );
    // A header of a million small tensors.
    let many = repeated(
        "{",
        r#""t":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"#,
        ",",
        "}",
        n / 53,
    );
    let file = safetensors_with_header(&many);
    check(
        &mut over,
        "safetensors header: a million small tensors",
        &file,
        |b| Net::from_safetensors(b).is_ok(),
    );
    // Metadata of a million short strings.
    let meta = (0..n / 16)
        .map(|i| format!("\"k{i:07}\":\"v\""))
        .collect::<Vec<_>>()
        .join(",");
    let meta = format!("{{\"__metadata__\":{{{meta}}}}}");
    let file = safetensors_with_header(&meta);
    check(
        &mut over,
        "safetensors header: a million metadata strings",
        &file,
        |b| Net::from_safetensors(b).is_ok(),
    );

    // tokenizer.json: a normalizer of a million junk values; a vocabulary past the cap; a small
    // vocabulary naming the largest id accepted.
    let junk = repeated(
        r#"{"normalizer":{"type":"Sequence","normalizers":["#,
        "[0,1,2]",
        ",",
        "]}}",
        n / 8,
    );
    check(
        &mut over,
        "tokenizer.json: a normalizer of 4 M values",
        junk.as_bytes(),
        |b| ByteLevelBpe::from_json(b).is_ok(),
    );
    let vocab = (0..n / 16)
        .map(|i| format!("\"t{i}\":{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let big = format!(r#"{{"model":{{"type":"BPE","vocab":{{{vocab}}},"merges":[]}}}}"#);
    check(
        &mut over,
        "tokenizer.json: 2 M tokens",
        big.as_bytes(),
        |b| ByteLevelBpe::from_json(b).is_ok(),
    );
    let far = format!(
        r#"{{"model":{{"type":"BPE","vocab":{{"a":0,"b":{}}},"merges":[]}}}}"#,
        logitlab::limits::MAX_MODEL_VOCAB - 1
    );
    let (peak, _) = peak_of(|| ByteLevelBpe::from_json(far.as_bytes()).is_ok());
    println!(
        "tokenizer.json of {} bytes naming id {}: peak {peak} bytes",
        far.len(),
        logitlab::limits::MAX_MODEL_VOCAB - 1
    );
    if peak > 4 * far.len() + 4096 {
        over.push(format!(
            "a {}-byte tokenizer.json naming a large id took {peak} bytes",
            far.len()
        ));
    }

    // A tokenizer.bin of empty pieces: 8 bytes each (a score and a length of 0).
    let mut bin = 16u32.to_le_bytes().to_vec();
    bin.resize(4 + n / 8 * 8, 0);
    check(&mut over, "tokenizer.bin: 4 M empty pieces", &bin, |b| {
        SentencePiece::from_bytes(b).is_ok()
    });

    // stories110M's header (the file it implies is 438 381 596 bytes), then 300 bytes.
    let mut head = Vec::new();
    for v in [768i32, 2048, 12, 12, 12, 32000, 1024] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    head.resize(328, 0);
    let tokenizer = tokenizer_bin(32000);
    let claimed = 438_381_596;
    let (peak, _) = peak_of(|| {
        let mut r = llama2c::Reader::new(Some(claimed), &tokenizer).unwrap();
        let pushed = r.push(&head);
        (pushed.is_ok(), r.received())
    });
    let given = tokenizer.len() + head.len();
    println!("llama2.c header claiming {claimed} bytes, 328 given with a {}-byte tokenizer.bin: peak {peak} bytes", tokenizer.len());
    if peak > 4 * given {
        over.push(format!(
            "a llama2.c header claiming {claimed} bytes took {peak} bytes with 328 given"
        ));
    }
    assert!(over.is_empty(), "over 4× the input:\n{}", over.join("\n"));
}

/// A llama2.c `tokenizer.bin` of `n` distinct short pieces.
fn tokenizer_bin(n: usize) -> Vec<u8> {
    let mut b = 8u32.to_le_bytes().to_vec();
    for i in 0..n {
        let piece = format!("p{i}");
        b.extend_from_slice(&0f32.to_le_bytes());
        b.extend_from_slice(&(piece.len() as u32).to_le_bytes());
        b.extend_from_slice(piece.as_bytes());
    }
    b
}
