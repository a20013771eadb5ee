// A group of training runs in the worker, behind its own Play / Step / Reset / Sample buttons
// and status line: the four pipelines (train-view.js) and the six distilled students
// (distill-view.js) are each one group. The group keeps each run's history of step reports;
// what a view draws from it (chart, table, cards) is the view's `render`.
//
// Where things are: `runGroup` wires one group; the buttons `play`, `stepOnce`, `reset`,
// `sampleRuns`; the worker's reports `record`; the status line `renderStatus`.

import { t, fixed, integer, fillNodes, errorNode, PageError } from './i18n.js';
import { announce, announceError } from './announce.js';

const $ = (id) => document.getElementById(id);

/** group name → its `record`: the worker's `train` messages name their group. */
const listeners = new Map();

/**
 * One group of runs. `ctx`: { lab (the worker), state }. `spec`:
 * - `group`: the worker's name for it ("pipelines", "distill");
 * - `ids`: the element ids of its `play`, `step`, `reset`, `sample` buttons, `status` line and
 *   `samples` container;
 * - `names()`: the runs the next start creates;
 * - `start()`: creates them in the worker, resolving with the worker's `started` figures;
 * - `render(runs)`: draws the view's figures from `runs.history` (and `runs.errors`);
 * - `sampleFigure(sample, step)`: one run's sampled text as a node.
 * Returns `runs`, the group's state, with `reset()` and `hide()`.
 */
export function runGroup(ctx, spec) {
  const runs = {
    spec,
    history: {},      // run → [step report]
    errors: {},       // run → message, once a run has stopped
    started: null,    // the worker's figures, once runs exist
    playing: false,
    speed: null,      // { stepsPerSec, tokensPerSec, runs } of the last round
    drawPending: false,
    buildLoaded: false,
  };
  listeners.set(spec.group, (msg) => { if (runs.started && runs.playing) record(runs, msg); });
  ctx.lab.onTrain = (msg) => listeners.get(msg.group ?? 'pipelines')?.(msg);
  const { ids } = spec;
  $(ids.play).addEventListener('click', () => play(ctx, runs));
  $(ids.step).addEventListener('click', () => stepOnce(ctx, runs));
  $(ids.reset).addEventListener('click', () => reset(ctx, runs));
  $(ids.sample).addEventListener('click', () => sampleRuns(ctx, runs));
  runs.reset = () => reset(ctx, runs);
  runs.hide = () => { if (runs.playing) pause(ctx.lab, runs); };
  runs.render = () => { renderStatus(runs); spec.render(runs); };
  syncButtons(runs);
  runs.render();
  return runs;
}

/** The latest step of any run. */
export const currentStep = (runs) => Math.max(0, ...Object.values(runs.history).map((h) => h.at(-1)?.step ?? 0));

function setStatus(runs, text) { $(runs.spec.ids.status).textContent = text; }

/** An error: in the status line (after a lead-in, as `errorNode` words it) and said once. */
function failed(runs, e) {
  fillNodes($(runs.spec.ids.status), 'train.failed', {}, { error: errorNode(e) });
  announceError(e);
}

function syncButtons(runs) {
  const { ids } = runs.spec;
  $(ids.play).textContent = runs.playing ? t('train.pause') : t('train.play');
  $(ids.play).setAttribute('aria-pressed', String(runs.playing));
  $(ids.step).disabled = runs.playing;
  $(ids.sample).disabled = !runs.started;
}

/** The runs, created in the worker on the first Play or Step after a reset. */
async function ensureRuns(runs) {
  if (runs.started) return runs.started;
  if (runs.spec.names().length === 0) throw new PageError(t('train.noRuns'));
  // The first start also downloads and compiles the training build of the wasm (candle).
  setStatus(runs, runs.buildLoaded ? t('train.creating') : await loadingBuildText());
  const names = runs.spec.names();
  runs.started = await runs.spec.start();
  runs.buildLoaded = true;
  runs.history = Object.fromEntries(names.map((p) => [p, []]));
  runs.errors = {};
  return runs.started;
}

/** The worker's reports of some steps: into each run's history, and drawn at the next frame. */
function record(runs, { reports, seconds, steps }) {
  for (const r of reports) {
    if (r.error) { runs.errors[r.pipeline] = r.error; continue; }
    const { pipeline, ...figures } = r;
    runs.history[pipeline]?.push(figures);
  }
  const tokens = steps * runs.started.batchSize * runs.started.contextLength;
  runs.speed = { stepsPerSec: steps / seconds, tokensPerSec: (reports.length * tokens) / seconds, runs: reports.length };
  if (!runs.drawPending) {
    runs.drawPending = true;
    requestAnimationFrame(() => { runs.drawPending = false; runs.render(); });
  }
}

/** The status line: the step, the speed, and whether it trains. */
function renderStatus(runs) {
  const { started, speed, playing } = runs;
  const step = currentStep(runs);
  const parts = [started ? t('train.stepN', { step }) : t('train.notStartedShort')];
  if (speed && step > 0) {
    parts.push(t(speed.runs > 1 ? 'train.speedRuns' : 'train.speedRun', { steps: fixed(speed.stepsPerSec, 1),
      tokens: integer(Math.round(speed.tokensPerSec)), runs: speed.runs }));
  }
  parts.push(playing ? t('train.training') : started ? t('train.paused') : t('train.pressPlay'));
  setStatus(runs, parts.join(' · '));
}

async function play(ctx, runs) {
  const { lab } = ctx;
  if (runs.playing) { pause(lab, runs); return; }
  try {
    await ensureRuns(runs);
    runs.playing = true;
    syncButtons(runs);
    runs.render();
    announce(t('announce.trainingStarted'));
    await lab.call('trainPlay', { group: runs.spec.group });
    announce(t('announce.trainingPaused', { step: currentStep(runs) }));
  } catch (e) {
    failed(runs, e);
  } finally {
    runs.playing = false;
    syncButtons(runs);
    if (runs.started) runs.render();
  }
}

function pause(lab, runs) {
  lab.call('trainPause', { group: runs.spec.group });
}

async function stepOnce(ctx, runs) {
  try {
    await ensureRuns(runs);
    record(runs, await ctx.lab.call('trainStep', { group: runs.spec.group, n: 1 }));
    announce(t('announce.stepped', { step: currentStep(runs) }));
  } catch (e) {
    failed(runs, e);
  }
  syncButtons(runs);
}

/** Throws the runs away; the next Play or Step starts again from the same initial weights. */
async function reset({ lab }, runs) {
  const had = runs.started;
  runs.playing = false;
  runs.started = null;
  runs.speed = null;
  runs.history = Object.fromEntries(runs.spec.names().map((p) => [p, []]));
  runs.errors = {};
  await lab.call('trainFree', { group: runs.spec.group });
  $(runs.spec.ids.samples).replaceChildren();
  syncButtons(runs);
  runs.render();
  if (had) announce(t('announce.reset'));
}

/** A text from each run, with the sampling lab's options. */
async function sampleRuns({ lab, state }, runs) {
  const button = $(runs.spec.ids.sample);
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  try {
    const texts = await lab.call('trainSample', {
      group: runs.spec.group, prompt: state.prompt, tokens: 200,
      options: { temperature: state.temperature, topK: state.topK, topP: state.topP, minP: state.minP, seed: state.seed },
    });
    $(runs.spec.ids.samples).replaceChildren(...texts.map((s) => runs.spec.sampleFigure(s, runs.history[s.pipeline]?.at(-1)?.step ?? 0)));
    announce(t('announce.samples', { n: texts.length }));
  } catch (e) {
    failed(runs, e);
  } finally {
    syncButtons(runs);
    // The button was disabled while it worked: give keyboard focus back to it, not to the page.
    if (hadFocus && document.activeElement === document.body) button.focus();
  }
}

/** "Loading the training build (its size, as build.sh measured it) …". */
async function loadingBuildText() {
  const size = await fetch(new URL('./pkg-train/size.json', import.meta.url))
    .then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!Number.isFinite(size?.bytes) || !Number.isFinite(size?.gzipBytes)) return t('train.loadingBuildUnsized');
  return t('train.loadingBuild', { mb: fixed(size.bytes / 1e6, 1), gzipMb: fixed(size.gzipBytes / 1e6, 2) });
}
