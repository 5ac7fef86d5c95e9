// 社智在线 · case desk (案件工作台) for community, street and department staff: the inboxes
// of the user's scope and unit (overdue first), filters and search, and a case page with its
// timeline, map pin, photos, clocks and exactly the steps the user may take now.
import {
  $, ApiError, addStrings, api, both, clock, el, errorText, label, lang, mount, photoOf, ready, requireRole, roles, showError,
  svg, drawMap, t, time, topBar,
} from './common.js';

addStrings({
  zh: {
    boxes: {
      to_accept: '待受理', to_dispatch: '待派遣', to_sign: '待签收', to_handle: '待处置', to_verify: '待核实',
      pause_requests: '缓办审批', overdue: '超期', unit: '本单位', all: '全部',
    },
    search: '搜索编号、标题、描述、地址', allStages: '全部阶段', allCategories: '全部类别', filter: '筛选', empty: '没有案件',
    pick: '从左侧选择一个案件', description: '描述', reporter: '诉求人', contact: '联系电话', address: '地点',
    category: '类别', source: '来源', priority: '紧急程度', level: '当前层级', units: '承办单位', lead: '主办', assist: '协办',
    timeline: '办理过程', photos: '照片', actions: '可执行操作', noActions: '您当前不能对此案件操作', note: '说明',
    noteRequired: '请填写说明', leadUnit: '主办单位', assistUnits: '协办单位（可多选）', unitToDispatch: '派往单位',
    pauseUntil: '缓办至', mergeInto: '并入案件编号（ID）', satisfactionQ: '您对处理结果', notFixed: '问题没有解决（案件将重新办理）',
    addPhoto: '添加照片', done: '已{step}', changed: '案件已被他人更新，已重新加载', clockLabel: '本阶段时限',
    createdAt: '上报时间', youAct: '您的身份', merged: '已并入案件 {id}', returns: '退单 {n} 次', reworks: '返工 {n} 次',
    by: '{actor}（{capacity}）', mapOfCase: '案件位置', chooseLead: '请选择主办单位', chooseUnit: '请选择单位', results: '{n} 件',
    publicText: '公开说明', notPublished: '未公开', publicHint: '将对外公开（Open311、附近上报的居民）：只写问题和办理情况，不写姓名、电话、门牌号；留空提交即撤回。',
  },
  en: {
    boxes: {
      to_accept: 'To accept', to_dispatch: 'To dispatch', to_sign: 'To sign', to_handle: 'To handle', to_verify: 'To verify',
      pause_requests: 'Pause requests', overdue: 'Overdue', unit: 'My unit', all: 'All',
    },
    search: 'Search number, title, description, address', allStages: 'All stages', allCategories: 'All categories', filter: 'Filter',
    empty: 'No cases', pick: 'Pick a case on the left', description: 'Description', reporter: 'Reporter', contact: 'Phone',
    address: 'Place', category: 'Category', source: 'Source', priority: 'Priority', level: 'Level', units: 'Units',
    lead: 'lead', assist: 'assisting', timeline: 'Timeline', photos: 'Photos', actions: 'What you can do',
    noActions: 'You cannot act on this case now', note: 'Note', noteRequired: 'Please write a note', leadUnit: 'Lead unit',
    assistUnits: 'Assisting units (any number)', unitToDispatch: 'Unit to send to', pauseUntil: 'Pause until',
    mergeInto: 'Merge into case (id)', satisfactionQ: 'How satisfied are you', notFixed: 'The problem is not fixed (reopen it)',
    addPhoto: 'Add photos', done: '{step}: done', changed: 'Someone else changed the case; it has been reloaded',
    clockLabel: 'Stage deadline', createdAt: 'Reported', youAct: 'You act as', merged: 'Merged into case {id}',
    returns: 'returned {n}×', reworks: 'reworked {n}×', by: '{actor} ({capacity})', mapOfCase: 'Where the case is',
    chooseLead: 'Choose the lead unit', chooseUnit: 'Choose a unit', results: '{n} cases',
    publicText: 'Public description', notPublished: 'not published', publicHint: 'Published to everyone (Open311, residents reporting nearby): write the problem and what is done, no names, phones or door numbers; submit it empty to withdraw it.',
  },
});

const NEEDS_NOTE = new Set(['reject', 'return', 'feedback', 'request_pause', 'rework', 'solve_on_spot', 'comment']);

const state = { me: null, box: null, filters: { stage: '', category: '', q: '' }, items: [], cursor: null, caseId: null, view: null, units: [], categories: [], open: null, flash: null };

function boxesFor(rs) {
  const out = [];
  if (rs.has('community_staff') || rs.has('street_staff') || rs.has('command') || rs.has('admin')) {
    out.push('to_accept', 'to_dispatch', 'to_verify', 'pause_requests');
  }
  if (rs.has('unit_staff')) out.push('to_sign', 'to_handle', 'unit');
  out.push('overdue', 'all');
  return out;
}

function layout() {
  const rs = roles(state.me);
  const boxes = boxesFor(rs);
  state.box = state.box && boxes.includes(state.box) ? state.box : boxes[0];
  const q = el('input', { id: 'q', type: 'search', value: state.filters.q, placeholder: t('search'), 'aria-label': t('search') });
  const stage = el('select', { id: 'stage-filter', 'aria-label': t('allStages') },
    el('option', { value: '' }, t('allStages')),
    Object.keys({ reported: 1, accepted: 1, dispatched: 1, handling: 1, pause_requested: 1, paused: 1, fed_back: 1, closed: 1, rejected: 1, merged: 1 })
      .map((s) => el('option', { value: s, selected: state.filters.stage === s }, label('stages', s))));
  const cat = el('select', { id: 'category-filter', 'aria-label': t('allCategories') },
    el('option', { value: '' }, t('allCategories')),
    state.categories.filter((c) => c.leaf).map((c) => el('option', { value: c.code, selected: state.filters.category === c.code }, c[`name_${lang()}`])));
  mount($('main'), el('div', { class: 'desk' },
    el('section', { class: 'stack', 'aria-label': t('desk') },
      el('div', { class: 'tabs', role: 'tablist' }, boxes.map((b) => el('button', {
        type: 'button', role: 'tab', class: 'tab', id: `box-${b}`, 'aria-selected': String(b === state.box),
        onclick: () => { state.box = b; layout(); loadList().catch(showError); },
      }, t(`boxes.${b}`)))),
      el('form', { class: 'row', onsubmit: (e) => {
        e.preventDefault();
        Object.assign(state.filters, { q: q.value.trim(), stage: stage.value, category: cat.value });
        loadList().catch(showError);
      } }, q, stage, cat, el('button', { type: 'submit', class: 'btn' }, t('filter'))),
      el('p', { id: 'count', class: 'muted small', 'aria-live': 'polite' }),
      el('ul', { id: 'cases', class: 'case-list' }),
      el('div', { id: 'more' })),
    el('section', { id: 'case', class: 'card', 'aria-live': 'polite' }, el('p', { class: 'muted' }, t('pick')))));
  drawList();
  if (state.view) drawCase();
}

// Each list and case asked for takes a turn; an answer arriving after a later question's
// (an inbox's first page after the search typed over it) is dropped, not drawn over it.
const turns = { list: 0, case: 0 };

async function loadList(append = false) {
  const turn = ++turns.list;
  const p = new URLSearchParams({ box: state.box, limit: '30' });
  for (const [k, v] of Object.entries(state.filters)) if (v) p.set(k, v);
  if (append && state.cursor) p.set('cursor', state.cursor);
  const page = await api.get(`/api/v1/cases?${p}`);
  if (turn !== turns.list) return;
  state.items = append ? state.items.concat(page.items) : page.items;
  state.cursor = page.next_cursor || null;
  drawList();
}

/** Overdue first, then the nearest deadline, then the newest. */
const order = (a, b) => (b.overdue - a.overdue) || ((a.due_at_ms ?? Infinity) - (b.due_at_ms ?? Infinity)) || (b.created_at_ms - a.created_at_ms);

function drawList() {
  const list = $('cases');
  if (!list) return;
  const items = [...state.items].sort(order);
  $('count').textContent = t('results', { n: items.length + (state.cursor ? '+' : '') });
  if (!items.length) mount(list, el('li', { class: 'muted' }, t('empty')));
  else mount(list, items.map((c) => {
    const k = c.overdue ? { text: label('steps', 'overdue'), state: 'late' } : clock(c.due_at_ms);
    return el('li', {}, el('button', {
      type: 'button', class: `case-item${c.id === state.caseId ? ' selected' : ''}`, 'data-id': c.id, 'data-number': c.number,
      onclick: () => { location.hash = `#/case/${c.id}`; },
    },
    el('div', { class: 'row' }, el('span', { class: 'title' }, c.title), el('span', { class: 'badge' }, label('stages', c.stage)),
      el('span', { class: `badge ${k.state}` }, k.text)),
    el('div', { class: 'muted small' }, `${c.number} · ${label('levels', c.level)} · ${c.address}`)));
  }));
  mount($('more'), state.cursor ? el('button', { type: 'button', class: 'btn', onclick: () => loadList(true).catch(showError) }, t('more')) : null);
}

async function openCase(id) {
  const turn = ++turns.case;
  state.caseId = id;
  state.open = null;
  const view = await api.get(`/api/v1/cases/${id}`);
  if (turn !== turns.case) return;
  state.view = view;
  state.cell = null;
  drawCase();
  drawList();
  api.get(`/api/v1/grids/${state.view.case.cell_code}`).then((g) => { state.cell = g; drawPin(); }).catch(() => {});
}

function drawPin() {
  const m = $('case-map');
  if (!m || !state.cell?.geometry) return;
  drawMap(m, [{ geometry: state.cell.geometry, properties: state.cell.properties }], { pin: state.view.case.point || null });
}

function field(name, control) { return el('label', { class: 'field' }, name, control); }

function drawCase() {
  const v = state.view;
  if (!v || !$('case')) return;
  const c = v.case;
  const k = clock(c.due_at_ms);
  const unitName = (code) => state.units.find((u) => u.code === code)?.name || code;
  mount($('case'),
    state.flash ? el('p', { class: 'notice-ok', role: 'status' }, state.flash) : null,
    el('div', { class: 'row' }, el('h2', { id: 'case-title' }, c.title), el('span', { class: 'badge', id: 'case-stage', 'data-stage': c.stage }, label('stages', c.stage)),
      c.overdue ? el('span', { class: 'badge late' }, label('steps', 'overdue')) : null),
    el('p', { class: 'muted small' }, `${c.number} · ${t('createdAt')} ${time(c.created_at_ms)}`),
    el('div', { class: 'grid2' },
      el('dl', { class: 'facts small' },
        el('dt', {}, t('clockLabel')), el('dd', {}, el('span', { class: `badge ${k.state}` }, k.text), c.due_at_ms ? ` (${time(c.due_at_ms)})` : ''),
        el('dt', {}, t('level')), el('dd', {}, label('levels', c.level)),
        el('dt', {}, t('category')), el('dd', {}, state.categories.find((x) => x.code === c.category)?.[`name_${lang()}`] || c.category),
        el('dt', {}, t('source')), el('dd', {}, label('sources', c.source)),
        el('dt', {}, t('priority')), el('dd', {}, label('priorities', c.priority)),
        el('dt', {}, t('address')), el('dd', {}, c.address),
        el('dt', {}, t('reporter')), el('dd', {}, v.reporter, v.contact_masked ? ` · ${v.contact_masked}` : ''),
        v.units.length ? [el('dt', {}, t('units')), el('dd', {}, v.units.map((u) => `${u.unit_name || unitName(u.unit_code)}（${t(u.role === 'lead' ? 'lead' : 'assist')}）${u.checked_in_at_ms ? ' ✓' : ''}`).join('、'))] : null,
        v.merged_into ? [el('dt', {}, ''), el('dd', {}, t('merged', { id: v.merged_into }))] : null,
        el('dt', {}, t('publicText')), el('dd', { id: 'case-public' }, v.public_text || el('span', { class: 'muted' }, t('notPublished'))),
        el('dt', {}, t('youAct')), el('dd', {}, v.capacities.map((x) => label('capacities', x)).join('、') || '—')),
      el('div', {}, el('div', { class: 'map-box' }, svg('svg', { id: 'case-map', class: 'map-svg', role: 'img', 'aria-label': t('mapOfCase') })))),
    el('h3', {}, t('description')), el('p', { id: 'case-description' }, v.description),
    v.photos.length ? [el('h3', {}, t('photos')), el('div', { class: 'photos' }, v.photos.map((p) =>
      el('a', { href: `/api/v1/cases/${c.id}/photos/${p}`, target: '_blank' }, el('img', { src: `/api/v1/cases/${c.id}/photos/${p}`, alt: `${t('photos')} ${p}`, loading: 'lazy' }))))] : null,
    el('h3', {}, t('actions')),
    v.actions.length
      ? el('div', { class: 'actions', id: 'actions' }, v.actions.map((a) => el('button', {
        type: 'button', class: `btn${state.open === a ? ' btn-primary' : ''}`, 'data-step': a, 'aria-expanded': String(state.open === a),
        onclick: () => { state.open = state.open === a ? null : a; state.flash = null; drawCase(); $('step-note')?.focus(); },
      }, label('steps', a))))
      : el('p', { class: 'muted' }, t('noActions')),
    state.open ? stepForm(state.open) : null,
    el('h3', {}, t('timeline')),
    el('ol', { class: 'timeline', id: 'timeline' }, v.events.map((e) => el('li', { 'data-step': e.step },
      el('strong', {}, label('steps', e.step)), ' ', el('span', { class: 'muted small' }, `${time(e.at_ms)} · ${e.actor_name ? t('by', { actor: e.actor_name, capacity: label('capacities', e.capacity) }) : label('capacities', e.capacity)}`),
      e.note ? el('div', {}, e.note) : null))));
  drawPin();
}

function stepForm(step) {
  const parts = [];
  const note = el('textarea', { id: 'step-note', required: NEEDS_NOTE.has(step) || null, rows: 3 });
  const photos = el('input', { id: 'step-photos', type: 'file', accept: 'image/*', multiple: true });
  const unitOptions = () => state.units.map((u) => el('option', { value: u.code }, u.name));
  let lead, assists = [], unit, until, merge, sat, notFixed;
  if (step === 'whistle') {
    lead = el('select', { id: 'lead-unit', required: true }, el('option', { value: '' }, t('chooseLead')), unitOptions());
    assists = state.units.map((u) => el('input', { type: 'checkbox', value: u.code, name: 'assist' }));
    parts.push(field(t('leadUnit'), lead), el('fieldset', {}, el('legend', {}, t('assistUnits')),
      el('div', { class: 'checks', id: 'assist-units' }, state.units.map((u, i) => el('label', {}, assists[i], ' ', u.name)))));
  }
  if (step === 'dispatch') {
    unit = el('select', { id: 'dispatch-unit', required: true }, el('option', { value: '' }, t('chooseUnit')), unitOptions());
    parts.push(field(t('unitToDispatch'), unit));
  }
  if (step === 'request_pause') {
    until = el('input', { id: 'pause-until', type: 'date', required: true });
    parts.push(field(t('pauseUntil'), until));
  }
  if (step === 'merge') {
    merge = el('input', { id: 'merge-into', type: 'number', min: 1, required: true });
    parts.push(field(t('mergeInto'), merge));
  }
  if (step === 'rate') {
    sat = ['satisfied', 'basic', 'unsatisfied'].map((s) => el('input', { type: 'radio', name: 'sat', value: s, checked: s === 'satisfied' }));
    notFixed = el('input', { type: 'checkbox', id: 'not-fixed' });
    parts.push(el('fieldset', {}, el('legend', {}, t('satisfactionQ')), el('div', { class: 'checks' },
      sat.map((r) => el('label', {}, r, ' ', label('satisfaction', r.value))))), el('label', {}, notFixed, ' ', t('notFixed')));
  }
  if (step === 'publish') {
    note.value = state.view.public_text || '';
    note.maxLength = 1000;
    parts.push(el('p', { class: 'small muted', id: 'publish-hint' }, t('publicHint')));
  }
  parts.push(field(t(step === 'publish' ? 'publicText' : 'note'), note));
  if (['feedback', 'solve_on_spot', 'comment', 'verify'].includes(step)) parts.push(field(t('addPhoto'), photos));
  const submit = el('button', { type: 'submit', class: 'btn btn-primary', id: 'step-submit' }, label('steps', step));
  return el('form', { class: 'step-form card', id: 'step-form', 'data-step': step, onsubmit: async (e) => {
    e.preventDefault();
    const body = { step, note: note.value.trim(), expect_events: state.view.events.length };
    if (NEEDS_NOTE.has(step) && !body.note) { showError(new ApiError(both('noteRequired'))); return; }
    if (lead) {
      if (!lead.value) return showError(new ApiError(both('chooseLead')));
      body.units = [lead.value, ...assists.filter((a) => a.checked && a.value !== lead.value).map((a) => a.value)];
    }
    if (unit) {
      if (!unit.value) return showError(new ApiError(both('chooseUnit')));
      body.units = [unit.value];
    }
    if (until) body.pause_until_ms = Date.parse(`${until.value}T18:00:00+08:00`);
    if (merge) body.merge_into = Number(merge.value);
    if (sat) { body.satisfaction = sat.find((r) => r.checked)?.value; body.not_fixed = notFixed.checked; }
    if (photos.files?.length) body.photos = await Promise.all([...photos.files].map(photoOf));
    submit.disabled = true;
    try {
      await api.post(`/api/v1/cases/${state.view.case.id}/steps`, body);
      state.flash = t('done', { step: label('steps', step) });
      await openCase(state.view.case.id);
      await loadList();
    } catch (err) {
      submit.disabled = false;
      if (err instanceof ApiError && err.code === 'case_changed') {
        await openCase(state.view.case.id);
        state.flash = t('changed');
        drawCase();
      } else showError(err);
    }
  } }, el('h3', {}, label('steps', step)), parts, el('div', { class: 'row' }, submit,
    el('button', { type: 'button', class: 'btn', onclick: () => { state.open = null; drawCase(); } }, t('cancel'))));
}

function route() {
  const m = /^#\/case\/(\d+)$/.exec(location.hash);
  if (m) openCase(Number(m[1])).catch((e) => { showError(e); });
}

async function main() {
  state.me = await requireRole('community_staff', 'street_staff', 'unit_staff', 'command', 'admin', 'mediator');
  const [units, cats] = await Promise.all([api.get('/api/v1/units'), api.get('/api/v1/categories')]);
  state.units = units.items;
  state.categories = cats.items;
  topBar('desk', state.me, layout);
  layout();
  await loadList();
  window.addEventListener('hashchange', route);
  route();
  ready();
}

main().catch((e) => { showError(e); console.error(errorText(e)); });
