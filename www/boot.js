// Starts the work the first token waits for, before anything else: the worker, the model's
// download (by the worker) and the wasm compile (streamed while it downloads). index.html loads
// this module with `async`, so it runs the moment it arrives instead of after the whole page and
// every module; main.js picks up what it started.
//
// The wasm is compiled once, here, and the compiled module is handed to the worker: on a 2-core
// laptop two compiles of the same module would compete for the CPU. The main thread
// instantiates the same module for "your own logits".

/** An error with the code and params of the page's catalogue message `error.<code>` (if any). */
const coded = (code, message, params = {}) => Object.assign(new Error(message), code ? { code, params } : {});

/**
 * The worker, behind a promise-based client: `call(type, args)` resolves with the worker's
 * result or rejects with its error (an Error with the worker's English message and, for one
 * the page words itself, its `code` and `params`); `onTokens` receives streamed generation,
 * `onTrain` the progress of live training.
 */
function startLab() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 0;
  const lab = {
    onTokens: () => {},
    onTrain: () => {},
    call(type, args) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, type, args });
      });
    },
  };
  worker.onmessage = ({ data }) => {
    if (data.type === 'tokens') { lab.onTokens(data); return; }
    if (data.type === 'train') { lab.onTrain(data); return; }
    if (data.type === 'progress') { Object.assign(progress, data.progress); progress.listener(progress); return; }
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.ok) p.resolve(data.result);
    else p.reject(coded(data.error.code, data.error.message, data.error.params));
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(e.message || 'the worker failed'));
    pending.clear();
  };
  return lab;
}

/** Compiles while downloading; a host that serves .wasm with the wrong MIME type still works. */
async function compileWasm(url) {
  try {
    return await WebAssembly.compileStreaming(fetch(url));
  } catch {
    const res = await fetch(url);
    if (!res.ok) throw coded('load.http', `cannot load ${url.pathname}: HTTP ${res.status}`, { path: url.pathname, status: String(res.status) });
    return WebAssembly.compile(await res.arrayBuffer());
  }
}

export const started = performance.now();
export const lab = startLab();
export const wasmModule = compileWasm(new URL('./pkg/logitlab_bg.wasm', import.meta.url));
// The worker starts reading the model the moment it is asked; it parses once it has the module.
wasmModule.then((module) => lab.call('init', { module }), (e) => lab.call('init', { error: e.message }));

/** Reading progress of the model, for main.js's progress bar: `{ loaded, total }` in bytes. */
export const progress = { loaded: 0, total: 0, listener: () => {} };

/** The built-in model, relative to www/ (the wasm's `defaultModelUrl()`; tests/page_facts.rs ties the two). */
export const DEFAULT_MODEL = 'models/default.safetensors';

/**
 * The model `?model=` names (a same-origin path, with `?tokenizer=` for a llama2.c model), or
 * the built-in one, as the worker's `load` takes it: `{ path, tokenizer }`, whose files the
 * wasm decides (`modelPathFiles`), or `{ files }` for the built-in model, which needs no wasm
 * to find, so its download starts at once.
 */
export function modelSource(path, tokenizer = '') {
  if (!path) return { files: { 'default.safetensors': new URL(`./${DEFAULT_MODEL}`, import.meta.url).href } };
  const url = new URL(path, location.href);
  if (url.origin !== location.origin) {
    throw coded('model.notOnSite', `model must be a path on this site (${location.origin}), got ${path}`, { path });
  }
  return { path: url.href, tokenizer };
}

/** Saves `bytes` as a file called `name` (a download the page makes itself, from a blob: URL). */
export function saveFile(name, bytes, type = 'application/zip') {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

/**
 * Has the worker read and parse a model: `{ files }` ({ name: same-origin URL string, or a
 * File }) or `{ path, tokenizer }` (see `modelSource`). It downloads or reads them itself, so a
 * large model never passes through the page's thread, and reports progress to
 * `progress.listener`.
 */
export function loadModel(source) {
  Object.assign(progress, { loaded: 0, total: 0 });
  return lab.call('load', source);
}

const query = new URLSearchParams(location.search);
const requested = query.get('model') ?? '';
const requestedTokenizer = query.get('tokenizer') ?? '';
/**
 * Resolves to the worker's `{ config, labels, vocab, error }` once it holds a model: the one
 * `?model=` names, or the built-in one, with `error` saying why, if the requested one failed.
 */
export const loading = (async () => {
  try {
    return await loadModel(modelSource(requested, requestedTokenizer));
  } catch (e) {
    if (!requested) throw e;
    const r = await loadModel(modelSource(''));
    return { ...r, error: e };
  }
})();
// main.js reports a failure; until it awaits these, they must not count as unhandled.
wasmModule.catch(() => {});
loading.catch(() => {});
