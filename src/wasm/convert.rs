//! What every binding shares: JS values to Rust (vectors, ids, bytes, strings, options objects,
//! integers in a range), each checked before use, errors to JS (`js_err`, with the error's
//! code and parameters for the page), and Rust results back to JS (`to_js`).

use js_sys::{Float32Array, Int32Array, Object, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Param};
use crate::wasm::js_value::{
    self, array_length, bytes_of, element, is_array, snapshot, Holder, Kind,
};

/// A JS Error whose `message` is the English message (the API's contract). A coded error also
/// carries `code` (e.g. "values.notNumber") and `params` ({ index: 1, value: "oops" }): the
/// page shows its catalogue's `error.<code>` in the page's language instead.
pub(crate) fn js_err(e: Error) -> JsError {
    let err = JsError::new(e.message());
    if let Some(code) = e.code() {
        // A clone of a JsError is another handle on the same JS object.
        let obj = JsValue::from(err.clone());
        let params = Object::new();
        for (name, value) in e.params() {
            let v = match value {
                Param::Int(n) => JsValue::from_f64(*n as f64),
                Param::Text(s) => JsValue::from_str(s),
            };
            let _ = Reflect::set(&params, &JsValue::from_str(name), &v);
        }
        let _ = Reflect::set(&obj, &"code".into(), &code.name().into());
        let _ = Reflect::set(&obj, &"params".into(), &params);
    }
    err
}

/// A few words on what `v` is, for an error, read without running any of the caller's code.
pub(crate) fn describe(v: &JsValue) -> String {
    if v.is_undefined() {
        "undefined".into()
    } else if v.is_null() {
        "null".into()
    } else if let Some(s) = v.as_string() {
        let s: String = s.chars().take(40).collect();
        format!("the string {s:?}")
    } else if let Some(x) = v.as_f64() {
        format!("{x}")
    } else if let Some((holder, _)) = bytes_of(v) {
        match holder {
            Holder::Typed(kind) => kind.named(),
            Holder::Buffer => "an ArrayBuffer".into(),
            Holder::Data => "a DataView".into(),
        }
    } else if is_array(v) {
        "an array".into()
    } else {
        format!(
            "a value of type {}",
            v.js_typeof().as_string().unwrap_or_default()
        )
    }
}

/// A list of values from JS, its length checked against a cap: a typed array's bytes (in a
/// fresh view), or an array whose elements are read one by one.
enum List {
    Typed(Kind, Uint8Array),
    Array(usize),
}

impl List {
    fn len(&self) -> usize {
        match self {
            List::Typed(kind, bytes) => bytes.length() as usize / kind.width(),
            List::Array(len) => *len,
        }
    }
}

/// `v` as a [`List`] of at most `cap` entries (`{arg} has N entries; at most CAP are
/// accepted`), or an error saying it must be `expected`.
fn list(arg: &str, v: &JsValue, cap: usize, expected: &str) -> Result<List, JsError> {
    let list = match bytes_of(v) {
        Some((Holder::Typed(kind), bytes)) => List::Typed(kind, bytes),
        Some(_) => return Err(must_be(arg, expected, v)),
        None if is_array(v) => {
            List::Array(array_length(v).map_err(|e| JsError::new(&format!("{arg}: {e}")))?)
        }
        None => return Err(must_be(arg, expected, v)),
    };
    if list.len() > cap {
        return Err(JsError::new(&format!(
            "{arg} has {} entries; at most {cap} are accepted",
            list.len()
        )));
    }
    Ok(list)
}

/// How many entries `v` holds as a list (see [`list`]), before anything is read or capped.
pub(crate) fn list_length(arg: &str, v: &JsValue, expected: &str) -> Result<usize, JsError> {
    Ok(list(arg, v, usize::MAX, expected)?.len())
}

fn must_be(arg: &str, expected: &str, v: &JsValue) -> JsError {
    JsError::new(&format!("{arg} must be {expected}, got {}", describe(v)))
}

/// Element `i` of `list` (`v`'s) as a number, or why not.
fn number_at(arg: &str, v: &JsValue, list: &List, bytes: &[u8], i: usize) -> Result<f64, JsError> {
    match list {
        List::Typed(kind, _) => kind
            .number(bytes, i)
            .ok_or_else(|| JsError::new(&format!("{arg} must hold numbers, got {}", kind.named()))),
        List::Array(_) => {
            let x = element(v, i as u32).map_err(|e| JsError::new(&format!("{arg}{e}")))?;
            x.as_f64().ok_or_else(|| {
                JsError::new(&format!(
                    "{arg}[{i}] must be a number, got {}",
                    describe(&x)
                ))
            })
        }
    }
}

/// The bytes of a typed list (copied once); none for an array.
fn list_bytes(list: &List) -> Vec<u8> {
    match list {
        List::Typed(_, bytes) => bytes.to_vec(),
        List::Array(_) => Vec::new(),
    }
}

/// Reads a vector of numbers: a Float32Array, another typed array, or an array of numbers.
pub(crate) fn f32_vec(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<f32>, JsError> {
    let list = list(arg, v, cap, "a Float32Array or an array of numbers")?;
    if let List::Typed(Kind::Float32, bytes) = &list {
        // A Float32Array's bytes start at a multiple of 4.
        return Ok(Float32Array::new_with_byte_offset_and_length(
            &bytes.buffer(),
            bytes.byte_offset(),
            bytes.length() / 4,
        )
        .to_vec());
    }
    let bytes = list_bytes(&list);
    (0..list.len())
        .map(|i| number_at(arg, v, &list, &bytes, i).map(|x| x as f32))
        .collect()
}

/// Reads a string argument. Taking `&str` directly would let wasm-bindgen's glue hand a
/// non-string (a number, `null`) to the allocator as a string of undefined length, which traps
/// the module ("memory access out of bounds"); a `JsValue` is checked here instead.
pub(crate) fn string_arg(arg: &str, v: &JsValue) -> Result<String, JsError> {
    v.as_string()
        .ok_or_else(|| JsError::new(&format!("{arg} must be a string, got {}", describe(v))))
}

/// Reads bytes: a Uint8Array, an ArrayBuffer or a DataView (copied into wasm memory).
pub(crate) fn bytes_arg(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<u8>, JsError> {
    Ok(uint8_arg(arg, v, cap)?.to_vec())
}

/// A fresh Uint8Array view of a Uint8Array, an ArrayBuffer or a DataView of at most `cap`
/// bytes, left in JS memory. The type is checked by the built-in getters, before anything reads
/// it (a look-alike object such as `{ length, subarray }`, a proxy, or an array, is refused),
/// and the length before anything is copied.
pub(crate) fn uint8_arg(arg: &str, v: &JsValue, cap: usize) -> Result<Uint8Array, JsError> {
    let bytes = match bytes_of(v) {
        Some((Holder::Typed(Kind::Uint8) | Holder::Buffer | Holder::Data, bytes)) => bytes,
        _ => {
            return Err(must_be(
                arg,
                "a Uint8Array, an ArrayBuffer or a DataView",
                v,
            ))
        }
    };
    let len = bytes.length() as usize;
    if len > cap {
        return Err(JsError::new(&format!(
            "{arg} has {len} bytes; at most {cap} are accepted"
        )));
    }
    Ok(bytes)
}

/// Reads token ids: a Uint32Array, or an array or typed array of integers in [0, 2^32).
pub(crate) fn ids_arg(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<u32>, JsError> {
    let list = list(arg, v, cap, "a Uint32Array or an array of token ids")?;
    if let List::Typed(Kind::Uint32, bytes) = &list {
        return Ok(js_sys::Uint32Array::new_with_byte_offset_and_length(
            &bytes.buffer(),
            bytes.byte_offset(),
            bytes.length() / 4,
        )
        .to_vec());
    }
    let bytes = list_bytes(&list);
    (0..list.len())
        .map(|i| match number_at(arg, v, &list, &bytes, i) {
            Ok(x) if x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) => Ok(x as u32),
            Ok(x) => Err(JsError::new(&format!(
                "{arg}[{i}] must be a token id (an integer >= 0), got {x}"
            ))),
            Err(_) => Err(JsError::new(&format!(
                "{arg}[{i}] must be a token id (an integer >= 0), got {}",
                match &list {
                    List::Array(_) => element(v, i as u32).map_or_else(|e| e, |x| describe(&x)),
                    List::Typed(kind, _) => kind.named(),
                }
            ))),
        })
        .collect()
}

/// Reads a plain JS value (numbers, strings, booleans, null, arrays and typed arrays, plain
/// objects) as JSON, for a structure such as a sampler chain whose Rust reader names each bad
/// field itself. −Infinity becomes the string "-Infinity", and NaN and +Infinity the strings
/// "NaN" and "Infinity", so that no non-finite number passes for null. Nesting deeper than 8
/// and arrays longer than [`crate::limits::MAX_VALUES`] are refused; functions, symbols and
/// the like are errors naming where they are.
pub(crate) fn json_arg(arg: &str, v: &JsValue) -> Result<serde_json::Value, JsError> {
    use serde_json::Value;
    fn walk(at: &str, v: &JsValue, depth: usize) -> Result<Value, JsError> {
        if depth > 8 {
            return Err(JsError::new(&format!("{at} is nested too deeply")));
        }
        if v.is_undefined() || v.is_null() {
            return Ok(Value::Null);
        }
        if let Some(x) = v.as_f64() {
            // An integral number as an integer, so that it reads back (and is quoted) as JS
            // writes it: 5, not 5.0.
            if x.fract() == 0.0
                && x.abs() < 9.007_199_254_740_992e15
                && !(x == 0.0 && x.is_sign_negative())
            {
                return Ok(Value::Number((x as i64).into()));
            }
            return Ok(match serde_json::Number::from_f64(x) {
                Some(n) => Value::Number(n),
                None if x == f64::NEG_INFINITY => "-Infinity".into(),
                None if x.is_nan() => "NaN".into(),
                None => "Infinity".into(),
            });
        }
        if let Some(s) = v.as_string() {
            return Ok(Value::String(s));
        }
        if let Some(b) = v.as_bool() {
            return Ok(Value::Bool(b));
        }
        let number = |x: f64| match serde_json::Number::from_f64(x) {
            Some(n) => Value::Number(n),
            None if x == f64::NEG_INFINITY => "-Infinity".into(),
            None if x.is_nan() => "NaN".into(),
            None => "Infinity".into(),
        };
        if bytes_of(v).is_some() || is_array(v) {
            let expected = "a number, a string, an array or a plain object";
            let list = list(at, v, crate::limits::MAX_VALUES, expected)?;
            let bytes = list_bytes(&list);
            return (0..list.len())
                .map(|i| match list {
                    List::Typed(..) => number_at(at, v, &list, &bytes, i).map(number),
                    List::Array(_) => {
                        let x =
                            element(v, i as u32).map_err(|e| JsError::new(&format!("{at}{e}")))?;
                        walk(&format!("{at}[{i}]"), &x, depth + 1)
                    }
                })
                .collect::<Result<Vec<Value>, JsError>>()
                .map(Value::Array);
        }
        let unreadable = |e: String| JsError::new(&format!("{at}: {e}"));
        if v.is_object() && v.js_typeof() == "object" {
            let mut map = serde_json::Map::new();
            for name in js_value::keys(v, crate::limits::MAX_VALUES).map_err(unreadable)? {
                let x = js_value::field(v, &name).map_err(|e| JsError::new(&format!("{at}{e}")))?;
                if !x.is_undefined() {
                    map.insert(name.clone(), walk(&format!("{at}.{name}"), &x, depth + 1)?);
                }
            }
            return Ok(Value::Object(map));
        }
        Err(JsError::new(&format!(
            "{at} must be a number, a string, an array or a plain object, got {}",
            describe(v)
        )))
    }
    walk(arg, v, 0)
}

/// Reads integer targets: an Int32Array, another typed array or an array of integers.
pub(crate) fn i32_vec(arg: &str, v: &JsValue, cap: usize) -> Result<Vec<i32>, JsError> {
    let list = list(arg, v, cap, "an Int32Array or an array of integers")?;
    if let List::Typed(Kind::Int32, bytes) = &list {
        return Ok(Int32Array::new_with_byte_offset_and_length(
            &bytes.buffer(),
            bytes.byte_offset(),
            bytes.length() / 4,
        )
        .to_vec());
    }
    let bytes = list_bytes(&list);
    (0..list.len())
        .map(|i| {
            let x = number_at(arg, v, &list, &bytes, i)?;
            if x.fract() == 0.0 && x >= i32::MIN as f64 && x <= i32::MAX as f64 {
                Ok(x as i32)
            } else {
                Err(JsError::new(&format!(
                    "{arg}[{i}] must be an integer class index, got {x}"
                )))
            }
        })
        .collect()
}

/// Reads an options object into `T`, a serde struct whose TypeScript interface tsify writes into
/// the `.d.ts`. `undefined` or `null` is `T::default()`. A field that `T` does not have is an
/// error (a typo is not a silently ignored setting), as is a field of the wrong type; each names
/// the field: "options has an unknown field `topp`; expected one of temperature, topK, …",
/// "options.temperature must be a number, got the string \"hot\"".
pub(crate) fn options<T: DeserializeOwned + Default>(
    v: &JsValue,
    what: &str,
) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    if !v.is_object() || is_array(v) || bytes_of(v).is_some() {
        return Err(JsError::new(&format!(
            "{what} must be an object like {{ temperature: 0.8 }}, got {}",
            describe(v)
        )));
    }
    // serde reads the copy: its getters and traps have run, once, here.
    let mut budget = crate::limits::MAX_VALUES;
    let v =
        &snapshot(v, &mut budget).map_err(|e| JsError::new(&format!("{what}: reading it, {e}")))?;
    // serde-wasm-bindgen looks up only the fields it knows, so `deny_unknown_fields` never sees
    // the others: check the keys here.
    let known = field_names::<T>();
    for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(JsError::new(&format!(
                "{what} has an unknown field `{key}`; expected one of {}",
                known.join(", ")
            )));
        }
    }
    serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(v.clone())).map_err(
        |e| {
            let path = e.path().to_string();
            // The fields are flat, so the path is one key: say what it held, as the API does.
            let got = Reflect::get(v, &JsValue::from_str(&path)).unwrap_or(JsValue::UNDEFINED);
            JsError::new(&field_error(
                what,
                &path,
                &e.inner().to_string(),
                &describe(&got),
            ))
        },
    )
}

/// serde's message about a field, in the API's words: "invalid type: …, expected f64" becomes
/// "{what}.{path} must be a number, got {got}", and "unknown variant `x`, expected one of `a`,
/// `b`" becomes "{what}.{path} must be one of "a", "b", got {got}".
fn field_error(what: &str, path: &str, message: &str, got: &str) -> String {
    // serde-wasm-bindgen's errors are JS Errors; their text starts with the constructor's name.
    let message = message.strip_prefix("Error: ").unwrap_or(message);
    let expected = if message.starts_with("invalid type: ") {
        match message.rsplit_once(", expected ").map(|(_, e)| e) {
            Some("f32" | "f64") => "a number".to_string(),
            Some("a boolean") => "true or false".to_string(),
            Some(e) if e.starts_with("enum ") => "a string".to_string(),
            Some(e) => e.to_string(),
            None => return format!("{what}.{path}: {message}"),
        }
    } else if message.starts_with("unknown variant ") {
        match message.split_once(", expected ") {
            // "one of `a`, `b`, `c`" or "`a` or `b`".
            Some((_, e)) => e.replace('`', "\""),
            None => return format!("{what}.{path}: {message}"),
        }
    } else {
        return format!("{what}.{path}: {message}");
    };
    format!("{what}.{path} must be {expected}, got {got}")
}

/// The field names serde reads for the struct `T`, in declaration order (serde hands them to
/// `deserialize_struct`; this deserializer only records them).
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Deserializer, Visitor};
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("field names read")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

/// An optional integer field in [min, max]; `range` describes it in the error, e.g. "an
/// integer >= 0".
pub(crate) fn integer_in(
    key: &str,
    x: Option<f64>,
    min: f64,
    max: f64,
    range: &str,
) -> Result<Option<f64>, JsError> {
    match x {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && x >= min && x <= max => Ok(Some(x)),
        Some(x) => Err(js_err(Error::arg(key, range, x))),
    }
}

/// An optional integer field in [min, max].
pub(crate) fn integer(
    key: &str,
    x: Option<f64>,
    min: f64,
    max: f64,
) -> Result<Option<f64>, JsError> {
    integer_in(key, x, min, max, &format!("an integer in [{min}, {max}]"))
}

// The argument types that are not serde structs: what the readers above accept.
#[wasm_bindgen(typescript_custom_section)]
const ARGUMENT_TYPES: &str = r#"
/** A vector of numbers: a Float32Array (copied as it is), another typed array or an array. */
export type Values = Float32Array | ArrayLike<number>;
/** Token ids: a Uint32Array, or an array or typed array of integers >= 0. */
export type TokenIds = Uint32Array | ArrayLike<number>;
/** Integer class indices: an Int32Array, or an array or typed array of integers. */
export type Targets = Int32Array | ArrayLike<number>;
/** A file's bytes. */
export type Bytes = Uint8Array | ArrayBuffer | DataView;
"#;

/// A value as JS sees it (serde-wasm-bindgen, typed arrays as they are). A flattened struct
/// is serialised as a map: it becomes a plain object too, not a JS `Map`.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    let plain = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    // Serialising plain data (numbers, strings, typed arrays) cannot fail.
    value.serialize(&plain).unwrap_or(JsValue::UNDEFINED)
}
