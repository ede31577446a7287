// Grafana template variables: option loading (query, custom, interval,
// constant, textbox) and interpolation into PromQL with Grafana's escaping.
import { api, formatDuration, parseDuration } from '../util.js';
import { autoInterval } from './time.js';

const ALL = '$__all';

function queryText(v) {
  const q = v.query;
  if (q && typeof q === 'object') return q.query || q.expr || '';
  return q || v.definition || '';
}

/** Splits Grafana's custom-variable syntax: `a, b, label : value`. */
function customOptions(q) {
  const parts = q.match(/(?:\\,|[^,])+/g) || [];
  return parts.map((p) => {
    const t = p.replace(/\\,/g, ',').trim();
    const kv = /^(.+?)\s+:\s+(.+)$/.exec(t);
    return kv ? { text: kv[1], value: kv[2] } : { text: t, value: t };
  });
}

async function queryOptions(q, range) {
  const time = { start: Math.floor(range.from / 1000), end: Math.ceil(range.to / 1000) };
  let m;
  if ((m = /^\s*label_values\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(q))) {
    return api(`api/v1/label/${encodeURIComponent(m[1])}/values`, time);
  }
  if ((m = /^\s*label_values\(\s*(.+)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(q))) {
    return api(`api/v1/label/${encodeURIComponent(m[2])}/values`, { ...time, 'match[]': m[1] });
  }
  if ((m = /^\s*label_names\(\s*(.*)\s*\)\s*$/s.exec(q))) {
    return api('api/v1/labels', { ...time, 'match[]': m[1] || undefined });
  }
  if ((m = /^\s*metrics\(\s*(.*)\s*\)\s*$/s.exec(q))) {
    const names = await api('api/v1/label/__name__/values', time);
    let re;
    try { re = new RegExp(m[1] || '.*'); } catch { re = /.*/; }
    return names.filter((n) => re.test(n));
  }
  const expr = ((m = /^\s*query_result\(\s*(.+)\s*\)\s*$/s.exec(q)) ? m[1] : q);
  const data = await api('api/v1/query', { query: expr, time: time.end });
  const fmt = (s) => {
    const labels = Object.entries(s.metric || {}).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${v}"`).join(', ');
    return `${s.metric && s.metric.__name__ ? s.metric.__name__ : ''}{${labels}} ${s.value ? s.value[1] : ''} ${s.value ? s.value[0] * 1000 : ''}`;
  };
  if (data.resultType === 'scalar' || data.resultType === 'string') return [String(data.result[1])];
  return (data.result || []).map(fmt);
}

function applyRegex(values, regex) {
  if (!regex) return values.map((v) => ({ text: v, value: v }));
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  let re;
  try { re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex); } catch { return values.map((v) => ({ text: v, value: v })); }
  const out = [];
  for (const v of values) {
    const hit = re.exec(v);
    if (!hit) continue;
    const text = hit.groups && hit.groups.text ? hit.groups.text : hit[1] ?? v;
    const value = hit.groups && hit.groups.value ? hit.groups.value : hit[1] ?? v;
    out.push({ text, value });
  }
  return out;
}

function sortOptions(opts, sort) {
  const cmpA = (a, b) => a.text.localeCompare(b.text);
  const num = (s) => { const m = /-?\d+(\.\d+)?/.exec(s); return m ? parseFloat(m[0]) : Infinity; };
  switch (sort) {
    case 1: case 5: return opts.sort(cmpA);
    case 2: case 6: return opts.sort((a, b) => cmpA(b, a));
    case 3: return opts.sort((a, b) => num(a.text) - num(b.text));
    case 4: return opts.sort((a, b) => num(b.text) - num(a.text));
    default: return opts;
  }
}

/**
 * Loads the options of one variable (earlier variables are interpolated into
 * its query). Returns [{text, value}].
 */
export async function loadOptions(v, range, interpolate) {
  const q = interpolate(queryText(v));
  let opts;
  switch (v.type) {
    case 'custom':
      opts = q ? customOptions(q) : (v.options || []).map((o) => ({ text: String(o.text), value: String(o.value) }));
      break;
    case 'interval':
      opts = customOptions(q || '1m,10m,30m,1h,6h,12h,1d');
      if (v.auto) opts.unshift({ text: 'auto', value: '$__auto_interval' });
      break;
    case 'constant':
    case 'textbox':
      opts = [{ text: q, value: q }];
      break;
    case 'datasource':
      opts = [{ text: 'Prometheus', value: 'Prometheus' }];
      break;
    case 'query': {
      const values = await queryOptions(q, range);
      const seen = new Set();
      opts = sortOptions(applyRegex(values.map(String), v.regex).filter((o) => !seen.has(o.value) && seen.add(o.value)), v.sort);
      break;
    }
    default:
      opts = (v.options || []).map((o) => ({ text: String(o.text), value: String(o.value) }));
  }
  if (v.includeAll) opts.unshift({ text: 'All', value: ALL });
  return opts;
}

/** The variable's selected values: URL first, then the saved current, then the first option. */
export function initialSelection(v, opts, urlValues) {
  const values = new Set(opts.map((o) => o.value));
  const pick = (list) => list.filter((x) => values.has(x) || x === ALL || v.type === 'textbox');
  if (urlValues.length) {
    const got = pick(urlValues.map((x) => (x === 'All' || x === '$__all' ? ALL : x)));
    if (got.length) return got;
  }
  const cur = v.current && v.current.value;
  if (cur !== undefined && cur !== null) {
    const got = pick((Array.isArray(cur) ? cur : [cur]).map(String));
    if (got.length) return got;
  }
  return opts.length ? [opts[0].value] : [];
}

const regexEscape = (s) => s.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&');
const promEscape = (s) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

/**
 * Builds the interpolation function for a dashboard:
 * vars: [{v, opts, selected}], builtins: {name: value}.
 */
export function makeInterpolator(vars, builtins) {
  const byName = new Map(vars.map((x) => [x.v.name, x]));
  function values(x) {
    if (x.selected.includes(ALL)) {
      if (x.v.allValue) return { raw: x.v.allValue, custom: true };
      return { list: x.opts.filter((o) => o.value !== ALL).map((o) => o.value) };
    }
    return { list: x.selected };
  }
  function format(name, fmt) {
    if (name in builtins) return builtins[name];
    const x = byName.get(name);
    if (!x) return null;
    if (x.v.type === 'interval') {
      const sel = x.selected[0] || '';
      return sel === '$__auto_interval' ? builtins.__auto_interval : sel;
    }
    const vals = values(x);
    if (vals.raw !== undefined) return vals.raw;
    const list = vals.list;
    switch (fmt) {
      case 'raw': return list.join(',');
      case 'csv': return list.join(',');
      case 'pipe': return list.join('|');
      case 'text': return list.join(' + ');
      case 'regex': return list.length > 1 ? `(${list.map(regexEscape).join('|')})` : regexEscape(list[0] || '');
      default:
        if (!x.v.multi && !x.v.includeAll) return promEscape(list[0] || '');
        return list.length > 1 ? `(${list.map(regexEscape).join('|')})` : regexEscape(list[0] || '');
    }
  }
  return (text) =>
    String(text ?? '').replace(/\$\{([a-zA-Z0-9_]+)(?::([a-z]+))?\}|\[\[([a-zA-Z0-9_]+)(?::([a-z]+))?\]\]|\$([a-zA-Z0-9_]+)/g, (all, n1, f1, n2, f2, n3) => {
      const name = n1 || n2 || n3;
      const v = format(name, f1 || f2);
      return v === null || v === undefined ? all : v;
    });
}

/** Built-in variables for a range and panel interval. */
export function builtins(range, intervalSec, scrapeSec = 15) {
  const rangeSec = Math.max(Math.round((range.to - range.from) / 1000), 1);
  return {
    __interval: formatDuration(intervalSec),
    __interval_ms: String(Math.round(intervalSec * 1000)),
    __rate_interval: formatDuration(Math.max(intervalSec + scrapeSec, 4 * scrapeSec)),
    __range: formatDuration(rangeSec),
    __range_s: String(rangeSec),
    __range_ms: String(rangeSec * 1000),
    __from: String(range.from),
    __to: String(range.to),
    __auto_interval: formatDuration(autoInterval(range.to - range.from, 30, 10)),
  };
}

export { parseDuration };
