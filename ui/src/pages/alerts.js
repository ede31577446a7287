// Alerts: alerting rules with their inactive/pending/firing alerts, plus
// acknowledge (watchfire extension) and silence actions.
import { h, api, postJSON, mount, errorBox, infoBox, labelChips, ago, badge, collapsible, field, url } from '../util.js';

const STATES = ['firing', 'pending', 'inactive'];

export function render(main, params) {
  const shown = new Set((params.get('state') || 'firing,pending,inactive').split(','));
  const boxes = STATES.map((s) => {
    const cb = h('input', { type: 'checkbox', id: `st-${s}`, checked: shown.has(s) });
    cb.addEventListener('change', () => { cb.checked ? shown.add(s) : shown.delete(s); draw(); });
    return h('span', { class: 'field check' }, cb, h('label', { for: `st-${s}` }, s));
  });
  const out = h('div', {}, infoBox('Loading…'));
  mount(main, h('h1', {}, 'Alerts'), h('fieldset', { class: 'toolbar' }, h('legend', {}, 'Show rules that are'), boxes), out);
  let rules = [];
  let amAlerts = [];
  function draw() {
    const visible = rules.filter((r) => shown.has(r.state || 'inactive'));
    if (!rules.length) return mount(out, infoBox('No alerting rules are loaded.'));
    if (!visible.length) return mount(out, infoBox('No alerting rules in the selected states.'));
    mount(
      out,
      visible.map((r) => {
        const alerts = r.alerts || [];
        return collapsible(
          h('span', {}, r.name, ' ', badge(r.state || 'inactive'), alerts.length ? ` (${alerts.length} active)` : ''),
          h(
            'div',
            { class: 'alert-rule' },
            h('pre', { class: 'ruleyaml' }, `alert: ${r.name}\nexpr: ${r.query}${r.duration ? `\nfor: ${r.duration}s` : ''}`),
            alerts.length ? alertTable(alerts, amAlerts) : null,
          ),
          r.state !== 'inactive',
        );
      }),
    );
  }
  Promise.all([api('api/v1/rules', { type: 'alert' }), api('api/v2/alerts').catch(() => [])])
    .then(([d, am]) => {
      rules = (d.groups || []).flatMap((g) => (g.rules || []).filter((r) => r.type === 'alerting'));
      rules.sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state) || a.name.localeCompare(b.name));
      amAlerts = Array.isArray(am) ? am : [];
      draw();
    })
    .catch((e) => mount(out, errorBox(e.message)));
}

// The Alertmanager's copy of a rule's alert carries the rule's labels plus,
// possibly, external labels: match on the rule's labels only.
const sameLabels = (rule, am) => Object.keys(rule || {}).filter((k) => k !== '__name__').every((k) => (am || {})[k] === rule[k]);

function alertTable(alerts, amAlerts) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, ['Labels', 'State', 'Active since', 'Value', 'Annotations', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        alerts.map((a) => {
          const am = amAlerts.find((x) => sameLabels(a.labels, x.labels));
          const st = am && am.status ? am.status : null;
          return h(
            'tr',
            { class: `alert ${a.state}` },
            h('td', {}, labelChips(a.labels, ['alertname'])),
            h('td', {}, badge(a.state), st && st.silencedBy && st.silencedBy.length ? badge('silenced') : null, st && st.inhibitedBy && st.inhibitedBy.length ? badge('inhibited') : null),
            h('td', { title: a.activeAt }, a.activeAt ? ago(a.activeAt) : ''),
            h('td', { class: 'num' }, a.value ?? ''),
            h('td', {}, Object.entries(a.annotations || {}).map(([k, v]) => h('div', {}, h('b', {}, `${k}: `), v))),
            h('td', { class: 'actions' }, am && am.fingerprint && a.state === 'firing' ? ackControl(am) : null, h('a', { class: 'button', href: url(`silences?${silenceQuery(a.labels)}`) }, 'Silence')),
          );
        }),
      ),
    ),
  );
}

function silenceQuery(labels) {
  const q = new URLSearchParams({ new: '1' });
  for (const [k, v] of Object.entries(labels || {})) if (k !== '__name__') q.append('matcher', `${k}=${JSON.stringify(v)}`);
  return q.toString();
}

/**
 * Acknowledge control over the watchfire extension:
 * POST/DELETE /api/v2/watchfire/acks/{fingerprint} with {by, comment}; an
 * acknowledged alert carries `watchfireAck` in /api/v2/alerts.
 */
function ackControl(am) {
  const wrap = h('div', { class: 'ack' });
  const path = `api/v2/watchfire/acks/${encodeURIComponent(am.fingerprint)}`;
  const open = h('button', { type: 'button', onclick: () => { mount(wrap, form); comment.focus(); } }, 'Acknowledge');
  const comment = h('input', { type: 'text' });
  const by = h('input', { type: 'text', value: localStorage.getItem('wf.user') || '', required: true, autocomplete: 'username' });
  const msg = h('span', { role: 'status', class: 'small err' });
  const acked = (ack) =>
    mount(wrap, badge('acknowledged'), h('span', { class: 'small' }, ` by ${ack.by || '?'}${ack.comment ? `: ${ack.comment}` : ''} `), h('button', { type: 'button', onclick: unack }, 'Undo'));
  const form = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (e) => {
        e.preventDefault();
        localStorage.setItem('wf.user', by.value);
        try {
          const ack = await postJSON(path, { by: by.value, comment: comment.value });
          acked(ack && typeof ack === 'object' ? ack : { by: by.value, comment: comment.value });
        } catch (err) {
          msg.textContent = `Acknowledge failed: ${err.message}`;
        }
      },
    },
    field('By', by),
    field('Comment', comment),
    h('button', { type: 'submit' }, 'Confirm'),
    h('button', { type: 'button', onclick: () => mount(wrap, open) }, 'Cancel'),
    msg,
  );
  async function unack() {
    try {
      await api(path, null, { method: 'DELETE' });
      mount(wrap, open);
    } catch (err) {
      wrap.append(h('span', { role: 'status', class: 'small err' }, `Undo failed: ${err.message}`));
    }
  }
  if (am.watchfireAck) acked(am.watchfireAck);
  else mount(wrap, open);
  return wrap;
}
