// Runs the browser journeys: the demo server, then chromium, then journeys.mjs, then the
// summary. Server and browser are stopped whatever happens. Exit code 0 only if every
// journey passed. See scripts/e2e.sh for the setup around it.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as h from './harness.mjs';

let server = null;
let browser = null;
let cleaning = null;

function cleanup() {
  cleaning ??= (async () => {
    if (browser) await browser.close().catch((e) => h.log(`browser: close failed: ${e.message}`));
    // Also a server still starting up (server is null until it answers).
    await h.stopAllServers().catch((e) => h.log(`server: stop failed: ${e.message}`));
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    h.log(`${sig}: stopping`);
    await cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

h.resetOutput();
let setupError = null;
try {
  server = await h.startServer();
  h.setMeta({ base: server.base, server_startup_ms: server.startupMs, external_server: server.external });
  browser = await h.launchBrowser();
  h.setMeta({ chromium: browser.version() });
  // E2E_JOURNEYS=path/to/other.mjs runs another set of journeys (same run(ctx) contract).
  const journeysUrl = process.env.E2E_JOURNEYS
    ? pathToFileURL(path.resolve(process.env.E2E_JOURNEYS)).href
    : new URL('./journeys.mjs', import.meta.url).href;
  const { run } = await import(journeysUrl);
  await run({
    base: server.base,
    browser,
    journey: h.journey,
    shot: h.shot,
    signIn: h.signIn,
    newPhone: h.newPhone,
    newDesktop: h.newDesktop,
    newWall: h.newWall,
    firstPaint: h.firstPaint,
    allowErrors: h.allowErrors,
    pageErrors: h.pageErrors,
    track: h.track,
    log: h.log,
    DEMO_PASSWORD: h.DEMO_PASSWORD,
    DEMO_ACCOUNTS: h.DEMO_ACCOUNTS,
  });
  await h.settled();
} catch (e) {
  setupError = e;
  h.log(`setup failed: ${e && e.stack ? e.stack : e}`);
} finally {
  await h.settled();
  await cleanup();
}
process.exitCode = await h.finish(setupError);
