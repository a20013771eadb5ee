// The README, tests/README.md and docs/*.md: every relative link resolves (the file, and the
// heading an #anchor names), every `./build.sh X` they give is a command of `./build.sh help`,
// and they name no machine path. No browser: plain Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILES = ['README.md', 'tests/README.md',
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const text = (file) => readFileSync(join(ROOT, file), 'utf8');

/** The Markdown outside fenced code blocks, line by line, with inline code spans blanked. */
function prose(markdown) {
  const out = [];
  let fence = null;
  for (const line of markdown.split('\n')) {
    const open = line.match(/^\s*(`{3,}|~{3,})/);
    if (fence) {
      if (open && open[1][0] === fence[0] && open[1].length >= fence.length && !line.trim().slice(open[1].length)) fence = null;
      out.push('');
    } else if (open) {
      fence = open[1];
      out.push('');
    } else {
      out.push(line.replace(/(`+)[^]*?\1/g, (m) => ' '.repeat(m.length)));
    }
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading) {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings (a repeated heading gets -1, -2, …). */
function anchors(file) {
  const seen = new Map();
  const out = new Set();
  let fence = null;
  for (const line of text(file).split('\n')) {
    const open = line.match(/^\s*(`{3,}|~{3,})/);
    if (fence) { if (open && open[1][0] === fence[0] && open[1].length >= fence.length) fence = null; continue; }
    if (open) { fence = open[1]; continue; }
    const h = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Every link target of a file's prose: inline links, images and reference definitions. */
function links(file) {
  const found = [];
  prose(text(file)).forEach((line, i) => {
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ target: m[1], line: i + 1 });
    const def = line.match(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/);
    if (def) found.push({ target: def[1], line: i + 1 });
    for (const m of line.matchAll(/\bhref="([^"]+)"/g)) found.push({ target: m[1], line: i + 1 });
  });
  return found;
}

test('every relative link of the README and docs/ resolves', () => {
  const broken = [];
  let checked = 0;
  for (const file of FILES) {
    for (const { target, line } of links(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      checked++;
      const [path, anchor] = target.split('#');
      const to = path ? relative(ROOT, resolve(dirname(join(ROOT, file)), decodeURIComponent(path))) : file;
      const where = `${file}:${line}: ${target}`;
      if (to.startsWith('..') || !existsSync(join(ROOT, to))) { broken.push(`${where} (no ${to})`); continue; }
      if (anchor === undefined) continue;
      if (!to.endsWith('.md') || statSync(join(ROOT, to)).isDirectory()) { broken.push(`${where} (an anchor into a file that is not Markdown)`); continue; }
      if (!anchors(to).has(decodeURIComponent(anchor))) broken.push(`${where} (no heading #${anchor} in ${to})`);
    }
  }
  assert.ok(checked >= 30, `only ${checked} relative links found: is the link reader broken?`);
  assert.deepEqual(broken, []);
});

test('every ./build.sh command they give exists in ./build.sh help', () => {
  const help = execFileSync('bash', [join(ROOT, 'build.sh'), 'help'], { cwd: ROOT, encoding: 'utf8' });
  const commands = new Set([...help.matchAll(/^ {2}([a-z][\w-]*)(?=\s)/gm)].map((m) => m[1]));
  assert.ok(commands.has('serve') && commands.has('test') && commands.has('help'), `help lists ${[...commands]}`);
  const unknown = [];
  let checked = 0;
  for (const file of FILES) {
    text(file).split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/\.\/build\.sh\s+([A-Za-z][\w-]*)/g)) {
        checked++;
        if (!commands.has(m[1])) unknown.push(`${file}:${i + 1}: ./build.sh ${m[1]}`);
      }
    });
  }
  assert.ok(checked >= 10, `only ${checked} ./build.sh commands found`);
  assert.deepEqual(unknown, [], `commands not in ./build.sh help (${[...commands].join(', ')})`);
});

test('the README and docs/ name no machine path and keep no diary', () => {
  const found = [];
  for (const file of FILES) {
    text(file).split('\n').forEach((line, i) => {
      for (const re of [/\/tmp\//, /\/root\//, /\/home\//, /\bsessions?\b/i, /(^|[\s(])#\d+\b/]) {
        if (re.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(found, []);
});

test('the slugs follow GitHub', () => {
  assert.equal(slug('The JS API'), 'the-js-api');
  assert.equal(slug('`sample()`'), 'sample');
  assert.equal(slug('Accessibility (WCAG 2.2 AA)'), 'accessibility-wcag-22-aa');
  assert.equal(slug('Top-p at V = 128 256 in Node'), 'top-p-at-v--128-256-in-node');
});
