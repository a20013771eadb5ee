// SmolLM2-135M's shape (random weights) stored in bf16 and in f32, in headless Chromium, against
// PyTorch eager on the f32 folder, side by side in one run: each round times PyTorch
// (transformers' LlamaForCausalLM, float32, use_cache, one thread; a process of its own), then
// our wasm with each folder (Model.fromFiles as the page's worker loads it, one thread), both an
// 8-token prompt then TOKENS greedy tokens one at a time with the KV cache, and prints the ratios
// of that round.
//
//   node benches/llama-hf.mjs DIR [ROUNDS] [TOKENS]
//
// DIR holds bf16/ and f32/ from `python benches/llama_hf_shape.py make smollm2-135m DIR`;
// PYTHON (default python3) must import torch, transformers and safetensors.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';

const [dir, roundsArg, tokensArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node benches/llama-hf.mjs DIR [ROUNDS] [TOKENS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const tokens = Number(tokensArg ?? 64);
const python = process.env.PYTHON ?? 'python3';
const FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

function torch() {
  const r = spawnSync(python, [new URL('./llama_hf_shape.py', import.meta.url).pathname, 'torch', `${dir}/f32`,
    String(tokens)], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line).tokens_per_s;
  } catch {
    throw new Error(`PyTorch printed no timing: ${r.stderr.slice(-2000)}`);
  }
}

const { server, url } = await startServer({ root: 'www', mounts: { '/hf/': dir } });
const { browser, page, outside } = await loopbackPage();
try {
  await page.goto(url);
  const loaded = await page.evaluate(async (files) => {
    const { default: init, Model } = await import('./pkg/logitlab.js');
    const wasm = await init();
    const models = {};
    for (const dtype of ['bf16', 'f32']) {
      const bytes = {};
      for (const name of files) bytes[name] = new Uint8Array(await (await fetch(`hf/${dtype}/${name}`)).arrayBuffer());
      const before = wasm.memory.buffer.byteLength;
      models[dtype] = Model.fromFiles(bytes);
      models[dtype].grown = wasm.memory.buffer.byteLength - before;
    }
    window.bench = models;
    return Object.fromEntries(Object.entries(models).map(([k, m]) => [k, { dtype: m.config.dtype, params: m.config.parameters }]));
  }, FILES);
  // A prompt of 8 tokens of the lab's test tokenizer, as PyTorch's is 8 ids.
  const time = (dtype) => page.evaluate(([dtype, n]) => {
    const model = window.bench[dtype];
    const gen = model.generate('Once upon a', { temperature: 0 });
    if (gen.tokens.length !== 8) throw new Error(`the prompt is ${gen.tokens.length} tokens, not 8`);
    gen.next();
    const t = performance.now();
    let made = 0;
    for (let i = 0; i < n && !gen.next().end; i++) made++;
    const secs = (performance.now() - t) / 1000;
    gen.free();
    return made / secs;
  }, [dtype, tokens]);
  await time('bf16'); // warm-up: V8 compiles the hot functions again, optimised
  await time('f32');
  const mb = (f) => (statSync(`${dir}/${f}/model.safetensors`).size / 1e6).toFixed(0);
  console.log(`SmolLM2-135M shape (${(loaded.bf16.params / 1e6).toFixed(0)} M parameters; model.safetensors `
    + `${mb('bf16')} MB in bf16, ${mb('f32')} MB in f32), one thread, tokens/s: an 8-token prompt then ${tokens} `
    + 'greedy tokens with the KV cache');
  const col = (x) => String(x).padStart(15);
  console.log(['round', 'PyTorch f32', 'wasm bf16', 'ratio', 'wasm f32', 'ratio'].map(col).join(''));
  for (let r = 1; r <= rounds; r++) {
    const t = torch();
    const b = await time('bf16');
    const f = await time('f32');
    console.log([r, t.toFixed(1), b.toFixed(1), `${(b / t).toFixed(2)}×`, f.toFixed(1), `${(f / t).toFixed(2)}×`].map(col).join(''));
  }
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
