//! Reading a caller's JS values without running the caller's code. Any JS value may be hostile:
//! a proxy whose traps throw, an object whose getter shrinks a buffer, a revoked proxy, a typed
//! array with an own `length` property. A JS exception thrown while Rust is on the stack unwinds
//! through it without running a destructor: it would leave a Rust value borrowed (every later
//! call on it fails) and a slot of the table of JS references taken.
//!
//! So the bindings touch caller values only through these functions, whose JS half (below) never
//! throws:
//! - typed arrays, `ArrayBuffer`s and `DataView`s are recognised and measured by the built-in
//!   getters of their prototypes (`%TypedArray%.prototype.buffer`, `ArrayBuffer.prototype
//!   .byteLength`, …), applied to the value: they read internal slots, never a property or a
//!   trap, and refuse anything else, a proxy included. The bytes are then read through a fresh
//!   view;
//! - every other read (an array's elements, an object's keys and fields) catches, in JS, what the
//!   caller's code throws, and hands back its message as an error. (Not wasm-bindgen's `catch`:
//!   each exception it catches keeps a slot of the table of JS references.)
//! - [`snapshot`] copies an options object into plain values first, so that serde reads only
//!   values this module made.

use js_sys::{Array, ArrayBuffer, DataView, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::brief;

#[wasm_bindgen(inline_js = r#"
const apply = Reflect.apply;
const getter = (proto, key) => Object.getOwnPropertyDescriptor(proto, key).get;
const typed = Object.getPrototypeOf(Uint8Array.prototype);
const typedTag = getter(typed, Symbol.toStringTag), typedBuffer = getter(typed, 'buffer'),
  typedOffset = getter(typed, 'byteOffset'), typedLength = getter(typed, 'byteLength');
const bufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const dataBuffer = getter(DataView.prototype, 'buffer'), dataOffset = getter(DataView.prototype, 'byteOffset'),
  dataLength = getter(DataView.prototype, 'byteLength');
const view = (buffer, offset, length) => (length === 0 ? new Uint8Array(0) : new Uint8Array(buffer, offset, length));
const message = (e) => {
  try { const m = e?.message; return typeof m === 'string' ? m : String(e); } catch { return 'an exception'; }
};
export function bytesOf(v) {
  if (typeof v !== 'object' || v === null) return undefined;
  const tag = apply(typedTag, v, []);
  if (tag !== undefined) return [tag, view(apply(typedBuffer, v, []), apply(typedOffset, v, []), apply(typedLength, v, []))];
  if (ArrayBuffer.isView(v)) {
    try { return ['DataView', view(apply(dataBuffer, v, []), apply(dataOffset, v, []), apply(dataLength, v, []))]; }
    catch { return ['DataView', new Uint8Array(0)]; }
  }
  try { return ['ArrayBuffer', view(v, 0, apply(bufferLength, v, []))]; } catch { return undefined; }
}
export function isArray(v) { try { return Array.isArray(v); } catch { return false; } }
export function read(v, key) { try { return [true, v[key]]; } catch (e) { return [false, message(e)]; } }
export function keys(v) { try { return [true, Object.keys(v)]; } catch (e) { return [false, message(e)]; } }
"#)]
extern "C" {
    /// `[kind, bytes]` for a typed array (kind: its `Symbol.toStringTag`), `["DataView", bytes]`
    /// or `["ArrayBuffer", bytes]`, bytes a fresh Uint8Array; `undefined` for anything else.
    #[wasm_bindgen(js_name = bytesOf)]
    fn bytes_of_js(v: &JsValue) -> JsValue;
    /// `Array.isArray(v)`, false where asking throws (a revoked proxy).
    #[wasm_bindgen(js_name = isArray)]
    fn is_array_js(v: &JsValue) -> bool;
    /// `[true, v[key]]`, or `[false, message]` if reading it threw.
    #[wasm_bindgen(js_name = read)]
    fn read_js(v: &JsValue, key: &JsValue) -> Array;
    /// `[true, Object.keys(v)]`, or `[false, message]` if listing them threw.
    #[wasm_bindgen(js_name = keys)]
    fn keys_js(v: &JsValue) -> Array;
}

/// A `[true, value]` / `[false, message]` pair from the JS half as a Result.
fn outcome(pair: Array) -> Result<JsValue, String> {
    if pair.get(0).is_truthy() {
        Ok(pair.get(1))
    } else {
        let m = pair.get(1).as_string().unwrap_or_default();
        Err(format!("threw {}", brief(&format_args!("{m:?}"))))
    }
}

/// The element type of a typed array, from its `Symbol.toStringTag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int8,
    Uint8,
    Uint8Clamped,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Float16,
    Float32,
    Float64,
    BigInt64,
    BigUint64,
}

impl Kind {
    fn from_tag(tag: &str) -> Option<Kind> {
        Some(match tag {
            "Int8Array" => Kind::Int8,
            "Uint8Array" => Kind::Uint8,
            "Uint8ClampedArray" => Kind::Uint8Clamped,
            "Int16Array" => Kind::Int16,
            "Uint16Array" => Kind::Uint16,
            "Int32Array" => Kind::Int32,
            "Uint32Array" => Kind::Uint32,
            "Float16Array" => Kind::Float16,
            "Float32Array" => Kind::Float32,
            "Float64Array" => Kind::Float64,
            "BigInt64Array" => Kind::BigInt64,
            "BigUint64Array" => Kind::BigUint64,
            _ => return None,
        })
    }

    /// Its name with an article: "a Float32Array", "an Int32Array".
    pub(crate) fn named(self) -> String {
        let name = format!("{self:?}Array");
        let article = if name.starts_with('I') { "an" } else { "a" };
        format!("{article} {name}")
    }

    /// Bytes per element.
    pub(crate) fn width(self) -> usize {
        match self {
            Kind::Int8 | Kind::Uint8 | Kind::Uint8Clamped => 1,
            Kind::Int16 | Kind::Uint16 | Kind::Float16 => 2,
            Kind::Int32 | Kind::Uint32 | Kind::Float32 => 4,
            Kind::Float64 | Kind::BigInt64 | Kind::BigUint64 => 8,
        }
    }

    /// Element `i` of `bytes` (little-endian, as wasm and every browser are) as an f64; `None`
    /// for the BigInt kinds.
    pub(crate) fn number(self, bytes: &[u8], i: usize) -> Option<f64> {
        let b = &bytes[i * self.width()..(i + 1) * self.width()];
        Some(match self {
            Kind::Int8 => f64::from(b[0] as i8),
            Kind::Uint8 | Kind::Uint8Clamped => f64::from(b[0]),
            Kind::Int16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
            Kind::Uint16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
            Kind::Float16 => {
                f64::from(crate::model::format::f16_bits_to_f32(u16::from_le_bytes([
                    b[0], b[1],
                ])))
            }
            Kind::Int32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Kind::Uint32 => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Kind::Float32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Kind::Float64 => f64::from_le_bytes(b.try_into().ok()?),
            Kind::BigInt64 | Kind::BigUint64 => return None,
        })
    }
}

/// What a value holding bytes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    Typed(Kind),
    Buffer,
    Data,
}

/// If `v` holds bytes (a typed array, an ArrayBuffer or a DataView, and not a proxy of one),
/// what it is and a fresh Uint8Array over its bytes. A detached buffer, or a view out of its
/// resized buffer's bounds, has no bytes.
pub(crate) fn bytes_of(v: &JsValue) -> Option<(Holder, Uint8Array)> {
    if !v.is_object() {
        return None;
    }
    let found = bytes_of_js(v);
    if found.is_undefined() {
        return None;
    }
    let pair: Array = found.unchecked_into();
    let bytes: Uint8Array = pair.get(1).unchecked_into();
    let holder = match pair.get(0).as_string()?.as_str() {
        "ArrayBuffer" => Holder::Buffer,
        "DataView" => Holder::Data,
        tag => Holder::Typed(Kind::from_tag(tag)?),
    };
    Some((holder, bytes))
}

/// Whether `v` is an array (a proxy of one included); false if asking throws.
pub(crate) fn is_array(v: &JsValue) -> bool {
    is_array_js(v)
}

/// `v.length` as an array length; an error says what reading it did.
pub(crate) fn array_length(v: &JsValue) -> Result<usize, String> {
    let len = outcome(read_js(v, &"length".into())).map_err(|e| format!("its length {e}"))?;
    match len.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(n as usize),
        _ => Err("its length is not an array length".into()),
    }
}

/// `v[i]`; an error says what reading it did.
pub(crate) fn element(v: &JsValue, i: u32) -> Result<JsValue, String> {
    outcome(read_js(v, &JsValue::from_f64(f64::from(i)))).map_err(|e| format!("[{i}] {e}"))
}

/// `v[key]`; an error says what reading it did.
pub(crate) fn field(v: &JsValue, key: &str) -> Result<JsValue, String> {
    outcome(read_js(v, &JsValue::from_str(key))).map_err(|e| format!(".{key} {e}"))
}

/// `Object.keys(v)`, at most `cap` of them; an error says what listing them did.
pub(crate) fn keys(v: &JsValue, cap: usize) -> Result<Vec<String>, String> {
    let keys: Array = outcome(keys_js(v))
        .map_err(|e| format!("listing its keys {e}"))?
        .unchecked_into();
    if keys.length() as usize > cap {
        return Err(format!(
            "it has {} keys; at most {cap} are accepted",
            keys.length()
        ));
    }
    // A real array of strings, made by Object.keys.
    Ok(keys.iter().filter_map(|k| k.as_string()).collect())
}

/// A copy of `v` made of values this module made: primitives as they are, bytes as a fresh view,
/// arrays and plain objects rebuilt element by element (at most `budget` values in all, at most
/// 8 levels deep). Anything the caller's code throws on the way is an error naming where.
pub(crate) fn snapshot(v: &JsValue, budget: &mut usize) -> Result<JsValue, String> {
    copy(v, budget, 0)
}

fn copy(v: &JsValue, budget: &mut usize, depth: usize) -> Result<JsValue, String> {
    if !v.is_object() {
        return Ok(v.clone()); // a primitive (or a function: serde refuses it)
    }
    if depth > 8 {
        return Err("it is nested more than 8 levels deep".into());
    }
    fn spend(budget: &mut usize, n: usize) -> Result<(), String> {
        *budget = budget
            .checked_sub(n)
            .ok_or_else(|| "it holds too many values".to_string())?;
        Ok(())
    }
    if let Some((holder, bytes)) = bytes_of(v) {
        spend(budget, bytes.length() as usize / 4 + 1)?;
        let copy = Uint8Array::new_with_length(bytes.length());
        copy.set(&bytes, 0);
        return Ok(match holder {
            Holder::Typed(Kind::Float16) => {
                let b = copy.to_vec();
                let x: Vec<f32> = (0..b.len() / 2)
                    .map(|i| Kind::Float16.number(&b, i).unwrap_or(f64::NAN) as f32)
                    .collect();
                js_sys::Float32Array::from(&x[..]).into()
            }
            Holder::Typed(kind) => typed_of(kind, &copy.buffer()),
            Holder::Buffer => copy.buffer().into(),
            Holder::Data => DataView::new(&copy.buffer(), 0, copy.length() as usize).into(),
        });
    }
    if is_array(v) {
        let len = array_length(v)?;
        // Saturating: an array of 2^32 − 1 entries would wrap a 32-bit usize to nothing.
        spend(budget, len.saturating_add(1))?;
        let out = Array::new();
        for i in 0..len as u32 {
            let x = element(v, i)?;
            out.push(&copy(&x, budget, depth + 1).map_err(|e| format!("[{i}]: {e}"))?);
        }
        return Ok(out.into());
    }
    let names = keys(v, *budget)?;
    spend(budget, names.len() + 1)?;
    let out = Object::new();
    for name in &names {
        if name == "__proto__" {
            return Err("it has a key \"__proto__\"".into());
        }
        let x = field(v, name)?;
        let x = copy(&x, budget, depth + 1).map_err(|e| format!(".{name}: {e}"))?;
        let _ = Reflect::set(&out, &JsValue::from_str(name), &x);
    }
    Ok(out.into())
}

/// A typed array of `kind` over all of `buffer` (a fresh one, so no caller code is involved).
fn typed_of(kind: Kind, buffer: &ArrayBuffer) -> JsValue {
    match kind {
        Kind::Int8 => js_sys::Int8Array::new(buffer).into(),
        Kind::Uint8 => Uint8Array::new(buffer).into(),
        Kind::Uint8Clamped => js_sys::Uint8ClampedArray::new(buffer).into(),
        Kind::Int16 => js_sys::Int16Array::new(buffer).into(),
        Kind::Uint16 | Kind::Float16 => js_sys::Uint16Array::new(buffer).into(),
        Kind::Int32 => js_sys::Int32Array::new(buffer).into(),
        Kind::Uint32 => js_sys::Uint32Array::new(buffer).into(),
        Kind::Float32 => js_sys::Float32Array::new(buffer).into(),
        Kind::Float64 => js_sys::Float64Array::new(buffer).into(),
        Kind::BigInt64 => js_sys::BigInt64Array::new(buffer).into(),
        Kind::BigUint64 => js_sys::BigUint64Array::new(buffer).into(),
    }
}
