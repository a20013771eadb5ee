// The loss and training lab (view=train): the loss calculator, the classification-vs-generation
// table, and up to four pipelines training side by side. It renders what the worker computed.

import { renderBars, charLabel } from './bars.js';
import { renderLineChart } from './chart.js';
import { PIPELINES } from './state.js';
import { parseValues } from './pkg/logitlab.js';
import { saveFile } from './boot.js';

const $ = (id) => document.getElementById(id);

/**
 * How the page names each pipeline, whether it is correct, and what its gradient does. `note`
 * gets the calculator's figures: C classes, and crossEntropy(softmax)'s floor and margin.
 */
const PIPELINE_INFO = {
  crossEntropyOnLogits: { name: 'crossEntropy(logits)', ok: true,
    note: () => 'd loss/dz = (softmax(z) − t)/N: raises the target, lowers the rest in proportion.' },
  nllOnLogSoftmax: { name: 'nll(log_softmax(logits))', ok: true,
    note: () => 'The same function, in two steps: the same loss and the same gradient.' },
  nllOnLogits: { name: 'nll(logits)', ok: false,
    note: () => 'd loss/dz = −onehot(y)/N: pushes z_y up forever and never lowers the others. Its "loss" is −z_y, a raw logit: not in nats, and with no floor.' },
  crossEntropyOnSoftmax: { name: 'crossEntropy(softmax(logits))', ok: false,
    note: (ce) => `softmax applied twice. The loss cannot go below ln(1 + (C − 1)/e) = ${ce.floor.toFixed(3)} (C = ${ce.classes}), ` +
      'its gradient is squeezed by the softmax Jacobian, and its optimum is one-hot on the most likely next character ' +
      `whenever that one leads the runner-up by more than (e − 1)/(e + C − 1) = ${ce.margin.toFixed(4)}: every other character gets ` +
      'probability 0, however common. Train it below: "Sample text from each run" then prints only spaces.' },
};
/** The classification table's rows, as `classify` names them. */
const REPRESENTATION_NAMES = {
  logits: 'logits z', logProbs: 'log-probs (float32)', f32: 'probabilities (float32)',
  bf16: 'probabilities (bfloat16)', f16: 'probabilities (float16)',
};
const TOP = 8;

export function showTrainControls(state) {
  for (const r of document.querySelectorAll('input[name=lossSource]')) r.checked = r.value === state.lossSource;
  for (const r of document.querySelectorAll('input[name=reduction]')) r.checked = r.value === state.reduction;
  for (const r of document.querySelectorAll('input[name=trainText]')) r.checked = r.value === state.trainText;
  for (const el of document.querySelectorAll('[data-source]')) el.hidden = el.dataset.source !== state.lossSource;
  for (const el of document.querySelectorAll('[data-text]')) el.hidden = el.dataset.text !== state.trainText;
  $('l-prompt').value = state.prompt;
  $('l-logits').value = state.logits;
  $('targetId').value = String(state.targetId);
  $('labelSmoothing').value = String(state.labelSmoothing);
  $('labelSmoothing-value').textContent = state.labelSmoothing.toFixed(2);
  $('c-temperature').value = String(Math.max(0.05, state.temperature));
  $('c-temperature-value').textContent = Math.max(0.05, state.temperature).toFixed(2);
  const chosen = state.pipelines.split(',');
  for (const c of document.querySelectorAll('input[name=pipeline]')) c.checked = chosen.includes(c.value);
  $('preset').value = state.preset;
  $('learningRate').value = String(Math.log10(state.learningRate));
  $('learningRate-value').textContent = state.learningRate.toPrecision(2);
  $('batchSize').value = String(state.batchSize);
  $('trainSeed').value = String(state.trainSeed);
}

/** `model`: `{ config, labels, vocab }` of the model loaded now (main.js replaces them on a switch). */
export function setupTrain({ lab, state, update, model }) {
  const targetSelect = $('target');
  const option = (text, label, id) => {
    const o = document.createElement('option');
    o.value = text;
    o.textContent = `${label}  (id ${id})`;
    return o;
  };
  /**
   * The target's choices: every character of a character model; for a subword model the 20
   * most likely next tokens (from the last answer) and the current target, or type one.
   */
  function showTargets(choices = []) {
    const vocab = [...model.vocab];
    if (vocab.length > 0) {
      targetSelect.replaceChildren(...vocab.map((ch, i) => option(ch, model.labels[i], i)));
      if (!vocab.includes(state.target)) update({ target: vocab[0] });
    } else {
      const known = choices.some((c) => c.text === state.target);
      targetSelect.replaceChildren(...choices.map((c) => option(c.text, model.labels[c.id], c.id)),
        ...(known || !state.target ? [] : [option(state.target, JSON.stringify(state.target), '?')]));
    }
    targetSelect.value = state.target;
    $('target-text').value = state.target;
  }
  showTargets();

  // ---- the loss calculator and the classification table ----
  let calcSeq = 0;
  async function refreshCalc() {
    showTrainControls(state);
    const seq = ++calcSeq;
    let r;
    try {
      const typed = state.lossSource === 'typed' ? parseValues(state.logits) : new Float32Array(0);
      r = await lab.call('lossPanel', {
        source: state.lossSource, text: state.prompt, target: state.target, logits: typed,
        targetId: state.targetId, labelSmoothing: state.labelSmoothing, reduction: state.reduction,
        pipelines: PIPELINES, temperature: Math.max(0.05, state.temperature),
      });
    } catch (e) {
      if (seq !== calcSeq) return;
      $('l-error').textContent = e.message;
      $('l-error').hidden = false;
      return;
    }
    if (seq !== calcSeq) return;
    $('l-error').hidden = true;
    renderCalc(r);
  }

  function renderCalc(r) {
    const label = (i) => (r.labels ? model.labels[i] : String(i));
    if (r.labels && !model.vocab) showTargets(r.choices);
    const order = Array.from(r.probs.keys()).sort((a, b) => r.probs[b] - r.probs[a] || a - b);
    const ids = order.slice(0, TOP);
    if (!ids.includes(r.target)) ids.push(r.target);
    $('l-what').textContent = r.labels
      ? `${r.n} predictions: each ${model.vocab ? 'character' : 'token'} of the context predicts the next one, and the last predicts your target ${model.labels[r.target]}. The table and the gradient bars show that last row (${r.classes} ids; top ${TOP} by probability and the target).`
      : `One row of ${r.classes} logits, target id ${r.target}.`;
    $('l-vector').tBodies[0].replaceChildren(...ids.map((i) => {
      const tr = document.createElement('tr');
      if (i === r.target) tr.className = 'target-row';
      for (const text of [String(i), r.labels ? model.labels[i] : '', r.values[i].toFixed(4),
        r.logProbs[i].toFixed(4), r.probs[i].toPrecision(4)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));

    const denominator = r.pipelines.find((p) => !p.error)?.denominator ?? 1;
    $('grad-note').textContent = `Here N = ${denominator}` +
      (state.reduction === 'mean' && r.n > 1 ? ` (the mean over the context's ${r.n} predictions)` : state.reduction === 'sum' ? ' (sum)' : '') +
      `, ε = ${state.labelSmoothing.toFixed(2)} and C = ${r.classes}. The bars below are the last row's d loss/dz.`;
    $('pipelines').replaceChildren(...r.pipelines.map((p) => {
      const info = PIPELINE_INFO[p.pipeline];
      const card = document.createElement('section');
      card.className = `pipeline ${info.ok ? 'ok' : 'bad'}`;
      card.dataset.pipeline = p.pipeline;
      const h = document.createElement('h3');
      h.textContent = `${info.name} ${info.ok ? '✓' : '✗'}`;
      card.append(h);
      const v = document.createElement('p');
      v.className = 'loss-value';
      if (p.error) {
        v.textContent = p.error;
        v.classList.add('error');
        card.append(v);
        return card;
      }
      v.textContent = `loss = ${p.loss.toFixed(4)}` + (r.n > 1 ? ` (${state.reduction} of ${r.n} rows; the last row's term: ${p.row.toFixed(4)})` : '') +
        (p.pipeline === 'nllOnLogits' ? ' — this is −z_y, a raw logit, not in nats' : '');
      const bars = document.createElement('div');
      bars.className = 'bars';
      bars.setAttribute('role', 'img');
      const max = Math.max(...ids.map((i) => Math.abs(p.grad[i])), 1e-12);
      renderBars(bars, ids.map((i) => ({
        label: label(i), value: p.grad[i].toExponential(2), fraction: p.grad[i] / max, signed: true,
      })));
      bars.setAttribute('aria-label', `d loss / dz for the last row: ${ids.map((i) => `${label(i)} ${p.grad[i].toExponential(2)}`).join(', ')}`);
      const note = document.createElement('p');
      note.className = 'muted';
      note.textContent = info.note(r.ceOnSoftmax);
      card.append(v, bars, note);
      return card;
    }));

    $('classify').tBodies[0].replaceChildren(...r.classify.map((c) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = REPRESENTATION_NAMES[c.representation];
      tr.append(th);
      for (const text of [label(c.argmax), c.maxDiff.toExponential(2), String(c.never)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
  }

  for (const r of document.querySelectorAll('input[name=lossSource]')) {
    r.addEventListener('change', () => { update({ lossSource: r.value }); refreshCalc(); });
  }
  for (const r of document.querySelectorAll('input[name=reduction]')) {
    r.addEventListener('change', () => { update({ reduction: r.value }); refreshCalc(); });
  }
  $('l-prompt').addEventListener('input', () => { update({ prompt: $('l-prompt').value }); refreshCalc(); });
  $('l-logits').addEventListener('input', () => { update({ logits: $('l-logits').value.slice(0, 2000) }); refreshCalc(); });
  targetSelect.addEventListener('change', () => { update({ target: targetSelect.value }); refreshCalc(); });
  $('target-text').addEventListener('change', () => { update({ target: $('target-text').value.slice(0, 100) }); refreshCalc(); });
  $('targetId').addEventListener('change', () => {
    const t = Number($('targetId').value);
    if (Number.isInteger(t) && t >= 0 && t <= 1 << 20) update({ targetId: t });
    refreshCalc();
  });
  $('labelSmoothing').addEventListener('input', () => { update({ labelSmoothing: Number($('labelSmoothing').value) }); refreshCalc(); });
  $('c-temperature').addEventListener('input', () => { update({ temperature: Number($('c-temperature').value) }); refreshCalc(); });

  // ---- live training ----
  let history = {};      // pipeline → [{ step, loss, trainCe, valCe }]
  let errors = {};       // pipeline → message, once a run has stopped
  let started = null;    // trainStart's answer, once runs exist
  let playing = false;
  let speed = null;      // { stepsPerSec, tokensPerSec } of the last round, per run
  let drawPending = false;
  let trainingBuildLoaded = false;

  const pipelines = () => state.pipelines ? state.pipelines.split(',') : [];

  function setStatus(text) { $('train-status').textContent = text; }
  function syncButtons() {
    $('play').textContent = playing ? 'Pause' : 'Play';
    $('play').setAttribute('aria-pressed', String(playing));
    $('train-step').disabled = playing;
    $('train-sample').disabled = !started;
  }

  async function ensureRuns() {
    if (started) return started;
    if (pipelines().length === 0) throw new Error('choose at least one run');
    const own = $('own-text').value;
    // The first start also downloads and compiles the training build of the wasm (candle).
    setStatus(trainingBuildLoaded ? 'Creating the runs…' : 'Loading the training build (3.4 MB of wasm) and creating the runs…');
    started = await lab.call('trainStart', {
      source: state.trainText, own, preset: state.preset, learningRate: state.learningRate,
      batchSize: state.batchSize, seed: state.trainSeed, pipelines: pipelines(),
    });
    trainingBuildLoaded = true;
    showTrainingNotes(started);
    history = Object.fromEntries(pipelines().map((p) => [p, []]));
    errors = {};
    return started;
  }

  /** What the runs' figures mean for this text: the validation estimate, crossEntropy(softmax)'s optimum. */
  function showTrainingNotes(s) {
    const ce = s.ceOnSoftmax;
    const [top, second] = ce.top.map((c) => charLabel(c));
    $('val-note').hidden = false;
    $('val-note').textContent = `Validation CE is an estimate on ${s.evalBatches} fixed batches of ` +
      `${s.batchSize} × ${s.contextLength} characters of the held-out last 10% of the text.`;
    $('ce-softmax-note').hidden = !pipelines().includes('crossEntropyOnSoftmax');
    $('ce-softmax-note').textContent = `On this text (C = ${ce.classes} characters) crossEntropy(softmax)'s own loss cannot go below ` +
      `${ce.floor.toFixed(3)}. The most frequent character, ${top} (${ce.frequencies[0].toFixed(3)}), leads ${second} ` +
      `(${ce.frequencies[1].toFixed(3)}) by more than ${ce.margin.toFixed(4)}, so that loss is lowest when the model ` +
      `predicts only ${top}: its dashed line settles near ln(e + C − 1) − ${ce.frequencies[0].toFixed(3)} = ${ce.oneHotLoss.toFixed(3)}, ` +
      'while its true cross-entropy (solid) stays far above ln C.';
  }

  function record({ reports, seconds, steps }) {
    for (const r of reports) {
      if (r.error) { errors[r.pipeline] = r.error; continue; }
      history[r.pipeline]?.push({ step: r.step, loss: r.loss, trainCe: r.trainCe, valCe: r.valCe });
    }
    const tokens = steps * started.batchSize * started.contextLength;
    speed = { stepsPerSec: steps / seconds, tokensPerSec: (reports.length * tokens) / seconds, runs: reports.length };
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(() => { drawPending = false; renderTraining(); });
    }
  }

  function renderTraining() {
    const runs = Object.keys(history);
    const last = (p) => history[p].at(-1);
    const step = Math.max(0, ...runs.map((p) => last(p)?.step ?? 0));
    const parts = [started ? `step ${step}` : 'Not started'];
    if (speed && step > 0) parts.push(`${speed.stepsPerSec.toFixed(1)} steps/s, ${Math.round(speed.tokensPerSec).toLocaleString('en')} tokens/s over ${speed.runs} run${speed.runs > 1 ? 's' : ''}`);
    parts.push(playing ? 'training…' : started ? 'paused' : 'press Play or Step');
    setStatus(parts.join(' · '));

    const all = runs.flatMap((p) => history[p].flatMap((h) => [h.loss, h.valCe ?? h.trainCe]));
    const lnV = Math.log(started?.ceOnSoftmax?.classes ?? 84); // the training text's characters
    const lo = Math.max(-10, Math.min(0, ...all));
    const hi = Math.min(10, Math.max(lnV + 0.5, ...all));
    const series = runs.flatMap((p) => {
      const i = PIPELINES.indexOf(p);
      return [
        { className: `run-${i}`, dashed: true, points: history[p].map((h) => [h.step, h.loss]) },
        { className: `run-${i}`, dashed: false, points: history[p].map((h) => [h.step, h.valCe ?? h.trainCe]) },
      ];
    });
    renderLineChart($('chart'), {
      series, xMax: Math.max(50, step), yRange: [lo, hi], xLabel: 'step',
      yLabel: `nats/char (window ${lo.toFixed(1)} … ${hi.toFixed(1)})`,
    });
    $('train-table').tBodies[0].replaceChildren(...runs.map((p) => {
      const tr = document.createElement('tr');
      tr.className = `run-row run-${PIPELINES.indexOf(p)}`;
      tr.dataset.pipeline = p;
      const th = document.createElement('th');
      th.scope = 'row';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      th.append(swatch, `${PIPELINE_INFO[p].name} ${PIPELINE_INFO[p].ok ? '✓' : '✗'}`);
      tr.append(th);
      const h = last(p);
      const cells = errors[p] ? [String(h?.step ?? 0), errors[p], '', '']
        : [String(h?.step ?? 0), h ? h.loss.toFixed(3) : '–', h ? h.trainCe.toFixed(3) : '–', h?.valCe != null ? h.valCe.toFixed(3) : '–'];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
  }

  lab.onTrain = (msg) => { if (started && playing) record(msg); };

  async function play() {
    if (playing) { pause(); return; }
    try {
      await ensureRuns();
      playing = true;
      syncButtons();
      renderTraining();
      await lab.call('trainPlay');
    } catch (e) {
      setStatus(e.message);
    } finally {
      playing = false;
      syncButtons();
      if (started) renderTraining();
    }
  }
  function pause() {
    lab.call('trainPause');
  }
  async function stepOnce() {
    try {
      await ensureRuns();
      record(await lab.call('trainStep', { n: 1 }));
    } catch (e) {
      setStatus(e.message);
    }
    syncButtons();
  }
  /** Throws the runs away; the next Play or Step starts again from the same initial weights. */
  async function reset() {
    playing = false;
    started = null;
    speed = null;
    history = Object.fromEntries(pipelines().map((p) => [p, []]));
    errors = {};
    await lab.call('trainFree');
    $('samples').replaceChildren();
    syncButtons();
    renderTraining();
  }
  async function sample() {
    $('train-sample').disabled = true;
    try {
      const texts = await lab.call('trainSample', {
        prompt: state.prompt, tokens: 200,
        options: { temperature: state.temperature, topK: state.topK, topP: state.topP, minP: state.minP, seed: state.seed },
      });
      $('samples').replaceChildren(...texts.map((t) => {
        const fig = document.createElement('figure');
        fig.className = `sample run-${PIPELINES.indexOf(t.pipeline)}`;
        const cap = document.createElement('figcaption');
        cap.textContent = `${PIPELINE_INFO[t.pipeline].name}, at step ${history[t.pipeline]?.at(-1)?.step ?? 0} (T = ${state.temperature}, seed ${state.seed})`;
        const pre = document.createElement('pre');
        const b = document.createElement('b');
        b.textContent = t.prompt;
        pre.append(b, t.text);
        // This run's model, for transformers (GPT2LMHeadModel.from_pretrained on the folder).
        const save = document.createElement('button');
        save.type = 'button';
        save.textContent = 'Download this model (Hugging Face, .zip)';
        const step = history[t.pipeline]?.at(-1)?.step ?? 0;
        save.addEventListener('click', async () => {
          try {
            const folder = `logitlab-${t.pipeline}-step${step}`;
            const { zip } = await lab.call('exportModel', { pipeline: t.pipeline, folder });
            saveFile(`${folder}.zip`, zip);
          } catch (e) {
            setStatus(e.message);
          }
        });
        fig.append(cap, pre, save);
        return fig;
      }));
    } catch (e) {
      setStatus(e.message);
    } finally {
      syncButtons();
    }
  }

  $('play').addEventListener('click', play);
  $('train-step').addEventListener('click', stepOnce);
  $('reset').addEventListener('click', reset);
  $('train-sample').addEventListener('click', sample);
  // Changing what is trained starts over (as in TensorFlow Playground).
  const settingsChanged = (patch) => { update(patch); showTrainControls(state); reset(); };
  for (const c of document.querySelectorAll('input[name=pipeline]')) {
    c.addEventListener('change', () => settingsChanged({
      pipelines: PIPELINES.filter((p) => document.querySelector(`input[name=pipeline][value=${p}]`).checked).join(','),
    }));
  }
  $('preset').addEventListener('change', () => settingsChanged({ preset: $('preset').value }));
  $('learningRate').addEventListener('change', () => settingsChanged({ learningRate: Number((10 ** Number($('learningRate').value)).toPrecision(2)) }));
  $('learningRate').addEventListener('input', () => { $('learningRate-value').textContent = (10 ** Number($('learningRate').value)).toPrecision(2); });
  $('batchSize').addEventListener('change', () => settingsChanged({ batchSize: Number($('batchSize').value) }));
  $('trainSeed').addEventListener('change', () => {
    const s = Number($('trainSeed').value);
    if (Number.isInteger(s) && s >= 0 && s <= Number.MAX_SAFE_INTEGER) settingsChanged({ trainSeed: s });
    else showTrainControls(state);
  });
  for (const r of document.querySelectorAll('input[name=trainText]')) {
    r.addEventListener('change', () => settingsChanged({ trainText: r.value }));
  }
  $('own-text').addEventListener('change', () => { if (state.trainText === 'own') reset(); });

  showTrainControls(state);
  syncButtons();
  renderTraining();
  // Otherwise when the view is first shown. `ready`: the first calculator is on screen.
  const ready = state.view === 'train' ? refreshCalc() : Promise.resolve();
  return {
    ready,
    /** Another model: the calculator's vector now comes from it (training keeps its own models). */
    modelChanged: () => {
      showTargets();
      if (state.view === 'train') refreshCalc();
    },
    refresh: refreshCalc,
    /** Leaving the view pauses training: no work keeps running where nobody sees it. */
    hide: () => { if (playing) pause(); },
  };
}
