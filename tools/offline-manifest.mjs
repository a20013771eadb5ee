// @ts-check
// The offline worker's manifest, written into a bundle's sw.js by `./build.sh bundle`: every file
// of the bundle with the SHA-256 of its content (sw.js itself and snapshots/ left out), a version
// that changes when any file does, and the files fetched only when a student picks them.
//
//   node tools/offline-manifest.mjs OUT      (OUT: a bundle folder; its sw.js holds the placeholder)

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = process.argv[2];
if (!root) throw new Error('usage: node tools/offline-manifest.mjs OUT');

/** @type {Record<string, string>} */
const files = {};
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const rel = relative(root, p).split(sep).join('/');
    if (e.isDirectory()) { if (rel !== 'snapshots') walk(p); continue; }
    if (rel !== 'sw.js') files[rel] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
})(root);
const sorted = Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]]));
const version = createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
// The models in folders of their own are fetched only when a student picks one, and the chat
// build only when a model with a chat template is loaded.
const lazy = Object.keys(sorted).filter((p) => /^models\/[^/]+\//.test(p) || p.startsWith('pkg-chat/'));
const sw = join(root, 'sw.js');
const src = readFileSync(sw, 'utf8');
if (!src.includes('/* MANIFEST */ null')) throw new Error('sw.js has no MANIFEST placeholder');
writeFileSync(sw, src.replace('/* MANIFEST */ null', JSON.stringify({ version, files: sorted, lazy })));
console.log(`offline worker: ${Object.keys(sorted).length} files (${lazy.length} fetched when picked), version ${version}`);
