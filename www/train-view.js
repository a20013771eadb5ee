// The loss and training lab (view=train): the loss calculator and classification table
// (loss-view.js), up to four pipelines training side by side (here), and the six distillation
// pipelines (distill-view.js). It renders what the worker computed.
//
// Where things are: `setupTrain` sets up the parts. The training runs: `setupTrainingRuns` (one
// group of runs.js: its buttons, status line and the worker's reports); their controls
// `showTrainingControls`, `bindRunSettings`, `trainingSettings` (shared with the distillation
// runs); the outputs `renderChart`, `renderTable`, `showTextNotes`, `sampleFigure`.

import { charLabel } from './bars.js';
import { bindControl } from './state.js';
import { renderLineChart } from './chart.js';
import { pipeline, pipelineNames, pipelineTitle, PIPELINES, PRESETS, presetLabel } from './pipelines.js';
import { setupLossCalculator, showLossControls } from './loss-view.js';
import { saveFile } from './boot.js';
import { t, fixed, precision, integer, localNumber, english, errorNode, errorText } from './i18n.js';
import { announceError } from './announce.js';
import { runGroup, currentStep } from './runs.js';
import { setupDistillation, showDistillControls } from './distill-view.js';

const $ = (id) => document.getElementById(id);

/** Shows the state in the view's controls: the calculator's and the training runs'. */
export function showTrainControls(state) {
  showLossControls(state);
  showTrainingControls(state);
  showDistillControls(state);
}

function showTrainingControls(state) {
  buildChoices();
  for (const r of document.querySelectorAll('input[name=trainText]')) r.checked = r.value === state.trainText;
  for (const el of document.querySelectorAll('[data-text]')) el.hidden = el.dataset.text !== state.trainText;
  const chosen = state.pipelines.split(',');
  for (const c of document.querySelectorAll('input[name=pipeline]')) c.checked = chosen.includes(c.value);
  $('preset').value = state.preset;
  bindControl($('learningRate'), 'learningRate', { log: true });
  bindControl($('batchSize'), 'batchSize');
  $('learningRate').value = String(Math.log10(state.learningRate));
  $('learningRate-value').textContent = precision(state.learningRate, 2);
  $('batchSize').value = String(state.batchSize);
  $('trainSeed').value = String(state.trainSeed);
}

/** The pipeline checkboxes and the preset options, from the wasm's lists (once). */
function buildChoices() {
  const fieldset = $('pipeline-choice');
  if (fieldset.querySelector('input')) return;
  fieldset.append(...PIPELINES().map((p) => {
    const label = document.createElement('label');
    const input = document.createElement('input');
    Object.assign(input, { type: 'checkbox', name: 'pipeline', value: p.name });
    label.append(input, ' ', pipelineTitle(p.name));
    return label;
  }));
  $('preset').replaceChildren(...PRESETS().map((p) => new Option(presetLabel(p), p.name)));
}

/** The view: the loss calculator and the training runs, each set up on its own. */
export function setupTrain(ctx) {
  const calc = setupLossCalculator(ctx);
  const distill = setupDistillation(ctx, trainingSettings);
  // The shared settings (text, size, learning rate, batch, seed) start both groups over.
  const runs = setupTrainingRuns(ctx, () => distill.reset());
  const refresh = () => { showTrainingControls(ctx.state); showDistillControls(ctx.state); return calc.refresh(); };
  // Otherwise when the view is first shown. `ready`: the first calculator is on screen.
  const ready = ctx.state.view === 'train' ? refresh() : Promise.resolve();
  return {
    ready,
    /** Another model: the calculator's vector now comes from it (training keeps its own models). */
    modelChanged: calc.modelChanged,
    refresh,
    /** Leaving the view pauses training: no work keeps running where nobody sees it. */
    hide: () => { runs.hide(); distill.hide(); },
  };
}

/**
 * Up to four pipelines trained side by side from the same start, in the worker: one group of
 * runs (runs.js). `ctx` = { lab (the worker), state (the page's state), update }.
 */
function setupTrainingRuns(ctx, othersReset) {
  const { lab, state } = ctx;
  buildChoices();
  const runs = runGroup(ctx, {
    group: 'pipelines',
    ids: { play: 'play', step: 'train-step', reset: 'reset', sample: 'train-sample', status: 'train-status', samples: 'samples' },
    names: () => chosenPipelines(state),
    start: async () => {
      const started = await lab.call('trainStart', {
        ...trainingSettings(state), pipelines: chosenPipelines(state),
      });
      showTextNotes(started, chosenPipelines(state));
      return started;
    },
    render: (r) => {
      renderChart(r.history, r.errors, currentStep(r), r.started?.ceOnSoftmax?.classes ?? 84);
      renderTable(r.history, r.errors);
    },
    sampleFigure: (s, step) => sampleFigure(s, step, state, async () => {
      try {
        const folder = `logitlab-${s.pipeline}-step${step}`;
        const { zip } = await lab.call('exportModel', { pipeline: s.pipeline, folder });
        saveFile(`${folder}.zip`, zip);
      } catch (e) {
        announceError(e);
      }
    }),
  });
  bindRunSettings(ctx, runs, othersReset);
  showTrainingControls(state);
  return runs;
}

const chosenPipelines = (state) => (state.pipelines ? state.pipelines.split(',') : []);

/**
 * The settings every group of runs trains with: the text (typed text composed to NFC, noted
 * when that changed it), the model size, learning rate, batch size and seed.
 */
export function trainingSettings(state) {
  // Pasted Vietnamese may arrive decomposed (NFD: a + U+0301 …), which would double the
  // characters the model learns. Composed (NFC), every letter is one character.
  const pasted = $('own-text').value;
  const own = pasted.normalize('NFC');
  $('nfc-note').hidden = state.trainText !== 'own' || own === pasted;
  if (own !== pasted) $('nfc-note').textContent = t('train.nfc', { before: pasted.length, after: own.length });
  return {
    source: state.trainText, own, preset: state.preset, learningRate: state.learningRate,
    batchSize: state.batchSize, seed: state.trainSeed,
  };
}

// ---- the settings: changing what is trained starts over (as in TensorFlow Playground) ----

function bindRunSettings(ctx, runs, othersReset) {
  const { state, update } = ctx;
  const resetAll = () => { runs.reset(); othersReset(); };
  const settingsChanged = (patch) => { update(patch); showTrainingControls(state); resetAll(); };
  for (const c of document.querySelectorAll('input[name=pipeline]')) {
    // Which of the four to train: the distillation runs go on.
    c.addEventListener('change', () => {
      update({ pipelines: pipelineNames().filter((p) => document.querySelector(`input[name=pipeline][value=${p}]`).checked).join(',') });
      showTrainingControls(state);
      runs.reset();
    });
  }
  $('preset').addEventListener('change', () => settingsChanged({ preset: $('preset').value }));
  $('learningRate').addEventListener('change', () => settingsChanged({ learningRate: Number((10 ** Number($('learningRate').value)).toPrecision(2)) }));
  $('learningRate').addEventListener('input', () => { $('learningRate-value').textContent = precision(10 ** Number($('learningRate').value), 2); });
  $('batchSize').addEventListener('change', () => settingsChanged({ batchSize: Number($('batchSize').value) }));
  $('trainSeed').addEventListener('change', () => {
    const s = Number($('trainSeed').value);
    if (Number.isInteger(s) && s >= 0 && s <= Number.MAX_SAFE_INTEGER) settingsChanged({ trainSeed: s });
    else showTrainingControls(state);
  });
  for (const r of document.querySelectorAll('input[name=trainText]')) {
    r.addEventListener('change', () => settingsChanged({ trainText: r.value }));
  }
  $('own-text').addEventListener('change', () => { if (state.trainText === 'own') resetAll(); });
}

/**
 * What the runs' figures mean for this text: the validation estimate, and crossEntropy(softmax)'s
 * figures, with only the clause that holds for this text (the wasm decides which: `leads`).
 */
function showTextNotes(s, chosen) {
  const ce = s.ceOnSoftmax;
  const [top, second] = ce.top.map((c) => charLabel(c));
  $('val-note').hidden = false;
  $('val-note').textContent = t('train.valNote', { batches: s.evalBatches, batch: s.batchSize, context: s.contextLength });
  $('ce-softmax-note').hidden = !chosen.includes('crossEntropyOnSoftmax');
  const params = { C: ce.classes, floor: fixed(ce.floor, 3), top, second, f1: fixed(ce.frequencies[0], 3),
    f2: fixed(ce.frequencies[1], 3), margin: fixed(ce.margin, 4), oneHot: fixed(ce.oneHotLoss, 3),
    previous: fixed(ce.previousCharLoss, 3) };
  $('ce-softmax-note').textContent = [t('train.ceSoftmaxNote', params),
    t(ce.leads ? 'train.ceSoftmaxLeads' : 'train.ceSoftmaxNoLead', params)].join(' ');
}

/**
 * The loss chart: each run's own loss (dashed) and its cross-entropy (solid), and its text
 * alternative, each run's latest figures. `classes`: the training text's characters (C).
 */
function renderChart(history, errors, step, classes) {
  const runs = Object.keys(history);
  const last = (p) => history[p].at(-1);
  const all = runs.flatMap((p) => history[p].flatMap((h) => [h.loss, h.valCe ?? h.trainCe]));
  const lnV = Math.log(classes);
  const lo = Math.max(-10, Math.min(0, ...all));
  const hi = Math.min(10, Math.max(lnV + 0.5, ...all));
  const series = runs.flatMap((p) => {
    const i = pipelineNames().indexOf(p);
    return [
      { className: `run-${i}`, dashed: true, points: history[p].map((h) => [h.step, h.loss]) },
      { className: `run-${i}`, dashed: false, points: history[p].map((h) => [h.step, h.valCe ?? h.trainCe]) },
    ];
  });
  renderLineChart($('chart'), {
    series, xMax: Math.max(50, step), yRange: [lo, hi], xLabel: t('chart.step'), format: (v) => localNumber(String(v)),
    yLabel: t('chart.yLabel', { lo: fixed(lo, 1), hi: fixed(hi, 1) }),
  });
  // The chart's text alternative: each run's latest figures (the table below has them too).
  const latest = runs.map((p) => {
    const h = last(p);
    return errors[p] ? t('chart.runError', { run: pipelineTitle(p), error: errorText(errors[p]) })
      : h ? t('chart.run', { run: pipelineTitle(p), step: h.step, loss: fixed(h.loss, 3), ce: fixed(h.valCe ?? h.trainCe, 3) })
        : t('chart.runEmpty', { run: pipelineTitle(p) });
  });
  $('chart').setAttribute('aria-label', t('chart.aria', { runs: latest.join('; ') || t('train.notStartedShort') }));
}

/** The table of each run's latest figures. */
function renderTable(history, errors) {
  const last = (p) => history[p].at(-1);
  $('train-table').tBodies[0].replaceChildren(...Object.keys(history).map((p) => {
    const tr = document.createElement('tr');
    tr.className = `run-row run-${pipelineNames().indexOf(p)}`;
    tr.dataset.pipeline = p;
    const th = document.createElement('th');
    th.scope = 'row';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    th.append(swatch, pipelineTitle(p));
    tr.append(th);
    const h = last(p);
    const cells = errors[p] ? [integer(h?.step ?? 0), errorNode(errors[p]), '', '']
      : [integer(h?.step ?? 0), h ? fixed(h.loss, 3) : '–', h ? fixed(h.trainCe, 3) : '–', h?.valCe != null ? fixed(h.valCe, 3) : '–'];
    for (const text of cells) {
      const td = document.createElement('td');
      td.append(text);
      tr.append(td);
    }
    return tr;
  }));
}

/** One run's sampled text, with a button that downloads that run's model (`save`). */
function sampleFigure(s, step, state, save) {
  const fig = document.createElement('figure');
  fig.className = `sample run-${pipelineNames().indexOf(s.pipeline)}`;
  const cap = document.createElement('figcaption');
  cap.textContent = t('samples.caption', { run: pipeline(s.pipeline).formula, step, T: fixed(state.temperature, 2), seed: String(state.seed) });
  // The runs' text is the training text's language: mark it only for the built-in English one.
  const pre = state.trainText === 'own' ? document.createElement('pre') : english('', 'pre');
  const b = document.createElement('b');
  b.textContent = s.prompt;
  pre.append(b, s.text);
  // This run's model, for transformers (GPT2LMHeadModel.from_pretrained on the folder).
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = t('samples.download');
  button.addEventListener('click', save);
  fig.append(cap, pre, button);
  return fig;
}
