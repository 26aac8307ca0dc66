/**
 * The feature browser's client code: plain ES2020 in a string, inlined into index.html (no
 * modules, no network). It reads the JSON payload of browser-payload.ts from
 * <script id="fb-data">, lists the latents of the chosen variant (searchable by id, token text
 * or `cluster:N`, sortable), and shows the selected latent's contexts with tokens shaded by
 * activation, its activation histogram (CSS bars) and its logit effects. All text goes through
 * textContent, never innerHTML, so token strings cannot inject markup.
 */
export const FEATURE_BROWSER_SCRIPT = String.raw`
(function () {
  'use strict';
  var dataEl = document.getElementById('fb-data');
  var root = document.getElementById('feature-browser');
  if (!dataEl || !root) return;
  var payload = JSON.parse(dataEl.textContent || '{"strings":[],"variants":[]}');
  var S = payload.strings;
  var variantSel = document.getElementById('fb-variant');
  var search = document.getElementById('fb-search');
  var sortSel = document.getElementById('fb-sort');
  var list = document.getElementById('fb-list');
  var count = document.getElementById('fb-count');
  var detail = document.getElementById('fb-detail');
  var LIST_LIMIT = 300;
  var SELECTED = { f: 'most frequent', s: 'random sample', r: 'requested' };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1e4) return Math.round(v).toLocaleString('en-US');
    if (a < 1e-3) return v.toExponential(2);
    return v.toPrecision(3);
  }
  function showToken(s) {
    return s.replace(/\n/g, '\u23ce').replace(/\t/g, '\u21e5');
  }
  function currentVariant() {
    return payload.variants[Number(variantSel.value) || 0];
  }
  function matches(l, q) {
    if (!q) return true;
    var m = /^cluster:\s*(-?\d+)$/.exec(q);
    if (m) return l.c === Number(m[1]);
    var id = /^#?(\d+)$/.exec(q);
    if (id) return l.i === Number(id[1]);
    var needle = q.toLowerCase();
    function hit(idx) { return S[idx].toLowerCase().indexOf(needle) >= 0; }
    for (var j = 0; j < l.k.length; j++) { if (hit(l.k[j].t[l.k[j].m])) return true; }
    for (var u = 0; u < l.u.length; u++) { if (hit(l.u[u][0])) return true; }
    return false;
  }
  function sorted(latents) {
    var key = sortSel.value;
    var out = latents.slice();
    out.sort(function (a, b) {
      if (key === 'id') return a.i - b.i;
      if (key === 'mean') return b.m - a.m || a.i - b.i;
      if (key === 'max') return b.x - a.x || a.i - b.i;
      return b.d - a.d || a.i - b.i;
    });
    return out;
  }
  function renderList() {
    var v = currentVariant();
    list.textContent = '';
    if (!v) { count.textContent = 'no feature data'; return; }
    var q = search.value.trim();
    var shown = sorted(v.latents.filter(function (l) { return matches(l, q); }));
    count.textContent = shown.length + ' of ' + v.latents.length + ' browsed latents (' + v.aliveLatents + ' alive of ' + v.dSae + ', ' + v.tokensScanned + ' tokens scanned)';
    shown.slice(0, LIST_LIMIT).forEach(function (l) {
      var row = el('button', 'fb-row');
      row.type = 'button';
      row.setAttribute('data-latent', String(l.i));
      row.appendChild(el('span', 'fb-id', '#' + l.i));
      row.appendChild(el('span', 'fb-num', fmt(l.d)));
      row.appendChild(el('span', 'fb-num', fmt(l.m)));
      row.appendChild(el('span', 'fb-num', l.c === null ? '—' : l.c));
      var top = l.k.length ? S[l.k[0].t[l.k[0].m]] : '';
      row.appendChild(el('span', 'fb-top', showToken(top)));
      row.addEventListener('click', function () { showLatent(l); });
      list.appendChild(row);
    });
    if (shown.length === 1) showLatent(shown[0]);
  }
  function histogram(h) {
    var box = el('div', 'fb-hist');
    var max = 0;
    h.n.forEach(function (c) { if (c > max) max = c; });
    h.n.forEach(function (c, j) {
      var bar = el('div', 'fb-bar');
      bar.style.height = (max > 0 ? Math.max(1, Math.round(60 * c / max)) : 0) + 'px';
      bar.title = fmt(h.e[j]) + '–' + fmt(h.e[j + 1]) + ': ' + c + ' tokens';
      box.appendChild(bar);
    });
    var wrap = el('div', 'fb-hist-wrap');
    wrap.appendChild(box);
    var axis = el('div', 'fb-hist-axis');
    axis.appendChild(el('span', null, '0'));
    axis.appendChild(el('span', null, fmt(h.e[h.e.length - 1])));
    wrap.appendChild(axis);
    return wrap;
  }
  function logitList(title, items, cls) {
    var box = el('div', 'fb-logits ' + cls);
    box.appendChild(el('h4', null, title));
    if (!items.length) box.appendChild(el('p', 'missing', 'no unembedding given'));
    var ol = el('ol');
    items.forEach(function (it) {
      var li = el('li');
      li.appendChild(el('code', null, showToken(S[it[0]])));
      li.appendChild(el('span', 'fb-num', (it[1] > 0 ? '+' : '') + fmt(it[1])));
      ol.appendChild(li);
    });
    box.appendChild(ol);
    return box;
  }
  function context(c, max) {
    var p = el('p', 'fb-context');
    c.t.forEach(function (idx, j) {
      var a = c.a[j];
      var span = el('span', 'fb-tok' + (j === c.m ? ' fb-max' : ''), showToken(S[idx]));
      var alpha = max > 0 ? Math.min(1, Math.max(0, a / max)) : 0;
      if (alpha > 0) span.style.backgroundColor = 'rgba(245, 133, 24, ' + alpha.toFixed(3) + ')';
      span.setAttribute('data-act', String(a));
      span.title = 'activation ' + fmt(a);
      p.appendChild(span);
    });
    return p;
  }
  function showLatent(l) {
    var v = currentVariant();
    detail.textContent = '';
    detail.setAttribute('data-latent', String(l.i));
    detail.setAttribute('data-variant', v.label);
    detail.appendChild(el('h3', null, v.label + ' — latent #' + l.i));
    var facts = el('p', 'fb-facts');
    facts.textContent = 'density ' + fmt(l.d) + ' · mean activation ' + fmt(l.m) + ' · max ' + fmt(l.x) + ' · cluster ' + (l.c === null ? '—' : l.c) + ' · ' + SELECTED[l.s];
    detail.appendChild(facts);
    var row = el('div', 'fb-panels');
    var hbox = el('div', 'fb-panel');
    hbox.appendChild(el('h4', null, 'Activation histogram (non-zero)'));
    hbox.appendChild(histogram(l.h));
    row.appendChild(hbox);
    row.appendChild(logitList('Logits raised most', l.u, 'up'));
    row.appendChild(logitList('Logits lowered most', l.o, 'down'));
    detail.appendChild(row);
    detail.appendChild(el('h4', null, 'Top-activating contexts'));
    var contexts = el('div', 'fb-contexts');
    l.k.forEach(function (c) { contexts.appendChild(context(c, l.x)); });
    if (!l.k.length) contexts.appendChild(el('p', 'missing', 'no contexts'));
    detail.appendChild(contexts);
    Array.prototype.forEach.call(list.querySelectorAll('.fb-row'), function (r) {
      r.classList.toggle('active', r.getAttribute('data-latent') === String(l.i));
    });
  }
  payload.variants.forEach(function (v, i) {
    var o = el('option', null, v.label + ' (' + v.variant + ')');
    o.value = String(i);
    variantSel.appendChild(o);
  });
  variantSel.addEventListener('change', function () { detail.textContent = ''; renderList(); });
  search.addEventListener('input', renderList);
  sortSel.addEventListener('change', renderList);
  renderList();
  var v0 = currentVariant();
  if (v0 && v0.latents.length && !detail.hasAttribute('data-latent')) showLatent(sorted(v0.latents)[0]);
})();
`;
