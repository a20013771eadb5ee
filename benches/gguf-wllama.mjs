// GGUF files of SmolLM2-135M's shape (random weights) in headless Chromium: our wasm against
// wllama (@wllama/wllama, llama.cpp compiled to wasm) on its single thread, side by side in one
// page, and llama.cpp natively on one thread (llama-cpp-python) beside them. Each round times,
// for each file, llama.cpp natively (a process of its own), then ours (Model.fromFiles, as the
// page's worker loads a .gguf), then wllama (loadModel with n_threads 1, no GPU layers, the KV
// cache in f32 as ours): all three the prompt "Once upon a", then TOKENS greedy tokens one at a
// time with the KV cache, never stopping at end-of-text (our file sets none; wllama is told to
// ignore llama.cpp's default one). Ours also runs the f32 file of the same weights each round, for
// the quantised files' speed against our own f32. Prints tokens/s and the ratios of that round.
//
//   node benches/gguf-wllama.mjs DIR WLLAMA [ROUNDS] [TOKENS]
//
// DIR holds f32.gguf, q8_0.gguf, q4_0.gguf and q4_k_m.gguf (each timed if present and ours reads
// it) from
// `python benches/smollm2_gguf.py make DIR`; WLLAMA is an installed @wllama/wllama package
// folder (`./build.sh bench gguf-wllama` installs it under target/, outside the page's
// dependencies); PYTHON must import numpy, gguf and llama_cpp. wllama's own count of its
// decoding time (`timings.predicted_per_second`, llama.cpp's) is what is printed for it; ours is
// the wall clock of `Generation.next`. LAB_PKG names another build of ours (default www/pkg).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';

const [dir, wllamaDir, roundsArg, tokensArg] = process.argv.slice(2);
if (!dir || !wllamaDir) {
  console.error('usage: node benches/gguf-wllama.mjs DIR WLLAMA [ROUNDS] [TOKENS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const tokens = Number(tokensArg ?? 64);
const python = process.env.PYTHON ?? 'python3';
const PROMPT = 'Once upon a';
const files = ['f32', 'q8_0', 'q4_0', 'q4_k_m'].filter((f) => existsSync(`${dir}/${f}.gguf`));

function native(file) {
  const r = spawnSync(python, [new URL('./smollm2_gguf.py', import.meta.url).pathname, 'llama-cpp',
    `${dir}/${file}.gguf`, String(tokens)], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line).tokens_per_s;
  } catch {
    throw new Error(`llama.cpp printed no timing: ${r.stderr.slice(-2000)}`);
  }
}

// An empty page to run both in: the lab's own page would start its worker beside them.
const blank = mkdtempSync(join(tmpdir(), 'gguf-wllama-'));
writeFileSync(join(blank, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>');
const { server, url } = await startServer({
  root: 'www',
  mounts: { '/pkg/': process.env.LAB_PKG ?? 'www/pkg', '/gguf/': dir, '/wllama/': wllamaDir, '/bench/': blank },
  // wllama starts its worker from a blob: URL.
  csp: "default-src 'self' blob:; script-src 'self' blob: 'wasm-unsafe-eval'; worker-src 'self' blob:",
});
const { browser, page, outside } = await loopbackPage();
try {
  await page.goto(`${url}bench/`);
  const ours = await page.evaluate(async (files) => {
    const { default: init, Model } = await import('/pkg/logitlab.js');
    await init();
    window.ours = {};
    const read = {};
    for (const f of files) {
      const bytes = new Uint8Array(await (await fetch(`/gguf/${f}.gguf`)).arrayBuffer());
      try {
        window.ours[f] = Model.fromFiles({ 'model.gguf': bytes });
        read[f] = { dtype: window.ours[f].config.dtype };
      } catch (e) {
        read[f] = { error: String(e.message ?? e) };
      }
    }
    return read;
  }, files);
  const time = (file) => page.evaluate(([file, prompt, n]) => {
    const gen = window.ours[file].generate(prompt, { temperature: 0 });
    gen.next();
    const t = performance.now();
    let made = 0;
    for (let i = 0; i < n && !gen.next().end; i++) made++;
    const secs = (performance.now() - t) / 1000;
    const promptTokens = gen.tokens.length - made - 1;
    gen.free();
    if (made !== n) throw new Error(`ours stopped after ${made} tokens`);
    return { tps: made / secs, promptTokens };
  }, [file, PROMPT, tokens]);
  const wllama = (file) => page.evaluate(async ([file, prompt, n]) => {
    const { Wllama } = await import('/wllama/esm/index.js');
    const w = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true });
    const blob = await (await fetch(`/gguf/${file}.gguf`)).blob();
    await w.loadModel([blob], {
      n_threads: 1, n_gpu_layers: 0, n_ctx: 256, n_batch: 64, cache_type_k: 'f32', cache_type_v: 'f32',
    });
    const run = () => w.createCompletion({ prompt, max_tokens: n + 1, temp: 0, top_k: 1, ignore_eos: true });
    await run(); // warm-up
    const r = await run();
    const info = { threads: w.getNumThreads(), multithread: w.isMultithread() };
    await w.exit();
    return { tps: r.timings.predicted_per_second, promptTokens: r.timings.prompt_n, made: r.timings.predicted_n, ...info };
  }, [file, PROMPT, tokens]);

  for (const f of files) if (ours[f].error) console.log(`${f}.gguf: ours cannot read it (${ours[f].error}); left out`);
  const timed = files.filter((f) => !ours[f].error);
  const quantised = timed.filter((f) => f !== 'f32');
  for (const f of timed) await time(f); // warm-up: V8 compiles the hot functions again, optimised
  const col = (x) => String(x).padStart(13);
  console.log(`SmolLM2-135M shape, random weights, one thread, tokens/s: "${PROMPT}" then ${tokens} greedy tokens with the KV cache`);
  console.log(['round', 'file', 'llama.cpp', 'wllama', 'ours', 'ours f32', 'ours/wllama', 'ours/native', 'ours/own f32']
    .map(col).join(''));
  for (let r = 1; r <= rounds; r++) {
    const f32 = timed.includes('f32') ? (await time('f32')).tps : NaN;
    for (const f of quantised) {
      const n = native(f);
      const o = await time(f);
      const w = await wllama(f);
      if (r === 1) {
        const mb = (statSync(`${dir}/${f}.gguf`).size / 1e6).toFixed(0);
        console.log(`  ${f}.gguf: ${mb} MB, ours ${ours[f].dtype}; prompt ${o.promptTokens} tokens (ours), `
          + `${w.promptTokens} (wllama, the rest cached); wllama ${w.threads} thread(s), multithread ${w.multithread}, `
          + `${w.made} tokens in its timing`);
      }
      console.log([r, f, n.toFixed(1), w.tps.toFixed(1), o.tps.toFixed(1), f32.toFixed(1), `${(o.tps / w.tps).toFixed(2)}×`,
        `${(o.tps / n).toFixed(2)}×`, `${(o.tps / f32).toFixed(2)}×`].map(col).join(''));
    }
  }
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
