// Whether replacing a model gives its memory back: the resident memory of headless Chromium
// (every process it runs, /proc) with a fresh page holding the built-in model, against the same
// page after it loaded GPT-2 small (random weights of its shape) through `?model=` and then
// switched to the built-in model with the model list. Goal: replaced ≤ 1.2× fresh.
//     node benches/model-memory.mjs DIR    (DIR: a GPT-2 small folder; ./build.sh bench
//     model-memory makes one in target/gpt2-small)
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';
import { residentBytes } from './lib/resident.mjs';

const dir = process.argv[2] ?? 'target/gpt2-small';
const { server, url } = await startServer({ root: 'www', mounts: { '/gpt2/': dir } });
const mb = (b) => (b / 1e6).toFixed(0);
const settle = () => new Promise((r) => setTimeout(r, 3000));
const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 600_000 });

/** A browser of its own for each measurement, so that one cannot keep memory for the other. */
async function measure(steps) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const figures = await steps(page);
    return figures;
  } finally {
    await browser.close();
  }
}

try {
  const fresh = await measure(async (page) => {
    await page.goto(url);
    await ready(page);
    await settle();
    return { bytes: residentBytes(), status: (await page.textContent('#status')).trim() };
  });
  const replaced = await measure(async (page) => {
    await page.goto(`${url}?model=gpt2/`);
    await ready(page);
    await settle();
    const loaded = residentBytes();
    const gpt2 = (await page.textContent('#status')).trim();
    await page.selectOption('#model-pick', '');
    // The built-in model's description, up to the load time that follows it.
    await page.waitForFunction((s) => document.querySelector('#status').textContent.trim().startsWith(s)
      && document.querySelector('#model-progress').hidden, fresh.status.slice(0, 40), { timeout: 600_000, polling: 100 });
    await settle();
    return { loaded, gpt2, bytes: residentBytes() };
  });
  console.log(`Chromium's resident memory: fresh page with the built-in model ${mb(fresh.bytes)} MB; `
    + `with GPT-2 small ${mb(replaced.loaded)} MB; after switching back to the built-in model `
    + `${mb(replaced.bytes)} MB = ${(replaced.bytes / fresh.bytes).toFixed(2)}× the fresh page (goal ≤ 1.20×)\n`
    + `  GPT-2 status: ${replaced.gpt2.slice(0, 120)}`);
} finally {
  server.close();
}
