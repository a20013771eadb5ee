//! One error type for the whole crate. Every message names the argument that was wrong and the
//! range it takes, because the message is what a student sees in the browser console.

use std::fmt;

/// An error with a human-readable message, e.g.
/// `temperature must be a finite number >= 0 (0 = greedy), got -1`, and, for an error a
/// student can cause from the page, a [`Code`] with its parameters: the page shows the message
/// its catalogue holds for that code (`error.<code>`), in the page's language, and the English
/// message only for an error without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    code: Option<Code>,
    params: Vec<(&'static str, Param)>,
}

/// A parameter of a coded error: what the catalogue's message fills in at `{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// A count or a size: the page writes it as it writes numbers (digits grouped).
    Int(i64),
    /// Text quoted as it is: what the student typed, a character, and an id or an index,
    /// which the page writes as its id columns do (never grouped).
    Text(String),
}

impl From<usize> for Param {
    fn from(n: usize) -> Self {
        Param::Int(n as i64)
    }
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}

/// Declares [`Code`] with its wire names and parameter names; [`Code::ALL`] lists every variant
/// by construction.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal [$($param:literal),*],)*) => {
        /// What went wrong, for the page: each code has a message `error.<name>` in every
        /// catalogue (www/i18n/*.js), which may use the code's parameters, `{index}` etc.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, so a test can check that each has its catalogue messages.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The name the page looks up, e.g. `values.notNumber`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The names of the parameters an error with this code carries, in order.
            pub fn params(self) -> &'static [&'static str] {
                match self {
                    $(Code::$variant => &[$($param),*],)*
                }
            }
        }
    };
}

codes! {
    /// A typed vector with no entry.
    ValuesEmpty = "values.empty" [],
    /// An entry that is not a number: its index (from 0) and the entry as typed.
    ValuesNotNumber = "values.notNumber" ["index", "value"],
    /// `x*n` whose n is not an integer ≥ 1.
    ValuesBadCount = "values.badCount" ["item"],
    /// More entries than accepted.
    ValuesTooMany = "values.tooMany" ["max"],
    /// An entry with a dot in a decimal comma's notation, e.g. `0.5`.
    ValuesDotInCommaNotation = "values.dotInCommaNotation" ["item"],
    /// An entry with several commas in a decimal comma's notation, e.g. `2,1,0,5`.
    ValuesManyCommas = "values.manyCommas" ["item"],
    /// An entry ending in a comma in a decimal comma's notation, as in `1, 2`.
    ValuesTrailingComma = "values.trailingComma" ["item"],
    /// A decimal point's notation with `;` between entries and a comma between two digits,
    /// as in `1; 1,001`.
    ValuesAmbiguousComma = "values.ambiguousComma" ["item"],
    /// An entry of +∞, which no distribution can hold.
    ValuesPositiveInfinity = "values.positiveInfinity" ["index"],
    /// Every entry −∞.
    ValuesAllNegativeInfinity = "values.allNegativeInfinity" [],
    /// A target id outside [0, C).
    TargetOutOfRange = "target.outOfRange" ["target", "classes"],
    /// Label smoothing ε > 0 with nll, which takes none.
    LossNllSmoothing = "loss.nllSmoothing" [],
    /// A character the model's vocabulary lacks: the character, `U+XXXX`, its position (from
    /// 0) and the vocabulary's size.
    TextUnknownCharacter = "text.unknownCharacter" ["char", "unicode", "position", "size"],
    /// A character that a SentencePiece model can spell neither as a piece nor as bytes.
    TextUnspellable = "text.unspellable" ["char"],
    /// A text longer than accepted.
    TextTooLong = "text.tooLong" ["bytes", "max"],
    /// An empty prompt where a generation needs one.
    PromptEmpty = "prompt.empty" [],
    /// A training text with too few or too many distinct characters.
    TrainTextCharacters = "train.textCharacters" ["chars", "distinct", "max"],
    /// A training text whose training part (the first 90%) is too short for the model's
    /// context: the part's characters, and how many it needs.
    TrainTextShort = "train.textShort" ["chars", "needed"],
    /// … whose validation part (the last 10%) is.
    TrainValidationShort = "train.validationShort" ["chars", "needed"],
    /// A training run whose loss became NaN or infinite, at its step.
    TrainDiverged = "train.diverged" ["step"],
    /// A model size and batch size whose step would need too much memory.
    TrainTooLarge = "train.tooLarge" [],
    /// Files that make no model the lab reads: their names, cut short (see [`brief_list`]).
    ModelNotAModel = "model.notAModel" ["files"],
    /// No file at all (an empty folder, an empty selection).
    ModelNoFiles = "model.noFiles" [],
    /// A Hugging Face folder without one of its three files.
    ModelHfMissing = "model.hfMissing" ["file"],
    /// A llama2.c checkpoint without its `tokenizer.bin`.
    ModelLlama2cTokenizer = "model.llama2cTokenizer" ["model"],
    /// Several llama2.c checkpoints at once.
    ModelLlama2cOneBin = "model.llama2cOneBin" ["files"],
    /// A `?model=` path that names no model file.
    ModelBadPath = "model.badPath" ["path"],
    /// A Hugging Face `config.json` of an architecture the lab does not compute: its name (the
    /// catalogue lists the supported ones).
    ModelArchitecture = "model.architecture" ["architecture"],
    /// A field a model's config file must have and lacks: the file and the field.
    ModelConfigMissing = "model.configMissing" ["file", "field"],
    /// A config field of the wrong type or outside its range, or a name the lab does not
    /// know (an unknown `rope_scaling` type): the file, the field and its value.
    ModelConfigValue = "model.configValue" ["file", "field", "value"],
    /// Two config fields that cannot both hold (heads that do not divide the width, key/value
    /// heads that do not divide the heads): the file, the field, its value and the other
    /// field with its value.
    ModelConfigMismatch = "model.configMismatch" ["file", "field", "value", "other"],
    /// A Qwen config with sliding-window attention (`use_sliding_window` true).
    ModelSlidingWindow = "model.slidingWindow" [],
    /// A tensor the config needs that `model.safetensors` lacks.
    ModelTensorMissing = "model.tensorMissing" ["tensor"],
    /// A tensor of another shape than the config implies: the tensor, its shape, the shape
    /// expected.
    ModelTensorShape = "model.tensorShape" ["tensor", "shape", "expected"],
    /// A tensor of a dtype the lab does not compute with (not F32, F16 or BF16, or another
    /// than the other weights'): the tensor and its dtype.
    ModelTensorDtype = "model.tensorDtype" ["tensor", "dtype"],
    /// A GGUF file's header field, metadata value, tensor info or length outside its range:
    /// what (`tensor blk.0.attn_q.weight's offset`, `metadata tokenizer.ggml.tokens`), the
    /// value found, and what is accepted.
    ModelGguf = "model.gguf" ["field", "value", "expected"],
    /// Several `.gguf` files at once: their names, cut short.
    ModelGgufOneFile = "model.ggufOneFile" ["files"],
    /// A GGUF tensor of a type the lab does not compute with: the tensor, its type (`IQ2_XS`)
    /// and the types supported.
    ModelGgufTensorType = "model.ggufTensorType" ["tensor", "type", "supported"],
    /// A model that cannot be written as a GGUF file (`Model.toGguf`): why (its family, its
    /// tokenizer, its rope scaling).
    ModelGgufExport = "model.ggufExport" ["reason"],
    /// A chat asked of a model whose `tokenizer_config.json` has no `chat_template`.
    ChatNoTemplate = "chat.noTemplate" [],
    /// A chat template that fails: a syntax error, or its own `raise_exception`: what it said.
    ChatTemplate = "chat.template" ["file", "detail"],
    /// A chat template, or a conversation, past its bounds (bytes written, steps taken, bytes
    /// of text given): the byte cap.
    ChatTooLong = "chat.tooLong" ["max"],
    /// A sampler chain named by a string that is no preset.
    ChainPreset = "chain.preset" ["name"],
    /// A chain step whose `kind` is unknown: the step's index and number, and what it held.
    /// Every chain error that names a step gives its `index` in the array, from 0 (as the
    /// English message's `chain[i]`), and its `step` number in the page's list, from 1.
    ChainUnknownKind = "chain.unknownKind" ["index", "step", "kind"],
    /// A chain step without a `kind`: the step's index and number.
    ChainMissingKind = "chain.missingKind" ["index", "step"],
    /// A chain step's list parameter (DRY's `breakers`, `logitBias`'s `bias`) with more
    /// entries than accepted: the step's index, number and kind, the field, its count and the
    /// cap.
    ChainTooMany = "chain.tooMany" ["index", "step", "kind", "field", "count", "max"],
    /// A `logitBias` step naming an id beyond the vocabulary: the step's index and number, the
    /// id and V.
    ChainBiasId = "chain.biasId" ["index", "step", "id", "vocab"],
    /// A sampler's history (the token ids so far) longer than accepted: its length and the cap.
    HistoryTooLong = "history.tooLong" ["count", "max"],
    /// A chain step with a field its kind does not have.
    ChainUnknownField = "chain.unknownField" ["index", "step", "kind", "field"],
    /// A chain step's parameter outside its range: the step's index, number and kind, the
    /// field, the range in words and the value given.
    ChainBadParam = "chain.badParam" ["index", "step", "kind", "field", "range", "value"],
    /// A Mirostat step (which selects the token) before the end of the chain.
    ChainSelectorLast = "chain.selectorLast" ["index", "step", "kind"],
    /// A chain step that removed every id left (a ban on each, every n-gram repeated).
    ChainAllCut = "chain.allCut" ["index", "step", "kind"],
    /// A chain longer than accepted.
    ChainTooLong = "chain.tooLong" ["max"],
    /// A chain's URL form that does not read.
    ChainUrl = "chain.url" ["text"],
    /// A `tokenizer.json` component, option or Split regex the lab does not implement: the
    /// field, its value (quoted) and what is supported.
    TokenizerUnsupported = "tokenizer.unsupported" ["field", "value", "supported"],
    /// A Split pre-tokenizer's regex other than those the lab implements: the field.
    TokenizerSplitRegex = "tokenizer.splitRegex" ["field"],
    /// A config.json without head_dim whose heads come out of an odd width: hidden_size, the
    /// heads and the width.
    ModelHeadWidth = "model.headWidth" ["embd", "heads", "width"],
    /// `model.quantize` on a model whose family the quantised kernels do not compute: its
    /// architecture.
    /// `model.quantize` whose two models' weights would pass their cap: the bytes, the cap.
    QuantizeTooLarge = "quantize.tooLarge" ["bytes", "max"],
    /// A Replace's regex that matches more than one fixed string: the field.
    TokenizerReplaceRegex = "tokenizer.replaceRegex" ["field"],
}

/// Parameters whose text is the lab's own, never the caller's, or a list [`brief_list`] has
/// already cut: not shortened.
const LAB_OWN_PARAMS: [&str; 4] = ["supported", "range", "expected", "files"];

/// Parameters that quote a sentence of a file's author (a chat template's own error): cut at
/// [`BRIEF_DETAIL_CHARS`] rather than [`BRIEF_CHARS`], so that it still reads.
const SENTENCE_PARAMS: [&str; 1] = ["detail"];

/// How many characters of a file author's sentence an error quotes.
pub const BRIEF_DETAIL_CHARS: usize = 240;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            code: None,
            params: Vec::new(),
        }
    }

    /// `argument` must satisfy `range`, but was `got`.
    pub fn arg(argument: &str, range: &str, got: impl fmt::Display) -> Self {
        Error::new(format!("{argument} must be {range}, got {}", brief(&got)))
    }

    /// The same error, with the code and parameters the page words it by.
    pub fn coded<const N: usize>(mut self, code: Code, params: [(&'static str, Param); N]) -> Self {
        debug_assert!(
            params
                .iter()
                .map(|(name, _)| *name)
                .eq(code.params().iter().copied()),
            "{code:?} takes {:?}",
            code.params()
        );
        self.code = Some(code);
        // A parameter quotes what the caller gave: a short excerpt of it, as the message does.
        // What the lab itself says (what it supports, a range, a shape it expects) stays whole.
        self.params = params
            .into_iter()
            .map(|(name, p)| match p {
                Param::Text(t) if SENTENCE_PARAMS.contains(&name) => {
                    (name, Param::Text(brief_to(&t, BRIEF_DETAIL_CHARS)))
                }
                Param::Text(t) if !LAB_OWN_PARAMS.contains(&name) => (name, Param::Text(brief(&t))),
                p => (name, p),
            })
            .collect();
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn code(&self) -> Option<Code> {
        self.code
    }

    pub fn params(&self) -> &[(&'static str, Param)] {
        &self.params
    }

    /// The same code and parameters, with `context` before the message (`"row 0: …"`).
    pub fn context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(feature = "train")]
impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::new(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How many names of a list an error message quotes.
pub const BRIEF_NAMES: usize = 5;

/// A list of names as an error message quotes it: the first [`BRIEF_NAMES`], each cut by
/// [`brief`], then "… (+N)", so that a folder of 10 000 files does not become the message (in no
/// language: the page's catalogues quote it as it is).
pub fn brief_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut shown = Vec::new();
    let mut more = 0usize;
    for n in names {
        if shown.len() < BRIEF_NAMES {
            shown.push(brief(&n));
        } else {
            more += 1;
        }
    }
    let list = shown.join(", ");
    if more > 0 {
        format!("{list}, … (+{more})")
    } else {
        list
    }
}

/// How many characters of a wrong value an error message quotes.
pub const BRIEF_CHARS: usize = 60;

/// `value` as an error message quotes it: at most [`BRIEF_CHARS`] characters, then `…`, so
/// that a wrong value as large as the file it came from (a JSON subtree, a 1 MB token, a whole
/// text) does not become the message. Stops formatting there rather than formatting it all.
pub fn brief(value: &dyn fmt::Display) -> String {
    brief_to(value, BRIEF_CHARS)
}

/// [`brief`] at `max` characters.
pub fn brief_to(value: &dyn fmt::Display, max: usize) -> String {
    struct Capped {
        max: usize,
        out: String,
        chars: usize,
        cut: bool,
    }
    impl fmt::Write for Capped {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if self.chars == self.max {
                    self.cut = true;
                    return Err(fmt::Error);
                }
                self.out.push(c);
                self.chars += 1;
            }
            Ok(())
        }
    }
    let mut w = Capped {
        max,
        out: String::new(),
        chars: 0,
        cut: false,
    };
    let _ = fmt::write(&mut w, format_args!("{value}"));
    if w.cut {
        w.out.push('…');
    }
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's catalogues: every message by key.
    const CATALOGUES: [(&str, &str); 2] = [
        ("en", include_str!("../www/i18n/en.js")),
        ("vi", include_str!("../www/i18n/vi.js")),
    ];

    /// The message `key` of a catalogue's source, if it has one.
    fn message(catalogue: &str, key: &str) -> Option<String> {
        let start = catalogue.find(&format!("\n  \"{key}\": \""))? + key.len() + 8;
        let mut out = String::new();
        let mut chars = catalogue[start..].chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        None
    }

    /// The codes the page's own scripts give the errors they raise: `coded('prompt.empty', …)`.
    fn page_codes() -> Vec<String> {
        let www = concat!(env!("CARGO_MANIFEST_DIR"), "/www");
        let mut codes = Vec::new();
        for entry in std::fs::read_dir(www).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "js") {
                let src = std::fs::read_to_string(&path).unwrap();
                for part in src.split("coded('").skip(1) {
                    codes.push(part.split('\'').next().unwrap().to_string());
                }
            }
        }
        codes
    }

    #[test]
    fn every_error_code_has_a_message_in_every_catalogue() {
        let page = page_codes();
        assert!(page.iter().any(|c| c == "prompt.empty"), "{page:?}");
        for (lang, catalogue) in CATALOGUES {
            for code in Code::ALL {
                let key = format!("error.{}", code.name());
                let m = message(catalogue, &key).unwrap_or_else(|| panic!("{lang}: no {key}"));
                // Only the parameters the error carries.
                for part in m.split('{').skip(1) {
                    let name = part.split('}').next().unwrap();
                    assert!(
                        code.params().contains(&name),
                        "{lang}: {key} uses {{{name}}}"
                    );
                }
            }
            for code in &page {
                let key = format!("error.{code}");
                assert!(message(catalogue, &key).is_some(), "{lang}: no {key}");
            }
        }
        // The catalogue reader itself: it finds a message, and no message for a made-up key.
        assert_eq!(
            message(CATALOGUES[0].1, "number.decimal").as_deref(),
            Some(".")
        );
        assert_eq!(message(CATALOGUES[0].1, "error.no.such.code"), None);
    }

    #[test]
    fn a_coded_error_keeps_its_message_and_carries_its_parameters() {
        let e = Error::new("z[1] is \"oops\", not a number").coded(
            Code::ValuesNotNumber,
            [("index", 1usize.into()), ("value", "oops".into())],
        );
        assert_eq!(e.to_string(), "z[1] is \"oops\", not a number");
        assert_eq!(e.code().map(Code::name), Some("values.notNumber"));
        assert_eq!(e.params()[1], ("value", Param::Text("oops".into())));
        let e = e.context("row 0");
        assert_eq!(
            (e.message(), e.code()),
            (
                "row 0: z[1] is \"oops\", not a number",
                Some(Code::ValuesNotNumber)
            )
        );
        assert_eq!(Error::new("x").code(), None);
        let names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    /// A value the caller gave is cut short; what the lab supports is said whole.
    #[test]
    fn coded_parameters_quote_the_caller_briefly_and_the_lab_whole() {
        let long = "x".repeat(500);
        let supported =
            "NFC, Prepend, Replace, Sequence, and every other normalizer it knows".repeat(2);
        let e = Error::new("m").coded(
            Code::TokenizerUnsupported,
            [
                ("field", "normalizer.type".into()),
                ("value", long.as_str().into()),
                ("supported", supported.as_str().into()),
            ],
        );
        let text = |i: usize| match &e.params()[i].1 {
            Param::Text(t) => t.clone(),
            p => panic!("{p:?}"),
        };
        assert!(text(1).chars().count() < 70, "{}", text(1));
        assert_eq!(text(2), supported);
    }

    #[test]
    fn brief_cuts_long_values() {
        assert_eq!(brief(&"short"), "short");
        assert_eq!(brief(&format_args!("{:?}", "é")), "\"é\"");
        let long = "é".repeat(100);
        assert_eq!(brief(&long), "é".repeat(BRIEF_CHARS) + "…");
        assert_eq!(brief(&"x".repeat(BRIEF_CHARS)), "x".repeat(BRIEF_CHARS));
    }
}
