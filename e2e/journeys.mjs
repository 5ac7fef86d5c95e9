// The browser journeys: one appeal carried through the whole closed loop by the people who
// touch it, each on their own device and page, while the district command centre stays
// open on a wall screen and must show every step without a reload.
//
//   resident (phone) raises it → grid worker (phone) reports another and solves it on the
//   spot, and sends the appeal up → community accepts and sends it up → street blows the
//   whistle to two departments → the lead department signs, handles and feeds back → the
//   community verifies and closes → the resident rates it "not fixed" and it reopens.
//
// ctx: see harness.mjs. Every wait polls a condition; nothing sleeps.

const DISTRICT = '510104000000';
const STREET = '510104018000';
const GRID = '510104018001001';
const COMMUNITY = '510104018001';
const WAIT = 20_000; // the command centre refreshes its counters every 2 s

export async function run(ctx) {
  const { base, browser, journey, shot, signIn, newPhone, newDesktop, newWall, firstPaint, log } = ctx;
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { OUT_DIR } = await import('./harness.mjs');

  // A point inside the demo grid worker's grid, for the devices' location.
  const probe = await newDesktop(browser);
  const probePage = await probe.newPage();
  const cells = await (await probePage.request.get(`${base}/api/v1/regions/${GRID}/children`)).json();
  const [lon, lat] = cells.items[0].center; // inside the grid's first micro-grid
  // A real PNG to upload: a drawn "photo".
  await probePage.setContent('<body style="margin:0"><div style="width:640px;height:480px;background:linear-gradient(160deg,#223,#556 60%,#cb6)">'
    + '<p style="color:#fd6;font:64px sans-serif;padding:160px 40px">路灯 💡</p></div></body>');
  const photo = await probePage.screenshot({ type: 'png', clip: { x: 0, y: 0, width: 640, height: 480 } });
  await probe.close();
  const here = { geolocation: { longitude: lon, latitude: lat }, permissions: ['geolocation'] };

  // The command centre stays open for the whole run; contexts made here outlive journeys.
  const wall = await newWall(browser);
  const command = await wall.newPage();
  let number = null; // the appeal's number
  let caseId = null;

  const counters = () => command.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll('[data-metric]')].map((n) => [n.dataset.metric, Number(n.dataset.value || 0)])));
  const streetOpen = () => command.evaluate((code) => Number(document.querySelector(`path.region[data-code="${code}"]`)?.dataset.open ?? -1), STREET);
  /** Waits until the command centre shows `want` (metric → value), map included. */
  async function commandShows(want, label) {
    try {
      await command.waitForFunction(({ want }) => Object.entries(want).every(([k, v]) => {
        if (k === 'street') {
          return Number(document.querySelector('path.region[data-code="510104018000"]')?.dataset.open ?? -1) === v;
        }
        return Number(document.querySelector(`[data-metric="${k}"]`)?.dataset.value ?? NaN) === v;
      }), { want }, { timeout: WAIT, polling: 250 });
    } catch (e) {
      throw new Error(`command centre did not show ${label} ${JSON.stringify(want)}; it shows ${JSON.stringify({ ...(await counters()), street: await streetOpen() })}`);
    }
    await shot(command, 'command-centre', label);
  }
  let base0 = null;
  const expect = (d) => ({
    'today.intake': base0['today.intake'] + (d.intake || 0),
    open: base0.open + (d.open || 0),
    'today.closed': base0['today.closed'] + (d.closed || 0),
    street: base0.street + (d.open || 0),
  });

  await journey('command-centre-first-paint', async () => {
    await signIn(command, base, 'zhihui');
    await command.goto(`${base}/command#/${DISTRICT}`);
    const paint = await firstPaint(command);
    log(`command centre first paint: fcp ${paint.fcp} ms, data drawn ${paint.ready} ms`);
    await fs.writeFile(path.join(OUT_DIR, 'first-paint.json'), JSON.stringify({ page: '/command', viewport: '3840x2160', ...paint }, null, 2));
    const regions = await command.locator('path.region').count();
    if (regions < 10) throw new Error(`the district map drew ${regions} streets`);
    base0 = { ...(await counters()), street: await streetOpen() };
    if (base0.street < 0) throw new Error('the map has no street 510104018000');
    log('command centre baseline', base0);
    await shot(command, 'command-centre', 'baseline');
  });

  await journey('resident-raises-an-appeal', async () => {
    const phone = await newPhone(browser, here);
    const page = await phone.newPage();
    await signIn(page, base, 'jumin');
    await page.goto(`${base}/resident`);
    await page.locator('#appeal-map path.region').first().waitFor();
    await page.fill('#appeal-description', '小区门口三盏路灯不亮，晚上很黑，老人出门不安全');
    await page.locator('#suggestions .chip').first().waitFor();
    await page.locator('#suggestions .chip').first().click();
    await page.click('#use-location');
    await page.waitForFunction(() => document.querySelector('#place')?.textContent.includes('›'));
    await page.fill('#appeal-address', '锦江区示范小区大门口');
    await page.fill('#appeal-phone', '13800001234');
    await page.setInputFiles('#appeal-photo', { name: 'light.png', mimeType: 'image/png', buffer: photo });
    await shot(page, 'resident', 'form');
    await page.click('#appeal-submit');
    const result = page.locator('#appeal-result');
    await result.waitFor();
    number = await result.getAttribute('data-number');
    if (!/^SQ\d{13}$/.test(number || '')) throw new Error(`no case number: ${number}`);
    log('appeal', number);
    await page.locator(`#mine .case-item[data-number="${number}"]`).waitFor();
    await shot(page, 'resident', 'submitted');
    // Follow it by number and the phone's last four digits, as anyone could.
    await page.fill('#track-last4', '1234');
    await page.click('#track-form button[type=submit]');
    await page.locator('#track-stage').waitFor();
    await shot(page, 'resident', 'tracked');
    await commandShows(expect({ intake: 1, open: 1 }), 'after-appeal');
  });

  await journey('grid-worker-solves-one-and-sends-one-up', async () => {
    const phone = await newPhone(browser, here);
    const page = await phone.newPage();
    await signIn(page, base, 'wangge');
    await page.goto(`${base}/field`);
    await page.locator('#pick-map path.region').first().waitFor();
    await page.fill('#report-description', '楼道里有人飞线给电动车充电，存在火灾隐患');
    await page.locator('#suggestions .chip').first().waitFor();
    await page.click('#use-location');
    await page.waitForFunction(() => document.querySelector('#place')?.textContent.trim().length > 0);
    await page.setInputFiles('#report-photo', { name: 'stairs.png', mimeType: 'image/png', buffer: photo });
    await page.check('#report-solved');
    await page.fill('#report-solved-what', '已劝导住户拆除飞线，电动车推至集中充电棚');
    await shot(page, 'grid-worker', 'report');
    await page.click('#report-submit');
    await page.locator('#report-result').waitFor();
    await shot(page, 'grid-worker', 'solved-on-spot');
    await commandShows(expect({ intake: 2, open: 1, closed: 1 }), 'after-solve-on-spot');

    // The resident's appeal is in the grid's tasks: send it up to the community.
    const item = page.locator(`#tasks [data-number="${number}"]`);
    await item.waitFor();
    await item.locator('button[data-step="escalate"]').click();
    await item.locator('textarea').fill('路灯属市政设施，需社区协调城管处理');
    await item.locator('button[data-submit="escalate"]').click();
    await page.waitForFunction((n) => document.querySelector(`#tasks [data-number="${n}"]`)?.textContent.includes('社区'), number);
    await shot(page, 'grid-worker', 'sent-up');
  });

  /** Opens the case on the desk from an inbox and takes a step through its form. */
  async function step(page, who, name, fill) {
    const button = page.locator(`#actions button[data-step="${name}"]`);
    await button.waitFor({ timeout: WAIT });
    await button.click();
    await page.locator(`#step-form[data-step="${name}"]`).waitFor();
    if (fill) await fill(page);
    await page.click('#step-submit');
    await page.locator('.notice-ok').waitFor();
    await shot(page, who, name);
  }
  async function openFromBox(page, who, box) {
    // The inbox's own pages (asked for on arrival and on the tab) are held until the search
    // has drawn its answer, then let through late: the desk must keep showing the search.
    // (An unfiltered page arriving last once drew the inbox over it, and the case was not
    // on its first page.)
    const held = [];
    let release;
    const released = new Promise((r) => { release = r; });
    const inboxPage = (url) => url.pathname === '/api/v1/cases' && !url.searchParams.has('q');
    const hold = async (route) => { held.push(route.request()); await released; await route.continue(); };
    await page.route(inboxPage, hold);
    await page.goto(`${base}/desk`);
    await page.click(`#box-${box}`);
    await page.fill('#q', number); // the number finds it in a long inbox
    await page.click('#q ~ button[type=submit]');
    const item = page.locator(`#cases .case-item[data-number="${number}"]`);
    await item.waitFor({ timeout: WAIT });
    const late = held.map((r) => r.response());
    release();
    await Promise.all(late);
    await page.unroute(inboxPage, hold);
    // Two frames after the late answers: time for the page to have drawn them, had it.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    if (!(await item.isVisible())) throw new Error(`${who}: a late inbox page was drawn over the search for ${number}`);
    await shot(page, who, `inbox-${box}`);
    await item.click();
    await page.locator('#case-title').waitFor();
    caseId = Number(await item.getAttribute('data-id'));
  }
  const stageIs = (page, stage) => page.waitForFunction((s) => document.querySelector('#case-stage')?.dataset.stage === s, stage, { timeout: WAIT });

  await journey('community-accepts-and-sends-up', async () => {
    const page = await (await newDesktop(browser)).newPage();
    await signIn(page, base, 'shequ');
    // Words of the appeal, in another order, find it among all the community's cases: the
    // search cuts Chinese into words rather than matching the string as typed.
    await page.goto(`${base}/desk`);
    await page.click('#box-all');
    await page.fill('#q', '老人出门 三盏路灯');
    await page.click('#q ~ button[type=submit]');
    await page.locator(`#cases .case-item[data-number="${number}"]`).waitFor({ timeout: WAIT });
    await shot(page, 'community', 'search-words');
    await openFromBox(page, 'community', 'to_accept');
    await step(page, 'community', 'accept', (p) => p.fill('#step-note', '已核实，路灯确实损坏'));
    await stageIs(page, 'accepted');
    // What the public may read is written by staff, not taken from the appeal: Open311 then
    // shows it, with an address of regions and no word of the resident's own.
    const published = '小区门口三盏路灯损坏，已受理，正在协调维修';
    await step(page, 'community', 'publish', (p) => p.fill('#step-note', published));
    await page.waitForFunction((t) => document.querySelector('#case-public')?.textContent === t, published);
    const open311 = await page.evaluate(async (n) => (await fetch(`/open311/v2/requests/${n}.json`)).json(), number);
    if (open311[0]?.description !== published) throw new Error(`Open311 description: ${JSON.stringify(open311)}`);
    if (JSON.stringify(open311).includes('示范小区大门口')) throw new Error(`Open311 shows the reporter's address: ${JSON.stringify(open311)}`);
    await step(page, 'community', 'escalate', (p) => p.fill('#step-note', '需街道协调城管与供电部门'));
    await page.waitForFunction(() => document.querySelector('#case')?.textContent.includes('街道'));
  });

  await journey('street-blows-the-whistle', async () => {
    const page = await (await newDesktop(browser)).newPage();
    await signIn(page, base, 'jiedao');
    await openFromBox(page, 'street', 'to_dispatch');
    await step(page, 'street', 'whistle', async (p) => {
      await p.selectOption('#lead-unit', '510104-CG');
      await p.check('#assist-units input[value="510104-GD"]');
      await p.fill('#step-note', '街道吹哨：城管局主办，供电中心协办');
    });
    await stageIs(page, 'dispatched');
  });

  await journey('department-signs-handles-and-feeds-back', async () => {
    const page = await (await newDesktop(browser)).newPage();
    await signIn(page, base, 'chengguan');
    await openFromBox(page, 'department', 'to_sign');
    await step(page, 'department', 'sign', (p) => p.fill('#step-note', '已签收，安排维修班组'));
    await stageIs(page, 'handling');
    await step(page, 'department', 'comment', (p) => p.fill('#step-note', '维修班组已到场，更换灯具'));
    await step(page, 'department', 'feedback', async (p) => {
      await p.fill('#step-note', '三盏路灯已全部更换并恢复照明');
      await p.setInputFiles('#step-photos', { name: 'fixed.png', mimeType: 'image/png', buffer: photo });
    });
    await stageIs(page, 'fed_back');
  });

  await journey('community-verifies-and-closes', async () => {
    const page = await (await newDesktop(browser)).newPage();
    await signIn(page, base, 'shequ');
    await openFromBox(page, 'community', 'to_verify');
    await step(page, 'community', 'verify', (p) => p.fill('#step-note', '现场核实：路灯已恢复'));
    await stageIs(page, 'closed');
    await commandShows(expect({ intake: 2, open: 0, closed: 2 }), 'after-close');
  });

  await journey('resident-says-not-fixed-and-it-reopens', async () => {
    const phone = await newPhone(browser, here);
    const page = await phone.newPage();
    await signIn(page, base, 'jumin');
    await page.goto(`${base}/resident`);
    await page.click(`#mine .case-item[data-number="${number}"]`);
    await page.locator('#rate-form').waitFor();
    await page.check('#rate-form input[value="unsatisfied"]');
    await page.check('#rate-not-fixed');
    await page.fill('#rate-note', '只修好了两盏，还有一盏不亮');
    await shot(page, 'resident', 'rate');
    await page.click('#rate-submit');
    await page.waitForFunction((n) => document.querySelector(`#mine .case-item[data-number="${n}"] [data-stage]`)?.dataset.stage === 'handling', number);
    await shot(page, 'resident', 'reopened');
    // Reopened: open again, and the closing it undid stays counted as a closing today.
    await commandShows(expect({ intake: 2, open: 1, closed: 2 }), 'after-reopen');
    const c = await (await page.request.get(`${base}/api/v1/cases/${caseId}`)).json();
    if (c.case.stage !== 'handling' || c.reworks < 1) throw new Error(`after "not fixed": ${c.case.stage}, reworks ${c.reworks}`);
  });

  await journey('grid-worker-visits-households-offline', async () => {
    // The community makes a campaign for its households on its campaigns page, with a
    // checklist whose second question is asked only after a "yes" to the first.
    const staff = await (await newDesktop(browser)).newPage();
    await signIn(staff, base, 'shequ');
    await staff.goto(`${base}/campaigns#/new`);
    await staff.locator('#new-campaign').waitFor({ timeout: WAIT });
    await staff.fill('#new-title', '燃气安全入户排查');
    const question = (i) => staff.locator(`#questions li[data-question="${i}"]`);
    await question(0).locator('.q-text').fill('是否使用瓶装燃气');
    await staff.click('#add-question');
    await question(1).locator('.q-text').fill('气瓶数量');
    await question(1).locator('.q-type').selectOption('number');
    await question(1).locator('.q-min').fill('1');
    await question(1).locator('.q-max').fill('20');
    await question(1).locator('.q-when').selectOption({ label: '是否使用瓶装燃气' });
    await staff.click('#add-question');
    await question(2).locator('.q-text').fill('是否安装燃气报警器');
    await shot(staff, 'campaign-organiser', 'new-campaign');
    await staff.click('#new-submit');
    await staff.locator('#coverage').waitFor({ timeout: WAIT });
    const campaign = Number((/#\/c\/(\d+)/.exec(staff.url()) || [])[1]);
    const listed = (await (await staff.request.get(`${base}/api/v1/campaigns`)).json()).items.find((c) => c.id === campaign);
    if (!listed || listed.households < 2) throw new Error(`the new campaign: ${JSON.stringify(listed)}`);
    const qid = Object.fromEntries(listed.form.questions.map((q) => [q.text_zh, q.id]));
    const [gas, cylinders, alarm] = ['是否使用瓶装燃气', '气瓶数量', '是否安装燃气报警器'].map((k) => qid[k]);
    if (!gas || !cylinders || !alarm || listed.form.questions[1].when?.question !== gas) {
      throw new Error(`the checklist as made: ${JSON.stringify(listed.form)}`);
    }
    const total = await staff.evaluate(() => Number(document.querySelector('#coverage tr[data-region="510104018001"]')?.dataset.total));
    if (total !== listed.households) throw new Error(`the page shows ${total} households of ${listed.households}`);

    // The grid worker opens the page once with a signal, so that it is kept on the phone.
    const phone = await newPhone(browser, here);
    const page = await phone.newPage();
    ctx.allowErrors(page, /ERR_INTERNET_DISCONNECTED|Failed to load resource|Failed to fetch/);
    await signIn(page, base, 'wangge');
    await page.goto(`${base}/field`);
    await page.locator('#visit-tasks [data-record]').first().waitFor({ timeout: WAIT });
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, { timeout: WAIT });
    await page.reload();
    await page.locator('#visit-tasks [data-record]').first().waitFor({ timeout: WAIT });

    // No signal: the page still opens, and visits wait on the phone.
    await phone.setOffline(true);
    await page.reload();
    await page.locator('#visit-tasks [data-record]').first().waitFor({ timeout: WAIT });
    const items = page.locator('#visit-tasks li');
    const first = await items.nth(0).getAttribute('data-household');
    const second = await items.nth(1).getAttribute('data-household');
    await items.nth(0).locator('[data-record]').click();
    await page.check(`#visit-form [data-question="${gas}"] input[value="true"]`);
    await page.fill(`#visit-form [data-question="${cylinders}"] input`, '2');
    await page.locator(`#visit-form [data-question="${cylinders}"] input`).press('Tab');
    await page.check(`#visit-form [data-question="${alarm}"] input[value="false"]`);
    await page.fill('#visit-finding', '气瓶放在卧室，已提醒移至通风处');
    await page.click('#visit-save');
    await page.waitForFunction(() => document.querySelector('#sync-status')?.dataset.pending === '1', null, { timeout: WAIT });
    await page.locator(`#visit-tasks li[data-household="${second}"] [data-record]`).click();
    await page.check('#visit-form input[name="outcome"][value="nobody_home"]');
    await page.click('#visit-save');
    await page.waitForFunction(() => document.querySelector('#sync-status')?.dataset.pending === '2', null, { timeout: WAIT });
    await shot(page, 'grid-worker-offline', 'two-visits-waiting');

    // The signal comes back: the queue syncs (each visit once) and the list shows the result.
    await phone.setOffline(false);
    await page.click('#sync-now');
    await page.waitForFunction(() => document.querySelector('#sync-status')?.dataset.pending === '0', null, { timeout: WAIT });
    // Revisits come first in the list; households done go to its end (maybe past the first page).
    await page.waitForFunction(([a, b]) => {
      const done = document.querySelector(`#visit-tasks li[data-household="${a}"]`);
      return (!done || done.dataset.status === 'done')
        && document.querySelector('#visit-tasks li')?.dataset.household === b
        && document.querySelector(`#visit-tasks li[data-household="${b}"]`)?.dataset.status === 'revisit';
    }, [first, second], { timeout: WAIT });
    await shot(page, 'grid-worker-offline', 'synced');
    const cov = await (await staff.request.get(`${base}/api/v1/campaigns/${campaign}/coverage?region=510104018001`)).json();
    const c = cov.region.counts;
    if (c.done !== 1 || c.revisit !== 1 || c.findings !== 1 || c.visits !== 2) throw new Error(`coverage after sync: ${JSON.stringify(c)}`);
    // The organiser's open page shows the grid's progress on its own.
    await staff.waitForFunction((g) => document.querySelector(`#coverage tr[data-region="${g}"]`)?.dataset.done === '1', GRID, { timeout: WAIT });
    await shot(staff, 'campaign-organiser', 'coverage-after-sync');
    const book = await staff.request.get(`${base}${await staff.locator('#export-xlsx').getAttribute('href')}`);
    if (book.status() !== 200 || (await book.body()).subarray(0, 2).toString() !== 'PK') throw new Error(`the Excel export: HTTP ${book.status()}`);
    const csv = await staff.request.get(`${base}/api/v1/campaigns/${campaign}/coverage.csv?region=510104018001`);
    if (!(await csv.text()).includes('510104018001001,')) throw new Error('the coverage export lacks the grid');
    // The district's command centre shows the campaign's coverage of its streets.
    await command.reload();
    await command.waitForFunction(() => document.querySelector('#coverage tr[data-region="510104018000"]'), null, { timeout: WAIT });
    const xlsx = await command.request.get(`${base}${await command.locator('#coverage-xlsx').getAttribute('href')}`);
    const workbook = await xlsx.body();
    if (xlsx.status() !== 200 || workbook.subarray(0, 2).toString() !== 'PK') throw new Error(`the Excel export: HTTP ${xlsx.status()}`);
    // The district's evaluation report of the month, linked from the unit ranking: a
    // workbook (stored uncompressed) naming the district and its handling department.
    const report = await command.request.get(`${base}${await command.locator('#report-xlsx').getAttribute('href')}`);
    const sheet = await report.body();
    if (report.status() !== 200 || sheet.subarray(0, 2).toString() !== 'PK' || !sheet.includes(Buffer.from('按期结案率')) || !sheet.includes(Buffer.from('锦江区'))) {
      throw new Error(`the evaluation report: HTTP ${report.status()}`);
    }
    await shot(command, 'command-centre', 'campaign-coverage');
  });

  await journey('grid-worker-session-ended-offline-cache-cleared', async () => {
    // The grid worker opens the field page with a signal (the service worker keeps it and
    // its reads), then works without one.
    const phone = await newPhone(browser, here);
    const page = await phone.newPage();
    ctx.allowErrors(page, /ERR_INTERNET_DISCONNECTED|Failed to load resource|Failed to fetch/);
    const session = await signIn(page, base, 'wangge');
    await page.goto(`${base}/field`);
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, { timeout: WAIT });
    await page.reload();
    const shown = async () => page.evaluate(() => ({
      tasks: document.querySelectorAll('#tasks .case-item').length,
      people: document.querySelectorAll('#people li').length,
      visits: document.querySelectorAll('#visit-tasks li').length,
      text: document.querySelector('main')?.innerText ?? '',
    }));
    await page.locator('#visit-tasks [data-record]').first().waitFor({ timeout: WAIT });
    await page.locator('#tasks .case-item').first().waitFor({ timeout: WAIT });
    await page.locator('#people li').first().waitFor({ timeout: WAIT });
    const caseNumber = await page.locator('#tasks .case-item').first().getAttribute('data-number');
    const address = await page.locator('#visit-tasks li .title').first().innerText();
    await phone.setOffline(true);
    await page.reload();
    await page.locator('#visit-tasks [data-record]').first().waitFor({ timeout: WAIT });
    await page.locator('#tasks .case-item').first().waitFor({ timeout: WAIT });
    const before = await shown();
    if (!before.tasks || !before.people || !before.visits) throw new Error(`offline with a session: ${JSON.stringify({ ...before, text: undefined })}`);
    // The secret is never kept: no /api/v1/me (and its CSRF token) in any cache.
    const kept = await page.evaluate(async () => {
      const urls = [];
      for (const n of await caches.keys()) for (const r of await (await caches.open(n)).keys()) urls.push(new URL(r.url).pathname);
      return urls;
    });
    if (kept.some((u) => u === '/api/v1/me' || u.startsWith('/api/v1/session'))) throw new Error(`kept offline: ${kept.join(', ')}`);
    const household = await page.locator('#visit-tasks li').first().getAttribute('data-household');
    await page.locator('#visit-tasks li').first().locator('[data-record]').click();
    await page.check('#visit-form input[name="outcome"][value="nobody_home"]');
    await page.click('#visit-save');
    await page.waitForFunction(() => document.querySelector('#sync-status')?.dataset.pending === '1', null, { timeout: WAIT });
    await shot(page, 'session-ended', 'offline-visit-waiting');

    // The session ends on the server (the phone still holds its cookie).
    const other = await (await newDesktop(browser)).newPage();
    const cookie = (await phone.cookies(base)).find((c) => c.name === 'shezhi_session');
    const ended = await other.request.delete(`${base}/api/v1/session`, {
      headers: { Cookie: `shezhi_session=${cookie.value}`, 'X-CSRF-Token': session.csrf_token }, failOnStatusCode: false,
    });
    if (ended.status() !== 204) throw new Error(`ending the session: HTTP ${ended.status()}`);

    // The signal returns: the sync is refused (401) and the phone forgets what it kept, but
    // not the visit it has not sent.
    await phone.setOffline(false);
    ctx.allowErrors(page, /401/);
    await page.click('#sync-now');
    await page.locator('#error').waitFor({ timeout: WAIT });
    await page.waitForFunction(async () => {
      for (const n of await caches.keys()) {
        for (const r of await (await caches.open(n)).keys()) if (new URL(r.url).pathname.startsWith('/api/')) return false;
      }
      return localStorage.getItem('shezhi.offline.me') === null;
    }, null, { timeout: WAIT, polling: 100 });
    const queued = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('shezhi.visits.'))
      .flatMap((k) => JSON.parse(localStorage.getItem(k) || '[]')));
    if (queued.length !== 1 || String(queued[0].household_id) !== household) throw new Error(`the unsynced visit: ${JSON.stringify(queued)}`);
    await shot(page, 'session-ended', 'sync-refused');

    // Offline again: a reload shows no key people, tasks or cases.
    await phone.setOffline(true);
    await page.reload().catch(() => {});
    await page.locator('#error').waitFor({ state: 'visible', timeout: WAIT }); // "cannot reach the server"
    const after = await shown();
    if (after.tasks || after.people || after.visits || (caseNumber && after.text.includes(caseNumber)) || after.text.includes(address)) {
      throw new Error(`offline after the session ended: ${JSON.stringify({ ...after, text: after.text.slice(0, 300) })}`);
    }
    await shot(page, 'session-ended', 'offline-reload-empty');

    // Signed in again with a signal, the kept visit syncs.
    await phone.setOffline(false);
    await signIn(page, base, 'wangge');
    await page.goto(`${base}/field`);
    await page.waitForFunction(() => document.querySelector('#sync-status')?.dataset.pending === '0', null, { timeout: WAIT });
    if (await page.locator('#campaign p.error').count()) throw new Error(`the kept visit was refused: ${await page.locator('#campaign p.error').first().innerText()}`);
    await shot(page, 'session-ended', 'synced-after-sign-in');
  });

  await journey('sign-in-next-stays-on-this-site', async () => {
    const origin = new URL(base).origin;
    // Each user lands on their role's page unless `next` names a page of this site.
    for (const [next, user, want] of [
      ['/%09/example.org/', 'zhihui', '/command'], ['/%5Cexample.org/', 'jiedao', '/desk'],
      ['//example.org/', 'zhihui', '/command'], ['https://example.org/', 'jiedao', '/desk'],
      ['/%0A/example.org', 'jiedao', '/desk'], ['/command', 'jiedao', '/command'],
    ]) {
      const page = await (await newDesktop(browser)).newPage();
      const start = `${base}/?next=${next}`;
      await page.goto(start);
      await page.locator('#sign-in-form').waitFor({ timeout: WAIT });
      await page.fill('#username', user);
      await page.fill('#password', ctx.DEMO_PASSWORD);
      await Promise.all([
        page.waitForURL((u) => u.origin !== origin || u.pathname !== '/', { timeout: WAIT, waitUntil: 'commit' }),
        page.click('#sign-in-form button[type=submit]'),
      ]);
      const landed = new URL(page.url());
      if (landed.origin !== origin || landed.pathname !== want) throw new Error(`?next=${next} landed on ${page.url()}, not ${want}`);
      log(`?next=${next} → ${landed.pathname}`);
      // Leave the page idle rather than close it: closing a live command centre once hung
      // the journey until its deadline in a full run.
      await page.goto('about:blank', { timeout: WAIT });
    }
  });

  await journey('district-directive-signed-and-reported-level-by-level', async () => {
    // The district command issues a directive to its streets and communities on the page.
    const issuer = await (await newDesktop(browser)).newPage();
    await signIn(issuer, base, 'zhihui');
    await issuer.goto(`${base}/directives`);
    await issuer.click('#compose');
    await issuer.fill('#issue-title', '关于开展燃气安全隐患排查的紧急通知');
    await issuer.fill('#issue-content', '各街道、社区：即日起对辖区瓶装燃气用户逐户排查，三日内反馈落实情况。');
    await issuer.setInputFiles('#issue-files', { name: '排查方案.png', mimeType: 'image/png', buffer: photo });
    await shot(issuer, 'directive-issuer', 'compose');
    await issuer.click('#issue-submit');
    await issuer.locator('#directive-title').waitFor({ timeout: WAIT });
    const id = Number((/#\/d\/(\d+)/.exec(issuer.url()) || [])[1]);
    if (!id) throw new Error(`no directive id in ${issuer.url()}`);
    const row = (level) => issuer.evaluate((l) => {
      const r = document.querySelector(`#progress tr[data-level="${l}"]`);
      return r ? { recipients: Number(r.dataset.recipients), signed: Number(r.dataset.signed), reported: Number(r.dataset.reported) } : null;
    }, level);
    const streets = await row('street');
    const communities = await row('community');
    if (!streets || streets.recipients < 10 || streets.signed !== 0) throw new Error(`street progress at issue: ${JSON.stringify(streets)}`);
    if (!communities || communities.recipients < streets.recipients) throw new Error(`community progress at issue: ${JSON.stringify(communities)}`);
    if (await row('grid')) throw new Error('grids were not chosen but received it');
    await issuer.locator(`#pending-unsigned li[data-code="${STREET}"]`).waitFor({ timeout: WAIT });
    // The attachment downloads as uploaded.
    const file = await issuer.request.get(`${base}${await issuer.locator('#attachments a').first().getAttribute('href')}`);
    if (file.status() !== 200 || Buffer.compare(await file.body(), photo) !== 0) throw new Error(`attachment: HTTP ${file.status()}`);
    await shot(issuer, 'directive-issuer', 'issued');

    /** Waits until the issuer's open page (never reloaded) shows `want` for `level`. */
    async function issuerShows(level, want, what) {
      try {
        await issuer.waitForFunction(({ level, want }) => {
          const r = document.querySelector(`#progress tr[data-level="${level}"]`);
          return r && Object.entries(want).every(([k, v]) => Number(r.dataset[k]) === v);
        }, { level, want }, { timeout: WAIT, polling: 250 });
      } catch {
        throw new Error(`the issuer's page did not show ${what}: ${level} ${JSON.stringify(want)}, it shows ${JSON.stringify(await row(level))}`);
      }
      await shot(issuer, 'directive-issuer', what);
    }

    // The street signs for it and reports back.
    const street = await (await newDesktop(browser)).newPage();
    await signIn(street, base, 'jiedao');
    await street.goto(`${base}/directives`);
    await street.locator(`#directive-list li[data-id="${id}"] [data-answer="stateUnsigned"]`).waitFor({ timeout: WAIT });
    await street.click(`#directive-list li[data-id="${id}"] button`);
    const mine = `#my-answers [data-region="${STREET}"]`;
    await street.locator(`${mine}[data-state="stateUnsigned"]`).waitFor({ timeout: WAIT });
    await street.click(`${mine} [data-sign]`);
    await street.locator(`${mine}[data-state="stateSigned"]`).waitFor({ timeout: WAIT });
    await issuerShows('street', { signed: 1, reported: 0 }, 'street-signed');
    await street.fill(`${mine} textarea`, '已部署辖区各社区逐户排查，已排查 1,204 户，发现隐患 7 处，已整改 5 处。');
    await street.click(`${mine} [data-send-report]`);
    await street.locator(`${mine}[data-state="stateReported"]`).waitFor({ timeout: WAIT });
    await shot(street, 'directive-street', 'reported');
    await issuerShows('street', { signed: 1, reported: 1 }, 'street-reported');
    await issuer.waitForFunction((c) => !document.querySelector(`#pending-unsigned li[data-code="${c}"], #pending-unreported li[data-code="${c}"]`), STREET, { timeout: WAIT });

    // A community signs; it stays on the issuer's list of those that have not reported.
    const community = await (await newDesktop(browser)).newPage();
    await signIn(community, base, 'shequ');
    await community.goto(`${base}/directives#/d/${id}`);
    const ours = `#my-answers [data-region="${COMMUNITY}"]`;
    await community.locator(`${ours}[data-state="stateUnsigned"]`).waitFor({ timeout: WAIT });
    await community.click(`${ours} [data-sign]`);
    await community.locator(`${ours}[data-state="stateSigned"]`).waitFor({ timeout: WAIT });
    await issuerShows('community', { signed: 1, reported: 0 }, 'community-signed');
    await issuer.locator(`#pending-unreported li[data-code="${COMMUNITY}"]`).waitFor({ timeout: WAIT });

    // The issuer amends it: everyone must sign again, and the street's open page shows it.
    await issuer.fill('#amend-content', '各街道、社区：排查范围扩大至餐饮商户，五日内反馈。');
    await issuer.click('#amend-submit');
    await issuer.waitForFunction(() => document.querySelector('#directive-status')?.dataset.version === '2', null, { timeout: WAIT });
    await issuerShows('street', { signed: 0, reported: 0 }, 'amended');
    await issuer.locator(`#pending-unsigned li[data-code="${STREET}"]`).waitFor({ timeout: WAIT });
    await street.locator(`${mine}[data-state="stateUnsigned"]`).waitFor({ timeout: WAIT });
    await shot(street, 'directive-street', 'amended-to-sign-again');
  });

  await journey('community-browses-its-households-on-the-map', async () => {
    // A visitor who is not signed in sees the territory but not the register.
    const visitor = await (await newDesktop(browser)).newPage();
    await visitor.goto(`${base}/territory#/${COMMUNITY}`);
    await visitor.locator(`#households[data-region="${COMMUNITY}"]`).waitFor({ state: 'attached', timeout: WAIT });
    if (await visitor.locator('#households').isVisible()) throw new Error('the register shown to a visitor who is not signed in');
    // The community's staff see its registered households, page by page.
    const page = await (await newDesktop(browser)).newPage();
    await signIn(page, base, 'shequ');
    await page.goto(`${base}/territory#/${COMMUNITY}`);
    await page.locator('#household-list li').first().waitFor({ timeout: WAIT });
    const read = async (cursor) => (await page.request.get(`${base}/api/v1/regions/${COMMUNITY}/households?limit=20`
      + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''))).json();
    const ids = () => page.locator('#household-list li').evaluateAll((li) => li.map((n) => Number(n.dataset.household)));
    const first = await read(null);
    const want = first.items.map((h) => h.id);
    if (JSON.stringify(await ids()) !== JSON.stringify(want)) throw new Error(`first page: ${JSON.stringify(await ids())} != ${JSON.stringify(want)}`);
    const text = await page.locator('#household-list li').first().innerText();
    if (!text.includes(first.items[0].address)) throw new Error(`the first household reads ${text}`);
    if (!first.next_cursor) throw new Error(`the demo community has only ${first.items.length} households: paging not exercised`);
    await page.click('#households-more');
    const second = await read(first.next_cursor);
    const all = want.concat(second.items.map((h) => h.id));
    await page.waitForFunction((n) => document.querySelectorAll('#household-list li').length === n, all.length, { timeout: WAIT });
    if (JSON.stringify(await ids()) !== JSON.stringify(all)) throw new Error('second page: households out of order or repeated');
    await shot(page, 'territory', 'community-households');
    log(`territory: ${all.length} households listed over two pages`);
  });

  await journey('english-and-keyboard', async () => {
    const page = await (await newDesktop(browser)).newPage();
    await page.goto(`${base}/`);
    await page.click('#lang-btn');
    await page.waitForFunction(() => document.documentElement.lang === 'en' && document.querySelector('#sign-in-form h2')?.textContent.includes('Sign in'));
    // Sign in with the keyboard alone.
    await page.focus('#username');
    await page.keyboard.type('zhihui');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ctx.DEMO_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/command/);
    await page.locator('[data-metric="open"]').waitFor();
    const text = await page.locator('#counters').innerText();
    if (!/Open/.test(text)) throw new Error(`counters not in English: ${text}`);
    // Drill down into the street from the keyboard.
    await page.focus(`path.region[data-code="${STREET}"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction((s) => location.hash === `#/${s}`, STREET);
    await page.locator('path.region').first().waitFor();
    await shot(page, 'english', 'street');
    await page.click('#lang-btn'); // leave Chinese for the next visitor of this profile
  });
}
