// Boots the page: reads the state from the URL, starts the worker, shows the chosen view, and
// writes every change back to the URL (replaceState), so a link reproduces what you see.

import init from './pkg/logitlab.js';
import { parse, serialize, hidden } from './state.js';
import { lab, wasmModule, loading, started } from './boot.js';
import { setupSample, showControls } from './sample-view.js';
import { setupNumbers } from './numbers-view.js';
import { setupTrain, showTrainControls } from './train-view.js';

const $ = (id) => document.getElementById(id);
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

/** 820480 → "820,480" (without Intl, whose first use loads locale data at a busy moment). */
const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

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
 * The verdicts' links open an experiment in the state that shows it. Inside an iframe they keep
 * the instructor's embed= and hide=; the page reloads, since the URL is the state.
 */
function verdictLinks() {
  for (const a of document.querySelectorAll('#verdicts a, [data-part=classify] a')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      const u = new URL(a.href);
      if (state.embed) u.searchParams.set('embed', '1');
      if (state.hide) u.searchParams.set('hide', state.hide);
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
  const link = () => location.origin + location.pathname + serialize(state);
  const copy = async (text, what) => {
    try {
      await navigator.clipboard.writeText(text);
      $('copied').textContent = `${what} copied.`;
    } catch {
      $('copied').textContent = text; // no clipboard permission: show it to copy by hand
    }
  };
  $('copy-link').addEventListener('click', () => copy(link(), 'Link'));
  $('copy-embed').addEventListener('click', () => {
    const src = location.origin + location.pathname + serialize({ ...state, embed: true });
    // embed.js, next to the page, sizes the frame to its content (see the README).
    const helper = new URL('embed.js', location.href).href;
    copy(`<iframe data-logitlab src="${src}" width="100%" height="900" style="border:0" title="logitlab" loading="lazy"></iframe>\n`
      + `<script src="${helper}" defer></script>`, 'Embed code');
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

/** A deployed copy (`./build.sh dist`) works offline after one visit: see sw.js. */
function offline() {
  const marker = document.querySelector('meta[name="logitlab-offline"]');
  if (marker && 'serviceWorker' in navigator) {
    navigator.serviceWorker.register(marker.content).catch(() => {}); // e.g. storage disabled: online only
  }
}

applyLayout();
reportHeight();
offline();
showControls(state);
showTrainControls(state);
share();
verdictLinks();
// boot.js has started the worker, the model's download and the wasm compile.
try {
  await init({ module_or_path: await wasmModule }); // the main thread's instance: "your own logits"
  setupNumbers({ state, update });
  const { config, vocab } = await loading;
  views.sample = setupSample({ lab, state, update, vocab, config });
  views.train = setupTrain({ lab, state, update, vocab });
  $('status').textContent = `Model: ${config.layers} layers × ${config.embd} wide, ${config.heads} heads, context ${config.contextLength}, ${config.vocabSize} characters, ${thousands(config.parameters)} parameters — loaded in ${Math.round(performance.now() - started)} ms.`;
  document.body.dataset.ready = '1';
  await views[state.view]?.ready;
  scrollToHash();
} catch (e) {
  $('status').textContent = `Could not start the model: ${e.message}`;
  $('status').classList.add('error');
}
