// The wasm half of `./build.sh bench`: the sampling grid in Node and in headless Chromium, next
// to the full-sort JS baseline measured the same way. Prints µs per call.
//
//   node tests/bench/run.mjs            (after ./build.sh build)

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { startServer } from '../e2e/server.mjs';
import { runGrid } from './sample-bench.mjs';

const wasmPath = new URL('../../www/pkg/logitlab_bg.wasm', import.meta.url);

async function inNode() {
  const mod = await import('../../www/pkg/logitlab.js');
  mod.initSync({ module: readFileSync(wasmPath) });
  return runGrid(mod, () => performance.now());
}

async function inChromium() {
  const { server, url } = await startServer({ root: 'www' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    // The bench module is not part of the page: hand it over from this folder.
    await page.route('**/__bench/sample-bench.mjs', (r) => r.fulfill({
      path: new URL('./sample-bench.mjs', import.meta.url).pathname,
      contentType: 'text/javascript',
    }));
    await page.goto(url + 'pkg/logitlab.js');
    return await page.evaluate(async () => {
      const mod = await import('/pkg/logitlab.js');
      await mod.default();
      const { runGrid } = await import('/__bench/sample-bench.mjs');
      return runGrid(mod, () => performance.now());
    });
  } finally {
    await browser.close();
    server.close();
  }
}

function print(title, rows) {
  console.log(`\n${title}: sample() µs/call (wasm) vs full-sort JS baseline`);
  console.log(`${'V'.padStart(8)}  ${'setting'.padEnd(34)} ${'wasm µs'.padStart(10)} ${'JS sort µs'.padStart(11)} ${'speed-up'.padStart(9)}`);
  for (const r of rows) {
    console.log(`${String(r.v).padStart(8)}  ${r.setting.padEnd(34)} ${r.wasm.toFixed(1).padStart(10)} ${r.js.toFixed(1).padStart(11)} ${(r.js / r.wasm).toFixed(1).padStart(8)}×`);
  }
}

print('wasm in Node ' + process.version, await inNode());
print('wasm in headless Chromium', await inChromium());
