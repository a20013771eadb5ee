// WCAG 2.2 AA, checked by axe-core on every view (sample, numbers, train), in both colour
// schemes, in both languages, on the page and in the embed (?embed=1), and at 360 px in
// Vietnamese: 0 violations. Each view is audited with its data on screen (generated text with
// its surprisal tints, the bars, the 1 000 draws and the calibration card's figures, a trained
// step in the table and the chart, a distillation step in its cards). Also: at 360 px and at 200% zoom (a 640 px-wide viewport)
// no view scrolls sideways. The "needs review" items axe reports are printed (as test
// diagnostics) and reviewed in docs/accessibility.md.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { openLab } from './lib/harness.mjs';

const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });

/** Puts each view's data on screen, as a student would. */
async function fillView(page, view) {
  if (view === 'sample') {
    await page.waitForSelector('#bars .bar-row');
    await page.click('#step');
    await page.click('#clear');
    await page.click('#generate');
    await page.waitForFunction(() => !document.getElementById('generate').disabled
      && document.getElementById('output-gen').textContent.length > 0, null, { timeout: 30_000 });
    await page.click('#draw');
    await page.waitForSelector('#hist .bar-row');
    await page.click('#calibrate');
    await page.waitForSelector('#calibration-result:not([hidden])', { timeout: 60_000 });
  } else if (view === 'numbers') {
    await page.waitForSelector('#n-table tbody tr');
  } else {
    await page.waitForSelector('#pipelines .pipeline');
    await page.click('#train-step');
    await page.waitForSelector('#train-table tbody tr td:not(:empty)', { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('#train-table tbody tr td').textContent === '1', null, { timeout: 60_000 });
    // The distillation card with a step: its cards' bars, the comparisons, the chart.
    await page.click('#distill-step');
    await page.waitForFunction(() => document.querySelector('#distill-table tbody tr td')?.textContent === '1', null, { timeout: 60_000 });
  }
}

async function audit(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations', 'incomplete'] });
    const brief = (list) => list.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} — ${n.failureSummary ?? ''}`.slice(0, 300)), count: v.nodes.length }));
    // For "needs review": axe's reason for each node, to review (docs/accessibility.md).
    const reasons = (list) => list.map((v) => ({ id: v.id, help: v.help,
      why: [...new Set(v.nodes.map((n) => (n.any[0] ?? n.all[0] ?? n.none[0])?.message?.replace(/\d+(\.\d+)?/g, 'N') ?? ''))] }));
    return { violations: brief(r.violations), incomplete: reasons(r.incomplete) };
  }, TAGS);
}

const needsReview = new Map(); // rule id → where it came up

for (const lang of ['en', 'vi']) {
  for (const embed of [false, true]) {
    for (const view of ['sample', 'numbers', 'train']) {
      const query = `?view=${view}&lang=${lang}${embed ? '&embed=1' : ''}`;
      test(`axe: ${query}, light and dark: 0 violations`, async (t) => {
        const { page, url } = lab;
        await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
        await page.goto(url + query);
        await ready(page);
        await fillView(page, view);
        for (const scheme of ['light', 'dark']) {
          await page.emulateMedia({ colorScheme: scheme });
          const r = await audit(page);
          for (const i of r.incomplete) {
            if (!needsReview.has(i.id)) needsReview.set(i.id, { help: i.help, where: new Set(), why: new Set() });
            needsReview.get(i.id).where.add(`${view}/${lang}/${scheme}${embed ? '/embed' : ''}`);
            for (const w of i.why) needsReview.get(i.id).why.add(w);
          }
          assert.deepEqual(r.violations, [], `${query} (${scheme}): ${JSON.stringify(r.violations, null, 1)}`);
        }
        t.diagnostic(`${query}: 0 violations in light and dark`);
      });
    }
  }
}

// On a phone: the narrow layout, where wide tables and formulas scroll in their own box.
for (const view of ['sample', 'numbers', 'train']) {
  test(`axe at 360 px: ?view=${view}&lang=vi, light and dark: 0 violations`, async () => {
    const { page, url } = lab;
    await page.setViewportSize({ width: 360, height: 800 });
    try {
      await page.emulateMedia({ colorScheme: 'light' });
      await page.goto(`${url}?view=${view}&lang=vi`);
      await ready(page);
      await fillView(page, view);
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        const r = await audit(page);
        assert.deepEqual(r.violations, [], `${view} at 360 px (${scheme}): ${JSON.stringify(r.violations, null, 1)}`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  });
}

test('the "needs review" items (reviewed in the README)', (t) => {
  for (const [id, { help, where, why }] of needsReview) {
    t.diagnostic(`needs review: ${id} (${help}) on ${[...where].join(', ')}; axe's reasons: ${[...why].join(' | ')}`);
  }
});

for (const [width, what] of [[360, '360 px'], [640, '200% zoom of a 1280 px window']]) {
  for (const lang of ['en', 'vi']) {
    test(`${what}, ${lang}: no view scrolls sideways`, async () => {
      const { page, url } = lab;
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize({ width, height: 800 });
      try {
        for (const view of ['sample', 'numbers', 'train']) {
          await page.goto(`${url}?view=${view}&lang=${lang}`);
          await ready(page);
          if (view === 'sample') await page.waitForSelector('#bars .bar-row');
          if (view === 'train') await page.waitForSelector('#pipelines .pipeline');
          const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
          assert.ok(scroll <= client, `${view}/${lang} at ${width} px: ${scroll} > ${client}`);
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 720 });
      }
    });
  }
}

test('prefers-reduced-motion turns animations and transitions off', async () => {
  const { page, url } = lab;
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(url);
  await ready(page);
  const moving = await page.evaluate(() => Array.from(document.querySelectorAll('*')).filter((el) => {
    const s = getComputedStyle(el);
    return s.animationName !== 'none' || s.transitionDuration.split(',').some((d) => parseFloat(d) > 0);
  }).length);
  assert.equal(moving, 0);
  await page.emulateMedia({ reducedMotion: 'no-preference' });
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
