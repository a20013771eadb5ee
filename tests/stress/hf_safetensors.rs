//! The `hf_safetensors` target: a Hugging Face GPT-2 folder whose `model.safetensors` is edited
//! (header, dtypes, shapes, offsets, junk floats, truncation), read whole and in parts as the
//! page streams it, then a forward pass and a few greedy tokens.

use logitlab::model::Net;
use serde_json::{json, Value};

use crate::contracts::use_hf_model;
use crate::fixtures::{bytes_tokenizer, HF_FOLDERS, HF_TOKENIZER};
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{count_from_here, given, stress, Bytes, Target, Verdict, MB};
use crate::inputs::{edit_json, json_bytes};

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
    let split = Split::from(&mut b);
    count_from_here();
    given(files.iter().map(|(_, f)| f.len()).sum());
    let whole = Net::from_hf_gpt2(&files);
    if let Some(bug) = split.differs(&whole, HF_FOLDERS[folder].config, &model, tokenizer) {
        return bug;
    }
    match whole {
        Err(e) => Rejected(e.to_string()),
        Ok(net) => {
            given(0); // read: what follows is no longer the files' cost
            use_hf_model(&net)
        }
    }
}

/// How a target feeds `model.safetensors` to the reader the page streams a download into
/// ([`Net::hf_reader`]): parts of one size, its length known or not.
pub struct Split {
    part: usize,
    known: bool,
}

impl Split {
    pub fn from(b: &mut Bytes) -> Split {
        Split {
            part: 1 + b.u32() as usize % 4096,
            known: b.u8().is_multiple_of(2),
        }
    }

    /// A bug if the folder read with `model` in parts does not give what it gave read whole
    /// (`whole`): the same weights bit for bit, or (its length known) the same refusal.
    pub fn differs(
        &self,
        whole: &logitlab::error::Result<Net>,
        config: &[u8],
        model: &[u8],
        tokenizer: &[u8],
    ) -> Option<Verdict> {
        let len = self.known.then_some(model.len());
        let parts = Net::hf_reader(config, tokenizer, None, len).and_then(|mut r| {
            model.chunks(self.part).try_for_each(|c| r.push(c))?;
            r.finish()
        });
        let bits = |n: &Net| -> Vec<Vec<u32>> {
            n.tensors()
                .iter()
                .map(|t| t.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        match (whole, &parts) {
            (Ok(a), Ok(b))
                if a.config() == b.config() && a.dtype() == b.dtype() && bits(a) == bits(b) =>
            {
                None
            }
            (Err(a), Err(b)) if !self.known || a.to_string() == b.to_string() => None,
            _ => Some(Bug(format!(
                "read whole: {:?}; in parts of {} (length known: {}): {:?}",
                whole.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
                self.part,
                self.known,
                parts.as_ref().map(|_| "ok").map_err(|e| e.to_string()),
            ))),
        }
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

pub const TARGET: Target = Target {
    name: "hf_safetensors",
    budget: 4_000,
    max_input: 256,
    alloc_cap: 4 * MB,
    names: &["model.safetensors: ", "model: "],
    prefix: true,
    seeds: seeds_hf_safetensors,
    run: run_hf_safetensors,
};

#[test]
fn stress_hf_safetensors() {
    stress(&TARGET);
}
