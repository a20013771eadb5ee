// Starts the work the first token waits for, before anything else: the worker, the model's
// download and the wasm compile (streamed while it downloads). index.html loads this module
// with `async`, so it runs the moment it arrives instead of after the whole page and every
// module; main.js picks up what it started.
//
// The wasm is compiled once, here, and the compiled module is handed to the worker with the
// model's bytes: on a 2-core laptop two compiles of the same module would compete for the
// CPU. The main thread instantiates the same module for "your own logits".

/**
 * The worker, behind a promise-based client: `call(type, args)` resolves with the worker's
 * result or rejects with its error message; `onTokens` receives streamed generation, `onTrain`
 * the progress of live training.
 */
function startLab() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 0;
  const lab = {
    onTokens: () => {},
    onTrain: () => {},
    /** `transfer`: ArrayBuffers handed over to the worker rather than copied. */
    call(type, args, transfer = []) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, type, args }, transfer);
      });
    },
  };
  worker.onmessage = ({ data }) => {
    if (data.type === 'tokens') { lab.onTokens(data); return; }
    if (data.type === 'train') { lab.onTrain(data); return; }
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.ok) p.resolve(data.result); else p.reject(new Error(data.error));
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
    if (!res.ok) throw new Error(`cannot load ${url.pathname}: HTTP ${res.status}`);
    return WebAssembly.compile(await res.arrayBuffer());
  }
}

export const started = performance.now();
export const lab = startLab();
export const wasmModule = compileWasm(new URL('./pkg/logitlab_bg.wasm', import.meta.url));

/** Download progress of the model, for main.js's progress bar: `{ loaded, total }` in bytes. */
export const progress = { loaded: 0, total: 0, listener: () => {} };

/**
 * The files of the model `?model=` names (a same-origin path), or of the built-in one:
 * a folder ending in `/` holds a Hugging Face GPT-2 model (config.json, model.safetensors,
 * tokenizer.json); a `.bin` file is a llama2.c checkpoint, with the `tokenizer.bin` beside it
 * or the one `?tokenizer=` names; a `.safetensors` file is a logitlab checkpoint.
 */
export function modelFiles(path, tokenizer = '') {
  if (!path) return { 'default.safetensors': new URL('./models/default.safetensors', import.meta.url) };
  const url = new URL(path, location.href);
  if (url.origin !== location.origin) {
    throw new Error(`model must be a path on this site (${location.origin}), got ${path}`);
  }
  if (url.pathname.endsWith('/')) {
    return Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json']
      .map((name) => [name, new URL(name, url)]));
  }
  const name = url.pathname.split('/').pop();
  if (name.endsWith('.safetensors')) return { [name]: url };
  if (name.endsWith('.bin')) {
    // llama2.c: the tokenizer.bin next to it, unless ?tokenizer= names another.
    const tok = new URL(tokenizer || 'tokenizer.bin', url);
    if (tok.origin !== location.origin) throw new Error(`tokenizer must be a path on this site (${location.origin}), got ${tokenizer}`);
    return { [name]: url, 'tokenizer.bin': tok };
  }
  throw new Error(`model must name a folder ending in / (a Hugging Face GPT-2 model), a llama2.c .bin or a .safetensors file, got ${path}`);
}

/**
 * Files bigger than this reach the worker as a list of pieces of this size, which
 * `Model.fromFiles` reads in order and lets go of as it goes: a 438 MB model is never in memory
 * twice while it loads.
 */
const PIECE = 16 << 20;

/** A File's (or Blob's) bytes: one ArrayBuffer, or PIECE-sized ArrayBuffers for a big one. */
export async function fileBytes(file) {
  if (file.size <= PIECE) return file.arrayBuffer();
  const pieces = [];
  for (let at = 0; at < file.size; at += PIECE) pieces.push(await file.slice(at, at + PIECE).arrayBuffer());
  return pieces;
}

/**
 * Downloads `files` ({ name: URL }), reporting progress as it goes: each into one ArrayBuffer,
 * or PIECE-sized ones for a big file (filled as the bytes arrive, so never whole twice).
 */
export async function download(files) {
  const responses = await Promise.all(Object.entries(files).map(async ([name, url]) => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`cannot load ${url.pathname}: HTTP ${res.status}`);
    return [name, res];
  }));
  progress.loaded = 0;
  progress.total = responses.reduce((t, [, r]) => t + Number(r.headers.get('Content-Length') ?? 0), 0);
  // Read straight into PIECE-sized buffers (a "bring your own buffer" reader): the stream's own
  // chunks would be garbage that the collector frees late, a second copy of a large model.
  const read = async (res) => {
    const reader = res.body.getReader({ mode: 'byob' });
    const pieces = [];
    const length = Number(res.headers.get('Content-Length') ?? 0);
    let piece = new Uint8Array(length > 0 && length < PIECE ? length : PIECE);
    let used = 0;
    for (;;) {
      if (used === piece.length) {
        pieces.push(piece.buffer);
        piece = new Uint8Array(PIECE);
        used = 0;
      }
      const { done, value } = await reader.read(new Uint8Array(piece.buffer, used, piece.length - used));
      piece = new Uint8Array(value.buffer); // handed back, transferred
      if (done) break;
      used += value.byteLength;
      progress.loaded += value.byteLength;
      progress.listener(progress);
    }
    if (used > 0 || pieces.length === 0) pieces.push(piece.buffer.slice(0, used));
    return pieces.length === 1 ? pieces[0] : pieces;
  };
  return Object.fromEntries(await Promise.all(responses.map(async ([name, res]) => [name, await read(res)])));
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
 * Hands `buffers` ({ name: ArrayBuffer or [ArrayBuffer] }) to the worker, which parses them (off
 * the page's thread). They are transferred, not copied.
 */
export function loadModel(buffers, module) {
  return lab.call('load', { module, files: buffers }, Object.values(buffers).flat());
}

const query = new URLSearchParams(location.search);
const requested = query.get('model') ?? '';
const requestedTokenizer = query.get('tokenizer') ?? '';
/**
 * Resolves to the worker's `{ config, labels, vocab, error }` once it holds a model: the one
 * `?model=` names, or the built-in one, with `error` saying why, if the requested one failed.
 */
export const loading = (async () => {
  const module = await wasmModule;
  try {
    return await loadModel(await download(modelFiles(requested, requestedTokenizer)), module);
  } catch (e) {
    if (!requested) throw e;
    const r = await loadModel(await download(modelFiles('')), module);
    return { ...r, error: e.message };
  }
})();
// main.js reports a failure; until it awaits these, they must not count as unhandled.
wasmModule.catch(() => {});
loading.catch(() => {});
