//! GGUF files, llama.cpp's format, read as their bytes arrive: one file holds the model's
//! hyperparameters and tokenizer (as typed metadata) and its tensors (f32, f16, bf16 or
//! quantised blocks). This module reads the container only; which tensors make which model is
//! [`super::gguf_model`]'s business.
//!
//! The layout (little-endian, versions 2 and 3, which differ only in what version 3 allows of
//! big-endian files, which are refused here):
//!
//! ```text
//! "GGUF"  u32 version  u64 tensor_count  u64 metadata_count
//! metadata_count × (string key, u32 type, value)     string = u64 length + UTF-8 bytes
//! tensor_count × (string name, u32 n_dims, n_dims × u64 ne, u32 ggml_type, u64 offset)
//! padding to general.alignment (default 32)
//! the data section: each tensor at its offset from the section's start, aligned
//! ```
//!
//! A value is one of 13 types: u8, i8, u16, i16, u32, i32, f32, bool, string, array, u64,
//! i64, f64; an array is (u32 element type, u64 count, elements), and its elements may be
//! arrays again. A tensor's ne[0] is its fastest-varying dimension: a PyTorch (out, in)
//! matrix is ne = [in, out], stored as `out` rows of `in` values, each row a whole number of
//! its type's blocks.
//!
//! Every count, length and size is untrusted: each is checked against what is left of the
//! metadata's budget ([`MAX_GGUF_METADATA_BYTES`]) or of the file before anything is allocated
//! from it, and every error names the key or the tensor and the range accepted. No tensor is
//! allocated before the whole header (metadata and tensor infos) is read and checked, and each
//! byte of a tensor is copied once, into the tensor it belongs to: the file is never held twice.

use crate::error::{brief, Code, Error, Result};
use crate::limits::{
    over_cap, size_name, MAX_GGUF_ARRAY_DEPTH, MAX_GGUF_BYTES, MAX_GGUF_INNER_ARRAYS,
    MAX_GGUF_KEYS, MAX_GGUF_METADATA_BYTES, MAX_GGUF_NAME_BYTES, MAX_GGUF_TENSORS,
};
use crate::model::format::copy_from;

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b"GGUF";
/// Bytes of the fixed header: magic, version, tensor count, metadata count.
const HEADER: usize = 24;
/// `general.alignment` when the file does not set it.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Most dimensions a tensor has (ggml's `GGML_MAX_DIMS`).
pub const MAX_DIMS: usize = 4;

/// The error for a bad GGUF file: `file: field is value; expected`.
fn bad(file: &str, field: &str, value: impl std::fmt::Display, expected: &str) -> Error {
    let value = brief(&value);
    Error::new(format!("{file}: {field} is {value}; {expected}")).coded(
        Code::ModelGguf,
        [
            ("field", field.into()),
            ("value", value.into()),
            ("expected", expected.into()),
        ],
    )
}

/// A metadata value's type, by its number in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    fn from_u32(n: u32) -> Option<ValueType> {
        use ValueType::*;
        Some(match n {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// The fewest bytes a value of this type takes in the file: its width, or the length
    /// prefix of a string (8) and the header of an array (12).
    fn min_bytes(self) -> u64 {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }

    /// The name gguf's own tools give it.
    pub fn name(self) -> &'static str {
        use ValueType::*;
        match self {
            U8 => "UINT8",
            I8 => "INT8",
            U16 => "UINT16",
            I16 => "INT16",
            U32 => "UINT32",
            I32 => "INT32",
            F32 => "FLOAT32",
            Bool => "BOOL",
            String => "STRING",
            Array => "ARRAY",
            U64 => "UINT64",
            I64 => "INT64",
            F64 => "FLOAT64",
        }
    }
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Array),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Value {
    /// Its type's name, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::U8(_) => "UINT8",
            Value::I8(_) => "INT8",
            Value::U16(_) => "UINT16",
            Value::I16(_) => "INT16",
            Value::U32(_) => "UINT32",
            Value::I32(_) => "INT32",
            Value::F32(_) => "FLOAT32",
            Value::Bool(_) => "BOOL",
            Value::String(_) => "STRING",
            Value::Array(_) => "ARRAY",
            Value::U64(_) => "UINT64",
            Value::I64(_) => "INT64",
            Value::F64(_) => "FLOAT64",
        }
    }

    /// An integer of any integer type, as i128 (so that every one fits).
    pub fn as_int(&self) -> Option<i128> {
        Some(match *self {
            Value::U8(x) => x.into(),
            Value::I8(x) => x.into(),
            Value::U16(x) => x.into(),
            Value::I16(x) => x.into(),
            Value::U32(x) => x.into(),
            Value::I32(x) => x.into(),
            Value::U64(x) => x.into(),
            Value::I64(x) => x.into(),
            _ => return None,
        })
    }

    /// A number of any numeric type, as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(x) => Some(x.into()),
            Value::F64(x) => Some(x),
            _ => self.as_int().map(|i| i as f64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Array(a) => write!(f, "an array of {} {}", a.len(), a.type_name()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::F32(x) => write!(f, "{x}"),
            Value::F64(x) => write!(f, "{x}"),
            other => write!(f, "{}", other.as_int().unwrap_or_default()),
        }
    }
}

/// An array's elements, held by type: a million u8 take a million bytes, not a million
/// [`Value`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Strings),
    Array(Vec<Array>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// An array of strings as one byte buffer and the end of each string in it: a vocabulary of
/// 151 936 tokens is two allocations. The bytes are kept as the file has them (a token need
/// not be whole UTF-8); [`Strings::str`] reads one as text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strings {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Strings {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `i`'s bytes.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.bytes[start..end])
    }

    /// String `i` as text, if it is UTF-8.
    pub fn str(&self, i: usize) -> Option<&str> {
        std::str::from_utf8(self.get(i)?).ok()
    }

    /// Every string's bytes, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }

    fn push(&mut self, s: &[u8]) {
        self.bytes.extend_from_slice(s);
        // The metadata's budget keeps the total far below 4 GiB.
        self.ends.push(self.bytes.len() as u32);
    }
}

impl Array {
    /// An empty array of elements of type `t`.
    fn empty(t: ValueType) -> Array {
        use ValueType as T;
        match t {
            T::U8 => Array::U8(Vec::new()),
            T::I8 => Array::I8(Vec::new()),
            T::U16 => Array::U16(Vec::new()),
            T::I16 => Array::I16(Vec::new()),
            T::U32 => Array::U32(Vec::new()),
            T::I32 => Array::I32(Vec::new()),
            T::F32 => Array::F32(Vec::new()),
            T::Bool => Array::Bool(Vec::new()),
            T::String => Array::String(Strings::default()),
            T::Array => Array::Array(Vec::new()),
            T::U64 => Array::U64(Vec::new()),
            T::I64 => Array::I64(Vec::new()),
            T::F64 => Array::F64(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Array::U8(v) => v.len(),
            Array::I8(v) => v.len(),
            Array::U16(v) => v.len(),
            Array::I16(v) => v.len(),
            Array::U32(v) => v.len(),
            Array::I32(v) => v.len(),
            Array::F32(v) => v.len(),
            Array::Bool(v) => v.len(),
            Array::String(v) => v.len(),
            Array::Array(v) => v.len(),
            Array::U64(v) => v.len(),
            Array::I64(v) => v.len(),
            Array::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its elements' type name, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Array::U8(_) => "UINT8",
            Array::I8(_) => "INT8",
            Array::U16(_) => "UINT16",
            Array::I16(_) => "INT16",
            Array::U32(_) => "UINT32",
            Array::I32(_) => "INT32",
            Array::F32(_) => "FLOAT32",
            Array::Bool(_) => "BOOL",
            Array::String(_) => "STRING",
            Array::Array(_) => "ARRAY",
            Array::U64(_) => "UINT64",
            Array::I64(_) => "INT64",
            Array::F64(_) => "FLOAT64",
        }
    }

    /// Takes as many of the next elements as `bytes` holds whole, at most `count`, of a
    /// fixed-width type (not a string or an array): how many were taken and their bytes.
    fn extend_fixed(&mut self, bytes: &[u8], count: u64) -> (u64, usize) {
        fn take<const W: usize, T>(
            v: &mut Vec<T>,
            bytes: &[u8],
            count: u64,
            f: fn([u8; W]) -> T,
        ) -> (u64, usize) {
            let n = (bytes.len() / W).min(count.min(usize::MAX as u64) as usize);
            v.extend(
                bytes[..n * W]
                    .chunks_exact(W)
                    .map(|c| f(c.try_into().expect("W bytes"))),
            );
            (n as u64, n * W)
        }
        match self {
            Array::U8(v) => take(v, bytes, count, |b: [u8; 1]| b[0]),
            Array::I8(v) => take(v, bytes, count, |b: [u8; 1]| b[0] as i8),
            Array::Bool(v) => take(v, bytes, count, |b: [u8; 1]| b[0] != 0),
            Array::U16(v) => take(v, bytes, count, u16::from_le_bytes),
            Array::I16(v) => take(v, bytes, count, i16::from_le_bytes),
            Array::U32(v) => take(v, bytes, count, u32::from_le_bytes),
            Array::I32(v) => take(v, bytes, count, i32::from_le_bytes),
            Array::F32(v) => take(v, bytes, count, f32::from_le_bytes),
            Array::U64(v) => take(v, bytes, count, u64::from_le_bytes),
            Array::I64(v) => take(v, bytes, count, i64::from_le_bytes),
            Array::F64(v) => take(v, bytes, count, f64::from_le_bytes),
            Array::String(_) | Array::Array(_) => (0, 0),
        }
    }

    /// The strings, if this is an array of strings.
    pub fn strings(&self) -> Option<&Strings> {
        match self {
            Array::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The tensor types of ggml, by their number in the file. Which of them the lab computes with
/// is [`GgmlType::supported`]'s answer; the others are known by name so that a refusal can
/// name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType(pub u32);

impl GgmlType {
    pub const F32: GgmlType = GgmlType(0);
    pub const F16: GgmlType = GgmlType(1);
    pub const Q4_0: GgmlType = GgmlType(2);
    pub const Q5_0: GgmlType = GgmlType(6);
    pub const Q8_0: GgmlType = GgmlType(8);
    pub const Q4_K: GgmlType = GgmlType(12);
    pub const Q6_K: GgmlType = GgmlType(14);
    pub const BF16: GgmlType = GgmlType(30);

    /// (name, values per block, bytes per block) of every type ggml defines.
    const TABLE: &'static [(u32, &'static str, u64, u64)] = &[
        (0, "F32", 1, 4),
        (1, "F16", 1, 2),
        (2, "Q4_0", 32, 18),
        (3, "Q4_1", 32, 20),
        (6, "Q5_0", 32, 22),
        (7, "Q5_1", 32, 24),
        (8, "Q8_0", 32, 34),
        (9, "Q8_1", 32, 36),
        (10, "Q2_K", 256, 84),
        (11, "Q3_K", 256, 110),
        (12, "Q4_K", 256, 144),
        (13, "Q5_K", 256, 176),
        (14, "Q6_K", 256, 210),
        (15, "Q8_K", 256, 292),
        (16, "IQ2_XXS", 256, 66),
        (17, "IQ2_XS", 256, 74),
        (18, "IQ3_XXS", 256, 98),
        (19, "IQ1_S", 256, 50),
        (20, "IQ4_NL", 32, 18),
        (21, "IQ3_S", 256, 110),
        (22, "IQ2_S", 256, 82),
        (23, "IQ4_XS", 256, 136),
        (24, "I8", 1, 1),
        (25, "I16", 1, 2),
        (26, "I32", 1, 4),
        (27, "I64", 1, 8),
        (28, "F64", 1, 8),
        (29, "IQ1_M", 256, 56),
        (30, "BF16", 1, 2),
        (34, "TQ1_0", 256, 54),
        (35, "TQ2_0", 256, 66),
        (39, "MXFP4", 32, 17),
    ];

    fn entry(self) -> Option<&'static (u32, &'static str, u64, u64)> {
        Self::TABLE.iter().find(|e| e.0 == self.0)
    }

    /// Whether ggml defines this type.
    pub fn is_known(self) -> bool {
        self.entry().is_some()
    }

    /// Its name, as ggml spells it (`"Q4_K"`), or `"type N"` for a number ggml does not use.
    pub fn name(self) -> String {
        match self.entry() {
            Some(e) => e.1.to_string(),
            None => format!("type {}", self.0),
        }
    }

    /// (values per block, bytes per block); `None` for an unknown type.
    pub fn block(self) -> Option<(u64, u64)> {
        self.entry().map(|e| (e.2, e.3))
    }
}

/// One tensor as the header describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ne, fastest-varying first: a matrix of `ne[1]` rows of `ne[0]` values.
    pub dims: Vec<u64>,
    pub ggml_type: GgmlType,
    /// From the start of the data section.
    pub offset: u64,
    /// Its bytes in the file.
    pub bytes: u64,
}

impl TensorInfo {
    /// Number of values.
    pub fn elem_count(&self) -> u64 {
        self.dims.iter().product()
    }

    /// The dimensions as PyTorch writes them, slowest first: `[out, in]` for a matrix.
    pub fn shape(&self) -> Vec<u64> {
        self.dims.iter().rev().copied().collect()
    }
}

/// What the header says: version, metadata in file order, tensors in file order, and where the
/// data section starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: u32,
    pub metadata: Vec<(String, Value)>,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// The data section's first byte, from the start of the file.
    pub data_start: u64,
    /// The file's length that the tensors imply: the data section up to the end of its last
    /// tensor.
    pub data_end: u64,
}

impl Header {
    /// The value of `key`, if the file has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The tensor named `name`, with its index.
    pub fn tensor(&self, name: &str) -> Option<(usize, &TensorInfo)> {
        self.tensors
            .iter()
            .enumerate()
            .find(|(_, t)| t.name == name)
    }
}

/// A GGUF file, read: its header and, for each tensor the caller kept, its bytes.
#[derive(Debug)]
pub struct Gguf {
    pub header: Header,
    /// By index in `header.tensors`: the tensor's bytes as stored, or `None` if skipped.
    pub data: Vec<Option<Vec<u8>>>,
}

/// Reads a whole GGUF file, keeping every tensor.
pub fn read(file: &str, bytes: &[u8]) -> Result<Gguf> {
    let mut reader = Reader::new(
        file,
        Some(bytes.len()),
        Box::new(|h| Ok(vec![true; h.tensors.len()])),
    )?;
    reader.push(bytes)?;
    reader.finish()
}

/// Decides, once the header is read and before any tensor is allocated, whether the file is
/// wanted (an error refuses it) and which tensors to keep (one flag per tensor, in header
/// order; the others are skipped as they stream past).
pub type Check = Box<dyn FnMut(&Header) -> Result<Vec<bool>>>;

/// Reads a GGUF file front to back as its bytes arrive, in parts of any size (as
/// [`super::llama2c::Reader`] does): the metadata item by item, holding at most one unfinished
/// item's bytes; then each tensor straight into its own buffer, which grows with the bytes
/// that arrive (to at most twice them, never past the tensor's size). When the file's length
/// is known, the header is checked against it.
pub struct Reader {
    file: String,
    file_len: Option<usize>,
    check: Check,
    /// Bytes received so far.
    received: usize,
    /// Header bytes not yet parsed (the start of an unfinished item).
    pending: Vec<u8>,
    /// How many bytes `pending` must hold before parsing is tried again.
    need: usize,
    stage: Stage,
    // What the header holds so far.
    version: u32,
    tensor_count: u64,
    kv_count: u64,
    metadata: Vec<(String, Value)>,
    tensors: Vec<TensorInfo>,
    /// The key whose value is being read, with its arrays (outermost first) still filling.
    key: String,
    frames: Vec<Frame>,
    /// How many arrays inside arrays the metadata has held so far (each takes memory out of
    /// proportion to its 12 bytes in the file).
    inner_arrays: usize,
    header: Option<Header>,
    /// Tensors in the order of their offsets (the file's order): (index, kept).
    order: Vec<(usize, bool)>,
    /// Which of `order` is filling, and its bytes so far.
    segment: usize,
    filled: u64,
    data: Vec<Option<Vec<u8>>>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("file", &self.file)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// An array being read: its element type, the elements left and those read.
#[derive(Debug)]
struct Frame {
    element: ValueType,
    left: u64,
    items: Array,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// The 24 bytes of magic, version and counts.
    Fixed,
    /// A metadata key and its type (and, for an array, its element type and count).
    Key,
    /// The value of `key`, of this type (not an array: those are `frames`).
    Scalar(ValueType),
    /// An element of the innermost frame.
    Element,
    /// A tensor info.
    Info,
    /// Padding up to the data section.
    Padding,
    /// Tensor data.
    Data,
}

/// A little-endian cursor over the unparsed bytes; `None` when they end before the item does.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Parsing needs more bytes: at least this many unparsed ones in all.
struct NeedMore(usize);

impl Reader {
    /// A reader for the GGUF file `file` (its name, for errors), of `file_len` bytes if known;
    /// `check` sees the header before any tensor is allocated.
    pub fn new(file: &str, file_len: Option<usize>, check: Check) -> Result<Reader> {
        if let Some(len) = file_len.filter(|&len| len > MAX_GGUF_BYTES) {
            return Err(bad(
                file,
                "its length",
                format!("{len} bytes"),
                &format!(
                    "at most {MAX_GGUF_BYTES} ({}) are accepted",
                    size_name(MAX_GGUF_BYTES)
                ),
            ));
        }
        Ok(Reader {
            file: brief(&file),
            file_len,
            check,
            received: 0,
            pending: Vec::new(),
            need: HEADER,
            stage: Stage::Fixed,
            version: 0,
            tensor_count: 0,
            kv_count: 0,
            metadata: Vec::new(),
            tensors: Vec::new(),
            key: String::new(),
            frames: Vec::new(),
            inner_arrays: 0,
            header: None,
            order: Vec::new(),
            segment: 0,
            filled: 0,
            data: Vec::new(),
        })
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// The header, once it has been read and checked.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Takes `bytes`, the file's next part.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.push_with(bytes.len(), copy_from(bytes))
    }

    /// Takes the file's next `len` bytes from a source outside this memory (a JS array):
    /// `copy(at, dest)` writes its bytes `at..at + dest.len()` into `dest`, which is where they
    /// belong, so each tensor byte is copied once.
    pub fn push_with(&mut self, len: usize, mut copy: impl FnMut(usize, &mut [u8])) -> Result<()> {
        let mut at = 0;
        while at < len {
            if self.stage != Stage::Data {
                // Header bytes: as many as the header can still take, parsed as they come.
                // (No more than the unfinished item needs, or 64 KiB: the data after the
                // header is not copied twice.)
                let room = (MAX_GGUF_METADATA_BYTES + 1).saturating_sub(self.received);
                let want = self.need.saturating_sub(self.pending.len()).max(1 << 16);
                let n = (len - at).min(room.max(1)).min(want);
                let start = self.pending.len();
                self.pending.resize(start + n, 0);
                copy(at, &mut self.pending[start..]);
                at += n;
                self.received += n;
                self.parse_header()?;
                // Bytes past the header were kept in `pending`: they are the data's first.
                if self.stage == Stage::Data && !self.pending.is_empty() {
                    let rest = std::mem::take(&mut self.pending);
                    self.received -= rest.len();
                    self.push(&rest)?;
                }
                continue;
            }
            let n = self.data_bytes(len - at, |dest| copy(at, dest))?;
            at += n;
        }
        Ok(())
    }

    /// The file's next bytes while in the data section: into the current tensor (or skipped),
    /// at most `max` of them; returns how many were taken.
    fn data_bytes(&mut self, max: usize, copy: impl FnOnce(&mut [u8])) -> Result<usize> {
        let header = self.header.as_ref().expect("data comes after the header");
        let pos = self.received as u64 - header.data_start;
        let Some(&(index, kept)) = self.order.get(self.segment) else {
            // After the last tensor: padding up to the alignment, then nothing.
            let end = self.received as u64 + max as u64;
            if end > header.data_end.next_multiple_of(header.alignment) {
                return Err(self.too_long(end));
            }
            let mut scratch = vec![0; max.min(64)];
            let n = scratch.len();
            copy(&mut scratch);
            self.received += n;
            return Ok(n);
        };
        let info = &header.tensors[index];
        if pos < info.offset {
            // Padding before this tensor.
            let n = (info.offset - pos).min(max as u64).min(1 << 16) as usize;
            let mut scratch = vec![0; n];
            copy(&mut scratch);
            self.received += n;
            return Ok(n);
        }
        let left = info.bytes - self.filled;
        let n = left.min(max as u64) as usize;
        if kept {
            let buf = self.data[index].get_or_insert_with(Vec::new);
            let start = buf.len();
            if start + n > buf.capacity() {
                // A stream may end at any point, whatever length it claimed: the memory taken
                // follows the bytes that came (at most twice them, and 64 KiB), never past the
                // tensor's size, so that a whole tensor has no spare capacity.
                let grown = (start + n)
                    .max(2 * start)
                    .max(1 << 16)
                    .min(info.bytes as usize);
                buf.reserve_exact(grown - start);
            }
            buf.resize(start + n, 0);
            copy(&mut buf[start..]);
        } else {
            let mut scratch = vec![0; n.min(1 << 16)];
            let m = scratch.len();
            copy(&mut scratch);
            self.received += m;
            self.filled += m as u64;
            self.next_segment_if_full(info.bytes);
            return Ok(m);
        }
        self.received += n;
        self.filled += n as u64;
        self.next_segment_if_full(info.bytes);
        Ok(n)
    }

    fn next_segment_if_full(&mut self, bytes: u64) {
        if self.filled == bytes {
            self.segment += 1;
            self.filled = 0;
        }
    }

    /// The file, once every byte is in; an error if it ended early.
    pub fn finish(mut self) -> Result<Gguf> {
        if self.stage == Stage::Padding {
            self.parse_header()?;
        }
        if self.header.is_none() {
            let at = self.received;
            return Err(self.ended(at));
        }
        let header = self.header.take().expect("checked above");
        if self.segment < self.order.len() {
            let (index, _) = self.order[self.segment];
            let info = &header.tensors[index];
            return Err(bad(
                &self.file,
                "its length",
                format!("{} bytes", self.received),
                &format!(
                    "the file ends inside tensor {}; its tensors need {} bytes",
                    brief(&info.name),
                    header.data_end
                ),
            ));
        }
        Ok(Gguf {
            header,
            data: self.data,
        })
    }

    /// The error for a file that ended at byte `at`, inside the header.
    fn ended(&self, at: usize) -> Error {
        let inside = match self.stage {
            Stage::Fixed => "the 24-byte header".to_string(),
            Stage::Key => format!("metadata key {} of {}", self.metadata.len(), self.kv_count),
            Stage::Scalar(_) | Stage::Element => format!("metadata {}", brief(&self.key)),
            Stage::Info => format!(
                "tensor info {} of {}",
                self.tensors.len(),
                self.tensor_count
            ),
            Stage::Padding | Stage::Data => "the padding before the data".to_string(),
        };
        bad(
            &self.file,
            "its length",
            format!("{at} bytes"),
            &format!("the file ends inside {inside}"),
        )
    }

    fn too_long(&self, len: u64) -> Error {
        let header = self.header.as_ref().expect("after the header");
        bad(
            &self.file,
            "its length",
            format!("at least {len} bytes"),
            &format!(
                "its tensors end at byte {} (padded to {})",
                header.data_end,
                header.data_end.next_multiple_of(header.alignment)
            ),
        )
    }

    /// Parses what it can of the header from `pending`, keeping an unfinished item's bytes.
    fn parse_header(&mut self) -> Result<()> {
        let mut used = 0;
        let result = loop {
            if self.stage == Stage::Data {
                break Ok(());
            }
            if self.pending.len() - used < self.need {
                break Ok(());
            }
            match self.step(used) {
                Ok(Ok(n)) => {
                    used += n;
                    // The padding may be no bytes at all: try it at once.
                    self.need = usize::from(self.stage != Stage::Padding);
                }
                Ok(Err(NeedMore(n))) => {
                    self.need = n;
                    break Ok(());
                }
                Err(e) => break Err(e),
            }
        };
        self.pending.drain(..used);
        if self.stage != Stage::Data && self.received > MAX_GGUF_METADATA_BYTES {
            return Err(bad(
                &self.file,
                "its header",
                format!("longer than {MAX_GGUF_METADATA_BYTES} bytes"),
                &format!(
                    "the metadata and tensor infos may take at most {MAX_GGUF_METADATA_BYTES} \
                     bytes ({})",
                    size_name(MAX_GGUF_METADATA_BYTES)
                ),
            ));
        }
        result
    }

    /// Bytes of the header consumed before `pending[used..]`.
    fn offset(&self, used: usize) -> u64 {
        (self.received - self.pending.len() + used) as u64
    }

    /// What is left of the header's budget, and of the file, from `pending[used..]` on.
    fn budget(&self, used: usize) -> u64 {
        let at = self.offset(used);
        let cap = MAX_GGUF_METADATA_BYTES as u64;
        let file = self.file_len.map_or(u64::MAX, |l| l as u64);
        cap.min(file).saturating_sub(at)
    }

    /// One item of the header from `pending[used..]`: the bytes it took, or how many it needs.
    fn step(&mut self, used: usize) -> Result<std::result::Result<usize, NeedMore>> {
        let file = self.file.clone();
        let budget = self.budget(used);
        let mut c = Cursor {
            bytes: &self.pending[used..],
            at: 0,
        };
        macro_rules! need {
            ($e:expr, $n:expr) => {
                match $e {
                    Some(v) => v,
                    None => return Ok(Err(NeedMore($n))),
                }
            };
        }
        match self.stage {
            Stage::Fixed => {
                let head = need!(c.take(HEADER), HEADER);
                if &head[..4] != MAGIC {
                    return Err(bad(
                        &file,
                        "its magic",
                        format!("{:?}", String::from_utf8_lossy(&head[..4])),
                        "a GGUF file starts with \"GGUF\"",
                    ));
                }
                let version = u32::from_le_bytes(head[4..8].try_into().expect("4"));
                if !(2..=3).contains(&version) {
                    return Err(bad(&file, "version", version, "versions 2 and 3 are read"));
                }
                let tensors = u64::from_le_bytes(head[8..16].try_into().expect("8"));
                let kvs = u64::from_le_bytes(head[16..24].try_into().expect("8"));
                if tensors > MAX_GGUF_TENSORS as u64 {
                    return Err(bad(
                        &file,
                        "tensor_count",
                        tensors,
                        &format!("at most {MAX_GGUF_TENSORS} tensors are accepted"),
                    ));
                }
                if kvs > MAX_GGUF_KEYS as u64 {
                    return Err(bad(
                        &file,
                        "metadata_kv_count",
                        kvs,
                        &format!("at most {MAX_GGUF_KEYS} metadata keys are accepted"),
                    ));
                }
                self.version = version;
                self.tensor_count = tensors;
                self.kv_count = kvs;
                let n = c.at;
                self.next_item();
                Ok(Ok(n))
            }
            Stage::Key => {
                let index = self.metadata.len();
                let len = need!(c.u64(), 8);
                let len = check_name_len(&file, &format!("metadata key {index}'s length"), len)?;
                let key_bytes = need!(c.take(len), 8 + len);
                let Ok(key) = std::str::from_utf8(key_bytes) else {
                    return Err(bad(
                        &file,
                        &format!("metadata key {index}"),
                        format!("{:?}", String::from_utf8_lossy(key_bytes)),
                        "keys are UTF-8",
                    ));
                };
                let key = key.to_string();
                if self.metadata.iter().any(|(k, _)| *k == key) {
                    return Err(bad(
                        &file,
                        "metadata key",
                        brief(&key),
                        "each key appears once",
                    ));
                }
                let t = value_type(&file, &key, need!(c.u32(), 12 + len))?;
                let frame = if t == ValueType::Array {
                    let (element, count) = need!(array_head(&mut c), 24 + len);
                    Some(self.frame(&file, &key, element, count, budget - c.at as u64)?)
                } else {
                    None
                };
                let n = c.at;
                self.key = key;
                match frame {
                    Some(frame) => {
                        self.frames.push(frame);
                        self.stage = Stage::Element;
                        self.close_frames();
                    }
                    None => self.stage = Stage::Scalar(t),
                }
                Ok(Ok(n))
            }
            Stage::Scalar(t) => {
                let value = match t {
                    ValueType::String => {
                        let s = need!(self.string(&mut c, budget)?, need_string(c.bytes));
                        let Ok(s) = std::str::from_utf8(s) else {
                            return Err(bad(
                                &file,
                                &format!("metadata {}", brief(&self.key)),
                                "not UTF-8",
                                "a string value is UTF-8 text",
                            ));
                        };
                        Value::String(s.to_string())
                    }
                    t => need!(scalar(&mut c, t), t.min_bytes() as usize),
                };
                let n = c.at;
                let key = std::mem::take(&mut self.key);
                self.metadata.push((key, value));
                self.next_item();
                Ok(Ok(n))
            }
            Stage::Element => {
                let depth = self.frames.len();
                let (element, left) = {
                    let f = self.frames.last().expect("an array is open");
                    (f.element, f.left)
                };
                let n = match element {
                    ValueType::String => {
                        // As many whole strings as are here, at once.
                        let mut strings = Vec::new();
                        let mut at = 0;
                        while (strings.len() as u64) < left {
                            let mut c2 = Cursor { bytes: c.bytes, at };
                            let Some(len) = c2.u64() else { break };
                            if len > budget.saturating_sub(at as u64 + 8) {
                                return Err(self.string_too_long(len, budget - at as u64));
                            }
                            let Some(s) = c2.take(len as usize) else {
                                break;
                            };
                            strings.push(s);
                            at = c2.at;
                        }
                        if strings.is_empty() {
                            return Ok(Err(NeedMore(need_string(c.bytes))));
                        }
                        let frame = self.frames.last_mut().expect("open");
                        let Array::String(list) = &mut frame.items else {
                            unreachable!("a string array holds strings")
                        };
                        for x in &strings {
                            list.push(x);
                        }
                        frame.left -= strings.len() as u64;
                        at
                    }
                    ValueType::Array => {
                        let (inner, count) = need!(array_head(&mut c), 12);
                        if depth >= MAX_GGUF_ARRAY_DEPTH {
                            return Err(bad(
                                &file,
                                &format!("metadata {}", brief(&self.key)),
                                format!("arrays nested {} deep", depth + 1),
                                &format!("arrays may nest at most {MAX_GGUF_ARRAY_DEPTH} deep"),
                            ));
                        }
                        if self.inner_arrays == MAX_GGUF_INNER_ARRAYS {
                            return Err(bad(
                                &file,
                                &format!("metadata {}", brief(&self.key)),
                                format!("more than {MAX_GGUF_INNER_ARRAYS} arrays inside arrays"),
                                &format!(
                                    "a file may hold at most {MAX_GGUF_INNER_ARRAYS} arrays inside \
                                     arrays"
                                ),
                            ));
                        }
                        self.inner_arrays += 1;
                        let inner =
                            self.frame(&file, &self.key, inner, count, budget - c.at as u64)?;
                        self.frames.last_mut().expect("open").left -= 1;
                        self.frames.push(inner);
                        c.at
                    }
                    _ => {
                        let frame = self.frames.last_mut().expect("open");
                        let (taken, bytes) = frame.items.extend_fixed(c.bytes, left);
                        if taken == 0 {
                            return Ok(Err(NeedMore(element.min_bytes() as usize)));
                        }
                        frame.left -= taken;
                        bytes
                    }
                };
                self.close_frames();
                Ok(Ok(n))
            }
            Stage::Info => {
                let index = self.tensors.len();
                let len = need!(c.u64(), 8);
                let len = check_name_len(&file, &format!("tensor {index}'s name length"), len)?;
                let name = need!(c.take(len), 8 + len);
                let name = std::str::from_utf8(name)
                    .map_err(|_| {
                        bad(
                            &file,
                            &format!("tensor {index}'s name"),
                            format!("{:?}", String::from_utf8_lossy(name)),
                            "names are UTF-8",
                        )
                    })?
                    .to_string();
                let n_dims = need!(c.u32(), 12 + len);
                let field = |f: &str| format!("tensor {}'s {f}", brief(&name));
                if !(1..=MAX_DIMS as u32).contains(&n_dims) {
                    return Err(bad(
                        &file,
                        &field("n_dims"),
                        n_dims,
                        &format!("1 to {MAX_DIMS} dimensions"),
                    ));
                }
                let mut dims = Vec::with_capacity(n_dims as usize);
                for _ in 0..n_dims {
                    dims.push(need!(c.u64(), 24 + len + 8 * n_dims as usize));
                }
                let t = GgmlType(need!(c.u32(), 16 + len + 8 * n_dims as usize));
                let offset = need!(c.u64(), 24 + len + 8 * n_dims as usize);
                let Some((block, block_bytes)) = t.block() else {
                    return Err(bad(&file, &field("type"), t.0, "a ggml type (0 to 39)"));
                };
                let elems = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
                let bytes = elems
                    .filter(|e| *e <= MAX_GGUF_BYTES as u64)
                    .map(|e| e / block * block_bytes);
                let Some(bytes) = bytes else {
                    return Err(bad(
                        &file,
                        &field("dimensions"),
                        format!("{dims:?}"),
                        &format!("at most {MAX_GGUF_BYTES} values in all"),
                    ));
                };
                if dims[0] % block != 0 {
                    return Err(bad(
                        &file,
                        &field("ne[0]"),
                        dims[0],
                        &format!("a multiple of {}'s block of {block} values", t.name()),
                    ));
                }
                self.tensors.push(TensorInfo {
                    name,
                    dims,
                    ggml_type: t,
                    offset,
                    bytes,
                });
                if self.tensors.len() as u64 == self.tensor_count {
                    self.stage = Stage::Padding;
                }
                Ok(Ok(c.at))
            }
            Stage::Padding => {
                let at = self.offset(used);
                if self.header.is_none() {
                    self.settle(at)?;
                }
                let header = self.header.as_ref().expect("settled");
                let pad = (header.data_start - at) as usize;
                if self.pending.len() - used < pad {
                    return Ok(Err(NeedMore(pad)));
                }
                self.stage = Stage::Data;
                Ok(Ok(pad))
            }
            Stage::Data => unreachable!("the header is complete"),
        }
    }

    /// The header is complete at byte `at`: plans the data section and lets the caller's check
    /// refuse the file or choose its tensors, before any tensor is allocated.
    fn settle(&mut self, at: u64) -> Result<()> {
        let header = self.plan(at)?;
        let keep = (self.check)(&header)?;
        self.order = order(&header, &keep);
        self.data = vec![None; header.tensors.len()];
        self.header = Some(header);
        Ok(())
    }

    /// After a key or value: the next key, the tensor infos, or the padding.
    fn next_item(&mut self) {
        self.stage = if (self.metadata.len() as u64) < self.kv_count {
            Stage::Key
        } else if self.tensor_count > 0 {
            Stage::Info
        } else {
            Stage::Padding
        };
    }

    /// Closes every array that has all its elements, innermost first, putting each in its
    /// parent or, the outermost, in the metadata.
    fn close_frames(&mut self) {
        while self.frames.last().is_some_and(|f| f.left == 0) {
            let done = self.frames.pop().expect("checked");
            match self.frames.last_mut() {
                Some(parent) => {
                    let Array::Array(items) = &mut parent.items else {
                        unreachable!("a nested array's parent holds arrays")
                    };
                    items.push(done.items);
                }
                None => {
                    let key = std::mem::take(&mut self.key);
                    self.metadata.push((key, Value::Array(done.items)));
                    self.next_item();
                }
            }
        }
    }

    /// A new array of `count` elements of type `element` under `key`, checked against the
    /// bytes left (`budget`) before anything is allocated for it.
    fn frame(&self, file: &str, key: &str, element: u32, count: u64, budget: u64) -> Result<Frame> {
        let element = value_type(file, key, element)?;
        let least = count.saturating_mul(element.min_bytes());
        if least > budget {
            return Err(bad(
                file,
                &format!("metadata {}", brief(&key)),
                format!("an array of {count} {}", element.name()),
                &format!(
                    "it needs at least {least} bytes, and {budget} are left of the file or of \
                     the metadata's {}",
                    size_name(MAX_GGUF_METADATA_BYTES)
                ),
            ));
        }
        Ok(Frame {
            element,
            left: count,
            items: Array::empty(element),
        })
    }

    /// A string value from `c`: `None` if its bytes have not all arrived.
    fn string<'a>(&self, c: &mut Cursor<'a>, budget: u64) -> Result<Option<&'a [u8]>> {
        let Some(len) = c.u64() else { return Ok(None) };
        if len > budget.saturating_sub(8) {
            return Err(self.string_too_long(len, budget));
        }
        Ok(c.take(len as usize))
    }

    fn string_too_long(&self, len: u64, budget: u64) -> Error {
        bad(
            &self.file,
            &format!("metadata {}", brief(&self.key)),
            format!("a string of {len} bytes"),
            &format!(
                "{} bytes are left of the file or of the metadata's {}",
                budget.saturating_sub(8),
                size_name(MAX_GGUF_METADATA_BYTES)
            ),
        )
    }

    /// The header, complete: alignment, data section, every tensor's place checked.
    fn plan(&mut self, header_end: u64) -> Result<Header> {
        let file = &self.file;
        let alignment = match self.metadata.iter().find(|(k, _)| k == "general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some((_, Value::U32(a))) if a.is_power_of_two() && *a <= 1 << 20 => u64::from(*a),
            Some((_, v)) => {
                return Err(bad(
                    file,
                    "metadata general.alignment",
                    format!("{v} ({})", v.type_name()),
                    "a UINT32 power of two, at most 1048576",
                ))
            }
        };
        let data_start = header_end.next_multiple_of(alignment);
        let mut data_end = data_start;
        let mut by_name: Vec<&str> = self.tensors.iter().map(|t| t.name.as_str()).collect();
        by_name.sort_unstable();
        if let Some(w) = by_name.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad(
                file,
                "tensor name",
                brief(&w[0]),
                "each tensor appears once",
            ));
        }
        let mut by_offset: Vec<&TensorInfo> = self.tensors.iter().collect();
        by_offset.sort_by_key(|t| t.offset);
        let mut prev: Option<&TensorInfo> = None;
        for t in by_offset {
            let field = format!("tensor {}'s offset", brief(&t.name));
            if t.offset % alignment != 0 {
                return Err(bad(
                    file,
                    &field,
                    t.offset,
                    &format!("a multiple of general.alignment ({alignment})"),
                ));
            }
            if let Some(p) = prev {
                if t.offset < p.offset.saturating_add(p.bytes) {
                    return Err(bad(
                        file,
                        &field,
                        t.offset,
                        &format!(
                            "at least {}, past tensor {} (tensors may not overlap)",
                            p.offset.saturating_add(p.bytes),
                            brief(&p.name)
                        ),
                    ));
                }
            }
            // (Saturating: an offset may be any u64.)
            let end = data_start.saturating_add(t.offset).saturating_add(t.bytes);
            let cap = self.file_len.unwrap_or(MAX_GGUF_BYTES) as u64;
            if t.offset > cap || end > cap {
                return Err(bad(
                    file,
                    &field,
                    t.offset,
                    &format!(
                        "its {} bytes must end within the file's {cap} (the data section starts at \
                         byte {data_start})",
                        t.bytes
                    ),
                ));
            }
            data_end = data_end.max(end);
            prev = Some(t);
        }
        let file_end = data_end.next_multiple_of(alignment);
        if let Some(len) = self.file_len {
            let len = len as u64;
            let least = if data_end > data_start {
                data_end
            } else {
                header_end
            };
            if len < least || len > file_end {
                return Err(bad(
                    file,
                    "its length",
                    format!("{len} bytes"),
                    &format!("its tensors end at byte {data_end} (padded to {file_end})"),
                ));
            }
        }
        Ok(Header {
            version: self.version,
            metadata: std::mem::take(&mut self.metadata),
            tensors: std::mem::take(&mut self.tensors),
            alignment,
            data_start,
            data_end,
        })
    }
}

/// The tensors in the order their bytes come, with whether each is kept.
fn order(header: &Header, keep: &[bool]) -> Vec<(usize, bool)> {
    let mut order: Vec<(usize, bool)> = (0..header.tensors.len())
        .map(|i| (i, keep.get(i).copied().unwrap_or(false)))
        .collect();
    order.sort_by_key(|&(i, _)| header.tensors[i].offset);
    // An empty tensor has no bytes to wait for.
    order.retain(|&(i, _)| header.tensors[i].bytes > 0);
    order
}

/// A key's or a tensor name's length, at most [`MAX_GGUF_NAME_BYTES`].
fn check_name_len(file: &str, what: &str, len: u64) -> Result<usize> {
    if len == 0 || len > MAX_GGUF_NAME_BYTES as u64 {
        return Err(bad(
            file,
            what,
            len,
            &format!("1 to {MAX_GGUF_NAME_BYTES} bytes"),
        ));
    }
    Ok(len as usize)
}

fn value_type(file: &str, key: &str, t: u32) -> Result<ValueType> {
    ValueType::from_u32(t).ok_or_else(|| {
        bad(
            file,
            &format!("metadata {key}'s type"),
            t,
            "a GGUF value type, 0 to 12",
        )
    })
}

/// How many bytes the string at the start of `bytes` needs (once its length is in).
fn need_string(bytes: &[u8]) -> usize {
    match bytes.get(..8) {
        Some(b) => 8usize.saturating_add(u64::from_le_bytes(b.try_into().expect("8")) as usize),
        None => 8,
    }
}

/// An array's element type and count.
fn array_head(c: &mut Cursor) -> Option<(u32, u64)> {
    Some((c.u32()?, c.u64()?))
}

/// A fixed-width value of type `t`.
fn scalar(c: &mut Cursor, t: ValueType) -> Option<Value> {
    let b = c.take(t.min_bytes() as usize)?;
    let a = |n: usize| -> [u8; 8] {
        let mut x = [0; 8];
        x[..n].copy_from_slice(&b[..n]);
        x
    };
    Some(match t {
        ValueType::U8 => Value::U8(b[0]),
        ValueType::I8 => Value::I8(b[0] as i8),
        ValueType::Bool => Value::Bool(b[0] != 0),
        ValueType::U16 => Value::U16(u16::from_le_bytes([b[0], b[1]])),
        ValueType::I16 => Value::I16(i16::from_le_bytes([b[0], b[1]])),
        ValueType::U32 => Value::U32(u32::from_le_bytes(a(4)[..4].try_into().ok()?)),
        ValueType::I32 => Value::I32(i32::from_le_bytes(a(4)[..4].try_into().ok()?)),
        ValueType::F32 => Value::F32(f32::from_le_bytes(a(4)[..4].try_into().ok()?)),
        ValueType::U64 => Value::U64(u64::from_le_bytes(a(8))),
        ValueType::I64 => Value::I64(i64::from_le_bytes(a(8))),
        ValueType::F64 => Value::F64(f64::from_le_bytes(a(8))),
        ValueType::String | ValueType::Array => return None,
    })
}

/// The error for a GGUF file over [`MAX_GGUF_BYTES`] (as the page checks a file's size).
pub fn over_size(file: &str, len: usize) -> Error {
    Error::new(format!("{file}: has {}", over_cap(len, MAX_GGUF_BYTES)))
}

/// Writes a GGUF file (version 3) of `metadata` and `tensors` (name, ne, type, bytes): the
/// tests' way to build files.
pub fn write(metadata: &[(&str, Value)], tensors: &[(&str, &[u64], GgmlType, &[u8])]) -> Vec<u8> {
    let infos: Vec<(&str, &[u64], GgmlType, u64)> = tensors
        .iter()
        .map(|&(name, dims, t, bytes)| (name, dims, t, bytes.len() as u64))
        .collect();
    let mut out = write_header(metadata, &infos);
    let alignment = alignment_of(metadata);
    for (_, _, _, bytes) in tensors {
        out.extend(*bytes);
        out.resize((out.len() as u64).next_multiple_of(alignment) as usize, 0);
    }
    out
}

/// `general.alignment` of `metadata` if it is there as a UINT32, else the default.
pub fn alignment_of(metadata: &[(&str, Value)]) -> u64 {
    metadata
        .iter()
        .find_map(|(key, value)| match (key, value) {
            (&"general.alignment", Value::U32(a)) => Some(u64::from(*a)),
            _ => None,
        })
        .unwrap_or(DEFAULT_ALIGNMENT)
}

/// The header of a GGUF file (version 3) of `metadata` and tensors of (name, ne, type, byte
/// length), padded to the alignment: each tensor's data then follows in order, each padded to
/// the alignment ([`write`]).
pub fn write_header(
    metadata: &[(&str, Value)],
    tensors: &[(&str, &[u64], GgmlType, u64)],
) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s);
    }
    fn type_id(v: &Value) -> u32 {
        match v {
            Value::U8(_) => 0,
            Value::I8(_) => 1,
            Value::U16(_) => 2,
            Value::I16(_) => 3,
            Value::U32(_) => 4,
            Value::I32(_) => 5,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::String(_) => 8,
            Value::Array(_) => 9,
            Value::U64(_) => 10,
            Value::I64(_) => 11,
            Value::F64(_) => 12,
        }
    }
    fn array_type(a: &Array) -> u32 {
        match a {
            Array::U8(_) => 0,
            Array::I8(_) => 1,
            Array::U16(_) => 2,
            Array::I16(_) => 3,
            Array::U32(_) => 4,
            Array::I32(_) => 5,
            Array::F32(_) => 6,
            Array::Bool(_) => 7,
            Array::String(_) => 8,
            Array::Array(_) => 9,
            Array::U64(_) => 10,
            Array::I64(_) => 11,
            Array::F64(_) => 12,
        }
    }
    fn array(out: &mut Vec<u8>, a: &Array) {
        out.extend(array_type(a).to_le_bytes());
        out.extend((a.len() as u64).to_le_bytes());
        match a {
            Array::U8(v) => out.extend(v),
            Array::I8(v) => out.extend(v.iter().map(|&x| x as u8)),
            Array::Bool(v) => out.extend(v.iter().map(|&x| u8::from(x))),
            Array::U16(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::I16(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::U32(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::I32(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::F32(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::U64(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::I64(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::F64(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            Array::String(s) => s.iter().for_each(|x| string(out, x)),
            Array::Array(v) => v.iter().for_each(|x| array(out, x)),
        }
    }
    let mut out = MAGIC.to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((metadata.len() as u64).to_le_bytes());
    let alignment = alignment_of(metadata);
    for (key, value) in metadata {
        string(&mut out, key.as_bytes());
        out.extend(type_id(value).to_le_bytes());
        match value {
            Value::U8(x) => out.push(*x),
            Value::I8(x) => out.push(*x as u8),
            Value::Bool(x) => out.push(u8::from(*x)),
            Value::U16(x) => out.extend(x.to_le_bytes()),
            Value::I16(x) => out.extend(x.to_le_bytes()),
            Value::U32(x) => out.extend(x.to_le_bytes()),
            Value::I32(x) => out.extend(x.to_le_bytes()),
            Value::F32(x) => out.extend(x.to_le_bytes()),
            Value::U64(x) => out.extend(x.to_le_bytes()),
            Value::I64(x) => out.extend(x.to_le_bytes()),
            Value::F64(x) => out.extend(x.to_le_bytes()),
            Value::String(s) => string(&mut out, s.as_bytes()),
            Value::Array(a) => array(&mut out, a),
        }
    }
    let mut offset = 0u64;
    for (name, dims, t, len) in tensors {
        string(&mut out, name.as_bytes());
        out.extend((dims.len() as u32).to_le_bytes());
        for d in *dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(t.0.to_le_bytes());
        out.extend(offset.to_le_bytes());
        offset = (offset + len).next_multiple_of(alignment);
    }
    out.resize((out.len() as u64).next_multiple_of(alignment) as usize, 0);
    out
}

impl Strings {
    /// Strings from a list (the tests' and the writer's).
    pub fn from_list<S: AsRef<[u8]>>(list: impl IntoIterator<Item = S>) -> Strings {
        let mut s = Strings::default();
        for x in list {
            s.push(x.as_ref());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let nested = Array::Array(vec![
            Array::U8(vec![1, 2]),
            Array::Array(vec![Array::String(Strings::from_list(["x", "yz"]))]),
        ]);
        let f32s: Vec<u8> = [1.0f32, -2.0, 3.5, 0.25]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let q8 = vec![7u8; 34];
        write(
            &[
                ("general.architecture", Value::String("llama".into())),
                ("a.u8", Value::U8(200)),
                ("a.i8", Value::I8(-3)),
                ("a.u16", Value::U16(65535)),
                ("a.i16", Value::I16(-300)),
                ("a.u32", Value::U32(1 << 31)),
                ("a.i32", Value::I32(-7)),
                ("a.f32", Value::F32(1e-5)),
                ("a.bool", Value::Bool(true)),
                ("a.u64", Value::U64(u64::MAX)),
                ("a.i64", Value::I64(i64::MIN)),
                ("a.f64", Value::F64(0.1)),
                (
                    "a.tokens",
                    Value::Array(Array::String(Strings::from_list(["<s>", "é", ""]))),
                ),
                ("a.scores", Value::Array(Array::F32(vec![0.5, -1.0]))),
                ("a.nested", Value::Array(nested)),
            ],
            &[
                ("w", &[2, 2], GgmlType::F32, &f32s),
                ("q", &[32], GgmlType::Q8_0, &q8),
            ],
        )
    }

    #[test]
    fn every_value_type_reads_back_whole_and_in_parts() {
        let file = sample();
        let whole = read("t.gguf", &file).unwrap();
        let h = &whole.header;
        assert_eq!(h.version, 3);
        assert_eq!(h.get("a.u8"), Some(&Value::U8(200)));
        assert_eq!(h.get("a.i64"), Some(&Value::I64(i64::MIN)));
        assert_eq!(h.get("a.f32").and_then(Value::as_f64), Some(1e-5f32 as f64));
        let tokens = h
            .get("a.tokens")
            .and_then(Value::as_array)
            .and_then(Array::strings)
            .unwrap();
        assert_eq!(
            (tokens.str(0), tokens.str(1), tokens.get(2)),
            (Some("<s>"), Some("é"), Some(&b""[..]))
        );
        let Some(Value::Array(Array::Array(n))) = h.get("a.nested") else {
            panic!()
        };
        assert_eq!(n[0], Array::U8(vec![1, 2]));
        assert_eq!(
            n[1],
            Array::Array(vec![Array::String(Strings::from_list(["x", "yz"]))])
        );
        assert_eq!(h.tensors[0].shape(), [2, 2]);
        assert_eq!(h.tensors[1].offset, 32);
        assert_eq!(h.data_start % 32, 0);
        assert_eq!(whole.data[1].as_deref(), Some(&[7u8; 34][..]));
        assert_eq!(
            &whole.data[0].as_ref().unwrap()[4..8],
            &(-2.0f32).to_le_bytes()
        );
        for part in [1, 3, 7, 64, 1000] {
            for known in [true, false] {
                let mut r = Reader::new(
                    "t.gguf",
                    known.then_some(file.len()),
                    Box::new(|h| Ok(vec![true; h.tensors.len()])),
                )
                .unwrap();
                for c in file.chunks(part) {
                    r.push(c).unwrap();
                }
                let g = r.finish().unwrap();
                assert_eq!(g.header, whole.header, "parts of {part}");
                assert_eq!(g.data, whole.data, "parts of {part}");
            }
        }
    }

    fn err(file: &[u8]) -> String {
        read("t.gguf", file).unwrap_err().to_string()
    }

    #[test]
    fn bad_files_are_refused_by_field() {
        let file = sample();
        assert!(
            err(&file[..10]).contains("ends inside the 24-byte header"),
            "{}",
            err(&file[..10])
        );
        assert!(
            err(&file[..100]).contains("ends inside metadata"),
            "{}",
            err(&file[..100])
        );
        let e = err(&file[..file.len() - 40]);
        assert!(
            e.contains("tensor q's offset is 32; its 34 bytes must end within the file's"),
            "{e}"
        );
        // The same file streamed without its length: refused when it ends.
        let mut r = Reader::new(
            "t.gguf",
            None,
            Box::new(|h| Ok(vec![true; h.tensors.len()])),
        )
        .unwrap();
        r.push(&file[..file.len() - 40]).unwrap();
        let e = r.finish().unwrap_err().to_string();
        assert!(e.contains("the file ends inside tensor q"), "{e}");
        let mut f = file.clone();
        f[0] = b'X';
        assert!(err(&f).starts_with("t.gguf: its magic is"), "{}", err(&f));
        let mut f = file.clone();
        f[4] = 1;
        assert!(
            err(&f).contains("version is 1; versions 2 and 3"),
            "{}",
            err(&f)
        );
        let mut f = file.clone();
        f[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(
            err(&f).contains("tensor_count is 18446744073709551615"),
            "{}",
            err(&f)
        );
        // An array claiming 2^40 elements: refused before any is allocated.
        let huge = write(&[("k", Value::Array(Array::U32(vec![1])))], &[]);
        let mut f = huge.clone();
        let at = 24 + 8 + 1 + 4 + 4;
        f[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let e = read("t.gguf", &f).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelGguf));
        assert!(
            e.to_string()
                .contains("metadata k is an array of 1099511627776 UINT32"),
            "{e}"
        );
        // Arrays nested too deep.
        let mut a = Array::U8(vec![]);
        for _ in 0..MAX_GGUF_ARRAY_DEPTH {
            a = Array::Array(vec![a]);
        }
        let e = err(&write(&[("deep", Value::Array(a))], &[]));
        assert!(e.contains("arrays may nest at most"), "{e}");
        // A string longer than the file.
        let mut f = write(&[("s", Value::String("abc".into()))], &[]);
        f[24 + 8 + 1 + 4..][..8].copy_from_slice(&(1u64 << 33).to_le_bytes());
        assert!(
            err(&f).contains("metadata s is a string of 8589934592 bytes"),
            "{}",
            err(&f)
        );
        // Dimensions whose product overflows; a block size the type does not divide.
        let one = [0u8; 4];
        let f = write(
            &[],
            &[("w", &[1 << 32, 1 << 32, 1 << 32], GgmlType::F32, &one)],
        );
        assert!(
            err(&f).contains("tensor w's dimensions is [4294967296"),
            "{}",
            err(&f)
        );
        let f = write(&[], &[("w", &[16], GgmlType::Q8_0, &[0; 34])]);
        assert!(
            err(&f).contains("tensor w's ne[0] is 16; a multiple of Q8_0's block of 32"),
            "{}",
            err(&f)
        );
        let f = write(&[], &[("w", &[1], GgmlType(99), &[0; 4])]);
        assert!(err(&f).contains("tensor w's type is 99"), "{}", err(&f));
        // Overlapping and misaligned offsets.
        let mut f = write(
            &[],
            &[
                ("a", &[8], GgmlType::F32, &[0; 32]),
                ("b", &[8], GgmlType::F32, &[0; 32]),
            ],
        );
        let info_b = 24 + (8 + 1 + 4 + 8 + 4 + 8) + (8 + 1 + 4 + 8 + 4);
        f[info_b..info_b + 8].copy_from_slice(&16u64.to_le_bytes());
        assert!(
            err(&f).contains("tensor b's offset is 16; a multiple of general.alignment"),
            "{}",
            err(&f)
        );
        f[info_b..info_b + 8].copy_from_slice(&0u64.to_le_bytes());
        assert!(err(&f).contains("tensors may not overlap"), "{}", err(&f));
        f[info_b..info_b + 8].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
        assert!(
            err(&f).contains("tensor b's offset is 18446744073709551584"),
            "{}",
            err(&f)
        );
        f[info_b..info_b + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(
            err(&f).contains("tensor b's offset is 1099511627776"),
            "{}",
            err(&f)
        );
        let bad_align = write(&[("general.alignment", Value::U32(24))], &[]);
        assert!(
            err(&bad_align).contains("general.alignment is 24"),
            "{}",
            err(&bad_align)
        );
        let mut f = file.clone();
        f.extend([0; 64]);
        assert!(err(&f).contains("its tensors end at byte"), "{}", err(&f));
    }

    #[test]
    fn skipped_tensors_take_no_memory_and_the_check_can_refuse() {
        let file = sample();
        let mut r = Reader::new("t.gguf", None, Box::new(|_| Ok(vec![false, true]))).unwrap();
        for c in file.chunks(5) {
            r.push(c).unwrap();
        }
        let g = r.finish().unwrap();
        assert!(g.data[0].is_none());
        assert_eq!(g.data[1].as_ref().map(Vec::len), Some(34));
        let mut r = Reader::new("t.gguf", None, Box::new(|_| Err(Error::new("no")))).unwrap();
        assert_eq!(r.push(&file).unwrap_err().to_string(), "no");
    }
}
