// The sampler chain of the sampling view: its steps as a list (add, remove, reorder with the
// buttons or the keyboard, each step's parameters, the ids it kept and the mass it removed),
// the presets, the three distributions of the next token, and why the order matters. The
// chain lives in the URL (`chain=`, its `chainToUrl` form); without it, the chain is the
// sliders' (temperature → top-k → top-p → min-p, Hugging Face's order). Every figure comes
// from the wasm: `chainPanel` (through the worker), `Sampler.distribution` for the (3, 2, 1)
// example, `orderMatters` (through the worker) for the model's texts.
//
// Where things are: `setupChain` wires it. `currentChain` is the chain of a state; `setChain`
// writes one. `renderSteps` draws the list, `bindList` its buttons and keys, `renderFigures`
// each step's figures and `renderThree` the three distributions from the panel's answer.
// `renderOrderExample` and `bindOrderModel`: why the order matters.

import { Sampler, chainToUrl, chainFromUrl, chainFields } from './pkg/logitlab.js';
import { t, fixed, precision, integer, english, errorNode, errorText, fillNodes, localNumber } from './i18n.js';
import { announce } from './announce.js';

const $ = (id) => document.getElementById(id);

/** The steps a student can add, in the order the menu lists them. */
const KINDS = ['temperature', 'dynamicTemperature', 'topK', 'topP', 'minP', 'typical', 'epsilon', 'eta',
  'topNSigma', 'xtc', 'repetitionPenalty', 'penalties', 'noRepeatNgram', 'dry', 'logitBias', 'mirostat', 'mirostatV2'];

/** "The order matters": z = (3, 2, 1), top-p 0.8 and T = 0.5 in each reference's order. */
export const ORDER_EXAMPLE = { z: [3, 2, 1], huggingface: 't_0.5~p_0.8_1', llamacpp: 'p_0.8_0~t_0.5' };

/** The chain of the sliders: temperature → top-k → top-p → min-p. */
const sliderChain = (s) => [
  { kind: 'temperature', t: s.temperature }, { kind: 'topK', k: s.topK, rule: 'huggingface' },
  { kind: 'topP', p: s.topP, minKeep: 1 }, { kind: 'minP', p: s.minP, minKeep: 1 },
];

/**
 * The state's chain, every parameter filled in: the URL's (state.js keeps only a chain that
 * reads), else the sliders'.
 */
export function currentChain(state) {
  if (state.chain) return chainFromUrl(state.chain);
  const sampler = new Sampler(sliderChain(state), { seed: 0 });
  try { return sampler.chain; } finally { sampler.free(); }
}

/** Whether the sliders set the chain (no `chain=` in the URL). */
export const slidersChain = (state) => !state.chain;

/** `ctx`: the view's { state, update }; `refresh` asks for a new panel. */
export function setupChain(ctx, refresh, orderMatters) {
  const view = { steps: currentChain(ctx.state), figures: null, focus: null };
  $('add-kind').replaceChildren(...KINDS.map((k) => Object.assign(document.createElement('option'), { value: k, textContent: k })));
  const set = (steps, said) => setChain(ctx, view, steps, refresh, said);
  bindList(view, set);
  $('add-step').addEventListener('click', () => {
    const kind = $('add-kind').value;
    // At the end, unless the wasm says the last step must stay last (a Mirostat step, which
    // draws the token): then just before it.
    let steps = [...view.steps, { kind }];
    let at = steps.length - 1;
    if (refusal(steps)?.code === 'chain.selectorLast' && at > 0) {
      steps = [...view.steps.slice(0, -1), { kind }, view.steps.at(-1)];
      at -= 1;
    }
    view.focus = at;
    set(steps, (filled) => t('chain.added', { kind, n: at + 1, total: filled.length }));
  });
  $('preset-huggingface').addEventListener('click', () => set('huggingface', () => t('chain.presetChosen', { name: t('chain.preset.huggingface') })));
  $('preset-llama').addEventListener('click', () => set('llama.cpp', () => t('chain.presetChosen', { name: t('chain.preset.llama') })));
  $('preset-order').addEventListener('click', () => {
    set(chainFromUrl(ORDER_EXAMPLE.huggingface), () => t('chain.presetChosen', { name: t('chain.preset.order') }));
    $('order-title').scrollIntoView({ block: 'start' });
  });
  $('preset-sliders').addEventListener('click', () => {
    ctx.update({ chain: '' });
    view.steps = currentChain(ctx.state);
    renderSteps(view, ctx.state);
    refresh();
    announce(t('chain.presetChosen', { name: t('chain.preset.sliders') }));
  });
  renderOrderExample();
  bindOrderModel(orderMatters);
  renderSteps(view, ctx.state);
  return {
    /** The chain to send with a request. */
    chain: () => view.steps,
    /** The sliders moved: their chain changes, if it is the one in use. */
    slidersMoved: () => {
      if (!slidersChain(ctx.state)) return;
      view.steps = currentChain(ctx.state);
      // The same steps with other parameters: their values change in place, not the list.
      if (!showValues(view)) renderSteps(view, ctx.state);
    },
    /** The panel's answer: each step's figures and the three distributions. */
    show: (r, labels) => { view.figures = r.steps; renderFigures(view); renderThree(r, labels); showError(null); },
    failed: (e) => showError(e),
  };
}

/** Why the wasm refuses `steps` as a chain, or null. */
function refusal(steps) {
  try {
    new Sampler(steps, { seed: 0 }).free();
    return null;
  } catch (e) {
    return e;
  }
}

/**
 * Makes `steps` (a preset's name or a list) the chain: checked and filled in by the wasm, then
 * the state and the URL; a bad chain keeps the old one and says why.
 */
function setChain({ state, update }, view, steps, refresh, said) {
  let filled;
  try {
    const sampler = new Sampler(steps, { seed: 0 });
    filled = sampler.chain;
    sampler.free();
  } catch (e) {
    showError(e);
    return false;
  }
  update({ chain: chainToUrl(filled) });
  view.steps = filled;
  view.figures = null;
  renderSteps(view, state);
  refresh();
  if (said) announce(said(filled));
  return true;
}

function showError(e) {
  const el = $('chain-error');
  if (!e) { el.replaceChildren(); el.hidden = true; return; }
  fillNodes(el, 'chain.failed', {}, { error: errorNode(e) });
  el.hidden = false;
}

// ---- the list ----

/** Each kind's fields, names, defaults and ranges, from the wasm (asked once per kind). */
const FIELDS = new Map();
const fieldsOf = (kind) => {
  if (!FIELDS.has(kind)) FIELDS.set(kind, chainFields(kind));
  return FIELDS.get(kind);
};

/** The value a parameter's input shows, and back. */
const shownValue = (v) => (Array.isArray(v) ? JSON.stringify(v, (k, x) => (x === -Infinity ? '-Infinity' : x)) : String(v));
function readValue(text, old) {
  if (Array.isArray(old)) {
    // JSON has no −∞: a bias of -Infinity is written null, as the wasm reads it.
    try { return JSON.parse(text.replace(/(?<!")(-Infinity|-inf)(?!")/g, 'null')); } catch { return text; }
  }
  if (typeof old === 'string') return text;
  // A number input's value is dot-decimal in every language.
  const x = Number(text);
  return text.trim() === '' || Number.isNaN(x) ? text : x;
}

/** One li per step: its name and explanation, its parameters, its figures, its buttons. */
function renderSteps(view, state) {
  const total = view.steps.length;
  const items = view.steps.map((step, i) => {
    const li = document.createElement('li');
    li.className = 'chain-step';
    li.tabIndex = 0;
    li.dataset.i = String(i);
    li.setAttribute('aria-label', t('chain.stepLabel', { n: i + 1, total, kind: step.kind }));
    const head = document.createElement('div');
    head.className = 'chain-head';
    const name = document.createElement('code');
    name.textContent = step.kind;
    const figures = document.createElement('span');
    figures.className = 'chain-figures';
    figures.id = `chain-figures-${i}`;
    const buttons = document.createElement('span');
    buttons.className = 'chain-buttons';
    for (const [act, sign] of [['up', '↑'], ['down', '↓'], ['remove', '✕']]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.act = act;
      b.textContent = sign;
      b.setAttribute('aria-label', t(`chain.${act}`, { n: i + 1, kind: step.kind }));
      b.title = t(`chain.${act}`, { n: i + 1, kind: step.kind });
      if ((act === 'up' && i === 0) || (act === 'down' && i === total - 1)) b.disabled = true;
      buttons.append(b);
    }
    head.append(`${i + 1}. `, name, ' ', figures, buttons);
    const explain = document.createElement('p');
    explain.className = 'hint';
    explain.textContent = t(`explain.${step.kind}`);
    const params = document.createElement('div');
    params.className = 'chain-params';
    // In the order the step reads them, each with the range the wasm checks.
    for (const spec of fieldsOf(step.kind)) {
      const field = spec.name;
      const value = step[field];
      const label = document.createElement('label');
      const code = document.createElement('code');
      code.textContent = field;
      let input;
      if (spec.choices.length) {
        input = document.createElement('select');
        input.append(...spec.choices.map((r) => Object.assign(document.createElement('option'), { value: r, textContent: r })));
        input.value = value;
      } else {
        input = document.createElement('input');
        input.type = Array.isArray(value) ? 'text' : 'number';
        if (!Array.isArray(value)) {
          input.min = String(spec.min);
          input.max = String(spec.max);
          input.step = spec.integer ? '1' : 'any';
          input.inputMode = spec.integer ? 'numeric' : 'decimal';
        }
        input.value = shownValue(value);
        input.spellcheck = false;
        input.title = `${field} ∈ ${spec.range}`;
      }
      input.dataset.field = field;
      label.append(code, ' ', input);
      params.append(label);
    }
    li.append(head, explain, params);
    return li;
  });
  $('chain-steps').replaceChildren(...items);
  $('chain-sliders').hidden = !slidersChain(state);
  for (const part of ['temperature', 'topK', 'topP', 'minP']) {
    document.querySelector(`.slider[data-part=${part}]`).classList.toggle('chain-off', !slidersChain(state));
  }
  $('chain-empty').hidden = total > 0;
  renderFigures(view);
  if (view.focus !== null) {
    const target = $('chain-steps').children[Math.min(view.focus, total - 1)];
    view.focus = null;
    target?.focus();
  }
}

/**
 * Writes the steps' parameters into the list's fields, if the list shows these very steps (the
 * same kinds in the same order, as `renderSteps` drew them); false if it does not.
 */
function showValues(view) {
  const items = $('chain-steps').children;
  if (items.length !== view.steps.length) return false;
  const kinds = Array.from(items, (li) => li.querySelector('.chain-head code')?.textContent);
  if (view.steps.some((step, i) => step.kind !== kinds[i])) return false;
  view.steps.forEach((step, i) => {
    for (const input of items[i].querySelectorAll('.chain-params [data-field]')) {
      const value = shownValue(step[input.dataset.field]);
      if (input.value !== value) input.value = value;
    }
  });
  renderFigures(view);
  return true;
}

/** Each step's kept count and removed mass, from the panel's last answer. */
function renderFigures(view) {
  view.steps.forEach((step, i) => {
    const el = $(`chain-figures-${i}`);
    const f = view.figures?.[i];
    if (!el) return;
    el.textContent = f && f.kind === step.kind
      ? t('chain.figures', { kept: integer(f.kept), mass: precision(f.massRemoved, 3) }) : '';
  });
}

/** Buttons, parameter edits and keys of the list. */
function bindList(view, set) {
  const list = $('chain-steps');
  const move = (i, by) => {
    const j = i + by;
    if (j < 0 || j >= view.steps.length) return;
    const steps = [...view.steps];
    [steps[i], steps[j]] = [steps[j], steps[i]];
    view.focus = j;
    set(steps, (filled) => t('chain.moved', { kind: filled[j].kind, n: j + 1, total: filled.length }));
  };
  const remove = (i) => {
    const steps = view.steps.filter((_, k) => k !== i);
    view.focus = Math.min(i, steps.length - 1);
    const kind = view.steps[i].kind;
    if (steps.length === 0) view.focus = null;
    if (set(steps, (filled) => t('chain.removedStep', { kind, total: filled.length })) && steps.length === 0) $('add-kind').focus();
  };
  list.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-act]');
    if (!b) return;
    const i = Number(b.closest('li').dataset.i);
    if (b.dataset.act === 'up') move(i, -1);
    else if (b.dataset.act === 'down') move(i, 1);
    else remove(i);
  });
  list.addEventListener('keydown', (e) => {
    const li = e.target.closest('li');
    if (!li || e.target !== li) return; // keys typed in a parameter stay there
    const i = Number(li.dataset.i);
    if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      move(i, e.key === 'ArrowUp' ? -1 : 1);
    } else if (e.key === 'Delete') {
      e.preventDefault();
      remove(i);
    } else if (!e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      list.children[i + (e.key === 'ArrowUp' ? -1 : 1)]?.focus();
    }
  });
  list.addEventListener('change', (e) => {
    const input = e.target.closest('[data-field]');
    if (!input) return;
    const i = Number(input.closest('li').dataset.i);
    const field = input.dataset.field;
    const steps = view.steps.map((s) => ({ ...s }));
    steps[i][field] = readValue(input.value, view.steps[i][field]);
    view.focus = null;
    const kept = set(steps, null);
    if (kept) list.children[i]?.querySelector(`[data-field="${field}"]`)?.focus();
  });
}

// ---- the three distributions ----

/**
 * The top ids under the model, each in the three distributions, as a table. The worker sends
 * the distributions' entries at those ids only: row k is id r.top[k].
 */
function renderThree(r, labels) {
  const cell = (tag, text) => Object.assign(document.createElement(tag), { textContent: text });
  const rows = Array.from(r.top, (id, k) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.append(english(labels[id]));
    tr.append(th, cell('td', precision(r.model[k], 3)), cell('td', precision(r.penalised[k], 3)),
      cell('td', r.cut[k] === 255 ? t('cut.input') : r.cut[k] ? t('three.cut', { n: r.cut[k] }) : precision(r.probs[k], 3)));
    return tr;
  });
  $('three-rows').replaceChildren(...rows);
}

// ---- why the order matters ----

/** z = (3, 2, 1) through the two orders: each chain's kept ids, as the wasm computes them. */
function renderOrderExample() {
  for (const [key, url] of [['hf', ORDER_EXAMPLE.huggingface], ['llama', ORDER_EXAMPLE.llamacpp]]) {
    const sampler = new Sampler(chainFromUrl(url), { seed: 0 });
    try {
      const d = sampler.distribution(ORDER_EXAMPLE.z);
      const kept = Array.from(d.cut.keys()).filter((i) => d.cut[i] === 0);
      $(`order-${key}-chain`).textContent = sampler.chain.map((s) => stepText(s)).join(' → ');
      $(`order-${key}-kept`).textContent = t('order.kept', { ids: `{${kept.map((i) => integer(i)).join(t('list.separator'))}}` });
      $(`order-${key}-probs`).textContent = `p = (${Array.from(d.probs, (p) => fixed(p, 3)).join(t('list.separator'))})`;
    } finally {
      sampler.free();
    }
  }
}

/** A step as the order example names it: "temperature 0.5", "topP 0.8". */
const stepText = (s) => {
  const main = { temperature: 't', topP: 'p' }[s.kind];
  return main ? `${s.kind} ${localNumber(String(s[main]))}` : s.kind;
};

/** The model's two texts from one seed, and where they part. */
function bindOrderModel(orderMatters) {
  $('order-run').addEventListener('click', async () => {
    if ($('order-run').getAttribute('aria-disabled') === 'true') return;
    $('order-run').setAttribute('aria-disabled', 'true');
    try {
      const r = await orderMatters([chainFromUrl(ORDER_EXAMPLE.huggingface), chainFromUrl(ORDER_EXAMPLE.llamacpp)]);
      for (const [k, key] of [[0, 'hf'], [1, 'llama']]) {
        const out = $(`order-${key}-text`);
        const spans = r.texts[k].map((text, i) => {
          const s = english(text);
          if (i === r.partsAt) s.className = 'parts';
          return s;
        });
        out.replaceChildren(...spans);
      }
      const said = r.partsAt === undefined ? t('order.same', { n: r.texts[0].length })
        : t('order.parts', { i: r.partsAt + 1, a: r.keptAt[0], b: r.keptAt[1] });
      $('order-summary').textContent = said;
      announce(said);
    } catch (e) {
      fillNodes($('order-summary'), 'chain.failed', {}, { error: errorNode(e) });
      announce(errorText(e));
    } finally {
      $('order-run').removeAttribute('aria-disabled');
    }
  });
}
