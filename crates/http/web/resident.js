// 社智在线 · residents (居民诉求): raise an appeal without installing anything (a phone number
// as contact), follow it by number, see the timeline, and — signed in — rate the result or
// say it is not fixed, which reopens it.
import {
  $, ApiError, addStrings, api, both, drawMap, el, label, lang, me, mount, newKey, photoOf, ready, showError, svg, t, time,
  topBar, suggestCategories, categoryChips,
} from './common.js';

addStrings({
  zh: {
    raise: '我要反映问题', what: '请描述问题', whatHint: '如：小区门口路灯坏了，晚上很黑', category: '问题类别',
    suggest: '推荐类别', chooseCategory: '请选择类别', phone: '手机号（用于回访，仅显示后四位）', photo: '照片（可选）',
    place: '问题位置', useLocation: '使用手机定位', mapHint: '或在地图上点击选择（点击区县可放大）', placeSet: '已选位置：{chain}',
    noPlace: '请先确定问题位置', address: '详细地址', addressHint: '如：锦江区某某路12号门口', submit: '提交诉求',
    made: '提交成功！编号 {number}。请记住编号和手机后四位，用于查询进度。', track: '查询办理进度', number: '诉求编号',
    last4: '手机后四位', query: '查询', stage: '当前状态', timeline: '办理过程', mine: '我的诉求', noMine: '您还没有提交过诉求',
    rate: '评价办理结果', satisfied: '满意', basic: '基本满意', unsatisfied: '不满意', notFixed: '问题没有解决，要求重新办理',
    note: '补充说明（可选）', rated: '感谢您的评价', reopened: '已重新办理', anonymousNote: '无需注册。登录后可查看全部诉求并评价。',
    reset: '重新选择', signInToRate: '登录后可评价办理结果',
    nearby: '附近 {n} 件同类问题正在办理，可能是同一问题，工作人员会一并处理：', nearbyOne: '{distance} 米外，{stage}，{day}上报',
  },
  en: {
    raise: 'Raise an appeal', what: 'What is wrong?', whatHint: 'e.g. the street light at the gate is broken, it is dark at night',
    category: 'Category', suggest: 'Suggested', chooseCategory: 'Choose a category',
    phone: 'Mobile number (for the follow-up call; only the last 4 digits are shown)', photo: 'Photo (optional)',
    place: 'Where', useLocation: 'Use my location', mapHint: 'or click the map (click a district to zoom in)',
    placeSet: 'Place: {chain}', noPlace: 'Set the place first', address: 'Address', addressHint: 'e.g. gate of No. 12, … Road',
    submit: 'Submit', made: 'Submitted! Your number is {number}. Keep it and your phone\'s last 4 digits to follow it.',
    nearby: '{n} open reports of the same kind nearby may be the same problem; staff will handle them together:',
    nearbyOne: '{distance} m away, {stage}, reported {day}',
    track: 'Follow an appeal', number: 'Appeal number', last4: 'Last 4 digits of the phone', query: 'Look up',
    stage: 'Status', timeline: 'Timeline', mine: 'My appeals', noMine: 'You have not raised any appeal yet',
    rate: 'Rate the result', satisfied: 'Satisfied', basic: 'Basically satisfied', unsatisfied: 'Unsatisfied',
    notFixed: 'The problem is not fixed: handle it again', note: 'Anything to add (optional)', rated: 'Thank you for rating',
    reopened: 'It will be handled again', anonymousNote: 'No account needed. Sign in to see all your appeals and rate them.',
    reset: 'Choose again', signInToRate: 'Sign in to rate the result',
  },
});

const state = {
  me: null, categories: [], suggested: [], category: '', point: null, chain: null, mapCode: null, features: [],
  made: null, tracking: null, mine: [], open: null, key: newKey(), flash: null,
};

function layout() {
  const signed = !!state.me?.user_id;
  const desc = el('textarea', { id: 'appeal-description', rows: 4, placeholder: t('whatHint'), required: true });
  const phone = el('input', { id: 'appeal-phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', required: !signed, pattern: '1[3-9][0-9]{9}' });
  const address = el('input', { id: 'appeal-address', placeholder: t('addressHint') });
  const photo = el('input', { id: 'appeal-photo', type: 'file', accept: 'image/*' });
  let timer = null;
  desc.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => suggest(desc.value).catch(showError), 300); });
  const catSelect = el('select', { id: 'appeal-category', required: true, onchange: (e) => { state.category = e.target.value; drawChips(); } },
    el('option', { value: '' }, t('chooseCategory')),
    state.categories.filter((c) => c.leaf).map((c) => el('option', { value: c.code }, c[`name_${lang()}`])));
  const form = el('form', { class: 'card stack', id: 'appeal-form', onsubmit: async (e) => {
    e.preventDefault();
    if (!state.point) return showError(new ApiError(both('noPlace')));
    if (!state.category) return showError(new ApiError(both('chooseCategory')));
    const body = {
      category: state.category, description: desc.value.trim(), lon: state.point[0], lat: state.point[1],
      address: address.value.trim() || (state.chain || []).map((r) => r.name).slice(1).join(''),
      contact_phone: phone.value.trim() || null,
      photos: photo.files?.length ? [await photoOf(photo.files[0])] : [],
    };
    const btn = $('appeal-submit');
    btn.disabled = true;
    try {
      const r = await api.post('/api/v1/cases', body, { 'Idempotency-Key': state.key });
      state.key = newKey();
      state.made = r;
      Object.assign(state, { point: null, chain: null, category: '', suggested: [] });
      layout();
      if (signed) await loadMine();
    } catch (err) { btn.disabled = false; showError(err); }
  } },
  el('h2', {}, t('raise')),
  signed ? null : el('p', { class: 'small muted' }, t('anonymousNote')),
  el('label', { class: 'field' }, t('what'), desc),
  el('div', {}, el('div', { class: 'small muted' }, t('suggest')), el('div', { class: 'chips', id: 'suggestions' })),
  el('label', { class: 'field' }, t('category'), catSelect),
  el('fieldset', {}, el('legend', {}, t('place')),
    el('div', { class: 'row' }, el('button', { type: 'button', class: 'btn', id: 'use-location', onclick: locate }, t('useLocation')),
      el('button', { type: 'button', class: 'btn btn-small', onclick: () => zoom(null) }, t('reset'))),
    el('p', { class: 'small muted' }, t('mapHint')),
    el('div', { class: 'map-box' }, svg('svg', { id: 'appeal-map', class: 'map-svg', role: 'group', 'aria-label': t('place') })),
    el('p', { id: 'place', class: 'small', 'aria-live': 'polite' })),
  el('label', { class: 'field' }, t('address'), address),
  el('label', { class: 'field' }, t('phone'), phone),
  el('label', { class: 'field' }, t('photo'), photo),
  el('button', { type: 'submit', class: 'btn btn-primary', id: 'appeal-submit' }, t('submit')));

  const number = el('input', { id: 'track-number', required: true, value: state.made?.number || '', autocapitalize: 'characters' });
  const last4 = el('input', { id: 'track-last4', required: true, inputmode: 'numeric', pattern: '[0-9]{4}', maxlength: 4 });
  const track = el('form', { class: 'card stack', id: 'track-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      state.tracking = await api.get(`/api/v1/track/${encodeURIComponent(number.value.trim())}?phone_last4=${encodeURIComponent(last4.value.trim())}`);
      drawTracking();
    } catch (err) { showError(err); }
  } }, el('h2', {}, t('track')),
  el('label', { class: 'field' }, t('number'), number), el('label', { class: 'field' }, t('last4'), last4),
  el('button', { type: 'submit', class: 'btn' }, t('query')), el('div', { id: 'tracking', 'aria-live': 'polite' }));

  mount($('main'), el('div', { class: 'phone' },
    state.made ? el('div', { class: 'notice-ok', role: 'status', id: 'appeal-result', 'data-number': state.made.number }, t('made', { number: state.made.number }),
      state.made.possible_duplicates?.length ? el('div', { class: 'small', id: 'appeal-nearby' }, t('nearby', { n: state.made.possible_duplicates.length }),
        el('ul', {}, state.made.possible_duplicates.map((d) => el('li', {}, t('nearbyOne', { distance: Math.round(d.distance_m), stage: label('stages', d.stage), day: new Date(d.reported_at_ms).toLocaleDateString(lang() === 'zh' ? 'zh-CN' : 'en-GB') }),
          d.public_text ? el('div', { class: 'muted' }, d.public_text) : null)))) : null) : null,
    form,
    signed ? el('section', { class: 'card' }, el('h2', {}, t('mine')), el('div', { id: 'mine' })) : null,
    track));
  drawChips(); drawPlaceMap(); drawMine(); drawTracking();
}

const suggest = (text) => suggestCategories(state, text, drawChips);
const drawChips = () => categoryChips(state, 'appeal-category');

/** Shows the map of a region (the city when null): click a district or street to zoom in,
 *  click inside a community to drop the pin. */
async function zoom(code) {
  const root = code || (await api.get('/api/v1/regions/510100000000')).region.code;
  const fc = await api.get(`/api/v1/regions/${root}/map`);
  state.mapCode = root;
  state.features = fc.features.filter((f) => f.geometry);
  drawPlaceMap();
}
async function place(pt) {
  const loc = await api.get(`/api/v1/locate?lon=${pt[0]}&lat=${pt[1]}`);
  if (!loc.chain.length) return;
  const depth = loc.chain.findIndex((r) => r.code === state.mapCode);
  const next = loc.chain[depth + 1];
  // Zoom in level by level down to a community's grids, then drop the pin.
  if (next && ['district', 'street', 'community'].includes(next.level)) {
    state.point = null;
    await zoom(next.code);
    if (next.level !== 'community') return;
  }
  state.point = pt;
  state.chain = loc.chain;
  drawPlaceMap();
}
function locate() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(async (p) => {
    const pt = [p.coords.longitude, p.coords.latitude];
    try {
      const loc = await api.get(`/api/v1/locate?lon=${pt[0]}&lat=${pt[1]}`);
      const community = loc.chain.find((r) => r.level === 'community');
      if (community) await zoom(community.code);
      state.point = pt;
      state.chain = loc.chain;
      drawPlaceMap();
    } catch (e) { showError(e); }
  }, () => {}, { enableHighAccuracy: true, timeout: 15000 });
}
function drawPlaceMap() {
  if (!$('appeal-map')) return;
  drawMap($('appeal-map'), state.features, {
    pin: state.point, title: (f) => f.properties.name,
    labels: state.features.length <= 40 ? (f) => f.properties.name : null,
    onPick: (pt) => place(pt).catch(showError),
  });
  $('place').textContent = state.chain ? t('placeSet', { chain: state.chain.slice(1).map((r) => r.name).join(' › ') }) : '';
}

function steps(list) {
  return el('ol', { class: 'timeline' }, list.map(([step, at]) => el('li', { 'data-step': step },
    el('strong', {}, label('steps', step)), ' ', el('span', { class: 'muted small' }, time(at)))));
}
function drawTracking() {
  const box = $('tracking');
  if (!box || !state.tracking) return;
  const r = state.tracking;
  mount(box, el('p', {}, `${r.number} · ${r.title}`), el('p', {}, `${t('stage')}：`, el('strong', { id: 'track-stage' }, label('stages', r.stage))),
    el('h3', {}, t('timeline')), steps(r.steps));
}

async function loadMine() {
  const page = await api.get('/api/v1/cases?box=mine&limit=20');
  state.mine = page.items;
  drawMine();
}
function drawMine() {
  const box = $('mine');
  if (!box) return;
  if (!state.mine.length) return mount(box, el('p', { class: 'muted' }, t('noMine')));
  mount(box, el('ul', { class: 'case-list' }, state.mine.map((c) => el('li', {},
    el('button', { type: 'button', class: 'case-item', 'data-number': c.number, onclick: () => openMine(c.id).catch(showError) },
      el('div', { class: 'row' }, el('span', { class: 'title' }, c.title), el('span', { class: 'badge', 'data-stage': c.stage }, label('stages', c.stage))),
      el('div', { class: 'muted small' }, `${c.number} · ${time(c.created_at_ms)}`)),
    state.open?.case.id === c.id ? detail() : null))));
}
async function openMine(id) {
  state.open = state.open?.case.id === id ? null : await api.get(`/api/v1/cases/${id}`);
  drawMine();
}
function detail() {
  const v = state.open;
  const canRate = v.actions.includes('rate');
  const sats = ['satisfied', 'basic', 'unsatisfied'].map((s) => el('input', { type: 'radio', name: 'rate-sat', value: s, checked: s === 'satisfied' }));
  const notFixed = el('input', { type: 'checkbox', id: 'rate-not-fixed' });
  const note = el('textarea', { id: 'rate-note', rows: 2 });
  return el('div', { class: 'card stack', id: 'my-case' },
    el('p', {}, v.description),
    el('ol', { class: 'timeline' }, v.events.map((e) => el('li', { 'data-step': e.step }, el('strong', {}, label('steps', e.step)), ' ',
      el('span', { class: 'muted small' }, time(e.at_ms)), e.note ? el('div', { class: 'small' }, e.note) : null))),
    canRate ? el('form', { class: 'stack', id: 'rate-form', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const body = { step: 'rate', satisfaction: sats.find((r) => r.checked).value, not_fixed: notFixed.checked, note: note.value.trim(), expect_events: v.events.length };
        await api.post(`/api/v1/cases/${v.case.id}/steps`, body);
        state.flash = notFixed.checked ? t('reopened') : t('rated');
        state.open = await api.get(`/api/v1/cases/${v.case.id}`);
        await loadMine();
      } catch (err) { showError(err); }
    } }, el('h3', {}, t('rate')),
    el('div', { class: 'checks' }, sats.map((r) => el('label', {}, r, ' ', t(r.value)))),
    el('label', {}, notFixed, ' ', t('notFixed')), el('label', { class: 'field' }, t('note'), note),
    el('button', { type: 'submit', class: 'btn btn-primary', id: 'rate-submit' }, t('rate'))) : null,
    state.flash ? el('p', { class: 'notice-ok', role: 'status' }, state.flash) : null);
}

async function main() {
  const [m, cats] = await Promise.all([me(), api.get('/api/v1/categories')]);
  state.me = m;
  state.categories = cats.items;
  topBar('resident', m, layout);
  layout();
  await zoom(null);
  if (m.user_id) await loadMine();
  ready();
}

main().catch(showError);
