// The page's whole UI state is one object; the URL query is its serialisation, so a link
// reproduces exactly what the student saw (the TensorFlow Playground habit). Query names match
// the JS options of `sample`: temperature, topK, topP, minP, seed, and so on.

export const DEFAULTS = Object.freeze({
  view: 'sample',        // 'sample' | 'numbers' | 'train'
  prompt: 'ROMEO:\n',
  temperature: 0.8,      // T, 0 … 3; 0 = greedy
  topK: 0,               // 0 = off
  topP: 1,               // 1 = off
  minP: 0,               // 0 = off
  seed: 42,
  output: 'logits',      // what the model's forward returns: 'logits' | 'logSoftmax'
  show: 'probs',         // what the bars show: 'logits' | 'logProbs' | 'probs'
  tokens: 200,           // how many characters Generate writes
  precisionT: 1,         // the temperature the precision view stores the probabilities at
  // "Your own logits" (view=numbers): the typed vector z (x*n repeats x n times) and T.
  numbersLogits: '2, 1, 0.5, -1, -3',
  numbersTemperature: 1,
  // The loss calculator (view=train): the next character after the prompt, or a typed vector.
  lossSource: 'model',   // 'model' | 'typed'
  target: 'I',           // the character the next position should predict (lossSource=model)
  logits: '2, 1, 0.5, -1, -3', // the typed vector z (lossSource=typed)
  targetId: 0,           // its target id
  labelSmoothing: 0,     // ε, crossEntropy only
  reduction: 'mean',     // 'mean' | 'sum' over the context's predictions
  // Live training (view=train): Trainer options, same names as the JS API.
  preset: 'tiny',        // 'tiny' | 'small' | 'medium'
  learningRate: 0.01,
  batchSize: 8,
  pipelines: 'crossEntropyOnLogits,nllOnLogSoftmax,nllOnLogits,crossEntropyOnSoftmax',
  trainText: 'shakespeare', // 'shakespeare' | 'own' (pasted text stays on the page)
  trainSeed: 1,
  hide: '',              // comma-separated controls/panels an instructor hides
  embed: false,          // true: no page chrome, for an iframe
  id: '',                // the iframe's id, echoed in the height messages to the embedding page
  model: '',             // a same-origin path: a Hugging Face GPT-2 folder ending in / or a
                         // logitlab .safetensors file; '' = the built-in model
});

const RANGES = {
  temperature: [0, 3], topK: [0, 1 << 20], topP: [0, 1], minP: [0, 1],
  seed: [0, Number.MAX_SAFE_INTEGER], tokens: [1, 5000], precisionT: [0.05, 3],
  numbersTemperature: [0, 3],
  targetId: [0, 1 << 20], labelSmoothing: [0, 1], learningRate: [1e-5, 1], batchSize: [1, 64],
  trainSeed: [0, Number.MAX_SAFE_INTEGER],
};
const CHOICES = {
  view: ['sample', 'numbers', 'train'], output: ['logits', 'logSoftmax'],
  show: ['logits', 'logProbs', 'probs'], lossSource: ['model', 'typed'],
  reduction: ['mean', 'sum'], preset: ['tiny', 'small', 'medium'],
  trainText: ['shakespeare', 'own'],
};
const INTEGERS = new Set(['topK', 'seed', 'tokens', 'targetId', 'batchSize', 'trainSeed']);

/** The four training pipelines of the seed, in the order the page shows them. */
export const PIPELINES = ['crossEntropyOnLogits', 'nllOnLogSoftmax', 'nllOnLogits', 'crossEntropyOnSoftmax'];

/** Things `hide=` can name. */
export const HIDEABLE = ['verdicts', 'prompt', 'temperature', 'topK', 'topP', 'minP', 'seed',
  'output', 'tabs', 'bars', 'identity', 'precision', 'draws', 'formulas', 'share', 'stability',
  'calculator', 'classify', 'training'];

/** Reads a state from a query string; anything malformed falls back to its default. */
export function parse(search) {
  const q = new URLSearchParams(search);
  const s = { ...DEFAULTS };
  for (const [key, value] of q) {
    if (!(key in DEFAULTS)) continue;
    if (key in RANGES) {
      const x = Number(value);
      const [lo, hi] = RANGES[key];
      if (value.trim() !== '' && Number.isFinite(x) && x >= lo && x <= hi
          && (!INTEGERS.has(key) || Number.isInteger(x))) s[key] = x;
    } else if (key in CHOICES) {
      if (CHOICES[key].includes(value)) s[key] = value;
    } else if (key === 'embed') {
      s.embed = value === '1' || value === 'true';
    } else if (key === 'prompt') {
      s.prompt = value.slice(0, 2000);
    } else if (key === 'target') {
      if (value.length > 0 && value.length <= 100) s.target = value; // one token: a character, or a subword
    } else if (key === 'logits' || key === 'numbersLogits') {
      s[key] = value.slice(0, 2000);
    } else if (key === 'pipelines') {
      s.pipelines = PIPELINES.filter((p) => value.split(',').includes(p)).join(',');
    } else if (key === 'model') {
      if (value.length <= 500) s.model = value;
    } else if (key === 'id') {
      if (/^[\w-]{1,64}$/.test(value)) s.id = value;
    } else if (key === 'hide') {
      s.hide = value.split(',').filter((h) => HIDEABLE.includes(h)).join(',');
    }
  }
  return s;
}

/** The query string of a state: only what differs from the defaults, in a stable order. */
export function serialize(s) {
  const q = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    if (s[key] === DEFAULTS[key]) continue;
    q.set(key, key === 'embed' ? (s.embed ? '1' : '0') : String(s[key]));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function hidden(s) {
  return new Set(s.hide ? s.hide.split(',') : []);
}
