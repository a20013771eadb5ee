//! The fuzzer every target shares: the cap on an execution's largest allocation, [`Bytes`]
//! (arguments decoded from the input), the [`Verdict`] of one execution, [`Target`], the
//! mutator and the loop ([`stress`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;

use logitlab::rng::Rng;

// ---------------------------------------------------------------------------------------------
// The largest single allocation of the current thread, so each execution can be held to a cap.
// (Allocations on candle's worker threads are not counted; the large ones happen on the caller.)

struct Tracking;

thread_local! {
    pub static LARGEST: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated and not yet freed by this thread, and the most of them since
    /// [`count_from_here`].
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// What [`count_from_here`] saw live, and the size of the files the target built.
    static BASE: Cell<isize> = const { Cell::new(0) };
    static GIVEN: Cell<usize> = const { Cell::new(0) };
    static IN_TARGET: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: Cell<Option<String>> = const { Cell::new(None) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size)
        }
    });
    live(size as isize);
}

fn live(change: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + change;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
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
        // Both blocks live for a moment, as in an allocator that cannot grow in place.
        note(new_size);
        live(-(layout.size() as isize));
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

pub const MB: usize = 1 << 20;

/// The longest error message a file's target accepts, in bytes.
const MAX_ERROR_BYTES: usize = 500;

/// Starts the count of the largest allocation again: a target calls it once its input is
/// built, so that the cap holds the code under test, not the harness's own edits.
pub fn count_from_here() {
    LARGEST.with(|l| l.set(0));
    let now = LIVE.with(|l| l.get());
    BASE.with(|b| b.set(now));
    PEAK.with(|p| p.set(now));
    GIVEN.with(|g| g.set(0));
}

/// Says that the input the target built is files of `bytes` bytes in all (after
/// [`count_from_here`]): a file the readers refuse must then have cost at most
/// [`MEMORY_PER_BYTE`] times that in memory at once.
pub fn given(bytes: usize) {
    GIVEN.with(|g| g.set(bytes));
}

/// The memory a refused file may take while it is read, per byte of it (plus
/// [`MEMORY_SLACK`] for the error and the readers' fixed state).
pub const MEMORY_PER_BYTE: usize = 4;
const MEMORY_SLACK: usize = 64 << 10;

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
pub const CHARS: [char; 12] = [
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
pub struct Bytes<'a> {
    data: &'a [u8],
    pub pos: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    pub fn u8(&mut self) -> u8 {
        if self.data.is_empty() {
            return 0;
        }
        let b = self.data[self.pos % self.data.len()];
        self.pos += 1;
        b
    }

    pub fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        (self.u32() as u64) | (self.u32() as u64) << 32
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.u8() as usize % xs.len()]
    }

    /// Mostly small, sometimes up to `max` (zero included).
    pub fn len(&mut self, max: usize) -> usize {
        let n = match self.u8() {
            0..=229 => self.u8() as usize % 40,
            230..=249 => self.u32() as usize % 70_000,
            _ => self.u32() as usize,
        };
        n.min(max)
    }

    /// Mostly modest numbers in [−10, 10), sometimes an edge value or raw bits.
    pub fn f32(&mut self) -> f32 {
        match self.u8() {
            b @ 0..=199 => (b as f32 - 100.0) / 10.0,
            b @ 200..=239 => F32S[(b - 200) as usize % F32S.len()],
            _ => f32::from_bits(self.u32()),
        }
    }

    pub fn f32s(&mut self, max: usize) -> Vec<f32> {
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
    pub fn text(&mut self, max_bytes: usize) -> String {
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
pub enum Verdict {
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

pub fn no_nan(what: &str, xs: &[f32]) -> Result<(), String> {
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
            return $crate::harness::Verdict::Bug(format!($($fmt)*));
        }
    }};
}

/// `try_bug!(result)`: an `Err(why)` returns a [`Verdict::Bug`] with `why`.
macro_rules! try_bug {
    ($e:expr) => {
        if let Err(e) = $e {
            return $crate::harness::Verdict::Bug(e);
        }
    };
}

pub(crate) use {check, try_bug};

// ---------------------------------------------------------------------------------------------
// A target.

/// One fuzz target: what it runs on an input, and what its outcome must respect.
pub struct Target {
    pub name: &'static str,
    /// Executions per unit of STRESS_BUDGET.
    pub budget: usize,
    /// Largest input the mutator may make.
    pub max_input: usize,
    /// Largest single allocation an execution may make, in bytes.
    pub alloc_cap: usize,
    /// An error message must contain one of these (the argument it is about)...
    pub names: &'static [&'static str],
    /// ... or, if true, start with one, followed by more (a file's errors start with the file
    /// name, then name the field: `config.json: n_head = 0 is outside [1, 64]`), in at most
    /// [`MAX_ERROR_BYTES`]: an error quotes the wrong value, not the whole file.
    pub prefix: bool,
    pub seeds: fn() -> Vec<Vec<u8>>,
    pub run: fn(&[u8]) -> Verdict,
}

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

pub fn install_panic_hook() {
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
pub fn execute(t: &Target, input: &[u8]) -> Result<String, String> {
    LARGEST.with(|l| l.set(0));
    GIVEN.with(|g| g.set(0));
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
    let given = GIVEN.with(|g| g.get());
    let peak = (PEAK.with(|p| p.get()) - BASE.with(|b| b.get())).max(0) as usize;
    if given > 0 && matches!(verdict, Rejected(_)) && peak > MEMORY_PER_BYTE * given + MEMORY_SLACK
    {
        return Err(format!(
            "refusing {given} bytes of files took {peak} bytes of memory at once; the bound is \
             {MEMORY_PER_BYTE}× plus {MEMORY_SLACK}"
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

/// Runs target `t` for its budget: the committed corpus, the seeds, then mutations.
pub fn stress(t: &Target) {
    let name = t.name;
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
