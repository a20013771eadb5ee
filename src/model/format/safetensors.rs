//! The safetensors container of a Hugging Face `model.safetensors`, read header first: an
//! 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
//! byte range, then the data. The header is parsed by [`safetensors_header`] (within a memory
//! bound; every declared offset and size checked against the file's length, the ranges tiling
//! the data) before anything is allocated; the readers of
//! each architecture ([`super::hf_gpt2`], [`super::hf_llama`]) then take the tensors they
//! need one at a time ([`Tensors`]). Names are quoted through [`crate::error::brief`]: a header
//! may hold anything.
//!
//! The file is read either from its bytes ([`read_header`], [`Tensors::File`]) or as it
//! arrives, in parts of any size ([`Reader`]): the page streams a download into the reader,
//! which copies each byte once, straight into the tensor it belongs to, kept in its dtype, so
//! a 1 GB model is never in memory twice.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::limits::{over_cap, size_name, MAX_HF_SAFETENSORS_BYTES};
use crate::model::format::{copy_from, safetensors_header, FileBytes, Slots};
use crate::model::tensor::{Bf16, Dtype, Tensor, F16};

/// The file's name in a folder, which every error starts with.
pub const MODEL: &str = "model.safetensors";

/// A checked header: every tensor by name, and where the data starts.
#[derive(Debug, Clone)]
pub struct Header {
    pub tensors: HashMap<String, Declared>,
    data_start: usize,
}

/// The error about `model.safetensors` that says `what`.
pub fn bad(what: String) -> Error {
    Error::new(format!("{MODEL}: {what}"))
}

/// Reads and checks the header of `file` (at most [`MAX_HF_SAFETENSORS_BYTES`]).
pub fn read_header(file: &dyn FileBytes) -> Result<Header> {
    let file_len = file.len();
    if file_len > MAX_HF_SAFETENSORS_BYTES {
        return Err(bad(over_cap(file_len, MAX_HF_SAFETENSORS_BYTES)));
    }
    let data_start =
        safetensors_header::data_start(file_len, &file.read(0, file_len.min(8))).map_err(bad)?;
    let json = file.read(8, data_start);
    let parsed =
        safetensors_header::Header::parse(&json, file_len - data_start, &[]).map_err(bad)?;
    Ok(Header::of(&parsed, data_start))
}

impl Header {
    /// The header `parsed`, whose data starts at byte `data_start` of the file.
    fn of(parsed: &safetensors_header::Header, data_start: usize) -> Header {
        let tensors = parsed
            .tensors()
            .iter()
            .map(|d| {
                let declared = Declared {
                    dtype: d.dtype.name().to_string(),
                    shape: d.shape.clone(),
                    start: d.start,
                    end: d.end,
                };
                (d.name.to_string(), declared)
            })
            .collect();
        Header {
            tensors,
            data_start,
        }
    }

    /// The tensor named `name`, if the header declares it.
    pub fn get(&self, name: &str) -> Option<&Declared> {
        self.tensors.get(name)
    }

    /// The bytes of a tensor of this header (in range: the header was checked).
    pub fn bytes<'a>(&self, file: &'a dyn FileBytes, d: &Declared) -> Cow<'a, [u8]> {
        file.read(self.data_start + d.start, self.data_start + d.end)
    }
}

/// One tensor as the safetensors header declares it.
#[derive(Debug, Clone)]
pub struct Declared {
    /// As the header spells it: `"F32"`, `"BF16"` …
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Byte range in the data that follows the header.
    pub start: usize,
    pub end: usize,
}

/// A checked header's tensors and their values: read from the file's bytes, or loaded by a
/// [`Reader`] as they arrived. The architecture readers take what they need through it, so
/// both ways give the same tensors, bit for bit.
pub enum Tensors<'a> {
    /// The file's bytes: each tensor is read from them when taken.
    File {
        file: &'a dyn FileBytes,
        header: Header,
    },
    /// The tensors a [`Reader`] kept, by name, in their dtype.
    Loaded {
        header: Header,
        tensors: HashMap<String, Tensor>,
    },
}

impl std::fmt::Debug for Tensors<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, header) = match self {
            Tensors::File { header, .. } => ("File", header),
            Tensors::Loaded { header, .. } => ("Loaded", header),
        };
        f.debug_struct("Tensors")
            .field("kind", &kind)
            .field("declared", &header.tensors.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Tensors<'a> {
    /// The tensors of `file`, its header read and checked ([`read_header`]).
    pub fn read(file: &'a dyn FileBytes) -> Result<Tensors<'a>> {
        Ok(Tensors::File {
            header: read_header(file)?,
            file,
        })
    }

    /// The checked header.
    pub fn header(&self) -> &Header {
        match self {
            Tensors::File { header, .. } | Tensors::Loaded { header, .. } => header,
        }
    }

    /// The values of the tensor `name`, which the header declares as F32, F16 or BF16, in that
    /// dtype. Each tensor is taken once.
    pub fn take(&mut self, name: &str) -> Result<Tensor> {
        let quoted = crate::error::brief(&format_args!("{name:?}"));
        match self {
            Tensors::File { file, header } => {
                let d = header
                    .get(name)
                    .ok_or_else(|| bad(format!("missing tensor {quoted}")))?;
                let dtype = Dtype::from_safetensors(&d.dtype).ok_or_else(|| {
                    bad(format!(
                        "tensor {quoted} has dtype {}; F32, F16 or BF16 is needed",
                        crate::error::brief(&d.dtype)
                    ))
                })?;
                Ok(Tensor::from_le_bytes(dtype, &header.bytes(*file, d)))
            }
            Tensors::Loaded { tensors, .. } => tensors
                .remove(name)
                .ok_or_else(|| bad(format!("tensor {quoted} was not kept as the file arrived"))),
        }
    }
}

/// Which tensors of a checked header a [`Reader`] keeps, by name, or why the header is refused
/// (a missing tensor, a wrong shape or dtype, too many bytes of weights): asked once, when the
/// header is in and before any tensor is allocated. The others are skipped as they arrive.
pub type Keep = Box<dyn FnMut(&Header) -> Result<Vec<String>>>;

/// Reads a `model.safetensors` front to back as its bytes arrive, in parts of any size (as
/// [`super::llama2c::Reader`] and [`super::gguf::Reader`] do): the 8-byte header length, then
/// the JSON header, checked as [`read_header`] checks it (against the file's length when it is
/// known), then each kept tensor's bytes straight into its values, in the dtype the header
/// gives (BF16 stays bfloat16). A tensor's memory grows with the bytes that arrive (to at most
/// twice them, never past the tensor's size), so a stream that ends early never made the
/// reader allocate what its header claimed. [`Reader::finish`] gives the same [`Tensors`] as
/// the whole file would.
pub struct Reader {
    file_len: Option<usize>,
    keep: Keep,
    /// Bytes received so far.
    received: usize,
    /// The header length and the header, as they arrive.
    head: Vec<u8>,
    plan: Option<Plan>,
    /// Which of `plan.segments` is filling, and its bytes so far.
    segment: usize,
    filled: usize,
    /// The tensor filling, if it is kept.
    current: Option<Tensor>,
    loaded: HashMap<String, Tensor>,
    /// Where the bytes of a skipped tensor go.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("file_len", &self.file_len)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// What the header says, once read: where the file ends, and its tensors in the order of
/// their bytes.
struct Plan {
    header: Header,
    end: usize,
    segments: Vec<Segment>,
}

/// One tensor's bytes in the data: its name, length, and its dtype if it is kept.
struct Segment {
    name: String,
    bytes: usize,
    keep: Option<Dtype>,
}

impl Reader {
    /// A reader for a `model.safetensors` of `file_len` bytes if known (at most
    /// [`MAX_HF_SAFETENSORS_BYTES`]), keeping the tensors `keep` names.
    pub fn new(file_len: Option<usize>, keep: Keep) -> Result<Reader> {
        if let Some(len) = file_len.filter(|&len| len > MAX_HF_SAFETENSORS_BYTES) {
            return Err(bad(over_cap(len, MAX_HF_SAFETENSORS_BYTES)));
        }
        Ok(Reader {
            file_len,
            keep,
            received: 0,
            head: Vec::new(),
            plan: None,
            segment: 0,
            filled: 0,
            current: None,
            loaded: HashMap::new(),
            scratch: Vec::new(),
        })
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// Takes `bytes`, the file's next part.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.fill(bytes.len(), copy_from(bytes))
    }

    /// Takes the file's next `len` bytes from a source outside this memory (a JS array):
    /// `copy(at, dest)` writes its bytes `at..at + dest.len()` into `dest`, which is where they
    /// belong, so each byte is copied once.
    pub fn push_with(&mut self, len: usize, copy: impl FnMut(usize, &mut [u8])) -> Result<()> {
        self.fill(len, copy)
    }

    /// How many bytes the header takes from the start of the file, as far as is known: the
    /// 8-byte length (fewer if the file is shorter), then the JSON header it gives.
    fn head_len(&self) -> Result<usize> {
        let first = 8.min(self.file_len.unwrap_or(8));
        if self.head.len() < first {
            return Ok(first);
        }
        match self.file_len {
            Some(len) => safetensors_header::data_start(len, &self.head[..first]).map_err(bad),
            None => {
                let declared = u64::from_le_bytes(self.head[..8].try_into().expect("8 bytes"));
                if declared > (MAX_HF_SAFETENSORS_BYTES - 8) as u64 {
                    return Err(bad(format!(
                        "header declares {declared} bytes; a file has at most \
                         {MAX_HF_SAFETENSORS_BYTES} ({})",
                        size_name(MAX_HF_SAFETENSORS_BYTES)
                    )));
                }
                Ok(8 + declared as usize)
            }
        }
    }

    /// Reads and checks the header in `head`, asks which tensors to keep, and lays out the
    /// data: the tensors in the order of their bytes.
    fn read_header(&mut self) -> Result<()> {
        let data_start = self.head.len();
        let json = &self.head[8..];
        let (parsed, data_len) = match self.file_len {
            Some(len) => {
                let h = safetensors_header::Header::parse(json, len - data_start, &[]);
                (h.map_err(bad)?, len - data_start)
            }
            None => {
                let most = MAX_HF_SAFETENSORS_BYTES - data_start;
                safetensors_header::Header::parse_open(json, most, &[]).map_err(bad)?
            }
        };
        let header = Header::of(&parsed, data_start);
        drop(parsed);
        let kept: std::collections::HashSet<String> = (self.keep)(&header)?.into_iter().collect();
        let mut order: Vec<(&String, &Declared)> = header.tensors.iter().collect();
        order.sort_unstable_by_key(|(_, d)| (d.start, d.end));
        let segments = order
            .into_iter()
            .map(|(name, d)| Segment {
                name: name.clone(),
                bytes: d.end - d.start,
                keep: if kept.contains(name) {
                    Dtype::from_safetensors(&d.dtype)
                } else {
                    None
                },
            })
            .collect();
        self.head = Vec::new();
        self.plan = Some(Plan {
            header,
            end: data_start + data_len,
            segments,
        });
        self.start_segment();
        Ok(())
    }

    /// Begins the current segment: a kept tensor gets its (empty) values; an empty tensor is
    /// done at once.
    fn start_segment(&mut self) {
        let plan = self.plan.as_ref().expect("the header is read");
        let Some(seg) = plan.segments.get(self.segment) else {
            return;
        };
        self.current = seg.keep.map(|dtype| match dtype {
            Dtype::F32 => Tensor::F32(Vec::new()),
            Dtype::F16 => Tensor::F16(Vec::new()),
            _ => Tensor::Bf16(Vec::new()),
        });
        if seg.bytes == 0 {
            self.end_segment();
        }
    }

    /// Ends the current segment, whose bytes are all in: a kept tensor joins the loaded ones.
    fn end_segment(&mut self) {
        let plan = self.plan.as_ref().expect("the header is read");
        let name = plan.segments[self.segment].name.clone();
        if let Some(t) = self.current.take() {
            self.loaded.insert(name, t);
        }
        self.segment += 1;
        self.filled = 0;
        self.start_segment();
    }

    /// The tensors, once every byte is in: an error if the file ended early. A file that ends
    /// within its header gets the error reading those bytes whole gives.
    pub fn finish(mut self) -> Result<Tensors<'static>> {
        let Some(plan) = self.plan.take() else {
            let head: &[u8] = &self.head;
            read_header(&head)?;
            return Err(bad(format!(
                "the file ended after {} bytes, within its header",
                self.received
            )));
        };
        if self.received != plan.end {
            return Err(bad(format!(
                "the file ended after {} bytes; its header declares {}",
                self.received, plan.end
            )));
        }
        Ok(Tensors::Loaded {
            header: plan.header,
            tensors: self.loaded,
        })
    }
}

/// The header first, then each kept tensor's bytes straight into its array (a skipped tensor
/// into a scratch buffer).
impl Slots for Reader {
    fn next_bytes(&mut self, max: usize) -> &mut [u8] {
        let Some(plan) = &self.plan else {
            // The header: it grows with the bytes that arrive (its length is checked below).
            let want = self.head_len().unwrap_or(self.head.len() + 1) - self.head.len();
            let at = self.head.len();
            self.head.resize(at + want.min(max).max(1), 0);
            return &mut self.head[at..];
        };
        let Some(seg) = plan.segments.get(self.segment) else {
            return &mut [];
        };
        let n = (seg.bytes - self.filled).min(max);
        let Some(tensor) = &mut self.current else {
            self.scratch.resize(n.min(1 << 16), 0);
            return &mut self.scratch;
        };
        let (filled, total) = (self.filled, seg.bytes);
        match tensor {
            Tensor::F32(v) => room(v, total, filled, filled + n),
            Tensor::F16(v) => room(v, total, filled, filled + n),
            Tensor::Bf16(v) => room(v, total, filled, filled + n),
            Tensor::Quant(_) => unreachable!("a safetensors tensor is F32, F16 or BF16"),
        }
    }

    fn advance(&mut self, n: usize) -> Result<()> {
        self.received += n;
        let Some(plan) = &self.plan else {
            if self.head.len() == self.head_len()? {
                self.read_header()?;
            }
            return Ok(());
        };
        let Some(seg) = plan.segments.get(self.segment) else {
            return if n == 0 {
                Ok(())
            } else {
                Err(bad(format!(
                    "has more bytes than the {} its header declares",
                    plan.end
                )))
            };
        };
        self.filled += n;
        if self.filled == seg.bytes {
            self.end_segment();
        }
        Ok(())
    }
}

/// A value type every bit pattern of which is a value (f32, and the 16-bit floats by their
/// bits), so that its memory may be filled with the file's bytes.
trait Plain: Copy + Default {}
impl Plain for f32 {}
impl Plain for F16 {}
impl Plain for Bf16 {}

/// Bytes `filled..end` of the values `v` of a tensor of `total` bytes, as bytes to fill: `v`
/// grows to hold them, to at most twice the bytes so far (and 64 KiB), never past `total`.
fn room<E: Plain>(v: &mut Vec<E>, total: usize, filled: usize, end: usize) -> &mut [u8] {
    let width = std::mem::size_of::<E>();
    if width * v.len() < end {
        let grown = end
            .max(2 * width * v.len())
            .max(1 << 16)
            .min(total)
            .div_ceil(width);
        v.reserve_exact(grown - v.len());
        v.resize(grown, E::default());
    }
    // SAFETY: any bytes are a valid `E` (see `Plain`); wasm and x86 are little-endian, as the
    // file is. The slice covers exactly `v`'s initialised values.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), width * v.len()) };
    &mut bytes[filled..end]
}

/// A `model.safetensors` as an architecture reader is given it: its bytes, whose header is
/// read when the reader comes to the weights, or the tensors a [`Reader`] loaded as the file
/// arrived.
pub enum Source<'a> {
    Bytes(&'a dyn FileBytes),
    Loaded(Tensors<'static>),
}

impl<'a> Source<'a> {
    /// The tensors: the header read and checked now, for bytes.
    pub fn tensors(self) -> Result<Tensors<'a>> {
        match self {
            Source::Bytes(file) => Tensors::read(file),
            Source::Loaded(t) => Ok(t),
        }
    }
}
