// PromQL editor: a textarea over a highlighted copy, with completion of
// metric names, label names and values, functions and keywords.
import { h, api } from './util.js';
import { lex, completionContext, FUNCTIONS, AGGREGATORS, KEYWORDS } from './promql.js';

const cache = new Map();
function cached(key, fn) {
  if (!cache.has(key)) cache.set(key, fn().catch(() => { cache.delete(key); return []; }));
  return cache.get(key);
}

const metricNames = () => cached('metrics', () => api('api/v1/label/__name__/values'));
const labelNames = (metric) =>
  cached(`labels:${metric || ''}`, () => api('api/v1/labels', metric ? { 'match[]': metric } : null));
const labelValues = (label, metric) =>
  cached(`values:${label}:${metric || ''}`, () =>
    api(`api/v1/label/${encodeURIComponent(label)}/values`, metric ? { 'match[]': metric } : null),
  );

async function candidates(ctx) {
  const p = ctx.prefix.toLowerCase();
  const match = (s) => s.toLowerCase().startsWith(p) || (p.length > 1 && s.toLowerCase().includes(p));
  if (ctx.kind === 'metric') {
    const names = (await metricNames()).filter(match).slice(0, 200).map((n) => ({ text: n, kind: 'metric' }));
    const fns = Object.keys(FUNCTIONS).filter(match).map((n) => ({ text: n, kind: 'function', detail: `${n}(${FUNCTIONS[n]})`, suffix: '(' }));
    const aggs = AGGREGATORS.filter(match).map((n) => ({ text: n, kind: 'aggregation', suffix: '(' }));
    const kws = KEYWORDS.filter(match).map((n) => ({ text: n, kind: 'keyword' }));
    return [...fns, ...aggs, ...kws, ...names].sort((a, b) => rank(a.text, p) - rank(b.text, p)).slice(0, 100);
  }
  if (ctx.kind === 'label') {
    return (await labelNames(ctx.metric)).filter((n) => n !== '__name__' && match(n)).map((n) => ({ text: n, kind: 'label' }));
  }
  if (ctx.kind === 'value') {
    return (await labelValues(ctx.label, ctx.metric)).filter(match).slice(0, 200).map((n) => ({ text: n, kind: 'value' }));
  }
  return [];
}

const rank = (s, p) => (s.toLowerCase().startsWith(p) ? 0 : 1);

/**
 * Creates an editor. opts: {value, onSubmit(value), onChange(value), label}.
 * Returns {el, get value(), set value(v), setError(offset|null), focus()}.
 */
export function promqlEditor(opts) {
  const id = `ed${Math.random().toString(36).slice(2, 8)}`;
  const ta = h('textarea', {
    id,
    class: 'ed-input',
    spellcheck: 'false',
    autocomplete: 'off',
    autocapitalize: 'off',
    rows: 1,
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': `${id}-list`,
    placeholder: 'Expression (press Enter to run, Shift+Enter for a new line)',
  });
  ta.value = opts.value || '';
  const pre = h('pre', { class: 'ed-hl', 'aria-hidden': 'true' });
  const list = h('ul', { class: 'ed-list', id: `${id}-list`, role: 'listbox', hidden: true, 'aria-label': 'Completions' });
  const wrap = h('div', { class: 'ed' }, h('label', { for: id, class: 'sr-only' }, opts.label || 'PromQL expression'), pre, ta, list);
  let errorAt = null;
  let items = [];
  let active = 0;
  let ctx = null;
  let seq = 0;

  function paint() {
    const src = ta.value;
    pre.replaceChildren();
    for (const tok of lex(src)) {
      const text = src.slice(tok.s, tok.e);
      if (tok.t === 'ws') pre.append(text);
      else pre.append(h('span', { class: `tk-${tok.t}` }, text));
    }
    if (errorAt !== null) {
      // Re-split the painted text so the error character is marked.
      markError(pre, errorAt);
    }
    pre.append('\n');
    ta.style.height = 'auto';
    ta.style.height = `${Math.max(ta.scrollHeight, 38)}px`;
  }

  function close() {
    list.hidden = true;
    ta.setAttribute('aria-expanded', 'false');
    ta.removeAttribute('aria-activedescendant');
    items = [];
  }

  function show() {
    list.replaceChildren(
      ...items.map((it, i) =>
        h(
          'li',
          { id: `${id}-o${i}`, role: 'option', class: `ed-item ${it.kind}`, 'aria-selected': String(i === active), onmousedown: (e) => { e.preventDefault(); accept(i); } },
          h('span', { class: 'ed-text' }, it.text),
          h('span', { class: 'ed-kind' }, it.detail || it.kind),
        ),
      ),
    );
    list.hidden = items.length === 0;
    ta.setAttribute('aria-expanded', String(!list.hidden));
    if (items.length) {
      ta.setAttribute('aria-activedescendant', `${id}-o${active}`);
      const el = list.children[active];
      if (el && el.scrollIntoView) el.scrollIntoView({ block: 'nearest' });
    }
  }

  async function complete() {
    const my = ++seq;
    const c = completionContext(ta.value, ta.selectionStart);
    if (c.kind === 'none' || (c.kind === 'metric' && c.prefix.length < 1)) return close();
    const got = await candidates(c);
    if (my !== seq) return;
    ctx = c;
    items = got.filter((it) => it.text !== c.prefix);
    active = 0;
    show();
  }

  function accept(i) {
    const it = items[i];
    if (!it || !ctx) return;
    const v = ta.value;
    const end = ta.selectionStart;
    let insert = it.text;
    if (ctx.kind === 'value') insert = it.text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    if (it.suffix && v[end] !== it.suffix) insert += it.suffix;
    ta.value = v.slice(0, ctx.from) + insert + v.slice(end);
    const caret = ctx.from + insert.length;
    ta.setSelectionRange(caret, caret);
    close();
    changed();
  }

  function changed() {
    errorAt = null;
    paint();
    if (opts.onChange) opts.onChange(ta.value);
  }

  ta.addEventListener('input', () => {
    changed();
    complete();
  });
  ta.addEventListener('scroll', () => { pre.scrollTop = ta.scrollTop; pre.scrollLeft = ta.scrollLeft; });
  ta.addEventListener('blur', () => setTimeout(close, 100));
  ta.addEventListener('keydown', (e) => {
    if (!list.hidden && items.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
        return show();
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey)) {
        e.preventDefault();
        return accept(active);
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        return close();
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      close();
      if (opts.onSubmit) opts.onSubmit(ta.value);
    }
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      complete();
    }
  });
  paint();

  return {
    el: wrap,
    get value() { return ta.value; },
    set value(v) { ta.value = v; changed(); },
    setError(offset) { errorAt = offset; paint(); },
    focus() { ta.focus(); },
  };
}

function markError(pre, offset) {
  let pos = 0;
  for (const node of [...pre.childNodes]) {
    const text = node.textContent;
    if (offset >= pos && offset < pos + text.length) {
      const rel = offset - pos;
      const mark = h('mark', { class: 'ed-err' }, text[rel]);
      const parts = [text.slice(0, rel), mark, text.slice(rel + 1)];
      if (node.nodeType === Node.TEXT_NODE) node.replaceWith(...parts.filter((p) => p !== ''));
      else node.replaceChildren(...parts.filter((p) => p !== ''));
      return;
    }
    pos += text.length;
  }
  pre.append(h('mark', { class: 'ed-err' }, ' '));
}
