// The page's words. Every string a student sees comes from one message catalogue per language,
// www/i18n/<code>.js: a default export { key: message }. A message may hold named parameters,
// {name}, filled in by `t`, and numbered slots, {0}, {1}, …, which stand for the child elements
// (MathML, links, inputs) that index.html gives an element marked data-i18n="key": the
// translation places them where its grammar wants them.
//
// Adding a language: one new catalogue file with every key of en.js (the e2e test
// i18n.test.mjs fails on a missing or unused key) and its name in LANGUAGES below.
//
// Numbers: the JS API and the URL stay dot-decimal; every number the page writes in prose and
// tables goes through one formatter, `localNumber` (by way of `fixed`, `precision`,
// `exponential`, `integer`, and `t` for a number parameter): the catalogue's decimal mark (a
// comma in Vietnamese), thousands grouped by a narrow no-break space (U+202F) in every language,
// U+2212 for minus, and never −0.
//
// Errors: the wasm's and the worker's errors keep an English `message` (the JS API's); one a
// student can cause also carries a `code` and `params`, and the page shows the catalogue's
// `error.<code>` instead, in its own language (`errorNode`).

/** The languages the page speaks, each in its own name (the switch shows them so). */
export const LANGUAGES = { en: 'English', vi: 'Tiếng Việt' };

/** `?lang=`, else the browser's first preferred language we have, else English. */
export function chooseLanguage(param, preferred = navigator.languages ?? [navigator.language]) {
  if (Object.hasOwn(LANGUAGES, param)) return param;
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (Object.hasOwn(LANGUAGES, base)) return base;
  }
  return 'en';
}

export let lang = 'en';
let messages = {};

/** Loads the catalogue of `code` (one of LANGUAGES); the page then speaks it. */
export async function useLanguage(code) {
  messages = (await import(`./i18n/${code}.js`)).default;
  lang = code;
}

/**
 * The message `key` with its {name} parameters filled in (numbered slots are left as they are).
 * A number parameter is written as the page writes numbers (`number`); pass an id or a seed,
 * which the student types back, as a string.
 */
export function t(key, params = {}) {
  const m = messages[key] ?? key;
  return m.replace(/\{(\w+)\}/g, (all, name) => {
    if (!Object.hasOwn(params, name)) return all;
    const v = params[name];
    return typeof v === 'number' ? number(v) : String(v);
  });
}

/** Splits a message at its {0}, {1}, … and {name} markers into text and the nodes they name. */
function parts(text, nodes) {
  return text.split(/(\{\w+\})/).filter((s) => s !== '').map((s) => {
    const m = /^\{(\w+)\}$/.exec(s);
    return m && nodes[m[1]] instanceof Node ? nodes[m[1]] : s;
  });
}

const slots = new WeakMap(); // element → its child elements as index.html gave them

/** Writes message `key` into `el`, placing the element's own child elements at {0}, {1}, … */
export function fill(el, key = el.dataset.i18n, params = {}) {
  if (!slots.has(el)) slots.set(el, Array.from(el.children));
  el.replaceChildren(...parts(t(key, params), { ...slots.get(el) }));
}

/**
 * Writes message `key` into `el` with `nodes` ({ name: Node }) at its {name} markers: e.g. an
 * English error message from the wasm, marked lang="en" by `english`.
 */
export function fillNodes(el, key, params, nodes) {
  el.replaceChildren(...parts(t(key, params), nodes));
}

/** An error the page words itself, in the page's language (the JS API's errors are English). */
export class PageError extends Error {}

/** The catalogue's wording of an error with a code it knows, else null. */
function worded(e) {
  const key = `error.${e?.code}`;
  if (typeof e?.code !== 'string' || !Object.hasOwn(messages, key)) return null;
  const params = { ...(e.params ?? {}) };
  if (e.code === 'chain.badParam') {
    // The lab's own notation: its numbers and lists as the page writes them.
    params.range = localMath(String(params.range ?? ''));
    if (NUMBER.test(params.value ?? '')) params.value = localMath(params.value);
  }
  return t(key, params);
}

/** A number as the wasm writes one in a range or a refused value: "1.5", "−1", "3.4028235e38". */
const NUMBER = /^[−-]?\d+(?:\.\d+)?(?:e[+−-]?\d+)?$/;

/**
 * A range or value in the lab's notation ("[0, 1]", "(0, 3.4028235e38]", "{0, 1, …, 4294967295}")
 * as the page writes numbers: with a decimal comma, each number's point becomes a comma and the
 * list's commas semicolons, as in "(3; 2; 1)"; with a decimal point, as it is.
 */
function localMath(s) {
  if ((messages['number.decimal'] ?? '.') === '.') return s;
  return s.replace(/, /g, '; ').replace(new RegExp(NUMBER.source.slice(1, -1), 'g'), (m) => {
    const exp = /e[+−-]?\d+$/.exec(m)?.[0] ?? '';
    const local = localNumber(m.slice(0, m.length - exp.length).replace('−', '-'));
    return local + exp.replace('-', '−');
  });
}

/**
 * An error as the page shows it: a PageError as it is; an error with a code, its catalogue
 * message in the page's language; any other, its English message marked lang="en". `e` is an
 * Error or the worker's `{ message, code, params }`.
 */
export function errorNode(e) {
  if (e instanceof PageError) return document.createTextNode(e.message);
  const w = worded(e);
  return w === null ? english(e?.message ?? String(e)) : document.createTextNode(w);
}

/**
 * An error as plain text, where a part cannot be marked English (an aria-label): the page's
 * own wording when it has one, else the English message.
 */
export const errorText = (e) => (e instanceof PageError ? e.message : worded(e) ?? String(e?.message ?? e));

/** Text that stays English (model output, the JS API's error messages), marked so on a page in another language. */
export function english(text, tag = 'span') {
  const el = document.createElement(tag);
  el.textContent = text;
  if (lang !== 'en') el.lang = 'en';
  return el;
}

/** Translates every marked element of the page, and sets <html lang> and the title. */
export function translatePage() {
  document.documentElement.lang = lang;
  document.title = t('page.title');
  for (const el of document.querySelectorAll('[data-i18n]')) fill(el);
  for (const el of document.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of document.querySelectorAll('[data-lang-en]')) if (lang !== 'en') el.lang = 'en';
}

// ---- numbers in prose and tables ----

/**
 * A number as JS writes it (`toFixed`, `toPrecision`, `toExponential`, `String`: "-1234.50",
 * "1.5e-7") as the page writes it: "−1 234.50" in English, "−1 234,50" in Vietnamese (the
 * group is U+202F, from number.group); "−0.00" becomes "0.00". Without Intl, whose first use
 * loads locale data at a busy moment.
 */
export function localNumber(s) {
  const m = /^(-?)(\d+)(?:\.(\d+))?(e[+-]\d+)?$/.exec(s);
  if (!m) return s.replace(/^-/, '−'); // -Infinity, NaN
  const [, sign, int, frac, exp] = m;
  const negative = sign !== '' && /[1-9]/.test(int + (frac ?? ''));
  const group = messages['number.group'] ?? '\u202F';
  return (negative ? '−' : '') + int.replace(/\B(?=(\d{3})+$)/g, group)
    + (frac === undefined ? '' : (messages['number.decimal'] ?? '.') + frac) + (exp ?? '').replace('-', '−');
}
export const fixed = (x, digits) => localNumber(x.toFixed(digits));
export const precision = (x, digits) => localNumber(x.toPrecision(digits));
export const exponential = (x, digits) => localNumber(x.toExponential(digits));
/** A count: 820480 → "820 480" (with U+202F). */
export const integer = (n) => localNumber(String(n));
/** Any number, in the fewest digits that read back as it: 0.5 → "0,5" in Vietnamese. */
export const number = (x) => localNumber(String(x));
