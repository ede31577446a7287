// One dashboard at /d/<uid>: variables, time picker, auto-refresh, grid
// layout with rows, and alert firing periods as annotations.
import { h, api, mount, errorBox, infoBox, field, parseDuration } from '../util.js';
import { parseTime, rangeLabel, autoInterval } from './time.js';
import { loadOptions, initialSelection, makeInterpolator, builtins } from './vars.js';
import { createPanel } from './panels.js';
import { firingPeriods } from '../chart.js';

const QUICK = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '24h', '2d', '7d', '30d'];
const REFRESH = ['', '5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h', '2h', '1d'];
const ROW_PX = 30;
const GAP_PX = 8;

/** Converts the pre-5.0 `rows[]` schema to gridPos panels. */
function fromOldRows(dash) {
  const panels = [];
  let y = 0;
  for (const row of dash.rows || []) {
    const h = Math.max(Math.round((parseInt(row.height, 10) || 250) / ROW_PX), 3);
    if (row.showTitle || row.title) panels.push({ type: 'row', title: row.title || '', gridPos: { x: 0, y: y++, w: 24, h: 1 }, collapsed: !!row.collapse, panels: [] });
    let x = 0;
    for (const p of row.panels || []) {
      const w = Math.min(Math.max(Math.round((p.span || 12) * 2), 1), 24);
      if (x + w > 24) { x = 0; y += h; }
      panels.push({ ...p, gridPos: { x, y, w, h } });
      x += w;
    }
    y += h;
  }
  return panels;
}

/** Splits panels into sections: leading panels, then one per row. */
export function sections(panels) {
  const sorted = [...panels].sort((a, b) => (a.gridPos?.y ?? 0) - (b.gridPos?.y ?? 0) || (a.gridPos?.x ?? 0) - (b.gridPos?.x ?? 0));
  const out = [{ row: null, panels: [] }];
  for (const p of sorted) {
    // A collapsed row keeps its own panels inside it; top-level panels after
    // it are still shown below its header, as in Grafana.
    if (p.type === 'row') out.push({ row: p, panels: [] });
    else out[out.length - 1].panels.push(p);
  }
  return out.filter((s) => s.row || s.panels.length);
}

export function render(main, params, [uid]) {
  const state = { from: params.get('from'), to: params.get('to'), refresh: params.get('refresh'), annotations: params.get('annotations') !== '0' };
  let timer = null;
  let panels = [];
  let vars = [];
  let dash = null;
  let alive = true;
  const out = h('div', {}, infoBox('Loading dashboard…'));
  mount(main, out);

  api(`api/v1/dashboards/${encodeURIComponent(uid)}`)
    .then(async (d) => {
      if (!alive) return;
      dash = d;
      state.from = state.from || (d.time && d.time.from) || 'now-6h';
      state.to = state.to || (d.time && d.time.to) || 'now';
      if (state.refresh === null) state.refresh = typeof d.refresh === 'string' ? d.refresh : '';
      document.title = `${d.title} - Watchfire`;
      await build();
    })
    .catch((e) => alive && mount(out, h('h1', {}, 'Dashboard'), errorBox(e.message)));

  function range() {
    const from = parseTime(state.from, false);
    const to = parseTime(state.to, true);
    if (from === null || to === null || !(to > from)) throw new Error(`invalid time range ${state.from} to ${state.to}`);
    return { from, to };
  }

  function syncUrl(push) {
    const q = new URLSearchParams();
    q.set('from', state.from);
    q.set('to', state.to);
    for (const x of vars) for (const v of x.selected) q.append(`var-${x.v.name}`, v === '$__all' ? 'All' : v);
    if (state.refresh) q.set('refresh', state.refresh);
    if (!state.annotations) q.set('annotations', '0');
    const next = `${location.pathname}?${q}`;
    if (next !== location.pathname + location.search) history[push ? 'pushState' : 'replaceState'](null, '', next);
  }

  async function loadVars(startAt = 0) {
    let r;
    try { r = range(); } catch { r = { from: Date.now() - 3600e3, to: Date.now() }; }
    const b = builtins(r, autoInterval(r.to - r.from, 1000));
    for (let i = startAt; i < vars.length; i++) {
      const x = vars[i];
      const interp = makeInterpolator(vars.slice(0, i), b);
      try {
        x.opts = await loadOptions(x.v, r, interp);
        x.error = null;
      } catch (e) {
        x.opts = [];
        x.error = e.message;
      }
      const keep = x.selected && x.selected.length ? x.selected : params.getAll(`var-${x.v.name}`);
      x.selected = initialSelection(x.v, x.opts, keep);
    }
  }

  function varControls() {
    return vars
      .filter((x) => x.v.hide !== 2 && x.v.type !== 'constant')
      .map((x, i) => {
        const label = x.v.label || x.v.name;
        let ctl;
        if (x.v.type === 'textbox') {
          ctl = h('input', { type: 'text', value: x.selected[0] || '' });
          ctl.addEventListener('change', () => changed(x, [ctl.value]));
        } else {
          ctl = h('select', { multiple: !!x.v.multi, size: x.v.multi ? Math.min(Math.max(x.opts.length, 2), 4) : undefined }, x.opts.map((o) => h('option', { value: o.value, selected: x.selected.includes(o.value) }, o.text)));
          ctl.addEventListener('change', () => changed(x, [...ctl.selectedOptions].map((o) => o.value)));
        }
        ctl.id = `var-${i}-${x.v.name}`;
        return h('div', { class: 'var' }, field(x.v.hide === 1 ? x.v.name : label, ctl), x.error ? h('small', { class: 'err' }, x.error) : null);
      });
  }

  async function changed(x, selected) {
    x.selected = selected;
    await loadVars(vars.indexOf(x) + 1);
    syncUrl(false);
    renderToolbar();
    refreshAll();
  }

  const toolbar = h('div', { class: 'dash-toolbar' });
  const varsBar = h('div', { class: 'vars' });
  const grid = h('div', { class: 'grid' });

  function renderToolbar() {
    const quick = h('select', { 'aria-label': 'Quick time range' }, h('option', { value: '' }, rangeLabel(state.from, state.to)), QUICK.map((q) => h('option', { value: q }, `Last ${q}`)));
    quick.addEventListener('change', () => { if (quick.value) setRange(`now-${quick.value}`, 'now', true); });
    const fromIn = h('input', { type: 'text', value: state.from, size: 14 });
    const toIn = h('input', { type: 'text', value: state.to, size: 14 });
    const apply = h('button', { type: 'submit' }, 'Apply');
    const timeForm = h('form', { class: 'timeform', onsubmit: (e) => { e.preventDefault(); setRange(fromIn.value.trim(), toIn.value.trim(), true); } }, field('From', fromIn), field('To', toIn), apply);
    const refreshSel = h('select', {}, [...new Set([...REFRESH, state.refresh || ''])].map((r) => h('option', { value: r, selected: r === (state.refresh || '') }, r || 'Off')));
    refreshSel.addEventListener('change', () => { state.refresh = refreshSel.value; syncUrl(false); schedule(); });
    const ann = h('input', { type: 'checkbox', checked: state.annotations, id: 'dash-ann' });
    ann.addEventListener('change', () => { state.annotations = ann.checked; syncUrl(false); refreshAll(); });
    mount(
      toolbar,
      h('h1', {}, dash.title),
      h(
        'div',
        { class: 'dash-controls' },
        field('Time range', quick),
        timeForm,
        h('button', { type: 'button', onclick: zoomOut, title: 'Zoom out (double the range)' }, 'Zoom out'),
        field('Auto-refresh', refreshSel),
        h('button', { type: 'button', class: 'primary', onclick: () => refreshAll() }, 'Refresh'),
        h('div', { class: 'field check' }, ann, h('label', { for: 'dash-ann' }, 'Alert annotations')),
      ),
    );
    mount(varsBar, varControls());
  }

  function setRange(from, to, push) {
    const old = [state.from, state.to];
    state.from = from;
    state.to = to;
    try { range(); } catch (e) {
      [state.from, state.to] = old;
      out.prepend(errorBox(e.message));
      return;
    }
    syncUrl(push);
    // Variables with refresh "On time range change" (2) reload first.
    const stale = vars.findIndex((x) => x.v.refresh === 2);
    const ready = stale >= 0 ? loadVars(stale) : Promise.resolve();
    ready.then(() => {
      if (!alive) return;
      renderToolbar();
      refreshAll();
    });
  }

  function zoomOut() {
    const r = range();
    const span = r.to - r.from;
    const to = Math.min(r.to + span / 2, Date.now());
    setRange(String(Math.round(to - span * 2)), state.to === 'now' ? 'now' : String(Math.round(to)), true);
  }

  function schedule() {
    clearInterval(timer);
    const sec = parseDuration(state.refresh);
    if (sec && sec >= 1) timer = setInterval(() => { if (!document.hidden) refreshAll(); }, sec * 1000);
  }

  function layout() {
    for (const p of panels) p.destroy();
    panels = [];
    grid.replaceChildren();
    const src = dash.panels && dash.panels.length ? dash.panels : fromOldRows(dash);
    let y0 = 0;
    for (const sec of sections(src)) {
      if (sec.row) {
        const open = !sec.row.collapsed;
        const btn = h('button', { type: 'button', class: 'rowbtn', 'aria-expanded': String(open) }, `${open ? '▾' : '▸'} ${sec.row.title || 'Row'}`);
        btn.addEventListener('click', () => toggleRow(sec.row));
        grid.append(h('div', { class: 'dash-row', style: { '--x1': 1, '--w': 24, '--y1': y0 + 1, '--h': 1 } }, h('h2', {}, btn)));
        y0 += 1;
      }
      if (!sec.panels.length) continue;
      const minY = Math.min(...sec.panels.map((p) => p.gridPos?.y ?? 0));
      let bottom = 0;
      for (const p of sec.panels) {
        const g = p.gridPos || { x: 0, y: minY, w: 12, h: 8 };
        const w = Math.min(Math.max(g.w || 12, 1), 24);
        const x = Math.min(Math.max(g.x || 0, 0), 24 - w);
        const hh = Math.max(g.h || 8, 1);
        const y = (g.y ?? minY) - minY + y0;
        bottom = Math.max(bottom, y + hh);
        let panel = null;
        const onHeight = () => (panel ? panel.el.clientHeight - panel.el.querySelector('.phead').offsetHeight - 8 : hh * ROW_PX);
        panel = createPanel(p, onHeight);
        panel.model = p;
        for (const [k, v] of Object.entries({ '--x1': x + 1, '--w': w, '--y1': y + 1, '--h': hh, '--hpx': `${hh * ROW_PX + (hh - 1) * GAP_PX}px` })) panel.el.style.setProperty(k, String(v));
        grid.append(panel.el);
        panels.push(panel);
      }
      y0 = Math.max(y0, bottom);
    }
    if (!panels.length && !grid.children.length) grid.append(infoBox('This dashboard has no panels.'));
  }

  function toggleRow(row) {
    const src = dash.panels || [];
    const sorted = [...src].sort((a, b) => (a.gridPos?.y ?? 0) - (b.gridPos?.y ?? 0) || (a.gridPos?.x ?? 0) - (b.gridPos?.x ?? 0));
    if (row.collapsed) {
      // Expanding: move the row's panels back to the top level, right after it.
      const inner = row.panels || [];
      row.panels = [];
      row.collapsed = false;
      const at = sorted.indexOf(row);
      const ry = row.gridPos?.y ?? 0;
      // Panels below move down by the height the row's panels take.
      const shift = inner.length ? Math.max(...inner.map((p) => (p.gridPos?.y ?? 0) + (p.gridPos?.h ?? 8))) - (ry + 1) : 0;
      for (const p of sorted.slice(at + 1)) if (p.gridPos) p.gridPos = { ...p.gridPos, y: p.gridPos.y + shift };
      dash.panels = [...sorted, ...inner];
    } else {
      const at = sorted.indexOf(row);
      let end = sorted.findIndex((p, i) => i > at && p.type === 'row');
      if (end < 0) end = sorted.length;
      row.panels = sorted.slice(at + 1, end);
      row.collapsed = true;
      dash.panels = [...sorted.slice(0, at + 1), ...sorted.slice(end)];
    }
    layout();
    refreshAll();
  }

  let annSeq = 0;
  async function refreshAll() {
    let r;
    try { r = range(); } catch (e) { return out.prepend(errorBox(e.message)); }
    const my = ++annSeq;
    let periods = [];
    if (state.annotations) {
      const step = autoInterval(r.to - r.from, 500, 15);
      try {
        const d = await api('api/v1/query_range', { query: 'ALERTS{alertstate="firing"}', start: Math.floor(r.from / 1000), end: Math.ceil(r.to / 1000), step });
        periods = firingPeriods(d.result, step);
      } catch {
        periods = [];
      }
    }
    if (my !== annSeq || !alive) return;
    for (const p of panels) {
      const width = p.el.clientWidth || 600;
      const minSec = parseDuration(makeInterpolator(vars, builtins(r, 15))(p.model.interval || '')) || 15;
      const intervalSec = autoInterval(r.to - r.from, Math.min(p.model.maxDataPoints || width, 11000), minSec);
      const interpolate = makeInterpolator(vars, builtins(r, intervalSec));
      p.update({
        range: r,
        intervalSec,
        interpolate,
        parseStep: parseDuration,
        annotations: periods,
        onZoom: (a, b) => setRange(String(Math.round(a * 1000)), String(Math.round(b * 1000)), true),
      });
    }
  }

  async function build() {
    vars = ((dash.templating && dash.templating.list) || []).filter((v) => v && v.name && v.type !== 'adhoc').map((v) => ({ v, opts: [], selected: [] }));
    await loadVars(0);
    if (!alive) return;
    mount(out, toolbar, varsBar, grid);
    renderToolbar();
    syncUrl(false);
    layout();
    refreshAll();
    schedule();
  }

  return () => {
    alive = false;
    clearInterval(timer);
    for (const p of panels) p.destroy();
  };
}

