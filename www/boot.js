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

/** The requests of live training, which its own worker runs (see `startLab`). */
const TRAINING = new Set(['trainStart', 'distillStart', 'distillTemperatures', 'trainStep', 'trainPlay', 'trainSample', 'trainPause', 'trainFree']);

/**
 * A worker running worker.js, behind a promise-based client: `call(type, args)` resolves with
 * the worker's result or rejects with its error (an Error with the worker's English message and,
 * for one the page words itself, its `code` and `params`). `on(data)` receives what it streams.
 */
function spawn(on) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 0;
  const client = {
    pending,
    call(type, args) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, type, args });
      });
    },
    /** Ends the worker; the browser frees all its memory, the wasm's included. */
    end(why = 'another model replaced this one before it finished') {
      worker.terminate();
      for (const p of pending.values()) p.reject(new Error(why));
      pending.clear();
    },
  };
  worker.onmessage = ({ data }) => {
    if (data.id === undefined) { on(data, client); return; }
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.ok) p.resolve(data.result);
    else p.reject(coded(data.error.code, data.error.message, data.error.params));
    client.settled?.();
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(e.message || 'the worker failed'));
    pending.clear();
  };
  // Every worker gets the module compiled once, here (or why it failed).
  wasmModule.then((module) => client.call('init', { module }), (e) => client.call('init', { error: e.message }))
    .catch(() => {});
  return client;
}

/**
 * The page's workers, behind one client: `call(type, args)`; `onTokens` receives streamed
 * generation, `onTrain` the progress of live training.
 *
 * Each model lives in a worker of its own. A wasm memory only grows, so a model's memory is
 * given back only with its whole instance, and a worker is the unit the browser frees whole:
 * `load` reads a model in a fresh worker, which becomes the model's worker if the model loads
 * (the old one then finishes what it was asked and ends) and ends at once if it fails (the page
 * keeps its model). Live training has a worker of its own, started when first needed, so that
 * replacing the model does not end a run.
 */
function startLab() {
  let fresh = spawn(stream); // the first model's worker, started at once: it begins the download
  let current = null;        // the worker holding the loaded model
  let training = null;
  const lab = {
    onTokens: () => {},
    onTrain: () => {},
    call(type, args) {
      if (type === 'load') return load(args);
      if (TRAINING.has(type) || (type === 'exportModel' && args?.pipeline)) {
        training ??= spawn(stream);
        return training.call(type, args);
      }
      if (!current) return type === 'stop' ? Promise.resolve({}) : Promise.reject(new Error('no model is loaded yet'));
      return current.call(type, args);
    },
  };
  function stream(data, from) {
    if (data.type === 'tokens') { if (from === current) lab.onTokens(data); return; }
    if (data.type === 'train') { lab.onTrain(data); return; }
    if (data.type === 'progress') { Object.assign(progress, data.progress); progress.listener(progress); }
  }
  async function load(args) {
    const worker = fresh ?? spawn(stream);
    fresh = null;
    let result;
    try {
      result = await worker.call('load', args);
    } catch (e) {
      worker.end('the model failed to load');
      throw e;
    }
    if (current) retire(current);
    current = worker;
    return result;
  }
  /** Stops what `old` runs, lets it answer what it was asked, then ends it. */
  function retire(old) {
    old.call('stop').catch(() => {});
    const done = () => old.end();
    old.settled = () => { if (old.pending.size === 0) done(); };
    setTimeout(done, 10_000);
  }
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
export const wasmModule = compileWasm(new URL('./pkg/logitlab_bg.wasm', import.meta.url));
// The worker starts reading the model the moment it is asked; it parses once it has the module.
export const lab = startLab();

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
