// 社智在线 · territory browser. Plain script, no build step, no external resources.
'use strict';
(() => {
  const CITY = '510100000000';
  const LEVELS = ['city', 'district', 'street', 'community', 'grid', 'micro_grid'];
  // Special grids: hatch colour and angle. The angle differs per kind so the legend
  // still reads without colour vision.
  const SPECIAL = {
    school: { color: '#2f6db5', angle: 45 },
    hospital: { color: '#c0392b', angle: -45 },
    market: { color: '#b7791f', angle: 0 },
    industrial_park: { color: '#6b46a3', angle: 90 },
  };

  const I18N = {
    zh: {
      title: '社智在线 · 成都', tree: '区域树', breadcrumb: '层级导航', mapLabel: '区域地图',
      switchLang: '切换语言：中文 / English', dismiss: '关闭', loading: '加载中…',
      noMap: '该区域没有可显示的边界', locate: '定位', locateHint: '点击地图，查询该点所属的各级区域',
      locating: '定位中…', locateResult: '定位结果', point: '坐标', clear: '清除', legend: '图例',
      details: '区域详情', name: '名称', code: '代码', level: '层级', kind: '类型',
      households: '估算户数', population: '估算人口', area: '面积（km²）', source: '数据来源',
      subCounts: '下级区域数量', none: '无', expand: '展开 {name}', collapse: '收起 {name}',
      networkError: '无法连接服务器，请检查网络后重试。', httpError: '服务器返回错误（HTTP {status}）。',
      badResponse: '服务器响应格式无效。', unexpected: '页面出现意外错误，请刷新后重试。',
      levels: { city: '市', district: '区县', street: '街道乡镇', community: '社区村', grid: '网格', micro_grid: '微网格' },
      kinds: {
        urban: '城镇', rural: '农村', standard: '常规', school: '学校专属网格', hospital: '医院专属网格',
        market: '市场专属网格', industrial_park: '园区专属网格',
      },
      sources: { official: '官方', generated: '系统生成', imported: '导入' },
      registered: '登记住户', registeredNone: '本区域暂无登记住户', head: '户主 {name}', members: '{n} 人',
      more: '加载更多', shown: '已显示 {n} 户',
    },
    en: {
      title: 'shezhi · Chengdu', tree: 'Territory', breadcrumb: 'Breadcrumb', mapLabel: 'Region map',
      switchLang: 'Switch language: 中文 / English', dismiss: 'Dismiss', loading: 'Loading…',
      noMap: 'No boundaries to show for this region', locate: 'Locate',
      locateHint: 'Click the map to find the regions that contain that point',
      locating: 'Locating…', locateResult: 'Location result', point: 'Point', clear: 'Clear', legend: 'Legend',
      details: 'Region details', name: 'Name', code: 'Code', level: 'Level', kind: 'Kind',
      households: 'Est. households', population: 'Est. population', area: 'Area (km²)', source: 'Source',
      subCounts: 'Sub-regions', none: 'None', expand: 'Expand {name}', collapse: 'Collapse {name}',
      networkError: 'Cannot reach the server. Check the network and try again.',
      httpError: 'The server returned an error (HTTP {status}).',
      badResponse: 'The server sent an invalid response.',
      unexpected: 'Something went wrong. Reload the page and try again.',
      levels: {
        city: 'City', district: 'District', street: 'Street or town', community: 'Community or village',
        grid: 'Grid', micro_grid: 'Micro-grid',
      },
      kinds: {
        urban: 'Urban', rural: 'Rural', standard: 'Standard', school: 'School grid', hospital: 'Hospital grid',
        market: 'Market grid', industrial_park: 'Industrial-park grid',
      },
      sources: { official: 'Official', generated: 'Generated', imported: 'Imported' },
      registered: 'Registered households', registeredNone: 'No households registered in this region',
      head: 'Head: {name}', members: '{n} living there', more: 'Load more', shown: '{n} shown',
    },
  };

  const state = {
    lang: loadLang(),
    detail: null,     // response of /regions/{code}
    features: [],     // drawable GeoJSON features of the current map
    focus: null,      // code highlighted among its siblings (when a leaf is selected)
    status: null,     // map overlay message key
    proj: null,
    error: null,      // {zh, en} shown in the banner
    locateMode: false,
    locate: null,     // {point, chain?, error?, loading?}
    navToken: 0,
    locateToken: 0,
    // The register's households of the region, for a signed-in user who may read them
    // (null: hidden, e.g. for a visitor who is not signed in).
    households: null, // {code, items, next, loading}
    householdsToken: 0,
    householdsFor: null, // the region the panel last settled for
  };
  const tree = new Map(); // code → tree node
  let selectedNode = null;

  // ---------- helpers ----------
  const $ = (id) => document.getElementById(id);
  const format = (s, vars = {}) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');
  const t = (key, vars) => format(I18N[state.lang][key], vars);
  const label = (group, value) => I18N[state.lang][group][value] ?? value ?? '—';
  const message = (key, vars) => ({ zh: format(I18N.zh[key], vars), en: format(I18N.en[key], vars) });

  function loadLang() {
    try { return localStorage.getItem('shezhi.lang') === 'en' ? 'en' : 'zh'; } catch { return 'zh'; }
  }

  function build(node, attrs, children) {
    for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, v);
    node.append(...children);
    return node;
  }
  const el = (tag, attrs = {}, ...kids) => build(document.createElement(tag), attrs, kids);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs = {}, ...kids) => build(document.createElementNS(SVG_NS, tag), attrs, kids);
  const button = (text, cls, onClick) => {
    const b = el('button', { type: 'button', class: cls }, text);
    b.addEventListener('click', onClick);
    return b;
  };

  function num(value, digits = 0) {
    if (value == null) return '—';
    const locale = state.lang === 'zh' ? 'zh-CN' : 'en';
    return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  }

  // ---------- API ----------
  class ApiError extends Error {
    constructor(msg, code, status) { super(msg.en); this.msg = msg; this.code = code; this.status = status; }
  }

  async function api(path) {
    let res;
    try {
      res = await fetch(path, { headers: { Accept: 'application/json' } });
    } catch {
      throw new ApiError(message('networkError'));
    }
    let body = null;
    try { body = await res.json(); } catch { /* reported below */ }
    if (res.ok && body) return body;
    const e = body && body.error;
    if (e && (e.zh || e.en)) throw new ApiError({ zh: e.zh || e.en, en: e.en || e.zh }, e.code, res.status);
    throw new ApiError(message(res.ok ? 'badResponse' : 'httpError', { status: res.status }), undefined, res.status);
  }

  function toMessage(err) {
    if (err instanceof ApiError) return err.msg;
    console.error(err);
    return message('unexpected');
  }

  function showError(err) { state.error = toMessage(err); renderError(); }

  // ---------- navigation ----------
  const regionFromHash = () => {
    const m = /^#\/(\d{6,24})$/.exec(location.hash);
    return m ? m[1] : CITY;
  };
  const go = (code) => { location.hash = '#/' + code; };

  async function navigate(code) {
    const token = ++state.navToken;
    state.status = 'loading';
    renderStatus();
    try {
      const [detail, fc] = await Promise.all([
        api(`/api/v1/regions/${code}`), api(`/api/v1/regions/${code}/map`)]);
      let features = drawable(fc);
      let focus = null;
      if (!features.length && detail.region.parent_code) {
        // A leaf (micro-grid) has no children to draw: show it among its siblings instead.
        features = drawable(await api(`/api/v1/regions/${detail.region.parent_code}/map`));
        focus = code;
      }
      if (token !== state.navToken) return; // a newer navigation won
      // Errors stay in the banner until dismissed, so a fallback navigation cannot hide them.
      Object.assign(state, { detail, features, focus, status: features.length ? null : 'noMap' });
      renderAll();
      revealInTree(detail).catch(showError);
      loadHouseholds(code, null);
    } catch (err) {
      if (token !== state.navToken) return;
      state.status = null;
      renderStatus();
      showError(err);
      if (!state.detail && code !== CITY) go(CITY); // a bad link: still show something useful
    }
  }

  // ---------- registered households (signed-in staff only) ----------
  const HOUSEHOLDS_PAGE = 20;

  // Who is signed in, asked once: a visitor who is not signed in, or who holds no post with
  // a territory (a resident), is not sent to the register at all.
  let whoami = null;
  const staffSignedIn = async () => {
    whoami ??= api('/api/v1/me').catch(() => ({ user_id: null, bindings: [] }));
    const me = await whoami;
    return me.user_id != null && (me.bindings || []).some((b) => b.scope);
  };

  /** Loads a page of the region's households: the first (`cursor` null) or the next. */
  async function loadHouseholds(code, cursor) {
    const token = ++state.householdsToken;
    if (cursor == null) state.households = null;
    else state.households.loading = true;
    renderHouseholds();
    const q = `limit=${HOUSEHOLDS_PAGE}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    try {
      if (!(await staffSignedIn())) {
        if (token === state.householdsToken) state.householdsFor = code;
        return renderHouseholds();
      }
      const page = await api(`/api/v1/regions/${code}/households?${q}`);
      if (token !== state.householdsToken) return;
      const before = cursor == null ? [] : state.households.items;
      state.households = { code, items: before.concat(page.items), next: page.next_cursor || null, loading: false };
      state.householdsFor = code;
    } catch (err) {
      if (token !== state.householdsToken) return;
      // Not signed in, or no right to this region's register: the panel stays hidden.
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        state.households = null;
        state.householdsFor = code;
      } else {
        if (state.households) state.households.loading = false;
        showError(err);
      }
    }
    renderHouseholds();
  }

  function renderHouseholds() {
    const box = $('households');
    const h = state.households;
    box.hidden = !h;
    // Which region's register the panel has settled for (shown or hidden), for tests.
    box.dataset.region = state.householdsFor ?? '';
    if (!h) return box.replaceChildren();
    const items = h.items.map((x) => el('li', { class: 'household', 'data-household': x.id },
      el('span', { class: 'household-address' }, x.address),
      el('span', { class: 'muted' }, [x.head_name ? t('head', { name: x.head_name }) : null, t('members', { n: num(x.members) })]
        .filter(Boolean).join(' · '))));
    const list = items.length
      ? el('ul', { id: 'household-list', class: 'household-list' }, ...items)
      : el('p', { class: 'muted' }, t('registeredNone'));
    const kids = [el('h2', { class: 'panel-title' }, t('registered')), list];
    if (items.length) kids.push(el('p', { class: 'muted', id: 'households-shown' }, t('shown', { n: num(items.length) })));
    if (h.next) {
      const more = button(h.loading ? t('loading') : t('more'), 'btn btn-small', () => loadHouseholds(h.code, h.next));
      more.id = 'households-more';
      if (h.loading) more.disabled = true;
      kids.push(more);
    }
    box.replaceChildren(...kids);
  }

  const drawable = (fc) => ((fc && fc.features) || []).filter((f) => f.geometry && f.properties);

  // ---------- tree ----------
  function treeItem(r) {
    const leaf = r.level === 'micro_grid';
    const node = { r, expanded: false, loading: null };
    node.label = button(r.name, 'tree-label', () => go(r.code));
    node.toggle = leaf ? null
      : el('button', { type: 'button', class: 'tree-toggle-btn', 'aria-expanded': 'false' }, '▸');
    node.ul = el('ul', { class: 'tree-children', hidden: '' });
    const special = SPECIAL[r.kind] ? el('span', { class: `kind-dot kind-${r.kind}`, 'aria-hidden': 'true' }) : '';
    const spacer = el('span', { class: 'tree-spacer' });
    const row = el('div', { class: 'tree-row' }, node.toggle || spacer, node.label, special);
    node.li = el('li', { class: 'tree-item' }, row, node.ul);

    node.label.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight' && node.toggle) expand(node).catch(showError);
      if (e.key === 'ArrowLeft' && node.toggle) setExpanded(node, false);
    });
    if (node.toggle) {
      node.toggle.addEventListener('click', () =>
        (node.expanded ? setExpanded(node, false) : expand(node).catch(showError)));
    }
    tree.set(r.code, node);
    updateTreeText(node);
    return node;
  }

  function updateTreeText(node) {
    if (!node.toggle) return;
    node.toggle.setAttribute('aria-label', t(node.expanded ? 'collapse' : 'expand', { name: node.r.name }));
  }

  function setExpanded(node, open) {
    if (!node.toggle) return;
    node.expanded = open;
    node.ul.hidden = !open;
    node.toggle.textContent = open ? '▾' : '▸';
    node.toggle.setAttribute('aria-expanded', String(open));
    updateTreeText(node);
  }

  // Children are fetched once, on first expansion; concurrent expansions share the request.
  async function expand(node) {
    if (!node || !node.toggle) return;
    if (!node.loading) {
      node.toggle.classList.add('busy');
      node.loading = api(`/api/v1/regions/${node.r.code}/children`)
        .then(({ items = [] }) => {
          node.ul.replaceChildren(...items.map((r) => treeItem(r).li));
          if (!items.length) node.toggle.style.visibility = 'hidden'; // nothing below after all
        })
        .finally(() => node.toggle.classList.remove('busy'));
    }
    try {
      await node.loading;
    } catch (err) {
      node.loading = null; // allow a retry
      throw err;
    }
    setExpanded(node, true);
  }

  async function revealInTree(detail) {
    const chain = [...detail.ancestors, detail.region];
    if (!tree.size) $('tree').append(treeItem(chain[0]).li);
    for (const r of chain) await expand(tree.get(r.code));
    const node = tree.get(detail.region.code);
    if (selectedNode) {
      selectedNode.label.classList.remove('selected');
      selectedNode.label.removeAttribute('aria-current');
    }
    selectedNode = node || null;
    if (!node) return;
    node.label.classList.add('selected');
    node.label.setAttribute('aria-current', 'true');
    scrollTreeTo(node.label);
  }

  // Scrolls only the tree's own box; scrollIntoView would also jump the page on phones.
  function scrollTreeTo(target) {
    const box = $('tree');
    const a = box.getBoundingClientRect();
    const b = target.getBoundingClientRect();
    if (b.top < a.top || b.bottom > a.bottom) box.scrollTop += b.top - a.top - box.clientHeight / 3;
  }

  // ---------- map ----------
  // Equirectangular: x is scaled by cos(latitude of the view centre) so shapes keep their
  // proportions at Chengdu's latitude; the bbox is fitted into the pixel box with a margin.
  function projection(bbox, width, height, margin) {
    const [x0, y0, x1, y1] = bbox;
    const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
    const w = Math.max((x1 - x0) * k, 1e-9);
    const h = Math.max(y1 - y0, 1e-9);
    const s = Math.min((width - 2 * margin) / w, (height - 2 * margin) / h);
    const ox = (width - w * s) / 2;
    const oy = (height - h * s) / 2;
    return {
      x: (lon) => ox + (lon - x0) * k * s,
      y: (lat) => oy + (y1 - lat) * s,
      invert: (px, py) => [x0 + (px - ox) / (k * s), y1 - (py - oy) / s],
    };
  }

  // Builds one path string for a Polygon or MultiPolygon; points are rounded to 0.1 px and
  // repeats dropped, which shrinks the city's dense district outlines considerably.
  function geometryPath(geom, proj) {
    const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
    const out = [];
    for (const poly of polys) {
      for (const ring of poly) {
        let px = NaN, py = NaN;
        for (let i = 0; i < ring.length; i++) {
          const x = Math.round(proj.x(ring[i][0]) * 10) / 10;
          const y = Math.round(proj.y(ring[i][1]) * 10) / 10;
          if (x === px && y === py) continue;
          out.push(i === 0 ? `M${x} ${y}` : `${x} ${y}`);
          px = x; py = y;
        }
        out.push('Z');
      }
    }
    return out.join(' ');
  }

  function featuresBBox(features) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    const visit = (c) => {
      if (typeof c[0] === 'number') {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      } else c.forEach(visit);
    };
    features.forEach((f) => visit(f.geometry.coordinates));
    return Number.isFinite(b[0]) ? b : null;
  }

  // Muted, well separated hues: successive golden-angle steps around the colour wheel.
  const fillFor = (p, i) =>
    (SPECIAL[p.kind] ? `url(#hatch-${p.kind})` : `hsl(${Math.round((i * 137.508) % 360)}, 30%, 80%)`);

  const PHONE = window.matchMedia('(max-width: 720px)');
  const mapMargin = (w) => Math.min(28, w * 0.05);

  // On a phone the map is one column wide: give it the height the region's shape needs
  // (between 240 px and 62 % of the screen) instead of a fixed box that is mostly empty
  // for wide regions such as the whole city, and pushes the details off the screen.
  function fitPhoneMap(bbox) {
    const map = $('map');
    if (!PHONE.matches || !bbox) { map.style.height = ''; return; }
    const w = map.clientWidth;
    const k = Math.cos(((bbox[1] + bbox[3]) / 2) * Math.PI / 180);
    const ratio = (bbox[3] - bbox[1]) / Math.max((bbox[2] - bbox[0]) * k, 1e-9);
    const m = mapMargin(w);
    const want = Math.round((w - 2 * m) * ratio + 2 * m + 2); // + 2: the border
    map.style.height = `clamp(240px, ${want}px, 62vh)`;
  }

  function renderMap() {
    const svg = $('map-svg');
    const region = state.detail && state.detail.region;
    const bbox = region && state.features.length
      ? (!state.focus && region.bbox) || featuresBBox(state.features) : null;
    fitPhoneMap(bbox);
    const { clientWidth: w, clientHeight: h } = svg;
    svg.replaceChildren();
    state.proj = null;
    if (!w || !h || !bbox) return renderMarker();
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    const proj = projection(bbox, w, h, mapMargin(w));
    state.proj = proj;
    const regions = svgEl('g', { class: 'regions' });
    const labels = svgEl('g', { class: 'labels', 'aria-hidden': 'true' });
    let focusD = null;
    state.features.forEach((f, i) => {
      const p = f.properties;
      const d = geometryPath(f.geometry, proj);
      const cls = state.focus ? (p.code === state.focus ? 'region focus' : 'region dim') : 'region';
      regions.append(svgEl('path', {
        d, class: cls, fill: fillFor(p, i), 'fill-rule': 'evenodd', tabindex: '0', role: 'button',
        'aria-label': p.name, 'data-code': p.code,
      }));
      if (p.code === state.focus) focusD = d;
    });
    svg.append(regions,
      svgEl('path', { class: 'focus-outline', d: focusD, 'fill-rule': 'evenodd' }),
      svgEl('path', { class: 'hover-outline', 'fill-rule': 'evenodd' }),
      labels,
      svgEl('g', { class: 'marker-layer' }));
    placeLabels(labels, proj); // after the group is in the document, so text can be measured
    renderMarker();
  }

  // Labels must fit inside their region's on-screen box and must not cover one another.
  // The focused region goes first; a long committee name falls back to its short form
  // ("交子社区居委会" → "交子社区"), and a label that is crowded out is moved within its
  // region, or left out (the tooltip and the tree still name the region).
  const LABEL_H = 15;
  const shortName = (name) => name.replace(/(居民委员会|村民委员会|居委会|村委会)$/, '');

  // Candidate shifts from the region's centre, nearest first.
  const labelOffsets = (tw) => {
    const out = [];
    for (const dy of [0, -LABEL_H, LABEL_H, -2 * LABEL_H, 2 * LABEL_H]) {
      for (const dx of [0, -tw / 2, tw / 2]) out.push([dx, dy]);
    }
    return out;
  };

  function placeLabels(group, proj) {
    const placed = [];
    const items = state.features.map((f) => {
      const p = f.properties;
      const b = p.bbox || featuresBBox([f]);
      if (!b) return null;
      // The centre of a concave region can fall outside it (or in a neighbour): then the
      // middle of the widest inside stretch along a few horizontal lines is used instead.
      let c = p.center || [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
      if (!insideFeature(f, c)) c = interiorPoint(f, b) || c;
      const box = { x0: proj.x(b[0]), x1: proj.x(b[2]), y0: proj.y(b[3]), y1: proj.y(b[1]) };
      return { f, p, box, cx: proj.x(c[0]), cy: proj.y(c[1]), focus: p.code === state.focus };
    }).filter(Boolean);
    // Small regions first: they have the fewest places to put a name, large ones can move.
    const size = (it) => (it.box.x1 - it.box.x0) * (it.box.y1 - it.box.y0);
    items.sort((a, b) => (b.focus - a.focus) || size(a) - size(b));
    const hits = (r) => placed.some((q) => r.x0 < q.x1 && q.x0 < r.x1 && r.y0 < q.y1 && q.y0 < r.y1);

    for (const it of items) {
      const { p, box } = it;
      const width = box.x1 - box.x0;
      if (width < 24 && !it.focus) continue;
      const text = svgEl('text', { class: 'label' });
      group.append(text);
      let done = false;
      for (const name of [...new Set([p.name, shortName(p.name)])]) {
        text.textContent = name;
        const tw = textWidth(text, name);
        if (tw > width + 2 && !it.focus) continue;
        for (const [dx, dy] of labelOffsets(tw)) {
          // Kept inside the region's box when it is wide enough (a centre can sit near an edge).
          const x = tw < width ? Math.min(Math.max(it.cx + dx, box.x0 + tw / 2), box.x1 - tw / 2) : it.cx + dx;
          const y = it.cy + dy;
          if (y - LABEL_H / 2 < box.y0 || y + LABEL_H / 2 > box.y1) continue;
          // The label's middle and both ends (less a little) must lie in its own region.
          const e = Math.max(tw / 2 - 3, 0);
          if (![x - e, x, x + e].every((px) => insideFeature(it.f, proj.invert(px, y))) && !it.focus) continue;
          const r = { x0: x - tw / 2 - 2, x1: x + tw / 2 + 2, y0: y - LABEL_H / 2, y1: y + LABEL_H / 2 };
          if (hits(r) && !it.focus) continue;
          text.setAttribute('x', x.toFixed(1));
          text.setAttribute('y', y.toFixed(1));
          placed.push(r);
          done = true;
          break;
        }
        if (done) break;
      }
      if (!done && it.focus) { // the selected leaf is always named, even when crowded
        text.textContent = p.name;
        text.setAttribute('x', it.cx.toFixed(1));
        text.setAttribute('y', it.cy.toFixed(1));
        done = true;
      }
      if (!done) text.remove();
    }
  }

  // Rendered width of a label; an estimate (CJK ≈ 1 em, other ≈ 0.6 em) if it cannot be measured.
  function textWidth(text, name) {
    let w = 0;
    try { w = text.getComputedTextLength(); } catch { /* not rendered */ }
    if (w > 0) return w;
    return [...name].reduce((a, ch) => a + (ch.codePointAt(0) >= 0x2e80 ? 12 : 7), 0);
  }

  // Crossings of a feature's rings with the parallel at `lat`, sorted west to east; with the
  // even-odd rule, consecutive pairs bound the inside stretches.
  function crossings(f, lat) {
    const g = f.geometry;
    const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
    const xs = [];
    for (const poly of polys) {
      for (const ring of poly) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i], [xj, yj] = ring[j];
          if ((yi > lat) !== (yj > lat)) xs.push(((xj - xi) * (lat - yi)) / (yj - yi) + xi);
        }
      }
    }
    return xs.sort((a, b) => a - b);
  }

  function interiorPoint(f, b) {
    let best = null;
    for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
      const lat = b[1] + (b[3] - b[1]) * t;
      const xs = crossings(f, lat);
      for (let i = 0; i + 1 < xs.length; i += 2) {
        const w = xs[i + 1] - xs[i];
        if (!best || w > best.w) best = { w, at: [(xs[i] + xs[i + 1]) / 2, lat] };
      }
    }
    return best && best.at;
  }

  // Even-odd point-in-polygon test in lon/lat, matching the fill rule used for drawing.
  function insideFeature(f, [lon, lat]) {
    return crossings(f, lat).filter((x) => x < lon).length % 2 === 1;
  }


  function renderMarker() {
    const layer = document.querySelector('#map-svg .marker-layer');
    const pt = state.locate && state.locate.point;
    if (!layer) return;
    layer.replaceChildren();
    if (!pt || !state.proj) return;
    const cx = state.proj.x(pt[0]).toFixed(1), cy = state.proj.y(pt[1]).toFixed(1);
    layer.append(svgEl('circle', { cx, cy, r: 11, class: 'marker-ring' }),
      svgEl('circle', { cx, cy, r: 5, class: 'marker-dot' }));
  }

  let mapQueued = false;
  function scheduleMap() {
    if (mapQueued) return;
    mapQueued = true;
    requestAnimationFrame(() => { mapQueued = false; renderMap(); });
  }

  function buildPatterns() {
    const defs = $('patterns');
    for (const [kind, { color, angle }] of Object.entries(SPECIAL)) {
      defs.append(svgEl('pattern', {
        id: `hatch-${kind}`, width: 7, height: 7, patternUnits: 'userSpaceOnUse', patternTransform: `rotate(${angle})`,
      }, svgEl('rect', { width: 7, height: 7, fill: '#f6f3ec' }),
      svgEl('rect', { width: 2.5, height: 7, fill: color })));
    }
  }

  // ---------- map interaction ----------
  const regionAt = (target) => (target instanceof Element ? target.closest('path.region') : null);

  let hovered = null;
  function highlight(path, x, y) {
    const outline = document.querySelector('#map-svg .hover-outline');
    const tip = $('tooltip');
    const f = path && state.features.find((g) => g.properties.code === path.dataset.code);
    if (!outline || !f) { if (outline) outline.removeAttribute('d'); tip.hidden = true; hovered = null; return; }
    if (path !== hovered) { // copying a long outline is not free: only when the region changes
      hovered = path;
      outline.setAttribute('d', path.getAttribute('d'));
      const p = f.properties;
      tip.textContent = SPECIAL[p.kind] ? `${p.name} · ${label('kinds', p.kind)}` : p.name;
      tip.hidden = false;
    }
    const maxX = $('map').clientWidth - tip.offsetWidth - 4;
    tip.style.left = `${Math.max(4, Math.min(x + 14, maxX))}px`;
    tip.style.top = `${Math.max(4, y - tip.offsetHeight - 10)}px`;
  }

  function bindMap() {
    const svg = $('map-svg');
    svg.addEventListener('pointermove', (e) => {
      const r = svg.getBoundingClientRect();
      highlight(regionAt(e.target), e.clientX - r.left, e.clientY - r.top);
    });
    svg.addEventListener('pointerleave', () => highlight(null));
    svg.addEventListener('focusin', (e) => {
      const path = regionAt(e.target);
      if (!path) return;
      const b = path.getBBox(); // keyboard focus: tooltip at the middle of the region
      highlight(path, b.x + b.width / 2, b.y + b.height / 2);
    });
    svg.addEventListener('focusout', () => highlight(null));
    svg.addEventListener('click', (e) => {
      if (state.locateMode) {
        if (!state.proj) return;
        const r = svg.getBoundingClientRect();
        const [lon, lat] = state.proj.invert(e.clientX - r.left, e.clientY - r.top);
        locate(lon, lat);
        return;
      }
      const path = regionAt(e.target);
      if (path) go(path.dataset.code);
    });
    svg.addEventListener('keydown', (e) => {
      const path = regionAt(e.target);
      if (!path || (e.key !== 'Enter' && e.key !== ' ')) return;
      e.preventDefault();
      go(path.dataset.code);
    });
    new ResizeObserver(scheduleMap).observe($('map'));
  }

  // ---------- locate ----------
  function setLocateMode(on) {
    state.locateMode = on;
    $('locate-btn').setAttribute('aria-pressed', String(on));
    $('map').classList.toggle('locating', on);
    $('locate-hint').hidden = !on;
  }

  async function locate(lon, lat) {
    const token = ++state.locateToken;
    state.locate = { point: [lon, lat], loading: true };
    renderLocate();
    try {
      const res = await api(`/api/v1/locate?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}`);
      if (token !== state.locateToken) return;
      state.locate = { point: res.point || [lon, lat], chain: res.chain || [] };
    } catch (err) {
      if (token !== state.locateToken) return;
      state.locate = { point: [lon, lat], error: toMessage(err) };
    }
    renderLocate();
  }

  function renderLocate() {
    const box = $('locate-result');
    const loc = state.locate;
    renderMarker();
    box.hidden = !loc;
    if (!loc) return box.replaceChildren();
    const clear = button(t('clear'), 'btn btn-small', () => {
      state.locate = null;
      state.locateToken++;
      renderLocate();
      $('locate-btn').focus(); // the cleared panel held the focus
    });
    const head = el('div', { class: 'panel-head' }, el('h2', { class: 'panel-title' }, t('locateResult')), clear);
    const point = el('p', { class: 'muted' }, `${t('point')}: ${loc.point[0].toFixed(5)}, ${loc.point[1].toFixed(5)}`);
    let body;
    if (loc.loading) body = el('p', {}, t('locating'));
    else if (loc.error) body = el('p', { class: 'inline-error', role: 'alert' }, loc.error[state.lang]);
    else body = el('ol', { class: 'chain' }, ...[...loc.chain].reverse().map(chainItem));
    box.replaceChildren(head, point, body);
  }

  const chainItem = (r) =>
    el('li', {}, el('span', { class: 'level-tag' }, label('levels', r.level)),
      button(r.name, 'link', () => go(r.code)));

  // ---------- panels ----------
  function renderBreadcrumb() {
    const nav = $('breadcrumb');
    const d = state.detail;
    if (!d) return nav.replaceChildren();
    const items = d.ancestors.map((a) => el('li', {}, button(a.name, 'link', () => go(a.code))));
    items.push(el('li', {}, el('span', { 'aria-current': 'page' }, d.region.name)));
    nav.replaceChildren(el('ol', {}, ...items));
  }

  function renderDetails() {
    const box = $('details');
    const d = state.detail;
    if (!d) return box.replaceChildren();
    const r = d.region;
    const other = state.lang === 'zh' ? 'en' : 'zh';
    const rows = [
      ['name', r.name], ['code', r.code],
      ['level', `${label('levels', r.level)} · ${I18N[other].levels[r.level] ?? ''}`],
      ['kind', label('kinds', r.kind)], ['households', num(r.households_est)],
      ['population', num(r.population_est)], ['area', num(r.area_km2, r.area_km2 != null && r.area_km2 < 1 ? 3 : 1)], ['source', label('sources', r.source)],
    ];
    const facts = rows.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, String(v))]);
    const dl = el('dl', { class: 'facts' }, ...facts);
    const counts = LEVELS.filter((l) => d.counts && d.counts[l] != null)
      .map((l) => el('li', {}, el('span', {}, label('levels', l)), el('strong', {}, num(d.counts[l]))));
    const countList = counts.length
      ? el('ul', { class: 'counts' }, ...counts)
      : el('p', { class: 'muted' }, t('none'));
    box.replaceChildren(el('h2', { class: 'panel-title' }, t('details')), dl,
      el('h3', { class: 'sub-title' }, t('subCounts')), countList);
  }

  function renderLegend() {
    const kinds = Object.keys(SPECIAL).filter((k) => state.features.some((f) => f.properties.kind === k));
    const box = $('legend');
    box.hidden = !kinds.length;
    const items = kinds.map((k) => el('li', {},
      svgEl('svg', { width: 18, height: 12, class: 'swatch', 'aria-hidden': 'true' },
        svgEl('rect', { width: 18, height: 12, fill: `url(#hatch-${k})` })),
      label('kinds', k)));
    box.replaceChildren(el('strong', {}, t('legend')), el('ul', {}, ...items));
  }

  function renderStatus() {
    $('map-status').hidden = !state.status;
    $('map-status').textContent = state.status ? t(state.status) : '';
  }

  function renderError() {
    $('error').hidden = !state.error;
    $('error-text').textContent = state.error ? state.error[state.lang] : '';
  }

  function applyStaticText() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title');
    document.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll('[data-i18n-aria]').forEach((n) => n.setAttribute('aria-label', t(n.dataset.i18nAria)));
    document.querySelectorAll('#lang-btn [data-lang]')
      .forEach((n) => n.classList.toggle('active', n.dataset.lang === state.lang));
  }

  function renderText() {
    applyStaticText();
    renderBreadcrumb(); renderDetails(); renderHouseholds(); renderLegend(); renderLocate(); renderStatus(); renderError();
    tree.forEach(updateTreeText);
  }

  function renderAll() { renderText(); renderMap(); }

  function setLang(lang) {
    state.lang = lang;
    try { localStorage.setItem('shezhi.lang', lang); } catch { /* private mode: not remembered */ }
    renderText();
  }

  // ---------- start ----------
  function init() {
    buildPatterns();
    bindMap();
    $('lang-btn').addEventListener('click', () => setLang(state.lang === 'zh' ? 'en' : 'zh'));
    $('error-close').addEventListener('click', () => { state.error = null; renderError(); });
    $('locate-btn').addEventListener('click', () => setLocateMode(!state.locateMode));
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && state.locateMode) setLocateMode(false); });
    $('tree-toggle').addEventListener('click', () => {
      const open = $('tree-panel').classList.toggle('open');
      $('tree-toggle').setAttribute('aria-expanded', String(open));
    });
    window.addEventListener('hashchange', () => navigate(regionFromHash()));
    renderText();
    navigate(regionFromHash());
  }

  init();
})();
