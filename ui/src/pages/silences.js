// Silences: list by state, create/edit with a matcher editor that previews
// the alerts it would silence, expire.
import { h, api, postJSON, mount, errorBox, infoBox, labelChips, badge, field, fmtDate, toLocalInput, fromLocalInput, parseDuration, formatDuration, debounce, url } from '../util.js';

const OPS = ['=', '!=', '=~', '!~'];

/** Parses `name="value"` / `name=~"re"` (quotes optional). */
export function parseMatcher(s) {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(s);
  if (!m) return null;
  let value = m[3];
  if (/^".*"$/.test(value)) {
    try { value = JSON.parse(value); } catch { value = value.slice(1, -1); }
  }
  return { name: m[1], value, isRegex: m[2].includes('~'), isEqual: !m[2].startsWith('!') };
}

const opText = (m) => (m.isRegex ? (m.isEqual === false ? '!~' : '=~') : m.isEqual === false ? '!=' : '=');
export const matcherText = (m) => `${m.name}${opText(m)}${JSON.stringify(m.value)}`;

/** Alertmanager's matching: regexes are anchored. */
export function matches(matchers, labels) {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    let ok;
    if (m.isRegex) {
      try { ok = new RegExp(`^(?:${m.value})$`).test(v); } catch { return false; }
    } else ok = v === m.value;
    return m.isEqual === false ? !ok : ok;
  });
}

export function render(main, params) {
  if (params.get('new') || params.get('edit')) return editor(main, params);
  const state = params.get('state') || 'active';
  const out = h('div', {}, infoBox('Loading…'));
  const tabs = ['active', 'pending', 'expired'].map((s) => h('a', { class: 'tab', role: 'tab', 'aria-selected': String(s === state), href: url(`silences?state=${s}`) }, s));
  mount(main, h('div', { class: 'titlebar' }, h('h1', {}, 'Silences'), h('a', { class: 'button primary', href: url('silences?new=1') }, 'New silence')), h('div', { class: 'tabs', role: 'tablist' }, tabs), out);
  api('api/v2/silences')
    .then((list) => {
      const shown = (Array.isArray(list) ? list : []).filter((s) => (s.status && s.status.state) === state).sort((a, b) => Date.parse(b.startsAt) - Date.parse(a.startsAt));
      if (!shown.length) return mount(out, infoBox(`No ${state} silences.`));
      mount(out, h('ul', { class: 'cards' }, shown.map((s) => silenceCard(s, out))));
    })
    .catch((e) => mount(out, errorBox(e.message)));
}

function silenceCard(s, out) {
  const expire = h('button', {
    type: 'button',
    onclick: async () => {
      try {
        await api(`api/v2/silence/${encodeURIComponent(s.id)}`, null, { method: 'DELETE' });
        card.remove();
      } catch (e) { out.prepend(errorBox(`Expire failed: ${e.message}`)); }
    },
  }, 'Expire');
  const card = h(
    'li',
    { class: 'card silence', 'data-id': s.id },
    h('div', { class: 'chips' }, (s.matchers || []).map((m) => h('span', { class: 'chip' }, matcherText(m)))),
    h('div', { class: 'small' }, badge(s.status.state), ` ${fmtDate(Date.parse(s.startsAt))} → ${fmtDate(Date.parse(s.endsAt))}`),
    h('div', {}, h('b', {}, s.createdBy || ''), ': ', s.comment || ''),
    h('div', { class: 'muted small' }, `ID ${s.id}`),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: url(`silences?edit=${encodeURIComponent(s.id)}`) }, s.status.state === 'expired' ? 'Recreate' : 'Edit'), s.status.state !== 'expired' ? expire : null),
  );
  return card;
}

async function editor(main, params) {
  const editId = params.get('edit');
  let existing = null;
  const out = h('div');
  mount(main, h('h1', {}, editId ? 'Edit silence' : 'New silence'), out);
  if (editId) {
    try { existing = await api(`api/v2/silence/${encodeURIComponent(editId)}`); } catch (e) { return mount(out, errorBox(e.message)); }
  }
  const now = Date.now();
  const expired = existing && existing.status && existing.status.state === 'expired';
  const startMs = existing && !expired ? Date.parse(existing.startsAt) : now;
  const endMs = existing && !expired ? Date.parse(existing.endsAt) : now + 2 * 3600e3;
  const starts = h('input', { type: 'datetime-local', step: 1, value: toLocalInput(startMs), required: true });
  const dur = h('input', { type: 'text', value: formatDuration(Math.round((endMs - startMs) / 1000)), required: true });
  const ends = h('input', { type: 'datetime-local', step: 1, value: toLocalInput(endMs), required: true });
  const by = h('input', { type: 'text', value: existing ? existing.createdBy : localStorage.getItem('wf.user') || '', required: true, autocomplete: 'username' });
  const comment = h('textarea', { rows: 2, required: true }, existing ? existing.comment : '');
  const rows = h('div', { class: 'matchers' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const msg = h('div', { role: 'status' });
  let n = 0;

  dur.addEventListener('input', () => {
    const d = parseDuration(dur.value);
    if (d) ends.value = toLocalInput(fromLocalInput(starts.value) + d * 1000);
  });
  const fromEnds = () => {
    const d = (fromLocalInput(ends.value) - fromLocalInput(starts.value)) / 1000;
    if (d > 0) dur.value = formatDuration(Math.round(d));
  };
  ends.addEventListener('change', fromEnds);
  starts.addEventListener('change', fromEnds);

  function addRow(m) {
    const i = n++;
    const name = h('input', { type: 'text', value: m ? m.name : '', class: 'm-name', required: true });
    const op = h('select', { class: 'm-op' }, OPS.map((o) => h('option', { value: o, selected: m ? opText(m) === o : o === '=' }, o)));
    const value = h('input', { type: 'text', value: m ? m.value : '', class: 'm-value' });
    const row = h(
      'fieldset',
      { class: 'matcher' },
      h('legend', { class: 'sr-only' }, `Matcher ${i + 1}`),
      field('Label', name),
      field('Operator', op),
      field('Value', value),
      h('button', { type: 'button', 'aria-label': `Remove matcher ${i + 1}`, onclick: () => { row.remove(); refresh(); } }, 'Remove'),
    );
    for (const el of [name, op, value]) el.addEventListener('input', refresh);
    rows.append(row);
    return name;
  }

  function matchersNow() {
    return [...rows.querySelectorAll('.matcher')]
      .map((r) => {
        const op = r.querySelector('.m-op').value;
        return { name: r.querySelector('.m-name').value.trim(), value: r.querySelector('.m-value').value, isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
      })
      .filter((m) => m.name);
  }

  const refresh = debounce(async () => {
    const ms = matchersNow();
    if (!ms.length) return mount(preview, infoBox('Add a matcher to see the alerts it silences.'));
    for (const m of ms) {
      if (m.isRegex) {
        try { new RegExp(m.value); } catch (e) { return mount(preview, errorBox(`Invalid regex for ${m.name}: ${e.message}`)); }
      }
    }
    try {
      const alerts = await api('api/v2/alerts', { active: 'true', silenced: 'true', inhibited: 'true' });
      const hit = (Array.isArray(alerts) ? alerts : []).filter((a) => matches(ms, a.labels || {}));
      mount(
        preview,
        h('h2', {}, `Affected alerts: ${hit.length}`),
        hit.length ? h('ul', { class: 'plain' }, hit.map((a) => h('li', { class: 'affected' }, labelChips(a.labels)))) : infoBox('No alert currently matches.'),
      );
    } catch (e) {
      mount(preview, errorBox(`Cannot preview: ${e.message}`));
    }
  }, 200);

  const initial = existing ? existing.matchers : params.getAll('matcher').map(parseMatcher).filter(Boolean);
  (initial.length ? initial : [null]).forEach(addRow);

  const form = h(
    'form',
    {
      class: 'silence-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const ms = matchersNow();
        if (!ms.length) return mount(msg, errorBox('At least one matcher is required.'));
        if (ms.every((m) => matches([m], {}))) return mount(msg, errorBox('At least one matcher must not match the empty string.'));
        const body = { matchers: ms, startsAt: new Date(fromLocalInput(starts.value)).toISOString(), endsAt: new Date(fromLocalInput(ends.value)).toISOString(), createdBy: by.value, comment: comment.value };
        if (existing && !expired) body.id = existing.id;
        localStorage.setItem('wf.user', by.value);
        try {
          const r = await postJSON('api/v2/silences', body);
          window.__wfNavigate(url(`silences?state=${Date.parse(body.startsAt) > Date.now() ? 'pending' : 'active'}&created=${encodeURIComponent((r && r.silenceID) || '')}`));
        } catch (err) {
          mount(msg, errorBox(`Saving failed: ${err.message}`));
        }
      },
    },
    h('h2', {}, 'Matchers'),
    rows,
    h('button', { type: 'button', onclick: () => addRow(null).focus() }, 'Add matcher'),
    preview,
    h('h2', {}, 'Duration'),
    h('div', { class: 'toolbar' }, field('Starts at', starts), field('Duration', dur), field('Ends at', ends)),
    field('Creator', by),
    field('Comment', comment),
    msg,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, editId && !expired ? 'Update silence' : 'Create silence'), h('a', { class: 'button', href: url('silences') }, 'Cancel')),
  );
  mount(out, form);
  refresh();
}
