// Opens N dashboard pages in one headless Chromium (Debian's, through playwright-core from
// web/node_modules), as one person's browser would, and keeps them open until its standard
// input closes. Prints a JSON line when they are all drawn, {"ready_ms": [...]} (from each
// navigation to document.body.dataset.ready), and one at the end, {"updates": [...]} (how
// many live versions each page applied). For bench/dashboard_scale.py.
//   node dashboard_pages.mjs SOURCE_DIR URL N
import { createRequire } from 'node:module';
import path from 'node:path';

const [sourceDir, url, count] = process.argv.slice(2);
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
const ready = await Promise.all(Array.from({ length: Number(count) }, async () => {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  pages.push(page);
  const start = Date.now();
  await page.goto(url, { timeout: 180000 });
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 180000 });
  return Date.now() - start;
}));
const first = await Promise.all(pages.map((p) => p.evaluate(() => Number(document.body.dataset.version || 0))));
console.log(JSON.stringify({ ready_ms: ready, errors }));
await new Promise((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.stdin.resume();
});
const last = await Promise.all(pages.map((p) => p.evaluate(() => Number(document.body.dataset.version || 0))));
console.log(JSON.stringify({ updates: last.map((v, i) => v - first[i]), errors }));
await browser.close();
