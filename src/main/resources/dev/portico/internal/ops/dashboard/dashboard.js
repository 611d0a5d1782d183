'use strict';
// Portico's dashboard: the whole state once, then a delta a second over server-sent events. Only the visible page
// of each table is drawn, so a thousand routes cost what fifty do.
(() => {
  const PAGE = 50;
  const SPARK = 120;
  const HISTORY = 300;
  const STALE_MS = 3500;
  const origin = location.origin; // never location.href: it may hold credentials, which fetch refuses
  const st = { routes: new Map(), endpoints: new Map(), sections: {}, history: [], spark: new Map(),
    last: 0, rpage: 0, epage: 0 };
  const $ = id => document.getElementById(id);
  let source = null;

  let connectedAt = 0;
  let byCookie = false; // signed in with the login form: a stream closed on us may mean the session ended

  function connect() {
    if (source) source.close();
    connectedAt = Date.now();
    source = new EventSource(origin + '/events');
    source.addEventListener('full', e => { full(JSON.parse(e.data)); });
    source.addEventListener('delta', e => { delta(JSON.parse(e.data)); });
    source.onerror = () => {
      status();
      if (byCookie) signedOut();
      // A closed source (a 401, a restart halfway) is retried by the watchdog below.
    };
  }

  function full(m) {
    st.routes = new Map(Object.entries(m.routes));
    st.endpoints = new Map(Object.entries(m.endpoints));
    st.sections = m.sections;
    st.history = m.history;
    received(m);
    drawSections(Object.keys(m.sections));
  }

  function delta(m) {
    for (const [k, v] of Object.entries(m.routes)) st.routes.set(k, v);
    for (const k of m.routesGone) { st.routes.delete(k); st.spark.delete(k); }
    for (const [k, v] of Object.entries(m.endpoints)) st.endpoints.set(k, v);
    for (const k of m.endpointsGone) st.endpoints.delete(k);
    Object.assign(st.sections, m.sections);
    st.history.push(m.totals);
    if (st.history.length > HISTORY) st.history.shift();
    received(m);
    drawSections(Object.keys(m.sections));
  }

  function received(m) {
    st.last = Date.now();
    for (const [k, r] of st.routes) {
      let s = st.spark.get(k);
      if (!s) { s = []; st.spark.set(k, s); }
      s.push(r.rps);
      if (s.length > SPARK) s.shift();
    }
    totals(m.totals);
    drawRoutes();
    drawEndpoints();
    status();
  }

  function status() {
    const el = $('status');
    const age = Date.now() - st.last;
    let cls, text;
    if (!st.last) { cls = 'connecting'; text = 'connecting…'; }
    else if (age < STALE_MS) { cls = 'live'; text = 'live'; }
    else { cls = source && source.readyState === EventSource.OPEN ? 'stale' : 'down';
      text = 'stale: no update for ' + Math.round(age / 1000) + 's'; }
    el.className = 'status ' + cls;
    el.textContent = text;
    document.body.classList.toggle('stale', cls === 'stale' || cls === 'down');
    if (st.last) $('updated').textContent = 'updated ' + new Date(st.last).toLocaleTimeString();
  }

  function fmt(v, unit) {
    if (v === null || v === undefined || v < 0) return '–';
    if (unit === 'B') {
      if (v >= 1048576) return (v / 1048576).toFixed(1) + ' MiB';
      if (v >= 1024) return (v / 1024).toFixed(1) + ' KiB';
      return Math.round(v) + ' B';
    }
    return v >= 100 ? String(Math.round(v)) : String(v);
  }

  function totals(t) {
    $('t-rps').textContent = fmt(t[1]);
    $('t-e4').textContent = fmt(t[2]) + ' %';
    $('t-e5').textContent = fmt(t[3]) + ' %';
    $('t-p50').textContent = fmt(t[4]) + ' ms';
    $('t-p99').textContent = fmt(t[5]) + ' ms';
    $('t-bps').textContent = fmt(t[6], 'B');
    chart($('chart-rps'), st.history.map(h => h[1]), 300, 60, HISTORY);
    chart($('chart-p99'), st.history.map(h => Math.max(0, h[5])), 300, 60, HISTORY);
    chart($('chart-e5'), st.history.map(h => h[3]), 300, 60, HISTORY);
  }

  const NS = 'http://www.w3.org/2000/svg';
  /** A polyline of the last {@code capacity} values, the newest at the right edge. */
  function chart(svg, values, w, h, capacity) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (values.length < 2) return;
    const max = Math.max(1e-9, ...values);
    const step = w / (Math.max(values.length, capacity) - 1);
    const x0 = w - step * (values.length - 1);
    const pts = values.map((v, i) => (x0 + i * step).toFixed(1) + ',' + (h - 2 - (v / max) * (h - 4)).toFixed(1));
    const line = document.createElementNS(NS, 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.appendChild(line);
    if (h > 30) {
      const label = document.createElementNS(NS, 'text');
      label.setAttribute('x', 2);
      label.setAttribute('y', 10);
      label.textContent = 'max ' + fmt(Math.round(max * 10) / 10);
      svg.appendChild(label);
    }
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function page(rows, which, pageKey) {
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    st[pageKey] = Math.min(st[pageKey], pages - 1);
    $(which + '-page').textContent = (st[pageKey] + 1) + ' / ' + pages;
    $(which + '-count').textContent = '(' + rows.length + ')';
    return rows.slice(st[pageKey] * PAGE, st[pageKey] * PAGE + PAGE);
  }

  function drawRoutes() {
    const filter = $('routes-filter').value.trim().toLowerCase();
    const sort = $('routes-sort').value;
    let rows = [...st.routes.entries()];
    if (filter) rows = rows.filter(([, r]) => (r.n + ' ' + r.u).toLowerCase().includes(filter));
    rows.sort(sort === 'o' ? (a, b) => a[1].o - b[1].o : (a, b) => b[1][sort] - a[1][sort] || a[1].o - b[1].o);
    const body = document.createElement('tbody');
    for (const [k, r] of page(rows, 'routes', 'rpage')) {
      const tr = document.createElement('tr');
      tr.dataset.key = k;
      cell(tr, r.n, 'route');
      cell(tr, r.u, 'muted');
      cell(tr, fmt(r.rps), 'num rps');
      cell(tr, fmt(r.e4), 'num e4' + (r.e4 >= 5 ? ' hot' : ''));
      cell(tr, fmt(r.e5), 'num e5' + (r.e5 >= 1 ? ' hot' : ''));
      cell(tr, fmt(r.p50), 'num p50');
      cell(tr, fmt(r.p99), 'num p99');
      cell(tr, fmt(r.bps, 'B'), 'num bps');
      const td = cell(tr, '', 'spark');
      const svg = document.createElementNS(NS, 'svg');
      svg.setAttribute('viewBox', '0 0 120 18');
      svg.setAttribute('preserveAspectRatio', 'none');
      chart(svg, st.spark.get(k) || [], 120, 18, SPARK);
      td.appendChild(svg);
      body.appendChild(tr);
    }
    $('routes').replaceChild(body, $('routes').tBodies[0]);
  }

  function time(ms) { return new Date(ms).toLocaleTimeString(); }

  function drawEndpoints() {
    const filter = $('endpoints-filter').value.trim().toLowerCase();
    let rows = [...st.endpoints.entries()].sort((a, b) => a[1].o - b[1].o);
    if (filter) rows = rows.filter(([, e]) => (e.g + ' ' + e.a).toLowerCase().includes(filter));
    const body = document.createElement('tbody');
    for (const [k, e] of page(rows, 'endpoints', 'epage')) {
      const tr = document.createElement('tr');
      tr.dataset.key = k;
      let state = 'up', cls = 'state-ok';
      if (e.x) { state = 'ejected until ' + time(e.xu); cls = 'state-bad'; tr.className = 'ejected'; }
      else if (!e.h) { state = 'unhealthy (health check)'; cls = 'state-bad'; tr.className = 'down'; }
      else if (e.chk) { state = 'healthy'; }
      cell(tr, e.g);
      cell(tr, e.a);
      cell(tr, state, 'state ' + cls);
      cell(tr, e.f, 'num');
      cell(tr, e.c, 'num');
      cell(tr, e.i, 'num');
      cell(tr, e.w, 'num');
      cell(tr, e.lf ? time(e.lt) + ' ' + e.lf : '–', e.lf ? 'failure' : 'muted');
      body.appendChild(tr);
    }
    $('endpoints').replaceChild(body, $('endpoints').tBodies[0]);
  }

  function drawSections(keys) {
    const s = st.sections;
    if (keys.includes('listeners')) {
      const body = document.createElement('tbody');
      for (const l of s.listeners) {
        const tr = document.createElement('tr');
        cell(tr, l.key); cell(tr, l.address); cell(tr, l.bound);
        cell(tr, l.tls ? 'https' : l.redirect ? 'http → https' : l.h2c ? 'http, h2c' : 'http');
        body.appendChild(tr);
      }
      $('listeners').replaceChild(body, $('listeners').tBodies[0]);
    }
    if (keys.includes('certificates')) {
      const body = document.createElement('tbody');
      for (const c of s.certificates) {
        const tr = document.createElement('tr');
        cell(tr, c.key);
        if (c.error) { cell(tr, c.error, 'state-bad'); cell(tr, ''); cell(tr, ''); }
        else {
          cell(tr, c.names.join(', '));
          cell(tr, c.days, 'num' + (c.days < 14 ? ' hot' : ''));
          cell(tr, new Date(c.notAfter).toISOString().slice(0, 10));
        }
        body.appendChild(tr);
      }
      if (!s.certificates.length) cell(body.insertRow(), 'no TLS listener', 'muted');
      $('certificates').replaceChild(body, $('certificates').tBodies[0]);
    }
    if (keys.includes('reload')) {
      const r = s.reload, el = $('last-reload');
      if (!r) el.textContent = 'none since start';
      else el.textContent = new Date(r.at).toLocaleString() + ' (' + r.why + '): '
          + (r.result.applied ? 'applied in ' + r.result.millis + ' ms'
            : 'refused: ' + r.result.problems.join('; '));
      el.className = r && !r.result.applied ? 'state-bad' : '';
    }
    if (keys.includes('config')) $('config').textContent = JSON.stringify(s.config, null, 2);
    if (keys.includes('policies')) drawPolicies(s.policies);
    if (keys.includes('cache')) drawCache(s.cache);
  }

  const OUTCOMES = ['allowed', 'limited', 'denied', 'error'];

  /** Per policy label: decisions per second over the window, then counts since start, by outcome. */
  function drawPolicies(p) {
    const body = document.createElement('tbody');
    const labels = Object.keys(p.d);
    for (const k of labels) {
      const d = p.d[k], tr = document.createElement('tr');
      tr.dataset.policy = k;
      cell(tr, k, 'policy');
      OUTCOMES.forEach((o, i) => cell(tr, fmt(d.r[i]), 'num r-' + o + (o === 'error' && d.r[i] > 0 ? ' hot' : '')));
      OUTCOMES.forEach((o, i) => cell(tr, d.n[i], 'num n-' + o));
      body.appendChild(tr);
    }
    if (!labels.length) cell(body.insertRow(), 'no route has a policy', 'muted');
    $('policies').replaceChild(body, $('policies').tBodies[0]);
    const sf = Object.entries(p.sf);
    const el = $('store-failures');
    el.textContent = sf.length ? 'rate_limit store failures: ' + sf.map(([n, v]) => n + ' ' + v[0]
        + ' (' + fmt(v[1]) + '/s)').join(', ') : '';
    el.classList.toggle('hot', sf.some(([, v]) => v[1] > 0));
  }

  function pct(v) { return v === null || v === undefined ? '–' : v + ' %'; }

  /** The caches' numbers, or no panel (and no purge form) without a cache policy. */
  function drawCache(c) {
    $('cache-panel').hidden = !c;
    if (!c) return;
    const a = c.all;
    $('c-hr').textContent = pct(a.hr);
    $('c-or').textContent = pct(a.or);
    $('c-hs').textContent = fmt(a.hs);
    $('c-ms').textContent = fmt(a.ms);
    $('c-st').textContent = a.st;
    $('c-b').textContent = fmt(a.b, 'B') + ' of ' + fmt(a.max, 'B');
    $('c-n').textContent = a.n;
    $('c-ev').textContent = a.ev;
    $('caches-count').textContent = '(' + c.c.length + (c.c.length === 1 ? ' cache)' : ' caches)');
    const body = document.createElement('tbody');
    for (const x of c.c) {
      const tr = document.createElement('tr');
      const more = x.rn - x.r.length;
      cell(tr, x.rn ? x.r.join(', ') + (more > 0 ? ' and ' + more + ' more' : '') : 'responses without a route');
      cell(tr, pct(x.hr), 'num hr');
      cell(tr, pct(x.or), 'num or');
      cell(tr, x.h, 'num h');
      cell(tr, x.m, 'num m');
      cell(tr, x.st, 'num st');
      cell(tr, fmt(x.b, 'B') + ' of ' + fmt(x.max, 'B'), 'num b');
      cell(tr, x.n, 'num n');
      cell(tr, x.ev, 'num ev');
      body.appendChild(tr);
    }
    $('caches').replaceChild(body, $('caches').tBodies[0]);
  }

  /** POST /cache/purge with one URL, or a host and path prefix (either may be empty, not both). */
  async function purge(ev) {
    ev.preventDefault();
    const out = $('purge-result'), btn = $('purge-btn');
    const url = $('purge-url').value.trim(), host = $('purge-host').value.trim();
    const prefix = $('purge-prefix').value.trim();
    const body = url ? { url } : {};
    if (!url && host) body.host = host;
    if (!url && prefix) body.path_prefix = prefix;
    if (!Object.keys(body).length) {
      out.className = 'bad';
      out.textContent = 'give a host, a path prefix or a URL';
      return;
    }
    btn.disabled = true;
    out.className = '';
    out.textContent = 'purging…';
    try {
      const res = await fetch(origin + '/cache/purge', { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      let r = null;
      try { r = JSON.parse(text); } catch (e) { /* a refusal in plain text */ }
      if (res.ok && r) { out.className = 'ok'; out.textContent = 'purged ' + r.purged + (r.purged === 1 ? ' entry' : ' entries'); }
      else { out.className = 'bad'; out.textContent = 'not purged: ' + res.status + ' ' + text.trim(); }
    } catch (e) {
      out.className = 'bad';
      out.textContent = 'not purged: ' + e.message;
    } finally {
      btn.disabled = false;
    }
  }

  async function reload() {
    const btn = $('reload-btn'), out = $('reload-result');
    btn.disabled = true;
    out.className = '';
    out.textContent = 'reloading…';
    try {
      const res = await fetch(origin + '/reload', { method: 'POST', credentials: 'same-origin' });
      const text = await res.text();
      let r = null;
      try { r = JSON.parse(text); } catch (e) { /* a refusal in plain text */ }
      if (r && r.applied) { out.className = 'ok'; out.textContent = 'reloaded in ' + r.millis + ' ms'; }
      else { out.className = 'bad'; out.textContent = 'not reloaded: ' + (r ? r.problems.join('; ') : res.status + ' ' + text); }
    } catch (e) {
      out.className = 'bad';
      out.textContent = 'not reloaded: ' + e.message;
    } finally {
      btn.disabled = false;
    }
  }

  /** Shows "sign out" when this page was opened by the login form's session cookie (not by basic auth). */
  async function session() {
    try {
      const res = await fetch(origin + '/session', { credentials: 'same-origin' });
      const s = res.ok ? await res.json() : null;
      if (s && s.cookie) {
        byCookie = true;
        $('signed-in-as').textContent = s.user;
        $('signout-form').hidden = false;
      }
    } catch (e) { /* no sign-out button then */ }
  }

  /** The session ended (signed out elsewhere, expired, the users changed): show the login form. */
  async function signedOut() {
    try {
      const res = await fetch(origin + '/session', { credentials: 'same-origin' });
      if (res.status === 401) location.assign(origin + '/');
    } catch (e) { /* the proxy is down: the watchdog reconnects */ }
  }

  function pager(which, key, sign) {
    return () => { st[key] = Math.max(0, st[key] + sign); which === 'routes' ? drawRoutes() : drawEndpoints(); };
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('reload-btn').addEventListener('click', reload);
    $('purge-form').addEventListener('submit', purge);
    $('routes-prev').addEventListener('click', pager('routes', 'rpage', -1));
    $('routes-next').addEventListener('click', pager('routes', 'rpage', 1));
    $('endpoints-prev').addEventListener('click', pager('endpoints', 'epage', -1));
    $('endpoints-next').addEventListener('click', pager('endpoints', 'epage', 1));
    $('routes-filter').addEventListener('input', () => { st.rpage = 0; drawRoutes(); });
    $('routes-sort').addEventListener('change', drawRoutes);
    $('endpoints-filter').addEventListener('input', () => { st.epage = 0; drawEndpoints(); });
    setInterval(() => {
      status();
      // The watchdog: browsers give up on, or back off from, a stream whose server went away; without an update
      // for a while, start a new one (at most every five seconds).
      const quiet = Date.now() - Math.max(st.last, connectedAt);
      if (quiet > 2 * STALE_MS && Date.now() - connectedAt > 5000) connect();
    }, 500);
    connect();
    session();
  });
})();
