// 社智在线 · home: sign in, then the pages the user's roles open.
import { $, addStrings, el, me, mount, ready, roles, showError, signIn, t, topBar } from './common.js';

addStrings({
  zh: {
    welcome: '欢迎，{name}', username: '用户名', password: '密码', signInTitle: '工作人员与居民登录',
    intro: '成都市社区治理平台：网格化服务、诉求办理、吹哨报到与入户排查。',
    commandHint: '全区实时态势、地图下钻、超期与部门排名', deskHint: '受理、派遣、吹哨、签收、核实结案',
    fieldHint: '我的网格、巡查上报、自行处置、重点人群', directivesHint: '下发指令、逐级签收反馈、实时查看未落实单位', campaignsHint: '发起入户排查、逐级查看完成率、导出 Excel', residentHint: '无需安装，提交诉求、查询进度、评价结果',
    territoryHint: '区划树、网格边界与户籍（脱敏）', roleLine: '身份：{roles}', appeal: '我要提诉求（无需登录）',
  },
  en: {
    welcome: 'Welcome, {name}', username: 'User name', password: 'Password', signInTitle: 'Sign in (staff and residents)',
    intro: 'Community governance for Chengdu: grid services, appeals, whistle-blowing to departments and household campaigns.',
    commandHint: 'Live picture, map drill-down, overdue cases and unit ranking', deskHint: 'Accept, dispatch, whistle, sign, verify and close',
    fieldHint: 'My grids, patrol reports, on-the-spot fixes, key people', directivesHint: 'Issue orders, sign and report level by level, see live who has not', campaignsHint: 'Start household campaigns, follow coverage level by level, export to Excel', residentHint: 'No app needed: raise an appeal, follow it, rate the result',
    territoryHint: 'Region tree, grid boundaries and the (masked) register', roleLine: 'Roles: {roles}', appeal: 'Raise an appeal (no account needed)',
  },
});

const CARDS = [
  ['command', '/command', 'commandHint', ['command', 'admin', 'street_staff']],
  ['desk', '/desk', 'deskHint', ['community_staff', 'street_staff', 'unit_staff', 'command', 'admin', 'mediator']],
  ['directives', '/directives', 'directivesHint', ['grid_worker', 'community_staff', 'street_staff', 'command']],
  ['campaigns', '/campaigns', 'campaignsHint', ['community_staff', 'street_staff', 'command']],
  ['field', '/field', 'fieldHint', ['grid_worker']],
  ['resident', '/resident', 'residentHint', null],
  ['territory', '/territory', 'territoryHint', null],
];

/** Where `?next=` asks to go after signing in, if that is a page of this site: a path with a
 *  single leading `/`, no backslash or control character (browsers read `/\host` and
 *  `/<TAB>/host` as `//host`, another site), and the same origin once resolved. */
export function safeNext(value, origin = location.origin) {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return null;
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return null;
  let url;
  try { url = new URL(value, origin); } catch { return null; }
  if (url.origin !== origin || !url.pathname.startsWith('/') || url.pathname.startsWith('//')) return null;
  return url.pathname + url.search + url.hash;
}
const next = () => safeNext(new URLSearchParams(location.search).get('next'));

async function main() {
  let m = await me();
  const render = () => {
    if (!m.user_id) {
      const user = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
      const pass = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
      const form = el('form', { class: 'card stack', id: 'sign-in-form', onsubmit: async (e) => {
        e.preventDefault();
        try {
          m = await signIn(user.value.trim(), pass.value);
          location.href = next() || landing(m);
        } catch (err) { showError(err); }
      } },
      el('h2', {}, t('signInTitle')),
      el('label', { class: 'field', for: 'username' }, t('username'), user),
      el('label', { class: 'field', for: 'password' }, t('password'), pass),
      el('button', { type: 'submit', class: 'btn btn-primary' }, t('signIn')));
      mount($('main'), el('div', { class: 'phone' }, el('p', {}, t('intro')), form,
        el('a', { href: '/resident', class: 'btn', id: 'appeal-link' }, t('appeal'))));
    } else {
      const rs = roles(m);
      const cards = CARDS.filter(([, , , need]) => !need || need.some((r) => rs.has(r))).map(([key, href, hint]) =>
        el('a', { href }, el('div', { class: 'card' }, el('h2', {}, t(key)), el('p', { class: 'muted small' }, t(hint)))));
      mount($('main'), el('h1', {}, t('welcome', { name: m.name || '' })),
        el('p', { class: 'muted' }, t('roleLine', { roles: [...rs].map((r) => t(`roles.${r}`)).join('、') })),
        el('div', { class: 'home-cards' }, cards));
    }
    ready();
  };
  topBar('home', m, render);
  render();
}

/** Where a user lands after signing in: the page of their first role. */
function landing(m) {
  const rs = roles(m);
  if (rs.has('command') || rs.has('admin')) return '/command';
  if (rs.has('grid_worker')) return '/field';
  if (['community_staff', 'street_staff', 'unit_staff', 'mediator'].some((r) => rs.has(r))) return '/desk';
  return '/resident';
}

main().catch(showError);
