// 社智在线 · service worker for the grid worker's page: the page, its assets and the reads it
// needs are kept from the last time they answered, so that the task list opens without a
// signal (villages lose it). Network first: online, everything is fresh. Visits made offline
// wait in the page's own queue and are synced by the page, never replayed from here.
//
// What is kept must not outlive the session: `/api/v1/me` (it carries the CSRF token) and
// the session endpoints are never stored; a 401 from any read clears every kept read (the
// page does the same when `/api/v1/me` says nobody is signed in, and on sign-out); and a
// read kept longer than a session lasts (12 h) is not served but dropped.
const CACHE = 'shezhi-field-v2';
const MAX_AGE_MS = 12 * 3600 * 1000;
const STAMP = 'x-shezhi-kept-at';
const SHELL = ['/field', '/assets/shell.css', '/assets/common.js', '/assets/field.js'];
const KEEP = [/^\/field$/, /^\/assets\//, /^\/api\/v1\/categories/, /^\/api\/v1\/campaigns/,
  /^\/api\/v1\/regions\//, /^\/api\/v1\/cases\?/];
const NEVER = [/^\/api\/v1\/me$/, /^\/api\/v1\/session/];

/** A copy of an answer stamped with the time it was kept. */
async function stamped(res) {
  const headers = new Headers(res.headers);
  headers.set(STAMP, String(Date.now()));
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers });
}

/** Drops every kept read of the API (the page and its assets hold nothing personal). */
async function forgetReads() {
  for (const name of await caches.keys()) {
    if (!name.startsWith('shezhi-')) continue;
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      if (new URL(req.url).pathname.startsWith('/api/')) await cache.delete(req);
    }
  }
}

/** The kept answer to `req` if it is younger than MAX_AGE_MS; an older one is dropped. */
async function kept(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (!hit) return Response.error();
  const at = Number(hit.headers.get(STAMP));
  if (!at || Date.now() - at > MAX_AGE_MS) {
    await cache.delete(req);
    return Response.error();
  }
  return hit;
}

self.addEventListener('install', (e) => {
  e.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(SHELL.map(async (path) => {
      const res = await fetch(path);
      if (res.ok) await cache.put(path, await stamped(res));
    }));
    await self.skipWaiting();
  })());
});
self.addEventListener('activate', (e) => e.waitUntil((async () => {
  // Earlier versions kept `/api/v1/me` with its CSRF token: drop them whole.
  for (const name of await caches.keys()) if (name.startsWith('shezhi-') && name !== CACHE) await caches.delete(name);
  await self.clients.claim();
})()));
self.addEventListener('message', (e) => {
  if (e.data && e.data.type === 'forget') e.waitUntil(forgetReads());
});
self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const path = url.pathname + url.search;
  if (NEVER.some((k) => k.test(url.pathname)) || req.headers.has('x-csrf-token')) return;
  if (!KEEP.some((k) => k.test(path))) return;
  e.respondWith(fetch(req).then(async (res) => {
    if (res.status === 401) await forgetReads(); // the session is gone: so is what it read
    else if (res.ok) {
      const copy = await stamped(res.clone());
      const cache = await caches.open(CACHE);
      await cache.put(req, copy);
    }
    return res;
  }, () => kept(req)));
});
