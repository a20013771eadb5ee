// The page's whole UI state is one object; the URL query is its serialisation, so a link
// reproduces exactly what the student saw (the TensorFlow Playground habit). Query names match
// the JS options of `sample`: temperature, topK, topP, minP, seed, and so on.

export const DEFAULTS = Object.freeze({
  view: 'sample',        // 'sample' | 'numbers'
  prompt: 'ROMEO:\n',
  temperature: 0.8,      // T, 0 … 3; 0 = greedy
  topK: 0,               // 0 = off
  topP: 1,               // 1 = off
  minP: 0,               // 0 = off
  seed: 42,
  output: 'logits',      // what the model's forward returns: 'logits' | 'logSoftmax'
  show: 'probs',         // what the bars show: 'logits' | 'logProbs' | 'probs'
  tokens: 200,           // how many characters Generate writes
  precisionT: 1,         // the temperature of the precision view
  hide: '',              // comma-separated controls/panels an instructor hides
  embed: false,          // true: no page chrome, for an iframe
});

const RANGES = {
  temperature: [0, 3], topK: [0, 1 << 20], topP: [0, 1], minP: [0, 1],
  seed: [0, Number.MAX_SAFE_INTEGER], tokens: [1, 5000], precisionT: [0.05, 3],
};
const CHOICES = {
  view: ['sample', 'numbers'], output: ['logits', 'logSoftmax'],
  show: ['logits', 'logProbs', 'probs'],
};
const INTEGERS = new Set(['topK', 'seed', 'tokens']);

/** Things `hide=` can name. */
export const HIDEABLE = ['prompt', 'temperature', 'topK', 'topP', 'minP', 'seed', 'output',
  'tabs', 'bars', 'identity', 'precision', 'draws', 'formulas', 'share'];

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
