// Peak memory of loading a llama2.c model through the page (?model=, downloaded and parsed in
// the worker, as a student would), measured as the resident memory of every Chromium process
// this script starts (/proc, Linux), sampled every 20 ms: the peak during the load minus the
// browser idle just before. Two ways in: `?model=` (idle: about:blank), and the two files picked
// from disk with the page's file picker (idle: the page with its built-in model).
//     node benches/llama2c-memory.mjs DIR    (DIR holds model.bin and tokenizer.bin:
//     python3 benches/make_llama2c_shape.py 110M DIR)
import { statSync } from 'node:fs';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';
import { residentBytes } from './lib/resident.mjs';

const dir = process.argv[2];

const size = statSync(`${dir}/model.bin`).size;
const { server, url } = await startServer({ root: 'www', mounts: { '/l2c/': dir } });
const browser = await launchChromium();
const mb = (b) => (b / 1e6).toFixed(0);

/** Samples memory while `load` runs; `idle` first, after `before`. */
async function measure(label, page, before, load) {
  await before();
  await new Promise((r) => setTimeout(r, 1000));
  const idle = residentBytes();
  let peak = idle;
  const timer = setInterval(() => { peak = Math.max(peak, residentBytes()); }, 20);
  const t0 = Date.now();
  await load();
  const ready = (Date.now() - t0) / 1000;
  const status = await page.textContent('#status');
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(timer);
  const after = residentBytes();
  console.log(`llama2.c model.bin of ${mb(size)} MB ${label}: ready in ${ready.toFixed(1)} s; `
    + `Chromium's resident memory above idle: peak ${mb(peak - idle)} MB = ${((peak - idle) / size).toFixed(2)}× the file, `
    + `${mb(after - idle)} MB once loaded\n  status: ${status.trim().slice(0, 160)}`);
}

try {
  let page = await browser.newPage();
  await measure('through the page (?model=)', page, () => page.goto('about:blank'), async () => {
    await page.goto(`${url}?model=l2c/model.bin`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 600_000 });
  });
  await page.close();
  page = await browser.newPage();
  await measure('picked from disk (file picker)', page, async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 600_000 });
  }, async () => {
    await page.setInputFiles('#model-files', [`${dir}/model.bin`, `${dir}/tokenizer.bin`]);
    await page.waitForFunction(() => /Llama/.test(document.querySelector('#status').textContent), null, { timeout: 600_000, polling: 100 });
  });
} finally {
  await browser.close();
  server.close();
}
