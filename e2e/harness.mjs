// The end-to-end harness: a demo server on a fresh database, Debian's chromium driven by
// playwright-core, phone / desktop / wall contexts, sign-in through the API, numbered
// screenshots, page-error capture, paint timings, and a sequential journey runner that
// writes test-output/e2e/summary.json.
//
// Nothing here sleeps for a fixed time: every wait polls a condition against a deadline.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = path.join(ROOT, 'test-output', 'e2e');

/** Password of every demo account (crates/shezhi/src/cmd/admin.rs, DEMO_PASSWORD). */
export const DEMO_PASSWORD = 'shezhi-demo-2026';

/** The demo's accounts and their role bindings (crates/shezhi/src/cmd/admin.rs, seed_demo_accounts). */
export const DEMO_ACCOUNTS = Object.freeze({
  admin: 'admin',
  wangge: 'grid_worker=510104018001001',
  shequ: 'community_staff=510104018001',
  jiedao: 'street_staff=510104018000',
  zhihui: 'command=510104000000',
  chengguan: 'unit_staff=510104-CG',
  tiaojie: 'mediator',
  jumin: 'resident',
});

// ---------------------------------------------------------------------------------------
// Output and logging

let outputReady = false;
let logFd = null;

/** Empty test-output/e2e (once per process) and open test-output/e2e/e2e.log. */
export function resetOutput() {
  if (outputReady) return OUT_DIR;
  fs.rmSync(OUT_DIR, { recursive: true, force: true });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  logFd = fs.openSync(path.join(OUT_DIR, 'e2e.log'), 'a');
  outputReady = true;
  return OUT_DIR;
}

function stamp() {
  return new Date().toISOString().slice(11, 23);
}

/** Print a line to stdout and to test-output/e2e/e2e.log. */
export function log(...parts) {
  resetOutput();
  const line = `[${stamp()}] ${parts.map((p) => (typeof p === 'string' ? p : inspectValue(p))).join(' ')}`;
  process.stdout.write(line + '\n');
  fs.writeSync(logFd, line + '\n');
}

function inspectValue(v) {
  if (v instanceof Error) return v.stack || String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function deadlineError(what, ms) {
  return new Error(`${what}: not done within ${Math.round(ms / 1000)} s`);
}

/** Poll `check` (async, truthy = done) every `interval` ms until `timeout` ms have passed. */
export async function pollUntil(what, check, { timeout = 30_000, interval = 100 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() >= end) throw deadlineError(what, timeout);
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, end - Date.now()))));
  }
}

// ---------------------------------------------------------------------------------------
// The server

const liveServers = new Set(); // stop functions of servers started and not yet stopped

/** Stop every server startServer() started, including one still starting (e.g. on Ctrl-C). */
export async function stopAllServers() {
  await Promise.all([...liveServers].map((stop) => stop()));
}

function resolveBinary() {
  const candidates = [];
  if (process.env.SHEZHI_BIN) candidates.push(path.resolve(process.env.SHEZHI_BIN));
  else if (process.env.CARGO_TARGET_DIR)
    candidates.push(path.resolve(ROOT, process.env.CARGO_TARGET_DIR, 'release', 'shezhi'));
  else candidates.push(path.join(ROOT, 'target', 'release', 'shezhi'));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* try the next */
    }
  }
  throw new Error(
    `no shezhi binary at ${candidates.join(', ')}; build it (cargo build --release -p shezhi) or set SHEZHI_BIN`,
  );
}

async function healthy(base) {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

// The address the server bound, from its banner on stdout ("web: http://ADDR/") or from the
// "listening addr=ADDR" log line on stderr.
const ADDRESS_PATTERNS = [/web:\s+http:\/\/([0-9.]+:\d+)\//, /listening\b.*\baddr=([0-9.]+:\d+)/];

/**
 * Start `shezhi demo` on a fresh SQLite file in a new temporary directory.
 *
 * The demo keeps its data key in `shezhi-demo.key` in its *working directory*, so the server
 * runs with the temporary directory as its working directory. It listens on 127.0.0.1:0 (or
 * E2E_PORT) and the port the kernel chose is read from its output, so there is no race for a
 * free port. Output goes to test-output/e2e/server.log.
 *
 * Environment: E2E_BASE_URL (use a running server; stop() does nothing), SHEZHI_BIN,
 * CARGO_TARGET_DIR, E2E_PORT, E2E_SCALE / E2E_SEED (demo --scale / --seed), E2E_DATA_DIR (a
 * directory to keep and reuse between runs instead of a fresh temporary one),
 * E2E_KEEP_DATA=1 (keep the temporary directory), E2E_SERVER_TIMEOUT (seconds, default 180).
 *
 * @returns {Promise<{ base: string, stop: () => Promise<void>, dataDir: string|null, startupMs: number, external: boolean }>}
 */
export async function startServer(opts = {}) {
  resetOutput();
  const external = process.env.E2E_BASE_URL;
  if (external) {
    const base = external.replace(/\/+$/, '');
    await pollUntil(`${base}/healthz`, () => healthy(base), { timeout: 10_000, interval: 200 });
    log(`server: using the running server at ${base}`);
    return { base, stop: async () => {}, dataDir: null, startupMs: 0, external: true };
  }

  const bin = resolveBinary();
  const timeout = (Number(process.env.E2E_SERVER_TIMEOUT) || 180) * 1000;
  const reuse = process.env.E2E_DATA_DIR ? path.resolve(process.env.E2E_DATA_DIR) : null;
  const dataDir = reuse ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'shezhi-e2e-')));
  await fsp.mkdir(dataDir, { recursive: true });
  const keep = Boolean(reuse) || process.env.E2E_KEEP_DATA === '1';
  const port = process.env.E2E_PORT || '0';

  const env = { ...process.env };
  // The demo must make and use its own key and defaults, whatever the caller's shell holds.
  for (const k of ['SHEZHI_CONFIG', 'SHEZHI_DATA_KEY', 'SHEZHI_DATA_KEY_FILE', 'SHEZHI_LOG_FORMAT']) delete env[k];
  env.SHEZHI_DATABASE_URL = `sqlite://${path.join(dataDir, 'shezhi-demo.db')}`;
  env.SHEZHI_LISTEN = `127.0.0.1:${port}`;
  env.RUST_LOG ??= 'info,sqlx=warn';

  const args = ['demo', ...(opts.args ?? [])];
  const scale = opts.scale ?? process.env.E2E_SCALE;
  const seed = opts.seed ?? process.env.E2E_SEED;
  if (scale) args.push('--scale', String(scale));
  if (seed) args.push('--seed', String(seed));

  const logPath = path.join(OUT_DIR, 'server.log');
  const serverLog = fs.createWriteStream(logPath, { flags: 'a' });
  serverLog.write(`# ${new Date().toISOString()} ${bin} ${args.join(' ')}\n# cwd ${dataDir}\n# ${env.SHEZHI_DATABASE_URL} listen ${env.SHEZHI_LISTEN}\n`);
  log(`server: starting ${bin} ${args.join(' ')} in ${dataDir}`);

  const started = Date.now();
  const child = spawn(bin, args, { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let address = port !== '0' ? `127.0.0.1:${port}` : null;
  let exited = null;
  let tail = '';
  const watch = (chunk) => {
    const text = chunk.toString('utf8');
    serverLog.write(text);
    tail = (tail + text).slice(-4000);
    if (!address) {
      for (const re of ADDRESS_PATTERNS) {
        const m = tail.match(re);
        if (m) {
          address = m[1];
          break;
        }
      }
    }
  };
  child.stdout.on('data', watch);
  child.stderr.on('data', watch);
  const exitedP = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve((exited = { code, signal })));
    child.on('error', (error) => resolve((exited = { code: null, signal: null, error })));
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  let stopping = null;
  const stop = () => (stopping ??= stopNow());
  const stopNow = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitedP;
      clearTimeout(t);
    }
    process.off('exit', killOnExit);
    await new Promise((r) => serverLog.end(r));
    log(`server: stopped (${exited.signal ?? `exit ${exited.code}`})`);
    if (!keep) await fsp.rm(dataDir, { recursive: true, force: true });
    else log(`server: data kept in ${dataDir}`);
    liveServers.delete(stop);
  };
  liveServers.add(stop);

  try {
    await pollUntil(
      'the demo server answering /healthz',
      async () => {
        if (exited) {
          throw new Error(
            `the server exited before answering (${exited.error ?? exited.signal ?? `exit ${exited.code}`}); see ${logPath}\n${tail.slice(-1500)}`,
          );
        }
        return address !== null && (await healthy(`http://${address}`));
      },
      { timeout, interval: 200 },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const base = `http://${address}`;
  const startupMs = Date.now() - started;
  log(`server: ${base} answered /healthz after ${(startupMs / 1000).toFixed(1)} s`);
  return { base, stop, dataDir, startupMs, external: false };
}

// ---------------------------------------------------------------------------------------
// The browser and its contexts

let theBrowser = null;

/**
 * Launch Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium) headless.
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchBrowser(opts = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-extensions',
      '--disable-sync',
      '--no-first-run',
      '--mute-audio',
      '--font-render-hinting=none',
      '--force-color-profile=srgb',
      ...(opts.args ?? []),
    ],
  });
  theBrowser = browser;
  log(`browser: chromium ${browser.version()}`);
  return browser;
}

const COMMON = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', colorScheme: 'light' };

/** A phone: 360×740 CSS px at 2×, touch, zh-CN, Asia/Shanghai. */
export async function newPhone(browser, overrides = {}) {
  return track(
    await browser.newContext({
      ...COMMON,
      viewport: { width: 360, height: 740 },
      screen: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      ...overrides,
    }),
    'phone',
  );
}

/** A desktop: 1440×900 at 1×, zh-CN, Asia/Shanghai. */
export async function newDesktop(browser, overrides = {}) {
  return track(
    await browser.newContext({
      ...COMMON,
      viewport: { width: 1440, height: 900 },
      screen: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      ...overrides,
    }),
    'desktop',
  );
}

/** A command-centre video wall: 3840×2160 at 1×, zh-CN, Asia/Shanghai. */
export async function newWall(browser, overrides = {}) {
  return track(
    await browser.newContext({
      ...COMMON,
      viewport: { width: 3840, height: 2160 },
      screen: { width: 3840, height: 2160 },
      deviceScaleFactor: 1,
      ...overrides,
    }),
    'wall',
  );
}

// ---------------------------------------------------------------------------------------
// Page errors: console errors and uncaught exceptions, per page and per journey

// Chromium asks for /favicon.ico by itself when a page names no icon; the 404 it gets is
// logged (as allowed) but fails nothing. E2E_STRICT=1 counts it as an error too.
const DEFAULT_ALLOWED = process.env.E2E_STRICT === '1' ? [] : [/status of 404 .*\/favicon\.ico\b/];

const trackedContexts = new WeakSet();
const pageState = new WeakMap(); // page -> { label, errors: [], allow: RegExp[] }
let pageSeq = 0;
let current = null; // the running journey's record
const strayErrors = []; // errors seen while no journey ran

function stateOf(page) {
  let s = pageState.get(page);
  if (!s) {
    s = { label: `page${++pageSeq}`, errors: [], allow: [...DEFAULT_ALLOWED] };
    pageState.set(page, s);
  }
  return s;
}

function recordPageError(page, kind, text) {
  const s = stateOf(page);
  if (s.allow.some((re) => re.test(text))) {
    log(`  ${s.label} ${kind} (allowed): ${text}`);
    return;
  }
  let url = '';
  try {
    url = page.url();
  } catch {
    /* closed */
  }
  const entry = { page: s.label, url, kind, text };
  s.errors.push(entry);
  (current ? current.pageErrors : strayErrors).push(entry);
  log(`  ${s.label} ${kind}: ${text}${url ? `  [${url}]` : ''}`);
}

function watchPage(page, contextLabel) {
  const s = stateOf(page);
  s.label = `${contextLabel}#${pageSeq}`;
  page.on('pageerror', (err) => recordPageError(page, 'pageerror', err.stack || err.message || String(err)));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
    recordPageError(page, 'console.error', msg.text() + where);
  });
  page.on('crash', () => recordPageError(page, 'crash', 'the page crashed'));
  page.on('requestfailed', (req) => {
    const f = req.failure();
    log(`  ${s.label} request failed: ${req.method()} ${req.url()} ${f ? f.errorText : ''}`);
  });
}

/**
 * Watch a context's pages (present and future) for console errors and uncaught exceptions.
 * The new*() helpers do this already; call it for contexts made with browser.newContext().
 */
export function track(context, label = 'context') {
  if (trackedContexts.has(context)) return context;
  trackedContexts.add(context);
  context.on('page', (page) => watchPage(page, label));
  for (const page of context.pages()) watchPage(page, label);
  return context;
}

/** Console errors / page errors matching any of `patterns` do not fail the journey. */
export function allowErrors(page, ...patterns) {
  stateOf(page).allow.push(...patterns.map((p) => (p instanceof RegExp ? p : new RegExp(escapeRe(p)))));
}

/** The console errors and uncaught exceptions a page has had so far. */
export function pageErrors(page) {
  return [...stateOf(page).errors];
}

function escapeRe(s) {
  return String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------
// Sign-in, screenshots, timings

/**
 * Sign in through the API inside the page's context, so the session cookie lands in the
 * context's cookie jar. Throws on anything but 200.
 * @returns {Promise<{ user_id: number, csrf_token: string, expires_at_ms: number, bindings: object[] }>}
 */
export async function signIn(page, base, username, password = DEMO_PASSWORD) {
  const res = await page.request.post(`${base}/api/v1/session`, {
    data: { username, password },
    headers: { Accept: 'application/json' },
    failOnStatusCode: false,
  });
  const body = await res.text();
  if (res.status() !== 200) {
    throw new Error(`sign-in as ${username}: HTTP ${res.status()} ${body.slice(0, 300)}`);
  }
  return JSON.parse(body);
}

const shotCounters = new Map();

function safeName(s) {
  return String(s)
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80) || 'x';
}

/**
 * Full-page PNG to test-output/e2e/<journey>/<NN>-<name>.png (NN counts per journey).
 * @returns {Promise<string>} the file's path
 */
export async function shot(page, journey, name) {
  resetOutput();
  const dir = path.join(OUT_DIR, safeName(journey));
  const n = (shotCounters.get(dir) ?? 0) + 1;
  shotCounters.set(dir, n);
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${String(n).padStart(2, '0')}-${safeName(name)}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  if (current && current.name === journey) current.screenshots.push(path.relative(ROOT, file));
  return file;
}

/**
 * Wait until the page has called performance.mark('shezhi:ready') and return
 * { fcp, ready }: the first-contentful-paint and the ready mark, in ms since navigation
 * start (fcp is null if Chromium recorded none).
 */
export async function firstPaint(page, { timeout = 30_000 } = {}) {
  try {
    await page.waitForFunction(() => performance.getEntriesByName('shezhi:ready', 'mark').length > 0, null, {
      timeout,
      polling: 50,
    });
  } catch (e) {
    throw new Error(
      `firstPaint: ${page.url()} did not call performance.mark('shezhi:ready') within ${timeout} ms (${e.message.split('\n')[0]})`,
    );
  }
  return page.evaluate(() => {
    const fcp = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
    const ready = performance.getEntriesByName('shezhi:ready', 'mark')[0];
    const r = (x) => Math.round(x * 10) / 10;
    return { fcp: fcp ? r(fcp.startTime) : null, ready: r(ready.startTime) };
  });
}

// ---------------------------------------------------------------------------------------
// Journeys

const results = [];
let queue = Promise.resolve();
const startedAt = new Date();
let meta = {};

/** Extra facts for summary.json (e.g. base URL, server startup time). */
export function setMeta(more) {
  meta = { ...meta, ...more };
}

function selected(name) {
  const only = process.env.E2E_ONLY;
  if (!only) return true;
  return only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .some((s) => name.includes(s));
}

async function openPages() {
  if (!theBrowser) return [];
  return theBrowser.contexts().flatMap((c) => c.pages().filter((p) => !p.isClosed()));
}

async function runOne(name, fn) {
  if (!selected(name)) {
    results.push({ name, status: 'skipped', duration_ms: 0 });
    log(`- ${name}: skipped (E2E_ONLY)`);
    return results.at(-1);
  }
  const rec = { name, status: 'running', duration_ms: 0, error: null, pageErrors: [], screenshots: [] };
  results.push(rec);
  current = rec;
  const before = new Set(theBrowser ? theBrowser.contexts() : []);
  const timeoutMs = (Number(process.env.E2E_JOURNEY_TIMEOUT) || 300) * 1000;
  log(`▶ ${name}`);
  const t0 = performance.now();
  let timer;
  try {
    const helpers = { name, log, shot: (page, n) => shot(page, name, n) };
    await Promise.race([
      Promise.resolve().then(() => fn(helpers)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(deadlineError(`journey "${name}"`, timeoutMs)), timeoutMs);
      }),
    ]);
    if (rec.pageErrors.length) {
      throw new Error(
        `${rec.pageErrors.length} page error(s):\n` +
          rec.pageErrors.map((e) => `  ${e.page} ${e.kind}: ${e.text}`).join('\n'),
      );
    }
    rec.status = 'passed';
  } catch (err) {
    rec.status = 'failed';
    rec.error = err && err.stack ? err.stack : String(err);
    for (const page of await openPages()) {
      try {
        const file = await shot(page, name, `failure-${stateOf(page).label}`);
        log(`  failure screenshot: ${path.relative(ROOT, file)}`);
      } catch (e) {
        log(`  (no screenshot of ${stateOf(page).label}: ${e.message})`);
      }
    }
  } finally {
    clearTimeout(timer);
    rec.duration_ms = Math.round(performance.now() - t0);
    current = null;
    // Contexts the journey opened are closed, so journeys do not leak into each other.
    if (theBrowser) {
      for (const c of theBrowser.contexts()) if (!before.has(c)) await c.close().catch(() => {});
    }
  }
  if (rec.status === 'passed') log(`✔ ${name} (${(rec.duration_ms / 1000).toFixed(1)} s)`);
  else log(`✘ ${name} (${(rec.duration_ms / 1000).toFixed(1)} s)\n${indent(rec.error)}`);
  return rec;
}

function indent(s) {
  return String(s)
    .split('\n')
    .map((l) => '    ' + l)
    .join('\n');
}

/**
 * Queue a journey: `fn({ name, log, shot(page, name) })` runs after every journey queued
 * before it, whether or not the caller awaits. Never rejects.
 * @returns {Promise<{ name, status: 'passed'|'failed'|'skipped', duration_ms, error, pageErrors, screenshots }>}
 */
export function journey(name, fn) {
  const p = queue.then(() => runOne(name, fn));
  queue = p.catch(() => {});
  return p;
}

/** Wait for every queued journey. */
export function settled() {
  return queue;
}

/**
 * Print the summary, write test-output/e2e/summary.json, and return the exit code:
 * 0 if at least one journey ran and none failed, 1 otherwise.
 * `setupError` marks a failure outside any journey (server, browser, journeys.mjs).
 */
export async function finish(setupError = null) {
  resetOutput();
  await settled();
  const count = (s) => results.filter((r) => r.status === s).length;
  const failed = count('failed') + (setupError ? 1 : 0);
  const summary = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    ...meta,
    total: results.length,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    setup_error: setupError ? String(setupError.stack || setupError) : null,
    stray_page_errors: strayErrors,
    journeys: results.map((r) => ({
      name: r.name,
      status: r.status,
      duration_ms: r.duration_ms,
      error: r.error ?? null,
      page_errors: r.pageErrors ?? [],
      screenshots: r.screenshots ?? [],
    })),
  };
  await fsp.writeFile(path.join(OUT_DIR, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  log('──── summary ────');
  for (const r of results) {
    const mark = { passed: '✔', failed: '✘', skipped: '-' }[r.status] ?? '?';
    log(`${mark} ${r.status.padEnd(7)} ${(r.duration_ms / 1000).toFixed(1).padStart(6)} s  ${r.name}`);
  }
  if (setupError) log(`✘ setup: ${setupError.message ?? setupError}`);
  if (strayErrors.length) log(`(${strayErrors.length} page error(s) outside any journey; see summary.json)`);
  log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped → ${path.relative(ROOT, OUT_DIR)}/summary.json`);
  if (summary.passed + summary.failed === 0 && !setupError) {
    log('✘ no journey ran (is journeys.mjs empty, or does E2E_ONLY match nothing?)');
    return 1;
  }
  return failed > 0 ? 1 : 0;
}
