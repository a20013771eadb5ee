// The offline copy of a deployed lab (`./build.sh dist` fills in MANIFEST; `./build.sh serve`
// never registers this worker). After one visit, the page, both wasm builds, the JS and the
// shipped models come from the cache, so the lab works with the network off.
//
// Versions never mix. MANIFEST lists every deployed file with the SHA-256 of its content, and
// the cache's name is the hash of the whole list. A new deploy changes this file, so the browser
// installs the new worker beside the old one: it downloads every file, checks each hash (a file
// caught mid-deploy fails the install, which is retried on a later visit), and only then is the
// cache complete. The new worker takes over when no page of the old version is open (no
// skipWaiting), so a page keeps the JS glue and the wasm of the version it started with.
//
// Only the listed files are ever cached: a model opened from disk, or from another ?model= URL,
// goes to the network every time. The `lazy` ones (the models a student picks, such as
// models/shakespeare-bpe/) are not downloaded at install, so a first visit does not fetch them;
// they are cached, hash checked, the first time the page asks for them.

const MANIFEST = /* MANIFEST */ null; // { version, files: { 'path': 'sha-256 hex' }, lazy: ['path'] }
const CACHE = MANIFEST && `logitlab-${MANIFEST.version}`;
const scope = new URL(self.registration.scope);

/** The path of a request URL inside the scope ('' is the page itself), or null outside it. */
function scopePath(url) {
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return null;
  return url.pathname.slice(scope.pathname.length) || 'index.html';
}

/** Whether `path` is in a deployed model's folder (models/NAME/) without being deployed. */
function absentFromModelFolder(path) {
  const folder = path.match(/^models\/[^/]+\//)?.[0];
  return Boolean(MANIFEST && folder && !Object.hasOwn(MANIFEST.files, path)
    && Object.keys(MANIFEST.files).some((f) => f.startsWith(folder)));
}

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

self.addEventListener('install', (event) => {
  if (!MANIFEST) return;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const [path, sha] of Object.entries(MANIFEST.files)) {
      if (MANIFEST.lazy.includes(path)) continue;
      const url = new URL(path, scope);
      const response = await fetch(url, { cache: 'reload' });
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      const body = await response.clone().arrayBuffer();
      const got = hex(await crypto.subtle.digest('SHA-256', body));
      if (got !== sha) throw new Error(`${path}: content is not the deployed version (mid-deploy?)`);
      await cache.put(url, response);
    }
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('logitlab-') && name !== CACHE) await caches.delete(name);
    }
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const path = scopePath(new URL(request.url));
  if (path === null || !MANIFEST) return;
  // A deployed model's folder has exactly the files the deploy listed: the optional ones the
  // page asks for (generation_config.json, tokenizer_config.json) are answered "not there",
  // online and offline alike.
  if (absentFromModelFolder(path)) { event.respondWith(new Response(null, { status: 404 })); return; }
  if (!Object.hasOwn(MANIFEST.files, path)) return; // not ours: the network, uncached
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const url = new URL(path, scope);
    const cached = await cache.match(url);
    if (cached) return cached;
    const response = await fetch(request);
    if (response.ok && MANIFEST.lazy.includes(path)) {
      const body = await response.clone().arrayBuffer();
      if (hex(await crypto.subtle.digest('SHA-256', body)) === MANIFEST.files[path]) await cache.put(url, new Response(body, response));
    }
    return response;
  })());
});
