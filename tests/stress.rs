//! Fixed-budget stress tests: a small mutation fuzzer in the libFuzzer mould, without cargo-fuzz
//! (which needs a nightly compiler). Every public entry point the wasm exports wrap gets seeded
//! junk — NaN, ±∞, −0, subnormals, f32::MAX, i32 extremes, zero and huge lengths, NUL, emoji,
//! mutated checkpoints — and must either return `Ok` with a result free of NaN, or an `Err` whose
//! message names the argument. A panic, a NaN in a result, an unhelpful error or one allocation
//! above the target's stated cap ([`Target::alloc_cap`]) is a failure.
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
//! Inputs are byte strings: each target decodes its arguments from the bytes with [`Bytes`], so
//! one mutator (bit flips, byte insertion and deletion, splices, interesting values) serves every
//! target and a corpus file is just the raw bytes. Every committed corpus file is replayed first,
//! on every run. An input is "interesting" (kept in the corpus to mutate further) when its outcome
//! is new: a new error message shape or a new target-specific feature of the result.
//! A failing input is written to `target/stress-failures/` and printed in hex.
//!
//! Native only: the browser gets its own junk test (`tests/e2e/junk.test.mjs`), which also
//! covers the wasm-only argument conversion.

#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;

use logitlab::data::Corpus;
use logitlab::limits::MAX_CONFIG_JSON_BYTES;
use logitlab::loss::{loss, LossFunction, LossOptions, Reduction};
use logitlab::model::format::{hf_gpt2, llama2c};
use logitlab::model::tokenizer::{bpe, SentencePiece};
use logitlab::model::{
    Arch, ByteLevelBpe, Config, Generator, Gpt, Net, OutputMode, Tokenizer, Vocab,
};
use logitlab::numerics;
use logitlab::rng::Rng;
use logitlab::sampling::{sample, Cut, Input, SampleOptions};
use logitlab::train::{Pipeline, TrainOptions, Trainer};
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// The largest single allocation of the current thread, so each execution can be held to a cap.
// (Allocations on candle's worker threads are not counted; the large ones happen on the caller.)

struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static IN_TARGET: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: Cell<Option<String>> = const { Cell::new(None) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size)
        }
    });
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

const MB: usize = 1 << 20;

/// The longest error message a file's target accepts, in bytes.
const MAX_ERROR_BYTES: usize = 500;

/// Starts the count of the largest allocation again: a target calls it once its input is
/// built, so that the cap holds the code under test, not the harness's own edits.
fn count_from_here() {
    LARGEST.with(|l| l.set(0));
}

// ---------------------------------------------------------------------------------------------
// Decoding arguments from bytes.

/// Values that break naive numerics.
const F32S: [f32; 24] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    f32::MIN_POSITIVE,
    1e-45, // the smallest subnormal
    -1e-45,
    f32::MAX,
    -f32::MAX,
    1e-38,
    88.72, // exp overflows f32 just above
    -103.97,
    1e4,
    -1e4,
    1e30,
    -1e30,
    1.0,
    0.5,
    1e-7,
    16_777_216.0, // 2^24: f32 integers stop being exact
    65_504.0,     // the largest float16
    65_520.0,     // rounds to float16 +∞
    -1.0,
];

/// Characters that break naive text handling: NUL, non-BMP (surrogate pairs in JS), the
/// replacement character (what a lone JS surrogate becomes), combining and bidi marks.
const CHARS: [char; 12] = [
    '\0',
    '😀',
    '𝔘',
    '\u{10FFFF}',
    '\u{FFFD}',
    'é',
    '\u{301}',
    '\u{202E}',
    '\n',
    '\r',
    '\t',
    '\u{FEFF}',
];

/// Reads arguments from fuzz bytes; past the end it cycles through them again (zeros if empty),
/// so a short input can still describe a long vector.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    fn u8(&mut self) -> u8 {
        if self.data.is_empty() {
            return 0;
        }
        let b = self.data[self.pos % self.data.len()];
        self.pos += 1;
        b
    }

    fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        (self.u32() as u64) | (self.u32() as u64) << 32
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.u8() as usize % xs.len()]
    }

    /// Mostly small, sometimes up to `max` (zero included).
    fn len(&mut self, max: usize) -> usize {
        let n = match self.u8() {
            0..=229 => self.u8() as usize % 40,
            230..=249 => self.u32() as usize % 70_000,
            _ => self.u32() as usize,
        };
        n.min(max)
    }

    /// Mostly modest numbers in [−10, 10), sometimes an edge value or raw bits.
    fn f32(&mut self) -> f32 {
        match self.u8() {
            b @ 0..=199 => (b as f32 - 100.0) / 10.0,
            b @ 200..=239 => F32S[(b - 200) as usize % F32S.len()],
            _ => f32::from_bits(self.u32()),
        }
    }

    fn f32s(&mut self, max: usize) -> Vec<f32> {
        let n = self.len(max);
        match self.u8() % 8 {
            // All equal, or one finite entry among −∞: shapes that random bytes rarely make.
            0 => vec![self.f32(); n],
            1 => {
                let mut v = vec![f32::NEG_INFINITY; n];
                if n > 0 {
                    let i = self.u32() as usize % n;
                    v[i] = self.f32();
                }
                v
            }
            _ => (0..n).map(|_| self.f32()).collect(),
        }
    }

    /// Text: printable ASCII, edge characters, and runs that repeat the text so far (so a short
    /// input can describe a long single line).
    fn text(&mut self, max_bytes: usize) -> String {
        let mut s = String::new();
        let n = self.len(400);
        for _ in 0..n {
            if self.exhausted() && !s.is_empty() {
                break;
            }
            match self.u8() {
                b @ 0..=199 => s.push((b' ' + b % 95) as char),
                200..=239 => s.push(self.pick(&CHARS)),
                240..=247 => s.push(char::from_u32(self.u32() % 0x11_0000).unwrap_or('\u{FFFD}')),
                _ => {
                    let times = 1usize << (self.u8() % 20);
                    let room = max_bytes.saturating_sub(s.len()) / s.len().max(1);
                    s = s.repeat(times.min(room).max(1));
                }
            }
            if s.len() >= max_bytes {
                break;
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Verdicts.

/// What one execution showed.
enum Verdict {
    /// A result, checked; the string is its feature (new features make an input interesting).
    Ok(String),
    /// A clean error with this message (checked to name an argument).
    Rejected(String),
    /// A broken promise: NaN in a result, an inconsistent result.
    Bug(String),
}

use Verdict::{Bug, Rejected};

/// Collapses digits, so "values[3] is NaN" and "values[17] is NaN" count as one shape.
fn shape(msg: &str) -> String {
    let mut out = String::new();
    for ch in msg.chars().take(70) {
        if ch.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// A file's error in words, for its outcome: the wrong values it quotes (strings, JSON lists
/// and objects, all cut short with `…`) and numbers are left out, so that `config.json: n_layer
/// is [1], not a non-negative integer` and `... is "x", not ...` count as one outcome.
fn words_of(msg: &str) -> String {
    let mut kept = String::new();
    let (mut quoted, mut depth) = (false, 0usize);
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        match c {
            // A value cut short (`error::brief`) ends there, whatever it had opened.
            '…' => (quoted, depth) = (false, 0),
            '\\' if quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            _ if quoted => {}
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '0'..='9' if kept.ends_with('#') => {}
            '0'..='9' => kept.push('#'),
            c => kept.push(c),
        }
    }
    let name = |w: &&str| {
        w.chars().any(|c| c.is_ascii_alphabetic())
            && w.chars()
                .all(|c| c.is_ascii_alphabetic() || "_.:;,-#()".contains(c))
    };
    // A dtype is quoted bare: `tensor "…" has dtype F32x; F32, F16 or BF16 is needed`.
    let mut after_dtype = false;
    let words: Vec<&str> = kept
        .split_whitespace()
        .filter(|w| !std::mem::replace(&mut after_dtype, *w == "dtype"))
        .filter(name)
        .take(12)
        .collect();
    words.join(" ")
}

fn no_nan(what: &str, xs: &[f32]) -> Result<(), String> {
    match xs.iter().position(|x| x.is_nan()) {
        Some(i) => Err(format!("{what}[{i}] is NaN")),
        None => Ok(()),
    }
}

/// A result check: a failed one returns a [`Verdict::Bug`] with the message.
macro_rules! check {
    ($cond:expr, $($fmt:tt)*) => {{
        let holds: bool = $cond;
        if !holds {
            return Bug(format!($($fmt)*));
        }
    }};
}

macro_rules! try_bug {
    ($e:expr) => {
        if let Err(e) = $e {
            return Bug(e);
        }
    };
}

// ---------------------------------------------------------------------------------------------
// The targets.

struct Target {
    name: &'static str,
    /// Executions per unit of STRESS_BUDGET.
    budget: usize,
    /// Largest input the mutator may make.
    max_input: usize,
    /// Largest single allocation an execution may make, in bytes.
    alloc_cap: usize,
    /// An error message must contain one of these (the argument it is about)...
    names: &'static [&'static str],
    /// ... or, if true, start with one, followed by more (a file's errors start with the file
    /// name, then name the field: `config.json: n_head = 0 is outside [1, 64]`), in at most
    /// [`MAX_ERROR_BYTES`]: an error quotes the wrong value, not the whole file.
    prefix: bool,
    seeds: fn() -> Vec<Vec<u8>>,
    run: fn(&[u8]) -> Verdict,
}

/// softmax, log_softmax, logsumexp, temperature_identity, stored_precisions.
fn run_numerics(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let op = b.u8() % 5;
    let t = b.f32();
    let z = b.f32s(1 << 17);
    let finite = z.iter().all(|x| x.is_finite()) && t.is_finite();
    let feature = |extra: &str| Verdict::Ok(format!("op{op} {extra}"));
    match op {
        0 => match numerics::softmax(&z, t) {
            Err(e) => Rejected(e.to_string()),
            Ok(p) => {
                try_bug!(no_nan("softmax", &p));
                let sum: f64 = p.iter().map(|&x| x as f64).sum();
                check!(
                    p.iter().all(|&x| (0.0..=1.0).contains(&x)) && (sum - 1.0).abs() < 1e-3,
                    "softmax sums to {sum} (T = {t}, V = {})",
                    z.len()
                );
                feature(&format!("zeros{}", p.contains(&0.0)))
            }
        },
        1 => match numerics::log_softmax(&z) {
            Err(e) => Rejected(e.to_string()),
            Ok(lp) => {
                try_bug!(no_nan("log_softmax", &lp));
                check!(lp.iter().all(|&x| x <= 1e-5), "log_softmax above 0: {lp:?}");
                feature(&format!("neginf{}", lp.contains(&f32::NEG_INFINITY)))
            }
        },
        2 => match numerics::logsumexp(&z) {
            Err(e) => Rejected(e.to_string()),
            Ok(l) => {
                check!(!l.is_nan(), "logsumexp is NaN");
                check!(!finite || l >= numerics::max(&z), "logsumexp {l} below max");
                feature(&format!("inf{}", l.is_infinite()))
            }
        },
        3 => match numerics::temperature_identity(&z, t) {
            Err(e) => Rejected(e.to_string()),
            Ok((a, c, diff)) => {
                try_bug!(no_nan("fromLogits", &a));
                try_bug!(no_nan("fromLogSoftmax", &c));
                check!(!diff.is_nan(), "maxAbsDiff is NaN");
                // Equal in exact arithmetic. In f32, log_softmax(z) is rounded by ~1e-7·|z|, and
                // dividing by T amplifies that: at T = 1e-7 the two may differ by O(1), which is
                // the page's point about precision, not a bug. Moderate T and z must agree.
                let moderate = t >= 0.05 && z.iter().all(|x| x.abs() <= 100.0);
                check!(
                    !finite || !moderate || diff < 1e-4,
                    "the identity fails by {diff} at T = {t}"
                );
                feature("")
            }
        },
        _ => match numerics::stored_precisions(&z, t) {
            Err(e) => Rejected(e.to_string()),
            Ok(s) => {
                for (what, v) in [
                    ("f32", &s.f32),
                    ("f16", &s.f16),
                    ("bf16", &s.bf16),
                    ("logProbs", &s.log_probs),
                ] {
                    try_bug!(no_nan(what, v));
                }
                let zeros = s.zeros();
                feature(&format!("{}", zeros.iter().filter(|&&n| n > 0).count()))
            }
        },
    }
}

fn seeds_numerics() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![], vec![0, 110, 0, 5, 2, 100, 110, 120, 130, 140]];
    for op in 0..5u8 {
        seeds.push(vec![op, 200 + 8, 0, 3, 2, 200, 208, 100]); // T = f32::MAX
        seeds.push(vec![op, 200 + 6, 0, 4, 2, 100, 120, 99, 101]); // T subnormal
    }
    seeds
}

/// The sampler chain with arbitrary options (seed beyond 2^53, topK up to 2^32, ...).
fn run_sample(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let mut o = SampleOptions {
        input: b.pick(&[Input::Logits, Input::LogProbs, Input::Probs]),
        ..SampleOptions::default()
    };
    let flags = b.u8();
    if flags & 1 != 0 {
        o.temperature = b.f32();
    }
    if flags & 2 != 0 {
        o.top_k = match b.u8() % 4 {
            0 => b.u32() as usize,
            _ => b.u8() as usize % 12,
        };
    }
    if flags & 4 != 0 {
        o.top_p = match b.u8() % 3 {
            0 => b.f32(),
            _ => b.u8() as f32 / 255.0,
        };
    }
    if flags & 8 != 0 {
        o.min_p = match b.u8() % 3 {
            0 => b.f32(),
            _ => b.u8() as f32 / 255.0,
        };
    }
    o.seed = match flags >> 4 {
        0 => None,
        1 => Some(b.u64()),
        _ => Some(b.u32() as u64),
    };
    let z = b.f32s(1 << 17);
    match sample(&z, &o) {
        Err(e) => Rejected(e.to_string()),
        Ok(s) => {
            let v = z.len();
            check!(s.token < v, "token {} out of range {v}", s.token);
            check!(s.probs.len() == v && s.cut.len() == v, "lengths");
            try_bug!(no_nan("probs", &s.probs));
            let sum: f64 = s.probs.iter().map(|&p| p as f64).sum();
            check!((sum - 1.0).abs() < 1e-3, "probs sum to {sum}");
            check!(
                s.probs[s.token] > 0.0 && s.cut[s.token] == Cut::Kept,
                "drew token {} with p = {} and cut {:?}",
                s.token,
                s.probs[s.token],
                s.cut[s.token]
            );
            let kept = s.cut.iter().filter(|&&c| c == Cut::Kept).count();
            check!(kept == s.kept, "kept = {} but {kept} ids uncut", s.kept);
            check!(
                s.entropy.is_finite() && s.entropy >= 0.0,
                "entropy {}",
                s.entropy
            );
            check!(
                s.log_prob.is_finite() && s.log_prob <= 1e-5,
                "logProb {}",
                s.log_prob
            );
            check!(
                !s.model_log_prob.is_nan() && s.model_log_prob <= 1e-3,
                "modelLogProb {}",
                s.model_log_prob
            );
            if let Some(seed) = o.seed {
                check!(s.seed == seed, "seed {} reported as {}", seed, s.seed);
                let again = sample(&z, &o).map(|t| t.token);
                check!(again == Ok(s.token), "same seed, another token: {again:?}");
            }
            // Which steps cut something, and whether one id or several survived.
            let cuts = s.cut.iter().fold(0u8, |m, &c| m | 1 << c as u8);
            Verdict::Ok(format!("{:?} one{} cuts{cuts:b}", o.input, kept == 1))
        }
    }
}

fn seeds_sample() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![
            0,
            0b1111_1111,
            108,
            1,
            5,
            1,
            200,
            1,
            128,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            8,
            2,
            110,
            90,
        ],
        vec![
            2,
            0b0001_0001,
            110,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            6,
            2,
            100,
            101,
            102,
            203,
            203,
        ],
        vec![
            1,
            0b0001_1111,
            200,
            3,
            0,
            255,
            255,
            255,
            255,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
    ]
}

/// Cross-entropy and NLL with arbitrary options.
fn run_loss(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let classes = match b.u8() % 8 {
        0 => b.u32() as usize,
        _ => b.u8() as usize % 9,
    };
    let mut o = LossOptions::new(classes);
    o.function = b.pick(&[LossFunction::CrossEntropy, LossFunction::Nll]);
    o.reduction = b.pick(&[Reduction::Mean, Reduction::Sum]);
    o.ignore_index = b.pick(&[-100, 0, 1, i32::MIN as i64, i32::MAX as i64, -1]);
    let flags = b.u8();
    if flags & 1 != 0 {
        o.label_smoothing = match b.u8() % 2 {
            0 => b.f32(),
            _ => b.u8() as f32 / 255.0,
        };
    }
    if flags & 2 != 0 {
        let n = if flags & 4 != 0 {
            b.len(64)
        } else {
            classes.min(64)
        };
        o.weight = Some(
            (0..n)
                .map(|_| match b.u8() % 3 {
                    0 => b.f32(),
                    _ => b.u8() as f32 / 16.0,
                })
                .collect(),
        );
    }
    let n = b.len(1 << 12);
    let targets: Vec<i32> = (0..n)
        .map(|_| match b.u8() % 8 {
            0 => b.pick(&[-100, -1, i32::MIN, i32::MAX, classes as i32]),
            _ => b.u8() as i32 % classes.max(1) as i32,
        })
        .collect();
    let values: Vec<f32> = if flags & 8 != 0 {
        b.f32s(1 << 16)
    } else {
        (0..n.saturating_mul(classes).min(1 << 16))
            .map(|_| b.f32())
            .collect()
    };
    let finite = values.iter().all(|x| x.is_finite());
    match loss(&values, &targets, &o) {
        Err(e) => Rejected(e.to_string()),
        Ok(r) => {
            check!(!r.loss.is_nan(), "loss is NaN (finite inputs: {finite})");
            try_bug!(no_nan("rows", &r.rows));
            try_bug!(no_nan("grad", &r.grad));
            check!(
                r.denominator.is_finite() && r.denominator > 0.0,
                "denominator {}",
                r.denominator
            );
            check!(r.rows.len() == n && r.grad.len() == values.len(), "lengths");
            Verdict::Ok(format!(
                "{:?} {:?} w{} ls{} inf{}",
                o.function,
                o.reduction,
                o.weight.is_some(),
                o.label_smoothing > 0.0,
                r.loss.is_infinite()
            ))
        }
    }
}

fn seeds_loss() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![
            1, 3, 0, 0, 0, 0, 2, 0, 1, 1, 2, 1, 110, 100, 90, 80, 120, 100,
        ],
        vec![
            1, 5, 1, 1, 0, 3, 1, 60, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 3,
        ],
    ]
}

/// A tiny model, so that a checkpoint is ~2 KB and mutations often hit its header.
fn tiny_model() -> Gpt {
    let vocab = Vocab::from_chars(vec!['\0', '\n', 'a', 'é', '😀']).unwrap();
    let config = Config {
        vocab_size: 5,
        context_length: 4,
        layers: 1,
        heads: 2,
        embd: 4,
        arch: Arch::LAB,
    };
    Gpt::new(config, vocab, 3).unwrap()
}

/// After a checkpoint loads, it must also run: forward, a few greedy tokens, a save.
fn use_model(model: &Net) -> Verdict {
    let v = model.config().vocab_size;
    let ids: Vec<u32> = (0..model.config().context_length.min(3) as u32)
        .map(|i| i % v as u32)
        .collect();
    for mode in [OutputMode::Logits, OutputMode::LogSoftmax] {
        match model.forward_ids(&ids, mode) {
            Err(e) => return Rejected(e.to_string()),
            Ok(values) => try_bug!(no_nan("forward", &values)),
        }
    }
    let prompt = match model.decode(&ids[..1]) {
        Ok(p) => p,
        Err(e) => return Bug(format!("decode of id 0 failed: {e}")),
    };
    let opts = SampleOptions {
        temperature: 0.0,
        seed: Some(0),
        ..SampleOptions::default()
    };
    let text = Generator::new(model, &prompt, OutputMode::Logits, opts)
        .and_then(|mut g| g.generate(model.config().context_length + 2));
    if let Err(e) = text {
        return Rejected(e.to_string());
    }
    match model.to_safetensors() {
        Err(e) => Bug(format!("a loaded model does not save: {e}")),
        Ok(bytes) => match Net::from_safetensors(&bytes) {
            Err(e) => Bug(format!("a saved model does not load: {e}")),
            Ok(again) => {
                check!(
                    again.config() == model.config(),
                    "config changed on a round trip"
                );
                Verdict::Ok(format!("loads V{v}"))
            }
        },
    }
}

/// `Net::from_safetensors` (the page's loader) on arbitrary bytes and mutations of a tiny
/// checkpoint.
fn run_checkpoint(data: &[u8]) -> Verdict {
    match Net::from_safetensors(data) {
        Err(e) => Rejected(e.to_string()),
        Ok(model) => use_model(&model),
    }
}

fn seeds_checkpoint() -> Vec<Vec<u8>> {
    let good = tiny_model().to_safetensors().unwrap();
    vec![vec![], b"not a model".to_vec(), good[..8].to_vec(), good]
}

fn default_checkpoint() -> &'static [u8] {
    include_bytes!("../www/models/default.safetensors")
}

/// Mutations of the shipped checkpoint, described as patches so the corpus stays small: the
/// input is a list of (offset, length, bytes) records; half of them land in the header.
fn run_checkpoint_default(data: &[u8]) -> Verdict {
    let mut bytes = default_checkpoint().to_vec();
    let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut b = Bytes::new(data);
    let patches = if data.is_empty() { 0 } else { 1 + b.u8() % 4 };
    for _ in 0..patches {
        let region = if b.u8().is_multiple_of(2) {
            header
        } else {
            bytes.len()
        }
        .max(1);
        let at = (b.u32() as usize % region).min(bytes.len());
        match b.u8() % 8 {
            // Truncate here.
            0 => bytes.truncate(at),
            // Insert bytes (shifts every later offset).
            1 => {
                let n = 1 + b.u8() as usize % 8;
                let ins: Vec<u8> = (0..n).map(|_| b.u8()).collect();
                bytes.splice(at..at, ins);
            }
            // Overwrite with bytes.
            _ => {
                let n = 1 + b.u8() as usize % 8;
                for i in 0..n {
                    let x = b.u8();
                    if let Some(y) = bytes.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
        }
    }
    match Net::from_safetensors(&bytes) {
        Err(e) => Rejected(e.to_string()),
        Ok(model) => {
            // One forward and two tokens: the full use_model is too slow for this budget.
            let ids = match model.encode("ROMEO:") {
                Ok(ids) => ids,
                Err(e) => return Rejected(e.to_string()),
            };
            match model.next_token_values(&ids, OutputMode::LogSoftmax) {
                Err(e) => Rejected(e.to_string()),
                Ok(values) => {
                    try_bug!(no_nan("forward", &values));
                    Verdict::Ok(format!("loads V{}", model.config().vocab_size))
                }
            }
        }
    }
}

fn seeds_checkpoint_default() -> Vec<Vec<u8>> {
    vec![vec![], vec![1, 0, 40, 0, 0, 0, 2, 1, b'9']]
}

/// Vocabulary, encode and decode on arbitrary strings and ids.
fn run_text(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let which = b.u8() % 3;
    let s = b.text(1 << 16);
    let vocab = match which {
        0 => match Vocab::from_text(&s) {
            Ok(v) => v,
            Err(e) => return Rejected(e.to_string()),
        },
        _ => shipped_vocab().clone(),
    };
    let ids: Vec<u32> = (0..b.len(64))
        .map(|_| match b.u8() % 4 {
            0 => b.u32(),
            _ => b.u8() as u32 % (vocab.len() as u32 + 2),
        })
        .collect();
    let other = b.text(4096);
    let mut features = format!("w{which}");
    for text in [&s, &other] {
        match vocab.encode(text) {
            Ok(ids) => {
                check!(
                    ids.iter().all(|&i| (i as usize) < vocab.len()),
                    "encode gave an id out of range"
                );
                match vocab.decode(&ids) {
                    Ok(back) => check!(&back == text, "decode(encode(s)) != s for {text:?}"),
                    Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
                }
                features.push_str(" enc");
            }
            Err(e) => {
                let m = e.to_string();
                check!(
                    m.starts_with("text: character"),
                    "encode error does not name the character: {m}"
                );
                features.push_str(" unk");
            }
        }
    }
    match vocab.decode(&ids) {
        Ok(text) => {
            check!(text.chars().count() == ids.len(), "decode length");
            features.push_str(" dec");
        }
        Err(e) => {
            let m = e.to_string();
            check!(m.starts_with("ids must be"), "decode error: {m}");
            features.push_str(" bad");
        }
    }
    Verdict::Ok(features)
}

fn shipped_vocab() -> &'static Vocab {
    static VOCAB: std::sync::OnceLock<Vocab> = std::sync::OnceLock::new();
    VOCAB.get_or_init(|| {
        Net::from_safetensors(default_checkpoint())
            .unwrap()
            .tokenizer()
            .chars()
            .unwrap()
            .clone()
    })
}

fn seeds_text() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0, 0, 10, 40, 41, 200, 201, 202, 203, 1, 2, 3, 4, 5, 6],
        vec![1, 0, 12, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 210, 211],
    ]
}

/// Corpus::from_text and a training step on arbitrary pasted text and settings.
fn run_train(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let pipeline = b.pick(&Pipeline::ALL);
    let config = Config {
        vocab_size: 0,
        context_length: b.pick(&[1, 2, 3, 4, 8, 0]),
        layers: b.pick(&[1, 2]),
        heads: b.pick(&[1, 2, 3]),
        embd: b.pick(&[4, 6, 8, 5]),
        arch: Arch::LAB,
    };
    let options = TrainOptions {
        batch_size: b.pick(&[1, 2, 3, 0]),
        learning_rate: b.pick(&[1e-3, 1e-2, 0.3, 10.0, 11.0, f64::NAN, -1.0, 0.0]),
        min_learning_rate: b.pick(&[1e-4, 0.0, 10.0]),
        warmup_steps: b.pick(&[0, 1, 10]),
        total_steps: b.pick(&[0, 1, 100, usize::MAX]),
        weight_decay: b.pick(&[0.0, 0.1, 10.0, f64::INFINITY]),
        beta1: b.pick(&[0.9, 0.0, 0.999_999]),
        beta2: b.pick(&[0.99, 0.0, 1.0]),
        grad_clip: b.pick(&[1.0, 0.0, 1e6, f64::NAN]),
        eval_batches: b.pick(&[0, 1, 2]),
    };
    let steps = b.pick(&[1, 2, 3, 0]);
    let seed = b.u64();
    let text = b.text(9 * MB);
    let corpus = match Corpus::from_text(&text) {
        Ok(c) => c,
        Err(e) => return Rejected(e.to_string()),
    };
    let mut trainer = match Trainer::new(corpus, config, pipeline, seed, options) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    match trainer.step(steps) {
        Err(e) => Rejected(e.to_string()),
        Ok(r) => {
            check!(r.loss.is_finite(), "loss {}", r.loss);
            check!(r.train_ce.is_finite(), "trainCe {}", r.train_ce);
            check!(
                r.val_ce.is_none_or(|v| v.is_finite()),
                "valCe {:?}",
                r.val_ce
            );
            check!(!r.grad_norm.is_nan(), "gradNorm {}", r.grad_norm);
            check!(
                r.learning_rate.is_finite(),
                "learningRate {}",
                r.learning_rate
            );
            Verdict::Ok(format!("{} val{}", pipeline.name(), r.val_ce.is_some()))
        }
    }
}

fn seeds_train() -> Vec<Vec<u8>> {
    let mut text = vec![20];
    for i in 0..60u8 {
        text.push(if i % 13 == 12 { 10 } else { 40 + i % 7 });
    }
    let mut seeds = vec![vec![]];
    let mut good = vec![0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0];
    good.extend([7, 0, 0, 0, 0, 0, 0, 0]);
    good.extend(&text);
    seeds.push(good.clone());
    // The same text as one huge line, NUL and emoji included.
    let mut huge = good[..24].to_vec();
    huge.extend([10, 40, 41, 200, 201, 42, 255, 17]);
    seeds.push(huge);
    seeds
}

// ---------------------------------------------------------------------------------------------
// Hugging Face GPT-2 folders: `config.json`, `model.safetensors`, `tokenizer.json`. The inputs
// are edit scripts, like `checkpoint_default`'s patches: structural edits of a fixture file's
// JSON (junk values, removed, renamed and added fields, nesting), then raw byte patches of the
// serialised text, so that most executions get past the JSON parser.

/// One fixture folder of `tests/fixtures/hf/`: config.json and model.safetensors.
struct HfFolder {
    config: &'static [u8],
    model: &'static [u8],
}

macro_rules! hf_folder {
    ($name:literal) => {
        HfFolder {
            config: include_bytes!(concat!("fixtures/hf/", $name, "/config.json")),
            model: include_bytes!(concat!("fixtures/hf/", $name, "/model.safetensors")),
        }
    };
}

const HF_FOLDERS: [HfFolder; 4] = [
    hf_folder!("bf16-tied-gelu_new"),
    hf_folder!("f16-untied-gelu"),
    hf_folder!("f32-tied-gelu_new"),
    hf_folder!("f32-noprefix-untied-gelu_new"),
];

/// The fixtures' tokenizer (every folder holds a copy of it).
const HF_TOKENIZER: &[u8] = include_bytes!("fixtures/hf/tokenizer.json");

/// Number texts that serde_json cannot make from a `Value`: out of range, non-standard, or
/// broken. An edit puts a placeholder string that serialisation then replaces with one.
const RAW_JSON: [&str; 22] = [
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "1e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "1.0",
    "32.0",
    "3.2e1",
    "1E2",
    "0x20",
    "01",
    "+1",
    ".5",
    "1.",
    "nul",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "1e5",
];

/// Strings that mean something to some parser (or look like numbers).
const JUNK_STRINGS: [&str; 20] = [
    "NaN",
    "Infinity",
    "-1",
    "1e5",
    "",
    "gpt2",
    "BPE",
    "ByteLevel",
    "F32",
    "BF16",
    "null",
    "true",
    "<|endoftext|>",
    "Ġ",
    "\0",
    "😀",
    "a b",
    " ",
    "gelu",
    "transformer.",
];

/// A junk JSON value: integers at the edges of every integer type, fractions, tiny and huge
/// floats, number-like strings, the wrong type, nesting.
fn junk_json(b: &mut Bytes, keys: &[&str], depth: u32) -> Value {
    match b.u8() % 26 {
        0 => Value::Null,
        1 => Value::Bool(b.u8().is_multiple_of(2)),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(1),
        5 => json!(u64::MAX),
        6 => json!(i64::MIN),
        7 => json!((1u64 << 53) + 1),
        8 => json!(0.5),
        9 => json!(-0.0),
        10 => json!(1e308),
        11 => json!(5e-324),
        12 => json!(b.u32()),
        13 => json!(b.u8()),
        14 => json!(1u64 << 32),
        15 => json!(65_536),
        16 => json!(4_097),
        17 => json!(b.pick(&JUNK_STRINGS)),
        18 => Value::String(b.text(64)),
        19 | 20 => Value::String(format!("\u{1}raw{}", b.u8() as usize % RAW_JSON.len())),
        21 => json!([]),
        22 => json!({}),
        23 if depth < 3 => Value::Array(
            (0..b.u8() % 4)
                .map(|_| junk_json(b, keys, depth + 1))
                .collect(),
        ),
        24 if depth < 3 => {
            let mut m = Map::new();
            for _ in 0..1 + b.u8() % 3 {
                let k = b.pick(keys).to_string();
                m.insert(k, junk_json(b, keys, depth + 1));
            }
            Value::Object(m)
        }
        _ => json!(b.u8() as f64 / 7.0),
    }
}

/// The number of children of `v` (an object's fields, an array's elements).
fn children(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

/// Child `i` of `v` (< [`children`]).
fn nth_child_mut(v: &mut Value, i: usize) -> &mut Value {
    match v {
        Value::Object(m) => m.values_mut().nth(i).unwrap(),
        Value::Array(a) => &mut a[i],
        _ => unreachable!(),
    }
}

fn nth_child(v: &Value, i: usize) -> &Value {
    match v {
        Value::Object(m) => m.values().nth(i).unwrap(),
        Value::Array(a) => &a[i],
        _ => unreachable!(),
    }
}

/// A subtree anywhere in `v`, cloned (for grafts).
fn some_subtree(v: &Value, b: &mut Bytes) -> Value {
    let mut v = v;
    for _ in 0..6 {
        let n = children(v);
        if n == 0 || b.u8().is_multiple_of(4) {
            break;
        }
        v = nth_child(v, b.u32() as usize % n);
    }
    v.clone()
}

/// One structural edit of `root`: from one of the `focus` JSON pointers (or the root), down a
/// few levels, then an edit of the node or of one of its children. `keys` are the field names
/// the parser knows, to rename and insert.
fn edit_json(root: &mut Value, b: &mut Bytes, keys: &[&str], focus: &[&str]) {
    let donor = some_subtree(root, b);
    let start = b.pick(focus);
    let Some(mut at) = root.pointer(start) else {
        return;
    };
    let mut path = Vec::new();
    for _ in 0..6 {
        let n = children(at);
        if n == 0 || b.u8().is_multiple_of(3) {
            break;
        }
        let i = b.u32() as usize % n;
        path.push(i);
        at = nth_child(at, i);
    }
    let mut node = root.pointer_mut(start).unwrap();
    for i in path {
        node = nth_child_mut(node, i);
    }
    match b.u8() % 12 {
        0..=2 => *node = junk_json(b, keys, 0),
        3 => match node {
            Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(b.u32() as usize % m.len()).cloned().unwrap();
                m.remove(&k);
            }
            Value::Array(a) if !a.is_empty() => {
                a.remove(b.u32() as usize % a.len());
            }
            _ => *node = Value::Null,
        },
        4 => {
            // Rename a field: to another known name, or a near miss.
            if let Value::Object(m) = node {
                if !m.is_empty() {
                    let k = m.keys().nth(b.u32() as usize % m.len()).cloned().unwrap();
                    let v = m.remove(&k).unwrap();
                    let new = match b.u8() % 4 {
                        0 => k.to_uppercase(),
                        1 => format!("{k}{}", b.pick(&CHARS)),
                        2 => format!("transformer.{k}"),
                        _ => b.pick(keys).to_string(),
                    };
                    m.insert(new, v);
                }
            }
        }
        5 => match node {
            Value::Object(m) => {
                let k = b.pick(keys).to_string();
                m.insert(k, junk_json(b, keys, 0));
            }
            Value::Array(a) => {
                let i = b.u32() as usize % (a.len() + 1);
                a.insert(i, junk_json(b, keys, 0));
            }
            _ => *node = junk_json(b, keys, 0),
        },
        6 => {
            // Duplicate an element, or copy one field's value over another's.
            match node {
                Value::Array(a) if !a.is_empty() => {
                    let i = b.u32() as usize % a.len();
                    let x = a[i].clone();
                    a.insert(i, x);
                }
                Value::Object(m) if m.len() >= 2 => {
                    let i = b.u32() as usize % m.len();
                    let j = b.u32() as usize % m.len();
                    let x = m.values().nth(i).cloned().unwrap();
                    *m.values_mut().nth(j).unwrap() = x;
                }
                _ => {}
            }
        }
        7 => {
            // Nesting: one level, or deeper than serde_json's recursion limit (128).
            let depth = b.pick(&[1, 2, 127, 200]);
            let mut v = node.take();
            for _ in 0..depth {
                v = if b.u8().is_multiple_of(2) {
                    json!([v])
                } else {
                    json!({ "type": v })
                };
            }
            *node = v;
        }
        8 | 9 => match node {
            // Arithmetic on numbers: off by one, negated, scaled, made fractional.
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                *node = match b.u8() % 8 {
                    0 => json!(x + 1.0),
                    1 => json!(x - 1.0),
                    2 => json!(-x),
                    3 => json!(x * 2.0),
                    4 => json!(x + 0.5),
                    5 => json!(n.as_u64().map_or(0, |u| u.wrapping_add(1))),
                    6 => json!(n.as_u64().map_or(0, |u| u.wrapping_sub(1))),
                    _ => json!(n.as_u64().map_or(0, |u| u << (b.u8() % 40))),
                };
            }
            Value::String(s) => match b.u8() % 4 {
                0 => {
                    let last = s.char_indices().next_back().map_or(0, |(i, _)| i);
                    s.truncate(last)
                }
                1 => s.push(b.pick(&CHARS)),
                2 => *s = s.repeat(2),
                _ => s.insert(0, b.pick(&CHARS)),
            },
            Value::Array(a) => match b.u8() % 3 {
                0 => a.reverse(),
                1 => a.truncate(b.u8() as usize % (a.len() + 1)),
                _ if a.len() >= 2 => {
                    let i = b.u32() as usize % a.len();
                    let j = b.u32() as usize % a.len();
                    a.swap(i, j);
                }
                _ => {}
            },
            _ => *node = junk_json(b, keys, 0),
        },
        10 => *node = donor,
        _ => *node = Value::String(format!("\u{1}raw{}", b.u8() as usize % RAW_JSON.len())),
    }
}

/// `v` as JSON text (pretty or compact, by the bytes), the raw-number placeholders replaced,
/// then 0–2 raw patches (truncate, insert, overwrite) at any byte.
fn json_bytes(v: &Value, b: &mut Bytes) -> Vec<u8> {
    let mut text = if b.u8().is_multiple_of(4) {
        serde_json::to_string_pretty(v).unwrap()
    } else {
        serde_json::to_string(v).unwrap()
    };
    if text.contains("\\u0001raw") {
        for (k, raw) in RAW_JSON.iter().enumerate().rev() {
            text = text.replace(&format!("\"\\u0001raw{k}\""), raw);
        }
    }
    let mut bytes = text.into_bytes();
    let patches = b.u8() % 8 / 3;
    patch_bytes(&mut bytes, b, patches);
    bytes
}

/// `n` raw patches of `bytes` at offsets chosen by `b`: truncate, insert or overwrite.
fn patch_bytes(bytes: &mut Vec<u8>, b: &mut Bytes, n: u8) {
    for _ in 0..n {
        let at = b.u32() as usize % (bytes.len() + 1);
        match b.u8() % 8 {
            0 => bytes.truncate(at),
            1 | 2 => {
                let n = 1 + b.u8() as usize % 8;
                let ins: Vec<u8> = (0..n).map(|_| b.u8()).collect();
                bytes.splice(at..at, ins);
            }
            _ => {
                let n = 1 + b.u8() as usize % 8;
                for i in 0..n {
                    let x = b.u8();
                    if let Some(y) = bytes.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
        }
    }
}

/// A fixture file parsed once.
fn parsed(bytes: &'static [u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

const CONFIG_KEYS: [&str; 24] = [
    "model_type",
    "architectures",
    "vocab_size",
    "n_positions",
    "n_ctx",
    "n_embd",
    "n_layer",
    "n_head",
    "n_inner",
    "activation_function",
    "layer_norm_epsilon",
    "tie_word_embeddings",
    "scale_attn_weights",
    "scale_attn_by_inverse_layer_idx",
    "add_cross_attention",
    "reorder_and_upcast_attn",
    "bos_token_id",
    "eos_token_id",
    "torch_dtype",
    "dtype",
    "type",
    "GPT2LMHeadModel",
    "",
    "vocab_size ",
];

/// `read_config` on an edited fixture `config.json`; a config it accepts must be valid and
/// within the parameter cap.
fn run_hf_config(data: &[u8]) -> Verdict {
    static BASES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    let bases = BASES.get_or_init(|| HF_FOLDERS.iter().map(|f| parsed(f.config)).collect());
    let mut b = Bytes::new(data);
    let folder = b.u8() as usize % bases.len();
    let mut json = bases[folder].clone();
    let edits = if data.is_empty() { 0 } else { 1 + b.u8() % 6 };
    for _ in 0..edits {
        edit_json(&mut json, &mut b, &CONFIG_KEYS, &["", ""]);
    }
    let mut bytes = json_bytes(&json, &mut b);
    if b.u8().is_multiple_of(64) {
        // Padded with spaces to about the size cap: valid JSON, but no config is that large.
        let n = MAX_CONFIG_JSON_BYTES - 2 + b.u8() as usize % 4;
        bytes.resize(n.max(bytes.len()), b' ');
    }
    count_from_here();
    match hf_gpt2::read_config(&bytes) {
        Err(e) => Rejected(e.to_string()),
        Ok(c) => {
            check!(
                bytes.len() <= MAX_CONFIG_JSON_BYTES,
                "accepted a config.json of {} bytes",
                bytes.len()
            );
            check!(c.validate().is_ok(), "accepted an invalid config {c:?}");
            check!(
                c.parameter_count() <= logitlab::limits::MAX_INFERENCE_PARAMETERS,
                "accepted {} parameters",
                c.parameter_count()
            );
            Verdict::Ok(format!(
                "{:?} tied{} inner{} eps{}",
                c.arch.gelu,
                c.arch.tied_head,
                c.arch.mlp_width.is_some(),
                c.arch.layer_norm_eps == 1e-5
            ))
        }
    }
}

fn seeds_hf_config() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![]];
    for folder in 0..4 {
        seeds.push(vec![folder, 0, 0, 0, 0, 0, 0, 0, 1]); // one edit
    }
    seeds
}

/// A fixture's `model.safetensors` split into its parsed header and its data.
struct SafetensorsFixture {
    header: Value,
    data: &'static [u8],
}

fn safetensors_fixtures() -> &'static [SafetensorsFixture] {
    static FIXTURES: std::sync::OnceLock<Vec<SafetensorsFixture>> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(|| {
        HF_FOLDERS
            .iter()
            .map(|f| {
                let n = u64::from_le_bytes(f.model[..8].try_into().unwrap()) as usize;
                SafetensorsFixture {
                    header: serde_json::from_slice(&f.model[8..8 + n]).unwrap(),
                    data: &f.model[8 + n..],
                }
            })
            .collect()
    })
}

/// A tokenizer.json with the 256 byte tokens and `<|endoftext|>` only (257 ids, padded to the
/// model's 1024): far quicker to parse than the fixture's, so most `hf_safetensors`
/// executions use it.
fn bytes_tokenizer_json(merges: bool) -> Value {
    let mut vocab = Map::new();
    vocab.insert("<|endoftext|>".into(), json!(0));
    for b in 0..=255u8 {
        vocab.insert(bpe::byte_char(b).to_string(), json!(1 + b as u32));
    }
    let mut merge_list = Vec::new();
    if merges {
        // A few merges in both forms: "Ġ t", ["Ġt", "h"], ...
        for (k, (a, c)) in [("Ġ", "t"), ("Ġt", "h"), ("e", "r"), ("Ã", "©"), ("Ċ", "Ċ")]
            .into_iter()
            .enumerate()
        {
            vocab.insert(format!("{a}{c}"), json!(257 + k));
            merge_list.push(if k % 2 == 0 {
                json!(format!("{a} {c}"))
            } else {
                json!([a, c])
            });
        }
    }
    json!({
        "version": "1.0",
        "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": false,
                          "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                          "use_regex": true},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
                    "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null,
                  "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                  "vocab": vocab, "merges": merge_list}
    })
}

fn bytes_tokenizer() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| serde_json::to_vec(&bytes_tokenizer_json(false)).unwrap())
}

const SAFETENSORS_KEYS: [&str; 10] = [
    "dtype",
    "shape",
    "data_offsets",
    "__metadata__",
    "format",
    "transformer.wte.weight",
    "wte.weight",
    "lm_head.weight",
    "transformer.h.0.attn.bias",
    "h.1.mlp.c_fc.bias",
];

const DTYPES: [&str; 12] = [
    "F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "f32", "", "F8_E4M3", "F32 ",
];

/// An edited fixture `model.safetensors`: header edits (generic, and dtypes, shapes, offsets
/// beyond the data, overlapping and huge), a wrong header length, patched data.
fn edited_safetensors(fixture: &SafetensorsFixture, b: &mut Bytes) -> Vec<u8> {
    let mut header = fixture.header.clone();
    let data_len = fixture.data.len() as u64;
    let edits = b.u8() % 5;
    for _ in 0..edits {
        let names: Vec<String> = header
            .as_object()
            .map(|m| m.keys().filter(|k| *k != "__metadata__").cloned().collect())
            .unwrap_or_default();
        if names.is_empty() || b.u8().is_multiple_of(3) {
            edit_json(&mut header, b, &SAFETENSORS_KEYS, &["", ""]);
            continue;
        }
        let name = names[b.u32() as usize % names.len()].clone();
        let other = names[b.u32() as usize % names.len()].clone();
        let m = header.as_object_mut().unwrap();
        let other_entry = m[&other].clone();
        let Some(entry) = m.get_mut(&name).and_then(Value::as_object_mut) else {
            continue;
        };
        let offsets: Vec<u64> = entry
            .get("data_offsets")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let (s, e) = match offsets[..] {
            [s, e] => (s, e),
            _ => (0, 0),
        };
        match b.u8() % 8 {
            // Offsets at and beyond the end of the data, reversed, huge.
            0 => {
                let end = b.pick(&[
                    data_len,
                    data_len + 1,
                    data_len - 1,
                    u64::MAX,
                    1 << 32,
                    1 << 53,
                    s.wrapping_sub(1),
                ]);
                let start = b.pick(&[s, end.wrapping_sub(e.wrapping_sub(s)), end, 0, u64::MAX - 1]);
                entry.insert("data_offsets".into(), json!([start, end]));
            }
            // Overlapping another tensor's bytes (same offsets, or shifted by a little).
            1 => {
                let mut x = other_entry["data_offsets"].clone();
                if let (Some(a), true) = (x.as_array_mut(), b.u8().is_multiple_of(2)) {
                    for v in a.iter_mut() {
                        *v = json!(v.as_u64().unwrap_or(0).wrapping_add(2));
                    }
                }
                entry.insert("data_offsets".into(), x);
            }
            2 => {
                entry.insert("dtype".into(), json!(b.pick(&DTYPES)));
            }
            // Shapes: a dimension more or less, swapped, zero, huge; the product kept or not.
            3 => {
                let mut shape: Vec<u64> = entry
                    .get("shape")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                match b.u8() % 6 {
                    0 => shape.push(1),
                    1 => {
                        shape.pop();
                    }
                    2 => shape.reverse(),
                    3 => shape.insert(0, 0),
                    4 => shape.insert(0, b.pick(&[1 << 32, u64::MAX, 1 << 62, 1 << 31])),
                    _ => {
                        if let Some(d) = shape.first_mut() {
                            *d *= 2;
                        }
                    }
                }
                entry.insert("shape".into(), json!(shape));
            }
            // The whole entry of another tensor.
            4 => *entry = other_entry.as_object().cloned().unwrap_or_default(),
            // Renamed: with or without the prefix (both present), or dropped.
            5 => {
                let x = Value::Object(entry.clone());
                let renamed = match name.strip_prefix("transformer.") {
                    Some(bare) => bare.to_string(),
                    None => format!("transformer.{name}"),
                };
                if b.u8().is_multiple_of(2) {
                    m.remove(&name);
                }
                m.insert(renamed, x);
            }
            6 => {
                m.remove(&name);
            }
            _ => {
                entry.insert(
                    "data_offsets".into(),
                    json!([e, e.wrapping_add(e.wrapping_sub(s))]),
                );
            }
        }
    }
    let header = json_bytes(&header, b);
    let mut bytes = Vec::with_capacity(8 + header.len() + fixture.data.len());
    let declared = match b.u8() % 16 {
        0 => b.pick(&[0, 1, u64::MAX, 1 << 32, header.len() as u64 + data_len + 1]),
        1 => header.len() as u64 + 1,
        2 => (header.len() as u64).saturating_sub(1),
        _ => header.len() as u64,
    };
    bytes.extend_from_slice(&declared.to_le_bytes());
    bytes.extend_from_slice(&header);
    let data_at = bytes.len();
    bytes.extend_from_slice(fixture.data);
    // Data patches: junk floats at any offset, in any of the storage widths.
    for _ in 0..b.u8() % 4 {
        let at = data_at + b.u32() as usize % fixture.data.len();
        let junk: Vec<u8> = match b.u8() % 4 {
            0 => b.f32().to_le_bytes().to_vec(),
            1 => b
                .pick(&[0x7C00u16, 0xFC00, 0x7FFF, 0xFFFF, 0x7BFF, 0x0001, 0x7F80])
                .to_le_bytes()
                .to_vec(),
            2 => vec![b.u8()],
            _ => b
                .pick(&[f32::MAX, 3e38, -3e38, 1e30])
                .to_le_bytes()
                .to_vec(),
        };
        for (i, x) in junk.into_iter().enumerate() {
            if let Some(y) = bytes.get_mut(at + i) {
                *y = x;
            }
        }
    }
    if b.u8().is_multiple_of(16) {
        let at = b.u32() as usize % (bytes.len() + 1);
        bytes.truncate(at);
    }
    bytes
}

/// A loaded folder must run: a forward pass without NaN, a few greedy tokens.
fn use_hf_model(net: &Net) -> Verdict {
    let v = net.config().vocab_size;
    let ids = match net.encode("Romeo:\nBut soft") {
        Ok(ids) => ids,
        Err(e) => return Bug(format!("the fixed prompt does not encode: {e}")),
    };
    check!(ids.iter().all(|&i| (i as usize) < v), "an id out of range");
    match net.forward_ids(&ids, OutputMode::Logits) {
        Err(e) => return Rejected(e.to_string()),
        Ok(values) => {
            check!(
                values.len() == ids.len() * v,
                "forward gave {} values",
                values.len()
            );
            try_bug!(no_nan("forward", &values));
        }
    }
    let opts = SampleOptions {
        temperature: 0.0,
        seed: Some(0),
        ..SampleOptions::default()
    };
    let mut g = match Generator::new(net, "Romeo:", OutputMode::LogSoftmax, opts) {
        Ok(g) => g,
        Err(e) => return Rejected(e.to_string()),
    };
    if let Err(e) = g.generate(4) {
        return Rejected(e.to_string());
    }
    check!(
        g.tokens().iter().all(|&i| (i as usize) < v),
        "generated an id out of range"
    );
    Verdict::Ok(format!("loads V{v}"))
}

/// `Net::from_hf_gpt2` on a fixture folder whose `model.safetensors` is edited, with the
/// fixture's `config.json` and (one time in eight; else a 257-token one, quicker to parse) its
/// `tokenizer.json`; then a forward pass and a few greedy tokens.
fn run_hf_safetensors(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let folder = b.u8() as usize % HF_FOLDERS.len();
    let tokenizer = if b.u8().is_multiple_of(8) {
        HF_TOKENIZER
    } else {
        bytes_tokenizer()
    };
    let model = edited_safetensors(&safetensors_fixtures()[folder], &mut b);
    let files = [
        ("config.json", HF_FOLDERS[folder].config),
        ("model.safetensors", &model[..]),
        ("tokenizer.json", tokenizer),
    ];
    count_from_here();
    match Net::from_hf_gpt2(&files) {
        Err(e) => Rejected(e.to_string()),
        Ok(net) => use_hf_model(&net),
    }
}

fn seeds_hf_safetensors() -> Vec<Vec<u8>> {
    let mut seeds = vec![vec![]];
    for folder in 0..4 {
        // Unedited, with the fixture's tokenizer.
        seeds.push(vec![folder, 0, 0, 1, 1, 3, 0, 1]);
        // One tensor moved to the end of the data.
        seeds.push(vec![
            folder, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 0, 1,
        ]);
    }
    seeds
}

const BPE_KEYS: [&str; 26] = [
    "model",
    "type",
    "vocab",
    "merges",
    "added_tokens",
    "id",
    "content",
    "special",
    "lstrip",
    "rstrip",
    "single_word",
    "normalized",
    "normalizer",
    "pre_tokenizer",
    "decoder",
    "add_prefix_space",
    "use_regex",
    "trim_offsets",
    "dropout",
    "byte_fallback",
    "ignore_merges",
    "continuing_subword_prefix",
    "end_of_word_suffix",
    "unk_token",
    "Ġ",
    "<|endoftext|>",
];

/// Where the tokenizer edits start: the fields `from_json` reads.
const BPE_FOCUS: [&str; 10] = [
    "",
    "/model",
    "/model/vocab",
    "/model/vocab",
    "/model/merges",
    "/model/merges",
    "/added_tokens",
    "/added_tokens/0",
    "/pre_tokenizer",
    "/decoder",
];

/// The tokenizers `bpe_tokenizer` edits: the fixture's, the 257-token one with a few merges in
/// both forms, and one that lacks most bytes (so encoding can fail).
fn bpe_bases() -> &'static [Value] {
    static BASES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| {
        let mut few = bytes_tokenizer_json(true);
        let vocab = few["model"]["vocab"].as_object_mut().unwrap();
        vocab.retain(|k, _| k.chars().all(|c| "<|endoftext>Ġthr".contains(c)));
        let kept: Vec<String> = vocab.keys().cloned().collect();
        for (id, k) in kept.iter().enumerate() {
            vocab.insert(k.clone(), json!(id));
        }
        let eot = vocab["<|endoftext|>"].clone();
        few["added_tokens"][0]["id"] = eot;
        few["model"]["merges"] = json!(["Ġ t", ["Ġt", "h"]]);
        vec![parsed(HF_TOKENIZER), bytes_tokenizer_json(true), few]
    })
}

/// Whether `text`'s round trip may legitimately differ: `add_prefix_space` adds spaces, and an
/// added token written with GPT-2's byte characters (`Ġx`) decodes to its bytes (` x`), as in
/// `tokenizers`. Parses the JSON again, so it is only asked after a round trip failed.
fn round_trip_may_differ(json: &[u8], text: &str) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(json) else {
        return false;
    };
    if v["pre_tokenizer"]["add_prefix_space"] != json!(false) {
        return true;
    }
    v["added_tokens"].as_array().is_some_and(|a| {
        a.iter().filter_map(|t| t["content"].as_str()).any(|c| {
            let bytes: Option<Vec<u8>> = c.chars().map(bpe::char_byte).collect();
            text.contains(c) && bytes.is_some_and(|b| b != c.as_bytes())
        })
    })
}

/// Arbitrary ids: mostly in range, some just past the end, some anywhere.
fn junk_ids(b: &mut Bytes, v: usize) -> Vec<u32> {
    (0..b.len(64))
        .map(|_| match b.u8() % 8 {
            0 => b.u32(),
            1 => (v + b.u8() as usize % 3) as u32,
            _ => (b.u32() as usize % v.max(1)) as u32,
        })
        .collect()
}

/// Decoding `ids` one at a time gives, in all, `decode` of the ids in range; an id out of range
/// is an error naming `ids`, and leaves the decoder as it was.
fn check_stream(t: &Tokenizer, ids: &[u32]) -> Result<(), String> {
    let mut stream = t.stream();
    let mut out = String::new();
    let mut valid = Vec::new();
    for &id in ids {
        match stream.push(t, id) {
            Ok(piece) => {
                out.push_str(&piece);
                valid.push(id);
            }
            Err(e) if (id as usize) >= t.len() && e.to_string().starts_with("ids must be") => {}
            Err(e) => return Err(format!("stream push of id {id} failed: {e}")),
        }
    }
    out.push_str(&stream.finish());
    match t.decode(&valid) {
        Ok(text) if text == out => Ok(()),
        Ok(text) => Err(format!(
            "stream gave {out:?}, decode {text:?} for ids {valid:?}"
        )),
        Err(e) => Err(format!("decode of valid ids failed: {e}")),
    }
}

/// `ByteLevelBpe::from_json` on an edited tokenizer.json; when it loads: encode of arbitrary
/// text, decode of arbitrary ids, token_text of every id, the stream decoder on arbitrary ids.
fn run_bpe_tokenizer(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let bases = bpe_bases();
    let base = b.u8() as usize % 4 % bases.len(); // the quick 257-token base twice as often
    let mut json = bases[base].clone();
    let edits = if data.is_empty() { 0 } else { 1 + b.u8() % 4 };
    for _ in 0..edits {
        edit_json(&mut json, &mut b, &BPE_KEYS, &BPE_FOCUS);
    }
    let bytes = json_bytes(&json, &mut b);
    count_from_here();
    let mut bpe = match ByteLevelBpe::from_json(&bytes) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    let defined = bpe.defined();
    check!(
        defined >= 2 && bpe.len() == defined,
        "{defined} ids defined"
    );
    if b.u8().is_multiple_of(4) {
        bpe.pad_to(defined + b.u8() as usize % 8); // a model's padded rows
    }
    let t = Tokenizer::Bpe(bpe);
    let v = t.len();
    let mut features = format!("b{base}");
    let text = match b.u8() % 4 {
        0 => String::from_utf8_lossy(&data[b.pos.min(data.len())..]).into_owned(),
        _ => bpe_text(&mut b, 1 << 14),
    };
    match t.encode(&text) {
        Ok(ids) => {
            check!(
                ids.iter().all(|&i| (i as usize) < t.len()),
                "encode gave an id out of range"
            );
            match t.decode(&ids) {
                Ok(back) => {
                    if back != text && !round_trip_may_differ(&bytes, &text) {
                        return Bug(format!("decode(encode({text:?})) = {back:?}"));
                    }
                }
                Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
            }
            features.push_str(" enc");
        }
        Err(e) => {
            let m = e.to_string();
            check!(
                m.starts_with("text: "),
                "encode error does not name the text: {m}"
            );
            features.push_str(" unk");
        }
    }
    let ids = junk_ids(&mut b, v);
    match t.decode(&ids) {
        Ok(_) => features.push_str(" dec"),
        Err(e) => {
            let m = e.to_string();
            check!(m.starts_with("ids must be"), "decode error: {m}");
            features.push_str(" bad");
        }
    }
    for id in 0..v as u32 {
        if let Err(e) = t.token_text(id) {
            return Bug(format!("token_text({id}) failed: {e}"));
        }
    }
    check!(
        t.token_text(v as u32).is_err(),
        "token_text({v}) is not an error"
    );
    try_bug!(check_stream(&t, &ids));
    Verdict::Ok(features)
}

fn seeds_bpe_tokenizer() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0, 0, 0],
        vec![1, 0, 1, 1, 1, 1, 10, 40, 41, 42, 200, 201],
    ]
}

/// Text for the BPE: the fixture's kinds of text (English, contractions, Vietnamese NFC and NFD,
/// CJK, emoji), `<|endoftext|>` and pieces of it, whitespace runs, and the mutator's text.
fn bpe_text(b: &mut Bytes, max_bytes: usize) -> String {
    const PIECES: [&str; 24] = [
        "<|endoftext|>",
        "<|endoftext",
        "|>",
        "<|",
        " ",
        "   ",
        "\n",
        "\n\n",
        " \t\n ",
        "'s",
        "'ll",
        "'S",
        "Romeo",
        " Juliet",
        " 123",
        "٣½",
        "Tiếng Việt",
        "Tie\u{302}\u{301}ng",
        "中文",
        "🦀😀",
        "\u{3000}",
        "Ġ",
        "\u{FFFD}",
        "ÃĦ",
    ];
    let mut s = String::new();
    for _ in 0..b.len(24) {
        if b.exhausted() && !s.is_empty() {
            break;
        }
        match b.u8() % 4 {
            0 | 1 => s.push_str(b.pick(&PIECES)),
            _ => s.push_str(&b.text(max_bytes.saturating_sub(s.len()))),
        }
        if s.len() >= max_bytes {
            break;
        }
    }
    s
}

fn fixture_tokenizer() -> &'static Tokenizer {
    static T: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    T.get_or_init(|| Tokenizer::Bpe(ByteLevelBpe::from_json(HF_TOKENIZER).unwrap()))
}

/// The fixture tokenizer, unedited, on arbitrary text: decode(encode(text)) is the text, byte
/// for byte (`<|endoftext|>` included); every id is in range; the stream decoder, fed the ids
/// one at a time, gives the same text.
fn run_bpe_encode(data: &[u8]) -> Verdict {
    let t = fixture_tokenizer();
    let mut b = Bytes::new(data);
    let text = match b.u8() % 4 {
        0 => String::from_utf8_lossy(&data[1.min(data.len())..]).into_owned(),
        _ => bpe_text(&mut b, 1 << 15),
    };
    let ids = match t.encode(&text) {
        Ok(ids) => ids,
        Err(e) => return Bug(format!("encode failed: {e}")),
    };
    check!(
        ids.iter().all(|&i| (i as usize) < t.len()),
        "encode gave an id out of range"
    );
    match t.decode(&ids) {
        Ok(back) => check!(back == text, "decode(encode({text:?})) = {back:?}"),
        Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
    }
    try_bug!(check_stream(t, &ids));
    // Which kinds of text and tokens this was.
    let specials = ids.iter().filter(|&&i| i == 0).count();
    let kinds = text.chars().fold(0u8, |k, c| {
        k | match c {
            c if c.is_ascii_alphanumeric() || c == ' ' => 0,
            '\'' => 1,
            c if c.is_whitespace() => 2,
            c if c.len_utf8() == 4 => 4,
            c if !c.is_ascii() => 8,
            _ => 0,
        }
    });
    Verdict::Ok(format!(
        "{kinds:04b} special{} merged{}",
        specials.min(2),
        ids.len() < text.len()
    ))
}

fn seeds_bpe_encode() -> Vec<Vec<u8>> {
    let mut prompt = vec![0];
    prompt.extend_from_slice("Romeo:\nBut soft, what light<|endoftext|> 'sé😀".as_bytes());
    vec![vec![], prompt, vec![1, 6, 0, 1, 2, 3, 4, 5]]
}

// ---------------------------------------------------------------------------------------------
// llama2.c: `model.bin` and `tokenizer.bin`.

const LLAMA2C_TOKENIZER: &[u8] = include_bytes!("fixtures/llama2c/tokenizer.bin");
/// The model fixtures: legacy shared, version 1 shared, legacy with its own classifier.
const LLAMA2C_MODELS: [&[u8]; 3] = [
    include_bytes!("fixtures/llama2c/gqa-shared-v0.bin"),
    include_bytes!("fixtures/llama2c/gqa-shared-v1.bin"),
    include_bytes!("fixtures/llama2c/mha-separate-v0.bin"),
];

/// Header values that break naive readers: signs, zero, extremes, near misses of the fixtures'
/// (dim 48, hidden 128, layers 2, heads 6, kv_heads 2 or 6, vocab ±512, seq_len 96) and limits.
fn header_value(b: &mut Bytes, was: i32) -> i32 {
    match b.u8() % 4 {
        0 => b.pick(&[
            0,
            -1,
            1,
            2,
            3,
            4,
            5,
            7,
            8,
            12,
            16,
            24,
            64,
            65,
            4096,
            4097,
            16_384,
            65_536,
            65_537,
            1 << 30,
            i32::MAX,
            i32::MIN,
        ]),
        1 => b.pick(&[
            was.wrapping_neg(),
            was.wrapping_add(1),
            was.wrapping_sub(1),
            was.wrapping_mul(2),
            was / 2,
            !was,
        ]),
        2 => b.u32() as i32,
        _ => was.wrapping_add(i32::from(b.u8() as i8)),
    }
}

/// A fixture `model.bin`, edited: header fields (the seven ints, version 1's magic, version and
/// shared_classifier flag), the vocab sign with the classifier dropped or added to match, junk
/// floats in the data, truncation, extension and raw byte patches.
fn edited_model_bin(b: &mut Bytes) -> Vec<u8> {
    let mut bytes = LLAMA2C_MODELS[b.u8() as usize % 3].to_vec();
    let v1 = bytes[..4] == 0x616b_3432u32.to_le_bytes();
    let fields_at = if v1 { 8 } else { 0 };
    let int_at = |bytes: &[u8], at: usize| {
        bytes
            .get(at..at + 4)
            .map_or(0, |w| i32::from_le_bytes(w.try_into().unwrap()))
    };
    let put = |bytes: &mut Vec<u8>, at: usize, v: i32| {
        for (i, x) in v.to_le_bytes().into_iter().enumerate() {
            if let Some(y) = bytes.get_mut(at + i) {
                *y = x;
            }
        }
    };
    let edits = b.u8() % 4;
    for _ in 0..edits {
        match b.u8() % 10 {
            0..=3 => {
                let at = fields_at + 4 * (b.u8() as usize % 7);
                let v = header_value(b, int_at(&bytes, at));
                put(&mut bytes, at, v);
            }
            4 => {
                // Version 1's magic, version or flag; or a legacy file's first word as magic.
                match b.u8() % 4 {
                    0 => put(&mut bytes, 0, 0x616b_3432),
                    1 => put(&mut bytes, 4, header_value(b, 1)),
                    2 => {
                        if let Some(y) = bytes.get_mut(36) {
                            *y = b.pick(&[0, 1, 2, 0xFF]);
                        }
                    }
                    _ => put(&mut bytes, 0, header_value(b, 0x616b_3432)),
                }
            }
            5 => {
                // The classifier flipped between shared and separate, the data to match:
                // a (V, C) table dropped from or added at the end.
                let (dim, vocab) = (int_at(&bytes, fields_at), int_at(&bytes, fields_at + 20));
                let table = (dim.unsigned_abs() as usize) * (vocab.unsigned_abs() as usize) * 4;
                let separate = if v1 {
                    bytes.get(36).is_some_and(|&f| f == 0)
                } else {
                    vocab < 0
                };
                if v1 {
                    if let Some(y) = bytes.get_mut(36) {
                        *y = u8::from(separate);
                    }
                } else {
                    put(&mut bytes, fields_at + 20, vocab.wrapping_neg());
                }
                if table < 1 << 22 {
                    if separate {
                        bytes.truncate(bytes.len().saturating_sub(table));
                    } else {
                        let from = bytes.len().saturating_sub(table);
                        let copy = bytes[from..].to_vec();
                        bytes.extend(copy);
                    }
                }
            }
            6 => {
                // Junk floats in the data.
                let at = b.u32() as usize % (bytes.len() + 1);
                let w = b
                    .pick(&[
                        f32::NAN,
                        f32::INFINITY,
                        f32::NEG_INFINITY,
                        f32::MAX,
                        1e30,
                        -0.0,
                    ])
                    .to_le_bytes();
                for (i, x) in w.into_iter().enumerate() {
                    if let Some(y) = bytes.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
            7 => {
                // Cut or extended by whole floats, or by a few bytes.
                let n = if b.u8().is_multiple_of(2) {
                    4 * (1 + b.u8() as usize % 64)
                } else {
                    1 + b.u8() as usize % 3
                };
                if b.u8().is_multiple_of(2) {
                    bytes.truncate(bytes.len().saturating_sub(n));
                } else {
                    bytes.resize(bytes.len() + n, b.u8());
                }
            }
            8 => {
                let at = b.u32() as usize % (bytes.len() + 1);
                bytes.truncate(at.min(b.pick(&[0, 3, 4, 27, 28, 29, 36, 255, 256, 257, at])));
            }
            _ => {
                let n = 1 + b.u8() % 2;
                patch_bytes(&mut bytes, b, n)
            }
        }
    }
    bytes
}

/// `Net::from_llama2c` on an edited fixture `model.bin`, with the fixture `tokenizer.bin` (one
/// time in 16 cut short); when it loads: its weights are finite, a forward pass without NaN and
/// a few greedy tokens.
fn run_llama2c_model(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let model = edited_model_bin(&mut b);
    let tokenizer = if b.u8() % 16 == 15 {
        &LLAMA2C_TOKENIZER[..b.u32() as usize % LLAMA2C_TOKENIZER.len()]
    } else {
        LLAMA2C_TOKENIZER
    };
    // The page reads model.bin in parts as they arrive: any split, with the length known or
    // not, must come to the same checkpoint or the same refusal as the whole file.
    let part = 1 + b.u32() as usize % 4096;
    let known = b.u8().is_multiple_of(2);
    count_from_here();
    let whole = llama2c::read(&model, tokenizer);
    let parts = llama2c::Reader::new(known.then_some(model.len()), tokenizer).and_then(|mut r| {
        model.chunks(part).try_for_each(|c| r.push(c))?;
        r.finish()
    });
    match (&whole, &parts) {
        (Ok(a), Ok(b)) if a.tensors == b.tensors && a.config == b.config => {}
        (Err(a), Err(b)) if !known || a.to_string() == b.to_string() => {}
        _ => {
            return Bug(format!(
                "read whole: {:?}; in parts of {part} (length known: {known}): {:?}",
                whole.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
                parts.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
            ))
        }
    }
    let c = match whole {
        Ok(c) => c,
        Err(e) => return Rejected(e.to_string()),
    };
    if let Some(i) = c
        .tensors
        .iter()
        .position(|t| t.iter().any(|x| !x.is_finite()))
    {
        return Bug(format!("a non-finite weight loaded, in tensor {i}"));
    }
    let version = c.version;
    let net = match Net::from_layout(c.config, Tokenizer::SentencePiece(c.tokenizer), c.tensors) {
        Ok(net) => net,
        Err(e) => return Bug(format!("a checkpoint read but did not assemble: {e}")),
    };
    match use_hf_model(&net) {
        Verdict::Ok(f) => Verdict::Ok(format!(
            "v{version} {f} C{} kv{:?} T{}",
            net.config().embd,
            net.config().arch.family,
            match net.config().context_length {
                0..16 => "<16",
                16..96 => "<96",
                96 => "96",
                _ => ">96",
            }
        )),
        other => other,
    }
}

fn seeds_llama2c_model() -> Vec<Vec<u8>> {
    // Each fixture unedited, and with one header field edited.
    let mut seeds = vec![vec![]];
    for fixture in 0..3 {
        seeds.push(vec![fixture, 0, 0]);
        seeds.push(vec![fixture, 1, 0, 3, 0, 0, 0]);
    }
    seeds
}

/// The fixture `tokenizer.bin` as (score, length, bytes) per id.
fn tokenizer_records() -> &'static [(f32, u32, Vec<u8>)] {
    static RECORDS: std::sync::OnceLock<Vec<(f32, u32, Vec<u8>)>> = std::sync::OnceLock::new();
    RECORDS.get_or_init(|| {
        let d = LLAMA2C_TOKENIZER;
        let word = |at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
        let (mut out, mut at) = (Vec::new(), 4);
        while at < d.len() {
            let len = word(at + 4);
            out.push((
                f32::from_bits(word(at)),
                len,
                d[at + 8..at + 8 + len as usize].to_vec(),
            ));
            at += 8 + len as usize;
        }
        out
    })
}

/// Pieces for an edited tokenizer.bin: special and byte-fallback shapes, near misses of them,
/// invalid UTF-8, the empty piece.
const SP_PIECES: [&[u8]; 14] = [
    b"",
    b" ",
    b"<0x41>",
    b"<0x0A>",
    b"<0xe2>",
    b"<0x4>",
    b"<0xZZ>",
    b"\n<s>\n",
    b"<unk>",
    b"\xff",
    b"\xe2\x96",
    b" the",
    "😀".as_bytes(),
    b"\0",
];

/// An edited fixture `tokenizer.bin`: max_token_length, scores (NaN, ±∞, −1e10, junk), length
/// fields (negative, huge, off by one), pieces (another id's, the specials', invalid UTF-8,
/// empty), ids removed, kept only up to a count, or appended; then truncation and raw patches.
fn edited_tokenizer_bin(b: &mut Bytes, edits: u8) -> Vec<u8> {
    let mut records = tokenizer_records().to_vec();
    let mut max_len = u32::from_le_bytes(LLAMA2C_TOKENIZER[..4].try_into().unwrap());
    for _ in 0..edits {
        let n = records.len();
        let i = b.u32() as usize % n.max(1);
        match b.u8() % 9 {
            0 => {
                max_len = b.pick(&[
                    0,
                    1,
                    2,
                    max_len.wrapping_sub(1),
                    max_len.wrapping_add(1),
                    u32::MAX,
                    1 << 31,
                ])
            }
            1 if n > 0 => {
                records[i].0 = b.pick(&[
                    f32::NAN,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    -1e10,
                    -1e10 - 1e4,
                    f32::MAX,
                    0.0,
                    -0.0,
                ])
            }
            2 if n > 0 => records[i].0 = b.f32(),
            3 if n > 0 => {
                let len = records[i].1;
                records[i].1 = b.pick(&[
                    u32::MAX,
                    i32::MIN as u32,
                    i32::MAX as u32,
                    len.wrapping_add(1),
                    len.wrapping_sub(1),
                    0,
                    1 << 20,
                ])
            }
            4 if n > 0 => {
                let piece = if b.u8().is_multiple_of(2) {
                    records[b.u32() as usize % n].2.clone()
                } else {
                    b.pick(&SP_PIECES).to_vec()
                };
                records[i].1 = piece.len() as u32;
                records[i].2 = piece;
            }
            5 if n > 0 => {
                records.remove(i);
            }
            6 => records.truncate(b.pick(&[0, 1, 2, 3, 4, 35, 100, 258, 259, 260, 300])),
            7 => {
                let piece = b.pick(&SP_PIECES).to_vec();
                records.push((b.f32(), piece.len() as u32, piece));
            }
            _ => {}
        }
    }
    let mut bytes = max_len.to_le_bytes().to_vec();
    for (score, len, piece) in &records {
        bytes.extend(score.to_le_bytes());
        bytes.extend(len.to_le_bytes());
        bytes.extend(piece);
    }
    match b.u8() % 8 {
        0 => {
            let at = b.u32() as usize % (bytes.len() + 1);
            bytes.truncate(at);
        }
        1 => {
            let n = 1 + b.u8() % 2;
            patch_bytes(&mut bytes, b, n)
        }
        _ => {}
    }
    bytes
}

/// Text for SentencePiece: the fixture's kind of text, the specials' and byte pieces' spellings
/// (`<0x41>`, `\n<s>\n`, `<unk>`), whitespace runs and the mutator's text.
fn sp_text(b: &mut Bytes, max_bytes: usize) -> String {
    const PIECES: [&str; 16] = [
        "Romeo",
        " Juliet",
        "But soft, what light",
        " ",
        "   ",
        "\n",
        "\n\n",
        "<0x41>",
        "<0x0A>",
        "\n<s>\n",
        "<s>",
        "<unk>",
        "Tiếng Việt",
        "🦀😀",
        "\u{FFFD}",
        "▁",
    ];
    let mut s = String::new();
    for _ in 0..b.len(24) {
        if b.exhausted() && !s.is_empty() {
            break;
        }
        match b.u8() % 4 {
            0 | 1 => s.push_str(b.pick(&PIECES)),
            _ => s.push_str(&b.text(max_bytes.saturating_sub(s.len()))),
        }
        if s.len() >= max_bytes {
            break;
        }
    }
    s
}

/// `SentencePiece::from_bytes` on an edited fixture `tokenizer.bin` (one time in four unedited);
/// when it loads: encode of arbitrary text, decode of arbitrary ids, `token_text` of every id,
/// the stream decoder on arbitrary ids (its pieces must equal `decode`). Unedited, decode(encode
/// (text)) must be the text after the dummy-prefix space.
fn run_sentencepiece(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let edits = b.u8() % 8;
    let edits = if edits >= 4 { 0 } else { edits + 1 }; // unedited half the time
    let bytes = edited_tokenizer_bin(&mut b, edits);
    count_from_here();
    let sp = match SentencePiece::from_bytes(&bytes) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    let pristine = bytes == LLAMA2C_TOKENIZER;
    let t = Tokenizer::SentencePiece(sp);
    let v = t.len();
    // The size as a bucket: none, the specials only, some bytes, all bytes, the fixture's, more.
    let size = [0, 3, 259, 512, 513].iter().filter(|&&n| v >= n).count();
    let mut features = format!("{} V{size}", u8::from(pristine));
    let text = match b.u8() % 4 {
        0 => String::from_utf8_lossy(&data[b.pos.min(data.len())..]).into_owned(),
        _ => sp_text(&mut b, 1 << 14),
    };
    match t.encode(&text) {
        Ok(ids) => {
            check!(
                ids.iter().all(|&i| (i as usize) < v),
                "encode gave an id out of range"
            );
            match t.decode(&ids) {
                Ok(back) => {
                    // run.c's rules: the dummy-prefix space first; the piece after BOS (which
                    // the text "\n<s>\n" can merge into) loses its leading space.
                    let want = if text.is_empty() {
                        String::new()
                    } else {
                        format!(" {text}")
                    };
                    if pristine && back != want && !ids.contains(&1) {
                        return Bug(format!("decode(encode({text:?})) = {back:?}"));
                    }
                }
                Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
            }
            try_bug!(check_stream(&t, &ids));
            features.push_str(" enc");
            if pristine {
                // Which kinds of tokens: BOS, byte fallback, merged pieces.
                let bos = ids.contains(&1);
                let bytes = ids.iter().any(|&i| (3..259).contains(&i));
                let merged = ids.len() < text.chars().count();
                features.push_str(&format!(" bos{bos} bytes{bytes} merged{merged}"));
            }
        }
        Err(e) => {
            let m = e.to_string();
            check!(!pristine, "the fixture tokenizer failed to encode: {m}");
            check!(
                m.starts_with("encode: "),
                "encode error does not say encode: {m}"
            );
            features.push_str(" unk");
        }
    }
    let ids = junk_ids(&mut b, v);
    match t.decode(&ids) {
        Ok(_) => features.push_str(" dec"),
        Err(e) => {
            let m = e.to_string();
            check!(m.starts_with("ids must be"), "decode error: {m}");
            features.push_str(" bad");
        }
    }
    for id in 0..v as u32 {
        if let Err(e) = t.token_text(id) {
            return Bug(format!("token_text({id}) failed: {e}"));
        }
    }
    check!(
        t.token_text(v as u32).is_err(),
        "token_text({v}) is not an error"
    );
    try_bug!(check_stream(&t, &ids));
    Verdict::Ok(features)
}

fn seeds_sentencepiece() -> Vec<Vec<u8>> {
    let mut prompt = vec![7, 0, 1];
    prompt.extend_from_slice("Romeo:\nBut soft, what light \n<s>\n <0x41>é😀".as_bytes());
    vec![
        vec![],
        prompt,
        vec![0, 0, 0, 0, 0, 1, 2, 3],
        vec![3, 5, 0, 1, 2, 3],
    ]
}

const TARGETS: &[Target] = &[
    Target {
        name: "numerics",
        budget: 20_000,
        max_input: 512,
        alloc_cap: 16 * MB,
        names: &["values", "temperature"],
        prefix: false,
        seeds: seeds_numerics,
        run: run_numerics,
    },
    Target {
        name: "sample",
        budget: 20_000,
        max_input: 512,
        alloc_cap: 16 * MB,
        names: &["values", "temperature", "topP", "minP", "seed"],
        prefix: false,
        seeds: seeds_sample,
        run: run_sample,
    },
    Target {
        name: "loss",
        budget: 20_000,
        max_input: 512,
        alloc_cap: 16 * MB,
        names: &[
            "values",
            "targets",
            "classes",
            "weight",
            "labelSmoothing",
            "row",
            "reduction",
        ],
        prefix: false,
        seeds: seeds_loss,
        run: run_loss,
    },
    Target {
        name: "checkpoint",
        budget: 3_000,
        max_input: 16_384,
        alloc_cap: 16 * MB,
        names: &["checkpoint", "vocabulary", "ids", "prompt", "model"],
        prefix: false,
        seeds: seeds_checkpoint,
        run: run_checkpoint,
    },
    Target {
        name: "checkpoint_default",
        budget: 300,
        max_input: 64,
        alloc_cap: 16 * MB,
        names: &["checkpoint", "text", "model"],
        prefix: false,
        seeds: seeds_checkpoint_default,
        run: run_checkpoint_default,
    },
    Target {
        name: "text",
        budget: 10_000,
        max_input: 1024,
        alloc_cap: 4 * MB,
        names: &["vocabulary", "text"],
        prefix: false,
        seeds: seeds_text,
        run: run_text,
    },
    Target {
        name: "train",
        budget: 400,
        max_input: 1024,
        alloc_cap: 96 * MB,
        names: &[
            "text",
            "batchSize",
            "learningRate",
            "minLearningRate",
            "weightDecay",
            "beta",
            "gradClip",
            "contextLength",
            "embd",
            "heads",
            "training diverged",
            "n must be",
        ],
        prefix: false,
        seeds: seeds_train,
        run: run_train,
    },
    Target {
        name: "hf_config",
        budget: 6_000,
        max_input: 512,
        alloc_cap: MB,
        names: &["config.json: "],
        prefix: true,
        seeds: seeds_hf_config,
        run: run_hf_config,
    },
    Target {
        name: "hf_safetensors",
        budget: 4_000,
        max_input: 256,
        alloc_cap: 4 * MB,
        names: &["model.safetensors: ", "model: "],
        prefix: true,
        seeds: seeds_hf_safetensors,
        run: run_hf_safetensors,
    },
    Target {
        name: "bpe_tokenizer",
        budget: 4_000,
        max_input: 1024,
        alloc_cap: 4 * MB,
        names: &["tokenizer.json: "],
        prefix: true,
        seeds: seeds_bpe_tokenizer,
        run: run_bpe_tokenizer,
    },
    Target {
        name: "bpe_encode",
        budget: 6_000,
        max_input: 1024,
        alloc_cap: 4 * MB,
        names: &[],
        prefix: true,
        seeds: seeds_bpe_encode,
        run: run_bpe_encode,
    },
    Target {
        name: "llama2c_model",
        budget: 3_000,
        max_input: 256,
        alloc_cap: 4 * MB,
        // `ids must be` for a prompt longer than an edited seq_len.
        names: &["model.bin: ", "tokenizer.bin: ", "model: ", "ids must be "],
        prefix: true,
        seeds: seeds_llama2c_model,
        run: run_llama2c_model,
    },
    Target {
        name: "sentencepiece",
        budget: 6_000,
        max_input: 1024,
        alloc_cap: 4 * MB,
        names: &["tokenizer.bin: "],
        prefix: true,
        seeds: seeds_sentencepiece,
        run: run_sentencepiece,
    },
];

// ---------------------------------------------------------------------------------------------
// The mutator and the loop.

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>], max: usize) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = input.len();
        let at = |rng: &mut Rng, n: usize| rng.below(n as u64 + 1) as usize;
        match rng.below(10) {
            0 if len > 0 => {
                let i = at(rng, len - 1);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = at(rng, len - 1);
                input[i] = rng.next_u64() as u8;
            }
            2 if len > 0 => {
                let i = at(rng, len - 1);
                input[i] =
                    [0, 1, 0x7F, 0x80, 0xFF, 200, 203, 208, 230, 250][rng.below(10) as usize];
            }
            3 => {
                let i = at(rng, len);
                let n = 1 + rng.below(8) as usize;
                let ins: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                input.splice(i..i, ins);
            }
            4 if len > 0 => {
                let i = at(rng, len - 1);
                let n = (1 + rng.below(8) as usize).min(len - i);
                input.drain(i..i + n);
            }
            5 => {
                // An interesting 32-bit value: f32 edges, i32 extremes.
                let words = [
                    f32::NAN.to_bits(),
                    f32::INFINITY.to_bits(),
                    f32::NEG_INFINITY.to_bits(),
                    (-0.0f32).to_bits(),
                    1,
                    f32::MAX.to_bits(),
                    i32::MAX as u32,
                    i32::MIN as u32,
                    u32::MAX,
                    0,
                ];
                let w = words[rng.below(words.len() as u64) as usize].to_le_bytes();
                let i = at(rng, len);
                input.splice(i..i, w);
            }
            6 => {
                let ch = CHARS[rng.below(CHARS.len() as u64) as usize];
                let mut buf = [0; 4];
                let i = at(rng, len);
                input.splice(i..i, ch.encode_utf8(&mut buf).bytes());
            }
            7 if !corpus.is_empty() => {
                // Splice: the head of this input, the tail of another.
                let other = &corpus[rng.below(corpus.len() as u64) as usize];
                let i = at(rng, len);
                let j = at(rng, other.len());
                input.truncate(i);
                input.extend_from_slice(&other[j..]);
            }
            8 if len > 0 => {
                // Duplicate a range.
                let i = at(rng, len - 1);
                let n = (1 + rng.below(16) as usize).min(len - i);
                let piece = input[i..i + n].to_vec();
                input.splice(i..i, piece);
            }
            _ => {
                let i = at(rng, len);
                input.insert(i, rng.next_u64() as u8);
            }
        }
    }
    input.truncate(max);
}

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/stress/corpus")
        .join(target)
}

/// FNV-1a, to name corpus files by their content.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_TARGET.with(|t| t.get()) {
                let msg = format!("{info}");
                PANIC_MESSAGE.with(|m| m.set(Some(msg)));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs one input; `Some(reason)` if it broke a promise, else the outcome's shape.
fn execute(t: &Target, input: &[u8]) -> Result<String, String> {
    LARGEST.with(|l| l.set(0));
    IN_TARGET.with(|f| f.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| (t.run)(input)));
    IN_TARGET.with(|f| f.set(false));
    let largest = LARGEST.with(|l| l.get());
    let verdict = match result {
        Ok(v) => v,
        Err(_) => {
            let msg = PANIC_MESSAGE.with(|m| m.take()).unwrap_or_default();
            return Err(format!("panic: {msg}"));
        }
    };
    if largest > t.alloc_cap {
        return Err(format!(
            "allocated {largest} bytes at once; the cap is {}",
            t.alloc_cap
        ));
    }
    match verdict {
        Verdict::Ok(feature) => Ok(format!("ok {feature}")),
        Bug(why) => Err(why),
        Rejected(msg) => {
            let named = |n: &&str| {
                if t.prefix {
                    msg.len() > n.len() && msg.starts_with(n)
                } else {
                    msg.contains(n)
                }
            };
            if msg.is_empty() || !t.names.iter().any(named) {
                Err(format!("the error names no argument: {msg:?}"))
            } else {
                if t.prefix && msg.len() > MAX_ERROR_BYTES {
                    let start: String = msg.chars().take(80).collect();
                    Err(format!("the error has {} bytes: {start:?}...", msg.len()))
                } else if t.prefix {
                    Ok(format!("err {}", words_of(&msg)))
                } else {
                    Ok(format!("err {}", shape(&msg)))
                }
            }
        }
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn stress(name: &str) {
    let t = TARGETS.iter().find(|t| t.name == name).unwrap();
    // STRESS_REPLAY=path/to/input.bin runs that one input unguarded, for a backtrace.
    if let Some(path) = std::env::var_os("STRESS_REPLAY") {
        let input = std::fs::read(&path).unwrap();
        match (t.run)(&input) {
            Verdict::Ok(f) => println!("{name}: ok {f}"),
            Rejected(m) => println!("{name}: rejected: {m}"),
            Bug(why) => println!("{name}: BUG {why}"),
        }
        return;
    }
    install_panic_hook();
    let budget = t.budget as u64 * env_number("STRESS_BUDGET", 1);
    let seed = env_number("STRESS_SEED", 1);
    let save = std::env::var_os("STRESS_SAVE").is_some();
    let dir = corpus_dir(t.name);

    // The committed corpus first (sorted, so runs are reproducible), then the built-in seeds.
    let mut committed: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    committed.sort();
    let mut inputs: Vec<Vec<u8>> = committed
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let replayed = inputs.len();
    inputs.extend((t.seeds)());

    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut failures: Vec<(String, Vec<u8>)> = Vec::new();
    let mut executions = 0u64;
    let mut new_inputs = 0usize;
    let mut rng = Rng::new(seed ^ fnv(t.name.as_bytes()));
    let mut consider = |input: Vec<u8>,
                        corpus: &mut Vec<Vec<u8>>,
                        failures: &mut Vec<(String, Vec<u8>)>,
                        from_disk: bool| {
        match execute(t, &input) {
            Err(why) => {
                if failures.len() < 20 {
                    failures.push((why, input));
                }
            }
            Ok(outcome) => {
                if seen.insert(outcome) || from_disk {
                    if save && !from_disk {
                        std::fs::create_dir_all(&dir).unwrap();
                        let path = dir.join(format!("{:016x}.bin", fnv(&input)));
                        std::fs::write(path, &input).unwrap();
                        new_inputs += 1;
                    }
                    corpus.push(input);
                }
            }
        }
    };
    for (i, input) in inputs.into_iter().enumerate() {
        consider(input, &mut corpus, &mut failures, i < replayed);
        executions += 1;
    }
    while executions < budget {
        let input = if corpus.is_empty() || rng.below(8) == 0 {
            let n = rng.below(64) as usize;
            (0..n).map(|_| rng.next_u64() as u8).collect()
        } else {
            let mut x = corpus[rng.below(corpus.len() as u64) as usize].clone();
            mutate(&mut rng, &mut x, &corpus, t.max_input);
            x
        };
        consider(input, &mut corpus, &mut failures, false);
        executions += 1;
    }

    if std::env::var_os("STRESS_SHOW").is_some() {
        let mut v: Vec<_> = seen.iter().collect();
        v.sort();
        for o in v {
            println!("  {o}");
        }
    }
    println!(
        "stress {}: {executions} executions, {} failures, {replayed} corpus files replayed, \
         {} distinct outcomes{}",
        t.name,
        failures.len(),
        corpus.len(),
        if save {
            format!(", {new_inputs} new inputs saved")
        } else {
            String::new()
        }
    );
    if !failures.is_empty() {
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/stress-failures");
        std::fs::create_dir_all(&out).unwrap();
        for (why, input) in &failures {
            let path = out.join(format!("{}-{:016x}.bin", t.name, fnv(input)));
            std::fs::write(&path, input).unwrap();
            println!(
                "  FAIL {why}\n       input {} ({})",
                hex(input),
                path.display()
            );
        }
        panic!("stress {}: {} failing inputs", t.name, failures.len());
    }
}

#[test]
fn stress_numerics() {
    stress("numerics");
}

#[test]
fn stress_sample() {
    stress("sample");
}

#[test]
fn stress_loss() {
    stress("loss");
}

#[test]
fn stress_checkpoint() {
    stress("checkpoint");
}

#[test]
fn stress_checkpoint_default() {
    stress("checkpoint_default");
}

#[test]
fn stress_text() {
    stress("text");
}

#[test]
fn stress_train() {
    stress("train");
}

#[test]
fn stress_hf_config() {
    stress("hf_config");
}

#[test]
fn stress_hf_safetensors() {
    stress("hf_safetensors");
}

#[test]
fn stress_bpe_tokenizer() {
    stress("bpe_tokenizer");
}

#[test]
fn stress_bpe_encode() {
    stress("bpe_encode");
}

#[test]
fn stress_llama2c_model() {
    stress("llama2c_model");
}

#[test]
fn stress_sentencepiece() {
    stress("sentencepiece");
}

// ---------------------------------------------------------------------------------------------
// Regressions: each input the stress run found, with the fix it needed. The inputs are also in
// the committed corpus, which every run replays.

fn expect_rejected(v: Verdict, needle: &str) {
    match v {
        Rejected(m) => assert!(m.contains(needle), "{m}"),
        Verdict::Ok(f) => panic!("accepted ({f}), expected an error with {needle:?}"),
        Bug(b) => panic!("bug: {b}"),
    }
}

/// Found: the shipped checkpoint with 0xFF bytes written over a weight (an f16 NaN) loaded, and
/// `forward` returned NaN. Fixed: the loader rejects non-finite weights, naming the tensor.
#[test]
fn regression_checkpoint_with_a_nan_weight_is_refused() {
    expect_rejected(
        run_checkpoint_default(&[0x39, 0xff, 0xff, 0xff, 0xff]),
        "weights must be finite",
    );
}

/// Found: a checkpoint whose metadata vocabulary lists a character twice failed with
/// "vocabulary lists the character 'B' twice", not saying it was about the checkpoint. Fixed:
/// "checkpoint: metadata \"vocab\": ...".
#[test]
fn regression_checkpoint_with_a_duplicate_character_names_the_checkpoint() {
    expect_rejected(
        run_checkpoint_default(&[0x24, 0x42]),
        "checkpoint: metadata \"vocab\": vocabulary lists the character 'B' twice",
    );
}

/// Finite weights can still overflow f32 in the forward pass: the output is then an error that
/// says so, never NaN logits for the sampler.
#[test]
fn regression_forward_overflow_is_an_error_not_nan() {
    let model = tiny_model();
    let tensors: std::collections::HashMap<String, candle_core::Tensor> = model
        .named_tensors()
        .into_iter()
        .map(|(n, t)| (n, (t.ones_like().unwrap() * 3e38).unwrap()))
        .collect();
    let huge = Gpt::from_tensors(*model.config(), model.tokenizer().clone(), &tensors).unwrap();
    let candle = huge.forward_ids(&[0, 1], OutputMode::Logits);
    let plain = huge
        .to_net()
        .unwrap()
        .forward_ids(&[0, 1], OutputMode::Logits); // the page's
    for e in [candle.unwrap_err(), plain.unwrap_err()] {
        let e = e.to_string();
        assert!(
            e.starts_with("model: the forward pass overflowed f32"),
            "{e}"
        );
    }
}

/// Found: nll with +∞ at one row's target and −∞ at another's returned loss = NaN (∞ − ∞).
/// Fixed: an error naming `values`.
#[test]
fn regression_nll_with_plus_and_minus_infinity_is_an_error() {
    let mut o = LossOptions::new(1);
    o.function = LossFunction::Nll;
    let e = loss(&[f32::INFINITY, f32::NEG_INFINITY], &[0, 0], &o)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("values hold +Infinity"), "{e}");
    o.reduction = Reduction::Sum;
    assert!(loss(&[f32::INFINITY, f32::NEG_INFINITY], &[0, 0], &o).is_err());
    // One infinity alone is a well-defined (infinite) loss.
    assert_eq!(
        loss(&[f32::NEG_INFINITY, 1.0], &[0, 0], &o).unwrap().loss,
        f32::INFINITY
    );
}

/// Found: empty pasted text, or one repeated character, failed with "vocabulary must be at least
/// 2 distinct characters", naming no argument of `new Trainer(text, ...)`. Fixed: the error
/// names `text` and counts its characters.
#[test]
fn regression_empty_and_single_character_text_name_the_text() {
    for (text, got) in [
        ("", "0 characters, 0 distinct"),
        ("aaaa", "4 characters, 1 distinct"),
        ("😀", "1 characters, 1 distinct"),
    ] {
        let e = Corpus::from_text(text).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("text must be a text with 2 to 65536 distinct characters, got {got}")
        );
    }
    // NUL and non-BMP characters are ordinary characters.
    let c = Corpus::from_text(&"\0😀a\n".repeat(10)).unwrap();
    assert_eq!(
        c.tokenizer.chars().unwrap().chars(),
        &['\0', '\n', 'a', '😀']
    );
}

/// Found by review, and what the browser junk test would hit: a junk config asked the trainer
/// for ~1.3e10 parameters (a 50 GB allocation: an abort in wasm, which also wrapped the count
/// around its 32-bit usize), and a huge batch for ~1e12 activations. Fixed: caps checked before
/// anything is allocated.
#[test]
fn regression_trainer_refuses_huge_configs_before_allocating() {
    install_panic_hook();
    let corpus = || Corpus::from_text(&"To be, or not to be.\n".repeat(400)).unwrap();
    let huge = Config {
        vocab_size: 0,
        context_length: 4096,
        layers: 64,
        heads: 64,
        embd: 4096,
        arch: Arch::LAB,
    };
    LARGEST.with(|l| l.set(0));
    let e = Trainer::new(
        corpus(),
        huge,
        Pipeline::NllOnLogits,
        1,
        TrainOptions::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.starts_with("config: 12"), "{e}");
    assert!(e.ends_with("training takes at most 16777216"), "{e}");
    assert!(LARGEST.with(|l| l.get()) < 4 * MB);
    let wide = Config {
        context_length: 4096,
        ..Config::unit_test(0)
    };
    let options = TrainOptions {
        batch_size: 4096,
        ..TrainOptions::default()
    };
    let e = Trainer::new(corpus(), wide, Pipeline::NllOnLogits, 1, options)
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("batchSize × contextLength too large"), "{e}");
    // The default model's own training stays within the caps.
    let default = Config::preset("medium", 84).unwrap();
    assert!(default.parameter_count() <= logitlab::limits::MAX_TRAIN_PARAMETERS as u64);
    assert!(
        logitlab::train::activation_estimate(&default, 32)
            <= logitlab::limits::MAX_TRAIN_ACTIVATIONS as u64
    );
}

/// Found by review: `Trainer.step(n)` took a u32, so step(-1) in JS became 4 294 967 295 steps
/// (the tab froze). The wasm binding now takes a number and both layers cap n.
#[test]
fn regression_step_count_is_capped() {
    let corpus = Corpus::from_text(&"To be, or not to be.\n".repeat(40)).unwrap();
    let config = Config {
        context_length: 8,
        embd: 8,
        ..Config::unit_test(0)
    };
    let options = TrainOptions {
        batch_size: 2,
        eval_batches: 0,
        ..TrainOptions::default()
    };
    let mut t = Trainer::new(corpus, config, Pipeline::CrossEntropyOnLogits, 1, options).unwrap();
    for n in [0, 10_001, usize::MAX] {
        let e = t.step(n).unwrap_err().to_string();
        assert_eq!(e, format!("n must be an integer in [1, 10000], got {n}"));
    }
    assert_eq!(t.step(1).unwrap().step, 1);
}

/// The size caps of the README's "Limits", each a clear error one past the cap.
#[test]
fn limits_are_enforced_with_clear_errors() {
    use logitlab::limits::{MAX_CHECKPOINT_BYTES, MAX_TEXT_BYTES};
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
    let model = Net::from_safetensors(default_checkpoint()).unwrap();
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

/// Found by the `hf_config` target's size check: a `config.json` padded with spaces to 1 MiB + 1
/// byte loaded, because `read_config` capped it at 32 MiB (the `tokenizer.json` cap), while
/// `src/limits.rs` and `Model.fromFiles` say 1 MiB. Fixed: `read_config` checks
/// `MAX_CONFIG_JSON_BYTES`, so the native reader and the page agree.
#[test]
fn regression_config_json_over_one_mib_is_refused() {
    use logitlab::limits::MAX_CONFIG_JSON_BYTES;
    use logitlab::model::format::hf_gpt2::read_config;
    let mut config = include_bytes!("fixtures/hf/f32-tied-gelu_new/config.json").to_vec();
    config.resize(MAX_CONFIG_JSON_BYTES + 1, b' ');
    assert_eq!(
        read_config(&config).unwrap_err().to_string(),
        "config.json: 1048577 bytes; at most 1048576 (1 MiB) are accepted"
    );
    config.truncate(MAX_CONFIG_JSON_BYTES);
    assert!(read_config(&config).is_ok());
    // The target's input: the bf16 folder's config, padded to 1 MiB + 1.
    expect_rejected(
        run_hf_config(&[0x40, 0x00, 0x57, 0x80]),
        "config.json: 1048577 bytes; at most 1048576 (1 MiB) are accepted",
    );
}

/// Found by the `hf_config` and `bpe_tokenizer` targets: an error quoted the wrong value whole,
/// so `"normalizer": <a copy of the whole file>` gave a 145 679-byte message (with GPT-2's
/// 1.4 MB tokenizer.json, a message of megabytes for the page to show), and a word of a text
/// that the vocabulary cannot encode was quoted whole. Fixed: every value, token, tensor name,
/// shape and word an error quotes is cut to 60 characters and `…` (`logitlab::error::brief`).
#[test]
fn regression_errors_quote_at_most_a_brief_value() {
    use logitlab::model::format::hf_gpt2::read_config;
    use logitlab::model::ByteLevelBpe;
    let tokenizer = include_bytes!("fixtures/hf/tokenizer.json");
    let mut json: serde_json::Value = serde_json::from_slice(tokenizer).unwrap();
    json["normalizer"] = json.clone();
    let e = ByteLevelBpe::from_json(json.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("tokenizer.json: normalizer is {\""), "{e}");
    assert!(e.ends_with("…; only null is supported"), "{e}");
    assert!(e.len() < 200, "{} bytes", e.len());
    let config = include_bytes!("fixtures/hf/f32-tied-gelu_new/config.json");
    let mut json: serde_json::Value = serde_json::from_slice(config).unwrap();
    json["n_layer"] = json.clone();
    let e = read_config(json.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("config.json: n_layer is {\""), "{e}");
    assert!(e.ends_with("…, not a non-negative integer"), "{e}");
    // The targets' inputs: the whole file copied into normalizer, and into n_layer.
    expect_rejected(
        run_bpe_tokenizer(&[0xe0, 0x0a]),
        "tokenizer.json: normalizer is {\"",
    );
    expect_rejected(
        run_hf_config(&[0x42, 0x0a, 0x70, 0x5b, 0x00]),
        "config.json: n_layer is {\"",
    );
    // A long word that the vocabulary cannot encode (it lacks the byte 'x').
    let mut json: serde_json::Value = serde_json::from_slice(tokenizer).unwrap();
    let vocab = json["model"]["vocab"].as_object_mut().unwrap();
    let id = vocab.remove("x").unwrap();
    vocab.insert("no x".into(), id);
    let merges = json["model"]["merges"].as_array_mut().unwrap();
    merges.retain(|m| !m.to_string().contains('x'));
    let t = ByteLevelBpe::from_json(json.to_string().as_bytes()).unwrap();
    let e = t.encode(&"x".repeat(100_000)).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "text: byte 0x78 of \"{}… has no token in tokenizer.json's model.vocab",
            "x".repeat(59)
        )
    );
}

/// Found by the `llama2c_model` target: a `model.bin` with a NaN or ±∞ written over a weight
/// loaded (the HF and logitlab readers refuse them), so the forward pass failed later, or, for a
/// row the prompt never reads, a model with a NaN weight ran. Fixed: `llama2c::read` refuses
/// non-finite weights, naming the file, the tensor (run.c's name) and the layer.
#[test]
fn regression_llama2c_non_finite_weight_is_refused() {
    let with = |fixture: usize, at: usize, x: f32| {
        let mut bytes = LLAMA2C_MODELS[fixture].to_vec();
        bytes[at..at + 4].copy_from_slice(&x.to_le_bytes());
        llama2c::read(&bytes, LLAMA2C_TOKENIZER)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        with(0, 28, f32::NAN),
        "model.bin: tensor token_embedding_table holds NaN at index 0; weights must be finite"
    );
    // Version 1: rms_att, rms_ffn (2 × 48 each), rms_final (48), the embedding (512 × 48), wq
    // of layer 0 (48 × 48), then wq of layer 1.
    let wq1 = 256 + 4 * (96 + 96 + 48 + 512 * 48 + 48 * 48);
    assert_eq!(
        with(1, wq1 + 4 * 5, f32::INFINITY),
        "model.bin: tensor wq of layer 1 holds inf at index 5; weights must be finite"
    );
    let last = LLAMA2C_MODELS[2].len() - 4;
    assert_eq!(
        with(2, last, f32::NEG_INFINITY),
        "model.bin: tensor wcls holds -inf at index 24575; weights must be finite"
    );
    // The target's inputs: junk floats (NaN) in the data.
    expect_rejected(
        run_llama2c_model(&[0x7e]),
        "model.bin: tensor wq of layer 1 holds NaN at index 212",
    );
    expect_rejected(
        run_llama2c_model(&[0xef, 0x0a, 0xe2, 0x80, 0xae, 0xbf, 0xbd, 0xbd]),
        "model.bin: tensor wv of layer 1 holds NaN at index 2084",
    );
}

/// Found by the `llama2c_model` target once it also fed the file in parts with its length
/// unknown (as a download without Content-Length reaches the page): the reader allocated each
/// tensor whole at its first byte, so a short file whose header claimed a large embedding took
/// 8 MiB for a few hundred bytes. Fixed: with the length unknown a tensor grows with the bytes
/// that arrive (at most twice them); with it known, the header is checked against it first.
#[test]
fn regression_llama2c_stream_of_unknown_length_allocates_what_it_received() {
    install_panic_hook();
    let input = [
        0x73, 0x0b, 0x99, 0xf3, 0xf1, 0x84, 0x8c, 0xaf, 0xa4, 0xd4, 0x1f, 0x03, 0xfc, 0xfc, 0x74,
        0x1b, 0x10, 0xe5, 0xea, 0x7d, 0xfa,
    ];
    let t = TARGETS.iter().find(|t| t.name == "llama2c_model").unwrap();
    assert!(execute(t, &input).is_ok(), "{:?}", execute(t, &input));
    // Directly: a header claiming a 512 × 4 096 embedding (8 MiB), then 1 000 bytes.
    let header = [4096i32, 4096, 1, 32, 32, 512, 256];
    let mut bytes: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes.resize(1000, 0);
    LARGEST.with(|l| l.set(0));
    let mut r = llama2c::Reader::new(None, LLAMA2C_TOKENIZER).unwrap();
    r.push(&bytes).unwrap();
    assert!(LARGEST.with(|l| l.get()) <= 1 << 16);
    let e = r.finish().unwrap_err().to_string();
    assert!(
        e.starts_with("model.bin: has 1000 bytes, but its header"),
        "{e}"
    );
}

/// Found by review while writing the `sentencepiece` target: `tokenizer.bin`'s reader computed
/// `at + 8 + length` with a length of up to u32::MAX (allowed by a max_token_length of
/// u32::MAX), which overflows wasm32's 32-bit usize: a panic in a debug build, a wrapped range
/// in release. Fixed: the piece is taken as `data[at + 8..].get(..length)`, which cannot
/// overflow; the error names the file, the token and its length.
#[test]
fn regression_tokenizer_bin_huge_length_is_an_error() {
    let mut bytes = u32::MAX.to_le_bytes().to_vec(); // max_token_length
    bytes.extend(0f32.to_le_bytes());
    bytes.extend(u32::MAX.to_le_bytes()); // the length of token 0
    bytes.extend(b"abc");
    assert_eq!(
        SentencePiece::from_bytes(&bytes).unwrap_err().to_string(),
        "tokenizer.bin: token 0 has length 4294967295 but only 3 bytes are left"
    );
}
