// 社智在线 · command centre (指挥中心): live counters, the map coloured by open, overdue or
// per-capita cases with drill-down, the trend, the category mix, the unit ranking and the
// overdue list. Everything is read from counters the server keeps with each step; the live
// parts refresh on their own without reloading the page.
import {
  $, addStrings, api, clock, drawMap, el, every, label, lang, mount, num, pct, ready, requireRole, shade, showError, svg, t,
  time, topBar,
} from './common.js';

addStrings({
  zh: {
    todayIntake: '今日受理', open: '在办', overdueOpen: '超期在办', todayClosed: '今日结案', onTime: '本月按期结案率',
    satisfaction: '本月满意率', colourBy: '着色', byOpen: '在办量', byOverdue: '超期量', byCapita: '每万人在办',
    trend: '近14日趋势', intake: '受理', closed: '结案', categories: '类别分布（在办）', units: '部门排名（本月）',
    unit: '部门', closedN: '结案', dispatchedN: '受派', returnedN: '退单', overdueList: '超期案件', noOverdue: '暂无超期案件', drill: '下钻到 {name}',
    up: '返回上级', mapOf: '{name}地图：按{by}着色', lastUpdate: '数据更新：{time}', number: '编号', title: '标题',
    stage: '阶段', clock: '时限', noCategories: '该层级不单独统计类别', noUnits: '本月暂无部门办件',
    low: '少', high: '多', perTenK: '{n} 件/万人', campaign: '入户排查进度', noCampaign: '暂无覆盖本区域的排查任务',
    roundN: '第 {n} 轮', export: '导出 Excel', exportCsv: 'CSV', region: '区域', households: '应访户数', visited: '已完成', coverageRate: '完成率',
    revisit: '待回访', findings: '发现问题', report: '导出本月综合评价报表（Excel）',
  },
  en: {
    todayIntake: 'Intake today', open: 'Open', overdueOpen: 'Open and overdue', todayClosed: 'Closed today',
    onTime: 'On-time rate (month)', satisfaction: 'Satisfaction (month)', colourBy: 'Colour by', byOpen: 'Open cases',
    byOverdue: 'Overdue cases', byCapita: 'Open per 10,000 residents', trend: 'Last 14 days', intake: 'Intake',
    closed: 'Closed', dispatchedN: 'Received', returnedN: 'Returned', categories: 'Open cases by category', units: 'Unit ranking (this month)', unit: 'Unit',
    closedN: 'Closed', overdueList: 'Overdue cases', noOverdue: 'No overdue cases', drill: 'Open {name}', up: 'Up one level',
    mapOf: 'Map of {name}, coloured by {by}', lastUpdate: 'Updated {time}', number: 'Number', title: 'Title',
    stage: 'Stage', clock: 'Clock', noCategories: 'Categories are counted for districts and the city',
    noUnits: 'No unit work this month', low: 'fewer', high: 'more', perTenK: '{n} per 10,000', campaign: 'Household campaign',
    noCampaign: 'No campaign covers this region', roundN: 'round {n}', export: 'Export to Excel', exportCsv: 'CSV', region: 'Region',
    households: 'Households', visited: 'Done', coverageRate: 'Coverage', revisit: 'Revisits', findings: 'Findings',
    report: 'Evaluation report, this month (Excel)',
  },
});

const state = {
  code: null, node: null, features: [], overview: null, month: null, board: null, overdue: [], mode: 'open',
  updated: null, token: 0,
};

const codeFromHash = () => (/^#\/(\d{12,15})$/.exec(location.hash) || [])[1] || null;

function metricOf(code) {
  const c = state.overview?.children.find((x) => x.code === code)?.counts || {};
  return { open: c.open || 0, overdue: c.overdue_open || 0, intake: c['today.intake'] || 0 };
}
function valueOf(f) {
  const m = metricOf(f.properties.code);
  if (state.mode === 'overdue') return m.overdue;
  if (state.mode === 'capita') return f.properties.population_est > 0 ? (m.open * 10000) / f.properties.population_est : 0;
  return m.open;
}

function layout() {
  mount($('main'),
    el('nav', { id: 'crumbs', class: 'crumbs', 'aria-label': t('up') }),
    el('section', { id: 'counters', class: 'counters', 'aria-live': 'polite' }),
    el('div', { class: 'command' },
      el('section', { class: 'stack' },
        el('div', { class: 'card' },
          el('div', { class: 'row' },
            el('h2', { id: 'map-title' }),
            el('label', { class: 'row small' }, t('colourBy'),
              el('select', { id: 'colour-by', onchange: (e) => { state.mode = e.target.value; drawRegionMap(); } },
                ['open', 'overdue', 'capita'].map((m) => el('option', { value: m, selected: state.mode === m }, t(
                  { open: 'byOpen', overdue: 'byOverdue', capita: 'byCapita' }[m]))))),
          ),
          el('div', { class: 'map-box' }, svg('svg', { id: 'map', class: 'map-svg', role: 'group' })),
          el('div', { id: 'legend', class: 'legend' })),
        el('div', { class: 'card' }, el('h2', {}, t('trend')), el('div', { id: 'trend' }))),
      el('section', { class: 'stack' },
        el('div', { class: 'card' }, el('h2', {}, t('overdueList')), el('div', { id: 'overdue' })),
        el('div', { class: 'card' }, el('h2', {}, t('units')), el('div', { id: 'units' })),
        el('div', { class: 'card' }, el('h2', {}, t('categories')), el('div', { id: 'categories' })),
        el('div', { class: 'card' }, el('h2', {}, t('campaign')), el('div', { id: 'campaign' })))),
    el('p', { id: 'updated', class: 'muted small' }));
}

function drawCrumbs() {
  if (!state.node) return;
  const chain = [...state.node.ancestors, { code: state.node.region.code, name: state.node.region.name }];
  mount($('crumbs'), chain.map((r, i) => [
    i ? el('span', { 'aria-hidden': 'true' }, '›') : null,
    i === chain.length - 1 ? el('strong', {}, r.name) : el('button', { type: 'button', onclick: () => go(r.code) }, r.name),
  ]));
}

function drawCounters() {
  const o = state.overview;
  if (!o) return;
  const c = o.region.counts;
  const items = [
    ['today.intake', 'todayIntake', num(c['today.intake'] || 0), c['today.intake'] || 0],
    ['open', 'open', num(c.open || 0), c.open || 0],
    ['overdue_open', 'overdueOpen', num(c.overdue_open || 0), c.overdue_open || 0, 'late'],
    ['today.closed', 'todayClosed', num(c['today.closed'] || 0), c['today.closed'] || 0],
    ['on_time_rate', 'onTime', pct(state.month?.on_time_rate), state.month?.on_time_rate ?? ''],
    ['satisfaction_rate', 'satisfaction', pct(state.month?.satisfaction_rate), state.month?.satisfaction_rate ?? ''],
  ];
  mount($('counters'), items.map(([metric, key, text, value, cls]) =>
    el('div', { class: `counter ${cls || ''}`, 'data-metric': metric, 'data-value': String(value) },
      el('div', { class: 'v' }, text), el('div', { class: 'k' }, t(key)))));
}

function drawRegionMap() {
  if (!state.node) return;
  const by = t({ open: 'byOpen', overdue: 'byOverdue', capita: 'byCapita' }[state.mode]);
  $('map-title').textContent = state.node.region.name;
  $('map').setAttribute('aria-label', t('mapOf', { name: state.node.region.name, by }));
  const values = state.features.map(valueOf);
  const max = Math.max(1, ...values);
  const drillable = !['grid', 'micro_grid'].includes(state.node.region.level);
  drawMap($('map'), state.features, {
    fill: (f) => shade(valueOf(f) / max, state.mode === 'open' ? 212 : 8),
    title: (f) => {
      const m = metricOf(f.properties.code);
      return `${f.properties.name}：${t('open')} ${num(m.open)} · ${t('overdueOpen')} ${num(m.overdue)}`;
    },
    labels: (f) => {
      const v = valueOf(f);
      const text = state.mode === 'capita' ? num(v, 1) : num(v);
      return state.features.length <= 40 ? `${f.properties.name} ${text}` : (v ? text : '');
    },
    onOpen: drillable ? (f) => go(f.properties.code) : null,
  });
  for (const p of $('map').querySelectorAll('path.region')) {
    const m = metricOf(p.dataset.code);
    p.dataset.open = m.open;
    p.dataset.overdue = m.overdue;
  }
  mount($('legend'), el('span', {}, t('low')),
    [0, 0.25, 0.5, 0.75, 1].map((s) => el('span', { class: 'swatch', style: `background:${shade(s, state.mode === 'open' ? 212 : 8)}` })),
    el('span', {}, `${t('high')} (${state.mode === 'capita' ? num(max, 1) : num(max)})`));
}

function drawTrend() {
  const days = state.board?.trend || [];
  if (!days.length) return mount($('trend'), el('p', { class: 'muted' }, t('none')));
  const W = 640, H = 200, P = 28;
  const max = Math.max(1, ...days.flatMap((d) => [d.counts.intake || 0, d.counts.closed || 0]));
  const x = (i) => P + (i * (W - 2 * P)) / Math.max(1, days.length - 1);
  const y = (v) => H - P - (v * (H - 2 * P)) / max;
  const line = (k) => days.map((d, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(d.counts[k] || 0).toFixed(1)}`).join('');
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${t('trend')}: ${days.map((d) => `${d.day} ${t('intake')} ${d.counts.intake || 0} ${t('closed')} ${d.counts.closed || 0}`).join('; ')}` },
  svg('line', { x1: P, x2: W - P, y1: H - P, y2: H - P, stroke: '#c5ced8' }),
  svg('path', { d: line('intake'), fill: 'none', stroke: '#1f5fa8', 'stroke-width': 2.5 }),
  svg('path', { d: line('closed'), fill: 'none', stroke: '#1e7a46', 'stroke-width': 2.5, 'stroke-dasharray': '6 4' }),
  svg('text', { x: P, y: 14 }, num(max)),
  days.map((d, i) => (i % 2 === days.length % 2 ? null : svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle' }, d.day.slice(5)))));
  mount($('trend'), chart, el('div', { class: 'legend' },
    el('span', {}, el('span', { class: 'swatch', style: 'background:#1f5fa8' }), ' ', t('intake')),
    el('span', {}, el('span', { class: 'swatch', style: 'background:#1e7a46' }), ' ', t('closed'))));
}

function drawCategories() {
  const cats = (state.board?.categories || []).filter((c) => c.open || c.intake).slice(0, 10);
  if (!cats.length) return mount($('categories'), el('p', { class: 'muted small' }, state.board && !['city', 'district'].includes(state.node?.region.level) ? t('noCategories') : t('none')));
  const max = Math.max(1, ...cats.map((c) => c.open));
  mount($('categories'), el('div', { class: 'bars' }, cats.map((c) => el('div', { class: 'bar-row' },
    el('span', {}, c[`name_${lang()}`] || c.code),
    el('div', { class: 'bar', style: `width:${(100 * c.open) / max}%` }),
    el('span', {}, num(c.open))))));
}

function drawUnits() {
  const units = state.board?.units || [];
  // The month's evaluation of the region, its children and its units, as a workbook.
  const report = el('p', { class: 'small' },
    el('a', { id: 'report-xlsx', href: `/api/v1/indicators/report.xlsx?region=${state.code}`, download: '' }, t('report')));
  if (!units.length) return mount($('units'), el('p', { class: 'muted small' }, t('noUnits')), report);
  mount($('units'), report, el('table', { class: 'list' },
    el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, t('unit')), el('th', {}, t('onTime')), el('th', {}, t('dispatchedN')),
      el('th', {}, t('closedN')), el('th', {}, t('returnedN')))),
    el('tbody', {}, units.map((u, i) => el('tr', { 'data-unit': u.code },
      el('td', {}, String(i + 1)), el('td', {}, u.name), el('td', {}, pct(u.indicators.on_time_rate)),
      el('td', {}, num(u.indicators.counts.dispatched || 0)), el('td', {}, num(u.indicators.counts.closed || 0)),
      el('td', {}, num(u.indicators.counts.returned || 0)))))));
}

function drawOverdue() {
  if (!state.overdue.length) return mount($('overdue'), el('p', { class: 'muted small' }, t('noOverdue')));
  mount($('overdue'), el('table', { class: 'list' },
    el('thead', {}, el('tr', {}, el('th', {}, t('number')), el('th', {}, t('title')), el('th', {}, t('stage')), el('th', {}, t('clock')))),
    el('tbody', {}, state.overdue.map((c) => el('tr', {},
      el('td', {}, el('a', { href: `/desk#/case/${c.id}` }, c.number)), el('td', {}, c.title),
      el('td', {}, label('stages', c.stage)), el('td', {}, el('span', { class: 'badge late' }, clock(c.due_at_ms).text)))))));
}

function drawCampaign() {
  const box = $('campaign');
  if (!box) return;
  const c = state.campaign;
  if (!c || !state.coverage) return mount(box, el('p', { class: 'muted small' }, t('noCampaign')));
  const cov = state.coverage;
  const share = (k) => (k.total ? k.done / k.total : null);
  const row = (r, strong) => el('tr', { 'data-region': r.code },
    el('td', {}, strong ? el('strong', {}, r.name) : r.name), el('td', {}, num(r.counts.total || 0)), el('td', {}, num(r.counts.done || 0)),
    el('td', {}, pct(share(r.counts))), el('td', {}, num(r.counts.revisit || 0)), el('td', {}, num(r.counts.findings || 0)));
  mount(box,
    el('p', { class: 'small' }, `${c.title} · ${t('roundN', { n: cov.round })} · `,
      el('a', { href: `/api/v1/campaigns/${c.id}/coverage.xlsx?region=${state.code}`, download: '', id: 'coverage-xlsx' }, t('export')), ' · ',
      el('a', { href: `/api/v1/campaigns/${c.id}/coverage.csv?region=${state.code}`, download: '' }, t('exportCsv'))),
    el('table', { class: 'list', id: 'coverage' },
      el('thead', {}, el('tr', {}, el('th', {}, t('region')), el('th', {}, t('households')), el('th', {}, t('visited')),
        el('th', {}, t('coverageRate')), el('th', {}, t('revisit')), el('th', {}, t('findings')))),
      el('tbody', {}, row(cov.region, true), cov.children.filter((r) => r.counts.total).map((r) => row(r, false)))));
}

function drawAll() {
  drawCrumbs(); drawCounters(); drawRegionMap(); drawTrend(); drawCategories(); drawUnits(); drawOverdue(); drawCampaign();
  $('updated').textContent = state.updated ? t('lastUpdate', { time: time(state.updated) }) : '';
}

const go = (code) => { location.hash = `#/${code}`; };
/** The code prefix every region below `c` shares (city 4, district 6, street 9 digits). */
const subtree = (c) => (c.length > 12 ? c : c.endsWith('00000000') ? c.slice(0, 4) : c.endsWith('000000') ? c.slice(0, 6)
  : c.endsWith('000') ? c.slice(0, 9) : c);

/** Loads a region's shape and tree position, then its live figures. */
async function open(code) {
  const token = ++state.token;
  const node = await api.get(`/api/v1/regions/${code}`);
  const fc = await api.get(`/api/v1/regions/${code}/map`);
  if (token !== state.token) return;
  Object.assign(state, { code, node, features: (fc.features || []).filter((f) => f.geometry), overview: null, board: null, overdue: [] });
  await Promise.all([live(), slow()]);
  if (token !== state.token) return;
  drawAll();
  ready();
}

/** The figures that change with every step: counters and map colours. */
async function live() {
  if (!state.code) return;
  const code = state.code;
  const [overview, month] = await Promise.all([
    api.get(`/api/v1/overview?region=${code}`), api.get(`/api/v1/indicators?scope=${code}`)]);
  if (code !== state.code) return;
  Object.assign(state, { overview, month, updated: Date.now() });
}
async function slow() {
  if (!state.code) return;
  const code = state.code;
  const [board, overdue, campaigns] = await Promise.all([
    api.get(`/api/v1/board?region=${code}`), api.get(`/api/v1/cases?box=overdue&region=${code}&limit=10`),
    api.get('/api/v1/campaigns').catch(() => ({ items: [] }))]);
  // The newest campaign that covers this region, with its coverage here.
  const campaign = campaigns.items.find((c) => code.startsWith(subtree(c.region_code)) || c.region_code.startsWith(subtree(code))) || null;
  const coverage = campaign ? await api.get(`/api/v1/campaigns/${campaign.id}/coverage?region=${code}`).catch(() => null) : null;
  if (code !== state.code) return;
  Object.assign(state, { board, overdue: overdue.items, campaign, coverage });
}

async function main() {
  const m = await requireRole('command', 'admin', 'street_staff');
  topBar('command', m, () => { layout(); drawAll(); });
  layout();
  let code = codeFromHash();
  if (!code) {
    const o = await api.get('/api/v1/overview');
    code = o.region.code;
    history.replaceState(null, '', `#/${code}`);
  }
  await open(code);
  window.addEventListener('hashchange', () => { const c = codeFromHash(); if (c && c !== state.code) open(c).catch(showError); });
  // Counters every 2 s (a few hundred counter rows), charts and the overdue list every 10 s.
  let first = true;
  every(2000, async () => {
    if (first) { first = false; return; }
    await live(); drawCounters(); drawRegionMap();
    $('updated').textContent = t('lastUpdate', { time: time(state.updated) });
  });
  let firstSlow = true;
  every(10000, async () => {
    if (firstSlow) { firstSlow = false; return; }
    await slow(); drawTrend(); drawCategories(); drawUnits(); drawOverdue(); drawCampaign();
  });
}

main().catch(showError);
