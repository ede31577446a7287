// Status: build and runtime information, flags, configuration, TSDB
// cardinality top lists, and the embedded Alertmanager's status.
import { h, api, mount, errorBox, infoBox, collapsible, fmtDate } from '../util.js';

function kvTable(obj) {
  return h('table', { class: 'data kv wrap' }, h('tbody', {}, Object.entries(obj || {}).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))))));
}

function topTable(title, rows, col) {
  if (!rows || !rows.length) return null;
  // Not `.top`: that class is the page header bar.
  return h('div', { class: 'toplist' }, h('h3', {}, title), h('table', { class: 'data wrap' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, col), h('th', { scope: 'col' }, 'Count'))), h('tbody', {}, rows.map((r) => h('tr', {}, h('td', { class: 'series' }, r.name), h('td', { class: 'num' }, String(r.value)))))));
}

function section(out, title, path, fn, open = true) {
  const body = h('div', {}, infoBox('Loading…'));
  out.append(collapsible(title, body, open));
  api(path).then((d) => mount(body, fn(d))).catch((e) => mount(body, errorBox(e.message)));
}

export function render(main) {
  const out = h('div');
  mount(main, h('h1', {}, 'Status'), out);
  section(out, 'Build information', 'api/v1/status/buildinfo', kvTable);
  section(out, 'Runtime information', 'api/v1/status/runtimeinfo', (d) => kvTable({ ...d, startTime: d.startTime ? `${d.startTime} (${fmtDate(Date.parse(d.startTime))})` : d.startTime }));
  section(out, 'TSDB status', 'api/v1/status/tsdb', (d) =>
    h(
      'div',
      {},
      kvTable(d.headStats || {}),
      h(
        'div',
        { class: 'tops' },
        topTable('Top series count by metric name', d.seriesCountByMetricName, 'Metric'),
        topTable('Top label names with value count', d.labelValueCountByLabelName, 'Label'),
        topTable('Top label names with high memory usage (bytes)', d.memoryInBytesByLabelName, 'Label'),
        topTable('Top series count by label value pairs', d.seriesCountByLabelValuePair, 'Pair'),
      ),
    ),
  );
  section(out, 'Command-line flags', 'api/v1/status/flags', kvTable, false);
  section(out, 'Configuration', 'api/v1/status/config', (d) => h('pre', { class: 'config' }, d.yaml || ''), false);
  section(out, 'Alertmanager', 'api/v2/status', (d) => (d ? h('div', {}, kvTable({ uptime: d.uptime, ...(d.versionInfo || {}), cluster: d.cluster ? d.cluster.status : undefined }), d.config && d.config.original ? h('pre', { class: 'config' }, d.config.original) : null) : infoBox('No Alertmanager status.')), false);
}
