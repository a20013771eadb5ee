// The loss and training lab (view=train): the loss calculator and classification table
// (loss-view.js), and up to four pipelines training side by side (here). It renders what the
// worker computed.
//
// Where things are: `setupTrain` sets up both parts. The training runs: `setupTrainingRuns`; their
// controls `showTrainingControls`, `bindRunSettings`, `bindRunButtons` (`play`, `stepOnce`,
// `reset`, `sampleRuns`); the worker's reports `ensureRuns`, `record`; the outputs
// `renderTraining` (status line, `renderChart`, `renderTable`), `showTextNotes`, `sampleFigure`.

import { charLabel } from './bars.js';
import { bindControl } from './state.js';
import { renderLineChart } from './chart.js';
import { pipeline, pipelineNames, pipelineTitle, PIPELINES, PRESETS, presetLabel } from './pipelines.js';
import { setupLossCalculator, showLossControls } from './loss-view.js';
import { saveFile } from './boot.js';
import { t, fixed, precision, integer, localNumber, english, fillNodes, errorNode, errorText, PageError } from './i18n.js';
import { announce, announceError } from './announce.js';

const $ = (id) => document.getElementById(id);

/** Shows the state in the view's controls: the calculator's and the training runs'. */
export function showTrainControls(state) {
  showLossControls(state);
  showTrainingControls(state);
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
  const runs = setupTrainingRuns(ctx);
  const refresh = () => { showTrainingControls(ctx.state); return calc.refresh(); };
  // Otherwise when the view is first shown. `ready`: the first calculator is on screen.
  const ready = ctx.state.view === 'train' ? refresh() : Promise.resolve();
  return {
    ready,
    /** Another model: the calculator's vector now comes from it (training keeps its own models). */
    modelChanged: calc.modelChanged,
    refresh,
    /** Leaving the view pauses training: no work keeps running where nobody sees it. */
    hide: runs.hide,
  };
}

/**
 * Up to four pipelines trained side by side from the same start, in the worker. `training` is
 * this part's own state; `ctx` = { lab (the worker), state (the page's state), update }.
 */
function setupTrainingRuns(ctx) {
  const { lab, state } = ctx;
  buildChoices();
  const training = {
    history: {},      // pipeline → [{ step, loss, trainCe, valCe }]
    errors: {},       // pipeline → message, once a run has stopped
    started: null,    // trainStart's answer, once runs exist
    playing: false,
    speed: null,      // { stepsPerSec, tokensPerSec } of the last round, per run
    drawPending: false,
    buildLoaded: false,
  };
  lab.onTrain = (msg) => { if (training.started && training.playing) record(training, msg); };
  bindRunButtons(ctx, training);
  bindRunSettings(ctx, training);
  showTrainingControls(state);
  syncButtons(training);
  renderTraining(training);
  return { hide: () => { if (training.playing) pause(lab); } };
}

const chosenPipelines = (state) => (state.pipelines ? state.pipelines.split(',') : []);

function setStatus(text) { $('train-status').textContent = text; }

/** An error: in the status line (after a lead-in, as `errorNode` words it) and said once. */
function failed(e) {
  fillNodes($('train-status'), 'train.failed', {}, { error: errorNode(e) });
  announceError(e);
}

function syncButtons(training) {
  $('play').textContent = training.playing ? t('train.pause') : t('train.play');
  $('play').setAttribute('aria-pressed', String(training.playing));
  $('train-step').disabled = training.playing;
  $('train-sample').disabled = !training.started;
}

// ---- the runs in the worker ----

/** The runs, created in the worker on the first Play or Step after a reset. */
async function ensureRuns({ lab, state }, training) {
  if (training.started) return training.started;
  if (chosenPipelines(state).length === 0) throw new PageError(t('train.noRuns'));
  // Pasted Vietnamese may arrive decomposed (NFD: a + U+0301 …), which would double the
  // characters the model learns. Composed (NFC), every letter is one character.
  const pasted = $('own-text').value;
  const own = pasted.normalize('NFC');
  $('nfc-note').hidden = state.trainText !== 'own' || own === pasted;
  if (own !== pasted) $('nfc-note').textContent = t('train.nfc', { before: pasted.length, after: own.length });
  // The first start also downloads and compiles the training build of the wasm (candle).
  setStatus(training.buildLoaded ? t('train.creating') : await loadingBuildText());
  training.started = await lab.call('trainStart', {
    source: state.trainText, own, preset: state.preset, learningRate: state.learningRate,
    batchSize: state.batchSize, seed: state.trainSeed, pipelines: chosenPipelines(state),
  });
  training.buildLoaded = true;
  showTextNotes(training.started, chosenPipelines(state));
  training.history = Object.fromEntries(chosenPipelines(state).map((p) => [p, []]));
  training.errors = {};
  return training.started;
}

/** The worker's reports of some steps: into each run's history, and drawn at the next frame. */
function record(training, { reports, seconds, steps }) {
  for (const r of reports) {
    if (r.error) { training.errors[r.pipeline] = r.error; continue; }
    training.history[r.pipeline]?.push({ step: r.step, loss: r.loss, trainCe: r.trainCe, valCe: r.valCe });
  }
  const tokens = steps * training.started.batchSize * training.started.contextLength;
  training.speed = { stepsPerSec: steps / seconds, tokensPerSec: (reports.length * tokens) / seconds, runs: reports.length };
  if (!training.drawPending) {
    training.drawPending = true;
    requestAnimationFrame(() => { training.drawPending = false; renderTraining(training); });
  }
}

/** The status line, the chart and the table. */
function renderTraining(training) {
  const { history, errors, started, speed, playing } = training;
  const step = currentStep(training);
  const parts = [started ? t('train.stepN', { step }) : t('train.notStartedShort')];
  if (speed && step > 0) {
    parts.push(t(speed.runs > 1 ? 'train.speedRuns' : 'train.speedRun', { steps: fixed(speed.stepsPerSec, 1),
      tokens: integer(Math.round(speed.tokensPerSec)), runs: speed.runs }));
  }
  parts.push(playing ? t('train.training') : started ? t('train.paused') : t('train.pressPlay'));
  setStatus(parts.join(' · '));

  renderChart(history, errors, step, started?.ceOnSoftmax?.classes ?? 84);
  renderTable(history, errors);
}

/** The latest step of any run. */
const currentStep = (training) => Math.max(0, ...Object.values(training.history).map((h) => h.at(-1)?.step ?? 0));

// ---- the buttons: play / pause, step, reset, sample ----

function bindRunButtons(ctx, training) {
  $('play').addEventListener('click', () => play(ctx, training));
  $('train-step').addEventListener('click', () => stepOnce(ctx, training));
  $('reset').addEventListener('click', () => reset(ctx, training));
  $('train-sample').addEventListener('click', () => sampleRuns(ctx, training));
}

async function play(ctx, training) {
  const { lab } = ctx;
  if (training.playing) { pause(lab); return; }
  try {
    await ensureRuns(ctx, training);
    training.playing = true;
    syncButtons(training);
    renderTraining(training);
    announce(t('announce.trainingStarted'));
    await lab.call('trainPlay');
    announce(t('announce.trainingPaused', { step: currentStep(training) }));
  } catch (e) {
    failed(e);
  } finally {
    training.playing = false;
    syncButtons(training);
    if (training.started) renderTraining(training);
  }
}

function pause(lab) {
  lab.call('trainPause');
}

async function stepOnce(ctx, training) {
  try {
    await ensureRuns(ctx, training);
    record(training, await ctx.lab.call('trainStep', { n: 1 }));
    announce(t('announce.stepped', { step: currentStep(training) }));
  } catch (e) {
    failed(e);
  }
  syncButtons(training);
}

/** Throws the runs away; the next Play or Step starts again from the same initial weights. */
async function reset({ lab, state }, training) {
  const had = training.started;
  training.playing = false;
  training.started = null;
  training.speed = null;
  training.history = Object.fromEntries(chosenPipelines(state).map((p) => [p, []]));
  training.errors = {};
  await lab.call('trainFree');
  $('samples').replaceChildren();
  syncButtons(training);
  renderTraining(training);
  if (had) announce(t('announce.reset'));
}

/** A text from each run, with the sampling lab's options, each with its model's download. */
async function sampleRuns({ lab, state }, training) {
  const hadFocus = document.activeElement === $('train-sample');
  $('train-sample').disabled = true;
  try {
    const texts = await lab.call('trainSample', {
      prompt: state.prompt, tokens: 200,
      options: { temperature: state.temperature, topK: state.topK, topP: state.topP, minP: state.minP, seed: state.seed },
    });
    $('samples').replaceChildren(...texts.map((s) => {
      const step = training.history[s.pipeline]?.at(-1)?.step ?? 0;
      return sampleFigure(s, step, state, async () => {
        try {
          const folder = `logitlab-${s.pipeline}-step${step}`;
          const { zip } = await lab.call('exportModel', { pipeline: s.pipeline, folder });
          saveFile(`${folder}.zip`, zip);
        } catch (e) {
          failed(e);
        }
      });
    }));
    announce(t('announce.samples', { n: texts.length }));
  } catch (e) {
    failed(e);
  } finally {
    syncButtons(training);
    // The button was disabled while it worked: give keyboard focus back to it, not to the page.
    if (hadFocus && document.activeElement === document.body) $('train-sample').focus();
  }
}

// ---- the settings: changing what is trained starts over (as in TensorFlow Playground) ----

function bindRunSettings(ctx, training) {
  const { state, update } = ctx;
  const settingsChanged = (patch) => { update(patch); showTrainingControls(state); reset(ctx, training); };
  for (const c of document.querySelectorAll('input[name=pipeline]')) {
    c.addEventListener('change', () => settingsChanged({
      pipelines: pipelineNames().filter((p) => document.querySelector(`input[name=pipeline][value=${p}]`).checked).join(','),
    }));
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
  $('own-text').addEventListener('change', () => { if (state.trainText === 'own') reset(ctx, training); });
}

/** "Loading the training build (its size, as build.sh measured it) …". */
async function loadingBuildText() {
  const size = await fetch(new URL('./pkg-train/size.json', import.meta.url))
    .then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!Number.isFinite(size?.bytes) || !Number.isFinite(size?.gzipBytes)) return t('train.loadingBuildUnsized');
  return t('train.loadingBuild', { mb: fixed(size.bytes / 1e6, 1), gzipMb: fixed(size.gzipBytes / 1e6, 2) });
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
