// Unit tests of the UI's pure logic (no browser): Grafana units and
// thresholds, time expressions, template variables, PromQL lexing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue, thresholdStep, valueColor, mapValue } from '../src/dash/units.js';
import { parseTime, autoInterval, rateInterval } from '../src/dash/time.js';
import { makeInterpolator, builtins, initialSelection } from '../src/dash/vars.js';
import { lex, completionContext, errorOffset } from '../src/promql.js';
import { parseDuration, formatDuration } from '../src/util.js';
import { isolatedPoints, align } from '../src/chart.js';

test('units format like Grafana', () => {
  assert.equal(formatValue(1536, 'bytes'), '1.5KiB');
  assert.equal(formatValue(300 * 1024 * 1024, 'bytes'), '300MiB');
  assert.equal(formatValue(1500, 'decbytes'), '1.5kB');
  assert.equal(formatValue(42.123, 'percent', 1), '42.1%');
  assert.equal(formatValue(0.25, 'percentunit'), '25%');
  assert.equal(formatValue(90, 's'), '1.5 min');
  assert.equal(formatValue(0.25, 's'), '250 ms');
  assert.equal(formatValue(1500, 'ms'), '1.5 s');
  assert.equal(formatValue(12.5, 'ops'), '12.5 ops/s');
  assert.equal(formatValue(3, 'reqps'), '3 req/s');
  assert.equal(formatValue(1850, 'short'), '1.85 K');
  assert.equal(formatValue(1850, 'short', 0), '2 K');
  assert.equal(formatValue(2500000, 'short'), '2.5 Mil');
  assert.equal(formatValue(7, 'none'), '7');
  assert.equal(formatValue(null, 'short'), 'No data');
  assert.equal(formatValue(Infinity, 'short'), '+Inf');
  assert.equal(formatValue(3, 'widgets'), '3 widgets');
});

test("threshold colours: the seeds' Active Connections bands", () => {
  const defaults = { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'yellow', value: 1700 }, { color: 'red', value: 2000 }] } };
  const at = (v) => valueColor(defaults, v).name;
  assert.equal(at(0), 'green');
  assert.equal(at(1699.9), 'green');
  assert.equal(at(1700), 'yellow');
  assert.equal(at(1850), 'yellow');
  assert.equal(at(2000), 'red');
  assert.equal(at(5000), 'red');
  assert.equal(valueColor(defaults, 1850).css, '#FADE2A');
  assert.equal(valueColor({ ...defaults, color: { mode: 'fixed', fixedColor: 'purple' } }, 1850).name, 'purple');
  // Percentage mode resolves against min/max.
  const pct = { thresholds: { mode: 'percentage', steps: [{ color: 'green', value: null }, { color: 'red', value: 80 }] } };
  assert.equal(valueColor(pct, 90, 0, 100).name, 'red');
  assert.equal(valueColor(pct, 90, 0, 200).name, 'green');
  assert.equal(thresholdStep(undefined, 90).color, 'red');
});

test('value mappings', () => {
  const m = [{ type: 'value', options: { 1: { text: 'Connected' }, 0: { text: 'Down' } } }, { type: 'range', options: { from: 10, to: 20, result: { text: 'teens' } } }];
  assert.equal(mapValue(m, 1).text, 'Connected');
  assert.equal(mapValue(m, 15).text, 'teens');
  assert.equal(mapValue(m, 5), null);
});

test('Grafana time expressions', () => {
  const now = Date.UTC(2026, 0, 15, 12, 30, 0);
  assert.equal(parseTime('now', false, now), now);
  assert.equal(parseTime('now-6h', false, now), now - 6 * 3600e3);
  assert.equal(parseTime('now-1d+2h', false, now), now - 22 * 3600e3);
  assert.equal(parseTime('1700000000000'), 1700000000000);
  assert.equal(parseTime('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));
  const day = parseTime('now/d', false, now);
  const dayEnd = parseTime('now/d', true, now);
  assert.equal(dayEnd - day, 86400e3 - 1);
  assert.equal(parseTime('now-x'), null);
  assert.equal(parseTime('yesterday'), null);
});

test('intervals', () => {
  assert.equal(autoInterval(3600e3, 1000, 15), 15); // 3.6s raw, floored at the 15s minimum
  assert.equal(autoInterval(7 * 86400e3, 1000, 15), 900); // 604.8s rounds up to 15m
  assert.equal(rateInterval(15), 60);
  assert.equal(rateInterval(120), 135);
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('1x'), null);
  assert.equal(formatDuration(5400), '1h30m');
});

test('template variables interpolate with Grafana escaping', () => {
  const opts = (...v) => v.map((x) => ({ text: x, value: x }));
  const vars = [
    { v: { name: 'job', type: 'query' }, opts: opts('api'), selected: ['api'] },
    { v: { name: 'inst', type: 'query', multi: true, includeAll: true }, opts: [{ text: 'All', value: '$__all' }, ...opts('a.b:1', 'c:2')], selected: ['$__all'] },
    { v: { name: 'one', type: 'custom', multi: true }, opts: opts('x.y'), selected: ['x.y'] },
    { v: { name: 'win', type: 'interval' }, opts: opts('5m'), selected: ['5m'] },
    { v: { name: 'q', type: 'textbox' }, opts: opts("it's"), selected: ["it's"] },
  ];
  const r = { from: 0, to: 3600e3 };
  const i = makeInterpolator(vars, builtins(r, 30));
  assert.equal(i('up{job="$job"}'), 'up{job="api"}');
  assert.equal(i('up{instance=~"$inst"}'), 'up{instance=~"(a\\.b:1|c:2)"}');
  assert.equal(i('up{i=~"${one}"}'), 'up{i=~"x\\.y"}');
  assert.equal(i('rate(x[$win])'), 'rate(x[5m])');
  assert.equal(i('rate(x[$__rate_interval]) $__interval [[job]] ${job:raw}'), 'rate(x[1m]) 30s api api');
  assert.equal(i("x{q='$q'}"), "x{q='it\\'s'}");
  assert.equal(i('$unknown stays'), '$unknown stays');
  assert.equal(i('$__range_s'), '3600');
  const allValue = makeInterpolator([{ v: { name: 'a', includeAll: true, allValue: '.*' }, opts: [], selected: ['$__all'] }], {});
  assert.equal(allValue('$a'), '.*');
});

test('initial variable selection: URL, then saved current, then first option', () => {
  const opts = [{ text: 'a', value: 'a' }, { text: 'b', value: 'b' }];
  assert.deepEqual(initialSelection({ current: { value: 'b' } }, opts, []), ['b']);
  assert.deepEqual(initialSelection({ current: { value: 'b' } }, opts, ['a']), ['a']);
  assert.deepEqual(initialSelection({ current: { value: 'gone' } }, opts, ['nope']), ['a']);
  assert.deepEqual(initialSelection({ includeAll: true }, opts, ['All']), ['$__all']);
});

test('PromQL lexing and completion context', () => {
  const src = 'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) > 0.5';
  const kinds = lex(src).filter((t) => t.t !== 'ws').map((t) => [t.t, src.slice(t.s, t.e)]);
  const find = (text) => kinds.find((k) => k[1] === text)[0];
  assert.equal(find('sum'), 'agg');
  assert.equal(find('by'), 'keyword');
  assert.equal(find('job'), 'label');
  assert.equal(find('rate'), 'func');
  assert.equal(find('http_requests_total'), 'metric');
  assert.equal(find('code'), 'label');
  assert.equal(find('"5.."'), 'string');
  assert.equal(find('5m'), 'duration');
  assert.equal(find('0.5'), 'number');
  assert.equal(lex(src).map((t) => src.slice(t.s, t.e)).join(''), src, 'tokens cover the input');

  assert.deepEqual(completionContext('rate(http_req', 13), { kind: 'metric', prefix: 'http_req', from: 5 });
  const lab = completionContext('up{jo', 5);
  assert.equal(lab.kind, 'label');
  assert.equal(lab.metric, 'up');
  const val = completionContext('up{job="pro', 11);
  assert.equal(val.kind, 'value');
  assert.equal(val.label, 'job');
  assert.equal(val.prefix, 'pro');
  assert.equal(completionContext('sum by (', 8).kind, 'label');
  assert.equal(completionContext('rate(x[5', 8).kind, 'none');
});

test('parse error positions', () => {
  assert.equal(errorOffset('sum(up', 'invalid parameter "query": 1:7: parse error: unclosed left parenthesis'), 6);
  assert.equal(errorOffset('a +\nfoo bar', '2:5: parse error: unexpected identifier "bar"'), 8);
  assert.equal(errorOffset('up', 'something else'), null);
});

test('isolated samples are the ones drawn as dots', () => {
  // What uPlot hands the points filter: the data and the visible index range.
  const plot = (ys, idxs = [0, ys.length - 1]) => ({ data: [ys.map((_, i) => i), ys], series: [{ idxs }] });
  assert.deepEqual(isolatedPoints(plot([5]), 1), [0]);
  assert.deepEqual(isolatedPoints(plot([1, 2, 3]), 1), null);
  assert.deepEqual(isolatedPoints(plot([1, null, 2, 3, null, 4]), 1), [0, 5]);
  assert.deepEqual(isolatedPoints(plot([null, 7, null, null, 0, null]), 1), [1, 4]);
  // Only the visible range, but neighbours outside it still count.
  assert.deepEqual(isolatedPoints(plot([1, null, 2, 3, null, 4], [2, 4]), 1), null);
  assert.deepEqual(isolatedPoints(plot([1, null, 2, 3, null, 4], [0, 3]), 1), [0]);
});

test('a missing range-query step breaks the line', () => {
  const a = { points: [[0, 1], [10, 2], [40, 3]] };
  const b = { points: [[10, 5], [20, 6]] };
  assert.deepEqual(align([a, b]), [[0, 10, 20, 40], [1, 2, null, 3], [null, 5, 6, null]]);
  assert.deepEqual(align([a, b], false, 10), [[0, 10, 20, 30, 40], [1, 2, null, null, 3], [null, 5, 6, null, null]]);
  assert.deepEqual(align([a], false, 10), [[0, 10, 20, 40], [1, 2, null, 3]]);
  // Stacking adds only where the upper series has a sample.
  assert.deepEqual(align([a, b], true, 10), [[0, 10, 20, 30, 40], [1, 2, null, null, 3], [null, 7, 6, null, null]]);
});
