// The page's words. Every string a student sees comes from one message catalogue per language,
// www/i18n/<code>.js: a default export { key: message }. A message may hold named parameters,
// {name}, filled in by `t`, and numbered slots, {0}, {1}, …, which stand for the child elements
// (MathML, links, inputs) that index.html gives an element marked data-i18n="key": the
// translation places them where its grammar wants them.
//
// Adding a language: one new catalogue file with every key of en.js (the e2e test
// i18n.test.mjs fails on a missing or unused key) and its name in LANGUAGES below.
//
// Numbers: the JS API and the URL stay dot-decimal; what the page writes in prose and tables
// goes through `fixed`, `precision`, `exponential` and `integer`, which use the catalogue's
// decimal and group separators (a decimal comma in Vietnamese).

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

/** The message `key` with its {name} parameters filled in (numbered slots are left as they are). */
export function t(key, params = {}) {
  const m = messages[key] ?? key;
  return m.replace(/\{(\w+)\}/g, (all, name) => (Object.hasOwn(params, name) ? String(params[name]) : all));
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

/** An error's message as a node: as it is if the page worded it, else English, marked so. */
export const errorNode = (e) => (e instanceof PageError ? document.createTextNode(e.message) : english(e?.message ?? String(e)));

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

/** A dot-decimal number string as the page's language writes it ("1,234.5" → "1.234,5" in vi). */
export function localNumber(s) {
  const decimal = messages['number.decimal'] ?? '.';
  const group = messages['number.group'] ?? ',';
  if (decimal === '.' && group === ',') return s;
  return s.replace(/[.,]/g, (c) => (c === '.' ? decimal : group));
}
export const fixed = (x, digits) => localNumber(x.toFixed(digits));
export const precision = (x, digits) => localNumber(x.toPrecision(digits));
export const exponential = (x, digits) => localNumber(x.toExponential(digits));
/** 820480 → "820,480" in English (without Intl, whose first use loads locale data at a busy moment). */
export const integer = (n) => localNumber(String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','));
