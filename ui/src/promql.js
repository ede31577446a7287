// PromQL lexing for highlighting, and the completion context at a cursor.

/** Functions with a short signature, shown in completion. */
export const FUNCTIONS = {
  abs: 'v', absent: 'v', absent_over_time: 'm', acos: 'v', acosh: 'v', asin: 'v', asinh: 'v', atan: 'v', atanh: 'v',
  avg_over_time: 'm', ceil: 'v', changes: 'm', clamp: 'v, min, max', clamp_max: 'v, max', clamp_min: 'v, min', cos: 'v',
  cosh: 'v', count_over_time: 'm', day_of_month: 'v?', day_of_week: 'v?', day_of_year: 'v?', days_in_month: 'v?',
  deg: 'v', delta: 'm', deriv: 'm', exp: 'v', floor: 'v', histogram_avg: 'v', histogram_count: 'v',
  histogram_fraction: 'lower, upper, v', histogram_quantile: 'φ, v', histogram_stddev: 'v', histogram_stdvar: 'v',
  histogram_sum: 'v', double_exponential_smoothing: 'm, sf, tf', hour: 'v?', idelta: 'm', increase: 'm', irate: 'm',
  label_join: 'v, dst, sep, src...', label_replace: 'v, dst, repl, src, regex', last_over_time: 'm', ln: 'v',
  log10: 'v', log2: 'v', mad_over_time: 'm', max_over_time: 'm', min_over_time: 'm', minute: 'v?', month: 'v?',
  pi: '', predict_linear: 'm, t', present_over_time: 'm', quantile_over_time: 'φ, m', rad: 'v', rate: 'm',
  resets: 'm', round: 'v, to?', scalar: 'v', sgn: 'v', sin: 'v', sinh: 'v', sort: 'v', sort_by_label: 'v, l...',
  sort_by_label_desc: 'v, l...', sort_desc: 'v', sqrt: 'v', stddev_over_time: 'm', stdvar_over_time: 'm',
  sum_over_time: 'm', tan: 'v', tanh: 'v', time: '', timestamp: 'v', vector: 's', year: 'v?',
};

export const AGGREGATORS = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio'];
export const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2'];

const DUR = /^\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*/;
const NUM = /^(?:0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?|[iI]nf|NaN)/;
const IDENT = /^[a-zA-Z_:][a-zA-Z0-9_:.]*/;
const OPS = /^(?:==|!=|>=|<=|=~|!~|[-+*/%^=<>@,])/;

/**
 * Splits a query into tokens {t, s, e} (type, start, end). Types: ws,
 * comment, string, number, duration, func, agg, keyword, metric, label, op,
 * paren, brace, bracket, error. Never throws: unknown characters are `error`.
 */
export function lex(src) {
  const out = [];
  let i = 0;
  let braces = 0;
  let brackets = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const c = src[i];
    let m;
    let t;
    let len;
    if (/\s/.test(c)) {
      len = /^\s+/.exec(rest)[0].length;
      t = 'ws';
    } else if (c === '#') {
      len = (rest.indexOf('\n') + 1 || rest.length + 1) - 1;
      t = 'comment';
    } else if (c === '"' || c === "'" || c === '`') {
      let j = 1;
      while (j < rest.length && rest[j] !== c) j += rest[j] === '\\' && c !== '`' ? 2 : 1;
      len = Math.min(j + 1, rest.length);
      t = 'string';
    } else if (brackets > 0 && (m = DUR.exec(rest))) {
      len = m[0].length;
      t = 'duration';
    } else if ((m = DUR.exec(rest)) && !/^\d+(?:\.\d+)?[eE]/.test(rest)) {
      len = m[0].length;
      t = 'duration';
    } else if ((m = NUM.exec(rest)) && m[0].length) {
      len = m[0].length;
      t = 'number';
    } else if ((m = IDENT.exec(rest))) {
      len = m[0].length;
      const word = m[0];
      const after = src.slice(i + len).trimStart()[0];
      if (braces > 0) t = 'label';
      else if (KEYWORDS.includes(word.toLowerCase())) t = 'keyword';
      else if (AGGREGATORS.includes(word.toLowerCase()) && (after === '(' || /^\s*(by|without)\b/i.test(src.slice(i + len)))) t = 'agg';
      else if (FUNCTIONS[word] !== undefined && after === '(') t = 'func';
      else if (lastSignificant(out) && /^(by|without|on|ignoring|group_left|group_right)$/i.test(lastWord(src, out))) t = 'label';
      else t = insideGrouping(src, out) ? 'label' : 'metric';
    } else if ((m = OPS.exec(rest))) {
      len = m[0].length;
      t = 'op';
    } else if ('()'.includes(c)) {
      len = 1;
      t = 'paren';
    } else if ('{}'.includes(c)) {
      len = 1;
      t = 'brace';
      braces += c === '{' ? 1 : -1;
    } else if ('[]'.includes(c)) {
      len = 1;
      t = 'bracket';
      brackets += c === '[' ? 1 : -1;
    } else {
      len = 1;
      t = 'error';
    }
    out.push({ t, s: i, e: i + len });
    i += len;
  }
  return out;
}

function lastSignificant(toks) {
  for (let i = toks.length - 1; i >= 0; i--) if (toks[i].t !== 'ws') return toks[i];
  return null;
}

function lastWord(src, toks) {
  const t = lastSignificant(toks);
  return t ? src.slice(t.s, t.e) : '';
}

/** True when the tokens so far end inside `by (` / `on (` ... `)`. */
function insideGrouping(src, toks) {
  let depth = 0;
  for (let i = toks.length - 1; i >= 0; i--) {
    const tok = toks[i];
    const text = src.slice(tok.s, tok.e);
    if (tok.t === 'paren') {
      if (text === ')') depth++;
      else if (depth > 0) depth--;
      else {
        for (let j = i - 1; j >= 0; j--) {
          if (toks[j].t === 'ws') continue;
          return toks[j].t === 'keyword' && /^(by|without|on|ignoring|group_left|group_right)$/i.test(src.slice(toks[j].s, toks[j].e));
        }
        return false;
      }
    }
  }
  return false;
}

/**
 * What to complete at `pos`: {kind: 'metric'|'label'|'value'|'none', prefix,
 * from (start of the word), metric (the selector's metric, if any), label}.
 */
export function completionContext(src, pos) {
  const before = src.slice(0, pos);
  // Inside a label value string: {job="ap|
  const val = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(before);
  if (val && openBrace(before)) {
    return { kind: 'value', label: val[1], prefix: val[3], from: pos - val[3].length, metric: selectorMetric(before) };
  }
  const word = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(before);
  const prefix = word ? word[0] : '';
  const from = pos - prefix.length;
  if (openBrace(before)) {
    const inside = before.slice(before.lastIndexOf('{') + 1, from);
    if (/(^|,)\s*$/.test(inside)) return { kind: 'label', prefix, from, metric: selectorMetric(before) };
    return { kind: 'none', prefix, from };
  }
  const toks = lex(before.slice(0, from));
  if (insideGrouping(before.slice(0, from), toks)) {
    const t = lastSignificant(toks);
    const txt = t ? before.slice(t.s, t.e) : '';
    if (txt === '(' || txt === ',') return { kind: 'label', prefix, from };
  }
  const inBrackets = before.lastIndexOf('[') > before.lastIndexOf(']');
  if (inBrackets || !prefix) return { kind: 'none', prefix, from };
  return { kind: 'metric', prefix, from };
}

function openBrace(before) {
  const stripped = before.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return stripped.lastIndexOf('{') > stripped.lastIndexOf('}');
}

function selectorMetric(before) {
  const i = before.lastIndexOf('{');
  const m = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before.slice(0, i));
  return m ? m[1] : null;
}

/** The `line:column` of a Prometheus parse error, as an offset into src. */
export function errorOffset(src, message) {
  const m = /(?:^|: )(\d+):(\d+)(?::\d+:\d+)?: parse error/.exec(message || '');
  if (!m) return null;
  const line = parseInt(m[1], 10);
  const col = parseInt(m[2], 10);
  const lines = src.split('\n');
  if (line < 1 || line > lines.length) return null;
  let off = 0;
  for (let i = 0; i < line - 1; i++) off += lines[i].length + 1;
  return Math.min(off + Math.max(col - 1, 0), src.length);
}
