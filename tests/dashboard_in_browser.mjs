// Opens the pages of a running `caviar dashboard` in headless Chromium (Debian's, driven by
// playwright-core from web/node_modules) and fails on any JavaScript error, on any request
// to another host, on a page that does not finish drawing, on a live study page that does
// not follow the study, on a studies page that loads plotly.js, and on a missing page that
// is not a 404. A study page draws its plots as they come near the screen: it is scrolled
// through until each was drawn (document.body.dataset.drawn).
//   node dashboard_in_browser.mjs SOURCE_DIR BASE_URL CHECKS.json
// CHECKS.json: {"pages": [{"path": "/study/1", "kind": "studies" | "study" | "trial",
//                          "live": bool}], "missing": ["/study/999", ...]}
//   live: the study is being tuned meanwhile: its page's version must grow within 10 s.
//   babysit: a babysat model's study: its section draws, and its Pause button stores a
//            control (the server answers with the stored control's id).
// With CAVIAR_SCREENSHOTS=DIR, a screenshot of each page goes there. Prints one line per
// page with its time to ready; one "FAIL: ..." line per problem, and exits 1 if any.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [sourceDir, baseUrl, checksFile] = process.argv.slice(2);
if (!sourceDir || !baseUrl || !checksFile) {
  console.error('usage: node dashboard_in_browser.mjs SOURCE_DIR BASE_URL CHECKS.json');
  process.exit(2);
}
const checks = JSON.parse(readFileSync(checksFile, 'utf8'));
const base = new URL(baseUrl);
const require = createRequire(path.join(path.resolve(sourceDir), 'web', 'package.json'));
const { chromium } = require('playwright-core');
const screenshots = process.env.CAVIAR_SCREENSHOTS || '';
const readyTimeout = 60000;  // a hang guard: SwiftShader draws WebGL on the CPU, slow beside other tests on 2 cores
const liveTimeout = 10000;

const problems = [];
let foreign = 0;
const browser = await chromium.launch({
  executablePath: process.env.CAVIAR_CHROMIUM || '/usr/bin/chromium',
  // --no-sandbox: tests may run as root. SwiftShader: WebGL without a GPU (scattergl, parcoords).
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
try {
  for (const p of checks.pages || []) await checkPage(p);
  for (const m of checks.missing || []) await checkMissing(m);
} finally {
  await browser.close();
}
if (foreign > 0) problems.push(`${foreign} request(s) to other hosts than ${base.host}`);
if (problems.length > 0) {
  for (const p of problems) console.error('FAIL: ' + p);
  process.exit(1);
}

// A context whose requests to any other host are refused (and counted as failures).
async function newContext(fail) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route((url) => url.host !== base.host || !url.protocol.startsWith('http'), (route) => {
    foreign += 1;
    fail('the page requested ' + route.request().url());
    return route.abort();
  });
  return context;
}

function shotName(p) {
  const name = p.replace(/^\/+|\/+$/g, '').replace(/[^A-Za-z0-9_.-]+/g, '-');
  return (name || 'studies') + '.png';
}

async function checkPage(c) {
  const name = c.path;
  let closing = false;  // requests cut by closing the page are not failures
  const fail = (text) => {
    if (!closing) problems.push(name + ': ' + text);
  };
  const context = await newContext(fail);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') fail('console error: ' + m.text());
  });
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // An event stream cut when the page closes is not a failure.
    if (!r.url().endsWith('/events')) fail('request failed: ' + r.url() + ' (' + (r.failure() || {}).errorText + ')');
  });
  const requested = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) fail(`${r.url()} answered ${r.status()}`);
  });

  try {
    const started = Date.now();
    const response = await page.goto(new URL(c.path, base).href, { waitUntil: 'load' });
    if (!response || response.status() !== 200) fail(`status ${response ? response.status() : 'none'}, not 200`);
    let readyMs = null;
    try {
      await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: readyTimeout });
      readyMs = Date.now() - started;
    } catch (e) {
      fail(`not ready (document.body.dataset.ready) within ${readyTimeout / 1000} s`);
    }

    // Down the page a screen at a time, and from the top again, until every part was drawn
    // (a part scrolled past before its turn is drawn on the next way down).
    let drawn = '';
    if (c.kind === 'study' && readyMs !== null) {
      let done = false;
      for (const t0 = Date.now(); !done && Date.now() - t0 < readyTimeout;) {
        done = await page.evaluate(() => {
          if (document.body.dataset.drawn === '1') return true;
          const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
          if (bottom) window.scrollTo(0, 0);
          else window.scrollBy(0, Math.round(window.innerHeight * 0.6));
          return false;
        });
        if (!done) await page.waitForTimeout(300);
      }
      if (done) drawn = `; every part drawn in ${Date.now() - started} ms`;
      else fail(`not every part drawn (document.body.dataset.drawn) within ${readyTimeout / 1000} s of scrolling`);
    }

    const kind = await page.evaluate(() => {
      const host = document.getElementById('caviar-dashboard');
      return host ? host.dataset.page : null;
    });
    if (kind !== c.kind) fail(`data-page is ${kind}, expected ${c.kind}`);

    let live = '';
    if (c.live && readyMs !== null) {
      const v0 = await page.evaluate(() => Number(document.body.dataset.version));
      if (!Number.isFinite(v0)) fail('document.body.dataset.version is not set once ready');
      try {
        const t0 = Date.now();
        await page.waitForFunction((v) => Number(document.body.dataset.version) > v, v0, { timeout: liveTimeout });
        const v1 = await page.evaluate(() => Number(document.body.dataset.version));
        live = `; version ${v0} -> ${v1} after ${Date.now() - t0} ms`;
      } catch (e) {
        fail(`document.body.dataset.version stayed ${v0} for ${liveTimeout / 1000} s while the study ran`);
      }
      const indicator = await page.evaluate(() => {
        const e = document.querySelector('.live-indicator');
        return e ? e.textContent : null;
      });
      if (indicator !== 'live') fail(`the live indicator says "${indicator}", not "live"`);
    }

    const found = await page.evaluate(() => {
      const plots = [...document.querySelectorAll('.js-plotly-plot')].filter((d) => !d.closest('[hidden]'));
      return {
        errors: [...document.querySelectorAll('p.error')].map((e) => e.textContent),
        plots: plots.length,
        broken: plots.filter((d) => !d._fullLayout || d.querySelectorAll('.main-svg').length === 0).map((d) => d.id),
        studyLinks: document.querySelectorAll('a[href^="/study/"]').length,
        tableRows: document.querySelectorAll('table.trials tbody tr').length,
        trialLinks: document.querySelectorAll('table.trials a[href*="/trial/"]').length,
        history: Boolean(document.getElementById('plot-best') && document.getElementById('plot-best')._fullLayout),
        curves: Boolean(document.getElementById('plot-live-curves') &&
                        document.getElementById('plot-live-curves')._fullLayout),
        analysis: document.querySelectorAll('.analysis-root .caviar-plot').length,
        params: document.querySelectorAll('table.params tbody tr').length,
        tokenLinks: [...document.querySelectorAll('a[href]')].filter((a) => a.href.includes('token=')).length,
      };
    });
    for (const e of found.errors) fail('the page shows an error: ' + e);
    if (found.broken.length > 0) fail('plots not drawn: ' + found.broken.join(' '));
    if (found.tokenLinks > 0) fail(`${found.tokenLinks} links carry ?token=`);
    if (c.kind === 'studies' && found.studyLinks === 0) fail('no link to a study');
    if (c.kind === 'studies' && requested.includes('/assets/plotly.js')) fail('the studies page loaded plotly.js');
    if (c.kind === 'study') {
      if (!found.history) fail('no best-so-far plot');
      if (!found.curves) fail('no learning curves plot');
      if (found.tableRows === 0 || found.trialLinks === 0) fail('the trial table is empty');
    }
    if (c.kind === 'trial' && found.params === 0) fail('no parameters table');
    if (c.babysit) {
      const drawnSteps = await page.evaluate(() => {
        const d = document.getElementById('plot-babysit-steps');
        return Boolean(d && d._fullLayout) && !document.getElementById('babysit-model').hidden;
      });
      if (!drawnSteps) fail('the babysat model\'s section or its plot is missing');
      await page.click('button[name=babysit-pause]');
      try {
        await page.waitForFunction(() => document.body.dataset.babysitStored, null, { timeout: 10000 });
      } catch (e) {
        fail('the Pause button stored nothing: ' + await page.textContent('#babysit-model p.note'));
      }
    }

    if (screenshots) await page.screenshot({ path: path.join(screenshots, shotName(c.path)), fullPage: true });
    console.log(`${name} (${c.kind}): ` + (readyMs === null ? 'not ready' : `ready in ${readyMs} ms`) +
                `; ${found.plots} plots` + (c.kind === 'study' ? `, ${found.analysis} in the analysis, ` +
                `${found.tableRows} table rows` : '') + drawn + live);
  } catch (e) {
    fail('could not check the page: ' + e.message);
  } finally {
    closing = true;
    await context.close();
  }
}

async function checkMissing(p) {
  const fail = (text) => problems.push(p + ': ' + text);
  const context = await newContext(fail);
  const page = await context.newPage();
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  try {
    const response = await page.goto(new URL(p, base).href, { waitUntil: 'load' });
    const status = response ? response.status() : null;
    if (status !== 404) fail(`status ${status}, not 404`);
    console.log(`${p}: ${status}`);
  } catch (e) {
    fail('could not open the page: ' + e.message);
  } finally {
    await context.close();
  }
}
