// Starts the work the first token waits for, before anything else: the worker, the model's
// download and the wasm compile (streamed while it downloads). index.html loads this module
// with `async`, so it runs the moment it arrives instead of after the whole page and every
// module; main.js picks up what it started.
//
// The wasm is compiled once, here, and the compiled module is handed to the worker with the
// model's bytes: on a 2-core laptop two compiles of the same 3 MB module would compete for the
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
const modelBytes = fetch(new URL('./models/default.safetensors', import.meta.url)).then((res) => {
  if (!res.ok) throw new Error(`cannot load models/default.safetensors: HTTP ${res.status}`);
  return res.arrayBuffer();
});
/** Resolves to the worker's `{ config, vocab }` once it holds the model. */
export const loading = Promise.all([wasmModule, modelBytes])
  .then(([module, bytes]) => lab.call('load', { module, bytes }, [bytes]));
// main.js reports a failure; until it awaits these, they must not count as unhandled.
wasmModule.catch(() => {});
loading.catch(() => {});
