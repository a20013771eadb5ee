//! The safetensors container of a Hugging Face `model.safetensors`, read header first: an
//! 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
//! byte range, then the data. The header is parsed by [`safetensors_header`] (within a memory
//! bound; every declared offset and size checked against the file's length, the ranges tiling
//! the data) before anything is allocated; the readers of
//! each architecture ([`super::hf_gpt2`], [`super::hf_llama`]) then take the tensors they
//! need one at a time. Names are quoted through [`crate::error::brief`]: a header may hold anything.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::limits::{over_cap, MAX_HF_SAFETENSORS_BYTES};
use crate::model::format::{safetensors_header, FileBytes};

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
