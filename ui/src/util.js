// Small DOM, fetch and formatting helpers shared by every page.

/** Creates an element: h('a', {href, class, onclick}, child, ...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') for (const [sk, sv] of Object.entries(v)) el.style.setProperty(sk.startsWith('--') ? sk : sk.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), String(sv));
      else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** The UI's base path (from <base href>, rewritten by the server). */
export const base = typeof document === 'undefined' ? '/' : new URL(document.baseURI).pathname.replace(/\/?$/, '/');

/** An absolute path below the base: url('api/v1/query'). */
export const url = (p) => base + p.replace(/^\//, '');

/** An API error with the server's message. */
export class ApiError extends Error {
  constructor(message, status, type) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** Fetches JSON; Prometheus envelopes are unwrapped to `data`. */
export async function api(path, params, init) {
  let u = url(path);
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
    }
    const s = q.toString();
    if (s) u += (u.includes('?') ? '&' : '?') + s;
  }
  let resp;
  try {
    resp = await fetch(u, init);
  } catch (e) {
    throw new ApiError(`cannot reach the server: ${e.message}`, 0);
  }
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    if (!resp.ok) throw new ApiError(`${resp.status} ${resp.statusText}: ${text.slice(0, 200)}`, resp.status);
    throw new ApiError(`invalid JSON from ${path}`, resp.status);
  }
  if (!resp.ok || (body && body.status === 'error')) {
    const msg = (body && (body.error || body.message)) || `${resp.status} ${resp.statusText}`;
    throw new ApiError(typeof msg === 'string' ? msg : JSON.stringify(msg), resp.status, body && body.errorType);
  }
  if (body && body.status === 'success' && 'data' in body) return body.data;
  return body;
}

/** POSTs JSON and returns the parsed answer. */
export const postJSON = (path, obj, method = 'POST') =>
  api(path, null, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(obj) });

/** Formats `{a="b"}` label sets, __name__ first as the metric name. */
export function formatSeries(labels) {
  const name = labels.__name__ || '';
  const rest = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return rest.length || !name ? `${name}{${rest.join(', ')}}` : name;
}

/** `a="b"` chips for a label set. */
export function labelChips(labels, skip = []) {
  return h(
    'span',
    { class: 'chips' },
    Object.keys(labels || {})
      .filter((k) => !skip.includes(k))
      .sort()
      .map((k) => h('span', { class: 'chip' }, `${k}="${labels[k]}"`)),
  );
}

const UNITS = [
  ['y', 365 * 86400],
  ['w', 7 * 86400],
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
  ['ms', 0.001],
];

/** Parses Prometheus durations (`1h30m`, `90s`, `500ms`) or float seconds. */
export function parseDuration(s) {
  if (s === undefined || s === null) return null;
  s = String(s).trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return parseFloat(s);
  const re = /(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)/g;
  let total = 0;
  let pos = 0;
  let m;
  while ((m = re.exec(s))) {
    if (m.index !== pos) return null;
    total += parseFloat(m[1]) * UNITS.find((u) => u[0] === m[2])[1];
    pos = re.lastIndex;
  }
  return pos === s.length && pos > 0 ? total : null;
}

/** Seconds as a Prometheus duration, e.g. 5400 -> `1h30m`. */
export function formatDuration(sec) {
  if (!isFinite(sec)) return String(sec);
  if (sec === 0) return '0s';
  let ms = Math.round(sec * 1000);
  let out = '';
  for (const [u, f] of UNITS) {
    const n = Math.floor(ms / Math.round(f * 1000));
    if (n > 0) {
      out += n + u;
      ms -= n * Math.round(f * 1000);
    }
  }
  return out;
}

/** Human "3m 12s ago"-style age of an RFC 3339 time or Unix seconds. */
export function ago(t) {
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  if (!isFinite(ms) || ms <= 0) return 'never';
  const d = (Date.now() - ms) / 1000;
  if (d < 0) return `in ${humanSeconds(-d)}`;
  return `${humanSeconds(d)} ago`;
}

/** Seconds as `1.2s`, `3m 4s`, `2h 5m`, `3d 4h`. */
export function humanSeconds(d) {
  if (d < 1) return `${Math.round(d * 1000)}ms`;
  if (d < 60) return `${d.toFixed(d < 10 ? 1 : 0)}s`;
  if (d < 3600) return `${Math.floor(d / 60)}m ${Math.floor(d % 60)}s`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ${Math.floor((d % 3600) / 60)}m`;
  return `${Math.floor(d / 86400)}d ${Math.floor((d % 86400) / 3600)}h`;
}

/** Local `YYYY-MM-DD HH:MM:SS` of Unix milliseconds. */
export function fmtDate(ms) {
  if (!isFinite(ms)) return '';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Value for <input type=datetime-local> from Unix ms, and back. */
export const toLocalInput = (ms) => fmtDate(ms).replace(' ', 'T');
export const fromLocalInput = (s) => (s ? new Date(s).getTime() : NaN);

/** A status message box. */
export const errorBox = (msg) => h('div', { class: 'error', role: 'alert' }, String(msg));
export const infoBox = (msg) => h('p', { class: 'muted' }, msg);

/** Replaces the children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form control: field('Step', input). */
export function field(label, control, hint) {
  const id = control.id || `f${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

/** Health/state badge. */
export const badge = (text, kind) => h('span', { class: `badge ${kind || text}` }, text);

/** Debounces fn by ms. */
export function debounce(fn, ms) {
  let t;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

/** A collapsible section with a real button as its header. */
export function collapsible(title, body, open = true, extra) {
  const btn = h('button', { type: 'button', class: 'collapse', 'aria-expanded': String(open) }, title);
  const wrap = h('div', { class: 'collapse-body', hidden: !open }, body);
  btn.addEventListener('click', () => {
    const now = btn.getAttribute('aria-expanded') !== 'true';
    btn.setAttribute('aria-expanded', String(now));
    wrap.hidden = !now;
  });
  return h('section', { class: 'group' }, h('h2', { class: 'group-head' }, btn, extra), wrap);
}
