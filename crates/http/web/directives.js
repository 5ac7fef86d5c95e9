// 社智在线 · directives (指令): issue an order to every street, community and grid below;
// follow it live, level by level, with the recipients that have not signed or reported;
// amend or withdraw it. Recipients sign for the current version and report back here, and
// see the reminders sent to them.
import {
  $, ApiError, addStrings, api, b64, both, clock, el, errorText, every, label, lang, learnRegions, mount, num, pct, ready, regionOf, requireRole, scopesOf,
  showError, t, time, topBar,
} from './common.js';

addStrings({
  zh: {
    directives: '指令', issueNew: '下发指令', list: '指令列表', empty: '暂无指令', pick: '从左侧选择一条指令',
    issuer: '下发单位', title: '标题', content: '内容', deadline: '反馈截止', levelsQ: '下发到（可多选）', attachments: '附件',
    submitIssue: '下发', issued: '已下发给 {n} 个单位', version: '第 {n} 版', active: '执行中', withdrawn: '已撤回',
    progress: '落实进度', level: '层级', recipients: '接收', signed: '已签收', reported: '已反馈',
    unsigned: '未签收', unreported: '已签收未反馈', allDone: '全部已反馈', 
    mine: '本单位', sign: '签收', report: '反馈落实情况', reportText: '落实情况', sendReport: '提交反馈',
    stateUnsigned: '待签收', stateSigned: '已签收待反馈', stateReported: '已反馈', signedOk: '已签收第 {n} 版', reportedOk: '已反馈',
    amend: '修改指令', amendHint: '修改后各单位须重新签收', amended: '已修改为第 {n} 版', withdraw: '撤回指令', reason: '撤回原因',
    withdrawnOk: '指令已撤回', reminders: '催办提醒', noReminders: '暂无催办', chooseLevel: '请至少选择一个层级',
    needTitle: '请填写标题和内容', needReport: '请填写落实情况', issuedAt: '下发时间', file: '{name}',
    live: '每 5 秒自动刷新', from: '来自 {name}', updatedAt: '更新于 {time}', region: '区域',
  },
  en: {
    directives: 'Directives', issueNew: 'Issue a directive', list: 'Directives', empty: 'No directives',
    pick: 'Pick a directive on the left', issuer: 'Issued by', title: 'Title', content: 'Content', deadline: 'Report by',
    levelsQ: 'Send to (any number)', attachments: 'Attachments', submitIssue: 'Issue', issued: 'Sent to {n} recipients',
    version: 'version {n}', active: 'Active', withdrawn: 'Withdrawn', progress: 'Progress', level: 'Level',
    recipients: 'Recipients', signed: 'Signed', reported: 'Reported', unsigned: 'Not signed', unreported: 'Signed, not reported',
    allDone: 'Everyone has reported',  mine: 'Your region', sign: 'Sign for it',
    report: 'Report back', reportText: 'What was done', sendReport: 'Send the report', stateUnsigned: 'To sign',
    stateSigned: 'Signed, to report', stateReported: 'Reported', signedOk: 'Signed version {n}', reportedOk: 'Reported',
    amend: 'Amend', amendHint: 'Every recipient must sign the amended version again', amended: 'Amended: version {n}',
    withdraw: 'Withdraw', reason: 'Reason', withdrawnOk: 'The directive was withdrawn', reminders: 'Reminders',
    noReminders: 'No reminders', chooseLevel: 'Choose at least one level', needTitle: 'Write a title and the content',
    needReport: 'Write what was done', issuedAt: 'Issued', file: '{name}', live: 'Refreshes every 5 s', from: 'from {name}',
    updatedAt: 'Updated {time}', region: 'Region',
  },
});

const ISSUERS = ['community_staff', 'street_staff', 'command'];
const ANSWERERS = ['grid_worker', 'community_staff', 'street_staff', 'command'];
const BELOW = {
  city: ['district', 'street', 'community', 'grid'],
  district: ['street', 'community', 'grid'],
  street: ['community', 'grid'],
  community: ['grid'],
};

const state = {
  me: null, list: null, id: null, view: null, flash: null, composing: false, issuing: [], updated: null,
};

const nameOf = (code) => regionOf(code).name;
const answersOf = (id) => (state.list?.answers || []).filter((a) => a.directive_id === id);
function standing(a) {
  if (a.reported) return ['stateReported', 'ok'];
  if (a.signed) return ['stateSigned', 'near'];
  return ['stateUnsigned', 'late'];
}

function layout() {
  mount($('main'), el('div', { class: 'desk' },
    el('section', { class: 'stack', 'aria-label': t('list') },
      state.issuing.length ? el('button', { type: 'button', class: 'btn btn-primary', id: 'compose', onclick: () => {
        state.composing = true; state.id = null; state.view = null; history.replaceState(null, '', '#/new'); drawMain();
      } }, t('issueNew')) : null,
      el('div', { class: 'card' }, el('h2', {}, t('reminders')), el('ul', { id: 'notices', class: 'case-list small' })),
      el('ul', { id: 'directive-list', class: 'case-list' })),
    el('section', { id: 'directive', class: 'card', 'aria-live': 'polite' })),
  el('p', { id: 'updated', class: 'muted small' }));
  drawList();
  drawMain();
}

function drawList() {
  const box = $('directive-list');
  if (!box || !state.list) return;
  const items = state.list.items;
  if (!items.length) mount(box, el('li', { class: 'muted' }, t('empty')));
  else mount(box, items.map((d) => {
    const k = d.status === 'withdrawn' ? { text: t('withdrawn'), state: '' } : clock(d.deadline_ms);
    const mine = answersOf(d.id);
    return el('li', { 'data-id': d.id }, el('button', {
      type: 'button', class: `case-item${d.id === state.id ? ' selected' : ''}`,
      onclick: () => { location.hash = `#/d/${d.id}`; },
    },
    el('div', { class: 'row' }, el('span', { class: 'title' }, d.title), el('span', { class: `badge ${k.state}` }, k.text),
      mine.map((a) => {
        const [key, cls] = standing(a);
        return el('span', { class: `badge ${cls}`, 'data-answer': key }, t(key));
      })),
    el('div', { class: 'muted small' }, `${t('from', { name: nameOf(d.region_code) })} · ${t('version', { n: d.version })} · ${t('recipients')} ${num(d.recipients)}`)));
  }));
  const notes = state.list.notices;
  mount($('notices'), notes.length
    ? notes.slice(0, 8).map((n) => el('li', { 'data-rule': n.rule },
      el('a', { href: `#/d/${n.directive_id}` }, n[`text_${lang()}`] || n.text_zh),
      el('span', { class: 'muted' }, ` · ${time(n.at_ms)}`)))
    : el('li', { class: 'muted' }, t('noReminders')));
  if ($('updated') && state.updated) $('updated').textContent = `${t('updatedAt', { time: time(state.updated) })} · ${t('live')}`;
}

function drawMain() {
  const box = $('directive');
  if (!box) return;
  if (state.composing) return mount(box, composeForm());
  if (!state.view) return mount(box, el('p', { class: 'muted' }, t('pick')));
  const v = state.view;
  const d = v.directive;
  const k = d.status === 'withdrawn' ? { text: t('withdrawn'), state: '' } : clock(d.deadline_ms);
  const unsigned = v.pending.filter((r) => !r.signed);
  const unreported = v.pending.filter((r) => r.signed);
  mount(box,
    state.flash ? el('p', { class: 'notice-ok', role: 'status', id: 'flash' }, state.flash) : null,
    el('div', { class: 'row' }, el('h2', { id: 'directive-title' }, d.title),
      el('span', { class: 'badge', id: 'directive-status', 'data-status': d.status, 'data-version': d.version },
        `${t(d.status === 'active' ? 'active' : 'withdrawn')} · ${t('version', { n: d.version })}`),
      el('span', { class: `badge ${k.state}` }, k.text)),
    el('dl', { class: 'facts small' },
      el('dt', {}, t('issuer')), el('dd', {}, nameOf(d.region_code)),
      el('dt', {}, t('issuedAt')), el('dd', {}, time(d.issued_at_ms)),
      el('dt', {}, t('deadline')), el('dd', {}, time(d.deadline_ms)),
      el('dt', {}, t('levelsQ')), el('dd', {}, d.target_levels.map((l) => label('levels', l)).join('、'))),
    el('p', { id: 'directive-content', style: 'white-space: pre-wrap' }, d.content),
    d.attachments.length ? [el('h3', {}, t('attachments')), el('ul', { id: 'attachments' }, d.attachments.map(([id, name]) =>
      el('li', {}, el('a', { href: `/api/v1/directives/${d.id}/attachments/${id}`, download: name }, name))))] : null,
    v.mine.length ? myAnswers(v) : null,
    el('h3', {}, t('progress')),
    el('table', { class: 'list', id: 'progress' },
      el('thead', {}, el('tr', {}, [t('level'), t('recipients'), t('signed'), t('reported')].map((h) => el('th', {}, h)))),
      el('tbody', {}, v.progress.map((p) => el('tr', {
        'data-level': p.level, 'data-recipients': p.recipients, 'data-signed': p.signed, 'data-reported': p.reported,
      },
      el('td', {}, label('levels', p.level)), el('td', {}, num(p.recipients)),
      el('td', {}, bar(p.signed, p.recipients)), el('td', {}, bar(p.reported, p.recipients)))))),
    v.pending.length
      ? el('div', { class: 'grid2' },
        pendingList('pending-unsigned', t('unsigned'), unsigned),
        pendingList('pending-unreported', t('unreported'), unreported))
      : el('p', { class: 'muted', id: 'all-reported' }, t('allDone')),
    state.more && !state.extraDone ? el('button', { type: 'button', class: 'btn', id: 'more-pending', onclick: (e) => act(e.target, morePending) }, t('more')) : null,
    v.may_manage ? manageForms(d) : null);
}

function bar(n, of) {
  const share = of ? n / of : 0;
  return el('div', { class: 'bar-row', style: 'grid-template-columns: 1fr 7rem' },
    el('div', {}, el('div', { class: 'bar', style: `width:${Math.round(share * 100)}%` })),
    el('span', {}, `${num(n)} · ${pct(share)}`));
}

function pendingList(id, title, items) {
  return el('div', {}, el('h3', {}, `${title}（${num(items.length)}）`),
    el('ul', { id, class: 'small scroll-list' }, items.map((r) => el('li', { 'data-code': r.region_code },
      `${r.name} · ${label('levels', r.level)}`, r.signed && r.signed_at_ms ? el('span', { class: 'muted' }, ` · ${t('signed')} ${time(r.signed_at_ms)}`) : null))));
}

function myAnswers(v) {
  const d = v.directive;
  return el('div', { class: 'card', id: 'my-answers' }, el('h3', {}, t('mine')), v.mine.map((r) => {
    const [key, cls] = standing(r);
    const text = el('textarea', { rows: 3, 'data-report': r.region_code, 'aria-label': t('reportText') }, r.report || '');
    return el('div', { class: 'stack', 'data-region': r.region_code, 'data-state': key },
      el('div', { class: 'row' }, el('strong', {}, r.name), el('span', { class: `badge ${cls}` }, t(key))),
      d.status === 'active' ? [
        r.signed ? null : el('button', { type: 'button', class: 'btn btn-primary', 'data-sign': r.region_code, onclick: (e) => act(e.target, async () => {
          const a = await api.post(`/api/v1/directives/${d.id}/sign`, { region: r.region_code });
          return t('signedOk', { n: a.version });
        }) }, t('sign')),
        el('label', { class: 'field' }, t('reportText'), text),
        el('button', { type: 'button', class: 'btn', 'data-send-report': r.region_code, onclick: (e) => act(e.target, async () => {
          if (!text.value.trim()) throw new ApiError(both('needReport'));
          await api.post(`/api/v1/directives/${d.id}/report`, { region: r.region_code, report: text.value.trim() });
          return t('reportedOk');
        }) }, t('sendReport')),
      ] : null);
  }));
}

function manageForms(d) {
  const content = el('textarea', { id: 'amend-content', rows: 4 }, d.content);
  const deadline = el('input', { id: 'amend-deadline', type: 'datetime-local', value: localInput(d.deadline_ms), required: true });
  const reason = el('input', { id: 'withdraw-reason', type: 'text', maxlength: 1000 });
  return el('div', { class: 'grid2' },
    el('form', { class: 'step-form card', id: 'amend-form', onsubmit: (e) => {
      e.preventDefault();
      act(e.submitter, async () => {
        const a = await api.post(`/api/v1/directives/${d.id}/amend`, { content: content.value, deadline_ms: fromInput(deadline.value) });
        return t('amended', { n: a.version });
      });
    } }, el('h3', {}, t('amend')), el('p', { class: 'muted small' }, t('amendHint')),
    el('label', { class: 'field' }, t('content'), content), el('label', { class: 'field' }, t('deadline'), deadline),
    el('button', { type: 'submit', class: 'btn', id: 'amend-submit' }, t('amend'))),
    el('form', { class: 'step-form card', id: 'withdraw-form', onsubmit: (e) => {
      e.preventDefault();
      act(e.submitter, async () => {
        await api.post(`/api/v1/directives/${d.id}/withdraw`, { reason: reason.value });
        return t('withdrawnOk');
      });
    } }, el('h3', {}, t('withdraw')), el('label', { class: 'field' }, t('reason'), reason),
    el('button', { type: 'submit', class: 'btn', id: 'withdraw-submit' }, t('withdraw'))));
}

/** Fetches the next page of recipients that have not reported. */
async function morePending() {
  const after = state.extra.length ? state.extra[state.extra.length - 1].region_code : state.more;
  const page = await api.get(`/api/v1/directives/${state.id}/recipients?limit=500&cursor=${after}`);
  state.extra = state.extra.concat(page.items);
  state.extraDone = !page.next_cursor;
  return null;
}

/** Runs one step with its button disabled, then shows its outcome and reloads. */
async function act(button, f) {
  if (button) button.disabled = true;
  try {
    const done = await f();
    await Promise.all([loadList(), openDirective(state.id)]);
    state.flash = done;
    drawMain();
  } catch (err) {
    showError(err);
  } finally {
    if (button) button.disabled = false;
  }
}

// `datetime-local` works in the browser's zone; deadlines are instants.
function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}
const fromInput = (v) => new Date(v).getTime();

function composeForm() {
  const region = el('select', { id: 'issue-region' }, state.issuing.map((c) => el('option', { value: c }, nameOf(c))));
  const levels = el('div', { class: 'checks', id: 'issue-levels' });
  const drawLevels = () => mount(levels, (BELOW[regionOf(region.value).level] || []).map((l) =>
    el('label', {}, el('input', { type: 'checkbox', value: l, checked: l !== 'grid' }), ' ', label('levels', l))));
  region.addEventListener('change', drawLevels);
  drawLevels();
  const title = el('input', { id: 'issue-title', type: 'text', maxlength: 200, required: true });
  const content = el('textarea', { id: 'issue-content', rows: 6, required: true });
  const soon = new Date(Date.now() + 3 * 86400000);
  soon.setHours(18, 0, 0, 0);
  const deadline = el('input', { id: 'issue-deadline', type: 'datetime-local', value: localInput(soon.getTime()), required: true });
  const files = el('input', { id: 'issue-files', type: 'file', multiple: true });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary', id: 'issue-submit' }, t('submitIssue'));
  return el('form', { class: 'step-form', id: 'issue-form', onsubmit: async (e) => {
    e.preventDefault();
    const chosen = [...levels.querySelectorAll('input:checked')].map((i) => i.value);
    if (!title.value.trim() || !content.value.trim()) return showError(new ApiError(both('needTitle')));
    if (!chosen.length) return showError(new ApiError(both('chooseLevel')));
    submit.disabled = true;
    try {
      const attachments = await Promise.all([...files.files].map(async (f) => ({
        name: f.name, content_type: f.type || 'application/octet-stream', data_base64: b64(new Uint8Array(await f.arrayBuffer())),
      })));
      const r = await api.post('/api/v1/directives', {
        region: region.value, title: title.value.trim(), content: content.value.trim(), levels: chosen,
        deadline_ms: fromInput(deadline.value), attachments,
      });
      state.composing = false;
      history.replaceState(null, '', `#/d/${r.id}`);
      await Promise.all([loadList(), openDirective(r.id)]);
      state.flash = t('issued', { n: num(r.recipients) });
      drawMain();
    } catch (err) {
      submit.disabled = false;
      showError(err);
    }
  } }, el('h2', {}, t('issueNew')),
  el('label', { class: 'field' }, t('issuer'), region),
  el('label', { class: 'field' }, t('title'), title),
  el('label', { class: 'field' }, t('content'), content),
  el('fieldset', {}, el('legend', {}, t('levelsQ')), levels),
  el('label', { class: 'field' }, t('deadline'), deadline),
  el('label', { class: 'field' }, t('attachments'), files),
  el('div', { class: 'row' }, submit, el('button', { type: 'button', class: 'btn', onclick: () => {
    state.composing = false; history.replaceState(null, '', '#'); drawMain();
  } }, t('cancel'))));
}

async function loadList() {
  state.list = await api.get('/api/v1/directives');
  await learnRegions(state.list.items.map((d) => d.region_code));
  state.updated = Date.now();
  drawList();
}

async function openDirective(id) {
  if (id == null) return;
  state.id = id;
  state.composing = false;
  const before = state.view?.directive;
  state.view = await api.get(`/api/v1/directives/${id}`);
  const now = state.view.directive;
  // The view lists the first 500; the rest come a page at a time, in code order.
  state.more = state.view.pending.length >= 500 ? state.view.pending[state.view.pending.length - 1].region_code : null;
  if (before?.id === now.id && before.version === now.version && state.extra?.length) {
    const have = new Set(state.view.pending.map((r) => r.region_code));
    state.view.pending = state.view.pending.concat(state.extra.filter((r) => !have.has(r.region_code)));
  } else {
    state.extra = [];
    state.extraDone = false;
  }
  // A message about the last step goes once the directive has moved on (amended, withdrawn).
  if (before && (before.id !== now.id || before.version !== now.version || before.status !== now.status)) state.flash = null;
  await learnRegions([state.view.directive.region_code]);
  // Keep what is being typed: redraw the form only when the directive itself changed.
  const typing = document.activeElement && $('directive')?.contains(document.activeElement)
    && ['TEXTAREA', 'INPUT', 'SELECT'].includes(document.activeElement.tagName);
  if (typing) {
    for (const p of state.view.progress) {
      const row = document.querySelector(`#progress tr[data-level="${p.level}"]`);
      if (!row) continue;
      mount(row, el('td', {}, label('levels', p.level)), el('td', {}, num(p.recipients)), el('td', {}, bar(p.signed, p.recipients)),
        el('td', {}, bar(p.reported, p.recipients)));
      Object.assign(row.dataset, { recipients: p.recipients, signed: p.signed, reported: p.reported });
    }
  } else drawMain();
  drawList();
}

function route() {
  state.flash = null;
  const m = /^#\/d\/(\d+)$/.exec(location.hash);
  if (m) return openDirective(Number(m[1])).catch(showError);
  if (location.hash === '#/new' && state.issuing.length) { state.composing = true; drawMain(); }
}

async function main() {
  state.me = await requireRole(...ANSWERERS);
  state.issuing = scopesOf(state.me, ...ISSUERS);
  await learnRegions([...state.issuing, ...scopesOf(state.me, ...ANSWERERS)]);
  topBar('directives', state.me, layout);
  layout();
  await loadList();
  window.addEventListener('hashchange', route);
  route();
  // The issuer's view is live: progress and the pending lists refresh on their own.
  every(5000, async () => {
    await loadList();
    if (state.id != null && !state.composing) await openDirective(state.id);
  });
  ready();
}

main().catch((e) => { showError(e); console.error(errorText(e)); });
