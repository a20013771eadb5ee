// A screenshot of the page, for a person to look at (not a test):
//   node tools/screenshot.mjs "?view=sample" 360 out.png      (WAIT=ms, CLIP=y,height)
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';
const [,, path = '', width = '1200', out = join(tmpdir(), 'shot.png'), root = 'www'] = process.argv;
const { server, url } = await startServer({ root });
const b = await launchChromium();
const p = await b.newPage({ viewport: { width: Number(width), height: 900 }, colorScheme: process.env.SCHEME ?? 'light' });
const errs = [];
p.on('console', m => { if (['error','warning'].includes(m.type())) errs.push(m.text()); });
p.on('pageerror', e => errs.push(String(e)));
await p.goto(url + path);
await p.waitForTimeout(Number(process.env.WAIT ?? 1500));
// CLIP="y,height" takes one band of the full page, to look at it at full size.
const clip = process.env.CLIP?.split(',').map(Number);
await p.screenshot(clip ? { path: out, fullPage: true, clip: { x: 0, y: clip[0], width: Number(width), height: clip[1] } } : { path: out, fullPage: true });
console.log('console:', JSON.stringify(errs));
await b.close(); server.close();
