// GGUF models in the page and the card "Weights in low precision": a GGUF file loads through
// ?model= and through the file picker; a loaded model is quantised in the worker, and the card
// shows the two next-token distributions, KL(original ‖ quantised), the greedy tokens and the
// ranks that moved, each figure equal to the JS API's on the same model and context. The
// built-in model (GPT-2 family) is quantised too: the card says what it keeps and why.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openLab } from './lib/harness.mjs';
import { initSync, Model, compareModels } from '../../www/pkg/logitlab.js';

const GGUF = 'tests/fixtures/gguf';
let lab;
before(async () => {
  lab = await openLab({ mounts: { '/gguf/': GGUF } });
  initSync({ module: readFileSync('www/pkg/logitlab_bg.wasm') });
});
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
const PROMPT = 'the ant';

/** The JS API's figures for the card: the model, its Q8_0 copy, on the page's context. */
function expected() {
  const model = Model.fromFiles({ 'llama-f32.gguf': readFileSync(`${GGUF}/llama-f32.gguf`) });
  const q = model.quantize('q8_0');
  try {
    const plan = model.quantizePlan('q8_0');
    const r = compareModels(model, q, model.promptIds(PROMPT));
    const labels = Array.from({ length: model.config.vocabSize }, (_, i) => model.tokenText(i));
    return { plan, r, label: (id) => labels[id] };
  } finally {
    q.free();
    model.free();
  }
}

test('?model= loads a GGUF file; quantising it shows the card, its figures the JS API\'s', async () => {
  const { page, url } = lab;
  const { plan, r, label } = expected();
  await page.goto(`${url}?model=gguf/llama-f32.gguf&temperature=0&prompt=${encodeURIComponent(PROMPT)}`);
  await ready(page);
  assert.match(await page.textContent('#status'), /Llama .*2 layers × 32 wide/);
  await page.waitForFunction(() => /Q8_0 copy takes/.test(document.getElementById('quant-memory').textContent));
  const memory = await page.textContent('#quant-memory');
  assert.match(memory, new RegExp(`takes ${(plan.weightBytes / 1e6).toPrecision(3)} MB of weights and needs ${(plan.neededBytes / 1e6).toPrecision(3)} MB more`));
  assert.equal(await page.isHidden('#weights-result'), true);
  await page.click('#quantize');
  await page.waitForSelector('#weights-result:not([hidden])');
  const figures = await page.textContent('#weights-figures');
  const last = r.positions.at(-1);
  const agree = r.positions.filter((p) => p.top1A === p.top1B).length;
  assert.match(figures, new RegExp(`Over the context's ${r.positions.length} positions, the greedy next token agrees at ${agree} of ${r.positions.length}`));
  assert.match(figures, /KL\(original ‖ Q8_0\) = [\d.e−-]+ nats/);
  assert.ok(figures.includes(r.sameTop1 ? `Both pick ${label(last.top1A)}` : `the Q8_0 copy picks ${label(last.top1B)}`), figures);
  // Side by side: each list in its own model's order, its probabilities the API's.
  const original = await page.$$eval('#w-original li', (lis) => lis.map((li) => li.textContent));
  const byA = [...r.last].sort((x, y) => x.rankA - y.rankA).slice(0, 8);
  assert.equal(original.length, byA.length);
  byA.forEach((row, k) => assert.equal(original[k], `${label(row.id)}  ${row.pA.toPrecision(4)}`));
  const quantized = await page.$$eval('#w-quantized li', (lis) => lis.map((li) => li.textContent));
  const byB = [...r.last].sort((x, y) => x.rankB - y.rankB).slice(0, 8);
  byB.forEach((row, k) => assert.equal(quantized[k], `${label(row.id)}  ${row.pB.toPrecision(4)}`));
  assert.equal(await page.textContent('#w-original-title'), 'original (f32)');
  assert.equal(await page.textContent('#w-quantized-title'), 'Q8_0 copy');
  const changed = await page.textContent('#weights-changed');
  if (r.mostChanged.length === 0) assert.equal(changed, 'No id of either top 8 changed rank.');
  else assert.ok(changed.startsWith(`Ranks that moved most: ${label(r.mostChanged[0].id)} ${r.mostChanged[0].rankA} → ${r.mostChanged[0].rankB}`), changed);
});

test('the built-in model (GPT-2 family) quantises; the card says what stays, as the wasm counts it', async () => {
  const { page, url } = lab;
  const model = Model.fromBytes(readFileSync('www/models/default.safetensors'));
  const plans = Object.fromEntries(['q8_0', 'q4_K'].map((t) => [t, model.quantizePlan(t)]));
  model.free();
  const mb = (bytes) => (bytes / 1e6).toPrecision(3);
  await page.goto(`${url}?temperature=0&prompt=${encodeURIComponent('ROMEO:')}`);
  await ready(page);
  await page.waitForFunction(() => /Q8_0 copy takes/.test(document.getElementById('quant-memory').textContent));
  // Q8_0: every matrix but the position embedding (17 of 18) becomes blocks.
  assert.deepEqual([plans.q8_0.quantized, plans.q8_0.positionEmbeddings, plans.q8_0.undivided], [17, 1, 0]);
  assert.equal(await page.textContent('#quant-memory'),
    `The Q8_0 copy takes ${mb(plans.q8_0.weightBytes)} MB of weights and needs ${mb(plans.q8_0.neededBytes)} MB more memory while it is made; the original stays loaded for the comparison. The position embedding stays as it is: llama.cpp's quantiser keeps it.`);
  // Q4_K: rows of 128 values do not divide into its 256; the MLP's 512 do.
  await page.selectOption('#quant-type', 'q4_K');
  await page.waitForFunction(() => /Q4_K copy takes/.test(document.getElementById('quant-memory').textContent));
  assert.deepEqual([plans.q4_K.quantized, plans.q4_K.undivided], [4, 13]);
  assert.match(await page.textContent('#quant-memory'), / The position embedding stays as it is: llama\.cpp's quantiser keeps it\. 13 weight matrices stay as they are: their rows do not divide into Q4_K's blocks\.$/);
  await page.selectOption('#quant-type', 'q8_0');
  await page.waitForFunction(() => /Q8_0 copy takes/.test(document.getElementById('quant-memory').textContent));
  await page.click('#quantize');
  await page.waitForSelector('#weights-result:not([hidden])');
  assert.match(await page.textContent('#weights-figures'), /KL\(original ‖ Q8_0\) = [\d.e−-]+ nats/);
  assert.equal(await page.textContent('#w-original-title'), 'original (f32)');
  assert.equal(await page.textContent('#w-quantized-title'), 'Q8_0 copy');
});

test('a GGUF file through the picker loads and quantises', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?temperature=0`);
  await ready(page);
  await page.setInputFiles('#model-files', [`${GGUF}/qwen2-f16.gguf`]);
  await page.waitForFunction(() => /Qwen2/.test(document.getElementById('status').textContent), null, { timeout: 60_000 });
  await page.waitForFunction(() => /Q8_0 copy takes/.test(document.getElementById('quant-memory').textContent));
  // Q4_K's blocks of 256 values: no row of this model divides into them, and the page says
  // so, as the wasm counts it, with nothing to quantise.
  await page.selectOption('#quant-type', 'q4_K');
  await page.waitForFunction(() => /nothing to quantise/.test(document.getElementById('quant-memory').textContent));
  const plan = await page.evaluate(() => document.getElementById('quant-memory').textContent);
  assert.match(plan, /^No weight matrix of this model would become Q4_K, so there is nothing to quantise\. \d+ weight matrices stay as they are: their rows do not divide into Q4_K's blocks\.$/, plan);
  assert.equal(await page.isDisabled('#quantize'), true);
  await page.selectOption('#quant-type', 'q4_0');
  await page.waitForFunction(() => /Q4_0 copy takes/.test(document.getElementById('quant-memory').textContent));
  await page.click('#quantize');
  await page.waitForSelector('#weights-result:not([hidden])');
  assert.match(await page.textContent('#weights-figures'), /KL\(original ‖ Q4_0\)/);
  assert.equal(await page.textContent('#w-original-title'), 'original (f16)');
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
