// The sampling lab at V = 151 936 (Qwen2.5's and Qwen3's vocabulary) in headless Chromium:
// what one token step and one control change cost the page beyond the model's forward pass.
//
// The model is a Qwen2 folder made here in a temporary folder: V = 151 936, otherwise tiny
// (hidden 64, one layer, bf16, tied head), with a byte-level BPE tokenizer.json of 151 936
// entries (the 256 byte symbols, every pair of them, then triples, and <|endoftext|>). Random
// weights from a fixed seed. The page loads it through `?model=`.
//
// The page reports each panel it renders as a `performance.measure` named `panel` (from the
// request to the worker until the bars, the stats and the chain are in the DOM), with the
// worker's own times in its `detail`: `forward` (Model.forward), `panel` (nextTokenPanel, with
// `new ModelOutput` when the values are new) and `chain` (chainPanel); then one named
// `experiments` (from the same request until the identity and precision cards, which come in a
// second reply, are in the DOM; `detail.experiments` the worker's time in them); and each
// generation as one named `generate`, with `detail.next` the time in Generation.next (its
// forward pass and draw). The rest of a figure is the page's own messaging, transfer and
// rendering.
//
// With BASE, a second www/ folder (say, main's, built), its page runs beside this one's in the
// same browser, round by round in turn, so that the load of the moment slows both alike, and
// each figure is printed for both with their ratio.
//
//   node benches/large-vocab.mjs [STEPS] [BASE]   (after ./build.sh build; STEPS defaults to 40)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';

const V = 151_936;
const HIDDEN = 64;
const HEADS = 4;
const KV_HEADS = 2;
const MLP = 128;
const STEPS = Number(process.argv[2] ?? 40);
const BASE = process.argv[3];

/** A deterministic stream of numbers in [−1, 1) (mulberry32). */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** GPT-2's byte → printable character table, which byte-level BPE vocabularies are written in. */
function byteSymbols() {
  const printable = [];
  for (const [lo, hi] of [[33, 126], [161, 172], [174, 255]]) for (let b = lo; b <= hi; b++) printable.push(b);
  const symbols = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) symbols[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  return symbols;
}

/** A byte-level BPE tokenizer.json with exactly V entries, the last one <|endoftext|>. */
function tokenizerJson() {
  const bytes = byteSymbols();
  const vocab = {};
  const merges = [];
  let id = 0;
  for (const s of bytes) vocab[s] = id++;
  const pairs = [];
  for (const a of bytes) for (const b of bytes) pairs.push([a, b]);
  for (const [a, b] of pairs) { vocab[a + b] = id++; merges.push(`${a} ${b}`); }
  outer: for (const [a, b] of pairs) {
    for (const c of bytes) {
      if (id === V - 1) break outer;
      vocab[a + b + c] = id++;
      merges.push(`${a + b} ${c}`);
    }
  }
  const eos = '<|endoftext|>';
  vocab[eos] = id;
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id, content: eos, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  });
}

/** A bf16 safetensors file of `tensors` ([name, shape, scale]: uniform in ±scale; scale 1 → ones). */
function safetensors(tensors, next) {
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'latin1');
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  let at = 8 + json.length;
  for (const [, shape, scale] of tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++, at += 2) {
      f32[0] = scale === 'ones' ? 1 : next() * scale;
      out.writeUInt16LE(u32[0] >>> 16, at);
    }
  }
  return out;
}

/** The Qwen2 folder in `dir`. */
function makeFolder(dir) {
  const head = HIDDEN / HEADS;
  const p = 'model.layers.0.';
  const tensors = [
    ['model.embed_tokens.weight', [V, HIDDEN], 0.5],
    [`${p}input_layernorm.weight`, [HIDDEN], 'ones'],
    [`${p}self_attn.q_proj.weight`, [HIDDEN, HIDDEN], 0.1],
    [`${p}self_attn.q_proj.bias`, [HIDDEN], 0.1],
    [`${p}self_attn.k_proj.weight`, [KV_HEADS * head, HIDDEN], 0.1],
    [`${p}self_attn.k_proj.bias`, [KV_HEADS * head], 0.1],
    [`${p}self_attn.v_proj.weight`, [KV_HEADS * head, HIDDEN], 0.1],
    [`${p}self_attn.v_proj.bias`, [KV_HEADS * head], 0.1],
    [`${p}self_attn.o_proj.weight`, [HIDDEN, HIDDEN], 0.1],
    [`${p}post_attention_layernorm.weight`, [HIDDEN], 'ones'],
    [`${p}mlp.gate_proj.weight`, [MLP, HIDDEN], 0.1],
    [`${p}mlp.up_proj.weight`, [MLP, HIDDEN], 0.1],
    [`${p}mlp.down_proj.weight`, [HIDDEN, MLP], 0.1],
    ['model.norm.weight', [HIDDEN], 'ones'],
  ];
  writeFileSync(join(dir, 'model.safetensors'), safetensors(tensors, uniform(1)));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', hidden_size: HIDDEN,
    intermediate_size: MLP, num_attention_heads: HEADS, num_hidden_layers: 1, num_key_value_heads: KV_HEADS,
    max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 1e6, sliding_window: null, use_sliding_window: false,
    tie_word_embeddings: true, torch_dtype: 'bfloat16', vocab_size: V, bos_token_id: V - 1, eos_token_id: V - 1,
  }));
  writeFileSync(join(dir, 'tokenizer.json'), tokenizerJson());
}

// ---- in the page ----

/**
 * `n` rounds of `act` (run in the page), each timed from just before `act` until the page's
 * next `panel` measure ends. Returns per round: total, the worker's forward, nextTokenPanel and
 * chainPanel in that panel, and Generation.next in the round's `generate` measure (0 without
 * one).
 */
async function rounds(page, n, act, first = 0) {
  return page.evaluate(async ({ n, act, first }) => {
    const $ = (id) => document.getElementById(id);
    const acts = {
      step: () => $('step').click(),
      topP: (i) => { $('topP').value = i % 2 ? '0.95' : '0.9'; $('topP').dispatchEvent(new Event('input')); },
    };
    // The page keeps only its last measure of each name.
    const since = (name, t0) => performance.getEntriesByName(name, 'measure').find((e) => e.startTime >= t0);
    const out = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      acts[act](first + i);
      // A page that shows the experiments with the bars (an older build) measures no `experiments`.
      const apart = performance.getEntriesByName('experiments', 'measure').length > 0;
      while (!since(apart ? 'experiments' : 'panel', t0)) await new Promise((r) => setTimeout(r, 1));
      const p = since('panel', t0);
      const x = apart ? since('experiments', t0) : { startTime: p.startTime, duration: p.duration, detail: { experiments: 0 } };
      const g = since('generate', t0);
      out.push({
        total: p.startTime + p.duration - t0,
        forward: p.detail.forward, panel: p.detail.panel, chain: p.detail.chain ?? 0, next: g ? g.detail.next : 0,
        experimentsTotal: x.startTime + x.duration - t0, experiments: x.detail.experiments,
      });
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))); // let it paint
    }
    return out;
  }, { n, act, first });
}

/** `n` clicks on Draw (1 000 draws of the next token), each timed until the histogram is shown. */
async function drawRounds(page, n) {
  return page.evaluate(async (n) => {
    const button = document.getElementById('draw');
    const out = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      button.click();
      while (button.getAttribute('aria-disabled') === 'true') await new Promise((r) => setTimeout(r, 1));
      out.push(performance.now() - t0);
    }
    return out;
  }, n);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const ms = (x) => `${x.toFixed(1).padStart(6)} ms`;

/** One line per figure: this page's median, and with a base, the base's and base / this. */
function report(title, runs) {
  const [mine, base] = runs;
  console.log(`\n${title} (median of ${mine.length})${base ? `          this      base   base/this` : ''}`);
  const line = (label, f) => {
    const a = median(mine.map(f));
    if (!base) return console.log(`  ${label.padEnd(32)}${ms(a)}`);
    const b = median(base.map(f));
    console.log(`  ${label.padEnd(32)}${ms(a)} ${ms(b)}   ${a > 0 ? (b / a).toFixed(2).padStart(6) : '     -'}`);
  };
  line('click → panels in the DOM', (r) => r.total);
  if (mine.some((r) => r.next > 0)) line('worker: Generation.next', (r) => r.next);
  line('worker: Model.forward (panel)', (r) => r.forward);
  line('worker: nextTokenPanel', (r) => r.panel);
  line('worker: chainPanel', (r) => r.chain);
  line('transfer + main thread', (r) => r.total - r.forward - r.next - r.panel - r.chain);
  line('beyond the forward passes', (r) => r.total - r.forward - r.next);
  console.log('  (goal: the page\'s own work, beyond the forward passes, <= 10 ms)');
  line('click → the two experiments shown', (r) => r.experimentsTotal);
  line('worker: the experiments', (r) => r.experiments);
  line('  the same, beyond the forward passes', (r) => r.experimentsTotal - r.forward - r.next);
}

/** `n` rounds of `act` on each page, taken in turn one round at a time. */
async function inTurn(pages, n, act) {
  const out = pages.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, page] of pages.entries()) out[k].push(...await rounds(page, 1, act, i));
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'logitlab-bigv-'));
try {
  const t0 = Date.now();
  makeFolder(dir);
  console.log(`Qwen2 folder at V = ${V.toLocaleString('en')} (hidden ${HIDDEN}, 1 layer, bf16, tied) made in ${Date.now() - t0} ms`);
  const roots = BASE ? ['www', BASE] : ['www'];
  const servers = await Promise.all(roots.map((root) => startServer({ root, mounts: { '/bigv/': dir } })));
  const browser = await launchChromium();
  try {
    const prompt = 'Once upon a time, there was a little';
    const pages = [];
    for (const [k, { url }] of servers.entries()) {
      const page = await browser.newPage();
      const t1 = Date.now();
      await page.goto(`${url}?model=bigv/&temperature=0.8&topP=0.9&seed=1&prompt=${encodeURIComponent(prompt)}`);
      await page.waitForFunction(() => document.body.dataset.ready === '1'
        && /151/.test(document.getElementById('vocab-size').textContent)
        && performance.getEntriesByName('panel', 'measure').length > 0, null, { timeout: 120_000 });
      console.log(`${roots[k]}: page ready with the model and its first panel after ${Date.now() - t1} ms (load through ?model=)`);
      await rounds(page, 5, 'topP'); // warm
      pages.push(page);
    }
    report('a control change (top-p), the panel recomputed', await inTurn(pages, STEPS, 'topP'));
    report('a token step (Step), then its panel', await inTurn(pages, STEPS, 'step'));
    for (const [k, page] of pages.entries()) {
      const draws = await drawRounds(page, 10);
      console.log(`\n${roots[k]}: Draw (1 000 draws, the histogram shown; median of ${draws.length})  ${ms(median(draws))}`);
    }
  } finally {
    await browser.close();
    for (const { server } of servers) server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
