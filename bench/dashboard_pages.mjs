// Opens N dashboard pages in one headless Chromium (Debian's, through playwright-core from
// web/node_modules), as one person's browser would, and keeps them open until its standard
// input closes. Prints a JSON line when they are all drawn, {"ready_ms": [...]} (from each
// navigation to document.body.dataset.ready), and one at the end, {"updates": [...]} (how
// many live versions each page applied). For bench/dashboard_scale.py.
//   node dashboard_pages.mjs SOURCE_DIR URL N [drawn]
// With "drawn", each (study) page is then scrolled down until every part of it was drawn
// (document.body.dataset.drawn), and the first line has "drawn_ms" too (from navigation).
import { createRequire } from 'node:module';
import path from 'node:path';

const [sourceDir, url, count, mode] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(sourceDir), 'web', 'package.json'));
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: process.env.CAVIAR_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const origin = new URL(url).origin;
await context.route('**/*', (route) =>
  route.request().url().startsWith(origin) ? route.continue() : route.abort());
const errors = [];
const pages = [];
const drawnMs = [];
const ready = await Promise.all(Array.from({ length: Number(count) }, async () => {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  pages.push(page);
  const start = Date.now();
  await page.goto(url, { timeout: 180000 });
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 180000 });
  const readyMs = Date.now() - start;
  if (mode === 'drawn') {
    // A screen at a time, and from the top again, until every part was drawn.
    while (Date.now() - start < 300000) {
      const done = await page.evaluate(() => {
        if (document.body.dataset.drawn === '1') return true;
        const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
        if (bottom) window.scrollTo(0, 0);
        else window.scrollBy(0, Math.round(window.innerHeight * 0.6));
        return false;
      });
      if (done) break;
      await page.waitForTimeout(300);
    }
    drawnMs.push(await page.evaluate(() => document.body.dataset.drawn === '1') ? Date.now() - start : null);
  }
  return readyMs;
}));
const first = await Promise.all(pages.map((p) => p.evaluate(() => Number(document.body.dataset.version || 0))));
console.log(JSON.stringify(mode === 'drawn' ? { ready_ms: ready, drawn_ms: drawnMs, errors } : { ready_ms: ready, errors }));
await new Promise((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.stdin.resume();
});
const last = await Promise.all(pages.map((p) => p.evaluate(() => Number(document.body.dataset.version || 0))));
console.log(JSON.stringify({ updates: last.map((v, i) => v - first[i]), errors }));
await browser.close();
