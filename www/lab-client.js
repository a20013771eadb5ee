// A promise-based client for worker.js: `call(type, args)` resolves with the worker's result
// or rejects with its error message; `onTokens` receives streamed generation,
// `onTrain` the progress of live training.

export function startLab() {
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
