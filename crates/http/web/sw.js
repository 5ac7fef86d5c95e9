// 社智在线 · service worker for the grid worker's page: the page, its assets and the reads it
// needs are kept from the last time they answered, so that the task list opens without a
// signal (villages lose it). Network first: online, everything is fresh. Visits made offline
// wait in the page's own queue and are synced by the page, never replayed from here.
const CACHE = 'shezhi-field-v1';
const SHELL = ['/field', '/assets/shell.css', '/assets/common.js', '/assets/field.js'];
const KEEP = [/^\/field$/, /^\/assets\//, /^\/api\/v1\/me$/, /^\/api\/v1\/categories/, /^\/api\/v1\/campaigns/,
  /^\/api\/v1\/regions\//, /^\/api\/v1\/cases\?/];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!KEEP.some((k) => k.test(url.pathname + url.search))) return;
  e.respondWith(fetch(req).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(req, copy));
    }
    return res;
  }).catch(() => caches.match(req).then((hit) => hit || Response.error())));
});
