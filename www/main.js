// Boots the page: reads the state from the URL, starts the worker, shows the chosen view, and
// writes every change back to the URL (replaceState), so a link reproduces what you see.

import init, { modelFiles } from './pkg/logitlab.js';
import { parse, serialize, hidden } from './state.js';
import { LANGUAGES, chooseLanguage, useLanguage, translatePage, t, integer, fillNodes, errorNode, lang } from './i18n.js';
import { lab, wasmModule, loading, started, progress, modelSource, loadModel, saveFile } from './boot.js';
import { setupSample, showControls } from './sample-view.js';
import { setupNumbers } from './numbers-view.js';
import { setupTrain, showTrainControls } from './train-view.js';

const $ = (id) => document.getElementById(id);
// The language first, from the URL alone, so that even a failed start is told in it.
await useLanguage(chooseLanguage(new URLSearchParams(location.search).get('lang')));
translatePage();
// Then the main thread's wasm instance ("your own logits"): the state's schema lists the
// pipelines and presets it exports. boot.js has been compiling it since the page started.
try {
  await init({ module_or_path: await wasmModule });
} catch (e) {
  fillNodes($('status'), 'model.startFailed', {}, { error: errorNode(e) });
  $('status').classList.add('error');
  throw e; // nothing below can run without it
}
const state = parse(location.search);

function update(patch) {
  Object.assign(state, patch);
  history.replaceState(null, '', location.pathname + serialize(state));
}

function applyLayout() {
  document.body.classList.toggle('embed', state.embed);
  // The verdicts start folded where space is short: in an iframe and on a phone.
  if (state.embed || matchMedia('(max-width: 40rem)').matches) $('verdicts').open = false;
  for (const el of document.querySelectorAll('[data-part]')) el.hidden = hidden(state).has(el.dataset.part);
  for (const a of document.querySelectorAll('.tabs a')) {
    const here = a.dataset.view === state.view;
    a.setAttribute('aria-current', here ? 'page' : 'false');
    a.addEventListener('click', (e) => {
      e.preventDefault();
      update({ view: a.dataset.view });
      showView();
    });
  }
  showView();
}

/**
 * The language switch: one button per language, each named in its own language. Switching
 * reloads the page in the other language with the same state (the URL is the state).
 */
function languageSwitch() {
  const group = document.getElementById('lang-switch');
  group.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.lang = code;
    b.textContent = name;
    b.setAttribute('aria-pressed', String(code === lang));
    b.addEventListener('click', () => {
      if (code !== lang) location.assign(location.pathname + serialize({ ...state, lang: code }) + location.hash);
    });
    return b;
  }));
}

const views = {};        // view name → { hide() } once set up

function showView() {
  for (const [name, v] of Object.entries(views)) if (name !== state.view) v.hide?.();
  for (const v of ['sample', 'numbers', 'train']) $(`view-${v}`).hidden = v !== state.view;
  views[state.view]?.refresh?.(); // the views share the prompt and the temperature
  for (const a of document.querySelectorAll('.tabs a')) {
    a.setAttribute('aria-current', a.dataset.view === state.view ? 'page' : 'false');
  }
}

/**
 * The verdicts' links open an experiment in the state that shows it. They keep the page's lang=,
 * and inside an iframe the instructor's embed= and hide=; the page reloads, since the URL is
 * the state.
 */
function verdictLinks() {
  for (const a of document.querySelectorAll('#verdicts a, [data-part=classify] a')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      const u = new URL(a.href);
      if (state.embed) u.searchParams.set('embed', '1');
      if (state.hide) u.searchParams.set('hide', state.hide);
      if (state.lang) u.searchParams.set('lang', state.lang); // the experiment in the language it was opened from
      location.assign(u.href);
    });
  }
}

/** A link's #anchor names a panel of a view that was hidden when the browser looked for it. */
function scrollToHash() {
  const target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  target?.scrollIntoView();
}

function share() {
  // A shared link opens in the language it was copied in.
  const link = () => location.origin + location.pathname + serialize({ ...state, lang });
  const copy = async (text, done) => {
    try {
      await navigator.clipboard.writeText(text);
      $('copied').textContent = done;
    } catch {
      $('copied').textContent = text; // no clipboard permission: show it to copy by hand
    }
  };
  $('copy-link').addEventListener('click', () => copy(link(), t('share.linkCopied')));
  $('copy-embed').addEventListener('click', () => {
    const src = location.origin + location.pathname + serialize({ ...state, lang, embed: true });
    // embed.js, next to the page, sizes the frame to its content (see docs/embedding.md).
    const helper = new URL('embed.js', location.href).href;
    copy(`<iframe data-logitlab src="${src}" width="100%" height="900" style="border:0" title="logitlab" loading="lazy"></iframe>\n`
      + `<script src="${helper}" defer></script>`, t('share.embedCopied'));
  });
}

/**
 * Inside an iframe, tells the embedding page how tall the content is, on load and on every change
 * of layout, so that `embed.js` there can size the frame: `{ type: 'logitlab:height', height, id }`.
 * The target origin is '*' because the message carries no user data: only a number and the id
 * the embedding page itself put in the URL. The lab never reads anything from the notes.
 */
function reportHeight() {
  if (window.parent === window) return;
  let last = 0;
  let queued = false;
  const send = () => {
    queued = false;
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    parent.postMessage({ type: 'logitlab:height', height, ...(state.id ? { id: state.id } : {}) }, '*');
  };
  new ResizeObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(send); }
  }).observe(document.documentElement);
}

/**
 * A wide table or formula scrolls sideways inside its own box on a narrow screen (the page
 * itself never does). While it does, it takes keyboard focus, so that the arrow keys scroll it.
 */
function scrollableBoxes() {
  const boxes = document.querySelectorAll('.table-wrap, .formula');
  const check = () => {
    for (const box of boxes) {
      if (box.scrollWidth > box.clientWidth + 1) box.tabIndex = 0; else box.removeAttribute('tabindex');
    }
  };
  const observer = new ResizeObserver(check);
  for (const box of boxes) { observer.observe(box); if (box.firstElementChild) observer.observe(box.firstElementChild); }
}

/** A deployed copy (`./build.sh dist`) works offline after one visit: see sw.js. */
function offline() {
  const marker = document.querySelector('meta[name="logitlab-offline"]');
  if (marker && 'serviceWorker' in navigator) {
    navigator.serviceWorker.register(marker.content).catch(() => {}); // e.g. storage disabled: online only
  }
}

applyLayout();
languageSwitch();
scrollableBoxes();
reportHeight();
offline();
showControls(state);
showTrainControls(state);
share();
verdictLinks();
// ---- the model: built in, named by ?model=, or opened from the student's own files ----

/** The model the views show; `setModel` replaces its fields, and the views read them live. */
const model = { config: null, labels: [], vocab: '', eos: [], ends: [], source: '' };
/** `model.source` of a model opened from the student's own files. */
const FROM_FILES = 'files';

/** One line about the model; `ms`, if given, is how long it took to load. */
function describeModel(config, ms) {
  const kinds = { bpe: t('model.bpe'), sentencepiece: 'SentencePiece' };
  const tokens = kinds[config.tokenizer] ? t('model.tokens', { n: integer(config.vocabSize), kind: kinds[config.tokenizer] })
    : t('model.characters', { n: config.vocabSize });
  const families = { llama: 'Llama', qwen2: 'Qwen2', qwen3: 'Qwen3' };
  const family = families[config.architecture] ? t('model.llama', { name: families[config.architecture], kv: config.kvHeads }) : '';
  const source = model.source === FROM_FILES ? ` ${t('model.fromFiles')}` : model.source ? ` ${model.source}` : '';
  return t('model.describe', { source, family, layers: config.layers, embd: config.embd, heads: config.heads,
    context: config.contextLength, tokens, parameters: integer(config.parameters) })
    + (ms === undefined ? '.' : t('model.loadedIn', { ms: Math.round(ms) }));
}

/** `el` says `key`'s lead-in, in the page's language, then the error (English, marked so, if from the API). */
function showError(el, key, e, params = {}) {
  fillNodes(el, key, params, { error: errorNode(e) });
  el.hidden = false;
}

function setModel(r, source, ms) {
  Object.assign(model, { config: r.config, labels: r.labels, vocab: r.vocab, eos: r.eos, ends: r.ends, source });
  $('status').textContent = describeModel(r.config, ms);
  $('status').classList.remove('error');
  showModelCard(r.config, r);
}

/** The model's family: by the files it came from and, for a Hugging Face folder, its architecture. */
function family(config) {
  if (config.format === 'llama2c') return 'llama2.c';
  if (config.format === 'logitlab') return 'logitlab';
  return { gpt2: 'GPT-2', llama: 'Llama', qwen2: 'Qwen2', qwen3: 'Qwen3' }[config.architecture] ?? '';
}

/** The model card: family, parameters, how the weights are held, V, context, head, chat template. */
/** The ids a generated text ends at, each as the page writes a token: "<|im_end|> (id 151645)". */
const endTokens = ({ ends, labels }) => (ends.length === 0 ? t('card.endsNone')
  : ends.map((id) => t('card.endToken', { token: labels[id] ?? '', id: String(id) })).join(', '));

/** The model card; `loaded`: the worker's answer ({ labels, ends }). */
function showModelCard(config, loaded) {
  const dtypes = { f32: 'float32', f16: 'float16', bf16: 'bfloat16', q8_0: 'Q8_0', q4_0: 'Q4_0', q5_0: 'Q5_0', q4_K: 'Q4_K', q6_K: 'Q6_K' };
  const rows = [
    ['card.family', family(config)],
    ['card.parameters', integer(config.parameters)],
    ['card.dtype', config.dtype === 'mixed'
      ? Object.entries(config.tensorTypes ?? {}).map(([d, n]) => t(n === 1 ? 'card.tensor' : 'card.tensors', { count: integer(n), type: dtypes[d] ?? d })).join(', ')
      : dtypes[config.dtype] ?? ''],
    ['card.vocab', integer(config.vocabSize)],
    ['card.context', integer(config.contextLength)],
    ['card.head', t(config.tiedHead ? 'card.tied' : 'card.untied')],
    ['card.ends', endTokens(loaded)],
    ['card.chat', config.chatTemplate ? t('card.chatYes', { file: config.chatTemplateFile }) : t('card.chatNo')],
  ];
  const list = $('model-card-list');
  list.replaceChildren();
  for (const [key, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = t(key);
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
  $('model-card').hidden = false;
}

function showProgress(p) {
  $('model-progress').hidden = false;
  if (p.total > 0) { $('model-progress').max = p.total; $('model-progress').value = p.loaded; } else $('model-progress').removeAttribute('value');
  if (p.total > 0 && p.loaded === p.total && switching) $('status').textContent = t('status.parsing');
}
progress.listener = showProgress;

/** Whether a model picked on the page is being read (the first one has its own status). */
let switching = false;

/**
 * Loads a new model from `getFiles()` ({ name: URL string or File }, read by the worker); on
 * failure the page keeps the one it had and says why.
 */
async function switchModel(getFiles, source, urlModel) {
  const t0 = performance.now();
  $('model-error').hidden = true;
  showProgress({ loaded: 0, total: 0 });
  $('status').textContent = t('status.loading');
  switching = true;
  try {
    const r = await loadModel(await getFiles());
    setModel(r, source, performance.now() - t0);
    update({ model: urlModel });
    for (const v of Object.values(views)) v.modelChanged?.();
  } catch (e) {
    showError($('model-error'), 'model.openFailed', e);
    $('status').textContent = describeModel(model.config);
  } finally {
    switching = false;
    $('model-progress').hidden = true;
    syncModelPick();
  }
}

/** The files of a folder or a selection that make a model, as the wasm decides (`modelFiles`); the rest are not read. */
function pickModelFiles(files) {
  const byName = new Map(files.map((f) => [f.webkitRelativePath || f.name, f]));
  const plan = modelFiles(Array.from(byName.keys()));
  return { files: Object.fromEntries(plan.files.map(({ name }) => [name, byName.get(name)])) };
}

/** Files and folders dropped on the page (a folder's files are read recursively). */
async function droppedFiles(dataTransfer) {
  const entries = Array.from(dataTransfer.items ?? []).map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length === 0) return Array.from(dataTransfer.files);
  const files = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const f = await new Promise((ok, fail) => entry.file(ok, fail));
      Object.defineProperty(f, 'webkitRelativePath', { value: prefix + f.name });
      files.push(f);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return files;
}

function syncModelPick() {
  const pick = $('model-pick');
  // A model ?model= names that the list does not offer gets an entry of its own.
  const listed = Array.from(pick.options).some((o) => !o.dataset.url && o.value === state.model);
  let o = pick.querySelector('option[data-url]');
  if (state.model && !listed) {
    if (!o) {
      o = document.createElement('option');
      o.dataset.url = '1';
      pick.prepend(o);
    }
    o.value = state.model;
    o.textContent = t('model.fromSite', { path: state.model });
  } else {
    o?.remove();
  }
  pick.querySelector('option[value="files-open"]').hidden = model.source !== FROM_FILES;
  pick.value = model.source === FROM_FILES ? 'files-open' : state.model;
}

function setupModelPicker() {
  const pick = $('model-pick');
  const fromFiles = (files) => switchModel(() => pickModelFiles(files), FROM_FILES, '');
  pick.addEventListener('change', () => {
    const v = pick.value;
    if (v === 'files') { $('model-files').click(); syncModelPick(); return; }
    if (v === 'folder') { $('model-folder').click(); syncModelPick(); return; }
    if (v === 'files-open') return;
    switchModel(() => modelSource(v, state.tokenizer), v ? `${v}` : '', v);
  });
  $('export-model').addEventListener('click', async () => {
    $('model-error').hidden = true;
    try {
      const folder = model.source ? 'logitlab-model' : 'logitlab-shakespeare';
      const { zip } = await lab.call('exportModel', { folder });
      saveFile(`${folder}.zip`, zip);
    } catch (e) {
      showError($('model-error'), 'model.exportFailed', e);
    }
  });
  for (const id of ['model-files', 'model-folder']) {
    $(id).addEventListener('change', () => { if ($(id).files.length) fromFiles(Array.from($(id).files)); $(id).value = ''; });
  }
  document.addEventListener('dragover', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    document.body.classList.add('dropping');
  });
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) document.body.classList.remove('dropping'); });
  document.addEventListener('drop', async (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    document.body.classList.remove('dropping');
    const files = await droppedFiles(e.dataTransfer);
    fromFiles(files);
  });
}

// boot.js has started the worker, the model's download and the wasm compile.
try {
  setupModelPicker();
  setupNumbers({ state, update });
  const r = await loading;
  $('model-progress').hidden = true;
  setModel(r, r.error ? '' : state.model, performance.now() - started);
  if (r.error) {
    showError($('model-error'), 'model.urlFailed', r.error, { path: state.model });
    update({ model: '' });
  }
  syncModelPick();
  views.sample = setupSample({ lab, state, update, model });
  views.train = setupTrain({ lab, state, update, model });
  document.body.dataset.ready = '1';
  await views[state.view]?.ready;
  scrollToHash();
} catch (e) {
  fillNodes($('status'), 'model.startFailed', {}, { error: errorNode(e) });
  $('status').classList.add('error');
}
