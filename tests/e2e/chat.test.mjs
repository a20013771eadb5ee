// Chat models: a Qwen2 folder with a chat template (tests/fixtures/chat/qwen2-chat, made by
// make_chat_fixtures.py) through ?model= and through the file pickers. The prompt goes through
// the template as a chat message, the reply is transformers' greedy text and ends at the
// model's eos_token_id; the model card and the prompt's tokens per word are shown.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLab } from './lib/harness.mjs';
import { initSync, Model } from '../../www/pkg-chat/logitlab_chat.js';

const DIR = 'tests/fixtures/chat/qwen2-chat';
const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json', 'tokenizer_config.json'];
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8'));
let lab;
/**
 * Folders made from qwen2-chat for these tests, mounted at /made/: `jinja/` keeps its template
 * in chat_template.jinja (where recent transformers saves it), `raising/` has one that fails.
 */
const made = mkdtempSync(join(tmpdir(), 'logitlab-chat-'));
function makeFolder(name, { template, jinja }) {
  const dir = join(made, name);
  mkdirSync(dir);
  for (const f of FILES) writeFileSync(join(dir, f), readFileSync(`${DIR}/${f}`));
  const config = JSON.parse(readFileSync(`${DIR}/tokenizer_config.json`, 'utf8'));
  if (jinja) {
    delete config.chat_template;
    writeFileSync(join(dir, 'chat_template.jinja'), template);
  } else {
    config.chat_template = template;
  }
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
}
/** The reply as the page writes it: transformers' greedy ids before eos, decoded by the same wasm. */
let reply;
before(async () => {
  const json = JSON.parse(readFileSync(`${DIR}/tokenizer_config.json`, 'utf8'));
  makeFolder('jinja', { template: json.chat_template, jinja: true });
  makeFolder('raising', { template: "{{ raise_exception('Conversation roles must alternate') }}" });
  lab = await openLab({ mounts: { '/chat/': 'tests/fixtures/chat', '/made/': made } });
  initSync({ module: readFileSync('www/pkg-chat/logitlab_chat_bg.wasm') });
  const model = Model.fromFiles(Object.fromEntries(FILES.map((f) => [f, readFileSync(`${DIR}/${f}`)])));
  try {
    assert.equal(model.applyChatTemplate(expected.messages, { addGenerationPrompt: true }), expected.prompt);
    assert.deepEqual(Array.from(model.encode(expected.prompt)), expected.prompt_ids);
    reply = model.decode(Uint32Array.from(expected.greedy.slice(0, -1)));
  } finally {
    model.free();
  }
});
after(async () => {
  await lab?.close();
  rmSync(made, { recursive: true, force: true });
});

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
const prompt = expected.messages[0].content;

/** Ticks "as a chat message", generates, and checks the text, the end and the card. */
async function chatAndGenerate(page) {
  assert.equal(await page.isHidden('#chat-label'), false);
  await page.check('#chat');
  await page.waitForFunction((p) => document.getElementById('output-prompt').textContent === p, expected.prompt);
  await page.click('#generate');
  await page.waitForFunction(() => /ended the text/.test(document.getElementById('gen-info').textContent));
  assert.equal(await page.textContent('#output-gen'), reply);
  const info = await page.textContent('#gen-info');
  assert.match(info, new RegExp(`^${expected.greedy.length} tokens in .*: the model ended the text: it produced <\\|endoftext\\|> \\(id 0\\), one of its end-of-text ids \\(eos_token_id\\)\\.$`));
  const card = await page.$$eval('#model-card-list > *', (els) => els.map((e) => e.textContent));
  // transformers' parameter count, grouped as the page writes numbers.
  const parameters = String(expected.parameters).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202F');
  assert.deepEqual(card.filter((_, i) => i % 2 === 1), ['Qwen2', parameters, 'float32', '320', '512',
    'a matrix of its own', '<|endoftext|> (id 0)', 'yes (tokenizer_config.json)']);
}

test('?model= names a Qwen2 chat folder: the prompt goes through its chat template, and the reply ends at EOS', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=chat/qwen2-chat/&temperature=0&tokens=64&prompt=${encodeURIComponent(prompt)}`);
  await ready(page);
  // Tokens per word, for the prompt as typed, under this tokenizer.
  const model = Model.fromFiles(Object.fromEntries(FILES.map((f) => [f, readFileSync(`${DIR}/${f}`)])));
  const stats = model.tokenStats(prompt);
  model.free();
  assert.equal(stats.words, 4);
  await page.waitForFunction(() => document.getElementById('prompt-stats').textContent !== '');
  assert.equal(await page.textContent('#prompt-stats'),
    `This text is ${stats.tokens} tokens (${(stats.tokens / 4).toFixed(2)} per word).`);
  await chatAndGenerate(page);
  // The link keeps the choice.
  assert.equal(new URL(page.url()).searchParams.get('chat'), '1');
  // Off again: the prompt as typed.
  await page.uncheck('#chat');
  await page.waitForFunction((p) => document.getElementById('output-prompt').textContent === p, prompt);
});

test('the chat build is fetched for a folder with a tokenizer_config.json, and only then', async () => {
  const { page, url } = lab;
  const asked = [];
  const seen = (r) => { if (r.url().includes('/pkg-chat/')) asked.push(new URL(r.url()).pathname); };
  page.context().on('request', seen);
  try {
    await page.goto(`${url}?temperature=0`); // the built-in model
    await ready(page);
    assert.deepEqual(asked, []);
    await page.goto(`${url}?model=chat/qwen2-chat/`);
    await ready(page);
    assert.ok(asked.includes('/pkg-chat/logitlab_chat_bg.wasm'), asked.join(' '));
  } finally {
    page.context().off('request', seen);
  }
});

test('a template in chat_template.jinja, where recent transformers saves it, is read', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=made/jinja/&temperature=0&tokens=64&prompt=${encodeURIComponent(prompt)}`);
  await ready(page);
  await page.check('#chat');
  await page.waitForFunction((p) => document.getElementById('output-prompt').textContent === p, expected.prompt);
  const card = await page.$$eval('#model-card-list > *', (els) => els.map((e) => e.textContent));
  assert.equal(card.at(-1), 'yes (chat_template.jinja)');
});

test('a template that fails: the page says why and generates nothing from the prompt as typed', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=made/raising/&temperature=0&tokens=8&chat=1&prompt=Hello`);
  await ready(page);
  await page.click('#generate');
  await page.waitForFunction(() => /nothing was generated/.test(document.getElementById('gen-info').textContent));
  assert.match(await page.textContent('#gen-info'), /^The chat template could not write the prompt, so nothing was generated: .*Conversation roles must alternate/);
  assert.equal(await page.textContent('#output-gen'), '');
  assert.equal(await page.isDisabled('#generate'), false);
});

test('the same folder through the folder picker and the file picker', async () => {
  const { page, url } = lab;
  for (const input of ['#model-folder', '#model-files']) {
    await page.goto(`${url}?temperature=0&tokens=64&prompt=${encodeURIComponent(prompt)}`);
    await ready(page);
    // The built-in character model has no chat template: nothing to tick.
    assert.equal(await page.isHidden('#chat-label'), true);
    assert.match(await page.textContent('#model-card-list'), /logitlab.*no token: only the number of tokens asked for, or Stop, ends it.*none/);
    if (input === '#model-folder') await page.setInputFiles(input, DIR);
    else await page.setInputFiles(input, FILES.map((f) => `${DIR}/${f}`));
    await page.waitForFunction(() => /from your files/.test(document.getElementById('status').textContent));
    await chatAndGenerate(page);
  }
});

test('the chat box is reached and named by keyboard and screen reader', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?model=chat/qwen2-chat/&lang=vi`);
  await ready(page);
  const name = await page.$eval('#chat', (el) => el.labels[0].textContent);
  assert.match(name, /Gửi dưới dạng một tin nhắn chat/);
  await page.focus('#prompt');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'chat');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#chat'), true);
  assert.match(await page.textContent('#model-card summary'), /Thẻ mô hình/);
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
