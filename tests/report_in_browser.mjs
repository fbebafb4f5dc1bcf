// Opens `caviar report` pages in headless Chromium (Debian's, driven by playwright-core
// from web/node_modules) with every network request refused, and fails on any JavaScript
// error, on any request that leaves the file, or on a plot that did not render.
//   node report_in_browser.mjs SOURCE_DIR CASES.json
// CASES.json: [{"html", "screenshot", "plots", "rounds", "curves": bool, "complete": bool,
//               "retune": bool}]
//   plots: how many plots the page must draw; rounds: zoom rounds in its data; curves:
//   whether it has learning curves (else the note that says why not); complete: whether
//   the study has a complete trial (else the page must say it has none); retune: whether it
//   is a re-tuned study (then the verdict's two plots, the old best in both, must draw).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [sourceDir, casesFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const require = createRequire(path.join(path.resolve(sourceDir), 'web', 'package.json'));
const { chromium } = require('playwright-core');

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CAVIAR_CHROMIUM || '/usr/bin/chromium',
  // --no-sandbox: tests may run as root. SwiftShader: WebGL without a GPU, for parcoords.
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
try {
  for (const c of cases) await check(c);
} finally {
  await browser.close();
}
if (problems.length > 0) {
  for (const p of problems) console.error('FAIL: ' + p);
  process.exit(1);
}

async function check(c) {
  const name = path.basename(c.html);
  const fail = (text) => problems.push(name + ': ' + text);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const url = pathToFileURL(path.resolve(c.html)).href;
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    fail('the page requested ' + u);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') fail('console error: ' + m.text());
  });
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    if (r.url() !== url) fail('request failed: ' + r.url());
  });

  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.caviarReportReady === true, null, { timeout: 60000 });

  const result = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById('caviar-data').textContent);
    const plots = [...document.querySelectorAll('.caviar-plot')].map((div) => ({
      id: div.id,
      svg: div.querySelectorAll('.main-svg').length,
      laidOut: Boolean(div._fullLayout),
      traces: (div.data || []).length,
      failed: div.querySelector('.plot-error') !== null,
      shapes: div._fullLayout ? (div._fullLayout.shapes || []).length : 0,
      xaxis: div._fullLayout && div._fullLayout.xaxis
        ? { type: div._fullLayout.xaxis.type, title: div._fullLayout.xaxis.title.text } : null,
      names: (div.data || []).map((t) => t.name),
      opacities: (div.data || []).map((t) => t.opacity),
      canvases: div.querySelectorAll('canvas').length,
    }));
    return {
      plots,
      zoom: data.zoom.length,
      params: data.params.map((p) => p.name),
      curvesNote: document.querySelector('#curves p.note') !== null,
      noComplete: document.getElementById('no-complete') !== null,
      retune: data.retune,
    };
  });

  const byId = new Map(result.plots.map((p) => [p.id, p]));
  if (result.plots.length !== c.plots)
    fail(`expected ${c.plots} plots, found ${result.plots.length}: ${result.plots.map((p) => p.id).join(' ')}`);
  for (const p of result.plots) {
    if (p.svg === 0 || !p.laidOut || p.traces === 0 || p.failed)
      fail(`plot ${p.id} did not render (svg ${p.svg}, layout ${p.laidOut}, traces ${p.traces}, failed ${p.failed})`);
  }
  if (result.zoom !== c.rounds) fail(`expected ${c.rounds} zoom rounds, found ${result.zoom}`);
  for (const p of result.plots.filter((q) => q.id.startsWith('plot-pair-'))) {
    if (p.shapes < c.rounds) fail(`pair plot ${p.id} has ${p.shapes} zoom rectangles, expected >= ${c.rounds}`);
  }
  if (result.noComplete === c.complete) fail(`the "no complete trial" note is ${result.noComplete ? '' : 'not '}there`);
  if (c.complete) {
    // Each parameter on its own scale (the test studies: lr log, beta reverse_log, ...).
    result.params.forEach((p, i) => {
      const slice = byId.get('plot-slice-' + i);
      if (!slice) return fail('no slice plot for ' + p);
      if (p === 'lr' && slice.xaxis.type !== 'log') fail('lr is not on a log axis: ' + slice.xaxis.type);
      if (p === 'beta' && (slice.xaxis.type !== 'log' || slice.xaxis.title !== '1 − beta'))
        fail('beta is not drawn as 1 − beta on a log axis: ' + JSON.stringify(slice.xaxis));
    });
    const parallel = byId.get('plot-parallel');
    if (!parallel || parallel.canvases === 0) fail('parallel coordinates drew no WebGL canvas');
  }
  if (Boolean(c.retune) !== Boolean(result.retune)) fail(`the verdict is ${result.retune ? '' : 'not '}in the data`);
  if (c.retune && result.retune) {
    const runs = byId.get('plot-retune-runs');
    if (!runs) fail('no plot of the old best on the new data');
    else if (runs.traces < 2) fail('the old best is not drawn on both data');
    if (!byId.get('plot-retune-importance')) fail('no plot of the importance old against new');
    // Each ran here first (one may be pruned: then it has no value).
    const first = result.retune.runs;
    if (!first.length || first.some((r, i) => r.new_trial !== i) || !first.some((r) => r.new_value !== null))
      fail('the old best configurations were not run first: ' + JSON.stringify(first));
  }
  const curves = byId.get('plot-curves');
  if (c.curves) {
    if (!curves) {
      fail('no learning curves plot');
    } else {
      const pruned = curves.names.map((n, i) => [n, curves.opacities[i]]).filter(([n]) => n === 'pruned');
      if (pruned.length === 0) fail('the learning curves show no pruned trial');
      if (pruned.some(([, o]) => !(o < 0.5))) fail('pruned learning curves are not faded');
    }
  } else if (curves || !result.curvesNote) {
    fail('a study without intermediate values should get a note instead of learning curves');
  }

  if (c.screenshot) await page.screenshot({ path: c.screenshot, fullPage: true });
  console.log(`${name}: ${result.plots.length} plots rendered (${result.plots.map((p) => p.id).join(' ')}); ` +
              `${result.zoom} zoom rounds` + (c.screenshot ? `; screenshot: ${path.resolve(c.screenshot)}` : ''));
  await context.close();
}
