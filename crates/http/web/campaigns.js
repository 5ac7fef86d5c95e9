// 社智在线 · household campaigns (入户排查) for the community, street or command that runs
// them: make a campaign for a region (all households, those with a key person, or those in
// one building type) with its checklist; follow its coverage round by round, drilling down
// region by region; export it to Excel; start the next round.
import {
  $, ApiError, addStrings, api, both, el, errorText, every, label, learnRegions, mount, num, pct, ready, regionOf, requireRole, scopesOf, showError, t,
  time, topBar,
} from './common.js';

addStrings({
  zh: {
    campaigns: '入户排查', newCampaign: '发起排查', none: '暂无排查任务', pick: '从左侧选择一项排查', region: '区域',
    title: '标题', rounds: '计划轮次', target: '排查对象', allHouseholds: '全部住户', byTag: '有重点人群的住户',
    byBuilding: '按建筑类型', form: '排查清单', addQuestion: '添加问题', remove: '删除', question: '问题', type: '类型',
    required: '必答', options: '选项（用逗号分隔）', min: '最小值', max: '最大值', askWhen: '仅当以下问题答“是”时询问',
    always: '始终询问', create: '发起', created: '已发起：{n} 户', households: '应访户数', done: '已完成', remaining: '未完成',
    coverage: '完成率', revisit: '待回访', findings: '发现问题', visits: '走访次数', roundOf: '第 {n} 轮（共 {of} 轮）',
    nextRound: '开始下一轮', confirmNext: '开始第 {n} 轮后，所有住户都要重新走访一次（本轮数据保留）。确定开始吗？', nextStarted: '已开始第 {n} 轮', exportXlsx: '导出 Excel', exportCsv: 'CSV', up: '返回上级',
    open: '查看下级', needTitle: '请填写标题', needQuestion: '每个问题都要填写题目', createdBy: '发起于 {time}',
    types: { yes_no: '是/否', number: '数字', text: '文字', choice: '单选' },
    buildings: {
      high_rise: '高层住宅（10层及以上）', multi_storey: '多层住宅（4至9层）', low_rise: '低层及自建房（3层及以下）',
      compound: '小区', courtyard: '院落', village_group: '村民小组', institution: '单位宿舍',
    },
    live: '每 10 秒自动刷新',
  },
  en: {
    campaigns: 'Household campaigns', newCampaign: 'New campaign', none: 'No campaigns', pick: 'Pick a campaign on the left',
    region: 'Region', title: 'Title', rounds: 'Rounds planned', target: 'Households to visit', allHouseholds: 'All households',
    byTag: 'Households with a key person', byBuilding: 'By building type', form: 'Checklist', addQuestion: 'Add a question',
    remove: 'Remove', question: 'Question', type: 'Type', required: 'Required', options: 'Options (comma-separated)',
    min: 'Minimum', max: 'Maximum', askWhen: 'Ask only when this question is answered "yes"', always: 'Always ask',
    create: 'Start', created: 'Started: {n} households', households: 'Households', done: 'Done', remaining: 'Remaining',
    coverage: 'Coverage', revisit: 'Revisits', findings: 'Findings', visits: 'Visits', roundOf: 'Round {n} of {of}',
    nextRound: 'Start the next round', confirmNext: 'Round {n} sends every household back to the visit list (this round\'s figures stay). Start it?', nextStarted: 'Round {n} started', exportXlsx: 'Export to Excel', exportCsv: 'CSV',
    up: 'Up one level', open: 'Open', needTitle: 'Write a title', needQuestion: 'Every question needs its text',
    createdBy: 'Started {time}',
    types: { yes_no: 'Yes / no', number: 'Number', text: 'Text', choice: 'One choice' },
    buildings: {
      high_rise: 'High-rise (10+ floors)', multi_storey: 'Multi-storey (4–9 floors)', low_rise: 'Low-rise and self-built (1–3 floors)',
      compound: 'Compounds', courtyard: 'Courtyards', village_group: 'Village groups', institution: 'Institution dormitories',
    },
    live: 'Refreshes every 10 s',
  },
});

const RUNNERS = ['community_staff', 'street_staff', 'command'];
const TAGS = ['elderly_alone', 'over_80', 'disabled', 'low_income', 'left_behind_child', 'severe_mental_disorder',
  'community_correction', 'veteran', 'pregnant'];
const BUILDINGS = ['high_rise', 'multi_storey', 'low_rise', 'compound', 'courtyard', 'village_group', 'institution'];

const state = {
  me: null, scopes: [], items: [], id: null, region: null, round: null, cov: null, flash: null, composing: false,
  questions: [], seq: 0, coverageTurn: 0,
};

const campaign = () => state.items.find((c) => c.id === state.id) || null;

function layout() {
  mount($('main'), el('div', { class: 'desk' },
    el('section', { class: 'stack', 'aria-label': t('campaigns') },
      el('button', { type: 'button', class: 'btn btn-primary', id: 'compose', onclick: () => {
        state.composing = true; state.id = null; state.flash = null;
        if (!state.questions.length) state.questions = [newQuestion()];
        history.replaceState(null, '', '#/new'); drawMain(); drawList();
      } }, t('newCampaign')),
      el('ul', { id: 'campaign-list', class: 'case-list' })),
    el('section', { id: 'campaign', class: 'card', 'aria-live': 'polite' })));
  drawList();
  drawMain();
}

function drawList() {
  const box = $('campaign-list');
  if (!box) return;
  if (!state.items.length) return mount(box, el('li', { class: 'muted' }, t('none')));
  mount(box, state.items.map((c) => el('li', { 'data-id': c.id }, el('button', {
    type: 'button', class: `case-item${c.id === state.id ? ' selected' : ''}`, onclick: () => { location.hash = `#/c/${c.id}`; },
  },
  el('div', { class: 'row' }, el('span', { class: 'title' }, c.title),
    el('span', { class: 'badge' }, t('roundOf', { n: c.current_round, of: c.rounds }))),
  el('div', { class: 'muted small' }, [
    regionOf(c.region_code).name, `${t('households')} ${num(c.households)}`,
    c.tag ? t(`tags.${c.tag}`) : null, c.building_type ? t(`buildings.${c.building_type}`) : null,
  ].filter(Boolean).join(' · '))))));
}

function drawMain() {
  const box = $('campaign');
  if (!box) return;
  if (state.composing) return mount(box, composeForm());
  const c = campaign();
  if (!c || !state.cov) return mount(box, el('p', { class: 'muted' }, t('pick')));
  const cov = state.cov;
  const q = `region=${cov.region.code}&round=${cov.round}`;
  const share = (k) => (k.total ? k.done / k.total : null);
  const row = (r, head) => el('tr', { 'data-region': r.code, 'data-done': r.counts.done || 0, 'data-total': r.counts.total || 0 },
    el('td', {}, head ? el('strong', {}, r.name)
      : r.code.length > 12 ? r.name // grids: coverage is kept down to the grid
        : el('button', { type: 'button', class: 'link', title: t('open'), onclick: () => drill(r.code) }, r.name)),
    ...['total', 'done'].map((k) => el('td', {}, num(r.counts[k] || 0))),
    el('td', {}, num((r.counts.total || 0) - (r.counts.done || 0))), el('td', {}, pct(share(r.counts))),
    ...['revisit', 'findings', 'visits'].map((k) => el('td', {}, num(r.counts[k] || 0))));
  mount(box,
    state.flash ? el('p', { class: 'notice-ok', role: 'status' }, state.flash) : null,
    el('div', { class: 'row' }, el('h2', { id: 'campaign-title' }, c.title),
      el('label', { class: 'row small' }, el('select', { id: 'round', 'aria-label': t('roundOf', { n: cov.round, of: c.rounds }),
        onchange: (e) => { state.round = Number(e.target.value); load().catch(showError); } },
      Array.from({ length: c.current_round }, (_, i) => el('option', { value: i + 1, selected: i + 1 === cov.round },
        t('roundOf', { n: i + 1, of: c.rounds })))))),
    el('p', { class: 'muted small' }, t('createdBy', { time: time(c.created_at_ms) })),
    el('nav', { class: 'crumbs' },
      cov.region.code !== c.region_code ? el('button', { type: 'button', id: 'up', onclick: () => drill(c.region_code) }, t('up')) : null,
      el('strong', {}, cov.region.name)),
    el('table', { class: 'list', id: 'coverage' },
      el('thead', {}, el('tr', {}, [t('region'), t('households'), t('done'), t('remaining'), t('coverage'), t('revisit'), t('findings'), t('visits')]
        .map((h) => el('th', {}, h)))),
      el('tbody', {}, row(cov.region, true), cov.children.filter((r) => r.counts.total).map((r) => row(r, false)))),
    el('div', { class: 'row' },
      el('a', { class: 'btn', id: 'export-xlsx', href: `/api/v1/campaigns/${c.id}/coverage.xlsx?${q}`, download: '' }, t('exportXlsx')),
      el('a', { class: 'btn', href: `/api/v1/campaigns/${c.id}/coverage.csv?${q}`, download: '' }, t('exportCsv')),
      c.current_round < c.rounds ? el('button', { type: 'button', class: 'btn', id: 'next-round', onclick: async (e) => {
        if (!window.confirm(t('confirmNext', { n: c.current_round + 1 }))) return;
        e.target.disabled = true;
        try {
          const r = await api.post(`/api/v1/campaigns/${c.id}/rounds`, {});
          await loadList();
          state.round = r.round;
          await load();
          state.flash = t('nextStarted', { n: r.round });
          drawMain();
        } catch (err) { e.target.disabled = false; showError(err); }
      } }, t('nextRound')) : null),
    el('p', { class: 'muted small' }, t('live')));
}

function drill(code) {
  state.region = code;
  load().catch(showError);
}

function newQuestion() {
  state.seq += 1;
  return { key: `q${Date.now().toString(36)}${state.seq}`, text_zh: '', type: 'yes_no', required: true, options: '', min: '', max: '', when: '' };
}

function composeForm() {
  const region = el('select', { id: 'new-region' }, state.scopes.map((c) => el('option', { value: c }, regionOf(c).name)));
  const title = el('input', { id: 'new-title', type: 'text', maxlength: 200, required: true });
  const rounds = el('input', { id: 'new-rounds', type: 'number', min: 1, max: 10, value: 3, required: true });
  const target = el('select', { id: 'new-target' },
    el('option', { value: '' }, t('allHouseholds')),
    el('optgroup', { label: t('byTag') }, TAGS.map((x) => el('option', { value: `tag:${x}` }, t(`tags.${x}`)))),
    el('optgroup', { label: t('byBuilding') }, BUILDINGS.map((x) => el('option', { value: `building:${x}` }, t(`buildings.${x}`)))));
  const list = el('ol', { id: 'questions', class: 'stack' });
  const drawQuestions = () => mount(list, state.questions.map((q, i) => {
    const earlier = state.questions.slice(0, i).filter((p) => p.type === 'yes_no' && p.text_zh.trim());
    const input = (name, attrs) => el('input', { ...attrs, value: q[name], oninput: (e) => { q[name] = e.target.value; } });
    return el('li', { class: 'card stack', 'data-question': i },
      el('label', { class: 'field' }, t('question'), input('text_zh', { type: 'text', maxlength: 200, class: 'q-text',
        onchange: drawQuestions })),
      el('div', { class: 'row' },
        el('label', { class: 'row small' }, t('type'), el('select', { class: 'q-type', onchange: (e) => { q.type = e.target.value; drawQuestions(); } },
          ['yes_no', 'number', 'text', 'choice'].map((k) => el('option', { value: k, selected: q.type === k }, t(`types.${k}`))))),
        el('label', { class: 'row small' }, el('input', { type: 'checkbox', class: 'q-required', checked: q.required,
          onchange: (e) => { q.required = e.target.checked; } }), t('required')),
        state.questions.length > 1 ? el('button', { type: 'button', class: 'btn btn-small', onclick: () => {
          state.questions.splice(i, 1); drawQuestions();
        } }, t('remove')) : null),
      q.type === 'choice' ? el('label', { class: 'field' }, t('options'), input('options', { type: 'text', class: 'q-options' })) : null,
      q.type === 'number' ? el('div', { class: 'row' },
        el('label', { class: 'row small' }, t('min'), input('min', { type: 'number', class: 'q-min' })),
        el('label', { class: 'row small' }, t('max'), input('max', { type: 'number', class: 'q-max' }))) : null,
      earlier.length ? el('label', { class: 'field small' }, t('askWhen'), el('select', { class: 'q-when', onchange: (e) => { q.when = e.target.value; } },
        el('option', { value: '' }, t('always')),
        earlier.map((p) => el('option', { value: p.key, selected: q.when === p.key }, p.text_zh)))) : null);
  }));
  drawQuestions();
  const submit = el('button', { type: 'submit', class: 'btn btn-primary', id: 'new-submit' }, t('create'));
  return el('form', { class: 'step-form', id: 'new-campaign', onsubmit: async (e) => {
    e.preventDefault();
    if (!title.value.trim()) return showError(new ApiError(both('needTitle')));
    if (state.questions.some((q) => !q.text_zh.trim())) return showError(new ApiError(both('needQuestion')));
    const questions = state.questions.map((q) => {
      const out = { id: q.key, text_zh: q.text_zh.trim(), type: q.type, required: q.required };
      if (q.type === 'choice') out.options = q.options.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
      if (q.type === 'number') {
        if (q.min !== '') out.min = Number(q.min);
        if (q.max !== '') out.max = Number(q.max);
      }
      if (q.when) out.when = { question: q.when, equals: true };
      return out;
    });
    const [kind, value] = target.value.split(':');
    const body = { region: region.value, title: title.value.trim(), rounds: Number(rounds.value), form: { questions } };
    if (kind === 'tag') body.tag = value;
    if (kind === 'building') body.building_type = value;
    submit.disabled = true;
    try {
      const r = await api.post('/api/v1/campaigns', body);
      state.composing = false;
      state.questions = [];
      await loadList();
      state.id = r.id; state.region = null; state.round = null;
      history.replaceState(null, '', `#/c/${r.id}`);
      await load();
      state.flash = t('created', { n: num(r.households) });
      drawMain();
    } catch (err) {
      submit.disabled = false;
      showError(err);
    }
  } }, el('h2', {}, t('newCampaign')),
  el('label', { class: 'field' }, t('region'), region),
  el('label', { class: 'field' }, t('title'), title),
  el('div', { class: 'grid2' }, el('label', { class: 'field' }, t('rounds'), rounds), el('label', { class: 'field' }, t('target'), target)),
  el('fieldset', {}, el('legend', {}, t('form')), list,
    el('button', { type: 'button', class: 'btn', id: 'add-question', onclick: () => { state.questions.push(newQuestion()); drawQuestions(); } }, t('addQuestion'))),
  el('div', { class: 'row' }, submit, el('button', { type: 'button', class: 'btn', onclick: () => {
    state.composing = false; history.replaceState(null, '', '#'); drawMain();
  } }, t('cancel'))));
}

async function loadList() {
  state.items = (await api.get('/api/v1/campaigns')).items;
  await learnRegions(state.items.map((c) => c.region_code));
  drawList();
}

/** Reads the open campaign's coverage for the chosen region and round. */
async function load() {
  const c = campaign();
  if (!c) return;
  const p = new URLSearchParams({ region: state.region || c.region_code });
  if (state.round) p.set('round', state.round);
  // A later choice of region or round wins over an earlier answer arriving late.
  const turn = ++state.coverageTurn;
  const cov = await api.get(`/api/v1/campaigns/${c.id}/coverage?${p}`);
  if (turn !== state.coverageTurn) return;
  state.cov = cov;
  if (!state.composing) drawMain();
  drawList();
}

function route() {
  const m = /^#\/c\/(\d+)$/.exec(location.hash);
  if (!m) return;
  state.composing = false; state.flash = null;
  state.id = Number(m[1]); state.region = null; state.round = null;
  load().catch(showError);
}

async function main() {
  state.me = await requireRole(...RUNNERS);
  state.scopes = scopesOf(state.me, ...RUNNERS);
  await learnRegions(state.scopes);
  topBar('campaigns', state.me, layout);
  layout();
  await loadList();
  window.addEventListener('hashchange', route);
  if (location.hash === '#/new') document.getElementById('compose')?.click();
  else if (!/^#\/c\//.test(location.hash) && state.items[0]) history.replaceState(null, '', `#/c/${state.items[0].id}`);
  route();
  every(10000, () => (state.id != null && !state.composing ? load() : null));
  ready();
}

main().catch((e) => { showError(e); console.error(errorText(e)); });
