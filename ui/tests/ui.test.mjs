// End-to-end UI tests in headless Chromium (playwright-core drives the
// system's /usr/bin/chromium). Server: WATCHFIRE_URL (see run.mjs).
//
// Against a real server, load tests/fixtures/dashboards with
// --dashboards.dir and make the known series exist; these knobs adapt the
// expectations: WATCHFIRE_KNOWN_EXPR (default `up`), WATCHFIRE_GAUGE_DASHBOARD
// (default `websocket-go2`), WATCHFIRE_GAUGE_COLOR (the colour name the
// Active Connections gauge must show; by default `yellow` against the fake,
// whose value is 1850, else derived from the API's current value).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = (process.env.WATCHFIRE_URL || '').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const KNOWN_EXPR = process.env.WATCHFIRE_KNOWN_EXPR || 'up';
const GAUGE_DASH = process.env.WATCHFIRE_GAUGE_DASHBOARD || 'websocket-go2';
const GAUGE_COLOR = process.env.WATCHFIRE_GAUGE_COLOR || '';
const GRAFANA = { green: 'rgb(115, 191, 105)', yellow: 'rgb(250, 222, 42)', red: 'rgb(242, 73, 92)' };

const skip = !BASE ? 'WATCHFIRE_URL is not set' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)` : false;
if (skip) console.log(`# SKIPPING the UI suite: ${skip}`);

let browser;
before(async () => {
  if (skip) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => {
  if (browser) await browser.close();
});

/** A page that records console errors, page errors and failed requests. */
async function open(path, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  await page.goto(BASE + path, { waitUntil: 'load' });
  return { page, errors };
}

// Each page with what shows it has rendered (whatever the server's data).
const PAGES = [
  ['/', '.ed-input'],
  [`/query?expr=${encodeURIComponent(KNOWN_EXPR)}&tab=table`, '.result table.data, .result p.muted'],
  ['/targets', 'h1'],
  ['/rules', 'h1'],
  ['/alerts', 'h1'],
  ['/silences', 'h1'],
  ['/silences?new=1', 'form.silence-form'],
  ['/history', 'h1'],
  ['/status', 'table.kv'],
  ['/dashboards', 'ul.dashlist a'],
  [`/d/${GAUGE_DASH}`, '.panel'],
];

/** Waits until no part of the page still says it is loading. */
async function settled(page) {
  await page.waitForFunction(() => !/Loading/.test(document.getElementById('main').textContent), null, { timeout: 10000 });
  await page.waitForLoadState('networkidle');
}

for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  test(`every page loads without console errors at ${viewport.width}x${viewport.height}`, { skip }, async () => {
    for (const [path, sel] of PAGES) {
      const { page, errors } = await open(path, viewport);
      await page.waitForSelector(sel, { timeout: 10000 });
      await settled(page);
      assert.deepEqual(errors, [], `errors on ${path}`);
      assert.equal(await page.locator('#main div.error').count(), 0, `${path} shows an error: ${await page.locator('#main div.error').allTextContents()}`);
      // Collapsed sections (status' flags and configuration) must fit too.
      for (const btn of await page.$$('button.collapse[aria-expanded="false"]')) await btn.click();
      // Nothing may overflow the viewport horizontally except scroll boxes.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} overflows the ${viewport.width}px viewport by ${overflow}px`);
      await page.close();
    }
  });
}

test('every input has an accessible label', { skip }, async () => {
  for (const path of ['/query?tab=graph', '/silences?new=1', `/d/${GAUGE_DASH}`, '/targets']) {
    const { page } = await open(path);
    await page.waitForSelector('input, select, textarea');
    await page.waitForLoadState('networkidle');
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => el.type !== 'hidden' && !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabelled, [], `unlabelled controls on ${path}`);
    await page.close();
  }
});

/** A graph range that fits the stored data: from the head's oldest sample to
 * now, between 1m and 1h. A server scraping for seconds only would draw its
 * line in the last few pixels of a 1h graph. */
async function fittingRange() {
  const head = (await (await fetch(`${BASE}/api/v1/status/tsdb`)).json()).data.headStats;
  assert.ok(head && Number.isFinite(head.minTime), 'the TSDB status has headStats.minTime');
  const age = Math.ceil((Date.now() - head.minTime) / 1000);
  return `${Math.min(Math.max(age, 60), 3600)}s`;
}

test('a known series draws a line in the graph view', { skip }, async () => {
  const { page, errors } = await open(`/query?expr=${encodeURIComponent(KNOWN_EXPR)}&tab=graph&range=${await fittingRange()}`);
  await page.waitForSelector('.chart canvas', { timeout: 10000 });
  const series = await page.getAttribute('.chart', 'data-series');
  assert.ok(Number(series) >= 1, `expected series, got ${series}`);
  // Opaque, coloured (non-grey) pixels inside the plot area: the line.
  const coloured = await colouredPixels(page);
  assert.ok(coloured > 100, `the plot has only ${coloured} coloured pixels`);
  assert.ok(page.url().includes('tab=graph') && page.url().includes('expr='), 'URL holds the state');
  assert.deepEqual(errors, []);
  await page.close();
});

/** Opaque, coloured (non-grey) pixels of the first chart's canvas. */
async function colouredPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector('.chart canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
    return n;
  });
}

test('samples without neighbours are drawn as dots', { skip: skip || (!process.env.WATCHFIRE_FAKE && "needs the fake server's sparse series") }, async () => {
  // Every other 15m step has a sample: no two are adjacent, so no line joins them.
  const { page, errors } = await open('/query?expr=ws_broadcast_batch_size&tab=graph&range=3h&step=15m');
  await page.waitForSelector('.chart canvas', { timeout: 10000 });
  assert.equal(await page.getAttribute('.chart', 'data-series'), '1');
  // 3h at 15m: 6 or 7 samples, each a dot ~6px across (~20 coloured pixels).
  const coloured = await colouredPixels(page);
  assert.ok(coloured >= 5 * 15, `the isolated samples drew only ${coloured} coloured pixels`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a parse error is shown with its position', { skip }, async () => {
  const { page } = await open(`/query?expr=${encodeURIComponent('sum(rate(up[5m])')}&tab=table`);
  const msg = await page.textContent('.error', { timeout: 10000 });
  assert.match(msg, /parse error/);
  assert.ok(await page.$('.caret'), 'a caret line under the query');
  assert.ok(await page.$('mark.ed-err'), 'the error position is marked in the editor');
  await page.close();
});

test('the editor completes metric names', { skip }, async () => {
  const { page } = await open('/query');
  await page.click('.ed-input');
  const metric = /[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(KNOWN_EXPR)[0];
  await page.keyboard.type(metric.slice(0, Math.max(1, Math.min(2, metric.length - 1))));
  await page.waitForSelector('.ed-list:not([hidden]) .ed-item', { timeout: 5000 });
  const items = await page.$$eval('.ed-item .ed-text', (els) => els.map((e) => e.textContent));
  assert.ok(items.includes(metric), `completions: ${items.join(', ')}`);
  // Keyboard: arrow to the metric and accept it with Tab.
  const at = items.indexOf(metric);
  for (let i = 0; i < at; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  assert.equal(await page.inputValue('.ed-input'), metric);
  await page.close();
});

/** The colour the gauge must show: the env knob, the fake's known 1850, or
 * (real server, no template variables in the query) the API's current value
 * placed in the panel's own threshold steps. */
async function expectedGaugeColor() {
  if (GAUGE_COLOR) return GAUGE_COLOR;
  if (process.env.WATCHFIRE_FAKE) return 'yellow';
  const dash = (await (await fetch(`${BASE}/api/v1/dashboards/${GAUGE_DASH}`)).json()).data;
  const all = (dash.panels || []).flatMap((p) => [p, ...(p.panels || [])]);
  const panel = all.find((p) => p.type === 'gauge' && p.title === 'Active Connections');
  const expr = panel.targets[0].expr;
  assert.ok(!expr.includes('$'), 'set WATCHFIRE_GAUGE_COLOR: the gauge query uses template variables');
  const q = (await (await fetch(`${BASE}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()).data;
  const v = parseFloat(q.result[0].value[1]);
  let color = null;
  for (const s of panel.fieldConfig.defaults.thresholds.steps) if (s.value === null || v >= s.value) color = s.color;
  return color;
}

test("the seeds' Active Connections gauge shows its threshold colour", { skip }, async () => {
  const want = await expectedGaugeColor();
  const { page, errors } = await open(`/d/${GAUGE_DASH}`);
  const panel = page.locator('section.panel', { has: page.locator('h2', { hasText: 'Active Connections' }) });
  const gauge = panel.locator('figure.gauge').first();
  await gauge.waitFor({ timeout: 10000 });
  assert.equal(await gauge.getAttribute('data-threshold-color'), want);
  const stroke = await gauge.locator('path.gauge-value').evaluate((el) => getComputedStyle(el).stroke);
  assert.equal(stroke, GRAFANA[want]);
  // Timeseries panels of the same dashboard draw too.
  await page.waitForSelector('section.p-timeseries .chart canvas', { timeout: 10000 });
  await page.waitForLoadState('networkidle');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a dashboard with an unknown panel type still renders the others', { skip }, async () => {
  const { page, errors } = await open('/d/unknown-panel');
  const placeholder = page.locator('section.panel .placeholder');
  await placeholder.waitFor({ timeout: 10000 });
  assert.match(await placeholder.textContent(), /piechart-fancy/);
  await page.waitForSelector('section.p-stat .stat-value', { timeout: 10000 });
  await page.waitForSelector('section.p-timeseries .chart canvas', { timeout: 10000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a silence made in the UI is seen by the API', { skip }, async () => {
  const comment = `e2e silence ${Date.now()}`;
  const { page, errors } = await open('/silences');
  await page.click('text=New silence');
  await page.waitForSelector('form.silence-form');
  await page.getByLabel('Label').first().fill('alertname');
  await page.getByLabel('Value').first().fill('HighConnections');
  await page.getByLabel('Creator').fill('e2e');
  await page.getByLabel('Comment').fill(comment);
  await page.click('button[type=submit]');
  await page.waitForSelector(`.card.silence >> text=${comment}`, { timeout: 10000 });
  const list = await (await fetch(`${BASE}/api/v2/silences`)).json();
  const mine = list.find((s) => s.comment === comment);
  assert.ok(mine, 'the API lists the new silence');
  assert.equal(mine.status.state, 'active');
  assert.deepEqual(mine.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual !== false]), [['alertname', 'HighConnections', false, true]]);
  // Expire it from the UI too.
  await page.locator('.card.silence', { hasText: comment }).getByRole('button', { name: 'Expire' }).click();
  await page.waitForSelector(`.card.silence >> text=${comment}`, { state: 'detached' });
  const after = await (await fetch(`${BASE}/api/v2/silence/${mine.id}`)).json();
  assert.equal(after.status.state, 'expired');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the silence editor previews affected alerts', { skip: skip || (!process.env.WATCHFIRE_FAKE && 'needs the fake server\'s firing alert') }, async () => {
  const { page } = await open('/silences?new=1&matcher=alertname%3D%22HighConnections%22');
  await page.waitForSelector('.preview li.affected', { timeout: 10000 });
  await page.getByLabel('Value').first().fill('NoSuchAlert');
  await page.waitForSelector('.preview >> text=Affected alerts: 0', { timeout: 5000 });
  await page.close();
});

test('drag to zoom on a dashboard panel narrows the time range', { skip }, async () => {
  const { page } = await open(`/d/${GAUGE_DASH}?from=now-1h&to=now`);
  const over = page.locator('section.p-timeseries .u-over').first();
  await over.waitFor({ timeout: 10000 });
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => /from=\d{13}/.test(location.search), null, { timeout: 5000 });
  const u = new URL(page.url());
  const span = Number(u.searchParams.get('to')) - Number(u.searchParams.get('from'));
  assert.ok(span > 10 * 60e3 && span < 25 * 60e3, `zoomed span ${span}ms`);
  await page.close();
});

test('an alert can be acknowledged and the ack undone', { skip: skip || (!process.env.WATCHFIRE_FAKE && "needs the fake server's firing alert") }, async () => {
  const { page, errors } = await open('/alerts');
  await page.getByRole('button', { name: 'Acknowledge' }).first().click();
  await page.getByLabel('By').fill('e2e');
  await page.getByLabel('Comment').fill('looking');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForSelector('.ack .badge.acknowledged');
  const alerts = await (await fetch(`${BASE}/api/v2/alerts`)).json();
  assert.equal(alerts[0].watchfireAck.by, 'e2e');
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.waitForSelector('.ack button:text("Acknowledge")');
  const after = await (await fetch(`${BASE}/api/v2/alerts`)).json();
  assert.equal(after[0].watchfireAck, undefined);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a collapsed dashboard row expands with the keyboard and draws its panels', { skip: skip || (!process.env.WATCHFIRE_FAKE && 'needs the websocket-go2 fixture') }, async () => {
  const { page, errors } = await open('/d/websocket-go2');
  const row = page.locator('button.rowbtn', { hasText: 'Performance Metrics' });
  await row.waitFor();
  assert.equal(await row.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('section.panel h2', { hasText: 'Goroutines' }).count(), 0);
  await row.focus();
  await page.keyboard.press('Enter');
  const stat = page.locator('section.panel', { has: page.locator('h2', { hasText: 'Goroutines' }) }).locator('.stat-value');
  await stat.waitFor({ timeout: 10000 });
  assert.equal(await stat.textContent(), '57');
  // Panels below the expanded row moved down instead of overlapping it.
  const box = async (title) => page.locator('section.panel', { has: page.locator('h2', { hasText: title }) }).boundingBox();
  const g = await box('Goroutines');
  const cpu = await box('CPU Usage');
  assert.ok(cpu.y >= g.y + g.height, `CPU Usage (${cpu.y}) overlaps Goroutines (${g.y}+${g.height})`);
  assert.deepEqual(errors, []);
  await page.close();
});
