// All computation of the page happens here, off the main thread, so the page never freezes:
// the wasm module, the model, generation, the next-token panel and the many-draws histogram.
// Every number comes from the wasm exports; this file reads a model's files (downloading them
// itself, so a large model never passes through the page's thread), holds the model and the
// training runs, picks the rows a panel shows, and routes messages.
//
// Requests carry an `id`; the reply carries the same id. Generation streams `token` messages
// and is cancelled by `stop` (checked between tokens, which yield to the event loop).

// The wasm's JS glue is imported, not awaited before this module runs: the worker starts
// downloading the model the moment the page asks, while the glue still loads.
const glue = import('./pkg/logitlab.js');
/** The wasm's exports, once the glue has loaded (every handler but `load` runs after it). */
let lab = null;

let model = null;      // replaced only once a new one has loaded: a bad file keeps the old
let run = 0;           // generation run counter; a newer run or `stop` ends older ones
/** The wasm's instantiation, once the page has sent its compiled module (`init`). */
let initWasm;
const ready = new Promise((resolve, reject) => { initWasm = { resolve, reject }; });
ready.catch(() => {}); // reported by whichever `load` awaits it

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

/**
 * An error the page words from its catalogue (`error.<code>`, with `params`); `message` stays
 * English, as the wasm's coded errors do.
 */
const coded = (code, message, params = {}) => Object.assign(new Error(message), { code, params });
/** An error as it crosses to the page: its English message and, if it has them, code and params. */
const wire = (e) => ({ message: String(e?.message ?? e), code: e?.code, params: e?.params });
/** An unknown character in the text of a control the student typed in, named as that control's. */
const UNKNOWN = {
  prompt: (e) => coded('prompt.unknownCharacter', e.message, e.params),
  context: (e) => coded('context.unknownCharacter', e.message, e.params),
  target: (e) => coded('target.unknownCharacter', e.message, e.params),
};
/** `f()`, with the wasm's "character not in the vocabulary" reported as `control`'s. */
function spelled(control, f) {
  try {
    return f();
  } catch (e) {
    throw e?.code === 'text.unknownCharacter' ? UNKNOWN[control](e) : e;
  }
}

/** `module`: the page's compiled WebAssembly.Module, or `error` if it failed to compile. */
function initModule({ module, error }) {
  if (error) initWasm.reject(new Error(error));
  else initWasm.resolve(glue.then(async (m) => { await m.default({ module_or_path: module }); lab = m; }));
  return {};
}

/**
 * Switches this worker to the chat build (www/pkg-chat: the sampling lab with minijinja, which
 * renders chat templates) for the model it is about to read, whose tokenizer_config.json,
 * chat_template.jinja or .gguf metadata may hold one. Each model has a worker of its own, so the switch lasts as long as the model.
 */
async function useChatBuild() {
  if (lab.Model.prototype.applyChatTemplate) return;
  const m = await import('./pkg-chat/logitlab_chat.js');
  await m.default({ module_or_path: new URL('./pkg-chat/logitlab_chat_bg.wasm', import.meta.url) });
  lab = m;
}

/**
 * One model file to read: a same-origin URL string, downloaded here, a download already
 * answered (a Response), or a File the page was given. `size` is its length when known (a
 * download's Content-Length, unless compressed).
 */
async function open(name, source) {
  if (source instanceof Response) return body(name, source);
  if (typeof source !== 'string') return { name, stream: source.stream(), size: source.size };
  return body(name, await fetch(source));
}

/** A download's body as a file to read: an error naming the path unless it succeeded. */
function body(name, res) {
  if (!res.ok) {
    const path = new URL(res.url).pathname;
    throw coded('load.http', `cannot load ${path}: HTTP ${res.status}`, { path, status: String(res.status) });
  }
  const length = res.headers.get('Content-Encoding') ? null : res.headers.get('Content-Length');
  return { name, stream: res.body, size: length === null ? undefined : Number(length) };
}

/**
 * Reads `stream` through one reused 1 MiB buffer (a "bring your own buffer" reader, where the
 * stream allows it), handing each part to `take`; the part is valid only during the call.
 * Nothing is left for the garbage collector, which in a busy worker runs late: a 438 MB model
 * read as the stream's own chunks was once in memory twice.
 */
async function pump(stream, take) {
  let byob = null;
  try { byob = stream.getReader({ mode: 'byob' }); } catch { /* not a byte stream */ }
  const reader = byob ?? stream.getReader();
  let buffer = new ArrayBuffer(1 << 20);
  try {
    for (;;) {
      const { done, value } = await (byob ? byob.read(new Uint8Array(buffer)) : reader.read());
      if (done) return;
      take(value);
      if (byob) buffer = value.buffer; // handed back to be filled again
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
}

/** Progress of the files being read, posted to the page's progress bar (at most every 50 ms). */
const progress = { loaded: 0, total: 0, posted: 0 };
const advance = (n) => {
  progress.loaded += n;
  const now = performance.now();
  if (now - progress.posted < 50 && progress.loaded !== progress.total) return;
  progress.posted = now;
  post({ type: 'progress', progress: { loaded: progress.loaded, total: progress.total } });
};

/** A whole file: one ArrayBuffer, or 16 MiB ones for a big file (`Model.fromFiles` takes both). */
async function readAll({ stream, size }) {
  const PIECE = 16 << 20;
  const pieces = [];
  let piece = new Uint8Array(size !== undefined && size < PIECE ? size : PIECE);
  let used = 0;
  await pump(stream, (part) => {
    advance(part.length);
    for (let at = 0; at < part.length;) {
      if (used === piece.length) {
        pieces.push(piece.buffer);
        piece = new Uint8Array(PIECE);
        used = 0;
      }
      const n = Math.min(part.length - at, piece.length - used);
      piece.set(part.subarray(at, at + n), used);
      used += n;
      at += n;
    }
  });
  pieces.push(used === piece.length ? piece.buffer : piece.buffer.slice(0, used));
  return pieces.length === 1 ? pieces[0] : pieces;
}

/**
 * The files of the model at a site `path` (`?model=`), as { name: URL string }: the wasm says
 * which (`modelPathFiles`), each resolved against the path and kept to this site.
 */
async function filesAt(path, tokenizer) {
  await ready;
  const url = new URL(path);
  const files = {};
  for (const [name, relative] of lab.modelPathFiles(url.pathname, tokenizer)) {
    const file = new URL(relative, url);
    if (file.origin !== url.origin) {
      throw coded('model.tokenizerNotOnSite', `tokenizer must be a path on this site (${url.origin}), got ${tokenizer}`, { path: tokenizer });
    }
    files[name] = file.href;
  }
  // A folder's generation_config.json and tokenizer_config.json, where it has them: a file
  // that is not there (404) is left out; any other failure is the model's.
  const optional = lab.modelPathOptionalFiles(url.pathname).map(async ([name, relative]) => {
    const file = new URL(relative, url);
    const res = await fetch(file.href);
    if (res.status === 404) return;
    if (!res.ok) throw coded('load.http', `cannot load ${file.pathname}: HTTP ${res.status}`, { path: file.pathname, status: String(res.status) });
    files[name] = res;
  });
  await Promise.all(optional);
  return files;
}

/**
 * Reads and parses a model's `files` ({ name: URL string or File }), then makes it the model.
 * The large file of a Hugging Face folder (`model.safetensors`), a llama2.c model (its `.bin`)
 * or a `.gguf` is parsed as it arrives (`ModelReader`), so a 1 GB model is never held twice; a
 * logitlab checkpoint is read whole, then parsed (`Model.fromFiles`). Returns its config, every token's display form (`labels`) and, for a
 * character model, its characters (`vocab`, id i = the i-th). A bad file keeps the old model.
 */
async function load({ files, path, tokenizer }) {
  if (path !== undefined) files = await filesAt(path, tokenizer);
  const opened = await Promise.allSettled(Object.entries(files).map(([name, source]) => open(name, source)));
  const failed = opened.find((o) => o.status === 'rejected');
  const sources = opened.filter((o) => o.status === 'fulfilled').map((o) => o.value);
  try {
    if (failed) throw failed.reason;
    Object.assign(progress, { loaded: 0, posted: 0, total: sources.every((f) => f.size !== undefined) ? sources.reduce((t, f) => t + f.size, 0) : 0 });
    // Which file is which, and which one streams: the wasm decides (`modelFiles`). The
    // downloads go on meanwhile; the wasm was compiling alongside them since the page began.
    await ready;
    const plan = lab.modelFiles(sources.map((f) => f.name));
    // A .gguf keeps its chat template inside, which only the parse reveals: nearly every one has.
    const chat = plan.format === 'gguf' || plan.files.some((p) => p.role === 'tokenizerConfig' || p.role === 'chatTemplate');
    if (chat) await useChatBuild();
    const streamed = plan.files.find((p) => p.streamed);
    let next;
    if (streamed) {
      // The small files whole first, then the large one straight into its weights.
      const bin = sources.find((f) => f.name === streamed.name);
      const others = {};
      for (const f of sources) if (f !== bin) others[f.name] = await readAll(f);
      const reader = lab.ModelReader.forFiles(others, bin.name, bin.size);
      try {
        await pump(bin.stream, (part) => { reader.push(part); advance(part.length); });
        next = reader.finish();
      } finally {
        reader.free();
      }
    } else {
      const buffers = {};
      for (const f of sources) buffers[f.name] = await readAll(f);
      next = lab.Model.fromFiles(buffers);
    }
    model?.free();
    model = next;
    copy?.free(); // the old model's quantised copy
    copy = null;
  } catch (e) {
    for (const f of sources) f.stream.cancel().catch(() => {});
    throw e;
  }
  tokenIds = null;
  const config = model.config;
  const labels = Array.from({ length: config.vocabSize }, (_, i) => model.tokenText(i));
  return { config, labels, vocab: model.vocab, eos: Array.from(model.eosTokenIds), ends: Array.from(model.endTokenIds) };
}

/** The model's quantised copy (`quantize`), for the card "Weights in low precision"; null without one. */
let copy = null;

/** What quantising the model to `type` takes (`model.quantizePlan`). */
function quantizePlan({ type }) {
  return model.quantizePlan(type);
}

/** Quantises the model to `type`, keeping the original: the copy replaces an earlier one. */
function quantize({ type }) {
  const next = model.quantize(type);
  copy?.free();
  copy = next;
  return { dtype: copy.config.dtype };
}

/** The model against its copy on the context `text` (`compareModels`). */
function compareModels({ text }) {
  return lab.compareModels(model, copy, context(text, 'prompt'));
}

/** A shipped text of www/texts/, fetched once. */
const shipped = {};
function shippedText(path) {
  shipped[path] ??= fetch(path).then((res) => {
    if (!res.ok) throw coded('load.http', `cannot load ${path}: HTTP ${res.status}`, { path, status: String(res.status) });
    return res.text();
  }).catch((e) => { delete shipped[path]; throw e; }); // a later try may succeed
  return shipped[path];
}

/** The held-out text of the calibration card. */
const HELD_OUT = 'texts/hamlet-act1-scene1.txt';

/**
 * The card "Calibration": the model's reliability figures on the held-out text, before and
 * after the fitted temperature (`calibration`), and the text's length in characters.
 */
async function calibration() {
  const text = await shippedText(HELD_OUT);
  return { ...lab.calibration(model, text, { bins: 15, fit: true }), chars: [...text].length };
}

/** The prompt as one user message, written out by the model's chat template, ready for the reply. */
function chat({ prompt }) {
  return { text: model.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true }) };
}

/** How many tokens `text` is under the model's tokenizer, and per word. */
function tokenStats({ text }) {
  return spelled('prompt', () => model.tokenStats(text));
}

/** Each token's decoded text → its id (the lowest id for a text several decode to), built when first needed. */
let tokenIds = null;

/**
 * The one token `text` is, for this model: the loss calculator's target. A text that encodes to
 * several ids may still be one token's decoded text: SentencePiece puts a space before the whole
 * text it encodes, so " upon" is two ids, yet the text of the token "▁upon".
 */
function oneToken(text) {
  if (text === '') throw coded('target.empty', 'target must not be empty: choose a token or type one');
  const ids = spelled('target', () => model.encode(text));
  if (ids.length === 1) return ids[0];
  tokenIds ??= new Map(Array.from({ length: model.config.vocabSize }, (_, i) => [model.decode(Uint32Array.of(i)), i]).reverse());
  const id = tokenIds.get(text);
  if (id !== undefined) return id;
  throw coded('target.severalTokens', `target ${JSON.stringify(text)} is ${ids.length} tokens for this model; choose a single token`,
    { target: text, n: ids.length });
}

/**
 * The ids the model sees for `text`, typed in `control` (with BOS first where generation puts
 * it: `promptIds`): its last contextLength tokens.
 */
function context(text, control) {
  return lastWindow(spelled(control, () => model.promptIds(text)));
}

/** The last contextLength of `ids`: what the model sees. */
function lastWindow(ids) {
  const n = model.config.contextLength;
  return ids.length > n ? ids.slice(ids.length - n) : ids;
}

/**
 * The last panel's context, its values (the forward pass, kept in the wasm as a ModelOutput with
 * their log_softmax and top ids) and its two experiments, reused while only what they do not
 * depend on changes: moving top-p re-runs neither the model nor any pass over V but the
 * samplers'. Each model has a worker of its own, so this is this model's.
 */
let kept = null;

/**
 * `kept` for the context `text` (its last contextLength tokens), running the model only when
 * the context, the output mode or `top` changed. Returns every id so far (the chain's history,
 * tokenised once), the time the forward pass took and the time its ModelOutput took (both 0
 * when kept).
 */
function keep({ text, output, top }) {
  const history = spelled('prompt', () => model.promptIds(text));
  const ids = lastWindow(history);
  if (ids.length === 0) throw coded('prompt.empty', 'prompt must contain at least one character');
  const key = `${output} ${top} ${ids.join(' ')}`;
  if (kept?.key === key) return { history, forward: 0, made: 0 };
  const t0 = performance.now();
  const values = model.forward(ids, { output });
  const t1 = performance.now();
  kept?.output.free();
  kept = null;
  kept = { key, output: new lab.ModelOutput(values, top) };
  return { history, forward: t1 - t0, made: performance.now() - t1 };
}

/**
 * What the next-token panel shows for one context and one set of options beside its two
 * experiments (`experiments`, asked for next): the final distribution and its entropy, the
 * `top` ids and the rest, and the chain's figures.
 */
function panel({ text, options, chain, output, top }) {
  const { history, forward, made } = keep({ text, output, top });
  const t1 = performance.now() - made; // a new ModelOutput is the panel's work
  // The panels draw the top ids alone (row k is id top[k]): at V = 151 936 a reply is then a
  // few hundred bytes, not megabytes.
  const r = kept.output.nextTokenPanel({ ...options, output, identity: false, precision: false, topOnly: true });
  const t2 = performance.now();
  // The chain's figures at the same rows: the ids so far are its history (the repetition
  // steps read them).
  let chainFigures;
  try {
    chainFigures = kept.output.chainPanel(chain, { history, output, seed: options.seed, topOnly: true });
  } catch (e) {
    chainFigures = { error: wire(e) };
  }
  // The page reports these beside its own time (performance.measure `panel`; benches/large-vocab.mjs).
  const timing = { forward, panel: t2 - t1, chain: performance.now() - t2 };
  return { ...r, timing, vocabSize: kept.output.length, chain: chainFigures };
}

/**
 * The panel's two experiments for the same context and options, those the page shows
 * (`identity`, `precision`): the temperature identity at the sampler's T and the precision
 * experiment (stored at `precisionT`, re-heated to the absolute T = 3). They cost several
 * passes of exp over V and depend on neither the filters nor the chain, so they come after the
 * bars, and each is kept while its temperature and the values stay.
 */
function experiments({ text, options, output, precisionT, top, identity, precision }) {
  const { forward, made } = keep({ text, output, top });
  const t1 = performance.now() - made;
  const needIdentity = identity && kept.identity?.T !== options.temperature;
  const needPrecision = precision && kept.precision?.T !== precisionT;
  if (needIdentity || needPrecision) {
    const r = kept.output.experiments({
      ...options, output, storedTemperature: precisionT, reheatTemperature: 3,
      identity: needIdentity, precision: needPrecision, topOnly: true,
    });
    if (needIdentity) kept.identity = { T: options.temperature, rows: r.identity };
    if (needPrecision) kept.precision = { T: precisionT, figures: r.precision };
  }
  return {
    identity: identity ? kept.identity.rows : undefined,
    precision: precision ? kept.precision.figures : undefined,
    timing: { forward, experiments: performance.now() - t1 },
  };
}

/**
 * The panels draw a few ids, never all V: `picker(ids)(a)` is the typed array of a's entries at
 * `ids` (row k is id ids[k]). At V = 151 936 a reply is then a few hundred bytes, not megabytes
 * copied to the page's thread.
 */
const picker = (ids) => (a) => a.constructor.from(ids, (i) => a[i]);

/** The same prompt and seed through two chains, and where their texts part. */
function orderMatters({ text, chains, seed, output, tokens }) {
  return spelled('prompt', () => lab.orderMatters(model, text, chains, { seed, output, tokens }));
}

/**
 * `n` independent draws from the same distribution, seeds seed, seed+1, …, through `chain` if
 * given, reported for `ids` (the ids the panel shows; row k is id ids[k]).
 */
function draws({ text, options, chain, output, n, ids }) {
  const values = model.forward(context(text, 'prompt'), { output });
  const { counts, probs, expected } = chain
    ? lab.chainDraws(values, chain, { history: spelled('prompt', () => model.promptIds(text)), output, seed: options.seed }, n)
    : lab.draws(values, { ...options, output }, n);
  const shown = Uint32Array.from(ids.filter((i) => i < probs.length));
  const rows = picker(shown);
  return { ids: shown, counts: rows(counts), probs: rows(probs), expected: rows(expected), n };
}

// Yields to the event loop so a `stop` or `trainPause` message can arrive. A MessageChannel
// rather than setTimeout(0), which browsers clamp to ≥ 4 ms once timeouts nest.
const channel = new MessageChannel();
const tick = () => new Promise((r) => { channel.port1.onmessage = () => r(); channel.port2.postMessage(0); });

/**
 * `tokens` tokens after `text`: with the sliders' options through `Model.generate`, or through
 * `chain` (a list of steps) with the same seed.
 */
async function generate({ text, options, chain, output, tokens }) {
  const mine = ++run;
  const gen = spelled('prompt', () => (chain
    ? new lab.ChainGeneration(model, text, chain, { seed: options.seed, output })
    : model.generate(text, { ...options, output })));
  try {
    let last = performance.now();
    let batch = [];
    let next = 0; // ms in gen.next(): the forward passes and draws
    for (let i = 0; i < tokens; i++) {
      const t0 = performance.now();
      const step = gen.next();
      next += performance.now() - t0;
      batch.push({ token: step.token, text: step.text, logProb: step.modelLogProb });
      if (step.end || performance.now() - last > 30 || i === tokens - 1) {
        post({ type: 'tokens', run: mine, tokens: batch });
        batch = [];
        if (step.end) return { stopped: false, ended: true, endToken: step.token, timing: { next } };
        await tick();
        last = performance.now();
        if (run !== mine) return { stopped: true, timing: { next } };
      }
    }
    return { stopped: false, timing: { next } };
  } finally {
    gen.free();
  }
}

// ---- the loss calculator ----

/**
 * The four pipelines on one output vector. From the model: the rows are every position of the
 * context (each predicts the next character; the last predicts the student's target). Typed:
 * one row. Returns the last row three ways and, per pipeline, the loss, the last row's term,
 * and d(loss)/dz of the last row.
 */
function lossPanel({ source, text, target, logits, targetId, labelSmoothing, reduction, pipelines, temperature }) {
  let z; let targets; let classes; let labels; let targetError = null;
  if (source === 'model') {
    const ids = context(text, 'context');
    if (ids.length === 0) throw coded('context.empty', 'the context must contain at least one character');
    z = model.forward(ids, { output: 'logits', allPositions: true });
    let t;
    try {
      t = oneToken(target);
    } catch (e) {
      // Shown with the rest, computed for the most likely next token meanwhile.
      targetError = wire(e);
      // The greedy pick, by the wasm's sampler (lowest id on a tie).
      t = lab.sample(z.subarray(z.length - model.config.vocabSize), { temperature: 0 }).token;
    }
    targets = Int32Array.from([...ids.slice(1), t]);
    classes = model.config.vocabSize;
    labels = true;
  } else {
    z = logits;
    targets = Int32Array.of(targetId);
    classes = logits.length;
    labels = null;
  }
  const n = targets.length;
  const last = z.subarray((n - 1) * classes);
  const rows = pipelines.map((pipeline) => {
    try {
      const r = lab.pipelineLoss(z, targets, { classes, pipeline, labelSmoothing, reduction });
      return {
        pipeline, loss: r.loss, row: r.rows[n - 1], denominator: r.denominator,
        grad: r.gradLogits.slice((n - 1) * classes), inputs: r.inputs.slice((n - 1) * classes),
      };
    } catch (e) {
      return { pipeline, error: wire(e) };
    }
  });
  // The tokens a student may pick as the next target: the most likely ones, as text.
  const choices = labels ? Array.from(lab.nextTokenPanel(last, { temperature: 1, top: 20, seed: 0, identity: false, precision: false, topOnly: true }).top,
    (id) => ({ id, text: model.decode(Uint32Array.of(id)) })) : [];
  return {
    n, classes, labels, choices, target: targets[n - 1], targetError, values: last.slice(), logProbs: lab.logSoftmax(last),
    probs: lab.softmax(last), pipelines: rows, classify: lab.classify(last, temperature),
    ceOnSoftmax: lab.ceOnSoftmax(classes),
  };
}

// ---- live training ----

// Training needs candle (autograd): a separate, larger build of the wasm, fetched and compiled the
// first time a student trains, so that the sampling lab loads without it.
let trainModule = null;
function trainingModule() {
  trainModule ??= import('./pkg-train/logitlab_train.js')
    .then(async (m) => { await m.default(); return m; })
    .catch((e) => { trainModule = null; throw e; }); // a later try may succeed
  return trainModule;
}

/**
 * The training runs, by group: "pipelines" (the four losses) and "distill" (the six students of
 * the default model). Each group has its runs and its own play-loop counter: pausing one group
 * leaves the other running. A run is { pipeline, trainer }; `pipeline` names it in the reports.
 */
const groups = {};
const group = (name = 'pipelines') => (groups[name] ??= { runs: [], training: 0 });

async function trainingText(source, own) {
  if (source === 'own') return own;
  return shippedText('texts/romeo-and-juliet.txt');
}

function freeRuns(g) {
  g.training++;
  for (const r of g.runs) r.trainer.free();
  g.runs = [];
}

/** New runs, one per pipeline, all from the same seed: same init, same batches. */
async function trainStart({ source, own, preset, learningRate, batchSize, seed, pipelines }) {
  const g = group('pipelines');
  freeRuns(g);
  const [text, { Trainer }] = await Promise.all([trainingText(source, own), trainingModule()]);
  const config = { preset };
  const options = { batchSize, learningRate }; // the rest: TrainOptions::page() in Rust
  for (const pipeline of pipelines) {
    g.runs.push({ pipeline, trainer: new Trainer(text, config, pipeline, seed, options) });
  }
  return { ...started(g.runs[0].trainer, text, batchSize), ceOnSoftmax: lab.ceOnSoftmaxText(text) };
}

/** What the page says of a group's runs: the text's length, context, batch and validation batches. */
const started = (trainer, text, batchSize) => ({
  chars: [...text].length, contextLength: trainer.config.contextLength, batchSize, evalBatches: trainer.options.evalBatches,
  vocabSize: trainer.config.vocabSize,
});

/** The teacher of the distilled students: the default model, in the training build's module. */
const DEFAULT_MODEL = 'models/default.safetensors';
let teacher = null;
async function teacherModel(m) {
  teacher ??= fetch(DEFAULT_MODEL)
    .then((res) => {
      if (!res.ok) throw coded('load.http', `cannot load ${DEFAULT_MODEL}: HTTP ${res.status}`, { path: DEFAULT_MODEL, status: String(res.status) });
      return res.arrayBuffer();
    })
    .then((bytes) => m.Model.fromFiles({ 'default.safetensors': bytes }))
    .catch((e) => { teacher = null; throw e; }); // a later try may succeed
  return teacher;
}
/**
 * Six students of the default model, one per distillation pipeline, all from the same seed: same
 * init, same batches. `distill`: { temperature, alpha, reduction } (reduction absent: each
 * pipeline's own).
 */
async function distillStart({ source, own, preset, learningRate, batchSize, seed, pipelines, distill }) {
  const g = group('distill');
  freeRuns(g);
  const [text, m] = await Promise.all([trainingText(source, own), trainingModule()]);
  const t = await teacherModel(m);
  const options = { batchSize, learningRate };
  for (const pipeline of pipelines) {
    g.runs.push({ pipeline, trainer: student(m, text, preset, t, { ...distill, pipeline }, seed, options) });
  }
  return started(g.runs[0].trainer, text, batchSize);
}

/** A student of `teacher` (`Trainer.distill`). */
function student(m, text, preset, teacher, distill, seed, options) {
  try {
    return m.Trainer.distill(text, { preset }, teacher, distill, seed, options);
  } catch (e) {
    // The training text is spelt in the teacher's characters: say so of the text.
    throw e?.code === 'text.unknownCharacter' ? coded('distill.unknownCharacter', e.message, e.params) : e;
  }
}

/**
 * The first step of card 1 ("hinton") and card 3 ("noTSquared") at each of `temperatures`, from
 * the same initial weights on the same batch: their soft terms and soft-gradient norms, and
 * their losses and cross-entropies. Students made for this and freed; no validation pass.
 */
async function distillTemperatures({ source, own, preset, learningRate, batchSize, seed, distill, temperatures }) {
  const [text, m] = await Promise.all([trainingText(source, own), trainingModule()]);
  const t = await teacherModel(m);
  const first = (pipeline, temperature) => {
    const trainer = student(m, text, preset, t, { ...distill, pipeline, temperature }, seed,
      { batchSize, learningRate, evalBatches: 0 });
    try {
      const { klTerm, softGradNorm, loss, trainCe } = trainer.step(1);
      return { klTerm, softGradNorm, loss, trainCe };
    } finally {
      trainer.free();
    }
  };
  return temperatures.map((temperature) => ({
    temperature, hinton: first('hinton', temperature), noTSquared: first('noTSquared', temperature),
  }));
}

/** One round: `n` steps of every run of a group. */
function round(g, n) {
  const t0 = performance.now();
  const reports = g.runs.map((r) => {
    if (r.error) return { pipeline: r.pipeline, error: r.error };
    try {
      return { pipeline: r.pipeline, ...r.trainer.step(n) };
    } catch (e) {
      r.error = wire(e); // e.g. "training diverged": this run stops, the others go on
      return { pipeline: r.pipeline, error: r.error };
    }
  });
  return { reports, seconds: (performance.now() - t0) / 1000, steps: n };
}

function runsOf(name) {
  const g = group(name);
  if (g.runs.length === 0) throw coded('train.noRunsYet', 'no runs: press Reset to create them');
  return g;
}

function trainStep({ group: name, n }) {
  const g = runsOf(name);
  g.training++;
  return round(g, n);
}

/**
 * How long a round of Play aims to take, in seconds: a pause waits for the round under way. Each
 * run's `step(n)` ends with one validation estimate, so the six distilled students, whose round
 * of one step each already takes about 0.2 s, take two or three steps a round rather than one:
 * measured, 5.6–6.0 steps/s rather than 4.7–4.9 (docs/performance.md).
 */
const ROUND_SECONDS = { pipelines: 0.15, distill: 0.45 };

/** Trains until paused, streaming `train` messages; short rounds keep pause responsive. */
async function trainPlay({ group: name }) {
  const g = runsOf(name);
  const mine = ++g.training;
  const target = ROUND_SECONDS[name ?? 'pipelines'];
  let n = 1;
  while (g.training === mine) {
    const r = round(g, n);
    post({ type: 'train', group: name ?? 'pipelines', ...r });
    n = Math.max(1, Math.min(50, Math.round(n * target / Math.max(r.seconds, 1e-3))));
    await tick();
  }
  return {};
}

/** `tokens` characters from `m` after `prompt` (its characters the model lacks left out). */
function sampleFrom(m, prompt, options, tokens) {
  const known = new Set(m.vocab);
  const start = [...prompt].filter((c) => known.has(c)).join('') || m.vocab[0];
  const gen = m.generate(start, { ...options, output: 'logits' });
  try {
    let text = '';
    for (let i = 0; i < tokens; i++) text += gen.next().text;
    return { prompt: start, text };
  } finally {
    gen.free();
  }
}

/**
 * A sample of text from each run's current weights, with the sampling lab's options; for the
 * distilled students, the teacher's first.
 */
async function trainSample({ group: name, prompt, options, tokens }) {
  const g = group(name);
  const students = g.runs.map(({ pipeline, trainer }) => {
    const m = trainer.model();
    try {
      return { pipeline, ...sampleFrom(m, prompt, options, tokens) };
    } finally {
      m.free();
    }
  });
  if (name !== 'distill' || !teacher) return students;
  return [{ pipeline: 'teacher', ...sampleFrom(await teacher, prompt, options, tokens) }, ...students];
}

/** A model as a Hugging Face GPT-2 folder, zipped: the loaded one, or a training run's. */
function exportModel({ pipeline, folder, group: name }) {
  if (!pipeline) return { zip: model.toHuggingFaceZip(folder) };
  const run = group(name).runs.find((r) => r.pipeline === pipeline);
  if (!run) throw coded('train.noRun', `no run ${pipeline}: press Reset, then Play or Step`, { pipeline });
  const m = run.trainer.model();
  try {
    return { zip: m.toHuggingFaceZip(folder) };
  } finally {
    m.free();
  }
}

const handlers = {
  exportModel, init: initModule,
  load, panel, experiments, orderMatters, draws, generate, chat, tokenStats, quantizePlan, quantize, compareModels, calibration, lossPanel,
  trainStart, distillStart, distillTemperatures, trainStep, trainPlay, trainSample,
  stop: () => { run++; return {}; },
  trainPause: ({ group: name }) => { group(name).training++; return {}; },
  trainFree: ({ group: name }) => { freeRuns(group(name)); return {}; },
};

self.onmessage = async ({ data }) => {
  const { id, type, args } = data;
  try {
    const result = await handlers[type](args ?? {});
    post({ id, ok: true, result });
  } catch (e) {
    post({ id, ok: false, error: wire(e) });
  }
};
