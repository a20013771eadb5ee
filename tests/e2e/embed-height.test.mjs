// Auto-height: course notes on another origin load `embed.js` and embed the lab with
// `data-logitlab`; the frame's height follows the lab's content (load, view switch), `embed.js`
// ignores every message that is not a finite positive height from that very frame, and the lab
// ignores every message posted to it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { loopbackPage } from './lib/harness.mjs';

let lab, notes, browser, dir, page, errors, outside;

before(async () => {
  lab = await startServer({ root: 'www' });
  const labOrigin = new URL(lab.url).origin;
  dir = await mkdtemp(join(tmpdir(), 'logitlab-notes-'));
  await writeFile(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>Course notes</title>
<h1>Week 3: the output layer</h1>
<iframe data-logitlab id="lab" src="${lab.url}?embed=1&amp;id=lab" width="1000" height="900" style="border:0" title="logitlab"></iframe>
<p id="after">text after the lab</p>
<script src="${lab.url}embed.js" defer></script>`);
  notes = await startServer({
    root: dir,
    csp: `default-src 'self'; script-src ${labOrigin}; style-src 'unsafe-inline'; frame-src ${labOrigin}`,
  });
  ({ browser, page, errors, outside } = await loopbackPage());
});
after(async () => {
  await browser?.close();
  lab?.server.close();
  notes?.server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const labFrame = () => page.frames().find((f) => f.url().startsWith(lab.url));
const frameHeight = () => page.$eval('#lab', (f) => f.getBoundingClientRect().height);
const contentHeight = (frame) => frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));

/** Waits until the iframe is as tall as the lab's content (within a pixel) and returns it. */
async function settled(frame) {
  let h = 0;
  for (let i = 0; i < 100; i++) {
    const [f, c] = [await frameHeight(), await contentHeight(frame)];
    if (Math.abs(f - c) <= 1) return (h = f);
    await page.waitForTimeout(50);
  }
  assert.fail(`iframe ${await frameHeight()}px, content ${await contentHeight(frame)}px`);
  return h;
}

test('the frame takes the height of the lab, and follows a view switch', async () => {
  await page.goto(notes.url);
  let frame;
  for (let i = 0; i < 100 && !(frame = labFrame()); i++) await page.waitForTimeout(50);
  await frame.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  const sample = await settled(frame);
  assert.notEqual(sample, 900, 'the fixed height was replaced');
  await frame.click('.tabs a[data-view=numbers]');
  await frame.waitForSelector('#n-table tbody tr');
  const numbers = await settled(frame);
  assert.notEqual(numbers, sample, `${numbers} vs ${sample}`);
  await frame.click('.tabs a[data-view=train]');
  await frame.waitForSelector('#pipelines .pipeline');
  const train = await settled(frame);
  assert.ok(train > numbers, `${train} vs ${numbers}`);
  // The notes' own text moved with it: nothing overlaps.
  const below = await page.$eval('#after', (p) => p.getBoundingClientRect().top);
  const bottom = await page.$eval('#lab', (f) => f.getBoundingClientRect().bottom);
  assert.ok(below >= bottom, `${below} vs ${bottom}`);
});

test('embed.js ignores junk heights and messages from anyone but the lab frame', async () => {
  const frame = labFrame();
  const before = await frameHeight();
  for (const height of [-5, 0, NaN, Infinity, '300', 1e9, null]) {
    await frame.evaluate((height) => parent.postMessage({ type: 'logitlab:height', height }, '*'), height);
  }
  // The notes page itself, and a message of another type.
  await page.evaluate(() => window.postMessage({ type: 'logitlab:height', height: 123 }, '*'));
  await frame.evaluate(() => parent.postMessage({ type: 'other', height: 123 }, '*'));
  await page.waitForTimeout(300);
  assert.equal(await frameHeight(), before);
});

test('the lab ignores every message it did not ask for', async () => {
  const frame = labFrame();
  const url = frame.url();
  await frame.click('.tabs a[data-view=sample]');
  await frame.waitForSelector('#bars .bar-row');
  const bars = await frame.textContent('#bars');
  await page.evaluate(() => {
    const w = document.getElementById('lab').contentWindow;
    for (const junk of [{ type: 'logitlab:height', height: 5 }, { type: 'panel', args: {} }, 'stop',
      { id: 1, type: 'generate', args: { tokens: 5000 } }, null, [1, 2], { view: 'numbers' }]) w.postMessage(junk, '*');
  });
  await page.waitForTimeout(300);
  assert.equal(await frame.textContent('#bars'), bars);
  assert.equal(await frame.textContent('#output-gen'), '');
  assert.equal(frame.url().replace(/view=sample&?/, ''), url.replace(/view=\w+&?/, ''));
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
});
