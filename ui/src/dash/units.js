// Grafana value formatting: units, decimals, and threshold colours.

/** Grafana's named colours (the default dark/light palette shades). */
const NAMED = {
  green: '#73BF69', 'dark-green': '#37872D', 'semi-dark-green': '#56A64B', 'light-green': '#96D98D', 'super-light-green': '#C8F2C2',
  yellow: '#FADE2A', 'dark-yellow': '#E0B400', 'semi-dark-yellow': '#F2CC0C', 'light-yellow': '#FFEE52', 'super-light-yellow': '#FFF899',
  red: '#F2495C', 'dark-red': '#C4162A', 'semi-dark-red': '#E02F44', 'light-red': '#FF7383', 'super-light-red': '#FFA6B0',
  blue: '#5794F2', 'dark-blue': '#1F60C4', 'semi-dark-blue': '#3274D9', 'light-blue': '#8AB8FF', 'super-light-blue': '#C0D8FF',
  orange: '#FF9830', 'dark-orange': '#FA6400', 'semi-dark-orange': '#FF780A', 'light-orange': '#FFB357', 'super-light-orange': '#FFCB7D',
  purple: '#B877D9', 'dark-purple': '#8F3BB8', 'semi-dark-purple': '#A352CC', 'light-purple': '#CA95E5', 'super-light-purple': '#DEB6F2',
  text: '#3b3b3b', transparent: 'transparent',
};

/** A Grafana colour name (or CSS colour) as CSS. */
export const cssColor = (c) => (c ? NAMED[c] || c : NAMED.green);

/** The threshold step for a value: the last step whose value <= v. */
export function thresholdStep(thresholds, v) {
  const steps = (thresholds && thresholds.steps) || [{ color: 'green', value: null }, { color: 'red', value: 80 }];
  let hit = steps[0];
  if (thresholds && thresholds.mode === 'percentage') return hit;
  for (const s of steps) {
    if (s.value === null || s.value === undefined || s.value === -Infinity) hit = hit || s;
    else if (v !== null && v >= s.value) hit = s;
  }
  return hit || { color: 'green' };
}

/** Threshold step with percentage mode resolved against [min, max]. */
export function stepFor(defaults, v, min = 0, max = 100) {
  const th = defaults.thresholds;
  if (th && th.mode === 'percentage') {
    const pct = max > min ? ((v - min) / (max - min)) * 100 : 0;
    return thresholdStep({ steps: th.steps }, pct);
  }
  return thresholdStep(th, v);
}

/** The colour of a value under fieldConfig.defaults (color mode + thresholds). */
export function valueColor(defaults, v, min, max) {
  const mode = defaults.color && defaults.color.mode;
  if (mode === 'fixed' || mode === 'shades') return { name: defaults.color.fixedColor || 'blue', css: cssColor(defaults.color.fixedColor || 'blue') };
  const step = stepFor(defaults, v, min, max);
  return { name: step.color, css: cssColor(step.color) };
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const IEC = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const SHORT = ['', ' K', ' Mil', ' Bil', ' Tri', ' Quadr', ' Quint'];

function scaled(v, base, prefixes, suffix, decimals) {
  let i = 0;
  let x = Math.abs(v);
  while (x >= base && i < prefixes.length - 1) {
    x /= base;
    i++;
  }
  return `${fixed(Math.sign(v) * x, decimals)}${prefixes[i]}${suffix}`;
}

/** Decimals like Grafana: explicit, else enough for ~3 significant digits. */
function fixed(v, decimals) {
  if (decimals !== undefined && decimals !== null) return v.toFixed(decimals);
  if (v === 0 || !isFinite(v)) return String(v);
  const a = Math.abs(v);
  const d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(Math.max(2, -Math.floor(Math.log10(a)) + 2), 10);
  return String(+v.toFixed(d));
}

function duration(v, unitSec, decimals) {
  const s = v * unitSec;
  const a = Math.abs(s);
  const units = [[31536000, 'year'], [604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'min'], [1, 's'], [1e-3, 'ms'], [1e-6, 'µs'], [1e-9, 'ns']];
  if (a === 0) return `0 ${unitSec === 1 ? 's' : unitSec === 1e-3 ? 'ms' : 's'}`;
  for (const [f, name] of units) {
    if (a >= f || f === 1e-9) {
      const n = fixed(s / f, decimals);
      return name.length > 2 && name !== 'min' ? `${n} ${name}${Math.abs(+n) === 1 ? '' : 's'}` : `${n} ${name}`;
    }
  }
  return fixed(s, decimals);
}

/** Formats v under a Grafana unit id. */
export function formatValue(v, unit, decimals) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'No data';
  if (!isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit || 'short') {
    case 'none': return fixed(v, decimals);
    case 'short': return scaled(v, 1000, SHORT, '', decimals);
    case 'percent': return `${fixed(v, decimals)}%`;
    case 'percentunit': return `${fixed(v * 100, decimals)}%`;
    case 'bytes': case 'decbytes': return scaled(v, unit === 'bytes' ? 1024 : 1000, unit === 'bytes' ? IEC : SI, 'B', decimals);
    case 'bits': case 'decbits': return scaled(v, unit === 'bits' ? 1024 : 1000, unit === 'bits' ? IEC : SI, 'b', decimals);
    case 'kbytes': return scaled(v * 1024, 1024, IEC, 'B', decimals);
    case 'mbytes': return scaled(v * 1024 * 1024, 1024, IEC, 'B', decimals);
    case 'Bps': case 'binBps': return scaled(v, unit === 'Bps' ? 1000 : 1024, unit === 'Bps' ? SI : IEC, 'B/s', decimals);
    case 'bps': case 'binbps': return scaled(v, unit === 'bps' ? 1000 : 1024, unit === 'bps' ? SI : IEC, 'b/s', decimals);
    case 's': case 'dtdurations': return duration(v, 1, decimals);
    case 'ms': return duration(v, 1e-3, decimals);
    case 'µs': case 'us': return duration(v, 1e-6, decimals);
    case 'ns': return duration(v, 1e-9, decimals);
    case 'm': return duration(v, 60, decimals);
    case 'h': return duration(v, 3600, decimals);
    case 'd': return duration(v, 86400, decimals);
    case 'ops': return `${scaled(v, 1000, SI, '', decimals)} ops/s`;
    case 'reqps': return `${scaled(v, 1000, SI, '', decimals)} req/s`;
    case 'rps': return `${scaled(v, 1000, SI, '', decimals)} rd/s`;
    case 'wps': return `${scaled(v, 1000, SI, '', decimals)} wr/s`;
    case 'iops': return `${scaled(v, 1000, SI, '', decimals)} io/s`;
    case 'opm': return `${scaled(v, 1000, SI, '', decimals)} ops/min`;
    case 'reqpm': return `${scaled(v, 1000, SI, '', decimals)} req/min`;
    case 'hertz': return scaled(v, 1000, SI, 'Hz', decimals);
    case 'celsius': return `${fixed(v, decimals)}°C`;
    case 'bool': return v ? 'true' : 'false';
    case 'bool_on_off': return v ? 'On' : 'Off';
    case 'dateTimeAsIso': return new Date(v).toISOString();
    case 'currencyUSD': return `$${scaled(v, 1000, ['', 'K', 'M', 'B', 'T'], '', decimals)}`;
    default:
      if (unit.startsWith('suffix:')) return `${fixed(v, decimals)}${unit.slice(7)}`;
      if (unit.startsWith('prefix:')) return `${unit.slice(7)}${fixed(v, decimals)}`;
      return `${fixed(v, decimals)} ${unit}`;
  }
}

/** Applies a panel's value mappings (value and range kinds). */
export function mapValue(mappings, v) {
  for (const m of mappings || []) {
    if (m.type === 'value' && m.options) {
      const hit = m.options[String(v)];
      if (hit) return hit;
    }
    if (m.type === 'range' && m.options) {
      const { from, to } = m.options;
      if ((from === null || from === undefined || v >= from) && (to === null || to === undefined || v <= to)) return m.options.result;
    }
    if (m.type === 'special' && m.options && m.options.match === 'null' && (v === null || Number.isNaN(v))) return m.options.result;
  }
  return null;
}
