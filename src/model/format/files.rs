//! Which files make which model: the one place that decides it. The page asks here which of a
//! folder's or a selection's files to read and how, `Model.fromFiles` asks which reader gets
//! them, and a `?model=` path asks which files to fetch.
//!
//! - a Hugging Face folder: `config.json`, `model.safetensors` and `tokenizer.json`, with
//!   `generation_config.json` and `tokenizer_config.json` if it has them (the folder's other
//!   files are not read); `config.json`'s architecture decides the reader
//!   ([`hf_architecture`]: [`super::hf_gpt2`] or [`super::hf_llama`]); `model.safetensors`
//!   read as it arrives;
//! - a llama2.c model: one checkpoint `.bin` and the `tokenizer.bin` it was trained with
//!   ([`super::llama2c`]), the checkpoint read as it arrives;
//! - a GGUF file (llama.cpp's): one `.gguf` file holds the whole model ([`super::gguf_model`]),
//!   read as it arrives;
//! - logitlab's own: one `.safetensors` file ([`super::logitlab`]).
//!
//! Names may carry a folder before the file name (`gpt2/config.json`); only the file name counts.

use crate::error::{brief, brief_list, Code, Error, Result};
use crate::limits::{
    MAX_CHAT_BYTES, MAX_CHECKPOINT_BYTES, MAX_CONFIG_JSON_BYTES, MAX_GGUF_BYTES,
    MAX_HF_SAFETENSORS_BYTES, MAX_LLAMA2C_BYTES, MAX_TOKENIZER_BIN_BYTES, MAX_TOKENIZER_JSON_BYTES,
};
use crate::model::{ByteLevelBpe, Variant};

/// The built-in model's checkpoint, relative to `www/` (the JS API's `defaultModelUrl()`; the
/// page's `boot.js` names it too, and `tests/page_facts.rs` ties the two).
pub const DEFAULT_MODEL_PATH: &str = "models/default.safetensors";

/// A checkpoint format the lab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Hugging Face folder (GPT-2, Llama, Qwen2, Qwen3: see [`hf_architecture`]).
    HuggingFace,
    Llama2c,
    Logitlab,
    /// A GGUF file (Llama, Qwen2, Qwen3; weights as stored, quantised ones included).
    Gguf,
}

impl Format {
    /// The name the JS API gives it.
    pub fn name(self) -> &'static str {
        match self {
            Format::HuggingFace => "huggingFace",
            Format::Llama2c => "llama2c",
            Format::Logitlab => "logitlab",
            Format::Gguf => "gguf",
        }
    }
}

/// What a file is to its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A Hugging Face `config.json`.
    Config,
    /// The weights: `model.safetensors`, a llama2.c checkpoint `.bin`, or a `.gguf` file (which
    /// holds the tokenizer too).
    Weights,
    /// `tokenizer.json` or `tokenizer.bin`.
    Tokenizer,
    /// A logitlab `.safetensors`: config, vocabulary and weights in one file.
    Checkpoint,
    /// A Hugging Face `generation_config.json` (optional): the end-of-text ids.
    GenerationConfig,
    /// A Hugging Face `tokenizer_config.json` (optional): the tokenizer's special tokens and
    /// the chat template.
    TokenizerConfig,
    /// A Hugging Face `chat_template.jinja` (optional): the chat template, where recent
    /// transformers writes it.
    ChatTemplate,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Config => "config",
            Role::Weights => "weights",
            Role::Tokenizer => "tokenizer",
            Role::Checkpoint => "checkpoint",
            Role::GenerationConfig => "generationConfig",
            Role::TokenizerConfig => "tokenizerConfig",
            Role::ChatTemplate => "chatTemplate",
        }
    }
}

/// One file a model needs, as the caller named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub role: Role,
    /// The name as given (with its folder, if any).
    pub name: String,
    /// Its size cap in bytes: checked before it is read.
    pub cap: usize,
    /// Read as its bytes arrive (`ModelReader`), rather than whole.
    pub streamed: bool,
}

/// The model a set of files makes: its format and the files it needs, in the order its reader
/// takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    pub format: Format,
    pub files: Vec<Needed>,
}

impl ModelFiles {
    /// The file of this role, if the model has one.
    pub fn get(&self, role: Role) -> Option<&Needed> {
        self.files.iter().find(|f| f.role == role)
    }
}

const CONFIG: &str = "config.json";
const WEIGHTS: &str = "model.safetensors";
const TOKENIZER_JSON: &str = "tokenizer.json";
const TOKENIZER_BIN: &str = "tokenizer.bin";
const GENERATION_CONFIG: &str = "generation_config.json";
const TOKENIZER_CONFIG: &str = "tokenizer_config.json";
const CHAT_TEMPLATE: &str = crate::model::chat::JINJA;

/// The file name of a path: what follows its last `/` or `\`.
pub fn base(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The model among the files `names` (a folder's, a selection's, or `Model.fromFiles`'
/// keys). Files it does not use are left out. An error says which file is missing, or that
/// none of them makes a model.
pub fn identify(names: &[&str]) -> Result<ModelFiles> {
    let find = |file: &str| {
        names
            .iter()
            .find(|n| base(n) == file)
            .map(|n| n.to_string())
    };
    let needed = |role, name: String, cap, streamed| Needed {
        role,
        name,
        cap,
        streamed,
    };
    if let Some(config) = find(CONFIG) {
        let missing = |file: &str| {
            Error::new(format!(
                "{file}: missing; a Hugging Face folder needs {CONFIG}, {WEIGHTS} and \
                 {TOKENIZER_JSON}"
            ))
            .coded(Code::ModelHfMissing, [("file", file.into())])
        };
        let weights = find(WEIGHTS).ok_or_else(|| missing(WEIGHTS))?;
        let tokenizer = find(TOKENIZER_JSON).ok_or_else(|| missing(TOKENIZER_JSON))?;
        let mut files = vec![
            needed(Role::Config, config, MAX_CONFIG_JSON_BYTES, false),
            // Read as it arrives, straight into the tensors (`safetensors::Reader`).
            needed(Role::Weights, weights, MAX_HF_SAFETENSORS_BYTES, true),
            needed(Role::Tokenizer, tokenizer, MAX_TOKENIZER_JSON_BYTES, false),
        ];
        for (role, file, cap) in [
            (
                Role::GenerationConfig,
                GENERATION_CONFIG,
                MAX_CONFIG_JSON_BYTES,
            ),
            (
                Role::TokenizerConfig,
                TOKENIZER_CONFIG,
                MAX_CONFIG_JSON_BYTES,
            ),
            (Role::ChatTemplate, CHAT_TEMPLATE, MAX_CHAT_BYTES),
        ] {
            if let Some(name) = find(file) {
                files.push(needed(role, name, cap, false));
            }
        }
        return Ok(ModelFiles {
            format: Format::HuggingFace,
            files,
        });
    }
    let ggufs: Vec<&&str> = names.iter().filter(|n| n.ends_with(".gguf")).collect();
    match ggufs[..] {
        [] => {}
        [one] => {
            return Ok(ModelFiles {
                format: Format::Gguf,
                // Read as it arrives (`gguf_model::Reader`).
                files: vec![needed(Role::Weights, one.to_string(), MAX_GGUF_BYTES, true)],
            });
        }
        _ => {
            let listed = brief_list(ggufs.iter().map(|n| base(n)));
            return Err(Error::new(format!(
                "files: a GGUF model is one .gguf file; got {listed}"
            ))
            .coded(Code::ModelGgufOneFile, [("files", listed.into())]));
        }
    }
    let checkpoints: Vec<&&str> = names
        .iter()
        .filter(|n| n.ends_with(".safetensors"))
        .collect();
    if let [one] = checkpoints[..] {
        return Ok(ModelFiles {
            format: Format::Logitlab,
            files: vec![needed(
                Role::Checkpoint,
                one.to_string(),
                MAX_CHECKPOINT_BYTES,
                false,
            )],
        });
    }
    let bins: Vec<&&str> = names
        .iter()
        .filter(|n| n.ends_with(".bin") && base(n) != TOKENIZER_BIN)
        .collect();
    if !bins.is_empty() {
        let [model] = bins[..] else {
            let listed = brief_list(bins.iter().map(|n| base(n)));
            return Err(Error::new(format!(
                "files: a llama2.c model is one checkpoint .bin and {TOKENIZER_BIN}; got {listed}"
            ))
            .coded(Code::ModelLlama2cOneBin, [("files", listed.into())]));
        };
        let tokenizer = find(TOKENIZER_BIN).ok_or_else(|| {
            Error::new(format!(
                "{TOKENIZER_BIN}: missing; a llama2.c model ({}) needs the {TOKENIZER_BIN} it \
                 was trained with",
                brief(&base(model))
            ))
            .coded(
                Code::ModelLlama2cTokenizer,
                [("model", brief(&base(model)).into())],
            )
        })?;
        return Ok(ModelFiles {
            format: Format::Llama2c,
            files: vec![
                needed(Role::Weights, model.to_string(), MAX_LLAMA2C_BYTES, true),
                needed(Role::Tokenizer, tokenizer, MAX_TOKENIZER_BIN_BYTES, false),
            ],
        });
    }
    let what = format!(
        "files must be a Hugging Face folder ({CONFIG}, {WEIGHTS}, {TOKENIZER_JSON}), one \
         .gguf file, a llama2.c model .bin with its {TOKENIZER_BIN}, or one logitlab \
         .safetensors file"
    );
    if names.is_empty() {
        return Err(Error::new(format!("{what}; got no file")).coded(Code::ModelNoFiles, []));
    }
    let listed = brief_list(names.iter().map(|n| base(n)));
    Err(Error::new(format!("{what}; got {listed}"))
        .coded(Code::ModelNotAModel, [("files", listed.into())]))
}

/// The files of the model a site path names (the page's `?model=`), as (name, path) pairs: the
/// name [`identify`] knows the file by, and its path relative to `path`, to resolve as a URL
/// is. A folder (ending in `/`) is a Hugging Face folder, a `.bin` a llama2.c checkpoint
/// with `tokenizer` (default: the `tokenizer.bin` beside it), a `.safetensors` a logitlab
/// checkpoint.
pub fn at_path(path: &str, tokenizer: Option<&str>) -> Result<Vec<(String, String)>> {
    let file = base(path);
    let same = |name: &str| (name.to_string(), name.to_string());
    if file.is_empty() {
        return Ok(vec![same(CONFIG), same(WEIGHTS), same(TOKENIZER_JSON)]);
    }
    if file.ends_with(".safetensors") || file.ends_with(".gguf") {
        return Ok(vec![same(file)]);
    }
    if file.ends_with(".bin") {
        let tokenizer = tokenizer.filter(|t| !t.is_empty()).unwrap_or(TOKENIZER_BIN);
        return Ok(vec![same(file), (TOKENIZER_BIN.into(), tokenizer.into())]);
    }
    Err(Error::new(format!(
        "model must name a folder ending in / (a Hugging Face model), a .gguf file, a llama2.c \
         .bin or a .safetensors file, got {}",
        crate::error::brief(&path)
    ))
    .coded(
        Code::ModelBadPath,
        [("path", crate::error::brief(&path).into())],
    ))
}

/// The files the model at a site path may also have, as [`at_path`]'s (name, path) pairs: a
/// folder's `generation_config.json`, `tokenizer_config.json` and `chat_template.jinja` (its
/// end-of-text ids, its special tokens and chat template). A missing one is no error; other
/// paths have none.
pub fn optional_at_path(path: &str) -> Vec<(String, String)> {
    if !base(path).is_empty() {
        return Vec::new();
    }
    [GENERATION_CONFIG, TOKENIZER_CONFIG, CHAT_TEMPLATE]
        .iter()
        .map(|n| (n.to_string(), n.to_string()))
        .collect()
}

/// The architecture a Hugging Face `config.json` describes: the first of its `architectures`,
/// or, without that list, its `model_type`. GPT-2 is read by [`super::hf_gpt2`], the Llama
/// family by [`super::hf_llama`]; any other is refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HfArchitecture {
    Gpt2,
    Llama(Variant),
}

/// A folder's `tokenizer.json` for a model of `vocab_size` ids: padded to that many (an
/// embedding padded to a round size has rows no token names, which decode to nothing); more
/// ids than `vocab_size` is an error.
pub fn hf_tokenizer(tokenizer_json: &[u8], vocab_size: usize) -> Result<ByteLevelBpe> {
    let mut tokenizer = ByteLevelBpe::from_json(tokenizer_json)?;
    if tokenizer.defined() > vocab_size {
        return Err(Error::new(format!(
            "{TOKENIZER_JSON}: {} tokens but {CONFIG} vocab_size is {vocab_size}",
            tokenizer.defined()
        )));
    }
    tokenizer.pad_to(vocab_size);
    Ok(tokenizer)
}

/// Reads which architecture `config.json` (its bytes) describes (see [`HfArchitecture`]).
pub fn hf_architecture(config_json: &[u8]) -> Result<HfArchitecture> {
    if config_json.len() > MAX_CONFIG_JSON_BYTES {
        return Err(Error::new(format!(
            "{CONFIG}: {}",
            crate::limits::over_cap(config_json.len(), MAX_CONFIG_JSON_BYTES)
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(config_json)
        .map_err(|e| Error::new(format!("{CONFIG}: not valid JSON: {e}")))?;
    let first = json
        .get("architectures")
        .and_then(|a| a.as_array())
        .and_then(|a| a.first());
    let (field, named) = match first {
        Some(a) => ("architectures", a),
        None => match json.get("model_type") {
            Some(t) => ("model_type", t),
            None => {
                return Err(Error::new(format!(
                    "{CONFIG}: neither architectures nor model_type says which model this is"
                ))
                .coded(
                    Code::ModelConfigMissing,
                    [("file", CONFIG.into()), ("field", "architectures".into())],
                ))
            }
        },
    };
    let Some(name) = named.as_str() else {
        let (field, wanted) = if field == "architectures" {
            (
                "architectures[0]",
                "the name of a model class, such as LlamaForCausalLM",
            )
        } else {
            (field, "a model type, such as llama")
        };
        let shown = brief(named);
        return Err(
            Error::new(format!("{CONFIG}: {field} is {shown}; {wanted} is needed")).coded(
                Code::ModelConfigValue,
                [
                    ("file", CONFIG.into()),
                    ("field", field.into()),
                    ("value", shown.into()),
                ],
            ),
        );
    };
    let found = Variant::ALL.into_iter().find(|v| {
        let d = v.description();
        name == if field == "model_type" {
            d.model_type
        } else {
            d.architecture
        }
    });
    match (found, name) {
        (Some(v), _) => Ok(HfArchitecture::Llama(v)),
        (None, "GPT2LMHeadModel" | "GPT2Model" | "gpt2") => Ok(HfArchitecture::Gpt2),
        (None, _) => {
            let shown = brief(&name);
            let supported: Vec<&str> = Variant::ALL
                .iter()
                .map(|v| v.description().architecture)
                .chain(["GPT2LMHeadModel"])
                .collect();
            Err(Error::new(format!(
                "{CONFIG}: {shown} is not supported; supported: {}",
                supported.join(", ")
            ))
            .coded(Code::ModelArchitecture, [("architecture", shown.into())]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(m: &ModelFiles) -> Vec<(&str, &str)> {
        m.files
            .iter()
            .map(|f| (f.role.name(), f.name.as_str()))
            .collect()
    }

    #[test]
    fn each_format_by_its_files() {
        let m = identify(&[
            "gpt2/vocab.json",
            "gpt2/tokenizer.json",
            "gpt2/config.json",
            "gpt2/model.safetensors",
            "gpt2/generation_config.json",
        ])
        .unwrap();
        assert_eq!(m.format, Format::HuggingFace);
        assert_eq!(
            roles(&m),
            [
                ("config", "gpt2/config.json"),
                ("weights", "gpt2/model.safetensors"),
                ("tokenizer", "gpt2/tokenizer.json"),
                ("generationConfig", "gpt2/generation_config.json")
            ]
        );
        // Only the weights are read as they arrive; the small files are read whole first.
        let streamed: Vec<bool> = m.files.iter().map(|f| f.streamed).collect();
        assert_eq!(streamed, [false, true, false, false]);
        let m = identify(&["tokenizer.bin", "stories15M.bin", "README.md"]).unwrap();
        assert_eq!(m.format, Format::Llama2c);
        assert_eq!(
            roles(&m),
            [
                ("weights", "stories15M.bin"),
                ("tokenizer", "tokenizer.bin")
            ]
        );
        assert!(m.get(Role::Weights).unwrap().streamed);
        let m = identify(&["notes.md", "models/SmolLM2-135M-Q8_0.gguf"]).unwrap();
        assert!(m.get(Role::Weights).unwrap().streamed);
        assert_eq!(
            (m.format, roles(&m)),
            (
                Format::Gguf,
                vec![("weights", "models/SmolLM2-135M-Q8_0.gguf")]
            )
        );
        let e = identify(&["a.gguf", "b.gguf"]).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelGgufOneFile));
        assert!(e.to_string().ends_with("got a.gguf, b.gguf"), "{e}");
        let m = identify(&["default.safetensors"]).unwrap();
        assert_eq!(
            (m.format, roles(&m)),
            (
                Format::Logitlab,
                vec![("checkpoint", "default.safetensors")]
            )
        );
    }

    #[test]
    fn what_is_missing_is_named() {
        let e = identify(&["config.json", "model.safetensors"]).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelHfMissing));
        assert!(e.to_string().starts_with("tokenizer.json: missing"), "{e}");
        let e = identify(&["stories15M.bin"]).unwrap_err();
        assert!(e.to_string().starts_with("tokenizer.bin: missing"), "{e}");
        let e = identify(&["a.bin", "b.bin", "tokenizer.bin"]).unwrap_err();
        assert!(e.to_string().ends_with("got a.bin, b.bin"), "{e}");
        let e = identify(&[]).unwrap_err();
        assert!(e.to_string().ends_with("got no file"), "{e}");
        assert_eq!(e.code(), Some(Code::ModelNoFiles));
        let e = identify(&["notes.txt"]).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelNotAModel));
        // Two logitlab checkpoints and no other model: which one is meant is unclear.
        assert!(identify(&["a.safetensors", "b.safetensors"]).is_err());
    }

    /// config.json's first architecture decides the reader; without the list, model_type.
    #[test]
    fn config_json_names_the_architecture() {
        let arch = |json: &str| hf_architecture(json.as_bytes());
        let cases = [
            (
                r#"{"architectures": ["LlamaForCausalLM"]}"#,
                HfArchitecture::Llama(Variant::Llama),
            ),
            (
                r#"{"architectures": ["Qwen2ForCausalLM"], "model_type": "llama"}"#,
                HfArchitecture::Llama(Variant::Qwen2),
            ),
            (
                r#"{"model_type": "qwen3"}"#,
                HfArchitecture::Llama(Variant::Qwen3),
            ),
            (
                r#"{"architectures": [], "model_type": "gpt2"}"#,
                HfArchitecture::Gpt2,
            ),
            (
                r#"{"architectures": ["GPT2LMHeadModel"]}"#,
                HfArchitecture::Gpt2,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(arch(json).unwrap(), want, "{json}");
        }
        let e = arch(r#"{"architectures": ["Gemma3ForCausalLM"]}"#).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelArchitecture));
        assert_eq!(
            e.params()[0].1,
            crate::error::Param::Text("Gemma3ForCausalLM".into())
        );
        // A name that is not a string is a bad value, named by its field.
        let e = arch(r#"{"model_type": 7}"#).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelConfigValue));
        assert!(
            e.to_string().starts_with("config.json: model_type is 7;"),
            "{e}"
        );
        let e = arch(r#"{"architectures": [{"a": 1}]}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("config.json: architectures[0] is {\"a\":1};"),
            "{e}"
        );
        let e = arch("{}").unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelConfigMissing));
        assert!(arch("[")
            .unwrap_err()
            .to_string()
            .starts_with("config.json: not valid JSON"));
    }

    #[test]
    fn a_long_list_of_names_is_cut() {
        let names: Vec<String> = (0..1000)
            .map(|i| format!("{}.txt", "x".repeat(i)))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let e = identify(&names).unwrap_err().to_string();
        assert!(e.len() < 600, "{} characters", e.len());
        assert!(e.ends_with(", … (+995)"), "{e}");
    }

    #[test]
    fn paths() {
        let pairs = |v: Vec<(String, String)>| -> Vec<(String, String)> { v };
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            pairs(at_path("models/gpt2/", None).unwrap()),
            [
                s("config.json", "config.json"),
                s("model.safetensors", "model.safetensors"),
                s("tokenizer.json", "tokenizer.json")
            ]
        );
        assert_eq!(
            at_path("m/stories15M.bin", Some("../tok/llama.bin")).unwrap(),
            [
                s("stories15M.bin", "stories15M.bin"),
                s("tokenizer.bin", "../tok/llama.bin")
            ]
        );
        assert_eq!(
            at_path("m/stories15M.bin", Some("")).unwrap()[1],
            s("tokenizer.bin", "tokenizer.bin")
        );
        assert_eq!(
            at_path("mine.safetensors", None).unwrap(),
            [s("mine.safetensors", "mine.safetensors")]
        );
        assert_eq!(
            optional_at_path("models/qwen/"),
            [
                s("generation_config.json", "generation_config.json"),
                s("tokenizer_config.json", "tokenizer_config.json"),
                s("chat_template.jinja", "chat_template.jinja")
            ]
        );
        assert!(optional_at_path("m/x.bin").is_empty());
        let e = at_path("notes.txt", None).unwrap_err();
        assert_eq!(e.code(), Some(Code::ModelBadPath));
        // What a path names, identify reads as the same format.
        assert_eq!(
            at_path("m/qwen.gguf", None).unwrap(),
            [s("qwen.gguf", "qwen.gguf")]
        );
        for path in ["models/gpt2/", "m/x.bin", "m/x.safetensors", "m/x.gguf"] {
            let names: Vec<String> = at_path(path, None)
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            assert!(identify(&names).is_ok(), "{path}");
        }
    }
}
