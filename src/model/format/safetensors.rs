//! The safetensors container of a Hugging Face `model.safetensors`, read header first: an
//! 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
//! byte range, then the data. Every declared offset and size is checked against the file's
//! length, and the ranges must tile the data, before anything is allocated; the readers of
//! each architecture ([`super::hf_gpt2`], [`super::hf_llama`]) then take the tensors they
//! need one at a time. Names are quoted through [`brief`]: a header may hold anything.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use crate::error::{brief, Error, Result};
use crate::limits::{over_cap, MAX_HF_SAFETENSORS_BYTES};
use crate::model::format::FileBytes;

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
    if file_len < 8 {
        return Err(bad(format!(
            "{file_len} bytes; a safetensors file starts with an 8-byte header length"
        )));
    }
    let len: [u8; 8] = file.read(0, 8)[..].try_into().expect("8 bytes");
    let header_len = u64::from_le_bytes(len);
    if header_len > (file_len - 8) as u64 {
        return Err(bad(format!(
            "header declares {header_len} bytes but the file has {file_len}"
        )));
    }
    let data_start = 8 + header_len as usize;
    let data_len = file_len - data_start;
    let header: Value = serde_json::from_slice(&file.read(8, data_start))
        .map_err(|e| bad(format!("header is not valid JSON: {e}")))?;
    let Value::Object(header) = header else {
        return Err(bad("header is not a JSON object".into()));
    };
    let mut tensors = HashMap::with_capacity(header.len());
    for (name, entry) in header {
        if name == "__metadata__" {
            continue;
        }
        let d = declared_tensor(&name, &entry, data_len).map_err(bad)?;
        tensors.insert(name, d);
    }
    check_coverage(&tensors, data_len).map_err(bad)?;
    Ok(Header {
        tensors,
        data_start,
    })
}

impl Header {
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

/// The tensors' byte ranges must tile the data after the header, as the `safetensors` crate
/// itself requires: sorted by offset, each starts where the one before ended (no overlap, no
/// hole), the first at 0 and the last at the end (no trailing bytes). Overlap would let a small
/// file describe a large model; an error names the two tensors.
fn check_coverage(
    declared: &HashMap<String, Declared>,
    data_len: usize,
) -> std::result::Result<(), String> {
    let mut ranges: Vec<(usize, usize, &str)> = declared
        .iter()
        .map(|(n, d)| (d.start, d.end, n.as_str()))
        .collect();
    ranges.sort_unstable();
    let mut end = 0usize;
    let mut before: Option<&str> = None;
    let name = |n: &str| brief(&format_args!("{n:?}"));
    for &(s, e, n) in &ranges {
        match (s.cmp(&end), before) {
            (std::cmp::Ordering::Less, Some(b)) => {
                return Err(format!(
                    "tensors {} and {} overlap (bytes [{s}, {end}) are in both)",
                    name(b),
                    name(n)
                ))
            }
            (std::cmp::Ordering::Greater, Some(b)) => {
                return Err(format!(
                    "bytes [{end}, {s}) between tensors {} and {} belong to no tensor",
                    name(b),
                    name(n)
                ))
            }
            (std::cmp::Ordering::Greater, None) => {
                return Err(format!(
                    "bytes [0, {s}) before tensor {} belong to no tensor",
                    name(n)
                ))
            }
            _ => {}
        }
        end = e;
        before = Some(n);
    }
    if end != data_len {
        return Err(format!(
            "the tensors end at byte {end} of the data, which has {data_len}: the bytes after \
             them belong to no tensor"
        ));
    }
    Ok(())
}

/// One header entry `{"dtype", "shape", "data_offsets": [start, end]}`, checked against the
/// `data_len` bytes that follow the header and, for a float dtype, against its shape.
fn declared_tensor(
    name: &str,
    entry: &Value,
    data_len: usize,
) -> std::result::Result<Declared, String> {
    let name = brief(&format_args!("{name:?}"));
    let dtype = entry
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("tensor {name} has no dtype"))?;
    let numbers = |key: &str| -> std::result::Result<Vec<u64>, String> {
        entry
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
            .ok_or_else(|| format!("tensor {name}: {key} is not a list of non-negative integers"))
    };
    let shape = numbers("shape")?;
    let (start, end) = match numbers("data_offsets")?[..] {
        [s, e] if s <= e && e <= data_len as u64 => (s as usize, e as usize),
        [s, e] => {
            return Err(format!(
                "tensor {name} declares bytes [{s}, {e}) but the file holds {data_len} bytes \
                 after its header"
            ))
        }
        _ => return Err(format!("tensor {name}: data_offsets is not [start, end]")),
    };
    let width = match dtype {
        "F32" => Some(4u64),
        "F16" | "BF16" => Some(2),
        _ => None,
    };
    if let Some(width) = width {
        let bytes = shape
            .iter()
            .try_fold(width, |n, &d| n.checked_mul(d))
            .filter(|&n| n == (end - start) as u64);
        if bytes.is_none() {
            return Err(format!(
                "tensor {name} has shape {} in {dtype}, but its data_offsets span {} bytes",
                brief(&format_args!("{shape:?}")),
                end - start
            ));
        }
    }
    Ok(Declared {
        dtype: dtype.to_string(),
        shape: shape.iter().map(|&d| d as usize).collect(),
        start,
        end,
    })
}
