// Grafana panel types: timeseries, graph (old), stat, gauge, bargauge,
// table, text. Anything else renders a placeholder that names its type.
import { h, api, mount, errorBox, formatSeries } from '../util.js';
import { drawChart, PALETTE } from '../chart.js';
import { formatValue, valueColor, mapValue, cssColor, stepFor } from './units.js';
import { markdown, sanitizeHtml } from './text.js';

export const SUPPORTED = ['timeseries', 'graph', 'stat', 'singlestat', 'gauge', 'bargauge', 'table', 'table-old', 'text', 'row'];

const defaultsOf = (p) => {
  const d = { ...((p.fieldConfig && p.fieldConfig.defaults) || {}) };
  if (p.type === 'graph') {
    const y = (p.yaxes && p.yaxes[0]) || {};
    if (!d.unit && y.format) d.unit = y.format;
    if (d.min === undefined && y.min !== undefined && y.min !== null) d.min = parseFloat(y.min);
    if (d.max === undefined && y.max !== undefined && y.max !== null) d.max = parseFloat(y.max);
    if (d.decimals === undefined && p.decimals !== undefined) d.decimals = p.decimals;
  }
  if (p.type === 'singlestat' && !d.unit && p.format) d.unit = p.format;
  return d;
};

/** `{{label}}` legend templates as Grafana fills them. */
export function legendName(format, metric, expr) {
  if (!format || format === '__auto') return Object.keys(metric || {}).length || !expr ? formatSeries(metric) : expr;
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (all, n) => metric[n] ?? '');
}

/** Range-queries every visible target; returns [{name, labels, points, refId}]. */
async function fetchSeries(panel, ctx) {
  const targets = (panel.targets || []).filter((t) => !t.hide && (t.expr || t.query));
  const step = ctx.intervalSec;
  const start = Math.floor(ctx.range.from / 1000 / step) * step;
  const end = Math.ceil(ctx.range.to / 1000 / step) * step;
  const results = await Promise.all(
    targets.map(async (t) => {
      const query = ctx.interpolate(t.expr || t.query);
      const tstep = t.interval ? Math.max(ctx.parseStep(ctx.interpolate(t.interval)) || step, step) : step;
      if (t.instant && !t.range) {
        const d = await api('api/v1/query', { query, time: (ctx.range.to / 1000).toFixed(3) });
        const list = d.resultType === 'vector' ? d.result : d.resultType === 'scalar' ? [{ metric: {}, value: d.result }] : [];
        return list.map((s) => ({ name: legendName(t.legendFormat, s.metric, query), labels: s.metric, points: [[+s.value[0], parseFloat(s.value[1])]], refId: t.refId }));
      }
      const d = await api('api/v1/query_range', { query, start, end, step: tstep });
      return (d.result || []).map((s) => ({ name: legendName(t.legendFormat, s.metric, query), labels: s.metric, points: (s.values || []).map(([ts, v]) => [ts, parseFloat(v)]), refId: t.refId }));
    }),
  );
  return results.flat();
}

const CALCS = {
  lastNotNull: (v) => { for (let i = v.length - 1; i >= 0; i--) if (!Number.isNaN(v[i])) return v[i]; return null; },
  last: (v) => (v.length ? v[v.length - 1] : null),
  firstNotNull: (v) => v.find((x) => !Number.isNaN(x)) ?? null,
  first: (v) => (v.length ? v[0] : null),
  mean: (v) => { const f = v.filter((x) => !Number.isNaN(x)); return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null; },
  max: (v) => { const f = v.filter((x) => !Number.isNaN(x)); return f.length ? Math.max(...f) : null; },
  min: (v) => { const f = v.filter((x) => !Number.isNaN(x)); return f.length ? Math.min(...f) : null; },
  sum: (v) => v.filter((x) => !Number.isNaN(x)).reduce((a, b) => a + b, 0),
  count: (v) => v.length,
  range: (v) => { const f = v.filter((x) => !Number.isNaN(x)); return f.length ? Math.max(...f) - Math.min(...f) : null; },
  diff: (v) => (v.length ? v[v.length - 1] - v[0] : null),
  delta: (v) => { let d = 0; for (let i = 1; i < v.length; i++) d += v[i] >= v[i - 1] ? v[i] - v[i - 1] : v[i]; return d; },
};
CALCS.current = CALCS.lastNotNull;
CALCS.avg = CALCS.mean;
CALCS.total = CALCS.sum;

/** Reduces a series with the panel's reduceOptions (first calc). */
export function reduce(panel, points) {
  const opts = (panel.options && panel.options.reduceOptions) || {};
  const name = (opts.calcs && opts.calcs[0]) || (panel.type === 'singlestat' && panel.valueName) || 'lastNotNull';
  const fn = CALCS[name] || CALCS.lastNotNull;
  return fn(points.map((p) => p[1]));
}

function display(defaults, panel, v) {
  const mapped = mapValue(defaults.mappings || panel.mappings, v);
  if (mapped && mapped.text) return mapped.text;
  return formatValue(v, defaults.unit, defaults.decimals);
}

/**
 * Creates a panel element. Returns {el, update(ctx), destroy()}; update
 * (re)loads its data for ctx = {range, interpolate, intervalSec, annotations, onZoom, parseStep}.
 */
export function createPanel(panel, onHeight) {
  const titleId = `pt${panel.id ?? Math.random().toString(36).slice(2, 8)}`;
  const body = h('div', { class: 'pbody' });
  const supported = SUPPORTED.includes(panel.type);
  const el = h(
    'section',
    { class: `panel p-${supported ? panel.type : 'unsupported'}`, 'data-type': panel.type || '', 'aria-labelledby': titleId },
    h('header', { class: 'phead' }, h('h2', { id: titleId, title: panel.description || '' }, panel.title || '\u00a0')),
    body,
  );
  let chart = null;
  let seq = 0;
  const destroyChart = () => { if (chart) { chart.destroy(); chart = null; } };

  async function update(ctx) {
    const my = ++seq;
    const defaults = defaultsOf(panel);
    if (!supported) {
      return mount(body, h('div', { class: 'placeholder', role: 'note' }, `Panel type "${panel.type || '(none)'}" is not supported by Watchfire yet.`));
    }
    if (panel.type === 'text') {
      const opts = panel.options || {};
      const content = ctx.interpolate(opts.content ?? panel.content ?? '');
      const mode = opts.mode || panel.mode || 'markdown';
      const div = h('div', { class: 'textpanel' });
      if (mode === 'html') div.append(sanitizeHtml(content));
      else if (mode === 'code') div.append(h('pre', {}, content));
      else div.append(markdown(content));
      return mount(body, div);
    }
    let series;
    try {
      series = await fetchSeries(panel, ctx);
    } catch (e) {
      if (my === seq) { destroyChart(); mount(body, errorBox(e.message)); }
      return;
    }
    if (my !== seq) return;
    el.dataset.series = String(series.length);
    if (!series.length) { destroyChart(); return mount(body, h('div', { class: 'nodata' }, 'No data')); }
    switch (panel.type) {
      case 'timeseries':
      case 'graph': {
        const custom = defaults.custom || {};
        const stacked = panel.type === 'graph' ? !!panel.stack : !!(custom.stacking && custom.stacking.mode && custom.stacking.mode !== 'none');
        const fill = panel.type === 'graph' ? (panel.fill ?? 1) / 10 : (custom.fillOpacity ?? 0) / 100;
        const fixed = defaults.color && defaults.color.mode === 'fixed' ? cssColor(defaults.color.fixedColor) : null;
        const box = h('div', { class: 'chartbox' });
        destroyChart();
        mount(body, box);
        chart = drawChart(box, {
          series: series.map((s, i) => ({ name: s.name, points: s.points, color: overrideColor(panel, s.name) || fixed || PALETTE[i % PALETTE.length] })),
          start: ctx.range.from / 1000,
          end: ctx.range.to / 1000,
          stacked,
          fill,
          lineWidth: panel.type === 'graph' ? panel.linewidth || 1 : custom.lineWidth || 1,
          fmt: (v) => (v === null || v === undefined ? '' : formatValue(v, defaults.unit, defaults.decimals)),
          fmtDec: (v, d) => formatValue(v, defaults.unit, Math.max(d, defaults.decimals ?? 0)),
          min: defaults.min ?? undefined,
          max: defaults.max ?? undefined,
          annotations: ctx.annotations,
          onZoom: ctx.onZoom,
          height: Math.max(onHeight() - 10, 80),
          heightFn: () => Math.max(onHeight() - 10, 80),
          legend: panel.type === 'graph' ? panel.legend?.show !== false : panel.options?.legend?.showLegend !== false,
        });
        return;
      }
      case 'stat':
      case 'singlestat':
        destroyChart();
        return mount(body, h('div', { class: 'stats' }, series.map((s) => statBox(panel, defaults, s))));
      case 'gauge':
        destroyChart();
        return mount(body, h('div', { class: 'gauges' }, series.map((s) => gauge(panel, defaults, s))));
      case 'bargauge':
        destroyChart();
        return mount(body, h('div', { class: 'bars' }, series.map((s) => bar(panel, defaults, s))));
      case 'table':
      case 'table-old':
        destroyChart();
        return mount(body, table(panel, defaults, series));
      default:
        return undefined;
    }
  }
  return { el, update, destroy: destroyChart };
}

function overrideColor(panel, name) {
  for (const o of (panel.fieldConfig && panel.fieldConfig.overrides) || []) {
    if (o.matcher && o.matcher.id === 'byName' && o.matcher.options === name) {
      const p = (o.properties || []).find((x) => x.id === 'color' && x.value && x.value.fixedColor);
      if (p) return cssColor(p.value.fixedColor);
    }
  }
  const sc = panel.seriesOverrides && panel.seriesOverrides.find((o) => o.alias === name && o.color);
  return sc ? sc.color : null;
}

function statBox(panel, defaults, s) {
  const v = reduce(panel, s.points);
  const color = valueColor(defaults, v, defaults.min ?? 0, defaults.max ?? 100);
  const mode = (panel.options && panel.options.colorMode) || 'value';
  const style = mode === 'background' ? { background: color.css, color: '#111' } : mode === 'none' ? {} : { color: darker(color.css) };
  return h(
    'div',
    { class: `stat c-${mode}`, 'data-value': String(v), 'data-threshold-color': color.name, style },
    h('div', { class: 'stat-value' }, display(defaults, panel, v)),
    h('div', { class: 'stat-name' }, s.name),
  );
}

/** A text-safe shade for light backgrounds: Grafana's yellow/green are too light as text. */
function darker(css) {
  const m = /^#([0-9a-f]{6})$/i.exec(css);
  if (!m) return css;
  const n = parseInt(m[1], 16);
  const f = 0.62;
  const c = [n >> 16, (n >> 8) & 255, n & 255].map((x) => Math.round(x * f));
  return `rgb(${c.join(', ')})`;
}

function arc(cx, cy, r, a0, a1) {
  const p = (a) => [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  const [x0, y0] = p(a0);
  const [x1, y1] = p(a1);
  return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${r} ${r} 0 ${a1 - a0 > Math.PI ? 1 : 0} 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
}

function gauge(panel, defaults, s) {
  const v = reduce(panel, s.points);
  const min = defaults.min ?? 0;
  const max = defaults.max ?? 100;
  const color = valueColor(defaults, v, min, max);
  const frac = v === null ? 0 : Math.min(Math.max((v - min) / (max - min || 1), 0), 1);
  const A0 = Math.PI * 0.75;
  const SPAN = Math.PI * 1.5;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 200 170');
  svg.setAttribute('role', 'img');
  const text = display(defaults, panel, v);
  svg.setAttribute('aria-label', `${s.name}: ${text}`);
  const path = (d, stroke, width, cls) => {
    const el = document.createElementNS(ns, 'path');
    el.setAttribute('d', d);
    el.setAttribute('fill', 'none');
    el.setAttribute('stroke', stroke);
    el.setAttribute('stroke-width', String(width));
    if (cls) el.setAttribute('class', cls);
    svg.append(el);
    return el;
  };
  path(arc(100, 100, 70, A0, A0 + SPAN), '#e4e4e4', 18);
  if (frac > 0) path(arc(100, 100, 70, A0, A0 + SPAN * Math.max(frac, 0.002)), color.css, 18, 'gauge-value');
  const showMarkers = !panel.options || panel.options.showThresholdMarkers !== false;
  const steps = (defaults.thresholds && defaults.thresholds.steps) || [];
  if (showMarkers && steps.length) {
    const pct = defaults.thresholds.mode === 'percentage';
    const at = (x) => (pct ? x / 100 : (x - min) / (max - min || 1));
    steps.forEach((st, i) => {
      const from = st.value === null || st.value === undefined ? 0 : Math.min(Math.max(at(st.value), 0), 1);
      const nx = steps[i + 1];
      const to = nx ? Math.min(Math.max(at(nx.value), 0), 1) : 1;
      if (to > from) path(arc(100, 100, 85, A0 + SPAN * from, A0 + SPAN * to), cssColor(st.color), 5);
    });
  }
  const t = document.createElementNS(ns, 'text');
  t.setAttribute('x', '100');
  t.setAttribute('y', '112');
  t.setAttribute('text-anchor', 'middle');
  t.setAttribute('class', 'gauge-text');
  t.setAttribute('fill', darker(color.css));
  t.textContent = text;
  svg.append(t);
  return h('figure', { class: 'gauge', 'data-value': String(v), 'data-threshold-color': color.name, 'data-color': color.css }, svg, h('figcaption', {}, s.name));
}

function bar(panel, defaults, s) {
  const v = reduce(panel, s.points);
  const min = defaults.min ?? 0;
  const max = defaults.max ?? 100;
  const color = valueColor(defaults, v, min, max);
  const frac = v === null ? 0 : Math.min(Math.max((v - min) / (max - min || 1), 0), 1);
  const text = display(defaults, panel, v);
  return h(
    'div',
    { class: 'bar', 'data-value': String(v), 'data-threshold-color': color.name },
    h('div', { class: 'bar-name' }, s.name),
    h('div', { class: 'bar-track', role: 'meter', 'aria-valuemin': String(min), 'aria-valuemax': String(max), 'aria-valuenow': String(v ?? min), 'aria-valuetext': text, 'aria-label': s.name }, h('div', { class: 'bar-fill', style: { width: `${(frac * 100).toFixed(1)}%`, background: color.css } })),
    h('div', { class: 'bar-value' }, text),
  );
}

function table(panel, defaults, series) {
  const labelKeys = [...new Set(series.flatMap((s) => Object.keys(s.labels || {})))].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  const cols = [...labelKeys, 'Value'];
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        series.map((s) => {
          const v = reduce(panel, s.points);
          const step = stepFor(defaults, v);
          const cellMode = defaults.custom && (defaults.custom.displayMode || (defaults.custom.cellOptions && defaults.custom.cellOptions.type));
          const style = cellMode && /background/.test(cellMode) ? { background: cssColor(step.color) } : cellMode && /color-text/.test(cellMode) ? { color: darker(cssColor(step.color)) } : {};
          return h('tr', {}, labelKeys.map((k) => h('td', {}, s.labels[k] ?? '')), h('td', { class: 'num', style }, display(defaults, panel, v)));
        }),
      ),
    ),
  );
}
