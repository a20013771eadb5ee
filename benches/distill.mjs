// The speed goals of distillation and calibration, in headless Chromium:
// - six students trained together, one per pipeline of distillPipelines(), each a
//   `Trainer.distill` of the tiny preset from the default model with the page's options, stepped
//   in rounds as the page's worker steps them (every student n steps in turn, n chosen so that a
//   round takes about 0.45 s for students, 0.15 s for plain runs: the worker's ROUND_SECONDS):
//   steps/s of the six together, the teacher's forward pass included
//   (the issue asks ≥ 5). Beside it, for what limits it: six students without a teacher
//   (`new Trainer`, crossEntropyOnLogits), and one distilled student alone;
// - `calibration(model, text, { bins: 15, fit: true })` on the first 20 000 characters of
//   Romeo and Juliet with the default model, as the calibration card calls it (the issue asks
//   ≤ 2 s).
// With two builds, each figure is measured for both in alternate rounds in one page, so that the
// load of the moment slows both alike.
//
//   node benches/distill.mjs [BUILD_A [BUILD_B]] [ROUNDS]
//
// A build is a folder as `./build.sh build` writes www/ (its pkg/ and pkg-train/); the default
// is www/.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';

const args = process.argv.slice(2);
const rounds = /^\d+$/.test(args.at(-1) ?? '') ? Number(args.pop()) : 3;
const www = fileURLToPath(new URL('../www/', import.meta.url));
const builds = args.length ? args : [www];
const keys = builds.map((_, i) => String.fromCharCode(97 + i));
const blank = mkdtempSync(join(tmpdir(), 'distill-bench-'));
writeFileSync(join(blank, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>');
const mounts = { '/www/': www };
keys.forEach((k, i) => { mounts[`/${k}/`] = builds[i]; });
const { server, url } = await startServer({ root: blank, mounts });
const { browser, page, outside } = await loopbackPage();
try {
  await page.goto(url);
  await page.evaluate(async (keys) => {
    const [modelBytes, text] = await Promise.all([
      fetch('/www/models/default.safetensors').then((r) => r.arrayBuffer()),
      fetch('/www/texts/romeo-and-juliet.txt').then((r) => r.text()),
    ]);
    window.bench = { text, builds: {} };
    for (const k of keys) {
      const lab = await import(`/${k}/pkg/logitlab.js`);
      await lab.default();
      const train = await import(`/${k}/pkg-train/logitlab_train.js`);
      await train.default();
      window.bench.builds[k] = {
        lab,
        train,
        model: lab.Model.fromBytes(new Uint8Array(modelBytes)),
        // The page's worker makes its teacher in the training build's module.
        teacher: train.Model.fromFiles({ 'default.safetensors': modelBytes }),
      };
    }
  }, keys);

  const calibration = (k) => page.evaluate((k) => {
    const { lab, model } = window.bench.builds[k];
    const text = window.bench.text.slice(0, 20000);
    const t = performance.now();
    lab.calibration(model, text, { bins: 15, fit: true });
    return (performance.now() - t) / 1000;
  }, k);

  // steps/s of a group of students stepped as the page's worker steps them, for `seconds`.
  const training = (k, kind, seconds) => page.evaluate(([k, kind, seconds]) => {
    const { train, teacher } = window.bench.builds[k];
    const text = window.bench.text;
    const options = { batchSize: 8, learningRate: 0.01 }; // the page's defaults
    const distill = { temperature: 2, alpha: 0.1 };
    const pipelines = train.distillPipelines().map((p) => p.name);
    const students = kind === 'plain'
      ? pipelines.map(() => new train.Trainer(text, { preset: 'tiny' }, 'crossEntropyOnLogits', 1, options))
      : (kind === 'one' ? pipelines.slice(0, 1) : pipelines).map((pipeline) =>
        train.Trainer.distill(text, { preset: 'tiny' }, teacher, { ...distill, pipeline }, 1, options));
    try {
      for (const s of students) s.step(1); // warm-up
      let [n, steps] = [1, 0];
      const start = performance.now();
      while (performance.now() - start < seconds * 1000) {
        const t0 = performance.now();
        for (const s of students) s.step(n);
        steps += n;
        const secs = (performance.now() - t0) / 1000;
        n = Math.max(1, Math.min(50, Math.round(n * (kind === 'plain' ? 0.15 : 0.45) / Math.max(secs, 1e-3))));
      }
      return { students: students.length, stepsPerSec: steps / ((performance.now() - start) / 1000) };
    } finally {
      for (const s of students) s.free();
    }
  }, [k, kind, seconds]);

  const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
  const figures = [
    ['six distilled students (the teacher included), steps/s', (k) => training(k, 'six', 6).then((r) => r.stepsPerSec), '≥ 5'],
    ['six students without a teacher, steps/s', (k) => training(k, 'plain', 4).then((r) => r.stepsPerSec), ''],
    ['one distilled student alone, steps/s', (k) => training(k, 'one', 3).then((r) => r.stepsPerSec), ''],
    ['calibration, 20 000 characters, default model, s', calibration, '≤ 2'],
  ];
  for (const k of keys) await calibration(k); // warm-up: V8's optimising tier
  console.log(`headless Chromium, ${rounds} rounds, builds in alternate order within a round`);
  keys.forEach((k, i) => console.log(`  ${k.toUpperCase()}: ${builds[i]}`));
  for (const [what, measure, goal] of figures) {
    const runs = Object.fromEntries(keys.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 ? [...keys].reverse() : keys) runs[k].push(await measure(k));
    }
    const cols = keys.map((k) => `${k.toUpperCase()} ${median(runs[k]).toFixed(2)} (${runs[k].map((x) => x.toFixed(2)).join(' ')})`);
    console.log(`${what}${goal ? ` [goal ${goal}]` : ''}: ${cols.join('  ')}` +
      (keys.length === 2 ? `  B/A ${(median(runs.b) / median(runs.a)).toFixed(2)}×` : ''));
  }
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
