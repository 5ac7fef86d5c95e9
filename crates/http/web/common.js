// 社智在线 · what every page shares: strings in two languages, the API client with the
// session's CSRF token, the top bar, the error banner, small DOM helpers, and the map drawn
// from the server's own GeoJSON (no tiles, nothing fetched from elsewhere).

const STRINGS = {
  zh: {
    brand: '社智在线', home: '首页', command: '指挥中心', desk: '案件工作台', directives: '指令', campaigns: '入户排查', field: '网格员', resident: '居民诉求',
    territory: '区域与户籍', signOut: '退出', signIn: '登录', switchLang: '切换语言：中文 / English',
    dismiss: '关闭', loading: '加载中…', none: '无', more: '加载更多', back: '返回', save: '提交', cancel: '取消',
    networkError: '无法连接服务器，请检查网络后重试。', httpError: '服务器返回错误（HTTP {status}）。',
    badResponse: '服务器响应格式无效。', unexpected: '页面出现意外错误，请刷新后重试。',
    mapLabel: '地图', pickHint: '点击地图选择位置', updated: '更新于 {time}',
    due: '剩余 {left}', overdueBy: '已超时 {left}', noClock: '未计时', minutes: '{n} 分钟', hours: '{n} 小时', days: '{n} 天',
    stages: {
      reported: '待受理', accepted: '已立案待派遣', dispatched: '已派遣待签收', handling: '处置中',
      pause_requested: '缓办待审批', paused: '缓办中', fed_back: '已反馈待核实', closed: '已结案',
      rejected: '不予受理', merged: '已并案',
    },
    steps: {
      report: '上报', accept: '受理立案', reject: '不予受理', escalate: '呼叫上级', dispatch: '派遣', whistle: '吹哨',
      sign: '签收', check_in: '报到', return: '退单', feedback: '处置反馈', verify: '核实结案', rework: '返工',
      request_pause: '申请缓办', approve_pause: '批准缓办', deny_pause: '驳回缓办', resume: '恢复办理',
      supervise: '督办', rate: '评价', merge: '并案', solve_on_spot: '自行处置', warn: '临期预警', overdue: '超期',
      comment: '备注', publish: '公开说明',
    },
    levels: { grid: '网格', community: '社区', street: '街道', district: '区县', city: '市', micro_grid: '微网格' },
    sources: {
      resident: '居民', patrol: '网格巡查', hotline: '12345热线', clue: '线索', sensor: '感知设备', staff: '工作人员',
      campaign: '入户排查',
    },
    priorities: { urgent: '紧急', high: '较急', normal: '一般', low: '低' },
    satisfaction: { satisfied: '满意', basic: '基本满意', unsatisfied: '不满意' },
    capacities: {
      reporter: '诉求人', level_staff: '当前层级', supervisor: '上级', lead_unit: '主办单位', assist_unit: '协办单位',
      grid_worker: '本网格网格员', local_community: '属地社区', system: '系统',
    },
    tags: {
      elderly_alone: '独居老人', over_80: '高龄老人', disabled: '残疾人', low_income: '低保对象', left_behind_child: '留守儿童',
      severe_mental_disorder: '严重精神障碍患者', community_correction: '社区矫正对象', veteran: '退役军人', pregnant: '孕产妇',
    },
    roles: {
      resident: '居民', grid_worker: '网格员', community_staff: '社区工作者', street_staff: '街道工作人员',
      unit_staff: '部门工作人员', command: '指挥中心', mediator: '调解员', admin: '管理员',
    },
  },
  en: {
    brand: 'shezhi', home: 'Home', command: 'Command centre', desk: 'Case desk', directives: 'Directives', campaigns: 'Campaigns', field: 'Grid worker', resident: 'Residents',
    territory: 'Territory', signOut: 'Sign out', signIn: 'Sign in', switchLang: 'Switch language: 中文 / English',
    dismiss: 'Dismiss', loading: 'Loading…', none: 'None', more: 'Load more', back: 'Back', save: 'Submit', cancel: 'Cancel',
    networkError: 'Cannot reach the server. Check the network and try again.',
    httpError: 'The server returned an error (HTTP {status}).', badResponse: 'The server sent an invalid response.',
    unexpected: 'Something went wrong. Reload the page and try again.',
    mapLabel: 'Map', pickHint: 'Click the map to pick the place', updated: 'Updated {time}',
    due: '{left} left', overdueBy: 'Overdue by {left}', noClock: 'No clock', minutes: '{n} min', hours: '{n} h', days: '{n} d',
    stages: {
      reported: 'Reported', accepted: 'Accepted', dispatched: 'Dispatched', handling: 'Handling',
      pause_requested: 'Pause requested', paused: 'Paused', fed_back: 'Fed back', closed: 'Closed',
      rejected: 'Rejected', merged: 'Merged',
    },
    steps: {
      report: 'Report', accept: 'Accept', reject: 'Reject', escalate: 'Send up', dispatch: 'Dispatch', whistle: 'Blow the whistle',
      sign: 'Sign', check_in: 'Check in', return: 'Return', feedback: 'Feed back', verify: 'Verify and close', rework: 'Rework',
      request_pause: 'Request pause', approve_pause: 'Approve pause', deny_pause: 'Deny pause', resume: 'Resume',
      supervise: 'Supervise', rate: 'Rate', merge: 'Merge', solve_on_spot: 'Solved on the spot', warn: 'Deadline near',
      overdue: 'Overdue', comment: 'Comment', publish: 'Public description',
    },
    levels: { grid: 'Grid', community: 'Community', street: 'Street', district: 'District', city: 'City', micro_grid: 'Micro-grid' },
    sources: {
      resident: 'Resident', patrol: 'Patrol', hotline: '12345 hotline', clue: 'Clue', sensor: 'Sensor', staff: 'Staff',
      campaign: 'Household campaign',
    },
    priorities: { urgent: 'Urgent', high: 'High', normal: 'Normal', low: 'Low' },
    satisfaction: { satisfied: 'Satisfied', basic: 'Basically satisfied', unsatisfied: 'Unsatisfied' },
    capacities: {
      reporter: 'Reporter', level_staff: 'Current level', supervisor: 'Supervisor', lead_unit: 'Lead unit',
      assist_unit: 'Assisting unit', grid_worker: 'Grid worker here', local_community: 'Community of the place', system: 'System',
    },
    tags: {
      elderly_alone: 'Elderly living alone', over_80: 'Over 80', disabled: 'Disabled', low_income: 'Low income (dibao)',
      left_behind_child: 'Left-behind child', severe_mental_disorder: 'Severe mental disorder',
      community_correction: 'Community correction', veteran: 'Veteran', pregnant: 'Pregnant',
    },
    roles: {
      resident: 'Resident', grid_worker: 'Grid worker', community_staff: 'Community staff', street_staff: 'Street staff',
      unit_staff: 'Department staff', command: 'Command', mediator: 'Mediator', admin: 'Administrator',
    },
  },
};

let current = (() => {
  try { return localStorage.getItem('shezhi.lang') === 'en' ? 'en' : 'zh'; } catch { return 'zh'; }
})();
const listeners = [];

/** Adds a page's own strings to both languages. */
export function addStrings(more) {
  for (const l of ['zh', 'en']) Object.assign(STRINGS[l], more[l]);
}
export const lang = () => current;
export const format = (s, vars = {}) => String(s).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');
/** A string of the current language; `key` may be `group.value` for labels. */
export function t(key, vars) {
  const [a, b] = key.split('.', 2);
  const v = b === undefined ? STRINGS[current][a] : STRINGS[current][a]?.[b];
  return v === undefined ? (b ?? a) : format(v, vars);
}
/** A label of an enumerated value, falling back to the raw value. */
export const label = (group, value) => (value == null ? '—' : STRINGS[current][group]?.[value] ?? value);
export const both = (key, vars) => ({ zh: format(STRINGS.zh[key], vars), en: format(STRINGS.en[key], vars) });

export function setLang(l) {
  current = l;
  try { localStorage.setItem('shezhi.lang', l); } catch { /* private mode */ }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  for (const f of listeners) f();
}
export const onLang = (f) => listeners.push(f);

// ---------- DOM ----------
/** `el('button', {class: 'btn', onclick: f, 'aria-label': …}, …children)`; null attrs are skipped. */
export function el(tag, attrs = {}, ...kids) {
  return build(document.createElement(tag), attrs, kids);
}
const SVG_NS = 'http://www.w3.org/2000/svg';
export const svg = (tag, attrs = {}, ...kids) => build(document.createElementNS(SVG_NS, tag), attrs, kids);
function build(node, attrs, kids) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    // Through the CSSOM, which the Content-Security-Policy allows (a `style` attribute it does not).
    else if (k === 'style') node.style.cssText = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat(Infinity)) if (k != null && k !== false) node.append(k);
  return node;
}
export const $ = (id) => document.getElementById(id);
export function mount(node, ...kids) { node.replaceChildren(...kids.flat(Infinity).filter((k) => k != null && k !== false)); }

// ---------- formatting ----------
export function num(v, digits = 0) {
  if (v == null) return '—';
  return new Intl.NumberFormat(current === 'zh' ? 'zh-CN' : 'en', { maximumFractionDigits: digits }).format(v);
}
export const pct = (v) => (v == null ? '—' : `${num(v * 100, 1)}%`);
export function time(ms) {
  if (ms == null) return '—';
  return new Intl.DateTimeFormat(current === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(new Date(ms));
}
function span(ms) {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m < 120) return t('minutes', { n: m });
  const h = Math.round(m / 60);
  return h < 48 ? t('hours', { n: h }) : t('days', { n: Math.round(h / 24) });
}
/** The clock of a stage: "3 h left" or "overdue by 2 d", from the deadline and now. */
export function clock(dueMs, now = Date.now()) {
  if (dueMs == null) return { text: t('noClock'), state: 'none' };
  const left = dueMs - now;
  if (left < 0) return { text: t('overdueBy', { left: span(left) }), state: 'late' };
  return { text: t('due', { left: span(left) }), state: left < 4 * 3600000 ? 'near' : 'ok' };
}

// ---------- API ----------
export class ApiError extends Error {
  constructor(msg, code, status) { super(msg.en); this.msg = msg; this.code = code; this.status = status; }
}
const session = { me: null, csrf: null, offline: false };

async function request(method, path, body, headers = {}) {
  // Opened offline, the page knows who signed in on this phone but not the session's CSRF
  // token (never kept): ask the server before the first change.
  if (method !== 'GET' && session.offline) { session.me = null; await me(); }
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) h['X-CSRF-Token'] = session.csrf;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(both('networkError'), 'network', 0);
  }
  // The server says nobody is signed in: what this phone kept of the session goes.
  if (res.status === 401 && path !== '/api/v1/session') {
    session.me = null; session.csrf = null;
    await forgetOffline();
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* reported below */ }
  if (res.ok && data) return data;
  const e = data && data.error;
  if (e && (e.zh || e.en)) throw new ApiError({ zh: e.zh || e.en, en: e.en || e.zh }, e.code, res.status);
  throw new ApiError(both(res.ok ? 'badResponse' : 'httpError', { status: res.status }), 'http', res.status);
}
export const api = {
  get: (path) => request('GET', path),
  post: (path, body, headers) => request('POST', path, body ?? {}, headers),
  del: (path) => request('DELETE', path),
};

// ---------- offline ----------
// For pages opened without a signal (the field page), the phone keeps who signed in (id,
// name, roles: never the CSRF token) for at most a session's length; the service worker
// keeps the reads. Both go when the server says the session is gone (a 401, or `/api/v1/me`
// answering nobody) and on sign-out. Visits recorded offline and not yet synced stay: they
// are the worker's work and sync after the next sign-in.
const KEPT_ME = 'shezhi.offline.me';
export const OFFLINE_MAX_AGE_MS = 12 * 3600 * 1000;
function keepMe(m) {
  try {
    localStorage.setItem(KEPT_ME, JSON.stringify({ user_id: m.user_id, name: m.name, bindings: m.bindings, kept_at: Date.now() }));
  } catch { /* private mode */ }
}
function keptMe() {
  try {
    const m = JSON.parse(localStorage.getItem(KEPT_ME) || 'null');
    if (m && m.user_id && Date.now() - m.kept_at <= OFFLINE_MAX_AGE_MS) return { ...m, csrf_token: null };
    localStorage.removeItem(KEPT_ME);
  } catch { /* nothing kept */ }
  return null;
}
/** Forgets what this phone kept of the session: who signed in and every kept read. */
export async function forgetOffline() {
  try { localStorage.removeItem(KEPT_ME); } catch { /* private mode */ }
  if (!window.caches) return;
  try {
    for (const name of await caches.keys()) {
      if (!name.startsWith('shezhi-')) continue;
      const cache = await caches.open(name);
      for (const req of await cache.keys()) {
        if (new URL(req.url).pathname.startsWith('/api/')) await cache.delete(req);
      }
    }
  } catch { /* storage unavailable */ }
  navigator.serviceWorker?.controller?.postMessage({ type: 'forget' });
}

/** Who is signed in (`{user_id, name, bindings}`; user_id null when nobody is). Without a
 *  signal, who signed in on this phone (kept at most OFFLINE_MAX_AGE_MS), with no CSRF token. */
export async function me() {
  if (!session.me) {
    let m;
    try {
      m = await api.get('/api/v1/me');
    } catch (e) {
      const kept = e instanceof ApiError && e.code === 'network' ? keptMe() : null;
      if (!kept) throw e;
      Object.assign(session, { me: kept, csrf: null, offline: true });
      return kept;
    }
    Object.assign(session, { me: m, csrf: m.csrf_token || null, offline: false });
    if (m.user_id) keepMe(m);
    else await forgetOffline();
  }
  return session.me;
}
export async function signIn(username, password) {
  const s = await api.post('/api/v1/session', { username, password });
  session.csrf = s.csrf_token;
  session.me = null;
  return me();
}
export async function signOut() {
  try { await api.del('/api/v1/session'); } finally {
    session.me = null; session.csrf = null;
    // What the field page kept for offline use leaves with the user (unsynced visits stay).
    await forgetOffline();
  }
}
export const roles = (m) => new Set((m?.bindings || []).map((b) => b.role));
export const scopesOf = (m, ...rs) => (m?.bindings || []).filter((b) => rs.includes(b.role) && b.scope).map((b) => b.scope);

// ---------- errors ----------
export function errorText(err) {
  if (err instanceof ApiError) return err.msg[current] || err.msg.zh;
  console.error(err);
  return both('unexpected')[current];
}
export function showError(err) {
  const box = $('error');
  if (!box) return;
  mount(box, el('span', { class: 'error-text' }, errorText(err)),
    el('button', { type: 'button', class: 'btn btn-small', onclick: () => { box.hidden = true; } }, t('dismiss')));
  box.hidden = false;
}

// ---------- top bar ----------
const PAGES = [
  ['command', '/command', ['command', 'admin', 'street_staff']],
  ['desk', '/desk', ['community_staff', 'street_staff', 'unit_staff', 'command', 'admin', 'mediator']],
  ['directives', '/directives', ['grid_worker', 'community_staff', 'street_staff', 'command']],
  ['campaigns', '/campaigns', ['community_staff', 'street_staff', 'command']],
  ['field', '/field', ['grid_worker']],
  ['resident', '/resident', null],
  ['territory', '/territory', null],
];

/** Draws the top bar: brand, the pages the user's roles open, language switch, sign-out. */
export function topBar(page, m, rerender) {
  const bar = $('top');
  const rs = roles(m);
  const render = () => {
    const links = PAGES.filter(([, , need]) => !need || need.some((r) => rs.has(r))).map(([key, href]) =>
      el('a', { href, class: key === page ? 'nav-link active' : 'nav-link', 'aria-current': key === page ? 'page' : null }, t(key)));
    const user = m?.user_id
      ? [el('span', { class: 'user-name' }, m.name || ''),
        el('button', { type: 'button', class: 'btn btn-small', id: 'sign-out', onclick: async () => {
          await signOut().catch(() => {});
          location.href = '/';
        } }, t('signOut'))]
      : [el('a', { href: `/?next=${encodeURIComponent(location.pathname)}`, class: 'btn btn-small', id: 'sign-in-link' }, t('signIn'))];
    mount(bar,
      el('a', { href: '/', class: 'brand' }, t('brand')),
      el('nav', { class: 'nav', 'aria-label': t('brand') }, links),
      el('div', { class: 'top-right' },
        el('button', { type: 'button', class: 'btn btn-small lang-btn', id: 'lang-btn', 'aria-label': t('switchLang'),
          onclick: () => setLang(current === 'zh' ? 'en' : 'zh') }, current === 'zh' ? 'EN' : '中'),
        user));
    document.title = `${t(page)} · ${t('brand')}`;
  };
  render();
  onLang(() => { render(); rerender?.(); });
}

/** Sends a visitor who is not signed in (or lacks every needed role) to the sign-in page. */
export async function requireRole(...need) {
  const m = await me();
  if (!m.user_id || (need.length && !need.some((r) => roles(m).has(r)))) {
    location.replace(`/?next=${encodeURIComponent(location.pathname + location.hash)}`);
    return new Promise(() => {}); // the page is leaving
  }
  return m;
}

// ---------- map ----------
function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

/** A projection fitted to the features' bounds in a width × height box: longitudes scaled
 *  by cos(latitude) so that shapes keep their proportions at Chengdu's latitude. */
export function fit(features, width, height, extra = []) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  const see = ([x, y]) => { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); };
  for (const f of features) for (const r of rings(f.geometry)) r.forEach(see);
  extra.forEach(see);
  if (!Number.isFinite(x0)) return null;
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  const w = Math.max((x1 - x0) * k, 1e-9), h = Math.max(y1 - y0, 1e-9);
  const s = Math.min(width / w, height / h) * 0.94;
  const ox = (width - w * s) / 2, oy = (height - h * s) / 2;
  const to = ([x, y]) => [ox + (x - x0) * k * s, oy + (y1 - y) * s];
  const from = ([px, py]) => [x0 + (px - ox) / (k * s), y1 - (py - oy) / s];
  return { to, from };
}
export function pathOf(geometry, proj) {
  return rings(geometry).map((r) => 'M' + r.map((p) => proj.to(p).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z').join('');
}
function centroid(geometry, proj) {
  // The centre of the largest ring's box: good enough for a label.
  let best = null, area = -1;
  for (const r of rings(geometry)) {
    const pts = r.map(proj.to);
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const a = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    if (a > area) { area = a; best = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2]; }
  }
  return best;
}

/**
 * Draws features into an <svg>: `fill(code)` colours each, `title(code)` names it for
 * screen readers and tooltips, `onOpen(code)` makes regions keyboard- and click-openable,
 * `pin` marks a point, `onPick([lon, lat])` turns clicks into picked places.
 */
export function drawMap(svgNode, features, opts = {}) {
  const W = 1000, H = 700;
  svgNode.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svgNode.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  const extra = opts.pin ? [opts.pin] : [];
  const proj = fit(features, W, H, extra);
  if (!proj) { svgNode.replaceChildren(); return null; }
  const shapes = features.filter((f) => f.geometry).map((f) => {
    const code = f.properties.code;
    const title = opts.title ? opts.title(f) : f.properties.name;
    const p = svg('path', {
      d: pathOf(f.geometry, proj), class: 'region' + (opts.selected === code ? ' selected' : ''),
      fill: opts.fill ? opts.fill(f) : '#dfe8f1', 'data-code': code,
      tabindex: opts.onOpen ? '0' : null, role: opts.onOpen ? 'button' : null, 'aria-label': title,
    }, svg('title', {}, title));
    if (opts.onOpen) {
      p.addEventListener('click', (e) => { if (!opts.onPick) opts.onOpen(f, e); });
      p.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); opts.onOpen(f, e); } });
    }
    return p;
  });
  const labels = opts.labels ? features.filter((f) => f.geometry).map((f) => {
    const c = centroid(f.geometry, proj);
    const text = opts.labels(f);
    return c && text ? svg('text', { x: c[0].toFixed(1), y: c[1].toFixed(1), class: 'map-label', 'text-anchor': 'middle' }, text) : null;
  }) : [];
  const pin = opts.pin ? (() => {
    const [x, y] = proj.to(opts.pin);
    return svg('g', { class: 'pin', transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` },
      svg('path', { d: 'M0,0 C-6,-12 -12,-16 -12,-24 A12,12 0 1 1 12,-24 C12,-16 6,-12 0,0Z' }),
      svg('circle', { cx: 0, cy: -24, r: 4.5, fill: '#fff' }));
  })() : null;
  svgNode.replaceChildren(...shapes, ...labels.filter(Boolean), ...(pin ? [pin] : []));
  if (opts.onPick) {
    svgNode.onclick = (e) => {
      const pt = svgNode.createSVGPoint();
      pt.x = e.clientX; pt.y = e.clientY;
      const local = pt.matrixTransform(svgNode.getScreenCTM().inverse());
      opts.onPick(proj.from([local.x, local.y]));
    };
  }
  return proj;
}

/** A colour from pale to strong for a share in 0..1 (a single hue, so it reads in grey too). */
export function shade(share, hue = 8) {
  const s = Math.max(0, Math.min(1, share));
  return `hsl(${hue} ${Math.round(45 + 40 * s)}% ${Math.round(93 - 48 * s)}%)`;
}

/** Calls `f` now and every `ms` while the page is visible; returns a stop function. */
export function every(ms, f) {
  let timer = null, stopped = false;
  const tick = async () => {
    if (stopped) return;
    try { await f(); } catch (e) { showError(e); }
    if (!stopped) timer = setTimeout(tick, document.hidden ? ms * 4 : ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

/** A photo file as `{content_type, data_base64}`, scaled down to at most 1600 px. */
export async function photoOf(file) {
  const type = ['image/jpeg', 'image/png', 'image/webp'].includes(file.type) ? file.type : 'image/jpeg';
  const bytes = new Uint8Array(await file.arrayBuffer());
  let out = bytes;
  if (bytes.length > 1_500_000 && 'createImageBitmap' in window) {
    const bmp = await createImageBitmap(file);
    const k = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
    const c = el('canvas', { width: Math.round(bmp.width * k), height: Math.round(bmp.height * k) });
    c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
    const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.85));
    out = new Uint8Array(await blob.arrayBuffer());
    return { content_type: 'image/jpeg', data_base64: b64(out) };
  }
  return { content_type: type, data_base64: b64(out) };
}
/** Bytes as base64, in chunks so that large files do not overflow the call stack. */
export function b64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Asks the catalogue which categories a description suggests; the first becomes the
 *  choice unless one was made. `state` holds `suggested` and `category`. */
export async function suggestCategories(state, text, redraw) {
  if (text.trim().length < 2) return;
  const r = await api.get(`/api/v1/categories?q=${encodeURIComponent(text)}`);
  state.suggested = r.suggested;
  if (!state.category && r.suggested.length) state.category = r.suggested[0];
  redraw();
}
/** Draws the suggested categories as chips into `#suggestions` and syncs the select. */
export function categoryChips(state, selectId) {
  const box = $('suggestions');
  if (!box) return;
  const name = (code) => state.categories.find((c) => c.code === code)?.[`name_${current}`] || code;
  mount(box, state.suggested.map((code) => el('button', {
    type: 'button', class: 'chip', 'data-code': code, 'aria-pressed': String(code === state.category),
    onclick: () => { state.category = code; categoryChips(state, selectId); },
  }, name(code))));
  if ($(selectId)) $(selectId).value = state.category;
}

/** Names and levels of regions, looked up once per page: `learnRegions(codes)` fetches the
 *  ones not seen yet, `regionOf(code)` answers `{name, level}` (the code itself if unknown). */
const regionCache = new Map();
export async function learnRegions(codes) {
  await Promise.all([...new Set(codes)].filter((c) => c && !regionCache.has(c)).map(async (c) => {
    try {
      const r = await api.get(`/api/v1/regions/${c}`);
      regionCache.set(c, { name: r.region.name, level: r.region.level });
    } catch { regionCache.set(c, { name: c, level: null }); }
  }));
}
export const regionOf = (code) => regionCache.get(code) || { name: code, level: null };

/** A random key for `Idempotency-Key`, so that a retried report is made once. */
export const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

/** Marks the page's data as drawn (the browser tests read this for first paint). */
export function ready() {
  if (!performance.getEntriesByName('shezhi:ready').length) performance.mark('shezhi:ready');
  document.body.dataset.ready = '1';
}
