// Notification history (watchfire extension, GET /api/v2/watchfire/history:
// newest first, {time, groupKey, receiver, integration, index, attempt,
// outcome, error, retryable, durationMs, firing, resolved}; read defensively).
import { h, api, mount, errorBox, infoBox, badge, fmtDate } from '../util.js';

const pick = (o, ...keys) => keys.map((k) => o[k]).find((v) => v !== undefined && v !== null && v !== '');

export function render(main) {
  const out = h('div', {}, infoBox('Loading…'));
  mount(main, h('h1', {}, 'Notification history'), out);
  api('api/v2/watchfire/history')
    .then((d) => {
      const list = Array.isArray(d) ? d : (d && (d.entries || d.items || d.history || d.data)) || [];
      if (!Array.isArray(list) || !list.length) return mount(out, infoBox('No notifications have been sent yet.'));
      mount(
        out,
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'data' },
            h('thead', {}, h('tr', {}, ['Time', 'Receiver', 'Integration', 'Outcome', 'Group', 'Alerts', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, list.map(row)),
          ),
        ),
      );
    })
    .catch((e) => mount(out, e.status === 404 ? infoBox('This server keeps no notification history.') : errorBox(e.message)));
}

function row(e) {
  const t = pick(e, 'time', 'timestamp', 'at');
  const ms = typeof t === 'number' ? (t > 1e12 ? t : t * 1000) : Date.parse(t);
  const list = (v) => (Array.isArray(v) ? v.length : typeof v === 'number' ? v : 0);
  const outcome = String(pick(e, 'outcome', 'status') ?? (e.error ? 'failed' : ''));
  return h(
    'tr',
    { class: 'notification' },
    h('td', {}, isFinite(ms) ? fmtDate(ms) : String(t ?? '')),
    h('td', {}, String(pick(e, 'receiver') ?? '')),
    h('td', {}, `${pick(e, 'integration') ?? ''}${e.index !== undefined ? `[${e.index}]` : ''}`),
    h('td', {}, badge(outcome || 'unknown', /^(success|ok|sent)$/i.test(outcome) ? 'ok' : /fail|error/i.test(outcome) ? 'error' : 'unknown'), e.attempt > 1 ? h('span', { class: 'small' }, ` attempt ${e.attempt}`) : null),
    h('td', { class: 'small' }, String(pick(e, 'groupKey') ?? '')),
    h('td', {}, `${list(e.firing)} firing, ${list(e.resolved)} resolved`),
    h('td', { class: 'err' }, String(pick(e, 'error') ?? '')),
  );
}
