// Grafana time ranges (`now-6h`, `now/d`, ISO, epoch ms) and intervals.
import { parseDuration, formatDuration } from '../util.js';

const UNIT_MS = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, M: 30 * 86400e3, y: 365 * 86400e3 };

function roundTo(ms, unit, end) {
  const d = new Date(ms);
  switch (unit) {
    case 'y': d.setMonth(0, 1); d.setHours(0, 0, 0, 0); if (end) d.setFullYear(d.getFullYear() + 1); break;
    case 'M': d.setDate(1); d.setHours(0, 0, 0, 0); if (end) d.setMonth(d.getMonth() + 1); break;
    case 'w': d.setDate(d.getDate() - d.getDay()); d.setHours(0, 0, 0, 0); if (end) d.setDate(d.getDate() + 7); break;
    case 'd': d.setHours(0, 0, 0, 0); if (end) d.setDate(d.getDate() + 1); break;
    case 'h': d.setMinutes(0, 0, 0); if (end) d.setHours(d.getHours() + 1); break;
    case 'm': d.setSeconds(0, 0); if (end) d.setMinutes(d.getMinutes() + 1); break;
    case 's': d.setMilliseconds(0); if (end) d.setSeconds(d.getSeconds() + 1); break;
    default: return ms;
  }
  return end ? d.getTime() - 1 : d.getTime();
}

/** Resolves a Grafana time expression to Unix ms; null if invalid. */
export function parseTime(s, end = false, now = Date.now()) {
  if (s === undefined || s === null || s === '') return null;
  s = String(s).trim();
  if (/^\d{10,}$/.test(s)) return parseInt(s, 10);
  if (!s.startsWith('now')) {
    const t = Date.parse(s);
    return isFinite(t) ? t : null;
  }
  let t = now;
  let rest = s.slice(3);
  const re = /^([+-])(\d+)([smhdwMy])/;
  let m;
  while ((m = re.exec(rest))) {
    t += (m[1] === '-' ? -1 : 1) * parseInt(m[2], 10) * UNIT_MS[m[3]];
    rest = rest.slice(m[0].length);
  }
  const r = /^\/([smhdwMy])$/.exec(rest);
  if (r) return roundTo(t, r[1], end);
  return rest === '' ? t : null;
}

/** A readable label for a range. */
export function rangeLabel(from, to) {
  const rel = /^now-(\d+[smhdwMy])$/.exec(from);
  if (rel && to === 'now') return `Last ${rel[1]}`;
  return `${from} to ${to}`;
}

const NICE = ['10ms', '20ms', '50ms', '100ms', '200ms', '500ms', '1s', '2s', '5s', '10s', '15s', '20s', '30s', '1m', '2m', '5m', '10m', '15m', '20m', '30m', '1h', '2h', '3h', '6h', '12h', '1d', '7d', '30d', '365d'].map(parseDuration);

/** Grafana's auto interval: range / max data points, rounded up to a nice step, at least minSec. */
export function autoInterval(rangeMs, maxDataPoints, minSec = 15) {
  const raw = rangeMs / 1000 / Math.max(maxDataPoints, 1);
  const nice = NICE.find((n) => n >= raw) || raw;
  return Math.max(nice, minSec);
}

/** `$__rate_interval` as Grafana computes it for a scrape interval. */
export const rateInterval = (intervalSec, scrapeSec = 15) => Math.max(intervalSec + scrapeSec, 4 * scrapeSec);

export { formatDuration };
