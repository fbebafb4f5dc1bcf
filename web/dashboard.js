// caviar dashboard: the page app of `caviar dashboard`, a live view of the studies in a
// store. The server (src/analysis/dashboard/) sends the same small HTML shell for every
// page, with only this script; #caviar-dashboard says which page it is (data-page
// "studies", "study" or "trial", data-study, data-trial). This script builds the page from
// the server's JSON API (/api/..., described in the server's sources) and follows a study
// live through its server-sent events. plotly.js and web/report.js are loaded when a page
// first draws a plot (needPlotly).
//
// Plain ES2017, no build step, nothing loaded from elsewhere. Everything the store holds is
// put into the page as text (textContent), never as HTML. A failed request shows a message
// in the page and is tried again; nothing is thrown uncaught.
//
// For tests (tests/dashboard_in_browser.mjs): document.body.dataset.ready is "1" once the
// page's first screen is drawn (a study page: its header and the trial table's first page;
// its plots are drawn as they come near the screen, and document.body.dataset.drawn is "1"
// once each was), and on a study page document.body.dataset.version is the study version
// whose data the page holds.
(function () {
  'use strict';

  const host = document.getElementById('caviar-dashboard');
  if (!host) return;
  const pageKind = host.dataset.page;
  const studyId = host.dataset.study;
  const trialNumber = host.dataset.trial;
  const plotConfig = { responsive: true, displaylogo: false };
  const states = ['complete', 'pruned', 'failed', 'running', 'waiting'];

  // ---- small helpers -----------------------------------------------------------------

  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function append(parent, ...children) {
    for (const c of children) {
      if (c === null || c === undefined) continue;
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }

  function link(href, text, className) {
    const a = element('a', className, text);
    a.href = href;
    return a;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }

  function isNumber(v) {
    return typeof v === 'number' && isFinite(v);
  }

  function formatValue(v, digits) {
    if (v === null || v === undefined) return '–';
    if (typeof v !== 'number') return String(v);
    if (!isFinite(v)) return String(v);
    return String(Number(v.toPrecision(digits || 6)));
  }

  // Text for plotly's labels, which read a little HTML (<br>, <b>): data shows as itself.
  function plain(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  // A time from the server as a Date: ISO 8601; one without a zone is UTC.
  function parseTime(iso) {
    let s = String(iso);
    if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s)) s = s.replace(' ', 'T') + 'Z';
    return new Date(s);
  }

  // A time from the server as local "YYYY-MM-DD HH:MM:SS" (also what plotly takes for a
  // date axis).
  function localTime(iso) {
    if (!iso) return null;
    const d = parseTime(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
           pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function ago(iso) {
    if (!iso) return '–';
    const t = parseTime(iso).getTime();
    if (isNaN(t)) return String(iso);
    const s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 5) return 'just now';
    if (s < 60) return Math.round(s) + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' days ago';
  }

  function duration(s) {
    if (!isNumber(s)) return '–';
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
  }

  function bytes(n) {
    if (!isNumber(n)) return String(n);
    if (n < 1024) return n + ' bytes';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1024 / 1024).toFixed(1) + ' MiB';
  }

  function stateBadge(state) {
    return element('span', 'badge state-' + state, state);
  }

  // "12 complete, 3 pruned" as badges, states with no trial left out.
  function countBadges(counts) {
    const span = element('span', 'counts');
    let total = 0;
    for (const s of states) total += (counts && counts[s]) || 0;
    append(span, element('span', 'total', total + (total === 1 ? ' trial' : ' trials')));
    for (const s of states) {
      const n = (counts && counts[s]) || 0;
      if (n > 0) append(span, ' ', element('span', 'badge state-' + s, n + ' ' + s));
    }
    return span;
  }

  // ---- messages ----------------------------------------------------------------------

  const messages = element('div', 'messages');
  messages.setAttribute('role', 'status');
  const messageByKey = new Map();

  function showError(key, text) {
    let m = messageByKey.get(key);
    if (!m) {
      m = element('p', 'error');
      messageByKey.set(key, m);
      messages.appendChild(m);
    }
    m.textContent = text;
  }

  function clearError(key) {
    const m = messageByKey.get(key);
    if (m) {
      m.remove();
      messageByKey.delete(key);
    }
  }

  function errorText(e) {
    return e && e.message ? e.message : String(e);
  }

  // A promise rejected nowhere else shows up as a message, not as a console error.
  window.addEventListener('unhandledrejection', (event) => {
    event.preventDefault();
    showError('unhandled', 'Something went wrong: ' + errorText(event.reason));
  });

  let lastRequest = 0;  // when getJSON last asked the server (ms)

  // GET a JSON answer; a failure (network, status, body) is an Error that says which and why.
  async function getJSON(url) {
    lastRequest = Date.now();
    let response;
    try {
      response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store',
                                    credentials: 'same-origin' });
    } catch (e) {
      throw new Error('Cannot reach the dashboard server (' + url + '): ' + errorText(e));
    }
    let body = null;
    const text = await response.text();
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      if (response.ok) throw new Error(url + ': the answer is not JSON');
    }
    if (!response.ok) {
      const why = body && body.error ? body.error : response.statusText;
      const error = new Error(url + ': ' + response.status + ' ' + why);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // ---- plots -------------------------------------------------------------------------

  // plotly.js (and web/report.js, which draws with it) are loaded when a page first draws a
  // plot, not with the page: the studies page never needs them, and a study page shows its
  // header and trial table before. The promise rejects if they cannot be loaded (and the
  // next plot tries again).
  let plotlyLoading = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(script);
    });
  }

  function needPlotly() {
    if (!plotlyLoading) {
      plotlyLoading = Promise.all([window.Plotly ? null : loadScript('/assets/plotly.js'),
                                   window.caviarReport ? null : loadScript('/assets/report.js')]);
      plotlyLoading.catch(() => {
        plotlyLoading = null;
      });
    }
    return plotlyLoading;
  }

  function plotDiv(id, className) {
    const div = element('div', 'plot ' + (className || ''));
    div.id = id;
    return div;
  }

  // Draws or updates a plot; the promise resolves (never rejects) once it is drawn.
  function draw(div, traces, layout) {
    const full = Object.assign({
      margin: { l: 70, r: 20, t: 30, b: 50 },
      font: { size: 12 },
      hovermode: 'closest',
      plot_bgcolor: '#fafafa',
      paper_bgcolor: '#fff',
    }, layout);
    if (full.height) div.style.minHeight = full.height + 'px';
    const failed = (e) => {
      let p = div.querySelector(':scope > .plot-error');
      if (!p) {
        p = element('p', 'error plot-error');
        div.appendChild(p);
      }
      p.textContent = 'This plot could not be drawn: ' + errorText(e);
    };
    return needPlotly().then(() => Plotly.react(div, traces, full, plotConfig)).catch(failed);
  }

  // WebGL (scattergl) for a plot of more than 1500 points; SVG below that, which draws much
  // sooner (50 ms against 1 to 2 s for a small plot in a Chromium without a GPU) and keeps
  // the page's WebGL contexts (about 16 at most) for the plots that need them. (The server
  // sends at most 1000 best-so-far values and the improvements.)
  function scatterType(points) {
    return points > 1500 ? 'scattergl' : 'scatter';
  }

  // Frees a plot, its WebGL contexts included (the browser keeps only a few per page).
  function purge(div) {
    if (!window.Plotly) return;
    const contexts = [];
    const layout = div._fullLayout;
    if (layout && layout._glcanvas && layout._glcanvas.each) {
      layout._glcanvas.each((d) => {
        if (d && d.regl && d.regl._gl) contexts.push(d.regl._gl);
      });
    }
    try {
      Plotly.purge(div);
    } catch (e) {
      // a half-drawn plot: it is removed from the page anyway
    }
    for (const gl of contexts) {
      const lose = gl.isContextLost() ? null : gl.getExtension('WEBGL_lose_context');
      if (lose) lose.loseContext();
    }
  }

  function purgeAll(root) {
    for (const div of root.querySelectorAll('.js-plotly-plot')) purge(div);
  }

  // The range of a value axis: from the best value to the 90th percentile on the worse
  // side, so that a few diverged trials do not flatten the rest (as web/report.js does).
  function valueRange(values, minimize) {
    const v = values.filter(isNumber).sort((a, b) => a - b);
    if (v.length < 10) return null;
    const q = (p) => {
      const i = (v.length - 1) * p;
      const lo = Math.floor(i);
      const hi = Math.ceil(i);
      return v[lo] + (v[hi] - v[lo]) * (i - lo);
    };
    const lo = minimize ? v[0] : q(0.1);
    const hi = minimize ? q(0.9) : v[v.length - 1];
    if (!(hi > lo)) return null;
    if (hi - lo > 0.8 * (v[v.length - 1] - v[0])) return null;
    const padding = 0.06 * (hi - lo);
    return [lo - padding, hi + padding];
  }

  // ---- the page frame ----------------------------------------------------------------

  const main = element('main');
  const top = element('nav', 'top');
  append(top, link('/', 'caviar dashboard', 'home'));
  const liveIndicator = element('span', 'live-indicator');
  append(top, liveIndicator);
  append(host, top, messages, main);

  function setLive(state) {
    liveIndicator.className = 'live-indicator ' + state;
    liveIndicator.textContent = state;
    liveIndicator.title = {
      live: 'Following the study: the page updates as trials report',
      connecting: 'Connecting to the server\'s event stream',
      reconnecting: 'The connection to the server was lost; trying again (the page asks every 5 s meanwhile)',
      polling: 'This browser has no event streams: the page asks every 2 s',
    }[state] || '';
  }

  function setReady() {
    document.body.dataset.ready = '1';
  }

  // ==== the studies page ==============================================================

  function studiesPage() {
    document.title = 'caviar dashboard';
    const h1 = element('h1', null, 'Studies');
    const sub = element('p', 'sub');
    const table = element('table', 'data studies');
    const head = element('tr');
    for (const t of ['Study', 'Direction', 'Trials', 'Best', 'Last activity'])
      head.appendChild(element('th', t === 'Best' ? 'num' : null, t));
    append(table, append(element('thead'), head));
    const body = element('tbody');
    table.appendChild(body);
    const empty = element('p', 'note', 'There are no studies in this store yet. Start one with caviar tune.');
    empty.hidden = true;
    append(main, h1, sub, table, empty);
    let first = true;

    function render(list) {
      clear(body);
      for (const s of list) {
        const tr = element('tr');
        const name = element('td', 'name');
        name.appendChild(link('/study/' + encodeURIComponent(s.id), s.name));
        const best = element('td', 'num');
        if (s.best) {
          best.appendChild(link('/study/' + encodeURIComponent(s.id) + '/trial/' + s.best.number,
                                formatValue(s.best.value)));
          append(best, element('span', 'dim', ' (#' + s.best.number + ')'));
        } else {
          best.textContent = '–';
        }
        const last = element('td', null, ago(s.last_activity));
        if (s.last_activity) last.title = localTime(s.last_activity);
        append(tr, name, element('td', null, s.direction),
               append(element('td'), countBadges(s.counts)), best, last);
        body.appendChild(tr);
      }
      table.hidden = list.length === 0;
      empty.hidden = list.length !== 0;
      sub.textContent = list.length + (list.length === 1 ? ' study' : ' studies') +
                        ', updated ' + localTime(new Date().toISOString()).slice(11);
    }

    async function refresh() {
      try {
        const data = await getJSON('/api/studies');
        render(data.studies || []);
        clearError('studies');
      } catch (e) {
        showError('studies', 'Could not load the studies: ' + errorText(e));
      }
      if (first) {
        first = false;
        setReady();
      }
      setTimeout(refresh, 2000);
    }
    liveIndicator.hidden = true;
    refresh();
  }

  // ==== the study page ================================================================

  function studyPage() {
    const base = '/api/study/' + encodeURIComponent(studyId);
    const studyUrl = '/study/' + encodeURIComponent(studyId);

    // What the page shows; the live updates merge into it.
    const S = {
      version: -1,       // the version the page's data is at
      latest: -1,        // the newest version the server announced
      study: null,       // {id, name, direction, metric, counts, best, last_activity}
      history: new Map(),  // number -> {value, finished}: complete trials with a value
      curves: new Map(),   // number -> {number, state, curve}
      curvesTotal: 0,    // how many trials have a curve (curves holds at most about 200)
      loadedMax: -1,     // the highest trial number in the last full read
      counted: new Set(),  // trials after it counted in curvesTotal since
      report: null,
      reportTrials: 0,
      reportOf: 0,
      lineage: [],
      babysit: null,     // a babysat model's tree (docs/babysit.md), or null
      fullAt: 0,         // when /api/study/<id> was last read (ms), and its version
      fullVersion: -1,
    };
    const minimize = () => !S.study || S.study.direction !== 'maximize';
    const metricName = () => (S.study && S.study.metric) || 'value';
    const metric = () => plain(metricName());  // for plots

    // ---- the frame ----
    const header = element('header', 'study-header');
    const title = element('h1');
    const facts = element('p', 'facts');
    const bestLine = element('p', 'best');
    append(header, title, facts, bestLine);

    function section(id, heading) {
      const s = element('section', 'panel');
      s.id = id;
      if (heading) s.appendChild(element('h2', null, heading));
      return s;
    }

    // The trial table comes first: with the header it is the first screen, drawn (and the
    // page ready) before any plot, and without plotly.js.
    const tableSection = section('trials', 'Trials');
    const table = trialTable(base, studyUrl, () => (S.report ? S.report.params : []));
    tableSection.appendChild(table.element);

    // Best so far.
    const historySection = section('best-history', 'Best so far');
    const xToggle = element('div', 'toggle');
    let xMode = 'number';
    for (const [mode, label] of [['number', 'by trial number'], ['time', 'by time finished']]) {
      const l = element('label');
      const r = element('input');
      r.type = 'radio';
      r.name = 'history-x';
      r.value = mode;
      r.checked = mode === xMode;
      r.addEventListener('change', () => {
        if (!r.checked) return;
        xMode = mode;
        drawHistory();
      });
      append(l, r, ' ' + label);
      append(xToggle, l, ' ');
    }
    const historyPlot = plotDiv('plot-best');
    historyPlot.style.minHeight = '360px';  // its place, before it is drawn
    append(historySection, xToggle, historyPlot);

    // Learning curves.
    const curvesSection = section('learning-curves', 'Learning curves');
    const curvesNote = element('p', 'how');
    const curvesPlot = plotDiv('plot-live-curves');
    curvesPlot.style.minHeight = '400px';
    append(curvesSection, curvesNote, curvesPlot);

    // PBT lineage.
    const lineageSection = section('lineage', 'Population based training: lineage');
    const lineagePlot = plotDiv('plot-lineage');
    lineagePlot.style.minHeight = '420px';
    const lineageTable = element('div');
    append(lineageSection,
      element('p', 'how', 'One line per member of the population: each point is a segment\'s ' +
              'value at the step it stopped. A dashed arrow is an exploit: the member copied ' +
              'that trial\'s checkpoint (and changed its parameters) before going on.'),
      lineagePlot, lineageTable);
    lineageSection.hidden = true;

    // A babysat model (docs/babysit.md): what caviar suggests, the controls (the one thing a
    // page may write, with the page's control key), what waits to be applied, and its
    // branches and test accuracy by date (web/report.js's 'babysit' section).
    const babysitSection = section('babysit-model', 'The babysat model');
    const babysitState = element('p', 'how');
    const babysitSuggest = element('p', 'babysit-suggestion');
    const babysitSuggestText = element('span');
    const babysitForm = element('div', 'babysit-controls');
    const babysitMessage = element('p', 'note');
    const babysitPlots = element('div', 'analysis-root');
    babysitPlots.style.minHeight = '480px';
    append(babysitSection, babysitState, babysitSuggest, babysitForm, babysitMessage, babysitPlots);
    babysitSection.hidden = true;
    babysitMessage.hidden = true;
    babysitControlsForm();

    // The analysis (web/report.js): one root per section, each drawn on its own.
    const analysisSection = section('analysis', null);
    const analysisBar = element('div', 'analysis-bar');
    const analysisNote = element('span', 'how');
    const analysisLive = element('input');
    analysisLive.type = 'checkbox';
    analysisLive.checked = true;
    const analysisLabel = append(element('label', 'analysis-live'), analysisLive,
      ' redraw the analysis as the study runs (every 10 s at most)');
    append(analysisBar, analysisLabel, ' ', analysisNote);
    const analysisEmpty = element('p', 'note');
    analysisEmpty.hidden = true;
    const analysisHeights = { retune: 0, importance: 300, pairs: 800, slices: 800, parallel: 520 };
    const analysisRoots = new Map(Object.keys(analysisHeights).map((name) => {
      const root = element('div', 'analysis-root');
      root.dataset.section = name;
      root.style.minHeight = analysisHeights[name] + 'px';  // its place, before it is drawn
      return [name, root];
    }));
    append(analysisSection, analysisBar, analysisEmpty, ...analysisRoots.values());

    append(main, header, babysitSection, tableSection, historySection, curvesSection, lineageSection, analysisSection);

    // ---- the data ----

    function setFromStudy(data) {
      S.version = data.version;
      S.latest = Math.max(S.latest, data.version);
      S.study = data.study;
      S.history = new Map();
      const h = data.history || { number: [], value: [], finished: [] };
      h.number.forEach((n, i) => S.history.set(n, { value: h.value[i], finished: h.finished[i] }));
      // The server's best steps are in the history too (its sample keeps them); keep them.
      const b = data.best_steps || { number: [], value: [], finished: [] };
      b.number.forEach((n, i) => {
        if (!S.history.has(n)) S.history.set(n, { value: b.value[i], finished: b.finished[i] });
      });
      S.curves = new Map();
      for (const c of data.curves || []) S.curves.set(c.number, c);
      S.curvesTotal = data.curves_total || S.curves.size;
      S.loadedMax = -1;
      for (const n of S.history.keys()) S.loadedMax = Math.max(S.loadedMax, n);
      for (const n of S.curves.keys()) S.loadedMax = Math.max(S.loadedMax, n);
      S.counted = new Set();
      S.report = data.report || null;
      S.reportTrials = data.report_trials || 0;
      S.reportOf = data.report_of || 0;
      S.lineage = data.lineage || [];
      S.babysit = data.babysit || null;
    }

    // Merges a /changes answer.
    function merge(ch) {
      S.version = Math.max(S.version, ch.version);
      S.latest = Math.max(S.latest, ch.version);
      if (ch.counts) S.study.counts = ch.counts;
      if (ch.best !== undefined) S.study.best = ch.best;
      if (ch.last_activity !== undefined) S.study.last_activity = ch.last_activity;
      for (const t of ch.trials || []) {
        if (t.state === 'complete' && isNumber(t.value)) {
          S.history.set(t.number, { value: t.value, finished: t.finished });
        } else {
          S.history.delete(t.number);
        }
        if (t.curve && t.curve.length > 0) {
          if (t.number > S.loadedMax && !S.counted.has(t.number)) {
            S.counted.add(t.number);
            S.curvesTotal += 1;
          }
          S.curves.set(t.number, { number: t.number, state: t.state, curve: t.curve });
        } else if (S.curves.has(t.number)) {
          S.curves.get(t.number).state = t.state;
        }
      }
      // At most about 200 curves, as the server sends: drop the oldest finished ones.
      if (S.curves.size > 250) {
        const best = S.study.best ? S.study.best.number : null;
        const old = [...S.curves.values()]
          .filter((c) => c.state !== 'running' && c.state !== 'waiting' && c.number !== best)
          .sort((a, b) => a.number - b.number);
        for (let i = 0; i < old.length && S.curves.size > 200; i++) S.curves.delete(old[i].number);
      }
      S.curvesTotal = Math.max(S.curvesTotal, S.curves.size);
    }

    // ---- drawing ----

    function drawHeader() {
      const st = S.study;
      document.title = st.name + ' · caviar dashboard';
      title.textContent = st.name;
      clear(facts);
      append(facts, element('span', 'dim', st.direction + ' ' + metricName() + ' · '), countBadges(st.counts),
             element('span', 'dim', ' · last activity ' + ago(st.last_activity)));
      clear(bestLine);
      if (st.best) {
        append(bestLine, 'Best: ', link(studyUrl + '/trial/' + st.best.number, 'trial #' + st.best.number),
               ', ' + metricName() + ' = ', element('strong', null, formatValue(st.best.value)));
      } else {
        bestLine.textContent = 'No trial has completed yet.';
      }
    }

    function historyArrays() {
      const numbers = [...S.history.keys()].sort((a, b) => a - b);
      return numbers.map((n) => Object.assign({ number: n }, S.history.get(n)));
    }

    // The best-so-far steps of the points in the order given.
    function bestSteps(points) {
      const out = [];
      let best = null;
      for (const p of points) {
        if (best === null || (minimize() ? p.value < best : p.value > best)) {
          best = p.value;
          out.push(p);
        }
      }
      return out;
    }

    function drawHistory() {
      let points = historyArrays();
      const byTime = xMode === 'time';
      if (byTime) {
        points = points.filter((p) => p.finished)
          .map((p) => Object.assign({ t: parseTime(p.finished).getTime(), x: localTime(p.finished) }, p))
          .sort((a, b) => a.t - b.t || a.number - b.number);
      } else {
        points = points.map((p) => Object.assign({ x: p.number }, p));
      }
      const steps = bestSteps(points);
      const line = steps.slice();
      if (steps.length > 0 && points.length > 0 && points[points.length - 1] !== steps[steps.length - 1])
        line.push(Object.assign({}, points[points.length - 1], { value: steps[steps.length - 1].value }));
      const m = metric();
      const traces = [
        { type: scatterType(points.length), mode: 'markers', name: 'complete trial', x: points.map((p) => p.x),
          y: points.map((p) => p.value), text: points.map((p) => 'trial #' + p.number),
          marker: { color: '#7a9cc6', size: 6 },
          hovertemplate: '%{text}<br>' + m + ' = %{y}<extra></extra>' },
        // SVG: a few points (and WebGL's float32 would put a line on a date axis seconds off).
        { type: 'scatter', mode: 'lines+markers', name: 'best so far', x: line.map((p) => p.x),
          y: line.map((p) => p.value), text: line.map((p) => 'best after trial #' + p.number),
          line: { shape: 'hv', color: '#d62728', width: 2.5 },
          marker: { color: '#d62728', size: line.map((p, i) => (i < steps.length ? 7 : 0)) },
          hovertemplate: '%{text}: %{y}<extra></extra>' },
      ];
      const yaxis = { title: { text: m + (minimize() ? ' (lower is better)' : ' (higher is better)') } };
      const range = valueRange(points.map((p) => p.value), minimize());
      if (range) yaxis.range = range;
      const xaxis = byTime ? { title: { text: 'time finished' }, type: 'date' }
                           : { title: { text: 'trial number' }, type: 'linear' };
      return draw(historyPlot, traces, {
        height: 360, xaxis: xaxis, yaxis: yaxis, legend: { orientation: 'h', y: 1.12 },
        uirevision: xMode,  // keep the user's zoom across updates, not across a toggle
        annotations: points.length === 0 ? [{ text: 'No complete trial yet', showarrow: false,
          xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: { size: 14, color: '#888' } }] : [],
      });
    }

    const curveStyles = [
      // drawn in this order: the best and the running ones on top
      { key: 'pruned', name: 'pruned', color: 'rgba(127,127,127,0.3)', width: 1, dash: 'solid', size: 3 },
      { key: 'failed', name: 'failed', color: 'rgba(214,39,40,0.6)', width: 1.2, dash: 'dot', size: 3 },
      { key: 'complete', name: 'complete', color: 'rgba(31,119,180,0.55)', width: 1.2, dash: 'solid', size: 3 },
      { key: 'running', name: 'running', color: 'rgba(44,160,44,1)', width: 2.8, dash: 'solid', size: 4 },
      { key: 'best', name: 'best', color: 'rgba(0,0,0,1)', width: 3, dash: 'solid', size: 4 },
    ];

    function drawCurves() {
      const best = S.study.best ? S.study.best.number : null;
      const groups = new Map(curveStyles.map((s) => [s.key, { x: [], y: [], text: [], n: 0 }]));
      const all = [];
      const sorted = [...S.curves.values()].sort((a, b) => a.number - b.number);
      for (const c of sorted) {
        if (!c.curve || c.curve.length === 0) continue;
        let key = c.number === best ? 'best' : c.state;
        if (key === 'waiting') key = 'running';
        const g = groups.get(key) || groups.get('failed');
        if (g.n > 0) {
          g.x.push(null);
          g.y.push(null);
          g.text.push('');
        }
        g.n += 1;
        const label = 'trial #' + c.number + ' (' + c.state + ')';
        for (const p of c.curve) {
          g.x.push(p[0]);
          g.y.push(p[1]);
          g.text.push(label);
          all.push(p[1]);
        }
      }
      const type = scatterType(all.length);
      const traces = curveStyles.filter((s) => groups.get(s.key).n > 0).map((s) => {
        const g = groups.get(s.key);
        const name = s.key === 'best' ? 'best (#' + best + ')' : s.name + ' (' + g.n + ')';
        return {
          type: type, mode: 'lines+markers', name: name, x: g.x, y: g.y, text: g.text,
          connectgaps: false,
          line: { color: s.color, width: s.width, dash: s.dash },
          marker: { color: s.color, size: s.size },
          hovertemplate: '%{text}<br>step %{x}: %{y}<extra></extra>',
        };
      });
      const shown = S.curves.size;
      curvesNote.textContent = 'The metric at each step of each trial: running trials bold green ' +
        '(they move as they report), complete ones blue, pruned ones faded, failed ones dotted red, ' +
        'the best trial black.' +
        (shown < S.curvesTotal ? ' Showing ' + shown + ' of ' + S.curvesTotal +
                                 ' trials (the running ones, the best, and the most recent).' : '');
      const yaxis = { title: { text: metric() } };
      const range = valueRange(all, minimize());
      if (range) yaxis.range = range;
      return draw(curvesPlot, traces, {
        height: 400, xaxis: { title: { text: 'step' } }, yaxis: yaxis, uirevision: 'curves',
        legend: { orientation: 'h', y: 1.1 },
        annotations: traces.length === 0 ? [{ text: 'No trial has reported intermediate values yet',
          showarrow: false, xref: 'paper', yref: 'paper', x: 0.5, y: 0.5,
          font: { size: 14, color: '#888' } }] : [],
      });
    }

    // "lr=3e-4 units=64" -> {lr: 0.0003, units: 64}: numbers where they read as numbers.
    function assignments(text) {
      const out = {};
      for (const word of text.split(/[\s,]+/).filter(Boolean)) {
        const eq = word.indexOf('=');
        if (eq <= 0) throw new Error('"' + word + '" is not name=value (e.g. lr=3e-4)');
        const v = word.slice(eq + 1);
        out[word.slice(0, eq)] = v !== '' && isFinite(Number(v)) ? Number(v) : v;
      }
      return out;
    }

    async function sendControl(body) {
      const response = await fetch(base + '/babysit', {
        method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', 'X-Caviar-Control': host.dataset.control || '' },
      });
      const text = await response.text();
      let answer = null;
      try { answer = JSON.parse(text); } catch (e) { answer = null; }
      if (!response.ok) throw new Error((answer && answer.error) || text || 'HTTP ' + response.status);
      return answer.stored;
    }

    function babysitControlsForm() {
      const button = (label, make) => {
        const b = element('button', null, label);
        b.type = 'button';
        b.addEventListener('click', () => {
          let body;
          try {
            body = make();
          } catch (e) {
            babysitMessage.hidden = false;
            babysitMessage.textContent = errorText(e);
            return;
          }
          babysitMessage.hidden = false;
          babysitMessage.textContent = 'sending ' + body.action + '...';
          sendControl(body).then((stored) => {
            babysitMessage.textContent = 'stored: ' + stored.action +
              (stored.to !== null ? ' to step ' + stored.to : '') +
              (Object.keys(stored.params).length ? ' ' + JSON.stringify(stored.params) : '') +
              ' (it applies at the next checkpoint, or when caviar babysit next starts)';
            document.body.dataset.babysitStored = stored.id;
            setTimeout(() => loadStudy(false), 800);
          }, (e) => {
            babysitMessage.textContent = 'not stored: ' + errorText(e);
          });
        });
        return b;
      };
      const setValues = element('input');
      setValues.placeholder = 'lr=3e-4 weight_decay=1e-5';
      setValues.name = 'babysit-set';
      const toStep = element('input');
      toStep.type = 'number';
      toStep.min = '0';
      toStep.placeholder = 'step';
      toStep.name = 'babysit-to';
      const backValues = element('input');
      backValues.placeholder = 'lr=1e-4 (optional)';
      backValues.name = 'babysit-rollback';
      const accept = button('Accept', () => {
        const s = S.babysit && S.babysit.suggestion;
        if (!s) throw new Error('no suggestion now');
        return { action: s.to !== null ? 'rollback' : 'set', params: s.params, to: s.to, by: 'suggestion', note: s.words };
      });
      accept.name = 'babysit-accept';
      append(babysitSuggest, babysitSuggestText, accept);
      for (const action of ['pause', 'resume', 'stop']) {
        const b = button(action[0].toUpperCase() + action.slice(1), () => ({ action: action }));
        b.name = 'babysit-' + action;
        babysitForm.appendChild(b);
      }
      const setButton = button('Set', () => ({ action: 'set', params: assignments(setValues.value) }));
      setButton.name = 'babysit-set-button';
      const backButton = button('Roll back', () => {
        if (toStep.value === '') throw new Error('roll back to which step?');
        return { action: 'rollback', to: Number(toStep.value), params: assignments(backValues.value) };
      });
      backButton.name = 'babysit-rollback-button';
      append(babysitForm, ' · ', setValues, setButton, ' · back to ', toStep, backValues, backButton);
    }

    function drawBabysit() {
      const tree = S.babysit;
      babysitSection.hidden = !tree;
      if (!tree) return Promise.resolve();
      const segs = tree.segments;
      const last = segs[segs.length - 1];
      const paused = tree.paused_since;
      const waiting = tree.controls.filter((c) => c.waiting);
      babysitState.textContent = segs.length + ' segments; the latest, #' + last.number + ', ' + last.state +
        ' at step ' + last.stop + '.' + (paused ? ' Paused since ' + paused + ' UTC.' : '') +
        (waiting.length ? ' Waiting to apply: ' + waiting.map((c) => c.action +
          (c.to !== null ? ' to step ' + c.to : '') + ' ' + JSON.stringify(c.params)).join('; ') + '.' : '');
      const s = tree.suggestion;
      babysitSuggestText.textContent = s ? 'caviar suggests: ' + s.words + ' ' : 'caviar has no suggestion now. ';
      babysitSuggest.querySelector('button').hidden = !s;
      purgeAll(babysitPlots);
      clear(babysitPlots);
      const data = Object.assign({}, S.report || { params: [], trials: [] }, { babysit: tree });
      data.metric = metricName();
      data.direction = S.study.direction;
      return Promise.resolve(window.caviarReport(babysitPlots, data, { sections: ['babysit'], webgl: 0 }));
    }

    function drawLineage() {
      const members = S.lineage || [];
      lineageSection.hidden = members.length === 0;
      if (members.length === 0) {
        if (lineagePlot._fullLayout) purge(lineagePlot);
        clear(lineageTable);
        return Promise.resolve();
      }
      const byNumber = new Map();
      for (const m of members) for (const t of m.trials) byNumber.set(t.number, Object.assign({ member: m.member }, t));
      const xOf = (t) => (t.stop !== null && t.stop !== undefined ? t.stop : t.step);
      const paramText = (t) => Object.entries(t.params || {})
        .map(([k, v]) => plain(k + ' = ' + formatValue(v, 4))).join('<br>');
      const hover = (t) => 'member ' + t.member + ', segment ' + t.segment + ', trial #' + t.number +
        '<br>steps ' + t.step + '–' + t.stop + ' (' + plain(t.state) + ')<br>' + metric() + ' = ' +
        formatValue(t.value) + (paramText(t) ? '<br>' + paramText(t) : '');
      const traces = [];
      const exploits = { x: [], y: [] };
      const arrows = [];
      const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
                      '#7f7f7f', '#bcbd22', '#17becf'];
      members.forEach((m, i) => {
        const x = [];
        const y = [];
        const text = [];
        for (const t0 of m.trials) {
          const t = byNumber.get(t0.number);
          if (!isNumber(t.value)) continue;
          const donor = t.donor_trial !== null && t.donor_trial !== undefined ? byNumber.get(t.donor_trial) : null;
          if (donor && isNumber(donor.value)) {
            // An exploit: the line comes from the donor, not from the member's own past.
            if (x.length > 0) {
              x.push(null);
              y.push(null);
              text.push('');
            }
            exploits.x.push(xOf(donor), xOf(t), null);
            exploits.y.push(donor.value, t.value, null);
            if (arrows.length < 150) {
              arrows.push({ x: xOf(t), y: t.value, ax: xOf(donor), ay: donor.value, xref: 'x', yref: 'y',
                            axref: 'x', ayref: 'y', showarrow: true, arrowhead: 2, arrowsize: 1.2,
                            arrowwidth: 1.2, arrowcolor: '#777', standoff: 5, text: '' });
            }
          }
          x.push(xOf(t));
          y.push(t.value);
          text.push(hover(t));
        }
        traces.push({ type: 'scatter', mode: 'lines+markers', name: 'member ' + m.member, x: x, y: y,
                      text: text, hoverinfo: 'text', connectgaps: false,
                      line: { width: 2, color: colors[i % colors.length] },
                      marker: { size: 7, color: colors[i % colors.length] } });
      });
      if (exploits.x.length > 0) {
        traces.unshift({ type: 'scatter', mode: 'lines', name: 'exploit (copied)', x: exploits.x,
                         y: exploits.y, hoverinfo: 'skip', line: { color: '#777', width: 1.2, dash: 'dot' } });
      }
      renderLineageTable(members);
      const yaxis = { title: { text: metric() } };
      const range = valueRange([].concat(...traces.map((t) => t.y)), minimize());
      if (range) yaxis.range = range;
      return draw(lineagePlot, traces, {
        height: 420, xaxis: { title: { text: 'step' } }, yaxis: yaxis, annotations: arrows,
        uirevision: 'lineage',
      });
    }

    function renderLineageTable(members) {
      clear(lineageTable);
      let rows = 0;
      for (const m of members) rows += m.trials.length;
      const details = element('details');
      details.appendChild(element('summary', null, 'Table of the ' + rows + ' segments'));
      const t = element('table', 'data compact');
      const head = element('tr');
      for (const h of ['member', 'segment', 'trial', 'steps', 'state', 'value', 'origin'])
        head.appendChild(element('th', null, h));
      t.appendChild(append(element('thead'), head));
      const body = element('tbody');
      for (const m of members) {
        for (const r of m.trials) {
          const tr = element('tr', 'state-row-' + r.state);
          const num = element('td');
          num.appendChild(link(studyUrl + '/trial/' + r.number, '#' + r.number));
          let origin;
          if (r.parent_trial === null || r.parent_trial === undefined) {
            origin = 'sampled';
          } else if (r.donor_trial === null || r.donor_trial === undefined) {
            origin = 'continued #' + r.parent_trial;
          } else {
            origin = 'copied member ' + r.donor_member + ' (#' + r.donor_trial + ')';
            if (r.rank !== null && r.rank !== undefined) origin += ', rank ' + r.rank + '/' + r.ranked;
            const changes = Object.entries(r.changes || {})
              .map(([k, v]) => k + ' ' + formatValue(v[0], 4) + ' → ' + formatValue(v[1], 4));
            if (changes.length > 0) origin += ': ' + changes.join(', ');
          }
          append(tr, element('td', 'num', m.member), element('td', 'num', r.segment), num,
                 element('td', null, r.step + '–' + r.stop), append(element('td'), stateBadge(r.state)),
                 element('td', 'num', formatValue(r.value)), element('td', null, origin));
          body.appendChild(tr);
        }
      }
      t.appendChild(body);
      details.appendChild(t);
      lineageTable.appendChild(details);
    }

    // The analysis: an explanation when there is none yet, else its four roots.
    function layoutAnalysis() {
      const report = S.report;
      const why = !report ? 'There is no analysis: the study\'s search space is not known yet.'
        : !report.best ? 'The analysis (parameter importance, the trials on pairs of parameters, slices, ' +
                         'parallel coordinates) appears once a trial has completed.' : '';
      analysisEmpty.textContent = why;
      analysisEmpty.hidden = !why;
      for (const root of analysisRoots.values()) root.hidden = Boolean(why);
      analysisNote.textContent = S.reportTrials < S.reportOf
        ? 'The analysis is over ' + S.reportTrials.toLocaleString('en-US') + ' of ' +
          S.reportOf.toLocaleString('en-US') + ' trials (the best third and a spread of the rest).' : '';
    }

    function drawAnalysis(name) {
      const root = analysisRoots.get(name);
      root.style.minHeight = root.offsetHeight + 'px';  // no jump while it redraws
      purgeAll(root);
      clear(root);
      // No WebGL: the server sends a sample small enough for SVG, which draws much sooner.
      return Promise.resolve(window.caviarReport(root, S.report, {
        sections: [name], webgl: 0, sample: { shown: S.reportTrials, of: S.reportOf },
      })).then(() => {
        root.style.minHeight = '';
      });
    }

    // ---- drawing what is on the screen ----
    //
    // Each part of the page below the header is drawn when it comes near the screen (an
    // IntersectionObserver), one part per task, so that the page answers between them. New
    // data marks parts stale; a stale part is drawn again only while it is on the screen
    // and the page is visible: at most every 2 s (the analysis every 10 s), or ten times
    // as long as its last drawing took. Once each part has been drawn (each scrolled to),
    // document.body.dataset.drawn is "1".
    const parts = [];
    function part(el, drawPart, gap) {
      const p = { el: el, draw: drawPart, gap: gap, stale: true, near: false,
                  onScreen: false, drawn: false, at: 0, cost: 0 };
      parts.push(p);
      return p;
    }
    const tablePart = part(tableSection, () => table.load(), 2000);
    const historyPart = part(historySection, drawHistory, 2000);
    const curvesPart = part(curvesSection, drawCurves, 2000);
    const lineagePart = part(lineageSection, drawLineage, 10000);
    const babysitPart = part(babysitSection, drawBabysit, 2000);
    const analysisParts = [...analysisRoots.keys()].map((name) =>
      part(analysisRoots.get(name), () => drawAnalysis(name), 10000));
    let analysisWaiting = false;  // new analysis data not shown: "redraw ... as the study runs" is off
    let analysisNear = false;     // the analysis section is near the screen
    let partTimer = null;
    let partBusy = false;

    // Whether a part is to be drawn now or later: stale, and near the screen for its first
    // drawing, on it for the next ones.
    const wanted = (p) => p.stale && !p.el.hidden && !document.hidden && (p.drawn ? p.onScreen : p.near);
    const nextAt = (p) => (p.drawn ? p.at + Math.max(p.gap, Math.min(10 * p.cost, 30000)) : 0);

    function schedule() {
      if (partBusy || S.study === null) return;  // drawNext schedules again when it is done
      if (partTimer !== null) clearTimeout(partTimer);
      partTimer = null;
      let when = Infinity;
      for (const p of parts) if (wanted(p)) when = Math.min(when, nextAt(p));
      if (when !== Infinity) partTimer = setTimeout(drawNext, Math.max(0, when - Date.now()));
    }

    function drawNext() {
      partTimer = null;
      const now = Date.now();
      const p = parts.find((x) => wanted(x) && nextAt(x) <= now);
      if (!p) {
        schedule();
        return;
      }
      partBusy = true;
      p.stale = false;
      p.at = now;
      let started = 0;
      // plotly.js first (once), not counted in the drawing's time.
      (p === tablePart ? Promise.resolve() : needPlotly()).then(() => {
        started = performance.now();
        return p.draw();
      }).catch((e) => {
        const name = p.el.id || p.el.dataset.section;
        console.error('caviar dashboard: ' + name + ' could not be drawn:', e);
        showError('draw-' + name, 'This part of the page (' + name + ') could not be drawn: ' + errorText(e));
      }).then(() => {
        p.cost = started ? performance.now() - started : 0;
        p.drawn = true;
        partBusy = false;
        if (parts.every((x) => x.drawn || x.el.hidden)) document.body.dataset.drawn = '1';
        setTimeout(schedule, 0);  // the next part in a task of its own
      });
    }

    function reportNear() {
      return analysisNear || (lineagePart.near && !lineageSection.hidden) ||
        (babysitPart.near && !babysitSection.hidden);
    }

    if (typeof IntersectionObserver !== 'undefined') {
      const byElement = new Map(parts.map((p) => [p.el, p]));
      const near = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (e.target === analysisSection) analysisNear = e.isIntersecting;
          const p = byElement.get(e.target);
          if (p) p.near = e.isIntersecting;
        }
        if (reportNear() && S.version > S.fullVersion) sync();  // the analysis's data, if it is due
        schedule();
      }, { rootMargin: '200px 0px' });
      const onScreen = new IntersectionObserver((entries) => {
        for (const e of entries) byElement.get(e.target).onScreen = e.isIntersecting;
        schedule();
      });
      for (const p of parts) {
        near.observe(p.el);
        onScreen.observe(p.el);
      }
      near.observe(analysisSection);
    } else {
      for (const p of parts) p.near = p.onScreen = true;
      analysisNear = true;
    }

    analysisLive.addEventListener('change', () => {
      if (!analysisLive.checked || !analysisWaiting) return;
      analysisWaiting = false;
      for (const p of analysisParts) p.stale = true;
      schedule();
    });

    function showVersion() {
      document.body.dataset.version = String(S.version);
    }

    // The header is text: drawn at once with each change, unless the page is hidden.
    let headerStale = false;
    function updateHeader() {
      if (document.hidden) headerStale = true;
      else drawHeader();
    }

    // ---- loading and following ----

    // Reads the whole study (/api/study/<id>). The first time, the header and the table's
    // first page are drawn before it returns (the page is then ready); the plots after.
    async function loadStudy(first) {
      const tableLoaded = first ? table.load() : null;  // beside the study's data
      const data = await getJSON(base);
      setFromStudy(data);
      S.fullAt = Date.now();
      S.fullVersion = S.version;
      lineageSection.hidden = S.lineage.length === 0;
      babysitSection.hidden = !S.babysit;
      layoutAnalysis();
      historyPart.stale = curvesPart.stale = lineagePart.stale = babysitPart.stale = true;
      if (first || analysisLive.checked) for (const p of analysisParts) p.stale = true;
      else analysisWaiting = true;
      if (first) {
        drawHeader();
        await tableLoaded;
        Object.assign(tablePart, { stale: false, drawn: true, at: Date.now() });
      } else {
        tablePart.stale = true;
        updateHeader();
      }
      showVersion();
      clearError('study');
      schedule();
    }

    // A /changes answer was merged: the page's data is at its version now; the parts it
    // touches are drawn again as the rules above allow.
    function changed() {
      historyPart.stale = curvesPart.stale = tablePart.stale = true;
      updateHeader();
      showVersion();
      schedule();
    }

    document.addEventListener('visibilitychange', () => {
      if (document.hidden) return;
      if (headerStale) {
        headerStale = false;
        drawHeader();
      }
      schedule();
      sync();  // the whole study, if it is due
    });

    let syncing = false;
    let syncAgain = false;
    let syncForce = false;
    let syncTimer = null;
    let lastSync = 0;
    let fullTimer = null;
    let retryTimer = null;

    // Brings the page up to the newest version the server announced: asks /changes (or the
    // whole study when the server says the page is too far behind), and the whole study at
    // most every 10 s for the analysis, while the analysis (or the lineage) is near the
    // screen of a visible page.
    async function sync(force) {
      if (force) syncForce = true;
      if (S.study === null) return;  // not loaded yet: start() does it
      if (syncing) {
        syncAgain = true;
        return;
      }
      syncing = true;
      try {
        let rounds = 0;
        do {
          syncAgain = false;
          rounds += 1;
          lastSync = Date.now();
          const fullDue = S.version > S.fullVersion && Date.now() - S.fullAt >= 10000 && !document.hidden &&
                          reportNear();
          if (fullDue) {
            await loadStudy(false);
          } else if (S.latest > S.version || syncForce) {
            syncForce = false;
            const ch = await getJSON(base + '/changes?since=' + encodeURIComponent(S.version));
            if (ch.reset) {
              await loadStudy(false);
            } else if (ch.version >= S.version) {
              merge(ch);
              changed();
            }
          }
          clearError('sync');
          // Once more if an event came meanwhile; not endlessly if the server's versions and
          // its changes disagree.
        } while ((syncAgain || S.latest > S.version) && rounds < 5);
        if (S.version > S.fullVersion && fullTimer === null && !document.hidden && reportNear()) {
          fullTimer = setTimeout(() => {
            fullTimer = null;
            sync();
          }, Math.max(0, S.fullAt + 10000 - Date.now()));
        }
      } catch (e) {
        showError('sync', 'Could not update the study: ' + errorText(e) + ' (trying again)');
        if (retryTimer === null) {
          retryTimer = setTimeout(() => {
            retryTimer = null;
            sync(true);
          }, 3000);
        }
      } finally {
        syncing = false;
      }
    }

    // A new version was announced: the page asks for it at most every second (every 5 s
    // while it is hidden), however often the study changes.
    function requestSync() {
      if (syncTimer !== null) return;
      const gap = document.hidden ? 5000 : 1000;
      syncTimer = setTimeout(() => {
        syncTimer = null;
        sync();
      }, Math.max(0, lastSync + gap - Date.now()));
    }

    // The version events. One stream per browser when it can: the shared worker
    // (web/dashboard_worker.js) holds one EventSource on /api/events for every page of
    // the dashboard (a browser opens at most six connections to a server, so one stream
    // per page would stall the seventh page). Else this page's own stream on
    // /api/study/<id>/events.
    let liveState = 'connecting';
    let wasLive = false;

    function setState(state) {
      const was = liveState;
      if (state === 'reconnecting' && !wasLive) state = 'connecting';
      if (state === 'live') wasLive = true;
      liveState = state;
      setLive(state);
      if (state === 'live' && was !== 'live') sync(true);  // anything missed meanwhile
    }

    function onVersion(v) {
      if (!isNumber(v)) return;
      S.latest = Math.max(S.latest, v);
      if (v > S.version) requestSync();
    }

    function connectWorker() {
      if (typeof SharedWorker === 'undefined') return false;
      let worker;
      try {
        worker = new SharedWorker('/assets/dashboard_worker.js');
      } catch (e) {
        return false;
      }
      let failed = false;
      worker.addEventListener('error', () => {
        // The worker could not start: this page follows the study on its own.
        if (failed) return;
        failed = true;
        connectStream();
      });
      worker.port.addEventListener('message', (m) => {
        const d = m.data || {};
        if (failed) return;
        if (d.type === 'state') setState(d.state === 'live' ? 'live' : 'reconnecting');
        else if (d.type === 'version' && String(d.study) === String(studyId)) onVersion(d.version);
      });
      worker.port.start();
      window.addEventListener('pagehide', (e) => {
        if (!e.persisted) worker.port.postMessage('close');  // kept when the page may come back
      });
      return true;
    }

    function connectStream() {
      if (typeof EventSource === 'undefined') {
        setLive('polling');
        setInterval(() => sync(true), 2000);
        return;
      }
      setState('connecting');
      const events = new EventSource(base + '/events');
      events.addEventListener('open', () => setState('live'));
      events.addEventListener('version', (e) => {
        setState('live');
        try {
          onVersion(JSON.parse(e.data).version);
        } catch (err) {
          // not JSON: ignored
        }
      });
      events.addEventListener('error', () => {
        setState('reconnecting');
        // The browser reconnects by itself unless it gave up (the server refused).
        if (events.readyState === EventSource.CLOSED) {
          events.close();
          setTimeout(connectStream, 3000);
        }
      });
    }

    function connect() {
      if (!connectWorker()) connectStream();
    }

    async function start() {
      setLive('connecting');
      try {
        await loadStudy(true);
      } catch (e) {
        showError('study', 'Could not load the study: ' + errorText(e));
        setLive('reconnecting');
        setReady();
        setTimeout(start, 3000);
        return;
      }
      setReady();
      connect();
      // Without the event stream, the page still asks every 5 s; with it, at least every
      // 20 s, which keeps the server following the study (it stops a minute after the
      // last page asked).
      setInterval(() => {
        if (liveState !== 'live' || Date.now() - lastRequest > 20000) sync(true);
      }, 5000);
    }
    start();
  }

  // ---- the trials table (study page) -------------------------------------------------

  // The table of a study's trials from /api/study/<id>/trials: sort by a column header,
  // filter by state and by one parameter, 50 rows a page. load() fetches the current page.
  function trialTable(base, studyUrl, reportParams) {
    const pageSize = 50;
    const q = { sort: 'number', desc: true, offset: 0, states: new Set(states), param: '',
                min: '', max: '', choice: '' };
    let params = [];
    let seq = 0;
    let loading = null;
    let again = false;

    const root = element('div', 'trial-table');
    const controls = element('div', 'controls');
    const stateBoxes = element('span', 'states');
    append(stateBoxes, element('span', 'dim', 'state: '));
    for (const s of states) {
      const box = element('input');
      box.type = 'checkbox';
      box.checked = true;
      box.addEventListener('change', () => {
        if (box.checked) q.states.add(s);
        else q.states.delete(s);
        q.offset = 0;
        load();
      });
      append(stateBoxes, append(element('label', 'state-box'), box, ' ', stateBadge(s)), ' ');
    }
    const paramFilter = element('span', 'param-filter');
    const paramSelect = element('select');
    paramSelect.setAttribute('aria-label', 'filter by parameter');
    const paramInputs = element('span');
    append(paramFilter, element('span', 'dim', 'parameter: '), paramSelect, ' ', paramInputs);
    paramSelect.addEventListener('change', () => {
      q.param = paramSelect.value;
      q.min = q.max = q.choice = '';
      buildParamInputs();
      q.offset = 0;
      load();
    });
    append(controls, stateBoxes, paramFilter);

    const status = element('p', 'table-status');
    const scroller = element('div', 'table-scroll');
    const table = element('table', 'data trials');
    const thead = element('thead');
    const tbody = element('tbody');
    append(table, thead, tbody);
    scroller.appendChild(table);
    const pager = element('div', 'pager');
    const prev = element('button', null, '‹ previous');
    const next = element('button', null, 'next ›');
    const pageText = element('span', 'dim');
    prev.type = next.type = 'button';
    prev.addEventListener('click', () => {
      q.offset = Math.max(0, q.offset - pageSize);
      load();
    });
    next.addEventListener('click', () => {
      q.offset += pageSize;
      load();
    });
    append(pager, prev, ' ', pageText, ' ', next);
    append(root, controls, status, scroller, pager);

    function paramInfo(name) {
      return (reportParams() || []).find((p) => p.name === name) || null;
    }

    function buildParamSelect() {
      const current = q.param;
      clear(paramSelect);
      const none = element('option', null, '(any)');
      none.value = '';
      paramSelect.appendChild(none);
      for (const p of params) {
        const o = element('option', null, p);
        o.value = p;
        paramSelect.appendChild(o);
      }
      paramSelect.value = params.includes(current) ? current : '';
    }

    function buildParamInputs() {
      clear(paramInputs);
      if (!q.param) return;
      const info = paramInfo(q.param);
      if (info && info.axis === 'category') {
        const sel = element('select');
        sel.setAttribute('aria-label', q.param + ' is');
        const any = element('option', null, '(any value)');
        any.value = '';
        sel.appendChild(any);
        for (const text of info.ticks.text) {
          const o = element('option', null, text);
          o.value = text;
          sel.appendChild(o);
        }
        sel.value = q.choice;
        sel.addEventListener('change', () => {
          q.choice = sel.value;
          q.offset = 0;
          load();
        });
        append(paramInputs, element('span', 'dim', 'is '), sel);
        return;
      }
      const input = (key, label) => {
        const i = element('input');
        i.type = 'text';
        i.inputMode = 'decimal';
        i.size = 9;
        i.placeholder = label;
        i.setAttribute('aria-label', q.param + ' ' + label);
        i.value = q[key];
        i.addEventListener('change', () => {
          const v = i.value.trim();
          if (v !== '' && !isFinite(Number(v))) {
            i.classList.add('bad');
            showError('filter', 'The ' + label + ' of ' + q.param + ' must be a number, not "' + v + '"');
            return;
          }
          i.classList.remove('bad');
          clearError('filter');
          q[key] = v;
          q.offset = 0;
          load();
        });
        return i;
      };
      append(paramInputs, input('min', 'min'), ' to ', input('max', 'max'));
    }

    function buildHead() {
      clear(thead);
      const tr = element('tr');
      const columns = [['number', '#'], ['state', 'state'], ['value', 'value'], ['seconds', 'duration'],
                       ['finished', 'finished']].concat(params.map((p) => [p, p])).concat([['reason', 'reason']]);
      const sortable = new Set(['number', 'value', 'seconds'].concat(params));
      for (const [key, label] of columns) {
        const th = element('th', null, label);
        if (params.includes(key)) th.classList.add('param');
        if (key === 'value' || key === 'seconds') th.classList.add('num');
        if (sortable.has(key)) {
          th.classList.add('sortable');
          th.tabIndex = 0;
          th.title = 'sort by ' + label;
          if (q.sort === key) {
            th.classList.add(q.desc ? 'sorted-desc' : 'sorted-asc');
            th.setAttribute('aria-sort', q.desc ? 'descending' : 'ascending');
          }
          const sortBy = () => {
            if (q.sort === key) q.desc = !q.desc;
            else {
              q.sort = key;
              q.desc = key === 'number';  // newest first; values and params smallest first
            }
            q.offset = 0;
            buildHead();
            load();
          };
          th.addEventListener('click', sortBy);
          th.addEventListener('keydown', (e) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              sortBy();
            }
          });
        }
        tr.appendChild(th);
      }
      thead.appendChild(tr);
    }

    function tableRow(r) {
      const tr = element('tr', 'state-row-' + r.state);
      const num = element('td', 'number');
      num.appendChild(link(studyUrl + '/trial/' + r.number, '#' + r.number));
      append(tr, num, append(element('td'), stateBadge(r.state)), element('td', 'num', formatValue(r.value)),
             element('td', 'num', duration(r.seconds)), element('td', 'time', localTime(r.finished) || '–'));
      for (const p of params) {
        const v = r.params ? r.params[p] : undefined;
        tr.appendChild(element('td', 'param', v === undefined || v === null ? '–' : v));
      }
      const reason = element('td', 'reason', r.reason || '');
      if (r.reason) reason.title = r.reason;
      tr.appendChild(reason);
      return tr;
    }

    function render(data) {
      const newParams = data.params || [];
      if (newParams.join('\u0000') !== params.join('\u0000') || thead.childNodes.length === 0) {
        params = newParams;
        buildHead();
        buildParamSelect();
        clear(tbody);  // other columns
      }
      // In place: a row that did not change stays as it is.
      const rows = data.rows || [];
      rows.forEach((r, i) => {
        const key = JSON.stringify(r);
        const old = tbody.rows[i];
        if (old && old.dataset.key === key) return;
        const tr = tableRow(r);
        tr.dataset.key = key;
        if (old) tbody.replaceChild(tr, old);
        else tbody.appendChild(tr);
      });
      while (tbody.rows.length > rows.length) tbody.lastChild.remove();
      const total = data.total || 0;
      status.textContent = total === 0 ? 'No trial matches.'
        : 'Trials ' + (q.offset + 1) + '–' + (q.offset + rows.length) + ' of ' + total +
          (q.states.size < states.length || q.param ? ' matching the filter' : '') + '.';
      pageText.textContent = total > 0
        ? 'page ' + (Math.floor(q.offset / pageSize) + 1) + ' of ' + Math.ceil(total / pageSize) : '';
      prev.disabled = q.offset === 0;
      next.disabled = q.offset + pageSize >= total;
    }

    function url() {
      const u = new URLSearchParams();
      if (q.states.size < states.length) u.set('state', states.filter((s) => q.states.has(s)).join(','));
      u.set('sort', q.sort);
      u.set('desc', q.desc ? '1' : '0');
      u.set('offset', String(q.offset));
      u.set('limit', String(pageSize));
      if (q.param) {
        u.set('param', q.param);
        if (q.choice !== '') u.set('choice', q.choice);
        if (q.min !== '') u.set('min', q.min);
        if (q.max !== '') u.set('max', q.max);
      }
      return base + '/trials?' + u.toString();
    }

    // Fetches the current page (one request at a time; a change meanwhile asks again).
    function load() {
      if (loading) {
        again = true;
        return loading;
      }
      again = false;
      if (q.states.size === 0) {
        render({ total: 0, params: params, rows: [] });
        status.textContent = 'Tick at least one state.';
        return Promise.resolve();
      }
      const mine = ++seq;
      loading = getJSON(url()).then((data) => {
        if (mine !== seq) return;
        if (data.total > 0 && q.offset >= data.total) {
          q.offset = Math.floor((data.total - 1) / pageSize) * pageSize;
          again = true;
        }
        render(data);
        clearError('trials');
      }).catch((e) => {
        showError('trials', 'Could not load the trials: ' + errorText(e));
      }).then(() => {
        loading = null;
        if (again) return load();
        return undefined;
      });
      return loading;
    }

    return { element: root, load: load };
  }

  // ==== the trial page ================================================================

  function trialPage() {
    const base = '/api/study/' + encodeURIComponent(studyId);
    const studyUrl = '/study/' + encodeURIComponent(studyId);
    const url = base + '/trial/' + encodeURIComponent(trialNumber);
    liveIndicator.hidden = true;

    const back = element('p', 'back');
    const backLink = link(studyUrl, '← study ' + studyId);
    back.appendChild(backLink);
    const title = element('h1', null, 'Trial #' + trialNumber);
    const summary = element('table', 'summary');
    const summarySection = append(element('section', 'panel'), summary);
    const paramsSection = element('section', 'panel');
    const curveSection = element('section', 'panel');
    const metricsSection = element('section', 'panel');
    const stderrSection = element('section', 'panel');
    const logsSection = element('section', 'panel');
    const attrsSection = element('section', 'panel');
    append(main, back, title, summarySection, paramsSection, curveSection, metricsSection, stderrSection,
           logsSection, attrsSection);
    const curvePlot = plotDiv('plot-intermediate');
    const metricPlots = new Map();  // name -> div
    const metric = 'value';
    let first = true;

    // The study's name and metric, for the title and the link back (not needed to draw).
    getJSON('/api/studies').then((data) => {
      const s = (data.studies || []).find((x) => String(x.id) === String(studyId));
      if (s) {
        backLink.textContent = '← ' + s.name;
        document.title = 'trial #' + trialNumber + ' · ' + s.name + ' · caviar dashboard';
      }
    }).catch((e) => showError('studies', 'Could not load the study\'s name: ' + errorText(e)));

    function row(key, value) {
      const tr = element('tr');
      append(tr, element('td', 'key', key), value instanceof Node ? append(element('td'), value)
                                                                  : element('td', null, value));
      summary.appendChild(tr);
    }

    function table(headers, rows, className) {
      const t = element('table', 'data ' + (className || ''));
      const head = element('tr');
      for (const h of headers) head.appendChild(element('th', null, h));
      t.appendChild(append(element('thead'), head));
      const body = element('tbody');
      for (const r of rows) {
        const tr = element('tr');
        for (const c of r) tr.appendChild(c instanceof Node ? append(element('td'), c) : element('td', null, c));
        body.appendChild(tr);
      }
      t.appendChild(body);
      return t;
    }

    function pre(text, className) {
      return element('pre', className, text);
    }

    // A <pre> that keeps its scroll position (or stays at the bottom) when its text changes.
    function setPre(p, text) {
      const atBottom = p.scrollTop + p.clientHeight >= p.scrollHeight - 4;
      const top = p.scrollTop;
      p.textContent = text;
      p.scrollTop = atBottom ? p.scrollHeight : top;
    }

    function render(data) {
      const t = data.trial;
      const plots = [];
      title.textContent = 'Trial #' + t.number + ' ';
      title.appendChild(stateBadge(t.state));

      clear(summary);
      row('state', stateBadge(t.state));
      row('value', formatValue(t.value));
      if (t.reason) row('reason', pre(t.reason, 'inline'));
      row('started', localTime(t.started) || '–');
      row('finished', localTime(t.finished) || '–');
      row('duration', duration(t.seconds));
      if (t.exit_code !== null && t.exit_code !== undefined) row('exit code', String(t.exit_code));
      if (t.signal !== null && t.signal !== undefined) row('signal', String(t.signal));
      if (t.trial_dir) row('trial folder', element('code', null, t.trial_dir));

      clear(paramsSection);
      paramsSection.appendChild(element('h2', null, 'Parameters'));
      const entries = Object.entries(t.params || {});
      if (entries.length === 0) paramsSection.appendChild(element('p', 'dim', 'No parameters.'));
      else paramsSection.appendChild(table(['parameter', 'value'], entries.map(([k, v]) => [k, formatValue(v, 10)]),
                                           'compact params'));

      // The intermediate values.
      if (curveSection.childNodes.length === 0) {
        append(curveSection, element('h2', null, 'Intermediate values'), element('p', 'how'), curvePlot);
      }
      const curve = t.intermediate || [];
      curveSection.querySelector('p.how').textContent = curve.length === 0
        ? 'This trial reported no intermediate values.'
        : curve.length + ' values reported, the metric at each step (what pruners look at).';
      curvePlot.hidden = curve.length === 0;
      if (curve.length > 0) {
        plots.push(draw(curvePlot, [{
          type: scatterType(curve.length), mode: 'lines+markers', x: curve.map((p) => p[0]),
          y: curve.map((p) => p[1]), line: { color: '#1f77b4', width: 2 }, marker: { size: 4 },
          hovertemplate: 'step %{x}: %{y}<extra></extra>',
        }], { height: 320, xaxis: { title: { text: 'step' } }, yaxis: { title: { text: metric } },
              uirevision: 'curve' }));
      }

      // What it printed at each step.
      const steps = Object.keys(t.metrics || {}).sort((a, b) => Number(a) - Number(b));
      const names = [];
      for (const s of steps) {
        for (const n of Object.keys(t.metrics[s] || {})) if (!names.includes(n)) names.push(n);
      }
      if (metricsSection.childNodes.length === 0) {
        append(metricsSection, element('h2', null, 'What it printed'), element('p', 'how'),
               element('div', 'grid metric-plots'), element('div', 'table-scroll tall'));
      }
      const metricsHow = metricsSection.querySelector('p.how');
      const grid = metricsSection.querySelector('.metric-plots');
      const metricsTable = metricsSection.querySelector('.table-scroll');
      clear(metricsTable);
      if (steps.length === 0) {
        metricsHow.textContent = 'The trial printed no name=value pairs (a command objective prints ' +
                                 'them, e.g. "epoch=3 loss=0.31 acc=0.9").';
      } else {
        const plotted = names.slice(0, 24);
        metricsHow.textContent = 'Every name=value the trial printed, at each of its ' + steps.length + ' steps' +
          (plotted.length < names.length
            ? ' (the first ' + plotted.length + ' of ' + names.length + ' names plotted)' : '') + '.';
        for (const n of plotted) {
          let div = metricPlots.get(n);
          if (!div) {
            div = plotDiv('plot-metric-' + metricPlots.size, 'small');
            metricPlots.set(n, div);
            grid.appendChild(div);
          }
          const xs = [];
          const ys = [];
          for (const s of steps) {
            const v = t.metrics[s][n];
            if (isNumber(v)) {
              xs.push(Number(s));
              ys.push(v);
            }
          }
          plots.push(draw(div, [{ type: scatterType(xs.length), mode: 'lines+markers',
            x: xs, y: ys, line: { width: 2 }, marker: { size: 4 },
            hovertemplate: 'step %{x}: %{y}<extra></extra>' }],
            { height: 260, title: { text: plain(n), font: { size: 13 } }, margin: { l: 60, r: 15, t: 36, b: 40 },
              xaxis: { title: { text: 'step' } }, uirevision: n }));
        }
        metricsTable.appendChild(table(['step'].concat(names), steps.map((s) => [s].concat(names.map((n) => {
          const v = t.metrics[s][n];
          return v === undefined ? '' : formatValue(v);
        }))), 'compact metrics'));
      }

      // stderr and the log files.
      clear(stderrSection);
      stderrSection.appendChild(element('h2', null, 'stderr (its end)'));
      stderrSection.appendChild(t.stderr_tail ? pre(t.stderr_tail, 'log') : element('p', 'dim', 'Nothing on stderr.'));
      const logs = data.logs || [];
      const openPres = new Map([...logsSection.querySelectorAll('pre[data-name]')].map((p) => [p.dataset.name, p]));
      clear(logsSection);
      logsSection.appendChild(element('h2', null, 'Log files'));
      if (logs.length === 0) logsSection.appendChild(element('p', 'dim', 'No log files in the trial folder.'));
      for (const l of logs) {
        const h = element('h3', null, l.name + ' ');
        h.appendChild(element('span', 'dim', l.truncated ? '(last 64 KiB of ' + bytes(l.size) + ')'
                                                         : '(' + bytes(l.size) + ')'));
        const p = openPres.get(l.name) || pre('', 'log');
        p.dataset.name = l.name;
        append(logsSection, h, p);
        setPre(p, l.text || '');
      }

      clear(attrsSection);
      const attrs = element('details');
      attrs.appendChild(element('summary', null, 'Attributes (system and user)'));
      attrs.appendChild(pre(JSON.stringify({ system_attrs: t.system_attrs || {}, user_attrs: t.user_attrs || {} },
                                           null, 2), 'log'));
      attrsSection.appendChild(attrs);
      return Promise.all(plots);
    }

    // While the trial runs, it is read again every 3 s (not while the page is hidden).
    async function refresh() {
      if (document.hidden && !first) {
        setTimeout(refresh, 3000);
        return;
      }
      let running = false;
      try {
        const data = await getJSON(url);
        running = data.trial.state === 'running' || data.trial.state === 'waiting';
        await render(data);
        clearError('trial');
      } catch (e) {
        showError('trial', (e.status === 404 ? 'There is no such trial: ' : 'Could not load the trial: ') +
                  errorText(e));
        running = e.status !== 404;  // try again unless it does not exist
      }
      if (first) {
        first = false;
        setReady();
      }
      if (running) setTimeout(refresh, 3000);
    }
    refresh();
  }

  // ==== start =========================================================================

  try {
    if (pageKind === 'studies') studiesPage();
    else if (pageKind === 'study') studyPage();
    else if (pageKind === 'trial') trialPage();
    else {
      showError('page', 'Unknown page "' + pageKind + '".');
      setReady();
    }
  } catch (e) {
    showError('page', 'The page could not be built: ' + errorText(e));
    setReady();
  }
})();
