// Distillation (view=train): six students of the default model, one per pipeline of
// `distillPipelines()`, trained side by side in the worker from the same initial weights on the
// same batches (one group of runs.js). It renders what the worker computed: each pipeline's card
// (formula, verdict, its soft term and soft gradient as bars), the chart, the table, the ratios
// the maths predicts at the first step, and the students' samples beside the teacher's.
//
// Where things are: `setupDistillation`; the knobs `showDistillControls`, `bindKnobs`; what is
// in force for a pipeline `inForce`; the outputs `renderCards`, `renderChart`, `renderTable`,
// `renderComparison`, `sampleFigure`; the step-1 comparison of cards 1 and 3 over T
// `sweepTemperatures`.

import { distillPipelines } from './pkg/logitlab.js';
import { renderBars } from './bars.js';
import { renderLineChart } from './chart.js';
import { bindControl } from './state.js';
import { runGroup, currentStep } from './runs.js';
import { announce, announceError } from './announce.js';
import { t, fixed, precision, exponential, integer, number, localNumber, english, errorNode, errorText, fillNodes } from './i18n.js';

const $ = (id) => document.getElementById(id);

let list;
/** The six pipelines, in the order the page shows them: `[{ name, formula, correct, squaresTemperature, reduction }]`. */
const PIPELINES = () => (list ??= distillPipelines());
const names = () => PIPELINES().map((p) => p.name);
const byName = (name) => PIPELINES().find((p) => p.name === name);

/**
 * What a run computes under the reduction knob: its formula with the reduction in force, and its
 * verdict. `reduction`: "own" (each pipeline's, as its formula says) or one that replaces every
 * pipeline's. The recipe (✓) is T² · kl_div(log_softmax(s/T), softmax(t/T), 'batchmean'): "hinton"
 * under another reduction is no longer it, and "meanReduction" under 'batchmean' is.
 */
export function inForce(name, reduction) {
  const p = byName(name);
  const r = reduction === 'own' || name === 'baseline' ? p.reduction : reduction;
  // The formulas are PyTorch's code, joined by words the page says in its own language.
  const code = (r === p.reduction ? p.formula : p.formula.replace(`'${p.reduction}'`, `'${r}'`));
  const formula = code.replace(' mixed with ', ` ${t('distill.mixedWith')} `);
  // Reverse KL is another objective, not a bug, under 'batchmean' only: 'mean' and 'sum' scale
  // its soft term by 1/V and by N as they scale card 1's.
  const verdict = name === 'baseline' ? 'baseline'
    : r !== 'batchmean' ? 'bad'
      : name === 'reverseKl' ? 'other'
        : name === 'hinton' || name === 'meanReduction' ? 'ok' : 'bad';
  return { formula, verdict, reduction: r, replaced: r !== p.reduction };
}

/** A run's card number (from 1), its formula and its verdict in symbol and in words (never colour alone). */
const title = (name, reduction) => {
  const f = inForce(name, reduction);
  return `${names().indexOf(name) + 1}. ${f.formula} ${t(`distill.verdict.${f.verdict}`)}`;
};

/** A run as the table names it: its card number and verdict. */
const short = (name, reduction) => `${names().indexOf(name) + 1}. ${t(`distill.verdict.${inForce(name, reduction).verdict}`)}`;

/** Shows the knobs' state: T, α and the reduction. */
export function showDistillControls(state) {
  bindControl($('distill-T'), 'distillT');
  bindControl($('distill-alpha'), 'distillAlpha');
  $('distill-T').value = String(state.distillT);
  $('distill-T-value').textContent = fixed(state.distillT, 1);
  $('distill-alpha').value = String(state.distillAlpha);
  $('distill-alpha-value').textContent = fixed(state.distillAlpha, 2);
  for (const r of document.querySelectorAll('input[name=distillReduction]')) r.checked = r.value === state.distillReduction;
}

/**
 * The distillation runs. `ctx` = { lab, state, update }; `settings(state)`: the text, size,
 * learning rate, batch size and seed the four runs train with (train-view.js), which these share.
 */
export function setupDistillation(ctx, settings) {
  const { lab, state } = ctx;
  const runs = runGroup(ctx, {
    group: 'distill',
    ids: { play: 'distill-play', step: 'distill-step', reset: 'distill-reset', sample: 'distill-sample', status: 'distill-status', samples: 'distill-samples' },
    names,
    start: () => lab.call('distillStart', {
      ...settings(state), pipelines: names(),
      distill: {
        temperature: state.distillT, alpha: state.distillAlpha,
        ...(state.distillReduction === 'own' ? {} : { reduction: state.distillReduction }),
      },
    }),
    render: (r) => {
      renderCards(r, state);
      renderChart(r, state);
      renderTable(r, state);
      renderComparison(r, state);
    },
    sampleFigure: (s, step) => sampleFigure(s, step, state),
  });
  // Another T, α, reduction or shared setting: the runs start over, and the step-1 table, made
  // with the old settings, goes.
  const reset = runs.reset;
  runs.reset = () => {
    $('distill-sweep-table').hidden = true;
    $('distill-sweep-table').tBodies[0].replaceChildren();
    return reset();
  };
  bindKnobs(ctx, runs);
  $('distill-sweep').addEventListener('click', () => sweepTemperatures(ctx, settings));
  showDistillControls(state);
  return runs;
}

/** The temperatures of the step-1 comparison of cards 1 and 3. */
const SWEEP = [1, 2, 4, 8];

/**
 * Card 1 and card 3 (no T²) at their first step, at T = 1, 2, 4 and 8, from the same weights
 * on the same batch (α and the reduction as the knobs say): how the soft gradient without T²
 * falls, and how much of the loss is still the soft term.
 */
async function sweepTemperatures({ lab, state }, settings) {
  const button = $('distill-sweep');
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  $('distill-sweep-status').textContent = t('distill.sweeping');
  try {
    const rows = await lab.call('distillTemperatures', {
      ...settings(state), temperatures: SWEEP,
      distill: { alpha: state.distillAlpha, ...(state.distillReduction === 'own' ? {} : { reduction: state.distillReduction }) },
    });
    const share = (r) => (r.loss === 0 ? 0 : ((1 - state.distillAlpha) * r.klTerm) / r.loss);
    $('distill-sweep-table').tBodies[0].replaceChildren(...rows.map((r) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = number(r.temperature);
      tr.append(th);
      for (const text of [exponential(r.hinton.softGradNorm, 4), exponential(r.noTSquared.softGradNorm, 4),
        precision(r.noTSquared.softGradNorm / r.hinton.softGradNorm, 4), precision(1 / r.temperature ** 2, 4),
        fixed(share(r.hinton), 3), fixed(share(r.noTSquared), 3)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
    $('distill-sweep-table').hidden = false;
    $('distill-sweep-status').textContent = '';
    announce(t('announce.sweep'));
  } catch (e) {
    fillNodes($('distill-sweep-status'), 'train.failed', {}, { error: errorNode(e) });
    announceError(e);
  } finally {
    button.disabled = false;
    if (hadFocus && document.activeElement === document.body) button.focus();
  }
}

/** Moving a knob starts the six over (same initial weights, same batches). */
function bindKnobs({ state, update }, runs) {
  const changed = (patch) => { update(patch); showDistillControls(state); runs.reset(); };
  $('distill-T').addEventListener('input', () => { $('distill-T-value').textContent = fixed(Number($('distill-T').value), 1); });
  $('distill-T').addEventListener('change', () => changed({ distillT: Number($('distill-T').value) }));
  $('distill-alpha').addEventListener('input', () => { $('distill-alpha-value').textContent = fixed(Number($('distill-alpha').value), 2); });
  $('distill-alpha').addEventListener('change', () => changed({ distillAlpha: Number($('distill-alpha').value) }));
  for (const r of document.querySelectorAll('input[name=distillReduction]')) {
    r.addEventListener('change', () => changed({ distillReduction: r.value }));
  }
}

const last = (runs, name) => runs.history[name]?.at(-1);
const runClass = (name) => `drun-${names().indexOf(name)}`;

/**
 * One card per pipeline: its formula and verdict, the reduction in force if the knob replaced
 * the formula's, its latest figures, its soft term and soft-gradient norm as bars on the six
 * cards' common scale, and what its maths says.
 */
function renderCards(runs, state) {
  const figures = names().map((n) => last(runs, n));
  const maxKl = Math.max(1e-12, ...figures.map((h) => Math.abs(h?.klTerm ?? 0)));
  const maxGrad = Math.max(1e-12, ...figures.map((h) => h?.softGradNorm ?? 0));
  const V = runs.started?.vocabSize ?? 84;
  $('distill-cards').replaceChildren(...names().map((name) => {
    const f = inForce(name, state.distillReduction);
    const card = document.createElement('section');
    card.className = `pipeline ${f.verdict === 'ok' ? 'ok' : f.verdict === 'bad' ? 'bad' : ''} ${runClass(name)}`;
    card.dataset.pipeline = name;
    const h = document.createElement('h3');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    h.append(swatch, title(name, state.distillReduction));
    card.append(h);
    if (f.replaced) {
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent = t('distill.replaced', { r: f.reduction, own: byName(name).reduction });
      card.append(p);
    }
    const v = document.createElement('p');
    v.className = 'loss-value';
    const hist = last(runs, name);
    if (runs.errors[name]) {
      fillNodes(v, 'pipeline.error', {}, { error: errorNode(runs.errors[name]) });
      v.classList.add('error');
    } else if (!hist) {
      v.textContent = t('distill.noStep');
    } else {
      const share = hist.loss === 0 ? 0 : ((name === 'baseline' ? 0 : 1 - state.distillAlpha) * hist.klTerm) / hist.loss;
      v.textContent = t('distill.figures', { step: hist.step, loss: fixed(hist.loss, 4), ce: fixed(hist.trainCe, 4), share: fixed(share, 3) });
    }
    card.append(v);
    const kl = hist?.klTerm ?? 0;
    const grad = hist?.softGradNorm ?? 0;
    const rows = [
      { label: t('distill.bar.kl'), plain: true, value: exponential(kl, 3), fraction: kl / maxKl, signed: true },
      { label: t('distill.bar.grad'), plain: true, value: exponential(grad, 3), fraction: grad / maxGrad, signed: true },
    ];
    const bars = document.createElement('div');
    bars.className = 'bars';
    bars.setAttribute('role', 'img');
    renderBars(bars, rows);
    bars.setAttribute('aria-label', t('distill.bars.aria', { kl: exponential(kl, 3), grad: exponential(grad, 3) }));
    const note = document.createElement('p');
    note.className = 'muted';
    const key = name === 'meanReduction' && state.distillReduction !== 'own' ? 'meanReductionForced' : name;
    note.textContent = t(`distill.note.${key}`, { T: number(state.distillT), T2: number(state.distillT ** 2), V });
    card.append(bars, note);
    return card;
  }));
}

/**
 * The chart: each student's validation cross-entropy (what the soft targets are meant to lower),
 * in a window around the curves, and its text alternative. The own losses, which range from
 * probabilities-as-input's negative values to T² · KL, are in the table and on the cards.
 */
function renderChart(runs, state) {
  const step = currentStep(runs);
  const ce = (h) => h.valCe ?? h.trainCe;
  const all = names().flatMap((n) => (runs.history[n] ?? []).map(ce));
  const lo = all.length ? Math.max(0, Math.min(...all) - 0.2) : 0;
  const hi = all.length ? Math.max(...all) + 0.2 : Math.log(runs.started?.vocabSize ?? 84) + 0.5;
  const series = names().map((n) => ({ className: runClass(n), dashed: false, points: (runs.history[n] ?? []).map((h) => [h.step, ce(h)]) }));
  renderLineChart($('distill-chart'), {
    series, xMax: Math.max(50, step), yRange: [lo, hi], xLabel: t('chart.step'), format: (v) => localNumber(String(v)),
    yLabel: t('distill.chart.yLabel', { lo: fixed(lo, 1), hi: fixed(hi, 1) }),
  });
  const latest = names().map((n) => {
    const h = last(runs, n);
    const run = title(n, state.distillReduction);
    return runs.errors[n] ? t('chart.runError', { run, error: errorText(runs.errors[n]) })
      : h ? t('chart.run', { run, step: h.step, loss: fixed(h.loss, 3), ce: fixed(ce(h), 3) })
        : t('chart.runEmpty', { run });
  });
  $('distill-chart').setAttribute('aria-label', t('distill.chart.aria', { runs: latest.join('; ') }));
}

/** The table of each student's latest figures. */
function renderTable(runs, state) {
  $('distill-table').tBodies[0].replaceChildren(...names().map((n) => {
    const tr = document.createElement('tr');
    tr.className = `run-row ${runClass(n)}`;
    tr.dataset.pipeline = n;
    const th = document.createElement('th');
    th.scope = 'row';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    th.append(swatch, short(n, state.distillReduction));
    tr.append(th);
    const h = last(runs, n);
    const cells = runs.errors[n] ? [integer(h?.step ?? 0), errorNode(runs.errors[n]), '', '', '']
      : [integer(h?.step ?? 0), h ? fixed(h.loss, 4) : '–', h ? exponential(h.klTerm, 4) : '–',
        h ? exponential(h.softGradNorm, 4) : '–', h?.valCe != null ? fixed(h.valCe, 3) : '–'];
    for (const text of cells) {
      const td = document.createElement('td');
      td.append(text);
      tr.append(td);
    }
    return tr;
  }));
}

/**
 * What the maths predicts, against the runs: at step 1 (same weights, same batch) no-T²'s soft
 * gradient is 1/T² of ✓'s and 'mean''s soft term 1/V of ✓'s; at the latest step, the same ratios
 * and the validation cross-entropy of ✓ against the baseline.
 */
function renderComparison(runs, state) {
  const items = [];
  const at = (name, step) => runs.history[name]?.find((h) => h.step === step);
  const ratio = (a, b) => (a && b && b !== 0 ? precision(a / b, 4) : '–');
  const T2 = state.distillT ** 2;
  const V = runs.started?.vocabSize ?? 84;
  const own = state.distillReduction === 'own';
  const step = Math.min(...names().map((n) => last(runs, n)?.step ?? 0));
  if (step >= 1) {
    const [h1, t1, m1] = ['hinton', 'noTSquared', 'meanReduction'].map((n) => at(n, 1));
    items.push(t('distill.cmp.first', {
      grad: ratio(t1?.softGradNorm, h1?.softGradNorm), invT2: precision(1 / T2, 4), T: number(state.distillT),
    }));
    items.push(own ? t('distill.cmp.firstMean', { kl: ratio(m1?.klTerm, h1?.klTerm), invV: precision(1 / V, 4), V })
      : t('distill.cmp.firstForced', { kl: ratio(m1?.klTerm, h1?.klTerm), r: state.distillReduction }));
  }
  if (step > 1) {
    const [h, nt, m] = ['hinton', 'noTSquared', 'meanReduction'].map((n) => at(n, step));
    items.push(t('distill.cmp.later', { step, grad: ratio(nt?.softGradNorm, h?.softGradNorm), kl: ratio(m?.klTerm, h?.klTerm) }));
  }
  if (step >= 1) {
    const [h, b] = ['hinton', 'baseline'].map((n) => at(n, step));
    if (h?.valCe != null && b?.valCe != null) {
      items.push(t('distill.cmp.baseline', { step, ok: fixed(h.valCe, 3), base: fixed(b.valCe, 3), diff: fixed(h.valCe - b.valCe, 3) }));
    }
  }
  $('distill-compare').replaceChildren(...items.map((text) => {
    const li = document.createElement('li');
    li.textContent = text;
    return li;
  }));
  $('distill-compare').hidden = items.length === 0;
}

/** One sample: the teacher's, or a student's at its step. */
function sampleFigure(s, step, state) {
  const fig = document.createElement('figure');
  fig.className = `sample ${s.pipeline === 'teacher' ? 'teacher' : runClass(s.pipeline)}`;
  fig.dataset.pipeline = s.pipeline;
  const cap = document.createElement('figcaption');
  const params = { T: fixed(state.temperature, 2), seed: String(state.seed), step };
  cap.textContent = s.pipeline === 'teacher' ? t('distill.teacherCaption', params)
    : t('distill.sampleCaption', { ...params, run: title(s.pipeline, state.distillReduction) });
  // The students' text is the training text's language: marked only for the built-in English
  // one. The teacher writes the English it was trained on.
  const pre = state.trainText === 'own' && s.pipeline !== 'teacher' ? document.createElement('pre') : english('', 'pre');
  const b = document.createElement('b');
  b.textContent = s.prompt;
  pre.append(b, s.text);
  fig.append(cap, pre);
  return fig;
}
