// 社智在线 · grid worker (网格员), phone first: my grids, today's tasks, report a problem
// (photo from the camera, place from the device or picked on the map, category suggestions),
// solve it on the spot, and my households' key people.
import {
  $, ApiError, addStrings, api, both, clock, drawMap, el, label, lang, mount, newKey, photoOf, ready, requireRole, scopesOf, showError,
  svg, t, time, topBar, suggestCategories, categoryChips,
} from './common.js';

addStrings({
  zh: {
    myGrids: '我的网格', tasks: '待办案件', noTasks: '网格内暂无待办案件', report: '巡查上报', what: '发现了什么问题',
    whatHint: '如：楼道里有人飞线给电动车充电', category: '类别', suggest: '推荐类别', chooseCategory: '请选择类别',
    photo: '拍照或选择照片', place: '位置', useLocation: '使用手机定位', pickOnMap: '或在地图上点选', placeSet: '已选位置 {lon}, {lat}',
    noPlace: '请先确定位置', address: '地址描述', addressHint: '如：3栋1单元门口', solved: '已当场处置（自行处置）',
    solvedWhat: '处置情况', solvedHint: '如：已劝离并清理楼道', submit: '上报', made: '已上报，编号 {number}',
    madeSolved: '已上报并自行处置结案，编号 {number}', duplicates: '附近可能有相同问题：', keyPeople: '重点人群户',
    members: '{n} 人', noPeople: '暂无此类人员', locating: '定位中…', geoFailed: '无法获取定位，请在地图上点选',
    residentsOf: '{tag}（{n}）', solveHere: '自行处置', why: '原因（如：需社区协调物业）',
    visits: '入户排查', noCampaign: '暂无排查任务', round: '第 {n} 轮', record: '登记走访', outcome: '走访结果',
    finding: '发现的问题（可选）', saveVisit: '保存', syncNow: '立即同步', pending: '{n} 条走访待同步',
    synced: '已全部同步', offline: '当前离线：走访已保存在本机，联网后自动同步', rejectedVisit: '未被接受：{msg}',
    queued: '待同步', yes: '是', no: '否', signInAgain: '登录已失效：走访仍保存在本机，重新登录后自动同步', moreTasks: '再显示 20 户（还有 {n} 户）',
    outcomes: { visited: '已入户', nobody_home: '无人在家', refused: '拒绝入户', moved_out: '已搬离', vacant: '空置房', other: '其他' },
    taskStatus: { pending: '未走访', revisit: '待回访', done: '已完成' },
  },
  en: {
    myGrids: 'My grids', tasks: 'Open cases', noTasks: 'No open cases in my grids', report: 'Report a problem',
    what: 'What did you find?', whatHint: 'e.g. someone charges an e-bike from a cable in the stairwell', category: 'Category',
    suggest: 'Suggested', chooseCategory: 'Choose a category', photo: 'Take or choose a photo', place: 'Place',
    useLocation: 'Use my location', pickOnMap: 'or pick it on the map', placeSet: 'Place set: {lon}, {lat}',
    noPlace: 'Set the place first', address: 'Address', addressHint: 'e.g. in front of building 3, unit 1',
    solved: 'Solved on the spot', solvedWhat: 'What was done', solvedHint: 'e.g. asked them to leave and cleared the stairwell',
    submit: 'Report', made: 'Reported as {number}', madeSolved: 'Reported and closed as solved on the spot: {number}',
    duplicates: 'Possibly the same problem nearby:', keyPeople: 'Key people',
    members: '{n} people', noPeople: 'Nobody with this tag', locating: 'Locating…', geoFailed: 'No location; pick the place on the map',
    residentsOf: '{tag} ({n})', solveHere: 'Solve on the spot', why: 'Why (e.g. the property company must be involved)',
    visits: 'Household visits', noCampaign: 'No campaign', round: 'Round {n}', record: 'Record a visit', outcome: 'Outcome',
    finding: 'Anything found (optional)', saveVisit: 'Save', syncNow: 'Sync now', pending: '{n} visits waiting to sync',
    synced: 'All synced', offline: 'Offline: visits are kept on this phone and sync when the signal is back',
    rejectedVisit: 'Not accepted: {msg}', queued: 'waiting',
    signInAgain: 'Signed out: the visits stay on this phone and sync after you sign in again', yes: 'Yes', no: 'No', moreTasks: 'Show 20 more ({n} left)',
    outcomes: { visited: 'Visited', nobody_home: 'Nobody home', refused: 'Refused', moved_out: 'Moved out', vacant: 'Vacant', other: 'Other' },
    taskStatus: { pending: 'Not visited', revisit: 'Revisit', done: 'Done' },
  },
});

const TAGS = ['elderly_alone', 'over_80', 'disabled', 'low_income', 'left_behind_child', 'severe_mental_disorder'];
const state = { showTasks: 20, campaign: null, visitTasks: [], visiting: null, answers: {}, outcome: 'visited', syncNote: null, rejected: [], acting: null, me: null, grids: [], gridMaps: {}, tasks: [], categories: [], suggested: [], category: '', point: null, tag: 'elderly_alone', people: null, flash: null, key: newKey() };

function layout() {
  const desc = el('textarea', { id: 'report-description', rows: 3, placeholder: t('whatHint'), required: true });
  const photo = el('input', { id: 'report-photo', type: 'file', accept: 'image/*', capture: 'environment' });
  const address = el('input', { id: 'report-address', placeholder: t('addressHint') });
  const solved = el('input', { id: 'report-solved', type: 'checkbox' });
  const solvedWhat = el('textarea', { id: 'report-solved-what', rows: 2, placeholder: t('solvedHint'), hidden: true });
  solved.addEventListener('change', () => { solvedWhat.hidden = !solved.checked; });
  let timer = null;
  desc.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => suggest(desc.value).catch(showError), 300);
  });
  const catSelect = el('select', { id: 'report-category', required: true, onchange: (e) => { state.category = e.target.value; drawChips(); } },
    el('option', { value: '' }, t('chooseCategory')),
    state.categories.filter((c) => c.leaf).map((c) => el('option', { value: c.code, selected: c.code === state.category }, c[`name_${lang()}`])));
  const form = el('form', { class: 'card stack', id: 'report-form', onsubmit: async (e) => {
    e.preventDefault();
    if (!state.point) return showError(new ApiError(both('noPlace')));
    if (!state.category) return showError(new ApiError(both('chooseCategory')));
    const body = {
      category: state.category, description: desc.value.trim(), lon: state.point[0], lat: state.point[1],
      address: address.value.trim(), source: 'patrol',
      solved_on_spot: solved.checked ? (solvedWhat.value.trim() || t('solved')) : null,
      photos: photo.files?.length ? [await photoOf(photo.files[0])] : [],
    };
    const btn = $('report-submit');
    btn.disabled = true;
    try {
      const r = await api.post('/api/v1/cases', body, { 'Idempotency-Key': state.key });
      state.key = newKey();
      state.flash = { text: t(solved.checked ? 'madeSolved' : 'made', { number: r.number }), dups: r.possible_duplicates };
      state.point = null; state.category = ''; state.suggested = [];
      layout();
      await loadTasks();
    } catch (err) { btn.disabled = false; showError(err); }
  } },
  el('h2', {}, t('report')),
  el('label', { class: 'field' }, t('what'), desc),
  el('div', {}, el('div', { class: 'small muted' }, t('suggest')), el('div', { class: 'chips', id: 'suggestions' })),
  el('label', { class: 'field' }, t('category'), catSelect),
  el('label', { class: 'field' }, t('photo'), photo),
  el('fieldset', {}, el('legend', {}, t('place')),
    el('div', { class: 'row' }, el('button', { type: 'button', class: 'btn', id: 'use-location', onclick: locate }, t('useLocation')),
      el('span', { class: 'small muted' }, t('pickOnMap'))),
    el('div', { class: 'map-box' }, svg('svg', { id: 'pick-map', class: 'map-svg', role: 'img', 'aria-label': t('pickHint') })),
    el('p', { id: 'place', class: 'small', 'aria-live': 'polite' })),
  el('label', { class: 'field' }, t('address'), address),
  el('label', {}, solved, ' ', t('solved')), solvedWhat,
  el('button', { type: 'submit', class: 'btn btn-primary', id: 'report-submit' }, t('submit')));

  mount($('main'), el('div', { class: 'phone' },
    state.flash ? el('div', { class: 'notice-ok', role: 'status', id: 'report-result' }, state.flash.text,
      state.flash.dups?.length ? el('div', { class: 'small' }, t('duplicates'), state.flash.dups.map((d) => ` ${d.number || label('stages', d.stage)}（${Math.round(d.distance_m)} m）`)) : null) : null,
    el('section', { class: 'card' }, el('h2', {}, t('myGrids')), el('ul', { id: 'grids' }, state.grids.map((g) => el('li', {}, `${g.name} · ${g.code}`)))),
    el('section', { class: 'card' }, el('h2', {}, t('tasks')), el('ul', { id: 'tasks', class: 'case-list' })),
    el('section', { class: 'card', id: 'campaign' }),
    form,
    el('section', { class: 'card' }, el('h2', {}, t('keyPeople')),
      el('div', { class: 'chips', id: 'tag-chips' }, TAGS.map((tag) => el('button', {
        type: 'button', class: 'chip', 'aria-pressed': String(tag === state.tag),
        onclick: () => { state.tag = tag; state.people = null; layout(); loadPeople().catch(showError); },
      }, t(`tags.${tag}`)))),
      el('ul', { id: 'people' }))));
  drawChips(); drawPick(); drawTasks(); drawPeople(); drawVisits();
}

const suggest = (text) => suggestCategories(state, text, drawChips);
const drawChips = () => categoryChips(state, 'report-category');

function locate() {
  if (!navigator.geolocation) return showError(new ApiError(both('geoFailed')));
  $('place').textContent = t('locating');
  navigator.geolocation.getCurrentPosition(
    (p) => { state.point = [p.coords.longitude, p.coords.latitude]; drawPick(); },
    () => { $('place').textContent = t('geoFailed'); },
    { enableHighAccuracy: true, timeout: 15000 });
}

function drawPick() {
  const features = state.grids.flatMap((g) => state.gridMaps[g.code] || []);
  if ($('pick-map')) {
    drawMap($('pick-map'), features, {
      pin: state.point, title: (f) => f.properties.name,
      onPick: (pt) => { state.point = pt; drawPick(); },
    });
  }
  if ($('place')) $('place').textContent = state.point ? t('placeSet', { lon: state.point[0].toFixed(5), lat: state.point[1].toFixed(5) }) : '';
}

async function loadTasks() {
  const lists = await Promise.all(state.grids.map((g) => api.get(`/api/v1/cases?box=all&region=${g.code}&limit=50`)));
  state.tasks = lists.flatMap((l) => l.items).filter((c) => !['closed', 'rejected', 'merged'].includes(c.stage));
  drawTasks();
}
function drawTasks() {
  const box = $('tasks');
  if (!box) return;
  if (!state.tasks.length) return mount(box, el('li', { class: 'muted' }, t('noTasks')));
  mount(box, state.tasks.map((c) => {
    const k = clock(c.due_at_ms);
    const atGrid = c.stage === 'reported' && c.level === 'grid';
    const acting = state.acting?.id === c.id ? state.acting.step : null;
    const note = el('textarea', { class: 'task-note', rows: 2, required: true, 'aria-label': t('solvedWhat'), placeholder: acting === 'solve_on_spot' ? t('solvedHint') : '' });
    return el('li', { class: 'case-item', 'data-number': c.number },
      el('div', { class: 'row' }, el('span', { class: 'title' }, c.title), el('span', { class: 'badge' }, label('stages', c.stage)),
        el('span', { class: `badge ${c.overdue ? 'late' : k.state}` }, k.text)),
      el('div', { class: 'muted small' }, `${c.number} · ${label('levels', c.level)} · ${time(c.created_at_ms)} · ${c.address}`),
      atGrid && !acting ? el('div', { class: 'row' },
        el('button', { type: 'button', class: 'btn btn-small', 'data-step': 'solve_on_spot', onclick: () => { state.acting = { id: c.id, step: 'solve_on_spot' }; drawTasks(); } }, t('solveHere')),
        el('button', { type: 'button', class: 'btn btn-small', 'data-step': 'escalate', onclick: () => { state.acting = { id: c.id, step: 'escalate' }; drawTasks(); } }, label('steps', 'escalate'))) : null,
      acting ? el('form', { class: 'stack', onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api.post(`/api/v1/cases/${c.id}/steps`, { step: acting, note: note.value.trim() });
          state.acting = null;
          await loadTasks();
        } catch (err) { showError(err); }
      } }, el('label', { class: 'field' }, acting === 'solve_on_spot' ? t('solvedWhat') : t('why'), note),
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'btn btn-primary btn-small', 'data-submit': acting }, label('steps', acting)),
        el('button', { type: 'button', class: 'btn btn-small', onclick: () => { state.acting = null; drawTasks(); } }, t('cancel')))) : null);
  }));
}

async function loadPeople() {
  const pages = await Promise.all(state.grids.map((g) => api.get(`/api/v1/regions/${g.code}/residents?tag=${state.tag}&limit=50`)));
  state.people = pages.flatMap((p) => p.items);
  drawPeople();
}
function drawPeople() {
  const box = $('people');
  if (!box || !state.people) return;
  if (!state.people.length) return mount(box, el('li', { class: 'muted' }, t('noPeople')));
  mount(box, state.people.map((p) => el('li', {}, `${p.name} · ${p.birth_date.slice(0, 4)} · ${p.phone_masked || ''} · `,
    p.tags.map((x) => el('span', { class: 'badge' }, t(`tags.${x}`))))));
}

// ---------- household visits, offline first ----------
const OUTCOMES = ['visited', 'nobody_home', 'refused', 'moved_out', 'vacant', 'other'];
const queueKey = () => `shezhi.visits.${state.me?.user_id}`;
function queue() {
  try { return JSON.parse(localStorage.getItem(queueKey()) || '[]'); } catch { return []; }
}
const saveQueue = (q) => localStorage.setItem(queueKey(), JSON.stringify(q));

async function loadCampaign() {
  const r = await api.get('/api/v1/campaigns');
  state.campaign = r.items[0] || null;
  if (state.campaign) {
    const pages = await Promise.all(state.grids.map((g) => api.get(`/api/v1/campaigns/${state.campaign.id}/tasks?region=${g.code}&limit=500`)));
    state.visitTasks = pages.flatMap((p) => p.items);
  }
  drawVisits();
}

/** Sends the queued visits; each comes back accepted, a duplicate (sent before) or rejected. */
async function sync() {
  const q = queue();
  if (!q.length) { state.syncNote = t('synced'); drawVisits(); return; }
  const byCampaign = {};
  for (const v of q) (byCampaign[v.campaign] ||= []).push(v);
  try {
    for (const [id, visits] of Object.entries(byCampaign)) {
      const r = await api.post(`/api/v1/campaigns/${id}/visits`, { visits: visits.map(({ campaign, ...v }) => v) });
      const done = new Set();
      r.items.forEach((item) => {
        done.add(item.client_id);
        if (item.result === 'rejected') state.rejected.push(t('rejectedVisit', { msg: item[lang()] || item.code }));
      });
      saveQueue(queue().filter((v) => !done.has(v.client_id)));
    }
    state.syncNote = t('synced');
    await loadCampaign();
  } catch (e) {
    if (e instanceof ApiError && e.code === 'network') state.syncNote = t('offline');
    else if (e instanceof ApiError && e.status === 401) {
      // The session is gone (common.js has forgotten what was kept); the queue stays.
      state.syncNote = t('signInAgain');
      drawVisits();
      throw e;
    } else throw e;
  }
  drawVisits();
}

function question(q) {
  const set = (v) => { state.answers[q.id] = v; drawVisitForm(); };
  const label = q[`text_${lang()}`] || q.text_zh;
  const v = state.answers[q.id];
  if (q.type === 'yes_no') {
    return el('fieldset', { 'data-question': q.id }, el('legend', {}, label),
      [true, false].map((b) => el('label', {}, el('input', { type: 'radio', name: `q-${q.id}`, value: String(b), checked: v === b, onchange: () => set(b) }), ' ', t(b ? 'yes' : 'no'))));
  }
  if (q.type === 'choice') {
    return el('label', { class: 'field', 'data-question': q.id }, label, el('select', { onchange: (e) => set(e.target.value || undefined) },
      el('option', { value: '' }, '—'), q.options.map((o) => el('option', { value: o, selected: v === o }, o))));
  }
  const input = el('input', { type: q.type === 'number' ? 'number' : 'text', value: v ?? '', min: q.min ?? null, max: q.max ?? null });
  input.addEventListener('change', () => { state.answers[q.id] = q.type === 'number' ? (input.value === '' ? undefined : Number(input.value)) : input.value; drawVisitForm(); });
  return el('label', { class: 'field', 'data-question': q.id }, label, input);
}

function drawVisitForm() {
  const box = $('visit-form');
  if (!box || !state.visiting) return;
  const qs = state.outcome === 'visited' ? (state.campaign.form.questions || []) : [];
  const applies = (q) => !q.when || state.answers[q.when.question] === q.when.equals;
  const finding = el('textarea', { id: 'visit-finding', rows: 2 });
  mount(box,
    el('fieldset', {}, el('legend', {}, t('outcome')), el('div', { class: 'checks' }, OUTCOMES.map((o) => el('label', {},
      el('input', { type: 'radio', name: 'outcome', value: o, checked: state.outcome === o, onchange: () => { state.outcome = o; drawVisitForm(); } }), ' ', t(`outcomes.${o}`))))),
    qs.filter(applies).map(question),
    el('label', { class: 'field' }, t('finding'), finding),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'btn btn-primary', id: 'visit-save', onclick: () => {
        const answers = {};
        if (state.outcome === 'visited') for (const q of qs.filter(applies)) if (state.answers[q.id] !== undefined) answers[q.id] = state.answers[q.id];
        const q = queue();
        q.push({ campaign: state.campaign.id, client_id: newKey(), household_id: state.visiting, round: state.campaign.current_round,
          outcome: state.outcome, visited_at_ms: Date.now(), answers, finding: finding.value.trim() || null });
        saveQueue(q);
        state.visiting = null;
        drawVisits();
        sync().catch(showError);
      } }, t('saveVisit')),
      el('button', { type: 'button', class: 'btn', onclick: () => { state.visiting = null; drawVisits(); } }, t('cancel'))));
}

function drawVisits() {
  const box = $('campaign');
  if (!box) return;
  if (!state.campaign) return mount(box, el('h2', {}, t('visits')), el('p', { class: 'muted' }, t('noCampaign')));
  const q = queue();
  const waiting = new Set(q.map((v) => v.household_id));
  mount(box,
    el('h2', {}, `${t('visits')} · ${state.campaign.title} · ${t('round', { n: state.campaign.current_round })}`),
    el('div', { class: 'row' },
      el('span', { id: 'sync-status', 'data-pending': String(q.length), 'aria-live': 'polite' }, q.length ? t('pending', { n: q.length }) : (state.syncNote || '')),
      el('button', { type: 'button', class: 'btn btn-small', id: 'sync-now', onclick: () => sync().catch(showError) }, t('syncNow'))),
    state.syncNote && q.length ? el('p', { class: 'small muted', id: 'sync-note' }, state.syncNote) : null,
    state.rejected.map((m) => el('p', { class: 'small error' }, m)),
    el('ul', { id: 'visit-tasks', class: 'case-list' }, shownTasks().map((task) => el('li', { class: 'case-item', 'data-household': task.household_id, 'data-status': waiting.has(task.household_id) ? 'queued' : task.status },
      el('div', { class: 'row' }, el('span', { class: 'title' }, task.address),
        el('span', { class: `badge ${task.status === 'done' ? 'ok' : task.status === 'revisit' ? 'near' : ''}` },
          waiting.has(task.household_id) ? t('queued') : t(`taskStatus.${task.status}`))),
      state.visiting === task.household_id ? el('div', { id: 'visit-form', class: 'stack' })
        : el('button', { type: 'button', class: 'btn btn-small', 'data-record': task.household_id, onclick: () => {
          Object.assign(state, { visiting: task.household_id, answers: {}, outcome: 'visited' });
          drawVisits();
        } }, t('record'))))),
    state.visitTasks.length > state.showTasks
      ? el('button', { type: 'button', class: 'btn', id: 'more-tasks', onclick: () => { state.showTasks += 20; drawVisits(); } },
        t('moreTasks', { n: state.visitTasks.length - state.showTasks }))
      : null);
  drawVisitForm();
}

/** Revisits due first, then households not yet visited, then those done; 20 at a time. */
function shownTasks() {
  const rank = { revisit: 0, pending: 1, done: 2 };
  return [...state.visitTasks].sort((a, b) => (rank[a.status] ?? 3) - (rank[b.status] ?? 3)
    || (a.revisit_due_ms ?? 0) - (b.revisit_due_ms ?? 0)).slice(0, state.showTasks);
}

async function main() {
  state.me = await requireRole('grid_worker');
  const codes = scopesOf(state.me, 'grid_worker');
  const [cats, ...grids] = await Promise.all([api.get('/api/v1/categories'), ...codes.map((c) => api.get(`/api/v1/regions/${c}`))]);
  state.categories = cats.items;
  state.grids = grids.map((g) => g.region);
  const maps = await Promise.all(codes.map((c) => api.get(`/api/v1/regions/${c}/map`)));
  codes.forEach((c, i) => { state.gridMaps[c] = maps[i].features.filter((f) => f.geometry); });
  topBar('field', state.me, layout);
  layout();
  await Promise.all([loadTasks(), loadPeople(), loadCampaign()]);
  window.addEventListener('online', () => sync().catch(showError));
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  if (queue().length) sync().catch(showError);
  ready();
}

main().catch(showError);
