// Dashboards list (GET /api/v1/dashboards).
import { h, api, mount, errorBox, infoBox, field } from '../util.js';

export function render(main) {
  const out = h('div', {}, infoBox('Loading…'));
  const search = h('input', { type: 'search', placeholder: 'title or tag' });
  mount(main, h('h1', {}, 'Dashboards'), field('Search dashboards', search), out);
  let list = [];
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = list.filter((d) => !q || d.title.toLowerCase().includes(q) || (d.tags || []).some((t) => t.toLowerCase().includes(q)));
    if (!list.length) return mount(out, infoBox('No dashboards. Start Watchfire with --dashboards.dir pointing at a folder of Grafana dashboard JSON files.'));
    mount(out, h('ul', { class: 'dashlist' }, shown.map((d) => h('li', {}, h('a', { href: d.url }, d.title), ' ', (d.tags || []).map((t) => h('span', { class: 'chip' }, t))))));
  };
  search.addEventListener('input', draw);
  api('api/v1/dashboards')
    .then((d) => { list = d || []; draw(); })
    .catch((e) => mount(out, errorBox(e.message)));
}
