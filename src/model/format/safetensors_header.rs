//! The header of a safetensors file, read within a memory bound. The file is untrusted: its
//! JSON header may be tens of megabytes built to amplify (a shape of millions of dimensions, a
//! million empty tensors). It is read in one pass into fixed-size entries that borrow their
//! names from the header's bytes, a tensor of more than [`MAX_DIMS`] dimensions or a header of
//! more than [`MAX_SAFETENSORS_TENSORS`] tensors is refused as it is met, and metadata is kept
//! only for the keys a reader asks for. Reading a header costs at most twice its size.
//!
//! The tensors' byte ranges must tile the data after the header, as the `safetensors` crate
//! itself requires: sorted by offset, each starts where the one before ended (no overlap, no
//! hole), the first at 0 and the last at the end (no trailing bytes). Overlap would let a small
//! file describe a large model.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use crate::error::brief;
use crate::limits::MAX_SAFETENSORS_TENSORS;

/// Most dimensions a tensor may have (real checkpoints have at most 4).
pub const MAX_DIMS: usize = 8;

/// A tensor's element type, as the header names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dtype<'a> {
    F32,
    F16,
    BF16,
    /// Any other: its name, for the error that refuses it.
    Other(Cow<'a, str>),
}

impl Dtype<'_> {
    /// Bytes per element of a float type.
    pub fn width(&self) -> Option<usize> {
        match self {
            Dtype::F32 => Some(4),
            Dtype::F16 | Dtype::BF16 => Some(2),
            Dtype::Other(_) => None,
        }
    }

    /// The name the header uses.
    pub fn name(&self) -> &str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::Other(s) => s,
        }
    }
}

/// One tensor as the header declares it.
#[derive(Debug, Clone)]
pub struct Declared<'a> {
    pub name: Cow<'a, str>,
    pub dtype: Dtype<'a>,
    pub shape: Vec<usize>,
    /// Byte range in the data that follows the header.
    pub start: usize,
    pub end: usize,
}

impl Declared<'_> {
    /// The tensor's name as an error quotes it: in quotes, at most a short excerpt.
    pub fn quoted(&self) -> String {
        quoted(&self.name)
    }
}

fn quoted(name: &str) -> String {
    brief(&format_args!("{name:?}"))
}

/// A safetensors header: its tensors, checked to tile the data, and the metadata asked for.
#[derive(Debug)]
pub struct Header<'a> {
    /// The tensors, sorted by name.
    tensors: Vec<Declared<'a>>,
    /// The kept metadata entries, in the order of the keys asked for.
    metadata: Vec<(&'static str, String)>,
}

impl<'a> Header<'a> {
    /// Reads the header `json`, which `data_len` bytes of tensor data follow, keeping the
    /// metadata values of `keep` (the rest of the metadata is skipped unread). Errors say what
    /// is wrong, without the file's name (the caller adds it).
    pub fn parse(json: &'a [u8], data_len: usize, keep: &[&'static str]) -> Result<Self, String> {
        let (header, end) = Self::parse_within(json, data_len, keep)?;
        if end != data_len {
            return Err(format!(
                "the tensors end at byte {end} of the data, which has {data_len}: the bytes after \
                 them belong to no tensor"
            ));
        }
        Ok(header)
    }

    /// [`Header::parse`] for a file whose length is not known yet: every range is checked to
    /// lie within `most` bytes after the header, and the tensors to tile the data from 0 to the
    /// end of the last one, which is returned as the data's length.
    pub fn parse_open(
        json: &'a [u8],
        most: usize,
        keep: &[&'static str],
    ) -> Result<(Self, usize), String> {
        Self::parse_within(json, most, keep)
    }

    /// The header, its ranges within `data_len` bytes and tiling from 0; and where they end.
    fn parse_within(
        json: &'a [u8],
        data_len: usize,
        keep: &[&'static str],
    ) -> Result<(Self, usize), String> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let problem = Problem::default();
        let visitor = HeaderVisitor {
            data_len,
            keep,
            problem: &problem,
        };
        let mut header = de.deserialize_map(visitor).map_err(|e| {
            problem
                .take()
                .unwrap_or_else(|| format!("header is not a safetensors header: {}", brief(&e)))
        })?;
        de.end()
            .map_err(|e| format!("header has bytes after its JSON object: {}", brief(&e)))?;
        header.tensors.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = header.tensors.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(format!("tensor {} is declared twice", w[0].quoted()));
        }
        let end = check_tiling(&header.tensors)?;
        Ok((header, end))
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&Declared<'a>> {
        let i = self
            .tensors
            .binary_search_by(|d| (*d.name).cmp(name))
            .ok()?;
        Some(&self.tensors[i])
    }

    /// Every tensor, sorted by name.
    pub fn tensors(&self) -> &[Declared<'a>] {
        &self.tensors
    }

    /// The metadata value of `key`, if it was asked for and is there.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Where a safetensors file of `file_len` bytes, which start with `first8`, has its tensor data:
/// after the 8-byte header length and the header it gives.
pub fn data_start(file_len: usize, first8: &[u8]) -> Result<usize, String> {
    let Ok(len) = <[u8; 8]>::try_from(first8) else {
        return Err(format!(
            "{file_len} bytes; a safetensors file starts with an 8-byte header length"
        ));
    };
    let header_len = u64::from_le_bytes(len);
    if header_len > (file_len - 8) as u64 {
        return Err(format!(
            "header declares {header_len} bytes but the file has {file_len}"
        ));
    }
    Ok(8 + header_len as usize)
}

/// The tensors' byte ranges tile the data from byte 0, each starting where the one before
/// ended; returns where the last ends. An error names the tensors.
fn check_tiling(tensors: &[Declared]) -> Result<usize, String> {
    let mut order: Vec<u32> = (0..tensors.len() as u32).collect();
    order.sort_unstable_by_key(|&i| {
        let d = &tensors[i as usize];
        (d.start, d.end)
    });
    let mut end = 0usize;
    let mut before: Option<&Declared> = None;
    for d in order.iter().map(|&i| &tensors[i as usize]) {
        match (d.start.cmp(&end), before) {
            (std::cmp::Ordering::Less, Some(b)) => {
                return Err(format!(
                    "tensors {} and {} overlap (bytes [{}, {end}) are in both)",
                    b.quoted(),
                    d.quoted(),
                    d.start
                ))
            }
            (std::cmp::Ordering::Greater, Some(b)) => {
                return Err(format!(
                    "bytes [{end}, {}) between tensors {} and {} belong to no tensor",
                    d.start,
                    b.quoted(),
                    d.quoted()
                ))
            }
            (std::cmp::Ordering::Greater, None) => {
                return Err(format!(
                    "bytes [0, {}) before tensor {} belong to no tensor",
                    d.start,
                    d.quoted()
                ))
            }
            _ => {}
        }
        end = d.end;
        before = Some(d);
    }
    Ok(end)
}

/// What made the header wrong, said in full: serde would append a line and column to it.
type Problem = std::cell::Cell<Option<String>>;

/// Stops reading with `what` as the header's error.
fn refuse<E: de::Error>(problem: &Problem, what: String) -> E {
    problem.set(Some(what));
    E::custom("")
}

/// The header's top-level object: `"__metadata__"` and one entry per tensor.
struct HeaderVisitor<'k> {
    data_len: usize,
    keep: &'k [&'static str],
    problem: &'k Problem,
}

impl<'de> Visitor<'de> for HeaderVisitor<'_> {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of tensors")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut tensors = Vec::new();
        let mut metadata = Vec::new();
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            if name == "__metadata__" {
                metadata = map.next_value_seed(MetadataSeed { keep: self.keep })?;
                continue;
            }
            if tensors.len() == MAX_SAFETENSORS_TENSORS {
                return Err(refuse(
                    self.problem,
                    format!("header declares more than {MAX_SAFETENSORS_TENSORS} tensors"),
                ));
            }
            let entry = map.next_value_seed(EntrySeed {
                name: &name,
                data_len: self.data_len,
                problem: self.problem,
            })?;
            tensors.push(Declared {
                name,
                dtype: entry.0,
                shape: entry.1,
                start: entry.2,
                end: entry.3,
            });
        }
        Ok(Header { tensors, metadata })
    }
}

/// `"__metadata__"`: a map of strings, of which only the `keep` keys are kept.
struct MetadataSeed<'k> {
    keep: &'k [&'static str],
}

impl<'de> DeserializeSeed<'de> for MetadataSeed<'_> {
    type Value = Vec<(&'static str, String)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetadataSeed<'_> {
    type Value = Vec<(&'static str, String)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("__metadata__: an object of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.keep.iter().find(|k| **k == key) {
                Some(k) => kept.push((*k, map.next_value::<String>()?)),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(kept)
    }
}

/// One tensor's `{"dtype", "shape", "data_offsets": [start, end]}`, checked against the
/// `data_len` bytes after the header and, for a float dtype, its shape against its bytes.
struct EntrySeed<'n> {
    name: &'n str,
    data_len: usize,
    problem: &'n Problem,
}

type Entry<'de> = (Dtype<'de>, Vec<usize>, usize, usize);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = Entry<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = Entry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "tensor {}: an object with dtype, shape and data_offsets",
            quoted(self.name)
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let name = quoted(self.name);
        let fail = |what: String| refuse(self.problem, format!("tensor {name} {what}"));
        let (mut dtype, mut shape, mut offsets) = (None, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "dtype" => {
                    let s = map.next_value::<Cow<'de, str>>()?;
                    dtype = Some(match &*s {
                        "F32" => Dtype::F32,
                        "F16" => Dtype::F16,
                        "BF16" => Dtype::BF16,
                        _ => Dtype::Other(s),
                    });
                }
                "shape" => {
                    shape = Some(map.next_value_seed(Numbers {
                        most: MAX_DIMS,
                        what: "shape",
                        name: &name,
                        problem: self.problem,
                    })?)
                }
                "data_offsets" => {
                    offsets = Some(map.next_value_seed(Numbers {
                        most: 2,
                        what: "data_offsets",
                        name: &name,
                        problem: self.problem,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let dtype = dtype.ok_or_else(|| fail("has no dtype".into()))?;
        let shape = shape.ok_or_else(|| fail("has no shape".into()))?;
        let data_len = self.data_len;
        let (start, end) = match offsets.as_deref() {
            Some(&[s, e]) if s <= e && e <= data_len as u64 => (s as usize, e as usize),
            Some(&[s, e]) => {
                return Err(fail(format!(
                    "declares bytes [{s}, {e}) but the file holds {data_len} bytes after its \
                     header"
                )))
            }
            _ => return Err(fail("has data_offsets that are not [start, end]".into())),
        };
        if let Some(width) = dtype.width() {
            let bytes = shape
                .iter()
                .try_fold(width as u64, |n, &d| n.checked_mul(d));
            if bytes != Some((end - start) as u64) {
                return Err(fail(format!(
                    "has shape {} in {}, but its data_offsets span {} bytes",
                    brief(&format_args!("{shape:?}")),
                    brief(&dtype.name()),
                    end - start
                )));
            }
        }
        // On wasm32 a dimension past 2^32 does not fit a usize (beside a 0, a float tensor's
        // bytes still match): refused, named.
        let shape: Vec<usize> = shape
            .iter()
            .map(|&d| {
                usize::try_from(d).map_err(|_| fail(format!("has a dimension {d}, too large")))
            })
            .collect::<Result<_, _>>()?;
        Ok((dtype, shape, start, end))
    }
}

/// A list of at most `most` non-negative integers, refused as soon as it is longer: tensor
/// `name`'s field `what`.
struct Numbers<'n> {
    most: usize,
    what: &'static str,
    name: &'n str,
    problem: &'n Problem,
}

impl<'de> DeserializeSeed<'de> for Numbers<'_> {
    type Value = Vec<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Numbers<'_> {
    type Value = Vec<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{}: a list of at most {} non-negative integers",
            self.what, self.most
        )
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(self.most.min(4));
        while let Some(n) = seq.next_element::<u64>()? {
            if out.len() == self.most {
                return Err(refuse(
                    self.problem,
                    format!(
                        "tensor {}: {} has more than {} entries",
                        self.name, self.what, self.most
                    ),
                ));
            }
            out.push(n);
        }
        Ok(out)
    }
}
