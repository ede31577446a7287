// Targets: active targets grouped by scrape pool, with health filter.
import { h, api, mount, errorBox, infoBox, labelChips, ago, humanSeconds, badge, collapsible, field } from '../util.js';

export function render(main, params) {
  const out = h('div', {}, infoBox('Loading…'));
  const healthSel = h('select', {}, ['all', 'unhealthy', 'up', 'down', 'unknown'].map((v) => h('option', { value: v, selected: params.get('health') === v }, v)));
  const search = h('input', { type: 'search', placeholder: 'labels, URL, error', value: params.get('search') || '' });
  mount(main, h('h1', {}, 'Targets'), h('div', { class: 'toolbar' }, field('Health', healthSel), field('Filter', search)), out);
  let data = null;
  const draw = () => {
    if (!data) return;
    const q = search.value.trim().toLowerCase();
    const hf = healthSel.value;
    const pools = new Map();
    for (const t of data.activeTargets || []) {
      if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
      pools.get(t.scrapePool).push(t);
    }
    if (!pools.size) return mount(out, infoBox('No active targets.'));
    const sections = [];
    for (const [pool, all] of [...pools].sort((a, b) => a[0].localeCompare(b[0]))) {
      const up = all.filter((t) => t.health === 'up').length;
      const shown = all.filter((t) => {
        if (hf === 'unhealthy' && t.health === 'up') return false;
        if (hf !== 'all' && hf !== 'unhealthy' && t.health !== hf) return false;
        if (!q) return true;
        return [t.scrapeUrl, t.lastError, ...Object.entries(t.labels || {}).map(([k, v]) => `${k}="${v}"`)].join(' ').toLowerCase().includes(q);
      });
      if (!shown.length) continue;
      const table = h(
        'table',
        { class: 'data' },
        h('thead', {}, h('tr', {}, ['Endpoint', 'State', 'Labels', 'Last scrape', 'Duration', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          shown.map((t) =>
            h(
              'tr',
              { class: `target ${t.health}` },
              h('td', {}, h('a', { href: t.scrapeUrl, rel: 'noopener' }, t.scrapeUrl)),
              h('td', {}, badge(t.health)),
              h('td', {}, labelChips(t.labels), h('details', {}, h('summary', {}, 'discovered labels'), labelChips(t.discoveredLabels))),
              h('td', { title: t.lastScrape }, ago(t.lastScrape), t.scrapeInterval ? h('div', { class: 'muted small' }, `every ${t.scrapeInterval}`) : null),
              h('td', { class: 'num' }, humanSeconds(t.lastScrapeDuration || 0)),
              h('td', { class: 'err' }, t.lastError || ''),
            ),
          ),
        ),
      );
      sections.push(collapsible(`${pool} (${up}/${all.length} up)`, h('div', { class: 'scroll' }, table), true));
    }
    mount(out, sections.length ? sections : infoBox('No targets match the filter.'));
  };
  healthSel.addEventListener('change', draw);
  search.addEventListener('input', draw);
  api('api/v1/targets', { state: 'active' })
    .then((d) => { data = d; draw(); })
    .catch((e) => mount(out, errorBox(e.message)));
}
