// Rules: groups with each rule's health, last evaluation and duration.
import { h, api, mount, errorBox, infoBox, labelChips, ago, humanSeconds, badge, collapsible } from '../util.js';

export function render(main) {
  const out = h('div', {}, infoBox('Loading…'));
  mount(main, h('h1', {}, 'Rules'), out);
  api('api/v1/rules')
    .then((d) => {
      const groups = d.groups || [];
      if (!groups.length) return mount(out, infoBox('No rule groups are loaded.'));
      mount(
        out,
        groups.map((g) =>
          collapsible(
            `${g.name}`,
            h(
              'div',
              {},
              h('p', { class: 'muted small' }, `${g.file} · every ${humanSeconds(g.interval || 0)} · last evaluation ${ago(g.lastEvaluation)} · took ${humanSeconds(g.evaluationTime || 0)}`),
              h(
                'div',
                { class: 'scroll' },
                h(
                  'table',
                  { class: 'data' },
                  h('thead', {}, h('tr', {}, ['Rule', 'State', 'Error', 'Last evaluation', 'Duration'].map((c) => h('th', { scope: 'col' }, c)))),
                  h('tbody', {}, (g.rules || []).map(ruleRow)),
                ),
              ),
            ),
          ),
        ),
      );
    })
    .catch((e) => mount(out, errorBox(e.message)));
}

function ruleRow(r) {
  const def = r.type === 'alerting'
    ? [h('div', {}, h('b', {}, 'alert: '), r.name), h('div', {}, h('b', {}, 'expr: '), h('code', {}, r.query)), r.duration ? h('div', {}, h('b', {}, 'for: '), humanSeconds(r.duration)) : null, Object.keys(r.labels || {}).length ? h('div', {}, h('b', {}, 'labels: '), labelChips(r.labels)) : null]
    : [h('div', {}, h('b', {}, 'record: '), r.name), h('div', {}, h('b', {}, 'expr: '), h('code', {}, r.query)), Object.keys(r.labels || {}).length ? h('div', {}, h('b', {}, 'labels: '), labelChips(r.labels)) : null];
  return h(
    'tr',
    { class: 'rule' },
    h('td', { class: 'ruledef' }, def),
    h('td', {}, badge(r.health || 'unknown')),
    h('td', { class: 'err' }, r.lastError || ''),
    h('td', { title: r.lastEvaluation }, ago(r.lastEvaluation)),
    h('td', { class: 'num' }, humanSeconds(r.evaluationTime || 0)),
  );
}
