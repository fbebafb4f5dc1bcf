// caviar report: draws a study's plots from its report data (include/caviar/report.h
// says what the fields are) with plotly.js. Built into the caviar library at build time
// (src/analysis/web_assets.cpp); docs/report.md says what each plot shows.
//
// window.caviarReport(root, data, options) draws the sections into the element `root`
// (their headings and places at once, the plots one after another) and returns a Promise
// of the number of plots, resolved when every plot has drawn:
//   options.sections: which sections, in this order: 'history', 'retune', 'babysit',
//                     'importance', 'pairs', 'slices', 'parallel', 'curves' (default all);
//   options.idPrefix: put before every section's and plot's id (default none);
//   options.webgl:    at most this many plots drawn with WebGL (scattergl) (default 5);
//   options.sample:   {shown, of}: data.trials are `shown` of the study's `of` trials (a
//                     sample): the pair, slice and parallel plots say so in their titles.
// A scatter of more than 1000 points is drawn with WebGL while that allows: a browser keeps
// only about 16 WebGL contexts per page, and each WebGL plot takes two (parallel
// coordinates three), beyond which it drops the oldest plots' drawings.
// `caviar report` pages (which hold the data as #caviar-data) are drawn at load, at the
// end of this file; the dashboard (web/dashboard.js) calls it itself.
(function () {
  'use strict';

  // (and 'babysit': a babysat model's branches and its test accuracy by date, when the
  // study has one: data.babysit, the tree of include/caviar/export.h's babysit_tree;
  // 'retune': a re-tuned study's verdict, data.retune, retune_verdict_data in compare.h)
  const allSections = ['history', 'retune', 'babysit', 'importance', 'pairs', 'slices', 'parallel', 'curves'];
  const webglPoints = 1000;  // scatters with more points than this use WebGL

  window.caviarReport = function (root, data, options) {
    options = options || {};
    const sections = options.sections || allSections;
    const prefix = options.idPrefix || '';
    let webglLeft = options.webgl === undefined ? 5 : options.webgl;
    const params = new Map(data.params.map((p) => [p.name, p]));
    const metric = data.metric;
    const minimize = data.direction === 'minimize';
    const betterText = minimize ? 'lower is better' : 'higher is better';
    const complete = data.trials.filter((t) => t.state === 'complete' && t.value !== null);
    const others = data.trials.filter((t) => t.state !== 'complete' || t.value === null);
    const best = data.best;
    const config = { responsive: true, displaylogo: false };
    const sample = options.sample && options.sample.shown < options.sample.of ? options.sample : null;
    const sampleText = sample ? sample.shown.toLocaleString('en-US') + ' of ' +
      sample.of.toLocaleString('en-US') + ' trials shown' : '';
    const jobs = [];     // the plots to draw, one per task (see the end)
    const pending = [];  // their drawings
    let plots = 0;

    // ---- page structure ----------------------------------------------------------------

    function element(tag, className, text) {
      const e = document.createElement(tag);
      if (className) e.className = className;
      if (text !== undefined) e.textContent = text;
      return e;
    }

    function section(id, title, how) {
      const s = element('section');
      s.id = prefix + id;
      s.appendChild(element('h2', null, title));
      if (how) s.appendChild(element('p', 'how', how));
      root.appendChild(s);
      return s;
    }

    function note(parent, text) {
      parent.appendChild(element('p', 'note', text));
    }

    function scatterPoints(traces) {
      let n = 0;
      for (const t of traces) if (t.type === 'scatter' && t.x) n += t.x.length;
      return n;
    }

    // Draws the traces into a new div. `reserved`: a WebGL plot was set aside for it (when it
    // has too many points), so that an earlier plot did not take the last one.
    function plot(parent, id, traces, layout, wide, reserved) {
      const div = element('div', wide ? 'caviar-plot wide' : 'caviar-plot');
      div.id = prefix + id;
      parent.appendChild(div);
      plots += 1;
      if (scatterPoints(traces) > webglPoints && (reserved || webglLeft > 0)) {
        if (!reserved) webglLeft -= 1;
        for (const t of traces) if (t.type === 'scatter') t.type = 'scattergl';
      }
      const full = Object.assign({
        height: wide ? 440 : 380,
        margin: { l: 70, r: 20, t: 40, b: 55 },
        font: { size: 12 },
        hovermode: 'closest',
        plot_bgcolor: '#fafafa',
      }, layout);
      div.style.minHeight = full.height + 'px';  // the page does not jump while plots draw
      const failed = (e) => {
        div.appendChild(element('p', 'plot-error', 'This plot could not be drawn: ' + e));
        console.error('caviar report: plot ' + id + ' failed:', e);
      };
      jobs.push(() => {
        try {
          pending.push(Plotly.newPlot(div, traces, full, config).catch(failed));
        } catch (e) {
          failed(e);
        }
      });
    }

    // ---- values and axes ---------------------------------------------------------------

    function quantile(sorted, q) {
      if (sorted.length === 0) return NaN;
      const i = (sorted.length - 1) * q;
      const lo = Math.floor(i);
      const hi = Math.ceil(i);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
    }

    // The range of the values shown on a value axis (and of the colour scale): from the best
    // value to the 90th percentile on the worse side, so that a few diverged trials do not
    // flatten the rest. null: show everything (few values, or no outliers).
    function valueRange(values) {
      const v = values.filter((x) => x !== null && isFinite(x)).sort((a, b) => a - b);
      if (v.length < 10) return null;
      const lo = minimize ? v[0] : quantile(v, 0.1);
      const hi = minimize ? quantile(v, 0.9) : v[v.length - 1];
      if (!(hi > lo)) return null;
      const span = v[v.length - 1] - v[0];
      if (hi - lo > 0.8 * span) return null;  // no far outliers: let plotly fit all
      const pad = 0.06 * (hi - lo);
      return [lo - pad, hi + pad];
    }

    // One colour scale for every plot, so that a colour means the same value everywhere.
    const allValues = complete.map((t) => t.value);
    const colorRange = valueRange(allValues) ||
      (allValues.length > 0 ? [Math.min(...allValues), Math.max(...allValues)] : [0, 1]);

    function colorMarker(values) {
      const marker = {
        color: values,
        colorscale: 'Viridis',
        reversescale: !minimize,  // the best values are the darkest
        colorbar: { title: { text: metric + '<br>(' + betterText + ')', side: 'right' }, thickness: 14 },
        size: 8,
        line: { width: 0.5, color: '#444' },
        cmin: colorRange[0],
        cmax: colorRange[1],
      };
      return marker;
    }

    function padded(range, fraction) {
      const span = range[1] - range[0];
      const pad = span > 0 ? span * fraction : 0.5;
      return [range[0] - pad, range[1] + pad];
    }

    // A parameter's axis on its own scale: log axes for log and reverse_log (as 1 − x),
    // tick labels for logit (plotted as logit(x)) and choices (plotted as the index).
    function axisFor(p) {
      const axis = { title: { text: p.label }, zeroline: false, automargin: true };
      if (p.axis === 'log') {
        axis.type = 'log';
        axis.exponentformat = 'power';  // 10⁻⁴ rather than 100µ
        axis.range = padded(p.range, 0.04);
      } else if (p.axis === 'category' || p.transform === 'logit') {
        axis.type = 'linear';
        axis.tickmode = 'array';
        axis.tickvals = p.ticks.vals;
        axis.ticktext = p.ticks.text;
        axis.range = p.axis === 'category' ? p.range : padded(p.range, 0.04);
      } else {
        axis.type = 'linear';
        axis.range = padded(p.range, 0.04);
      }
      return axis;
    }

    // A small fixed offset per trial so that trials with the same choice do not hide each
    // other (the choice's band is ±0.25 around its index).
    function jitter(number, salt) {
      const h = Math.imul(number + 1, 2654435761) ^ Math.imul(salt + 7, 40503);
      return (((h >>> 0) % 1000) / 1000 - 0.5) * 0.5;
    }

    function saltOf(name) {
      let s = 0;
      for (let i = 0; i < name.length; i++) s = (s * 31 + name.charCodeAt(i)) | 0;
      return s;
    }

    // The coordinate of trial t on parameter p's scatter axis, or undefined if t lacks p.
    function coord(t, p) {
      const v = t.x[p.name];
      if (v === undefined) return undefined;
      return p.axis === 'category' ? v + jitter(t.number, saltOf(p.name)) : v;
    }

    // The same on a plain linear scale (parallel coordinates): log10 on log axes.
    function linear(t, p) {
      const v = t.x[p.name];
      if (v === undefined) return undefined;
      return p.axis === 'log' ? Math.log10(v) : v;
    }

    // The label of a range end on a parallel axis (v in linear units).
    function endText(p, v) {
      if (p.axis === 'log') return formatValue(Math.pow(10, v), 3);
      if (p.transform === 'logit') return formatValue(1 / (1 + Math.exp(-v)), 3);
      return formatValue(v, 3);
    }

    function hoverText(t) {
      const lines = ['trial #' + t.number + ' (' + t.state + ')'];
      if (t.value !== null) lines.push(metric + ' = ' + formatValue(t.value));
      for (const [name, text] of Object.entries(t.text)) lines.push(name + ' = ' + text);
      return lines.join('<br>');
    }

    // A plot's title, with the sample's size under it when the plot shows a sample.
    function sampledTitle(text) {
      return { text: sample ? text + '<br><span style="font-size:11px;color:#777">' + sampleText + '</span>' : text,
               font: { size: 13 } };
    }
    const sampledMargin = { l: 70, r: 20, t: sample ? 56 : 40, b: 55 };

    function formatValue(v, digits) {
      return String(Number(Number(v).toPrecision(digits || 6)));
    }

    // ---- zoom boxes --------------------------------------------------------------------

    const roundColors = ['#9e9e9e', '#e45756', '#f58518', '#b279a2', '#54a24b', '#4c78a8'];

    // Where each round's label goes in its rectangle: nested boxes often share a corner.
    const labelPositions = ['top left', 'top right', 'bottom left', 'bottom right'];

    function roundColor(i) {
      return roundColors[Math.min(i, roundColors.length - 1)];
    }

    // The intervals a box covers on one axis: its [lo, hi] for a number; one interval per run
    // of kept neighbouring choices.
    function intervals(entry) {
      if (entry.range) return [entry.range];
      const out = [];
      const kept = entry.values || [];
      for (let i = 0; i < kept.length; i++) {
        let j = i;
        while (j + 1 < kept.length && kept[j + 1] === kept[j] + 1) j++;
        out.push([kept[i] - 0.4, kept[j] + 0.4]);
        i = j;
      }
      return out;
    }

    function zoomRectangles(a, b) {
      const shapes = [];
      data.zoom.forEach((round, i) => {
        const ea = round.box[a.name];
        const eb = round.box[b.name];
        if (!ea || !eb) return;
        let first = true;
        for (const ia of intervals(ea)) {
          for (const ib of intervals(eb)) {
            shapes.push({
              type: 'rect', xref: 'x', yref: 'y', x0: ia[0], x1: ia[1], y0: ib[0], y1: ib[1],
              line: { color: roundColor(i), width: 2, dash: i === 0 ? 'dot' : 'solid' },
              fillcolor: 'rgba(0,0,0,0)', layer: 'above',
              label: first ? { text: 'round ' + round.round, textposition: labelPositions[i % 4],
                               font: { size: 10, color: roundColor(i) } } : undefined,
            });
            first = false;
          }
        }
      });
      return shapes;
    }

    function zoomBands(p) {
      const shapes = [];
      data.zoom.forEach((round, i) => {
        if (i === 0) return;  // round 1 is the whole space
        const e = round.box[p.name];
        if (!e) return;
        for (const iv of intervals(e)) {
          shapes.push({
            type: 'rect', xref: 'x', yref: 'paper', x0: iv[0], x1: iv[1], y0: 0, y1: 1,
            line: { width: 1, color: roundColor(i) }, fillcolor: roundColor(i), opacity: 0.08,
            layer: 'below',
          });
        }
      });
      return shapes;
    }

    // ---- the plots ---------------------------------------------------------------------

    function historyPlot() {
      const s = section('history', 'Best value so far',
        'Every complete trial\'s ' + metric + ' (dots) and the best so far (line), by trial ' +
        'number. A line that stops improving early says the budget could be smaller; one ' +
        'still falling at the end says more trials would help.');
      const h = data.history;
      const traces = [
        { type: 'scatter', mode: 'markers', name: 'trial', x: h.number, y: h.value,
          marker: { color: '#7a9cc6', size: 6 }, hovertemplate: 'trial #%{x}<br>' + metric + ' = %{y}<extra></extra>' },
        { type: 'scatter', mode: 'lines', name: 'best so far', x: h.number, y: h.best,
          line: { shape: 'hv', color: '#d62728', width: 2.5 }, hovertemplate: 'best after #%{x}: %{y}<extra></extra>' },
      ];
      const yaxis = { title: { text: metric + ' (' + betterText + ')' } };
      const range = valueRange(h.value);
      if (range) yaxis.range = range;
      plot(s, 'plot-history', traces, { xaxis: { title: { text: 'trial number' } }, yaxis: yaxis,
        legend: { orientation: 'h', y: 1.12 } }, true);
    }

    function importancePlot() {
      const s = section('importance', 'Parameter importance',
        'How much of the variance of ' + metric + ' over the whole search space each ' +
        'parameter explains on its own (fANOVA on a random forest fitted to the complete ' +
        'trials). Tune the top ones first; a parameter near 0% can be fixed.');
      const imp = data.importance;
      if (!imp) {
        note(s, data.importance_note || 'Importance was not measured.');
        return;
      }
      const names = imp.params.map((p) => p.name);
      const shares = imp.params.map((p) => 100 * p.share);
      const traces = [{
        type: 'bar', orientation: 'h', x: shares, y: names,
        text: shares.map((v) => v.toFixed(1) + '%'), textposition: 'auto',
        marker: { color: '#4c78a8' }, hovertemplate: '%{y}: %{x:.1f}%<extra></extra>',
      }];
      plot(s, 'plot-importance', traces, {
        xaxis: { title: { text: 'share of variance (%), from ' + imp.trials_used + ' trials' }, rangemode: 'tozero' },
        yaxis: { autorange: 'reversed', automargin: true },
        height: Math.max(260, 60 + 34 * names.length),
      }, true);
      if (imp.pairs.length > 0) {
        const top = imp.pairs.slice(0, 5).map((p) => p.first + ' × ' + p.second + ': ' +
          (100 * p.share).toFixed(1) + '%');
        s.appendChild(element('p', 'how', 'Strongest pair interactions (beyond each one alone): ' + top.join('; ') + '.'));
      }
    }

    function pairPlots() {
      const zoomed = data.zoom.length > 0;
      const s = section('pairs', 'The trials on pairs of parameters',
        'Each point is a trial at its two values, on the parameters\' own scales; the colour ' +
        'is its ' + metric + ' (darker is better), grey rings are pruned or failed trials, the ' +
        'star is the best trial. Look for the dark region and zoom into it.' +
        (zoomed ? ' The rectangles are the zoom sampler\'s boxes, one per round.' : ''));
      if (data.pairs.length === 0) {
        note(s, 'There is only one parameter, so there are no pairs: see its slice plot below.');
        return;
      }
      const grid = element('div', 'grid');
      s.appendChild(grid);
      data.pairs.forEach(([an, bn], i) => {
        const a = params.get(an);
        const b = params.get(bn);
        const has = (t) => t.x[an] !== undefined && t.x[bn] !== undefined;
        const c = complete.filter(has);
        const o = others.filter(has);
        const traces = [
          { type: 'scatter', mode: 'markers', name: 'pruned or failed', x: o.map((t) => coord(t, a)),
            y: o.map((t) => coord(t, b)), text: o.map(hoverText), hoverinfo: 'text',
            marker: { symbol: 'circle-open', color: '#999', size: 7 } },
          { type: 'scatter', mode: 'markers', name: 'complete', x: c.map((t) => coord(t, a)),
            y: c.map((t) => coord(t, b)), text: c.map(hoverText), hoverinfo: 'text',
            marker: colorMarker(c.map((t) => t.value)) },
        ];
        const bt = best && complete.find((t) => t.number === best.number);
        if (bt && has(bt)) {
          traces.push({ type: 'scatter', mode: 'markers', name: 'best', x: [coord(bt, a)], y: [coord(bt, b)],
            text: [hoverText(bt)], hoverinfo: 'text',
            marker: { symbol: 'star', size: 16, color: '#ffd400', line: { color: '#000', width: 1.2 } } });
        }
        plot(grid, 'plot-pair-' + i, traces, {
          title: sampledTitle(a.label + ' × ' + b.label), margin: sampledMargin,
          xaxis: axisFor(a), yaxis: axisFor(b), showlegend: false,
          shapes: zoomRectangles(a, b),
        });
      });
    }

    function slicePlots() {
      const s = section('slices', 'Each parameter on its own',
        'The ' + metric + ' of each complete trial against each parameter (coloured by trial number: late ' +
        'trials are darker). A clear valley or ridge says where the parameter should be; a ' +
        'flat cloud says it matters little here.' +
        (data.zoom.length > 1 ? ' Shaded bands: the zoom rounds\' ranges.' : ''));
      const grid = element('div', 'grid');
      s.appendChild(grid);
      const yrange = valueRange(complete.map((t) => t.value));
      data.params.forEach((p, i) => {
        const c = complete.filter((t) => t.x[p.name] !== undefined);
        const traces = [{
          type: 'scatter', mode: 'markers', x: c.map((t) => coord(t, p)), y: c.map((t) => t.value),
          text: c.map(hoverText), hoverinfo: 'text',
          marker: { color: c.map((t) => t.number), colorscale: 'Blues', reversescale: true, size: 7,
                    line: { width: 0.5, color: '#444' },
                    colorbar: { title: { text: 'trial' }, thickness: 10 } },
        }];
        const yaxis = { title: { text: metric }, automargin: true };
        if (yrange) yaxis.range = yrange;
        plot(grid, 'plot-slice-' + i, traces, {
          title: sampledTitle(p.label), margin: sampledMargin, xaxis: axisFor(p), yaxis: yaxis,
          showlegend: false, shapes: zoomBands(p),
        });
      });
    }

    function parallelPlot() {
      const s = section('parallel', 'Parallel coordinates',
        'One line per complete trial through its parameter values and its ' + metric + ', ' +
        'coloured like the pair plots (darker is better). Drag along an axis to keep only ' +
        'the trials in that range. "absent" marks a conditional parameter the trial did not have.');
      const order = data.importance ? data.importance.params.map((p) => p.name) : [];
      for (const p of data.params) if (!order.includes(p.name)) order.push(p.name);
      const dims = order.map((name) => {
        const p = params.get(name);
        const lo = p.axis === 'category' ? 0 : p.range[0];
        const hi = p.axis === 'category' ? p.ticks.vals.length - 1 : p.range[1];
        const span = hi > lo ? hi - lo : 1;
        const absentAt = lo - 0.12 * span;
        const values = complete.map((t) => {
          const v = linear(t, p);
          return v === undefined ? absentAt : v;
        });
        const anyAbsent = complete.some((t) => t.x[name] === undefined);
        const dim = { label: p.label, values: values, tickvals: p.ticks.vals.slice(), ticktext: p.ticks.text.slice(),
                      range: [anyAbsent ? absentAt : lo, hi] };
        if (p.axis === 'category') {
          dim.range = [anyAbsent ? absentAt : -0.3, hi + 0.3];
        } else {
          // The axis line runs between the outer ticks: give it the range's ends too.
          const near = 0.04 * span;
          if (dim.tickvals[0] > lo + near) {
            dim.tickvals.unshift(lo);
            dim.ticktext.unshift(endText(p, lo));
          }
          if (dim.tickvals[dim.tickvals.length - 1] < hi - near) {
            dim.tickvals.push(hi);
            dim.ticktext.push(endText(p, hi));
          }
        }
        if (anyAbsent) {
          dim.tickvals.unshift(absentAt);
          dim.ticktext.unshift('absent');
        }
        return dim;
      });
      const values = complete.map((t) => t.value);
      const marker = colorMarker(values);
      dims.push({ label: metric, values: values });
      const line = { color: values, colorscale: marker.colorscale, reversescale: marker.reversescale,
                     showscale: true, colorbar: marker.colorbar, cmin: marker.cmin, cmax: marker.cmax };
      const layout = { margin: { l: 80, r: 80, t: sample ? 90 : 70, b: 30 } };
      if (sample) layout.title = { text: sampleText, font: { size: 11, color: '#777' } };
      plot(s, 'plot-parallel', [{ type: 'parcoords', line: line, dimensions: dims }], layout, true);
    }

    function curvesPlot() {
      const s = section('curves', 'Learning curves',
        'The intermediate values each trial reported (the metric at each step), one line per ' +
        'trial: complete trials in blue, pruned ones faded (a pruner stopped them early), ' +
        'failed ones in red, the best trial thick. Pruning works when the faded lines sit ' +
        'above (worse than) the blue ones where they stop.');
      const withCurves = data.trials.filter((t) => t.curve.length > 0);
      if (withCurves.length === 0) {
        note(s, 'No trial reported intermediate values. A command reports them by printing the ' +
                'metric at each step (epoch=3 val_loss=0.31), a C++ objective with trial.report(step, value); ' +
                'pruners need them too.');
        return;
      }
      const style = {
        complete: { color: '#1f77b4', opacity: 0.75, width: 1.2 },
        pruned: { color: '#7f7f7f', opacity: 0.25, width: 1 },
        failed: { color: '#d62728', opacity: 0.35, width: 1 },
        running: { color: '#2ca02c', opacity: 0.75, width: 1.2 },
        waiting: { color: '#2ca02c', opacity: 0.75, width: 1.2 },
      };
      const shown = new Set();
      const traces = [];
      const all = [];
      for (const t of withCurves) {
        const isBest = best && t.number === best.number;
        const st = style[t.state] || style.failed;
        const group = isBest ? 'best' : t.state;
        traces.push({
          type: 'scatter', mode: 'lines+markers',
          x: t.curve.map((p) => p[0]), y: t.curve.map((p) => p[1]),
          name: isBest ? 'best (#' + t.number + ')' : t.state, legendgroup: group,
          showlegend: !shown.has(group), opacity: isBest ? 1 : st.opacity,
          line: { color: isBest ? '#000' : st.color, width: isBest ? 3 : st.width },
          marker: { color: isBest ? '#000' : st.color, size: isBest ? 5 : 3 },
          hovertemplate: 'trial #' + t.number + ' (' + t.state + ')<br>step %{x}: %{y}<extra></extra>',
        });
        shown.add(group);
        for (const p of t.curve) all.push(p[1]);
      }
      // The best trial last, so it is drawn on top.
      traces.sort((a, b) => (a.legendgroup === 'best') - (b.legendgroup === 'best'));
      const yaxis = { title: { text: metric + ' (' + betterText + ')' } };
      const range = valueRange(all);
      if (range) yaxis.range = range;
      plot(s, 'plot-curves', traces, { xaxis: { title: { text: 'step' } }, yaxis: yaxis }, true, curvesReserved);
    }

    // A babysat model (docs/babysit.md): the metric by step on every branch, with each
    // intervention marked, and the test accuracy by date (when each segment ended), with
    // the best day starred and its values in the hover; then the tree as a table.
    function babysitPlots() {
      const tree = data.babysit;
      const s = section('babysit', 'The babysat model',
        'One model trained a segment at a time (caviar babysit). Left: ' + metric + ' at each step, one line ' +
        'per branch (a rollback starts a new one), the interventions marked with what they changed. Right: the ' +
        'test accuracy of each segment by the time it ended, so you see when the model got worse; the star is ' +
        'the best day, its hover the values in force.');
      const segments = tree.segments;
      const byNumber = new Map(segments.map((g) => [g.number, g]));
      const branches = new Map();
      for (const g of segments) {
        if (!branches.has(g.branch)) branches.set(g.branch, []);
        branches.get(g.branch).push(g);
      }
      const changeText = (g) => {
        const parts = Object.entries(g.changes || {}).map(([k, v]) => k + ' ' + v[0] + ' → ' + v[1]);
        return g.origin + (g.origin === 'rollback' ? ' to step ' + g.step : '') +
          (parts.length ? ': ' + parts.join(', ') : '') + (g.note ? '<br>' + g.note : '');
      };
      const traces = [];
      const marks = { x: [], y: [], text: [] };
      for (const [branch, list] of branches) {
        const x = [], y = [];
        // A branch starts where its first segment's checkpoint was saved.
        const first = list[0];
        const from = first.restore_trial !== null ? byNumber.get(first.restore_trial) : null;
        if (from && from.value !== null) { x.push(from.stop); y.push(from.value); }
        for (const g of list) {
          for (const p of g.points) { x.push(p[0]); y.push(p[1]); }
          if (g.origin !== 'continue' && g.value !== null) {
            marks.x.push(g.stop); marks.y.push(g.value);
            marks.text.push('#' + g.number + ' ' + changeText(g));
          }
        }
        traces.push({ type: 'scatter', mode: 'lines+markers', name: 'branch ' + branch, x: x, y: y,
                      hovertemplate: 'branch ' + branch + '<br>step %{x}: %{y}<extra></extra>' });
      }
      traces.push({ type: 'scatter', mode: 'markers', name: 'interventions', x: marks.x, y: marks.y,
                    text: marks.text, hovertemplate: '%{text}<extra></extra>',
                    marker: { symbol: 'diamond', size: 10, color: '#d62728' } });
      const grid = element('div', 'grid');
      s.appendChild(grid);
      plot(grid, 'plot-babysit-steps', traces, {
        title: { text: metric + ' by step', font: { size: 13 } },
        xaxis: { title: { text: 'step' } }, yaxis: { title: { text: metric + ' (' + betterText + ')' } },
      });
      const dated = segments.filter((g) => g.test_acc !== null && g.ended);
      if (dated.length) {
        const when = (g) => g.ended.replace(' ', 'T');
        const bestDay = tree.best_day;
        const dateTraces = [{
          type: 'scatter', mode: 'lines+markers', name: 'test accuracy', x: dated.map(when),
          y: dated.map((g) => g.test_acc),
          text: dated.map((g) => '#' + g.number + ', step ' + g.stop + ', branch ' + g.branch),
          hovertemplate: '%{text}<br>%{x}: %{y}<extra></extra>',
        }];
        if (bestDay && bestDay.test_acc !== null && bestDay.ended) {
          const values = Object.entries(bestDay.params).map(([k, v]) => k + '=' + v).join('<br>');
          dateTraces.push({ type: 'scatter', mode: 'markers', name: 'best day', x: [when(bestDay)],
                            y: [bestDay.test_acc], text: [values],
                            hovertemplate: 'best day, #' + bestDay.number + '<br>%{text}<extra></extra>',
                            marker: { symbol: 'star', size: 16, color: '#ffd400', line: { color: '#000', width: 1 } } });
        }
        plot(grid, 'plot-babysit-dates', dateTraces, {
          title: { text: 'test accuracy by date (UTC)', font: { size: 13 } },
          xaxis: { type: 'date' }, yaxis: { title: { text: 'test accuracy' } },
        });
      } else {
        note(s, 'No segment reported a test accuracy (the built-in trainer does; a command prints test_acc=...).');
      }
      const table = element('table', 'summary');
      const head = element('tr');
      for (const h of ['#', 'branch', 'steps', 'state', metric, 'test', 'ended (UTC)', 'origin']) head.appendChild(element('td', '', h));
      table.appendChild(head);
      for (const g of segments) {
        const row = element('tr');
        const cells = ['#' + g.number, String(g.branch), (g.step + 1) + '-' + g.stop, g.state,
                       g.value === null ? '-' : formatValue(g.value, 4),
                       g.test_acc === null ? '-' : formatValue(g.test_acc, 4),
                       g.ended ? g.ended.slice(0, 16) : '-', changeText(g).replace('<br>', ' — ')];
        for (const c of cells) row.appendChild(element('td', '', c));
        table.appendChild(row);
      }
      const details = element('details');
      details.appendChild(element('summary', '', 'every segment (' + segments.length + ')'));
      details.appendChild(table);
      s.appendChild(details);
    }

    // A re-tuning's verdict (docs/retune.md): the old best configurations on the old data
    // and on the new, beside the new best; and the importance old against new.
    function retunePlots() {
      const r = data.retune;
      const verdict = r.verdict === 'better'
        ? 'a better configuration was found: the new best is ' + formatValue(r.gain, 4) + ' better than the old best on the new data'
        : r.verdict === 'holds'
          ? 'the old configuration holds (the new best is within ' + r.tolerance + ' of it)' : 'no verdict yet';
      const s = section('retune', 'Re-tuned from study ' + r.old.study + ': ' + verdict,
        'Left: each of the old study\'s best configurations, run first here, on the old data (grey) and on the ' +
        'new (blue); the line is the best ' + metric + ' found on the new data. Right: each parameter\'s share ' +
        'of the variance (fANOVA) in the old study and in this one: what matters can change with the data.');
      const w = r.warm_start;
      if (w) {
        note(s, 'Warm start: weight ' + formatValue(w.weight, 2) + ' on the old study (rank correlation ' +
          formatValue(w.rho, 2) + ' between the old study\'s predictions and ' + w.trials + ' new results; ' +
          w.prior + ' of ' + w.old + ' old trials shown to the sampler at the last suggestion).');
      }
      const grid = element('div', 'grid');
      s.appendChild(grid);
      const label = (run) => '#' + run.old_trial + (run.new_trial !== null ? ' → #' + run.new_trial : '');
      const traces = [
        { type: 'scatter', mode: 'markers', name: 'on the old data', x: r.runs.map(label),
          y: r.runs.map((run) => run.old_value), marker: { color: '#999', size: 10 } },
        { type: 'scatter', mode: 'markers', name: 'on the new data', x: r.runs.map(label),
          y: r.runs.map((run) => run.new_value), marker: { color: '#4c78a8', size: 10 } },
      ];
      const shapes = [];
      if (r.new.best) {
        shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: r.new.best.value, y1: r.new.best.value,
                      line: { color: '#2ca02c', dash: 'dash' } });
        traces.push({ type: 'scatter', mode: 'lines', name: 'new best (#' + r.new.best.number + ')',
                      x: [null], y: [null], line: { color: '#2ca02c', dash: 'dash' } });
      }
      plot(grid, 'plot-retune-runs', traces, {
        title: { text: 'the old best, old data against new', font: { size: 13 } },
        xaxis: { title: { text: 'old trial → its run here' } },
        yaxis: { title: { text: metric + ' (' + betterText + ')' } }, shapes: shapes,
      });
      const rows = r.importance.filter((p) => p.old_share !== null || p.new_share !== null);
      if (rows.length) {
        const names = rows.map((p) => p.name);
        const bar = (key, name, color) => ({
          type: 'bar', orientation: 'h', name: name, y: names, x: rows.map((p) => p[key] === null ? 0 : 100 * p[key]),
          marker: { color: color }, hovertemplate: name + ' %{y}: %{x:.1f}%<extra></extra>' });
        plot(grid, 'plot-retune-importance', [bar('old_share', 'old study', '#999'), bar('new_share', 'this study', '#4c78a8')], {
          title: { text: 'importance, old against new', font: { size: 13 } }, barmode: 'group',
          xaxis: { title: { text: 'share of variance (%)' }, rangemode: 'tozero' },
          yaxis: { autorange: 'reversed', automargin: true },
        });
      } else {
        note(s, r.importance_note || 'Importance was not measured on either side.');
      }
    }

    // The learning curves keep a WebGL plot for themselves when they need one: drawn last,
    // they would otherwise find the pair plots had taken them all.
    const want = (name) => sections.includes(name);
    let curvesReserved = false;
    if (want('curves')) {
      let points = 0;
      for (const t of data.trials) points += t.curve.length;
      if (points > webglPoints && webglLeft > 0) {
        webglLeft -= 1;
        curvesReserved = true;
      }
    }
    if (complete.length > 0) {
      if (want('history')) historyPlot();
      if (want('retune') && data.retune) retunePlots();
      if (want('babysit') && data.babysit) babysitPlots();
      if (want('importance')) importancePlot();
      if (want('pairs')) pairPlots();
      if (want('slices')) slicePlots();
      if (want('parallel')) parallelPlot();
    }
    if (want('curves')) curvesPlot();

    // One plot per task, so that the browser shows the page and answers the user between
    // them: drawing them all at once held a large study's page for many seconds.
    return new Promise((resolve) => {
      let i = 0;
      const next = () => {
        if (i < jobs.length) {
          jobs[i++]();
          setTimeout(next, 0);
        } else {
          resolve(Promise.all(pending));
        }
      };
      setTimeout(next, 0);
    }).then(() => plots);
  };

  // A `caviar report` page: its data is in the page; draw it at once.
  const embedded = document.getElementById('caviar-data');
  if (embedded) {
    const data = JSON.parse(embedded.textContent);
    window.caviarReport(document.getElementById('caviar-report'), data).then((plots) => {
      document.body.dataset.plots = String(plots);
      window.caviarReportReady = true;
    });
  }
})();
