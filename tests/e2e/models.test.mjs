// Bring your own model: a Hugging Face GPT-2 folder (the committed fixtures, vocabulary 1 024)
// and a bf16 Qwen3 one through ?model=, the file picker and drag-and-drop; every panel at V ≥ 1 000; bad files keep
// the model the page had.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLab } from './lib/harness.mjs';
import { initSync, Model } from '../../www/pkg/logitlab.js';

const FIXTURES = 'tests/fixtures/hf';
let lab;
let stories;
before(async () => {
  stories = writeStoriesShape(mkdtempSync(join(tmpdir(), 'logitlab-stories-')));
  lab = await openLab({ mounts: { '/fixtures/': FIXTURES, '/llama/': 'tests/fixtures/llama2c', '/stories/': stories,
    '/qwen/': 'tests/fixtures/llama' } });
  initSync({ module: readFileSync('www/pkg/logitlab_bg.wasm') });
});
after(async () => {
  await lab?.close();
  if (stories) rmSync(stories, { recursive: true, force: true });
});

/**
 * A llama2.c model of stories15M's shape (dim 288, 6 layers, 6 heads, hidden 768, vocabulary
 * 32 000, seq_len 256; legacy format, 61 MB) with seeded random weights, and a 32 000-token
 * tokenizer.bin (the 3 specials, the 256 byte tokens, printable ASCII, then " t0", " t1", …):
 * V = 32 000 in every panel. Written into `dir`, which it returns.
 */
function writeStoriesShape(dir) {
  const [dim, hidden, layers, heads, vocab, seqLen] = [288, 768, 6, 6, 32000, 256];
  const head = new Int32Array([dim, hidden, layers, heads, heads, vocab, seqLen]);
  const hd = dim / heads;
  const count = vocab * dim + layers * (2 * dim + 4 * dim * dim + 3 * hidden * dim) + dim + seqLen * hd;
  const w = new Float32Array(count);
  let x = 0x2545F491;
  for (let i = 0; i < count; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    w[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 0.07; // uniform, std ≈ 0.02
  }
  const ones = (at, n) => w.fill(1, at, at + n);
  let at = vocab * dim;
  ones(at, layers * dim); // rms_att
  at += layers * (dim + 4 * dim * dim);
  ones(at, layers * dim); // rms_ffn
  at += layers * (dim + 3 * hidden * dim);
  ones(at, dim); // rms_final
  writeFileSync(join(dir, 'model.bin'), Buffer.concat([Buffer.from(head.buffer), Buffer.from(w.buffer)]));
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n'].map((t) => Buffer.from(t));
  for (let b = 0; b < 256; b++) pieces.push(Buffer.from(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
  for (let c = 32; c < 127; c++) pieces.push(Buffer.from([c]));
  for (let i = 0; pieces.length < vocab; i++) pieces.push(Buffer.from(` t${i}`));
  const parts = [Buffer.from(new Int32Array([Math.max(...pieces.map((p) => p.length))]).buffer)];
  pieces.forEach((p, k) => {
    const meta = Buffer.alloc(8);
    meta.writeFloatLE(-k, 0);
    meta.writeInt32LE(p.length, 4);
    parts.push(meta, p);
  });
  writeFileSync(join(dir, 'tokenizer.bin'), Buffer.concat(parts));
  return dir;
}

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
const files = (name) => ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => `${FIXTURES}/${name}/${f}`);

/** The fixture's greedy continuation as text, decoded by the same wasm in Node. */
function greedyText(name) {
  const expected = JSON.parse(readFileSync(`${FIXTURES}/${name}/expected.json`, 'utf8'));
  const model = Model.fromFiles(Object.fromEntries(files(name).map((p) => [p.split('/').pop(), readFileSync(p)])));
  try {
    assert.deepEqual(Array.from(model.encode(expected.prompt)), expected.prompt_ids);
    return { prompt: expected.prompt, text: model.decode(Uint32Array.from(expected.greedy)) };
  } finally {
    model.free();
  }
}

test('?model= names a Hugging Face folder on the site: it loads, shows V = 1 024, and writes its greedy text', async () => {
  const { page, url } = lab;
  const { prompt, text } = greedyText('f32-tied-gelu_new');
  await page.goto(`${url}?model=fixtures/f32-tied-gelu_new/&temperature=0&tokens=64&prompt=${encodeURIComponent(prompt)}`);
  await ready(page);
  assert.match(await page.textContent('#status'), /fixtures\/f32-tied-gelu_new\/.*1\u202F024 tokens \(BPE\)/);
  await page.waitForFunction(() => document.querySelectorAll('#bars .bar-row').length === 13);
  assert.match(await page.textContent('#bars-text'), /Top 12 of 1\u202F024 tokens.*the other 1\u202F012 as one row/);
  const labels = await page.$$eval('#bars .bar-label', (ls) => ls.map((l) => l.textContent));
  assert.equal(labels.at(-1), 'other 1\u202F012');
  assert.equal(await page.inputValue('#model-pick'), 'fixtures/f32-tied-gelu_new/');
  await page.click('#generate');
  await page.waitForFunction(() => !document.getElementById('generate').disabled
    && document.getElementById('output-gen').textContent.length > 0);
  assert.equal(await page.textContent('#output-gen'), text);
  // The link keeps the model.
  await page.click('#copy-link');
  await page.waitForFunction(() => document.getElementById('copied').textContent !== '');
  const shown = await page.textContent('#copied');
  const link = shown.startsWith('http') ? shown : await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(new URL(link).searchParams.get('model'), 'fixtures/f32-tied-gelu_new/');
  // Every panel works at V = 1 024: precision, identity, draws.
  await page.waitForFunction(() => document.getElementById('z-f16').textContent !== '');
  assert.ok(Number((await page.textContent('#maxdiff')).replace('−', '-')) < 1e-5); // the page writes U+2212
  await page.click('#draw');
  await page.waitForFunction(() => /1\u202F000 draws/.test(document.getElementById('hist-text').textContent));
});

const SUBWORD = 'models/shakespeare-bpe/';
const subwordFiles = () => Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json']
  .map((f) => [f, readFileSync(`www/${SUBWORD}${f}`)]));

/** What the same wasm writes in Node: `tokens` greedy tokens of the subword model after `prompt`. */
function subwordGreedy(prompt, tokens) {
  const model = Model.fromFiles(subwordFiles());
  const gen = model.generate(prompt, { temperature: 0 });
  try {
    let text = '';
    for (let i = 0; i < tokens; i++) text += gen.next().text;
    return text;
  } finally {
    gen.free();
    model.free();
  }
}

test('?model= names a Qwen3 folder stored in bf16: it loads as Qwen3 and writes transformers\' greedy text', async () => {
  const { page, url } = lab;
  const dir = 'tests/fixtures/llama/qwen3-bf16';
  const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8'));
  const model = Model.fromFiles(Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json']
    .map((f) => [f, readFileSync(`${dir}/${f}`)])));
  let text;
  try {
    assert.equal(model.config.dtype, 'bf16');
    text = model.decode(Uint32Array.from(expected.greedy));
  } finally {
    model.free();
  }
  const prompt = expected.prompts[0].text;
  await page.goto(`${url}?model=qwen/qwen3-bf16/&temperature=0&tokens=64&prompt=${encodeURIComponent(prompt)}`);
  await ready(page);
  assert.match(await page.textContent('#status'), /Qwen3 \(2 key\/value heads\), 2 layers × 32 wide, 4 heads.*320 tokens \(BPE\)/);
  await page.click('#generate');
  await page.waitForFunction(() => !document.getElementById('generate').disabled
    && document.getElementById('output-gen').textContent.length > 0);
  assert.equal(await page.textContent('#output-gen'), text);
});

test('the shipped subword model: picked in the list it keeps the prompt and the sampler, and writes its greedy text', async () => {
  const { page, url } = lab;
  const requested = [];
  const log = (r) => requested.push(new URL(r.url()).pathname);
  page.on('request', log);
  const prompt = 'JULIET:\nO Romeo, Romeo!';
  await page.goto(`${url}?temperature=0&topP=0.9&tokens=48&prompt=${encodeURIComponent(prompt)}`);
  await ready(page);
  // The first visit does not fetch it.
  assert.ok(!requested.some((p) => p.includes('shakespeare-bpe')), requested.join(' '));
  const entries = await page.$$eval('#model-pick option:not([hidden])', (os) => os.map((o) => o.textContent));
  assert.match(entries[0], /by character: 84 characters, 0\.82 M parameters, 2\.20 bits\/char/);
  assert.match(entries[1], /by subword: 4\u202F096 BPE tokens, 1\.33 M parameters, \d\.\d\d bits\/char/);
  await page.selectOption('#model-pick', SUBWORD);
  await page.waitForFunction(() => /4\u202F096 tokens \(BPE\)/.test(document.getElementById('status').textContent));
  page.off('request', log);
  assert.equal(new URL(page.url()).searchParams.get('model'), SUBWORD);
  assert.equal(await page.inputValue('#prompt'), prompt);
  assert.equal(await page.inputValue('#topP'), '0.9');
  // The bars: the top tokens, the other V − N, and the mass top-p leaves them.
  await page.waitForFunction(() => /the other 4\u202F0\d\d as one row/.test(document.getElementById('bars-text').textContent));
  assert.match(await page.textContent('#bars-text'), /They hold [\d.e−]+ of the final probability; [\d\u202F]+ of them are cut/);
  await page.click('#generate');
  await page.waitForFunction(() => /48 tokens in/.test(document.getElementById('gen-info').textContent));
  assert.equal(await page.textContent('#output-gen'), subwordGreedy(prompt, 48));
});

test('?model= selects the shipped subword model; the link keeps it', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=${SUBWORD}`);
  await ready(page);
  assert.match(await page.textContent('#status'), /4\u202F096 tokens \(BPE\)/);
  assert.equal(await page.inputValue('#model-pick'), SUBWORD);
  assert.equal(await page.$$eval('#model-pick option[data-url]', (os) => os.length), 0);
  await page.click('#copy-link');
  await page.waitForFunction(() => document.getElementById('copied').textContent !== '');
  const shown = await page.textContent('#copied');
  const link = shown.startsWith('http') ? shown : await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(new URL(link).searchParams.get('model'), SUBWORD);
  // Back to the built-in model through the list.
  await page.selectOption('#model-pick', '');
  await page.waitForFunction(() => /84 characters/.test(document.getElementById("status").textContent));
  assert.equal(new URL(page.url()).searchParams.get('model'), null);
});

test('the loss calculator on a subword model: pick among the likely next tokens, or type one', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&model=fixtures/f16-untied-gelu/&prompt=${encodeURIComponent('Romeo:\nBut soft')}`);
  await ready(page);
  await page.waitForSelector('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value');
  const options = await page.$$eval('#target option', (os) => os.map((o) => o.value));
  assert.ok(options.length >= 20, `${options.length} choices`);
  await page.selectOption('#target', options[3]);
  await page.waitForFunction((t) => document.getElementById('l-what').textContent.includes('predicts your target'), options[3]);
  assert.match(await page.textContent('#l-what'), /each token of the context/);
  assert.equal(await page.$$eval('#classify tbody tr', (trs) => trs.length), 5);
  await page.fill('#target-text', ' wherefore');
  await page.press('#target-text', 'Enter');
  await page.waitForFunction(() => !document.getElementById('l-error').hidden);
  assert.match(await page.textContent('#l-error'), /target y: “ wherefore” is \d+ tokens for this model; choose a single token/);
});

test('the file picker opens a folder\'s files; they stay out of the link', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  await page.setInputFiles('#model-files', files('f16-untied-gelu'));
  await page.waitForFunction(() => /from your files/.test(document.getElementById('status').textContent));
  assert.match(await page.textContent('#status'), /1\u202F024 tokens/);
  assert.equal(new URL(page.url()).searchParams.get('model'), null);
  await page.waitForFunction(() => /of 1\u202F024 tokens/.test(document.getElementById('bars-text').textContent));
  assert.equal(await page.inputValue('#model-pick'), 'files-open');
});

test('a bad file is a clear error naming it, and the page keeps its model', async () => {
  const { page } = lab;
  const before = await page.textContent('#status');
  await page.setInputFiles('#model-files', [
    { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from('{"model_type": "gpt2", "n_head": 5, "n_embd": 32') },
    ...files('f16-untied-gelu').slice(1).map((p) => ({ name: p.split('/').pop(), mimeType: 'application/octet-stream', buffer: readFileSync(p) })),
  ]);
  await page.waitForFunction(() => !document.getElementById('model-error').hidden);
  assert.match(await page.textContent('#model-error'), /^Could not open that model, so the page keeps the one it had: config\.json/);
  assert.equal(await page.textContent('#status'), before.replace(/ — loaded in \d+ ms\./, '.'));
  await page.setInputFiles('#model-files', [{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') }]);
  await page.waitForFunction(() => /notes\.txt/.test(document.getElementById('model-error').textContent));
  // Still the subword model, still working.
  await page.click('#step');
  await page.waitForFunction(() => document.getElementById('output-gen').textContent.length > 0);
});

test('drag and drop of a model\'s files', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  await page.evaluate(async () => {
    const dt = new DataTransfer();
    for (const name of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      const bytes = await (await fetch(`fixtures/bf16-tied-gelu_new/${name}`)).arrayBuffer();
      dt.items.add(new File([bytes], name));
    }
    document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => /from your files.*1\u202F024 tokens/.test(document.getElementById('status').textContent));
});

test('if the wasm cannot load, the page says so in its language', async () => {
  // A page of its own: the failure's console errors are expected here, not in the lab's page.
  const page = await lab.page.context().newPage();
  try {
    await page.route('**/logitlab_bg.wasm', (r) => r.abort());
    for (const [lang, lead] of [['en', 'Could not start the model: '], ['vi', 'Không khởi động được mô hình: ']]) {
      await page.goto(`${lab.url}?lang=${lang}`);
      await page.waitForFunction((l) => document.getElementById('status').textContent.startsWith(l), lead);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.ok(await page.$eval('#status', (e) => e.classList.contains('error')));
      assert.equal(await page.getAttribute('body', 'data-ready'), null);
    }
  } finally {
    await page.close();
  }
});

test('?model= on another origin is refused before any request; the built-in model loads instead', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=${encodeURIComponent('https://models.example/gpt2/')}`);
  await ready(page);
  assert.match(await page.textContent('#model-error'), /model must be a path on this site/);
  assert.match(await page.textContent('#status'), /84 characters/);
  assert.equal(new URL(page.url()).searchParams.get('model'), null);
});


/** The files of a stored (uncompressed) zip, by name. */
function unzip(bytes) {
  const files = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; view.getUint32(at, true) === 0x04034b50;) {
    const size = view.getUint32(at + 18, true);
    const nameLen = view.getUint16(at + 26, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLen));
    files[name] = bytes.subarray(at + 30 + nameLen, at + 30 + nameLen + size);
    at += 30 + nameLen + size;
  }
  return files;
}

test('the built-in model and a training run download as Hugging Face folders that load again', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
  assert.equal(download.suggestedFilename(), 'logitlab-shakespeare.zip');
  const files = unzip(readFileSync(await download.path()));
  assert.deepEqual(Object.keys(files), ['logitlab-shakespeare/config.json', 'logitlab-shakespeare/model.safetensors',
    'logitlab-shakespeare/tokenizer.json']);
  // The same network: the same next-token logits as the checkpoint it came from.
  const exported = Model.fromFiles(files);
  const original = Model.fromBytes(readFileSync('www/models/default.safetensors'));
  try {
    assert.equal(exported.config.tokenizer, 'bpe');
    const ids = original.encode('ROMEO:\nBut soft');
    assert.deepEqual(Array.from(exported.encode('ROMEO:\nBut soft')), Array.from(ids));
    assert.deepEqual(Array.from(exported.forward(ids)), Array.from(original.forward(ids)));
  } finally {
    exported.free();
    original.free();
  }
  // A training run's model, after one step.
  await page.click('.tabs a[data-view=train]');
  await page.click('#train-step');
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 60_000 });
  await page.click('#train-sample');
  await page.waitForSelector('#samples figure button');
  const [run] = await Promise.all([page.waitForEvent('download'), page.click('#samples figure button')]);
  assert.match(run.suggestedFilename(), /^logitlab-crossEntropyOnLogits-step1\.zip$/);
  const m = Model.fromFiles(unzip(readFileSync(await run.path())));
  assert.equal(m.config.layers, 2);
  m.free();
});

test('a subword model of the lab\'s shape exports with its own tokenizer; another shape says why not', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=fixtures/f32-tied-gelu_new/`);
  await ready(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
  const exported = Model.fromFiles(unzip(readFileSync(await download.path())));
  const original = Model.fromFiles(Object.fromEntries(files('f32-tied-gelu_new').map((p) => [p.split('/').pop(), readFileSync(p)])));
  try {
    const text = 'Romeo, Rô-mê-ô 😀';
    const ids = original.encode(text);
    assert.deepEqual(Array.from(exported.encode(text)), Array.from(ids));
    assert.deepEqual(Array.from(exported.forward(ids)), Array.from(original.forward(ids)));
  } finally {
    exported.free();
    original.free();
  }
  await page.goto(`${url}?model=fixtures/f16-untied-gelu/`);
  await ready(page);
  await page.click('#export-model');
  await page.waitForFunction(() => !document.getElementById('model-error').hidden);
  assert.match(await page.textContent('#model-error'), /only the lab's own models \(tanh GELU, LayerNorm ε 1e-5, tied head\)/);
});

test('a llama2.c checkpoint through ?model=, with the tokenizer.bin beside it', async () => {
  const { page, url } = lab;
  const expected = JSON.parse(readFileSync('tests/fixtures/llama2c/gqa-shared-v0.json', 'utf8'));
  const prompt = expected.prompt ?? 'Romeo';
  await page.goto(`${url}?model=llama/gqa-shared-v0.bin&temperature=0&tokens=40&prompt=${encodeURIComponent(prompt)}`);
  await ready(page);
  assert.match(await page.textContent('#status'), /Llama \(2 key\/value heads\), 2 layers × 48 wide, 6 heads.*512 tokens \(SentencePiece\)/);
  await page.click('#generate');
  await page.waitForFunction(() => /40 tokens in/.test(document.getElementById('gen-info').textContent));
  // The page's text is what the same wasm writes in Node.
  const model = Model.fromFiles({ 'gqa-shared-v0.bin': readFileSync('tests/fixtures/llama2c/gqa-shared-v0.bin'),
    'tokenizer.bin': readFileSync('tests/fixtures/llama2c/tokenizer.bin') });
  const gen = model.generate(prompt, { temperature: 0 });
  let text = '';
  for (let i = 0; i < 40; i++) text += gen.next().text;
  gen.free();
  model.free();
  assert.equal(await page.textContent('#output-gen'), text);
  // Without its tokenizer it is a clear error, and the built-in model stays.
  await page.setInputFiles('#model-files', ['tests/fixtures/llama2c/gqa-shared-v0.bin']);
  await page.waitForFunction(() => !document.getElementById('model-error').hidden);
  assert.match(await page.textContent('#model-error'), /tokenizer\.bin is missing: the llama2\.c model gqa-shared-v0\.bin needs/);
});

test('a llama2.c model of stories15M\'s shape: every panel works at V = 32 000', async () => {
  const { page, url } = lab;
  const prompt = 'Once upon a time';
  await page.goto(`${url}?model=stories/model.bin&temperature=0&tokens=12&prompt=${encodeURIComponent(prompt)}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
  assert.match(await page.textContent('#status'), /6 layers × 288 wide, 6 heads, context 256, 32\u202F000 tokens \(SentencePiece\)/);
  await page.waitForFunction(() => /the other 31\u202F9\d\d as one row/.test(document.getElementById('bars-text').textContent));
  await page.waitForFunction(() => document.getElementById('z-f16').textContent !== '');
  assert.ok(Number((await page.textContent('#maxdiff')).replace('−', '-')) < 1e-5); // the page writes U+2212
  await page.click('#draw');
  await page.waitForFunction(() => /1\u202F000 draws/.test(document.getElementById('hist-text').textContent));
  await page.click('#generate');
  await page.waitForFunction(() => /12 tokens in/.test(document.getElementById('gen-info').textContent), null, { timeout: 60_000 });
  const model = Model.fromFiles({ 'model.bin': readFileSync(join(stories, 'model.bin')), 'tokenizer.bin': readFileSync(join(stories, 'tokenizer.bin')) });
  const gen = model.generate(prompt, { temperature: 0 });
  let text = '';
  for (let i = 0; i < 12; i++) text += gen.next().text;
  gen.free();
  model.free();
  assert.equal(await page.textContent('#output-gen'), text);
  // The loss calculator at V = 32 000, its target picked among the likely next tokens (this
  // tokenizer spells the default target, "I", as two tokens: a clear error until then).
  await page.click('.tabs a[data-view=train]');
  await page.waitForFunction(() => document.querySelectorAll('#target option').length >= 20, null, { timeout: 60_000 });
  const options = await page.$$eval('#target option', (os) => os.map((o) => o.value));
  await page.selectOption('#target', options[0]);
  await page.waitForSelector('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value', { timeout: 60_000 });
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
