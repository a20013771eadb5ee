// The page's languages. The catalogues: every key in each (a missing one fails), every key used
// by the page (an unused one fails), the same parameters in each translation, every error code
// the page raises worded, thousands grouped by U+202F. Then the page: ?lang=, the browser's
// preferred language, the switch, <html lang>, English output marked lang="en", decimal commas
// in Vietnamese prose and typing while the URL stays dot-decimal, errors in the page's language,
// and pasted text normalised to NFC (decomposed Vietnamese trains on the same characters as
// composed). tests/e2e/notation.test.mjs covers the typed notation and the errors in depth.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openLab, launchChromium } from './lib/harness.mjs';
import { startServer } from './lib/server.mjs';

const WWW = 'www';
const catalogues = {};
for (const f of (await readdir(join(WWW, 'i18n'))).filter((f) => f.endsWith('.js'))) {
  catalogues[f.replace(/\.js$/, '')] = (await import(pathToFileURL(join(WWW, 'i18n', f)).href)).default;
}
const { LANGUAGES } = await import(pathToFileURL(join(WWW, 'i18n.js')).href);

/** The page's sources: index.html and every module (not the generated wasm glue). */
async function sources() {
  const files = ['index.html', ...(await readdir(WWW)).filter((f) => f.endsWith('.js'))];
  return (await Promise.all(files.map((f) => readFile(join(WWW, f), 'utf8')))).join('\n');
}

test('each catalogue has every key of the others, with the same parameters', () => {
  const codes = Object.keys(catalogues);
  assert.ok(codes.includes('en') && codes.includes('vi'), codes.join());
  const all = new Set(codes.flatMap((c) => Object.keys(catalogues[c])));
  const params = (m) => [...new Set(m.match(/\{\w+\}/g) ?? [])].sort().join(' ');
  for (const code of codes) {
    const missing = [...all].filter((k) => !Object.hasOwn(catalogues[code], k));
    assert.deepEqual(missing, [], `${code}.js lacks ${missing.join(', ')}`);
    for (const k of all) {
      assert.equal(typeof catalogues[code][k], 'string', `${code}.js: ${k}`);
      assert.equal(params(catalogues[code][k]), params(catalogues.en[k]), `${code}.js: ${k} has other parameters than en.js`);
    }
  }
});

test('every key is used by the page, and every key the page uses exists', async () => {
  const src = await sources();
  const keys = Object.keys(catalogues.en);
  // Keys the page builds from a prefix: t(`bars.caption.${show}`) uses every bars.caption.* key.
  const prefixes = [...src.matchAll(/`([\w.-]+\.)\$\{/g)].map((m) => m[1]);
  const used = (k) => src.includes(`'${k}'`) || src.includes(`"${k}"`) || prefixes.some((p) => k.startsWith(p));
  const unused = keys.filter((k) => !used(k) && !['language.name', 'number.decimal', 'number.group'].includes(k));
  assert.deepEqual(unused, [], `unused keys: ${unused.join(', ')}`);
  // Every data-i18n key of index.html and every literal t('…') key exists.
  const html = await readFile(join(WWW, 'index.html'), 'utf8');
  const named = [...html.matchAll(/data-i18n(?:-aria-label)?="([^"]+)"/g), ...src.matchAll(/\bt\('([^'$]+)'/g),
    ...src.matchAll(/fillNodes\([^,]+, '([^']+)'/g), ...src.matchAll(/showError\([^,]+, '([^']+)'/g)].map((m) => m[1]);
  const unknown = [...new Set(named)].filter((k) => !Object.hasOwn(catalogues.en, k));
  assert.deepEqual(unknown, [], `keys used but in no catalogue: ${unknown.join(', ')}`);
  assert.deepEqual(Object.keys(LANGUAGES).sort(), Object.keys(catalogues).sort(), 'LANGUAGES names each catalogue');
  // The codes the page's scripts give their own errors have their messages (the wasm's: tests
  // in src/error.rs).
  const codes = [...src.matchAll(/\bcoded\('([\w.]+)'/g)].map((m) => `error.${m[1]}`);
  assert.ok(codes.includes('error.prompt.empty'), codes.join());
  assert.deepEqual(codes.filter((k) => !Object.hasOwn(catalogues.en, k)), []);
});

test('numbers in the catalogues group thousands with a narrow no-break space, as the page does', () => {
  for (const [code, messages] of Object.entries(catalogues)) {
    assert.equal(messages['number.group'], '\u202F', code);
    for (const [key, m] of Object.entries(messages)) {
      // 4 096 with a plain or a no-break space, or 4,096, is not how the page writes 4 096.
      assert.doesNotMatch(m, /\d[ \u00A0]\d{3}(?!\d)/, `${code}.js: ${key}`);
      if (code === 'en') assert.doesNotMatch(m, /\d,\d{3}(?!\d)/, `${code}.js: ${key}`);
    }
  }
});

test('index.html has no prose of its own: every text is a catalogue message', async () => {
  // The page as served, before any script runs: words may only sit in MathML, code, and the
  // name "logitlab"; a new element with English in it and no data-i18n fails here.
  const html = await readFile(join(WWW, 'index.html'), 'utf8');
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await page.setContent(html.replace(/<script[^>]*><\/script>/g, ''));
    const stray = await page.evaluate(() => {
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.data.trim();
        if (!/\p{L}/u.test(text) || text === 'logitlab') continue;
        const el = n.parentElement;
        if (el.closest('math, code')) continue;
        out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}: ${text.slice(0, 60)}`);
      }
      return out;
    });
    assert.deepEqual(stray, []);
  } finally {
    await browser.close();
  }
});

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });
const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });

test('?lang=vi: the page, its title and <html lang> are Vietnamese; numbers use a decimal comma', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&temperature=0.85`);
  await ready(page);
  await page.waitForSelector('#bars .bar-row');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.match(await page.title(), /nhiệt độ/);
  assert.equal(await page.textContent('.tabs a[data-view=sample]'), 'Lấy mẫu');
  assert.equal(await page.textContent('#temperature-value'), '0,85');
  assert.match(await page.textContent('#entropy'), /^\d+,\d{3} nat = \d+,\d{3} bit$/);
  assert.match(page.url(), /temperature=0\.85/); // the URL stays dot-decimal
  // English model output inside the Vietnamese page is marked.
  assert.equal(await page.getAttribute('#output', 'lang'), 'en');
  assert.equal(await page.getAttribute('#bars .bar-label span', 'lang'), 'en');
  // The same identity in the Vietnamese page, typed in its notation; the URL stays dot-decimal.
  await page.click('.tabs a[data-view=numbers]');
  await page.fill('#logits', '2; 1; 0,5');
  await page.waitForFunction(() => document.querySelectorAll('#n-table tbody tr').length === 3);
  const cells = await page.$$eval('#n-table tbody tr:nth-child(3) td', (tds) => tds.map((td) => td.textContent));
  assert.equal(cells[1], '0,500000');
  assert.match(page.url(), /numbersLogits=2%2C\+1%2C\+0\.5(&|$)/);
  // An error the wasm words by code is in Vietnamese, not marked English.
  await page.fill('#logits', '1; oops');
  await page.waitForSelector('#n-error:not([hidden])');
  assert.equal(await page.textContent('#n-error'), 'logits z: z[1] là “oops”, không phải một số (hãy viết ví dụ 2; −1,5; 1e3; −Infinity).');
  assert.equal(await page.$('#n-error [lang=en]'), null);
});

test('an error with no catalogue message stays English, marked so, after a Vietnamese lead-in', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi`);
  await ready(page);
  // A file that is no model: the parser's own English detail.
  await page.setInputFiles('#model-files', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
  await page.waitForFunction(() => !document.getElementById('model-error').hidden);
  assert.match(await page.textContent('#model-error'), /^Không mở được mô hình đó nên trang vẫn giữ mô hình đang dùng: \S.+$/);
  const detail = await page.$eval('#model-error [lang=en]', (el) => el.textContent);
  assert.match(detail, /safetensors/);
});

test('an error the page words itself is in the page\'s language, not marked English', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&view=train&pipelines=`);
  await ready(page);
  await page.click('#train-step');
  await page.waitForFunction(() => /lượt chạy/.test(document.getElementById('train-status').textContent));
  assert.equal(await page.textContent('#train-status'), 'Lỗi huấn luyện: hãy chọn ít nhất một lượt chạy');
  assert.equal(await page.$('#train-status [lang=en]'), null);
  assert.match(await page.textContent('#announcer'), /^Lỗi: hãy chọn/);
});

test('the switch changes the language and keeps the state', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&view=numbers&numbersTemperature=0.5`);
  await ready(page);
  assert.equal(await page.getAttribute('#lang-switch button[lang=vi]', 'aria-pressed'), 'true');
  await page.click('#lang-switch button[lang=en]');
  await page.waitForFunction(() => document.documentElement.lang === 'en' && document.body.dataset.ready === '1');
  assert.match(page.url(), /view=numbers&numbersTemperature=0\.5.*lang=en/);
  assert.equal(await page.textContent('#n-temperature-value'), '0.50');
  assert.equal(await page.getAttribute('#output', 'lang'), null); // English in an English page: no mark needed
  // An instructor can hide the switch in an embed.
  await page.goto(`${url}?lang=vi&embed=1&hide=lang`);
  await ready(page);
  assert.equal(await page.isVisible('#lang-switch'), false);
});

test('no ?lang=: the browser\'s preferred language if the page has it, else English', async () => {
  const { server, url } = await startServer({ root: WWW });
  const browser = await launchChromium();
  try {
    for (const [locale, want] of [['vi-VN', 'vi'], ['en-GB', 'en'], ['fr-FR', 'en']]) {
      const context = await browser.newContext({ locale });
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30_000 });
      assert.equal(await page.getAttribute('html', 'lang'), want, locale);
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});

test('pasted Vietnamese in NFD is trained on in NFC, and the page says so', async () => {
  const { page, url } = lab;
  const text = 'Trăm năm trong cõi người ta, chữ tài chữ mệnh khéo là ghét nhau.\n'.repeat(30);
  const classes = async (pasted) => {
    await page.goto(`${url}?view=train&trainText=own&pipelines=crossEntropyOnSoftmax`);
    await ready(page);
    await page.fill('#own-text', pasted);
    await page.click('#train-step');
    await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 60_000 });
    return {
      C: Number((await page.textContent('#ce-softmax-note')).match(/C = (\d+) characters/)[1]),
      note: await page.isVisible('#nfc-note') ? await page.textContent('#nfc-note') : null,
    };
  };
  const nfd = text.normalize('NFD');
  assert.notEqual(nfd, text);
  const composed = await classes(text);
  const decomposed = await classes(nfd);
  assert.equal(composed.note, null);
  assert.equal(decomposed.C, composed.C, 'the same characters either way');
  // Counts are grouped by U+202F, as the page writes every number.
  const grouped = (n) => String(n).replace(/\B(?=(\d{3})+$)/g, '\u202F');
  assert.match(decomposed.note, new RegExp(`NFC\\), ${grouped(nfd.length)} → ${grouped(text.length)} characters`));
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
