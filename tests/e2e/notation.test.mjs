// The Vietnamese page reads its own notation and speaks its own errors. A typed vector is
// "2; 1; 0,5" there (a decimal comma, semicolons between entries) and "2, 1, 0.5" on the English
// page; the URL keeps the English notation, so a link or a preset gives the same numbers in both.
// Every error a student can cause from the page's inputs is worded by the catalogue, naming the
// control by its label; on the Vietnamese page no English is left outside lang="en" marks.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

const NNBSP = '\u202F';
let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });
const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });

/** The z column of a table, as shown. */
const zColumn = (page, table) => page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => tr.cells[1].textContent));

/**
 * The text of `selector` outside any lang="en" element, and whether it holds words of an English
 * sentence (the wasm's messages are English sentences: "is", "must", "not a number", …).
 */
async function unmarked(page, selector) {
  const text = await page.$eval(selector, (el) => {
    const out = [];
    const walk = (n) => {
      if (n.nodeType === Node.TEXT_NODE) out.push(n.data);
      else if (!(n.lang === 'en')) n.childNodes.forEach(walk);
    };
    walk(el);
    return out.join('');
  });
  return { text, english: /\b(the|is|are|must|not|of|has|entries|empty|choose|type|character|tokens?)\b/i.test(text.replace(/\(prompt\)|\btoken\b/g, '')) };
}

/** Asserts that `selector` shows a Vietnamese message matching `re`, with no English outside marks. */
async function vietnamese(page, selector, re) {
  await page.waitForFunction(([s, src]) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''), [selector, re.source]);
  const { text, english } = await unmarked(page, selector);
  assert.match(text, re);
  assert.equal(english, false, `English in ${selector}: ${text}`);
  assert.equal(await page.$(`${selector} [lang=en]`), null, `${selector} marks part of its text English: ${text}`);
}

test('Vietnamese: "2; 1; 0,5; −1; −3" is 5 entries and "1; 1,001" is 2; the URL stays dot-decimal', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&view=numbers`);
  await ready(page);
  // The default vector, from the URL's notation, in the page's.
  assert.equal(await page.inputValue('#logits'), '2; 1; 0,5; -1; -3');
  await page.fill('#logits', '2; 1; 0,5; −1; −3');
  await page.waitForFunction(() => document.getElementById('n-error').hidden);
  assert.deepEqual(await zColumn(page, 'n-table'), ['2,00000', '1,00000', '0,500000', '−1,00000', '−3,00000']);
  assert.equal(new URL(page.url()).searchParams.get('numbersLogits'), '2, 1, 0.5, −1, −3');
  await page.fill('#logits', '1; 1,001');
  await page.waitForFunction(() => document.querySelectorAll('#n-table tbody tr').length === 2);
  assert.deepEqual(await zColumn(page, 'n-table'), ['1,00000', '1,00100']);
  assert.equal(new URL(page.url()).searchParams.get('numbersLogits'), '1, 1.001');
  // A reload reads the URL back into the page's notation.
  await page.reload();
  await ready(page);
  assert.equal(await page.inputValue('#logits'), '1; 1,001');
  assert.deepEqual(await zColumn(page, 'n-table'), ['1,00000', '1,00100']);
  // The same link on the English page: the same two numbers.
  await page.goto(page.url().replace('lang=vi', 'lang=en'));
  await ready(page);
  assert.equal(await page.inputValue('#logits'), '1, 1.001');
  assert.deepEqual(await zColumn(page, 'n-table'), ['1.00000', '1.00100']);
});

test('the near-tie link and the stability presets give the same numbers in both languages', async () => {
  const { page, url } = lab;
  for (const [lang, shown, cells] of [['vi', '1; 1,001', ['1,0000', '1,0010']], ['en', '1, 1.001', ['1.0000', '1.0010']]]) {
    await page.goto(`${url}?lang=${lang}`);
    await ready(page);
    await page.click('#verdicts a[data-verdict="1b"]');
    await ready(page);
    await page.waitForSelector('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value');
    assert.equal(await page.inputValue('#l-logits'), shown, lang);
    const z = await page.$$eval('#l-vector tbody tr', (trs) => trs.map((tr) => tr.cells[2].textContent).sort());
    assert.deepEqual(z, cells, lang);
    assert.equal(await page.isHidden('#l-error'), true, lang);
  }
  await page.goto(`${url}?lang=vi&view=numbers`);
  await ready(page);
  const presets = await page.$$eval('#view-numbers [data-preset]', (bs) => bs.map((b) => b.textContent));
  assert.deepEqual(presets.slice(0, 2), ['z = (1000; 0)', 'z = (−1000; 0)']);
  await page.click('#view-numbers [data-preset="2, 1, 0.5, -1, -3"]');
  assert.equal(await page.inputValue('#logits'), '2; 1; 0,5; -1; -3');
  assert.deepEqual(await zColumn(page, 'n-table'), ['2,00000', '1,00000', '0,500000', '−1,00000', '−3,00000']);
  await page.click('#view-numbers [data-preset="100, 0*49999"]');
  assert.equal(await page.inputValue('#logits'), '100; 0*49999');
  await page.waitForFunction(() => /50\u202F000/.test(document.getElementById('s-summary').textContent));
  assert.match(await page.textContent('#n-more'), new RegExp(`10 id đầu tiên trong tổng số 50${NNBSP}000`));
  assert.equal(new URL(page.url()).searchParams.get('numbersLogits'), '100, 0*49999');
});

test('Vietnamese: what could be read two ways is a Vietnamese error naming logits z', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&view=numbers`);
  await ready(page);
  for (const [typed, re] of [
    ['2, 1, 0.5', /^logits z: “2,” có dấu phẩy ở cuối một số/],
    ['2,1,0,5', /^logits z: “2,1,0,5” có nhiều hơn một dấu phẩy/],
    ['0.5; 1', /^logits z: “0\.5” có dấu chấm\. Trên trang tiếng Việt, dấu thập phân là dấu phẩy/],
    ['1; oops', /^logits z: z\[1\] là “oops”, không phải một số/],
    ['', /^logits z đang trống/],
    ['1*0', /^logits z: trong “1\*0”, số lần lặp sau dấu \* phải là số nguyên ≥ 1/],
    ['1; Infinity', /^logits z: z\[1\] bằng \+∞/],
    ['-Infinity; −∞', /^logits z: mọi phần tử đều bằng −∞/],
  ]) {
    await page.fill('#logits', typed);
    await page.waitForSelector('#n-error:not([hidden])');
    await vietnamese(page, '#n-error', re);
  }
  // The English page: the Vietnamese notation is refused there, in English.
  await page.goto(`${url}?lang=en&view=numbers`);
  await ready(page);
  await page.fill('#logits', '1; 1,001');
  await page.waitForSelector('#n-error:not([hidden])');
  assert.match(await page.textContent('#n-error'), /^logits z: is the comma in “1,001” a decimal comma\?/);
  await page.fill('#logits', '2, 1, 0.5');
  await page.waitForFunction(() => document.getElementById('n-error').hidden);
  assert.equal((await zColumn(page, 'n-table')).length, 3);
});

test('Vietnamese: the sampling lab\'s errors name the prompt, in Vietnamese, and the live region says them', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi`);
  await ready(page);
  await page.waitForSelector('#bars .bar-row');
  await page.fill('#prompt', '');
  await vietnamese(page, '#bars-text', /^Không tính được phân phối: Câu mở đầu \(prompt\) đang trống: hãy gõ ít nhất một ký tự\.$/);
  await page.click('#generate');
  await vietnamese(page, '#gen-info', /^Không sinh được văn bản: Câu mở đầu \(prompt\) đang trống/);
  await vietnamese(page, '#announcer', /^Lỗi: Câu mở đầu \(prompt\) đang trống/);
  await page.fill('#prompt', 'Trăm năm');
  await vietnamese(page, '#bars-text', /Câu mở đầu \(prompt\): ký tự “ă” \(U\+0103, ở vị trí 2, đếm từ 0\) không nằm trong 84 ký tự của mô hình\.$/);
  await page.click('#draw');
  await vietnamese(page, '#hist-text', /^Không lấy mẫu được: Câu mở đầu \(prompt\): ký tự “ă”/);
});

test('Vietnamese: the loss calculator\'s errors name the context, the target and the target id', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&view=train`);
  await ready(page);
  await page.waitForSelector('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value');
  await page.fill('#target-text', 'ab');
  await page.press('#target-text', 'Enter');
  await page.waitForSelector('#l-error:not([hidden])');
  await vietnamese(page, '#l-error', /^Không tính được giá trị mất mát: mục tiêu y: với mô hình này, “ab” gồm 2 token; hãy chọn đúng một token\.$/);
  await page.fill('#target-text', '');
  await page.press('#target-text', 'Enter');
  await vietnamese(page, '#l-error', /mục tiêu y đang trống/);
  await page.fill('#target-text', 'ơ');
  await page.press('#target-text', 'Enter');
  await vietnamese(page, '#l-error', /mục tiêu y: ký tự “ơ” \(U\+01A1\) không nằm trong 84 ký tự của mô hình/);
  await page.selectOption('#target', 'I');
  await page.fill('#l-prompt', '');
  await vietnamese(page, '#l-error', /^Không tính được giá trị mất mát: ngữ cảnh \(câu mở đầu\) đang trống/);
  await page.fill('#l-prompt', 'Người ta');
  await vietnamese(page, '#l-error', /ngữ cảnh \(câu mở đầu\): ký tự “ư” \(U\+01B0, ở vị trí 2, đếm từ 0\)/);
  await page.fill('#l-prompt', 'ROMEO:');
  await page.locator('#labelSmoothing').fill('0.1');
  await vietnamese(page, '#pipelines [data-pipeline=nllOnLogits] .loss-value',
    /^Không tính được: nll không dùng làm mịn nhãn: làm mịn nhãn ε chỉ áp dụng cho crossEntropy/);
  await page.locator('#labelSmoothing').fill('0');
  // A typed vector, and a target id past its end: each pipeline's card says so.
  await page.check('input[name=lossSource][value=typed]');
  await page.fill('#l-logits', '1; 1,001');
  await page.fill('#targetId', '5');
  await page.press('#targetId', 'Enter');
  await page.waitForSelector('#pipelines [data-pipeline=crossEntropyOnLogits] .loss-value.error');
  await vietnamese(page, '#pipelines [data-pipeline=crossEntropyOnLogits] .loss-value',
    /^Không tính được: id mục tiêu y là 5, nhưng z chỉ có 2 phần tử: hãy chọn một id nhỏ hơn 2\.$/);
  await page.fill('#l-logits', '1; x');
  await vietnamese(page, '#l-error', /^Không tính được giá trị mất mát: logits z: z\[1\] là “x”/);
  // A computed −0 is written 0: log p of the larger of (20; 0) is −2·10⁻⁹.
  await page.fill('#targetId', '0');
  await page.press('#targetId', 'Enter');
  await page.fill('#l-logits', '20; 0');
  await page.waitForFunction(() => document.getElementById('l-error').hidden);
  await page.waitForFunction(() => document.querySelector('#l-vector tbody tr')?.cells[2].textContent === '20,0000');
  assert.deepEqual(await page.$$eval('#l-vector tbody tr:first-child td', (tds) => tds.map((td) => td.textContent)),
    ['0', '', '20,0000', '0,0000', '1,000']);
});

test('Vietnamese: training on a pasted text too short, or of one character, is a Vietnamese error', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi&view=train&trainText=own&pipelines=crossEntropyOnLogits`);
  await ready(page);
  await page.fill('#own-text', 'aaaa');
  await page.click('#train-step');
  await vietnamese(page, '#train-status', /^Lỗi huấn luyện: Văn bản của bạn có 1 ký tự khác nhau \(tổng cộng 4 ký tự\); để huấn luyện cần từ 2 đến 262\u202F144 ký tự khác nhau\.$/);
  await page.fill('#own-text', 'to be or not to be');
  await page.click('#train-step');
  await vietnamese(page, '#train-status', /^Lỗi huấn luyện: Văn bản của bạn quá ngắn cho kích thước mô hình này: phần huấn luyện \(khoảng 90% đầu\) có \d+ ký tự, cần ít nhất \d+\./);
  await vietnamese(page, '#announcer', /^Lỗi: Văn bản của bạn quá ngắn/);
});

test('Vietnamese words are never marked English: the bars\' "other" row, the tokens\' tooltips', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?lang=vi`);
  await ready(page);
  await page.waitForSelector('#bars .bar-row');
  const other = await page.$eval('#bars .bar-row:last-child .bar-label', (el) => ({ text: el.textContent, en: el.querySelector('[lang=en]') !== null }));
  assert.match(other.text, /^\d+ id khác$/);
  assert.equal(other.en, false);
  // A token's label stays English, marked so.
  assert.equal(await page.getAttribute('#bars .bar-row:first-child .bar-label span', 'lang'), 'en');
  await page.click('#step');
  await page.waitForSelector('#output-gen .tok');
  const tok = await page.$eval('#output-gen .tok', (el) => ({ lang: el.lang, title: el.title, inner: el.firstElementChild?.lang }));
  assert.equal(tok.lang, 'vi');
  assert.match(tok.title, /độ bất ngờ/);
  assert.equal(tok.inner, 'en');
  await page.hover('#output-gen .tok');
  await page.waitForFunction(() => /độ bất ngờ/.test(document.getElementById('token-info').textContent));
  assert.equal(await page.getAttribute('#token-info span', 'lang'), 'en');
});

test('the JS API: an error keeps its English message and carries its code and params', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  const errors = await page.evaluate(async () => {
    const m = await import('./pkg/logitlab.js');
    const caught = (f) => { try { f(); return null; } catch (e) { return { message: e.message, code: e.code ?? null, params: e.params ?? null, isError: e instanceof Error }; } };
    return {
      notNumber: caught(() => m.parseValues('1, oops')),
      comma: caught(() => m.parseValues('2,1,0,5', { decimal: ',' })),
      uncoded: caught(() => m.softmax([1, 2], -1)),
      read: Array.from(m.parseValues('2; 1; 0,5', { decimal: ',' })),
      written: m.translateValues('1, 1.001', { from: '.', to: ',' }),
    };
  });
  assert.deepEqual(errors.notNumber, { message: 'values[1] is "oops", not a number (write e.g. 2, -1.5, 1e3, -Infinity)',
    code: 'values.notNumber', params: { index: '1', value: 'oops' }, isError: true });
  assert.equal(errors.comma.code, 'values.manyCommas');
  assert.deepEqual(errors.comma.params, { item: '2,1,0,5' });
  assert.equal(errors.uncoded.code, null);
  assert.match(errors.uncoded.message, /^temperature must be/);
  assert.deepEqual(errors.read, [2, 1, 0.5]);
  assert.equal(errors.written, '1; 1,001');
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
