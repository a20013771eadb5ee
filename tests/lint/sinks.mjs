// The page's injection check, run by `./build.sh test` with the lints: no page script may use an
// HTML or script sink (innerHTML, outerHTML, insertAdjacentHTML, document.write, eval, Function,
// string timers), set a URL / event-handler / style attribute from code, or reach into the page
// that embeds it (parent, top, opener, document.referrer; sending parent.postMessage is allowed). Text goes in through
// textContent, styles through CSSOM (`el.style.x = …`, allowed by the CSP), so no user-controlled
// string can become markup or script. Exits 1 and lists every hit.
//
//   node tests/lint/sinks.mjs [folder]      (default: www; the generated www/pkg, www/pkg-chat and
//                                           www/pkg-train are skipped)

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SINKS = [
  [/\.(inner|outer)HTML\b/, 'innerHTML/outerHTML parses markup'],
  [/\binsertAdjacentHTML\b|\bcreateContextualFragment\b|\bparseFromString\b/, 'parses markup'],
  [/\bdocument\.(write|writeln)\b/, 'document.write parses markup'],
  [/\beval\s*\(|\bnew\s+Function\b|(?<![\w.])Function\s*\(/, 'compiles a string to code'],
  [/\bset(Timeout|Interval)\s*\(\s*['"`]/, 'a string timer is eval'],
  [/\bsetAttribute(NS)?\s*\(\s*(null\s*,\s*)?['"`](on\w+|href|src|srcdoc|action|formaction|style|xlink:href)['"`]/i,
    'a URL, event-handler or style attribute set from code'],
  // (A blob: URL the page made itself, for a download, is the one exception.)
  [/\.(href|src|srcdoc|action|formAction)\s*=(?!=)(?!\s*URL\.createObjectURL\()/, 'a URL property set from code'],
  [/\.on\w+\s*=\s*['"`]/, 'an event handler from a string'],
  // Embedded in course notes, the page keeps to its own frame. Its one message to the notes,
  // `parent.postMessage({ type: 'logitlab:height', … }, '*')`, sends and reads nothing back.
  [/(?<![\w.])(window\.)?(parent|top|opener)\.(?!postMessage\()|\bdocument\.referrer\b/, 'reaches into the embedding page'],
];

const root = process.argv[2] ?? 'www';
const GENERATED = [join(root, 'pkg'), join(root, 'pkg-chat'), join(root, 'pkg-train')]; // wasm-bindgen's glue
const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (!GENERATED.includes(p)) walk(p); } else if (/\.(m?js|html)$/.test(e.name)) files.push(p);
  }
})(root);

const hits = [];
for (const f of files) {
  readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
    if (f.endsWith('.html') && !/<script|\son\w+\s*=/i.test(line)) return;
    if (f.endsWith('.html')) {
      if (/<script(?![^>]*\bsrc=)/i.test(line)) hits.push(`${f}:${i + 1}: inline <script> (the CSP forbids it)`);
      if (/\son\w+\s*=/i.test(line)) hits.push(`${f}:${i + 1}: inline event handler`);
      return;
    }
    for (const [re, why] of SINKS) if (re.test(line)) hits.push(`${f}:${i + 1}: ${why}: ${line.trim()}`);
  });
}
if (hits.length) {
  console.error(`HTML/script sinks found:\n  ${hits.join('\n  ')}`);
  process.exit(1);
}
console.log(`sinks: none in ${files.length} page files (${root}/, generated pkg/, pkg-chat/ and pkg-train/ excluded)`);
