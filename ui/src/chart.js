// Time series charts over uPlot: aligned data, stacking, alert-period
// annotations, drag-to-zoom and resize handling.
import uPlot from 'uplot';
import { h } from './util.js';

export const PALETTE = ['#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A9', '#705DA0', '#508642', '#CCA300', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477'];

/** Aligns [{points: [[tSec, value]]}] on one time axis for uPlot. With the
 * range query's `step`, a missing step becomes a null so the line breaks
 * there instead of joining samples across the gap. */
export function align(series, stacked, step) {
  const ts = new Set();
  for (const s of series) for (const p of s.points) ts.add(p[0]);
  let xs = [...ts].sort((a, b) => a - b);
  if (step > 0) {
    // One null-only time per gap is enough to break every line.
    const gapped = [];
    for (let i = 0; i < xs.length; i++) {
      gapped.push(xs[i]);
      if (i + 1 < xs.length && xs[i + 1] - xs[i] > step * 1.5) gapped.push(xs[i] + step);
    }
    xs = gapped;
  }
  const index = new Map(xs.map((t, i) => [t, i]));
  const cols = series.map((s) => {
    const col = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) col[index.get(t)] = v;
    return col;
  });
  if (stacked) {
    for (let i = 1; i < cols.length; i++) {
      for (let j = 0; j < xs.length; j++) {
        if (cols[i][j] !== null) cols[i][j] += cols[i - 1][j] ?? 0;
      }
    }
  }
  return [xs, ...cols];
}

function annotationsPlugin(getPeriods) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const periods = getPeriods() || [];
          const { ctx } = u;
          const { top, height, left, width } = u.bbox;
          ctx.save();
          for (const p of periods) {
            const x0 = Math.max(u.valToPos(p.start, 'x', true), left);
            const x1 = Math.min(u.valToPos(p.end, 'x', true), left + width);
            if (!(x1 >= x0)) continue;
            ctx.fillStyle = 'rgba(226, 77, 66, 0.13)';
            ctx.fillRect(x0, top, Math.max(x1 - x0, 2), height);
            ctx.fillStyle = 'rgba(226, 77, 66, 0.9)';
            ctx.fillRect(x0, top, 2, height);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Draws a chart into `container`. opts: {series: [{name, points, color}],
 * start, end (seconds), stacked, fmt(v) for the y axis and legend, min, max,
 * annotations: [{start, end, text}], onZoom(startSec, endSec), height,
 * fill (0..1 opacity), lineWidth, step (seconds: the range query's, so
 * missing steps show as gaps)}. Returns {destroy()}.
 */
export function drawChart(container, opts) {
  const series = opts.series || [];
  const data = align(series, opts.stacked, opts.step);
  const fmt = opts.fmt || ((v) => (v === null || v === undefined ? '' : String(+v.toPrecision(6))));
  const fill = opts.stacked ? Math.max(opts.fill || 0, 0.35) : opts.fill || 0;
  const uSeries = [
    { label: 'Time' },
    ...series.map((s, i) => {
      const color = s.color || PALETTE[i % PALETTE.length];
      return {
        label: s.name,
        stroke: color,
        width: opts.lineWidth || 1.5,
        // Stacked series fill the band down to the previous one (bands below).
        fill: fill && (!opts.stacked || i === 0) ? withAlpha(color, fill) : undefined,
        spanGaps: false,
        // A line needs two neighbouring samples: samples without one (a
        // lone scrape, data after a gap) are drawn as filled dots instead of
        // vanishing, as Prometheus' graph does.
        points: { show: false, size: 6, width: 1, fill: color, filter: isolatedPoints },
        value: (u, v, si, idx) => fmt(opts.stacked && idx !== null && idx !== undefined ? rawAt(data, si, idx) : v),
      };
    }),
  ];
  const holder = h('div', {
    class: 'chart',
    role: 'img',
    'aria-label': `Time series chart of ${series.length} series: ${series.slice(0, 5).map((s) => s.name).join(', ')}${series.length > 5 ? ', …' : ''}`,
    'data-series': String(series.length),
    'data-points': String(data[0].length),
  });
  container.replaceChildren(holder);
  let periods = opts.annotations || [];
  const width = Math.max(container.clientWidth || 600, 200);
  const height = opts.height || 300;
  const bands = opts.stacked ? series.slice(1).map((s, i) => ({ series: [i + 2, i + 1], fill: withAlpha(s.color || PALETTE[(i + 1) % PALETTE.length], fill) })) : undefined;
  const u = new uPlot(
    {
      width,
      height,
      series: uSeries,
      bands,
      scales: {
        x: { time: true, range: opts.start !== undefined ? () => [opts.start, opts.end] : undefined },
        y: {
          range: (u, dmin, dmax) => {
            let lo = opts.min ?? (dmin === null ? 0 : dmin);
            let hi = opts.max ?? (dmax === null ? 1 : dmax);
            if (opts.min === undefined && opts.max === undefined) [lo, hi] = uPlot.rangeNum(lo, hi, 0.1, true);
            else if (lo === hi) hi = lo + 1;
            return [lo, hi];
          },
        },
      },
      axes: [
        { stroke: '#555', grid: { stroke: '#e6e6e6' }, ticks: { stroke: '#ccc' } },
        { stroke: '#555', grid: { stroke: '#e6e6e6' }, ticks: { stroke: '#ccc' }, values: (u, vals) => axisLabels(vals, fmt, opts.fmtDec), size: axisSize },
      ],
      cursor: { drag: { x: true, y: false, setScale: !opts.onZoom }, focus: { prox: 30 } },
      legend: { show: opts.legend !== false, live: true },
      plugins: [annotationsPlugin(() => periods)],
      hooks: {
        setSelect: [
          (u) => {
            if (!opts.onZoom || u.select.width < 5) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            opts.onZoom(a, b);
          },
        ],
      },
    },
    data,
    holder,
  );
  // The legend sits below the canvas: give the plot what it leaves.
  const fit = (w, total) => {
    const legend = holder.querySelector('.u-legend');
    const lh = legend ? legend.offsetHeight : 0;
    u.setSize({ width: w, height: Math.max(total - lh, 60) });
  };
  fit(width, height);
  // The legend's height is only final after layout.
  requestAnimationFrame(() => fit(container.clientWidth || width, opts.heightFn ? opts.heightFn() : height));
  let lastW = width;
  const ro = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w > 0 && Math.abs(w - lastW) > 2) {
      lastW = w;
      fit(w, opts.heightFn ? opts.heightFn() : height);
    }
  });
  ro.observe(container);
  return {
    destroy() {
      ro.disconnect();
      u.destroy();
    },
    setAnnotations(p) {
      periods = p || [];
      u.redraw(false);
    },
    uplot: u,
  };
}

/** Tick labels, with more decimals when the default ones repeat (18.1G, 18.1G). */
function axisLabels(vals, fmt, fmtDec) {
  let labels = vals.map(fmt);
  for (let d = 1; fmtDec && d <= 6 && new Set(labels).size < labels.length; d++) labels = vals.map((v) => fmtDec(v, d));
  return labels;
}

/** Y axis width from its longest tick label (uPlot's default clips units). */
function axisSize(u, values) {
  const longest = values ? Math.max(...values.map((v) => String(v).length)) : 4;
  return Math.min(Math.max(longest * 7 + 22, 40), 120);
}

/** uPlot points filter: the visible indices of series `si` whose samples
 * have no non-null neighbour, or null when there are none. */
export function isolatedPoints(u, si) {
  const ys = u.data[si];
  const [i0, i1] = u.series[0].idxs || [0, ys.length - 1];
  const out = [];
  for (let i = Math.max(i0, 0); i <= i1 && i < ys.length; i++) {
    if (ys[i] === null || ys[i] === undefined) continue;
    const prev = i > 0 ? ys[i - 1] : null;
    const next = i + 1 < ys.length ? ys[i + 1] : null;
    if ((prev === null || prev === undefined) && (next === null || next === undefined)) out.push(i);
  }
  return out.length ? out : null;
}

function rawAt(data, si, idx) {
  const v = data[si][idx];
  if (v === null) return null;
  return si > 1 ? v - (data[si - 1][idx] ?? 0) : v;
}

function withAlpha(hex, a) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** Firing periods [{start, end, text}] from a range query of ALERTS. */
export function firingPeriods(matrix, stepSec) {
  const out = [];
  for (const s of matrix || []) {
    const name = s.metric.alertname || 'alert';
    let start = null;
    let last = null;
    for (const [t] of s.values || []) {
      if (start === null) start = t;
      else if (t - last > stepSec * 1.5) {
        out.push({ start, end: last, text: name });
        start = t;
      }
      last = t;
    }
    if (start !== null) out.push({ start, end: last, text: name });
  }
  return out;
}
