//! Reading a `tokenizer.json` without building a JSON tree of the whole file: the vocabulary is
//! read straight into its map, and each merge is turned into three ids as it is read, so the
//! transient memory stays a small multiple of the file (a `serde_json::Value` tree of every
//! token and merge costs many times the file: docs/formats.md). The pipeline's components
//! (normalizer, pre-tokenizer, post-processor, decoder) and the added tokens are small, and are
//! read as JSON values.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::table::TokenTable;
use crate::error::{brief, Error, Result};
use crate::limits::MAX_MODEL_VOCAB;

/// The parts of a `tokenizer.json`.
#[derive(Default)]
pub(super) struct File {
    pub added_tokens: Option<Value>,
    pub normalizer: Option<Value>,
    pub pre_tokenizer: Option<Value>,
    pub post_processor: Option<Value>,
    pub decoder: Option<Value>,
    pub model: Option<Model>,
}

/// The `model` object: its small fields as JSON, its vocabulary and merges read into ids.
#[derive(Default)]
pub(super) struct Model {
    /// Every field but `vocab` and `merges`.
    pub fields: serde_json::Map<String, Value>,
    pub vocab: Option<TokenTable>,
    /// (left id, right id) → (rank, merged id); of two equal pairs the later one, as in
    /// `tokenizers`.
    pub merges: Option<Merges>,
    /// Merges read before the vocabulary (a file with `merges` first, as `serde_json` writes
    /// its sorted maps), resolved afterwards: their tokens one after another in `pending_text`,
    /// and each merge's (start, length of a, length of b) in it.
    pub pending: Vec<(u32, u32, u32)>,
    pub pending_text: String,
}

/// The merges as the model looks them up.
pub(super) type Merges = HashMap<(u32, u32), (u32, u32)>;

/// The error for a bad `tokenizer.json`.
pub(super) fn bad(what: impl fmt::Display) -> Error {
    Error::new(format!("tokenizer.json: {what}"))
}

/// A token as an error quotes it: in quotes, cut short.
pub(super) fn quoted(token: &str) -> String {
    brief(&format_args!("{token:?}"))
}

/// Reads the file. Errors name the field.
pub(super) fn read(bytes: &[u8]) -> Result<File> {
    let failure = Ctx {
        error: RefCell::new(None),
        budget: Cell::new(2 * bytes.len() + 65_536),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = FileSeed(&failure)
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f));
    match parsed {
        Ok(mut file) => {
            if let Some(model) = file.model.as_mut() {
                resolve_pending(model)?;
            }
            Ok(file)
        }
        Err(e) => Err(match failure.error.into_inner() {
            Some(mine) => mine,
            None if e.is_data() => bad(format!("{e}")),
            None => bad(format!("not valid JSON: {e}")),
        }),
    }
}

/// What the parse shares: the error that stopped it, and the bytes its JSON values may still
/// take (twice the file, so that with the tokens and merges the whole stays within a small
/// multiple of it: a component of millions of values is refused, not built).
struct Ctx {
    error: RefCell<Option<Error>>,
    budget: Cell<usize>,
}

type Failure<'f> = &'f Ctx;

/// Stops the parse with `error`, kept aside so that serde's position suffix does not reach it.
fn fail<E: de::Error>(failure: Failure, error: Error) -> E {
    *failure.error.borrow_mut() = Some(error);
    E::custom("tokenizer.json")
}

/// Reads any JSON value as a [`Value`], charging an estimate of its memory to `budget`
/// (`field`'s error when it runs out).
struct Bounded<'f, 'b> {
    failure: Failure<'f>,
    budget: &'b Cell<usize>,
    field: &'b dyn Fn() -> String,
}

impl Bounded<'_, '_> {
    fn charge<E: de::Error>(&self, bytes: usize) -> std::result::Result<(), E> {
        // A Value, or a map entry, is about 32 to 80 bytes beside its text.
        let cost = 64 + bytes;
        match self.budget.get().checked_sub(cost) {
            Some(left) => {
                self.budget.set(left);
                Ok(())
            }
            None => Err(fail(
                self.failure,
                bad(format!(
                    "{} is too large: its JSON values would take more than twice the file's size",
                    (self.field)()
                )),
            )),
        }
    }

    fn again(&self) -> Bounded<'_, '_> {
        Bounded {
            failure: self.failure,
            budget: self.budget,
            field: self.field,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Value, E> {
        self.charge(0)?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Value, E> {
        self.charge(0)?;
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        self.charge(0)?;
        Ok(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Value, E> {
        self.charge(v.len())?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        self.charge(0)?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.again())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        self.charge(0)?;
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            self.charge(k.len())?;
            let v = map.next_value_seed(self.again())?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// A small value read on its own budget (a vocabulary id, one merge): at most 4 KB of JSON
/// values, whatever the file's size.
fn small<'de, A: MapAccess<'de>>(
    map: &mut A,
    failure: Failure,
    field: &dyn Fn() -> String,
) -> std::result::Result<Value, A::Error> {
    let budget = Cell::new(4096);
    map.next_value_seed(Bounded {
        failure,
        budget: &budget,
        field,
    })
}

/// The visit methods of a value that is not what `$field` must be: an error naming the field
/// and the value.
macro_rules! refuse_others {
    ($field:literal, $want:literal) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Self::Value, E> {
            Err(fail(
                self.failure(),
                bad(format!("{} is {v}, not {}", $field, $want)),
            ))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
            Err(fail(
                self.failure(),
                bad(format!("{} is {v}, not {}", $field, $want)),
            ))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
            Err(fail(
                self.failure(),
                bad(format!("{} is {v}, not {}", $field, $want)),
            ))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
            Err(fail(
                self.failure(),
                bad(format!("{} is {v}, not {}", $field, $want)),
            ))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            let v = quoted(v);
            Err(fail(
                self.failure(),
                bad(format!("{} is {v}, not {}", $field, $want)),
            ))
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Err(fail(
                self.failure(),
                bad(format!("{} is null, not {}", $field, $want)),
            ))
        }
    };
}

struct FileSeed<'f>(Failure<'f>);

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = File;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<File, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = File;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<File, A::Error> {
        let mut file = File::default();
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "added_tokens" => &mut file.added_tokens,
                "normalizer" => &mut file.normalizer,
                "pre_tokenizer" => &mut file.pre_tokenizer,
                "post_processor" => &mut file.post_processor,
                "decoder" => &mut file.decoder,
                "model" => {
                    file.model = Some(map.next_value_seed(ModelSeed(self.0))?);
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let field = || key.clone();
            *slot = Some(map.next_value_seed(Bounded {
                failure: self.0,
                budget: &self.0.budget,
                field: &field,
            })?);
        }
        Ok(file)
    }
    refuse_others!("the file", "a JSON object");
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<File, A::Error> {
        // Read to its end first, so that a file cut short is said to be invalid JSON.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Err(fail(self.0, bad("the file is a list, not a JSON object")))
    }
}

struct ModelSeed<'f>(Failure<'f>);

impl<'f> FileSeed<'f> {
    fn failure(&self) -> Failure<'f> {
        self.0
    }
}

impl<'f> ModelSeed<'f> {
    fn failure(&self) -> Failure<'f> {
        self.0
    }
}

impl<'f> VocabSeed<'f> {
    fn failure(&self) -> Failure<'f> {
        self.0
    }
}

impl<'f> MergesSeed<'f, '_> {
    fn failure(&self) -> Failure<'f> {
        self.failure
    }
}

impl<'de> DeserializeSeed<'de> for ModelSeed<'_> {
    type Value = Model;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Model, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ModelSeed<'_> {
    type Value = Model;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Model, A::Error> {
        let mut model = Model::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "vocab" => model.vocab = Some(map.next_value_seed(VocabSeed(self.0))?),
                "merges" => {
                    let seed = MergesSeed {
                        failure: self.0,
                        vocab: model.vocab.as_ref(),
                        pending: &mut model.pending,
                        pending_text: &mut model.pending_text,
                    };
                    model.merges = Some(map.next_value_seed(seed)?);
                }
                _ => {
                    let field = || format!("model.{key}");
                    let v = map.next_value_seed(Bounded {
                        failure: self.0,
                        budget: &self.0.budget,
                        field: &field,
                    })?;
                    model.fields.insert(key, v);
                }
            }
        }
        Ok(model)
    }
    refuse_others!("model", "an object");
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<Model, A::Error> {
        Err(fail(self.0, bad("model is a list, not an object")))
    }
}

struct VocabSeed<'f>(Failure<'f>);

impl<'de> DeserializeSeed<'de> for VocabSeed<'_> {
    type Value = TokenTable;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for VocabSeed<'_> {
    type Value = TokenTable;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of token: id")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut table = TokenTable::default();
        let mut count = 0usize;
        while let Some(token) = map.next_key::<String>()? {
            if count == MAX_MODEL_VOCAB {
                return Err(fail(
                    self.0,
                    bad(format!(
                        "model.vocab has more than {MAX_MODEL_VOCAB} tokens; at most \
                         {MAX_MODEL_VOCAB} are accepted"
                    )),
                ));
            }
            count += 1;
            let field = || format!("model.vocab[{}]", quoted(&token));
            let v = small(&mut map, self.0, &field)?;
            let id = match v.as_u64() {
                Some(id) if (id as usize) < MAX_MODEL_VOCAB => id as u32,
                _ => {
                    return Err(fail(
                        self.0,
                        bad(format!(
                            "{} is {}; an id must be an integer in [0, {MAX_MODEL_VOCAB})",
                            field(),
                            brief(&v)
                        )),
                    ))
                }
            };
            table
                .place(id, &token, &field)
                .map_err(|e| fail::<A::Error>(self.0, e))?;
        }
        table.index().map_err(|e| fail::<A::Error>(self.0, e))?;
        Ok(table)
    }
    refuse_others!("model.vocab", "an object");
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<Self::Value, A::Error> {
        Err(fail(self.0, bad("model.vocab is a list, not an object")))
    }
}

struct MergesSeed<'f, 'm> {
    failure: Failure<'f>,
    vocab: Option<&'m TokenTable>,
    pending: &'m mut Vec<(u32, u32, u32)>,
    pending_text: &'m mut String,
}

impl<'de> DeserializeSeed<'de> for MergesSeed<'_, '_> {
    type Value = Merges;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MergesSeed<'_, '_> {
    type Value = Merges;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of merges")
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Merges::new();
        let mut rank = 0usize;
        loop {
            let budget = Cell::new(4096);
            let field = || format!("model.merges[{rank}]");
            let seed = Bounded {
                failure: self.failure,
                budget: &budget,
                field: &field,
            };
            let Some(m) = seq.next_element_seed(seed)?.map(MergeJson::from) else {
                break;
            };
            let (a, b) = m.pair().map_err(|what| {
                fail::<A::Error>(self.failure, bad(format!("model.merges[{rank}] = {what}")))
            })?;
            match self.vocab {
                Some(vocab) => {
                    let (x, y, m) = resolve(vocab, rank, &a, &b)
                        .map_err(|e| fail::<A::Error>(self.failure, e))?;
                    out.insert((x, y), (rank as u32, m));
                }
                None => {
                    let start = self.pending_text.len();
                    if start + a.len() + b.len() > u32::MAX as usize {
                        return Err(fail(self.failure, bad("model.merges is too long")));
                    }
                    self.pending_text.push_str(&a);
                    self.pending_text.push_str(&b);
                    self.pending
                        .push((start as u32, a.len() as u32, b.len() as u32));
                }
            }
            rank += 1;
        }
        Ok(out)
    }
    refuse_others!("model.merges", "a list");
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> std::result::Result<Self::Value, A::Error> {
        Err(fail(
            self.failure,
            bad("model.merges is an object, not a list"),
        ))
    }
}

/// One merge as written: `"a b"` or `["a", "b"]`, or something else (kept to be named).
enum MergeJson {
    Joined(String),
    Pair(Vec<Value>),
    Other(String),
}

impl MergeJson {
    fn pair(self) -> std::result::Result<(String, String), String> {
        match self {
            MergeJson::Joined(s) => {
                let mut parts = s.split(' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(a), Some(b), None) => Ok((a.to_string(), b.to_string())),
                    _ => Err(format!(
                        "{} is not two tokens separated by one space",
                        quoted(&s)
                    )),
                }
            }
            MergeJson::Pair(v) => match <[Value; 2]>::try_from(v) {
                Ok([Value::String(a), Value::String(b)]) => Ok((a, b)),
                Ok(v) => Err(format!(
                    "{} is not a pair of tokens",
                    brief(&Value::from(v.to_vec()))
                )),
                Err(v) => Err(format!(
                    "{} is not a pair of tokens",
                    brief(&Value::from(v))
                )),
            },
            MergeJson::Other(what) => Err(format!("{what} is neither \"a b\" nor [\"a\", \"b\"]")),
        }
    }
}

impl From<Value> for MergeJson {
    fn from(v: Value) -> MergeJson {
        match v {
            Value::String(s) => MergeJson::Joined(s),
            Value::Array(a) => MergeJson::Pair(a),
            v => MergeJson::Other(brief(&v)),
        }
    }
}

/// The ids of merge `rank` = (a, b): a's, b's and the merged token's.
fn resolve(vocab: &TokenTable, rank: usize, a: &str, b: &str) -> Result<(u32, u32, u32)> {
    let lookup = |t: &str| {
        vocab.get(t).ok_or_else(|| {
            bad(format!(
                "model.merges[{rank}]: {} is not in model.vocab",
                quoted(t)
            ))
        })
    };
    let merged = lookup(&format!("{a}{b}"))?;
    Ok((lookup(a)?, lookup(b)?, merged))
}

/// Merges that came before the vocabulary in the file, resolved now.
fn resolve_pending(model: &mut Model) -> Result<()> {
    if model.pending.is_empty() {
        return Ok(());
    }
    let Some(vocab) = model.vocab.as_ref() else {
        return Ok(());
    };
    let pending = std::mem::take(&mut model.pending);
    let text = std::mem::take(&mut model.pending_text);
    let mut merges = Merges::with_capacity(pending.len());
    for (rank, &(start, la, lb)) in pending.iter().enumerate() {
        let (start, mid, end) = (
            start as usize,
            (start + la) as usize,
            (start + la + lb) as usize,
        );
        let (x, y, m) = resolve(vocab, rank, &text[start..mid], &text[mid..end])?;
        merges.insert((x, y), (rank as u32, m));
    }
    model.merges = Some(merges);
    Ok(())
}
