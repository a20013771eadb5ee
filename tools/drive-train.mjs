// A person's look at the training view (not a test): plays for a while, pauses, samples and
// takes a screenshot.  node tools/drive-train.mjs "?view=train" 1280 out.png  (PLAY=ms)
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';
const [,, path = '?view=train', width = '1280', out = join(tmpdir(), 'train.png')] = process.argv;
const { server, url } = await startServer({ root: 'www' });
const b = await launchChromium();
const p = await b.newPage({ viewport: { width: Number(width), height: 900 }, colorScheme: process.env.SCHEME ?? 'light' });
const errs = [];
p.on('console', (m) => { if (['error', 'warning'].includes(m.type())) errs.push(m.text()); });
p.on('pageerror', (e) => errs.push(String(e)));
await p.goto(url + path);
await p.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
await p.waitForSelector('#pipelines .pipeline');
await p.click('#play');
await p.waitForTimeout(Number(process.env.PLAY ?? 8000));
await p.click('#play');
await p.waitForFunction(() => document.querySelector('#play').textContent === 'Play');
await p.click('#train-sample');
await p.waitForSelector('#samples figure');
console.log('status:', await p.textContent('#train-status'));
console.log(await p.$$eval('#train-table tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')).join('\n')));
await p.screenshot({ path: out, fullPage: true });
console.log('console:', JSON.stringify(errs));
await b.close(); server.close();
