/* Service worker: the form page and its assets from a versioned cache, so the form opens at once
   whatever the network does (cache first; a fresh copy is fetched in the background for next time).
   A deploy changes VERSION; the new worker takes over only once it holds a complete copy, and the
   open pages are told (they offer to reload). The outbox keeps its own retries (js/sync.js). */
'use strict';
const VERSION = {{ version|tojson }};
const PREFIX = 'bluezone-form-';
const CACHE = PREFIX + VERSION;
const ASSETS = {{ assets|tojson }};
const FORM = '/form';
const PATIENCE = 6000;  // ms "/" waits for the network before falling back to the cached form

/** Keep a form page only when the server marked it a clean copy (signed in, no one-off message). */
async function keepForm(cache, response) {
  if (response && response.ok && !response.redirected && response.headers.get('X-Form-Shell') === '1') {
    await cache.put(FORM, response);
    const clients = await self.clients.matchAll({includeUncontrolled: true});
    clients.forEach((client) => client.postMessage({type: 'form-cached', version: VERSION}));
    return true;
  }
  return false;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS);
    // Without a clean form page this version is incomplete: fail, and keep the old one.
    const page = await fetch(FORM, {credentials: 'same-origin', cache: 'no-store'});
    if (!await keepForm(cache, page)) throw new Error('the form page could not be cached');
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

/** Cache first for the form: the kept copy at once, a fresh one fetched behind it for next time. */
async function formFirst(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(FORM);
  const network = fetch(event.request).then(async (response) => {
    await keepForm(cache, response.clone());
    return response;
  });
  if (!cached) return network;
  event.waitUntil(network.catch(() => null));
  return cached;
}

/** Network first for "/" (it sends other roles elsewhere) and a form asked with a query (?lang=):
    the cached form only when there is no signal. */
async function formPage(event) {
  const cache = await caches.open(CACHE);
  const network = fetch(event.request).then(async (response) => {
    await keepForm(cache, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null));
  const slow = new Promise((resolve) => setTimeout(resolve, PATIENCE, null));
  try {
    const response = await Promise.race([network, slow]);
    if (response) return response;
  } catch (err) {
    // no network: answered from the cache below
  }
  return (await cache.match(FORM)) || network;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === FORM && !url.search) {
    event.respondWith(formFirst(event));
  } else if (request.mode === 'navigate' && (url.pathname === '/' || url.pathname === FORM)) {
    event.respondWith(formPage(event));
  } else if (ASSETS.includes(url.pathname + url.search)) {
    event.respondWith(caches.match(request, {cacheName: CACHE}).then((hit) => hit || fetch(request)));
  }
});
