// The sampler chain of the sampling view, from the keyboard alone: a preset, a step moved up,
// one removed, one added and a parameter typed, then generation; the URL holds the chain, and
// after a reload the same seed gives the same text. The "order matters" preset shows the two
// kept sets the wasm computes for z = (3, 2, 1), and a bad parameter is worded in the page's
// language.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
const announced = (page) => page.textContent('#announcer');
/** The kinds of the list's steps, in order. */
const kinds = (page) => page.$$eval('#chain-steps .chain-head code', (els) => els.map((e) => e.textContent));

/** Presses Tab until the focus is on `selector`. */
async function tabTo(page, selector, { max = 250 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel), selector)) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}

/** Generates with the Generate button (from the keyboard) and returns the new text. */
async function generateText(page) {
  await tabTo(page, '#generate');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Generation finished: \d+/.test(document.getElementById('announcer').textContent), null, { timeout: 60_000 });
  return page.textContent('#output-gen');
}

test('a chain built from the keyboard lives in the URL and gives the same text after a reload', async () => {
  const { page, url, consoleErrors } = lab;
  await page.goto(`${url}?tokens=40&seed=7`);
  await ready(page);
  await page.waitForSelector('#chain-steps li');
  assert.deepEqual(await kinds(page), ['temperature', 'topK', 'topP', 'minP'], 'the sliders\' chain');

  await tabTo(page, '#preset-llama');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('chain')?.startsWith('pen_'));
  assert.deepEqual(await kinds(page), ['penalties', 'dry', 'topNSigma', 'topK', 'typical', 'topP', 'minP', 'xtc', 'dynamicTemperature']);
  assert.match(await announced(page), /llama\.cpp order/);
  // The sliders no longer set the chain: they are hidden.
  assert.equal(await page.isVisible('#topP'), false);

  // Step 4 (topK) up with Alt+↑: it becomes step 3, and the focus stays on it.
  await tabTo(page, '#chain-steps li[data-i="3"]');
  await page.keyboard.press('Alt+ArrowUp');
  await page.waitForFunction(() => document.activeElement?.matches('#chain-steps li[data-i="2"]'));
  assert.deepEqual((await kinds(page)).slice(1, 4), ['dry', 'topK', 'topNSigma']);
  assert.match(await announced(page), /topK is now step 3 of 9/);
  // ↓ moves the focus to the next step; Delete removes it (topNSigma).
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Delete');
  await page.waitForFunction(() => document.querySelectorAll('#chain-steps li').length === 8);
  assert.equal((await kinds(page)).includes('topNSigma'), false);
  assert.match(await announced(page), /topNSigma removed; the chain has 8 steps/);

  // Add a repetition penalty: it goes last, and its penalty is typed.
  await tabTo(page, '#add-kind');
  await page.selectOption('#add-kind', 'repetitionPenalty'); // a select's value, as its arrow keys would set it
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'add-step');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#chain-steps li').length === 9);
  assert.equal((await kinds(page)).at(-1), 'repetitionPenalty');
  await tabTo(page, '#chain-steps li[data-i="8"] input[data-field="penalty"]');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('1.3');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('chain')?.endsWith('~rp_1.3'));
  // Each step shows what it kept and the mass it removed, from the wasm.
  await page.waitForFunction(() => /kept \d+ · removed/.test(document.getElementById('chain-figures-8')?.textContent ?? ''));

  const chain = new URL(page.url()).searchParams.get('chain');
  const text = await generateText(page);
  assert.ok(text.length >= 20, text);

  await page.reload();
  await ready(page);
  await page.waitForSelector('#chain-steps li');
  assert.equal(new URL(page.url()).searchParams.get('chain'), chain);
  assert.deepEqual(await kinds(page), ['penalties', 'dry', 'topK', 'typical', 'topP', 'minP', 'xtc', 'dynamicTemperature', 'repetitionPenalty']);
  assert.equal(await page.inputValue('#chain-steps li[data-i="8"] input[data-field="penalty"]'), '1.3');
  assert.equal(await generateText(page), text, 'the same chain and seed give the same text');
  assert.deepEqual(consoleErrors, []);
});

test('"the order matters" shows the two kept sets of z = (3, 2, 1), in both languages', async () => {
  const { page, url, consoleErrors } = lab;
  for (const [lang, hf, llama] of [['en', 'keeps {0}', 'keeps {0, 1}'], ['vi', 'giữ {0}', 'giữ {0; 1}']]) {
    await page.goto(`${url}?lang=${lang}`);
    await ready(page);
    await tabTo(page, '#preset-order');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('chain') === 't_0.5~p_0.8_1');
    assert.deepEqual(await kinds(page), ['temperature', 'topP']);
    assert.equal((await page.textContent('#order-hf-kept')).trim(), hf);
    assert.equal((await page.textContent('#order-llama-kept')).trim(), llama);
    assert.equal(await page.textContent('#order-hf-chain'), lang === 'en' ? 'temperature 0.5 → topP 0.8' : 'temperature 0,5 → topP 0,8');
  }
  assert.deepEqual(consoleErrors, []);
});

test('on the model, the two orders part at a token the page marks', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?seed=3`);
  await ready(page);
  await tabTo(page, '#order-run');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /part at token \d+|agree/.test(document.getElementById('order-summary').textContent), null, { timeout: 60_000 });
  const summary = await page.textContent('#order-summary');
  const m = /part at token (\d+): there the Hugging Face order kept (\d+) ids and the llama\.cpp order (\d+)/.exec(summary);
  assert.ok(m, summary);
  const at = Number(m[1]) - 1;
  // The marked token is the first one that differs, and the texts agree before it.
  const tokens = await page.evaluate(() => ['hf', 'llama'].map((k) => Array.from(document.getElementById(`order-${k}-text`).children,
    (s) => ({ text: s.textContent, parts: s.classList.contains('parts') }))));
  for (const side of tokens) assert.equal(side.findIndex((s) => s.parts), at);
  assert.deepEqual(tokens[0].slice(0, at).map((s) => s.text), tokens[1].slice(0, at).map((s) => s.text));
  assert.notEqual(tokens[0][at].text, tokens[1][at].text);
  assert.match(await announced(page), /part at token/);
});

test('a slider moved writes its value into the sliders\' chain in place, as drawing the list afresh would', async () => {
  const { page, url, consoleErrors } = lab;
  await page.goto(`${url}?temperature=0.8&topP=0.9&lang=vi`);
  await ready(page);
  await page.waitForSelector('#chain-steps li');
  const list = () => page.$eval('#chain-steps', (ol) => ({
    html: ol.innerHTML,
    values: Array.from(ol.querySelectorAll('[data-field]'), (el) => `${el.closest('li').dataset.i} ${el.dataset.field}=${el.value}`),
  }));
  const items = await page.$$('#chain-steps li');
  for (const [key, value] of [['topP', '0.75'], ['temperature', '1.3'], ['minP', '0.05']]) {
    await page.$eval(`#${key}`, (el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }, value);
    const moved = await list();
    // The same items (not drawn afresh), with the slider's value in its step's field.
    const same = await page.$$eval('#chain-steps li', (lis, before) => lis.every((li, i) => li === before[i]), items);
    assert.ok(same, `${key}: the list was drawn afresh`);
    const field = { topP: '2 p', temperature: '0 t', minP: '3 p' }[key];
    assert.ok(moved.values.includes(`${field}=${value}`), `${key}: ${moved.values.join(', ')}`);
    // Choosing the sliders' preset draws the list afresh: the same list, field for field.
    await page.click('#preset-sliders');
    assert.deepEqual(await list(), moved, key);
    items.splice(0, items.length, ...await page.$$('#chain-steps li'));
  }
  assert.deepEqual(consoleErrors, []);
});

test('a parameter out of range is refused, worded in the page\'s language, and the chain is kept', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&chain=t_0.5~p_0.8_1`);
  await ready(page);
  await page.waitForSelector('#chain-steps li');
  await page.fill('#chain-steps li[data-i="1"] input[data-field="p"]', '1.5');
  await page.dispatchEvent('#chain-steps li[data-i="1"] input[data-field="p"]', 'change');
  await page.waitForSelector('#chain-error:not([hidden])');
  assert.equal(await page.textContent('#chain-error'),
    'chuỗi bộ lấy mẫu, bước 2 (topP): p phải thuộc [0; 1], nhưng nhận được 1,5.');
  assert.equal(new URL(page.url()).searchParams.get('chain'), 't_0.5~p_0.8_1');
});

test('chain errors carry codes and quote values as JS writes them', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  const errors = await page.evaluate(async () => {
    const m = await import('./pkg/logitlab.js');
    const error = (f) => { try { f(); return null; } catch (e) { return { code: e.code, params: e.params }; } };
    const sampler = new m.Sampler('huggingface');
    try {
      return [
        error(() => new m.Sampler([{ kind: 'topP', p: NaN }])),
        error(() => new m.Sampler([{ kind: 'topP', p: 5 }])),
        error(() => new m.Sampler([{ t: 1 }])),
        error(() => new m.Sampler([{ kind: 'dry', breakers: Array.from({ length: 257 }, () => [1]) }])),
        error(() => new m.Sampler([{ kind: 'logitBias', bias: [[9, 1]] }]).distribution([1, 2])),
        error(() => sampler.distribution([1, 2], { history: new Uint32Array(2 ** 20 + 1) })),
      ];
    } finally {
      sampler.free();
    }
  });
  assert.deepEqual(errors.map((e) => e?.code), ['chain.badParam', 'chain.badParam', 'chain.missingKind', 'chain.tooMany',
    'chain.biasId', 'history.tooLong']);
  assert.equal(errors[0].params.value, 'NaN');
  assert.equal(errors[1].params.value, '5');
  assert.deepEqual(errors[2].params, { index: '0', step: '1' });
  assert.deepEqual([errors[3].params.count, errors[3].params.max], [257, 256]);
  assert.deepEqual([errors[4].params.id, errors[4].params.vocab], ['9', 2]);
  assert.deepEqual([errors[5].params.count, errors[5].params.max], [2 ** 20 + 1, 2 ** 20]);
});
