// Query explorer: PromQL editor, table and graph views; the URL holds the
// state (expr, tab, range, end, step, stacked).
import { h, api, mount, field, errorBox, infoBox, formatSeries, parseDuration, formatDuration, toLocalInput, fromLocalInput, fmtDate } from '../util.js';
import { promqlEditor } from '../editor.js';
import { errorOffset } from '../promql.js';
import { drawChart } from '../chart.js';

export function render(main, params) {
  const state = {
    expr: params.get('expr') ?? params.get('g0.expr') ?? '',
    // Prometheus' own links use g0.tab=0 for the graph.
    tab: params.get('tab') === 'graph' || params.get('g0.tab') === '0' ? 'graph' : 'table',
    range: params.get('range') || '1h',
    end: params.get('end') || '',
    step: params.get('step') || '',
    stacked: params.get('stacked') === '1',
  };
  let chart = null;
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const editor = promqlEditor({ value: state.expr, onSubmit: () => run(true) });
  const runBtn = h('button', { type: 'button', class: 'primary', onclick: () => run(true) }, 'Execute');
  const rangeIn = h('input', { type: 'text', value: state.range, size: 6, inputmode: 'text' });
  const endIn = h('input', { type: 'datetime-local', step: 1, value: state.end ? toLocalInput(+state.end * 1000) : '' });
  const stepIn = h('input', { type: 'text', value: state.step, size: 6, placeholder: 'auto' });
  const stackIn = h('input', { type: 'checkbox', checked: state.stacked });
  const tabs = ['table', 'graph'].map((t) =>
    h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': String(state.tab === t), onclick: () => { state.tab = t; run(true); } }, t === 'table' ? 'Table' : 'Graph'),
  );
  const graphOpts = h(
    'div',
    { class: 'toolbar' },
    field('Range', rangeIn),
    field('End time', endIn, 'empty: now'),
    field('Resolution (step)', stepIn),
    h('div', { class: 'field check' }, stackIn, h('label', { for: (stackIn.id = 'stackq') }, 'Stacked')),
  );
  for (const el of [rangeIn, stepIn]) el.addEventListener('keydown', (e) => e.key === 'Enter' && run(true));
  for (const el of [endIn, stackIn]) el.addEventListener('change', () => run(true));

  mount(
    main,
    h('h1', { class: 'sr-only' }, 'Query'),
    h('div', { class: 'query-row' }, editor.el, runBtn),
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Result view' }, tabs),
    graphOpts,
    out,
  );

  function syncUrl(push) {
    const q = new URLSearchParams();
    if (state.expr) q.set('expr', state.expr);
    q.set('tab', state.tab);
    if (state.tab === 'graph') {
      q.set('range', state.range);
      if (state.end) q.set('end', state.end);
      if (state.step) q.set('step', state.step);
      if (state.stacked) q.set('stacked', '1');
    } else if (state.end) q.set('end', state.end);
    const next = `${location.pathname}?${q}`;
    if (next !== location.pathname + location.search) history[push ? 'pushState' : 'replaceState'](null, '', next);
  }

  async function run(push) {
    state.expr = editor.value.trim();
    state.range = rangeIn.value.trim() || '1h';
    const endMs = fromLocalInput(endIn.value);
    state.end = isFinite(endMs) ? String(Math.round(endMs / 1000)) : '';
    state.step = stepIn.value.trim();
    state.stacked = stackIn.checked;
    tabs.forEach((t, i) => t.setAttribute('aria-selected', String(['table', 'graph'][i] === state.tab)));
    graphOpts.hidden = state.tab !== 'graph';
    syncUrl(push);
    if (chart) { chart.destroy(); chart = null; }
    if (!state.expr) return mount(out, infoBox('Enter an expression and press Execute. Ctrl+Space completes metric names, labels and functions.'));
    mount(out, infoBox('Loading…'));
    const end = state.end ? +state.end : Date.now() / 1000;
    const t0 = performance.now();
    try {
      if (state.tab === 'table') {
        const data = await api('api/v1/query', { query: state.expr, time: state.end || undefined });
        mount(out, resultTable(data), took(t0, data));
      } else {
        const range = parseDuration(state.range);
        if (!range) throw new Error(`invalid range "${state.range}"`);
        let step = state.step ? parseDuration(state.step) : Math.max(Math.round(range / 250), 1);
        if (!step) throw new Error(`invalid step "${state.step}"`);
        const data = await api('api/v1/query_range', { query: state.expr, start: (end - range).toFixed(3), end: end.toFixed(3), step });
        const box = h('div', { class: 'graph' });
        mount(out, box, h('p', { class: 'muted' }, `${data.result.length} series, step ${formatDuration(step)}, ending ${fmtDate(end * 1000)}. Drag to zoom, double-click to reset.`), took(t0, data));
        if (!data.result.length) return mount(out, infoBox('Empty query result'));
        chart = drawChart(box, {
          series: data.result.map((s) => ({ name: formatSeries(s.metric), points: (s.values || []).map(([t, v]) => [t, parseFloat(v)]) })),
          start: end - range,
          end,
          step,
          stacked: state.stacked,
          height: 360,
        });
      }
    } catch (e) {
      const off = errorOffset(state.expr, e.message);
      editor.setError(off);
      const box = errorBox(e.message);
      if (off !== null) {
        const lineStart = state.expr.lastIndexOf('\n', off - 1) + 1;
        const lineEnd = state.expr.indexOf('\n', off);
        const line = state.expr.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
        box.append(h('pre', { class: 'caret' }, `${line}\n${' '.repeat(off - lineStart)}^`));
      }
      mount(out, box);
    }
  }

  run(false);
  return () => chart && chart.destroy();
}

function took(t0, data) {
  const n = Array.isArray(data.result) ? data.result.length : 1;
  return h('p', { class: 'muted small' }, `Load time: ${Math.round(performance.now() - t0)}ms · Result series: ${n}`);
}

function resultTable(data) {
  const { resultType, result } = data;
  if (resultType === 'scalar' || resultType === 'string') {
    return h('table', { class: 'data' }, h('tbody', {}, h('tr', {}, h('th', { scope: 'row' }, resultType), h('td', {}, result[1]))));
  }
  if (!result.length) return infoBox('Empty query result');
  const rows = result.slice(0, 10000).map((s) => {
    let val;
    if (resultType === 'matrix') val = (s.values || []).map(([t, v]) => `${v} @${t}`).join('\n') || (s.histograms ? `${s.histograms.length} histograms` : '');
    else val = s.value ? s.value[1] : s.histogram ? `histogram count=${s.histogram[1].count} sum=${s.histogram[1].sum}` : '';
    return h('tr', {}, h('td', { class: 'series' }, formatSeries(s.metric)), h('td', { class: 'num pre' }, val));
  });
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Series'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', {}, rows),
  );
}
