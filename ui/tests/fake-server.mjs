// A tiny stand-in for Watchfire's HTTP server so the UI suite runs without
// the Rust binary: serves ui/dist, canned Prometheus API v1 and Alertmanager
// API v2 answers (same paths and JSON shapes), an in-memory silence store,
// and dashboards from tests/fixtures/dashboards.
//
//   node tests/fake-server.mjs [port]      # standalone, prints its URL
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, extname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const dashDir = process.env.FAKE_DASHBOARDS_DIR || join(here, 'fixtures', 'dashboards');

/** The series the fake store holds: labels and a value function of time (s). */
export const SERIES = [
  { labels: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' }, f: () => 1 },
  { labels: { __name__: 'up', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: () => 1 },
  { labels: { __name__: 'up', job: 'nats', instance: 'nats:8222' }, f: () => 0 },
  // The seeds' gauge: 1850 active connections is in the yellow band (1700..2000).
  { labels: { __name__: 'ws_connections_active', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: (t) => 1850 + 0 * t },
  { labels: { __name__: 'ws_messages_sent_total', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: (t) => 1e6 + 120 * (t % 86400) },
  { labels: { __name__: 'ws_messages_received_total', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: (t) => 5e5 + 60 * (t % 86400) },
  { labels: { __name__: 'ws_bytes_sent_total', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: (t) => 1e9 + 4096 * (t % 86400) },
  { labels: { __name__: 'ws_cpu_usage_percent', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: (t) => 42 + 5 * Math.sin(t / 300) },
  { labels: { __name__: 'ws_memory_bytes', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: () => 300 * 1024 * 1024 },
  { labels: { __name__: 'ws_goroutines_active', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: () => 57 },
  { labels: { __name__: 'http_requests_total', job: 'api', instance: 'api:8080', code: '200' }, f: (t) => 10 * t },
  { labels: { __name__: 'http_requests_total', job: 'api', instance: 'api:8080', code: '500' }, f: (t) => 0.1 * t },
  // Sparse: exported only in every other 15-minute half hour (null = no
  // sample), so a 15m step sees samples without neighbours.
  { labels: { __name__: 'ws_broadcast_batch_size', job: 'websocket-go-2', instance: 'ws-go-2:3002' }, f: (t) => (t % 1800 < 900 ? 64 : null) },
];

const NOW = () => Date.now() / 1000;
const ALERT_START = NOW() - 1800; // firing from 30 minutes before start-up

const RULE_ALERT = {
  labels: { alertname: 'HighConnections', severity: 'warning', job: 'websocket-go-2', instance: 'ws-go-2:3002' },
  annotations: { summary: 'Connections above 1700', description: 'ws-go-2 has 1850 active connections' },
};

function fmtNum(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (!isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/** A tiny "evaluator": unbalanced brackets are parse errors; otherwise the selectors' series. */
function evaluate(expr) {
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if ('({['.includes(c)) depth++;
    if (')}]'.includes(c)) depth--;
    if (depth < 0) return { error: `1:${i + 1}: parse error: unexpected right parenthesis ')'` };
  }
  if (depth > 0) return { error: `1:${expr.length + 1}: parse error: unclosed left parenthesis` };
  if (/^\s*$/.test(expr)) return { error: '1:1: parse error: no expression found in input' };
  if (/ALERTS/.test(expr)) {
    return { alerts: true };
  }
  const names = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)];
  for (const [, name, sel] of names) {
    const list = SERIES.filter((s) => s.labels.__name__ === name && matchSel(s.labels, sel));
    if (list.length) {
      const rate = /\b(rate|irate|increase)\s*\(/.test(expr);
      const series = list.map((s) => ({ labels: rate ? dropName(s.labels) : s.labels, f: rate ? (t) => Math.max((s.f(t) - s.f(t - 60)) / 60, 0) : s.f }));
      if (/^\s*(sum|count)\s*\(/.test(expr)) return { series: [{ labels: {}, f: (t) => series.reduce((a, s) => a + s.f(t), 0) }] };
      return { series };
    }
  }
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(expr)) return { scalar: parseFloat(expr) };
  return { series: [] };
}

const dropName = (l) => Object.fromEntries(Object.entries(l).filter(([k]) => k !== '__name__'));

function matchSel(labels, sel) {
  if (!sel) return true;
  for (const [, k, op, v] of sel.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
    const val = labels[k] ?? '';
    const want = v.replace(/\\(.)/g, '$1');
    let ok;
    if (op.includes('~')) {
      try { ok = new RegExp(`^(?:${want})$`).test(val); } catch { ok = false; }
    } else ok = val === want;
    if (op.startsWith('!') ? ok : !ok) return false;
  }
  return true;
}

function alertsMatrix(start, end, step) {
  const values = [];
  for (let t = start; t <= end; t += step) if (t >= ALERT_START && t <= ALERT_START + 1200) values.push([t, '1']);
  return values.length ? [{ metric: { __name__: 'ALERTS', alertstate: 'firing', ...RULE_ALERT.labels }, values }] : [];
}

function parseTime(s, def) {
  if (s === undefined || s === null || s === '') return def;
  if (/^-?\d+(\.\d+)?$/.test(s)) return parseFloat(s);
  const t = Date.parse(s);
  return isFinite(t) ? t / 1000 : NaN;
}

function parseStep(s) {
  if (/^\d+(\.\d+)?$/.test(s || '')) return parseFloat(s);
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s || '');
  if (!m) return NaN;
  return parseInt(m[1], 10) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

const ok = (data) => ({ status: 'success', data });
const bad = (res, msg, type = 'bad_data', code = 400) => send(res, code, { status: 'error', errorType: type, error: msg });

function send(res, code, body, type = 'application/json') {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
  res.end(text);
}

function slugify(s) {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
}

function dashboards() {
  if (!existsSync(dashDir)) return [];
  return readdirSync(dashDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const json = JSON.parse(readFileSync(join(dashDir, f), 'utf8'));
      const uid = json.uid || basename(f, '.json');
      const title = json.title || basename(f, '.json');
      return { uid, title, tags: json.tags || [], json: { ...json, uid, title } };
    });
}

// In-memory Alertmanager state.
const silences = new Map();
const acks = new Map(); // fingerprint -> {fingerprint, by, at, comment}
const history = [
  { time: new Date(Date.now() - 600e3).toISOString(), groupKey: '{}:{alertname="HighConnections"}', receiver: 'webhook', integration: 'webhook', index: 0, attempt: 1, outcome: 'success', error: '', retryable: false, durationMs: 12, firing: ['a1b2c3d4e5f60718'], resolved: [] },
  { time: new Date(Date.now() - 300e3).toISOString(), groupKey: '{}:{alertname="HighConnections"}', receiver: 'email', integration: 'email', index: 0, attempt: 2, outcome: 'failed', error: 'dial tcp: connection refused', retryable: true, durationMs: 3, firing: ['a1b2c3d4e5f60718'], resolved: [] },
];

function silenceState(s) {
  const now = Date.now();
  if (Date.parse(s.endsAt) <= now) return 'expired';
  if (Date.parse(s.startsAt) > now) return 'pending';
  return 'active';
}

const withStatus = (s) => ({ ...s, status: { state: silenceState(s) } });

function silencedBy(labels) {
  const out = [];
  for (const s of silences.values()) {
    if (silenceState(s) !== 'active') continue;
    const hit = s.matchers.every((m) => {
      const v = labels[m.name] ?? '';
      let okk = m.isRegex ? new RegExp(`^(?:${m.value})$`).test(v) : v === m.value;
      return m.isEqual === false ? !okk : okk;
    });
    if (hit) out.push(s.id);
  }
  return out;
}

function amAlerts() {
  const labels = RULE_ALERT.labels;
  const sb = silencedBy(labels);
  return [
    {
      labels,
      annotations: RULE_ALERT.annotations,
      startsAt: new Date(ALERT_START * 1000).toISOString(),
      endsAt: new Date(Date.now() + 240e3).toISOString(),
      updatedAt: new Date().toISOString(),
      generatorURL: '/graph?g0.expr=ws_connections_active+%3E+1700',
      fingerprint: 'a1b2c3d4e5f60718',
      receivers: [{ name: 'webhook' }],
      status: { state: sb.length ? 'suppressed' : 'active', silencedBy: sb, inhibitedBy: [], mutedBy: [] },
      ...(acks.has('a1b2c3d4e5f60718') ? { watchfireAck: acks.get('a1b2c3d4e5f60718') } : {}),
    },
  ];
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const STATIC_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const SPA = /^\/(|query|graph|targets|rules|alerts|silences|history|status|dashboards|d\/[^/]+(\/[^/]*)?)$/;

async function handle(req, res) {
  const u = new URL(req.url, 'http://x');
  const path = u.pathname;
  let params = u.searchParams;
  if (req.method === 'POST' && /x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
    const body = new URLSearchParams(await readBody(req));
    for (const [k, v] of params) body.append(k, v);
    params = body;
  }
  const all = (k) => params.getAll(k);

  if (SPA.test(path)) return send(res, 200, readFileSync(join(dist, 'index.html')), STATIC_TYPES['.html']);
  if (!path.startsWith('/api/')) {
    const file = join(dist, path.replace(/^\/+/, ''));
    if (file.startsWith(dist) && existsSync(file) && extname(file)) return send(res, 200, readFileSync(file), STATIC_TYPES[extname(file)] || 'application/octet-stream');
    return send(res, 404, '404 page not found', 'text/plain');
  }

  switch (true) {
    case path === '/api/v1/query': {
      const expr = params.get('query') || '';
      const t = parseTime(params.get('time'), NOW());
      if (!isFinite(t)) return bad(res, `invalid parameter "time": cannot parse "${params.get('time')}" to a valid timestamp`);
      const r = evaluate(expr);
      if (r.error) return bad(res, `invalid parameter "query": ${r.error}`);
      if (r.scalar !== undefined) return send(res, 200, ok({ resultType: 'scalar', result: [t, fmtNum(r.scalar)] }));
      if (r.alerts) return send(res, 200, ok({ resultType: 'vector', result: alertsMatrix(t, t, 1).map((s) => ({ metric: s.metric, value: s.values[0] })) }));
      return send(res, 200, ok({ resultType: 'vector', result: r.series.filter((s) => s.f(t) !== null).map((s) => ({ metric: s.labels, value: [t, fmtNum(s.f(t))] })) }));
    }
    case path === '/api/v1/query_range': {
      const expr = params.get('query') || '';
      const start = parseTime(params.get('start'));
      const end = parseTime(params.get('end'));
      const step = parseStep(params.get('step'));
      if (!isFinite(start)) return bad(res, 'invalid parameter "start": cannot parse "" to a valid timestamp');
      if (!isFinite(end)) return bad(res, 'invalid parameter "end": cannot parse "" to a valid timestamp');
      if (!(step > 0)) return bad(res, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
      if (end < start) return bad(res, 'invalid parameter "end": end timestamp must not be before start time');
      if ((end - start) / step > 11000) return bad(res, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      const r = evaluate(expr);
      if (r.error) return bad(res, `invalid parameter "query": ${r.error}`);
      if (r.alerts) return send(res, 200, ok({ resultType: 'matrix', result: alertsMatrix(start, end, step) }));
      const list = r.scalar !== undefined ? [{ labels: {}, f: () => r.scalar }] : r.series;
      const result = list.map((s) => {
        const values = [];
        for (let t = start; t <= end + 1e-9; t += step) if (s.f(t) !== null) values.push([Math.round(t * 1000) / 1000, fmtNum(s.f(t))]);
        return { metric: s.labels, values };
      }).filter((s) => s.values.length);
      return send(res, 200, ok({ resultType: 'matrix', result }));
    }
    case path === '/api/v1/series': {
      const m = all('match[]');
      if (!m.length) return bad(res, 'no match[] parameter provided');
      const out = SERIES.filter((s) => m.some((sel) => selects(s.labels, sel))).map((s) => s.labels);
      return send(res, 200, ok(out));
    }
    case path === '/api/v1/labels': {
      const m = all('match[]');
      const names = new Set();
      for (const s of SERIES) if (!m.length || m.some((sel) => selects(s.labels, sel))) Object.keys(s.labels).forEach((k) => names.add(k));
      return send(res, 200, ok([...names].sort()));
    }
    case /^\/api\/v1\/label\/[^/]+\/values$/.test(path): {
      const name = decodeURIComponent(path.split('/')[4]);
      const m = all('match[]');
      const vals = new Set();
      for (const s of SERIES) if ((!m.length || m.some((sel) => selects(s.labels, sel))) && s.labels[name] !== undefined) vals.add(s.labels[name]);
      return send(res, 200, ok([...vals].sort()));
    }
    case path === '/api/v1/metadata':
      return send(res, 200, ok({ ws_connections_active: [{ type: 'gauge', help: 'Current active connections', unit: '' }] }));
    case path === '/api/v1/targets': {
      const t = (pool, url, health, err) => ({
        discoveredLabels: { __address__: url.replace(/^https?:\/\/|\/metrics$/g, ''), __metrics_path__: '/metrics', __scheme__: 'http', job: pool },
        labels: { instance: url.replace(/^https?:\/\/|\/metrics$/g, ''), job: pool },
        scrapePool: pool, scrapeUrl: url, globalUrl: url, lastError: err, lastScrape: new Date(Date.now() - 4000).toISOString(),
        lastScrapeDuration: 0.0123, health, scrapeInterval: '15s', scrapeTimeout: '10s',
      });
      return send(res, 200, ok({
        activeTargets: [
          t('prometheus', 'http://localhost:9090/metrics', 'up', ''),
          t('websocket-go-2', 'http://ws-go-2:3002/metrics', 'up', ''),
          t('nats', 'http://nats:8222/metrics', 'down', 'Get "http://nats:8222/metrics": dial tcp: connection refused'),
        ],
        droppedTargets: [],
        droppedTargetCounts: { prometheus: 0, 'websocket-go-2': 0, nats: 0 },
      }));
    }
    case path === '/api/v1/rules': {
      const type = params.get('type');
      const alerting = {
        state: 'firing', name: 'HighConnections', query: 'ws_connections_active > 1700', duration: 60, keepFiringFor: 0,
        labels: { severity: 'warning' }, annotations: { summary: 'Connections above 1700' },
        alerts: [{ ...RULE_ALERT, state: 'firing', activeAt: new Date(ALERT_START * 1000).toISOString(), value: '1.85e+03' }],
        health: 'ok', evaluationTime: 0.000412, lastEvaluation: new Date(Date.now() - 5000).toISOString(), type: 'alerting',
      };
      const quiet = { state: 'inactive', name: 'NatsDisconnected', query: 'ws_nats_connected == 0', duration: 30, keepFiringFor: 0, labels: { severity: 'critical' }, annotations: {}, alerts: [], health: 'ok', evaluationTime: 0.0002, lastEvaluation: new Date(Date.now() - 5000).toISOString(), type: 'alerting' };
      const recording = { name: 'job:ws_connections_active:sum', query: 'sum by (job) (ws_connections_active)', labels: {}, health: 'ok', evaluationTime: 0.0003, lastEvaluation: new Date(Date.now() - 5000).toISOString(), type: 'recording' };
      let rules = [alerting, quiet, recording];
      if (type === 'alert') rules = rules.filter((r) => r.type === 'alerting');
      if (type === 'record') rules = rules.filter((r) => r.type === 'recording');
      return send(res, 200, ok({ groups: [{ name: 'websocket', file: '/etc/watchfire/rules/websocket.yml', rules, interval: 15, limit: 0, evaluationTime: 0.001, lastEvaluation: new Date(Date.now() - 5000).toISOString() }] }));
    }
    case path === '/api/v1/alerts':
      return send(res, 200, ok({ alerts: [{ ...RULE_ALERT, state: 'firing', activeAt: new Date(ALERT_START * 1000).toISOString(), value: '1.85e+03' }] }));
    case path === '/api/v1/status/buildinfo':
      return send(res, 200, ok({ version: '0.1.0', revision: 'fake', branch: 'main', buildUser: 'test', buildDate: '20260101-00:00:00', goVersion: 'rustc 1.95' }));
    case path === '/api/v1/status/runtimeinfo':
      return send(res, 200, ok({ startTime: new Date(Date.now() - 3600e3).toISOString(), CWD: '/var/lib/watchfire/deployments/production-eu-west-1/working-directory', reloadConfigSuccess: true, lastConfigTime: new Date().toISOString(), corruptionCount: 0, goroutineCount: 1, GOMAXPROCS: 2, GOMEMLIMIT: 0, GOGC: '', GODEBUG: '', storageRetention: '15d' }));
    case path === '/api/v1/status/flags':
      // Real flag sets hold long unbreakable values (paths, URLs, feature lists).
      return send(res, 200, ok({
        'config.file': '/var/lib/watchfire/deployments/production-eu-west-1/config/prometheus-with-all-the-scrape-jobs.yml',
        'dashboards.dir': dashDir,
        'enable-feature': 'promql-experimental-functions,promql-duration-expr,native-histograms,created-timestamp-zero-ingestion',
        'query.lookback-delta': '5m',
        'storage.tsdb.path': '/var/lib/watchfire/deployments/production-eu-west-1/data/tsdb-with-a-long-directory-name',
        'storage.tsdb.retention.time': '15d',
        'storage.tsdb.wal-sync-interval': '1s',
        'web.external-url': 'https://watchfire.monitoring.production-eu-west-1.internal.example.com/prometheus-compatible-ui/',
      }));
    case path === '/api/v1/status/config':
      // As the real one prints it: every default spelled out, some long lines.
      return send(res, 200, ok({ yaml: [
        'global:', '  scrape_interval: 15s', '  scrape_timeout: 10s', '  external_labels:', '    environment: production-eu-west-1-with-a-long-environment-label-value',
        'rule_files:', '- /var/lib/watchfire/deployments/production-eu-west-1/config/rules/websocket-alerting-and-recording-rules.yml',
        'scrape_configs:', '- job_name: websocket-go-2', '  scrape_protocols:', '  - OpenMetricsText1.0.0', '  - PrometheusText0.0.4',
        '  metric_name_validation_scheme: utf8', '  metric_name_escaping_scheme: allow-utf-8', '  static_configs:', '  - targets: [ws-go-2:3002]',
        '  relabel_configs:', '  - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape_with_long_suffix]', '    regex: "true"', '    action: keep', '',
      ].join('\n') }));
    case path === '/api/v1/status/tsdb':
      return send(res, 200, ok({
        headStats: { numSeries: SERIES.length, numLabelPairs: 20, chunkCount: 40, minTime: Date.now() - 3600e3, maxTime: Date.now() },
        // Histogram bucket names and label pairs are long and unbreakable.
        seriesCountByMetricName: [{ name: 'websocket_message_processing_duration_seconds_bucket', value: 28 }, { name: 'up', value: 3 }, { name: 'http_requests_total', value: 2 }],
        labelValueCountByLabelName: [{ name: '__name__', value: 10 }, { name: 'instance', value: 5 }],
        memoryInBytesByLabelName: [{ name: '__name__', value: 3102 }, { name: 'instance', value: 1410 }],
        seriesCountByLabelValuePair: [{ name: '__name__=websocket_message_processing_duration_seconds_bucket', value: 28 }, { name: 'job=websocket-go-2', value: 8 }],
      }));
    case path === '/api/v1/dashboards': {
      const list = dashboards().map((d) => ({ title: d.title, uid: d.uid, url: `/d/${d.uid}/${slugify(d.title)}`, tags: d.tags }));
      list.sort((a, b) => a.title.toLowerCase().localeCompare(b.title.toLowerCase()));
      return send(res, 200, ok(list));
    }
    case /^\/api\/v1\/dashboards\/[^/]+$/.test(path): {
      const uid = decodeURIComponent(path.split('/')[4]);
      const d = dashboards().find((x) => x.uid === uid);
      if (!d) return send(res, 404, { status: 'error', errorType: 'not_found', error: `dashboard "${uid}" not found` });
      return send(res, 200, ok(d.json));
    }
    // Alertmanager API v2.
    case path === '/api/v2/status':
      return send(res, 200, { cluster: { status: 'disabled', peers: [] }, versionInfo: { version: '0.1.0', revision: 'fake' }, config: { original: 'route:\n  receiver: webhook\nreceivers:\n- name: webhook\n  webhook_configs:\n  - url: https://alert-sink.monitoring.production-eu-west-1.internal.example.com/api/v1/alerts/webhook\n' }, uptime: new Date(Date.now() - 3600e3).toISOString() });
    case path === '/api/v2/receivers':
      return send(res, 200, [{ name: 'webhook' }, { name: 'email' }]);
    case path === '/api/v2/alerts' && req.method === 'GET':
      return send(res, 200, amAlerts());
    case path === '/api/v2/alerts/groups':
      return send(res, 200, [{ labels: { alertname: 'HighConnections' }, receiver: { name: 'webhook' }, alerts: amAlerts() }]);
    case path === '/api/v2/silences' && req.method === 'GET':
      return send(res, 200, [...silences.values()].map(withStatus));
    case path === '/api/v2/silences' && req.method === 'POST': {
      let s;
      try { s = JSON.parse(await readBody(req)); } catch (e) { return send(res, 400, `invalid JSON: ${e.message}`, 'application/json'); }
      if (!Array.isArray(s.matchers) || !s.matchers.length) return send(res, 400, '"silence invalid: at least one matcher required"');
      if (!s.createdBy || !s.comment) return send(res, 400, '"silence invalid: missing createdBy or comment"');
      if (!(Date.parse(s.endsAt) > Date.parse(s.startsAt))) return send(res, 400, '"silence invalid: end time must not be before start time"');
      const id = s.id && silences.has(s.id) ? s.id : randomUUID();
      silences.set(id, { id, matchers: s.matchers, startsAt: s.startsAt, endsAt: s.endsAt, createdBy: s.createdBy, comment: s.comment, updatedAt: new Date().toISOString() });
      return send(res, 200, { silenceID: id });
    }
    case /^\/api\/v2\/silence\/[^/]+$/.test(path): {
      const id = decodeURIComponent(path.split('/')[4]);
      const s = silences.get(id);
      if (!s) return send(res, 404, `"silence ${id} not found"`);
      if (req.method === 'DELETE') {
        if (silenceState(s) === 'expired') return send(res, 400, `"silence ${id} already expired"`);
        s.endsAt = new Date().toISOString();
        return send(res, 200, '');
      }
      return send(res, 200, withStatus(s));
    }
    case path === '/api/v2/watchfire/acks':
      return send(res, 200, [...acks.values()]);
    case /^\/api\/v2\/watchfire\/acks\/[^/]+$/.test(path): {
      const fp = decodeURIComponent(path.split('/')[5]);
      if (req.method === 'DELETE') {
        if (!acks.delete(fp)) return send(res, 404, `"alert ${fp} is not acknowledged"`);
        return send(res, 200, '');
      }
      if (req.method !== 'POST') return send(res, 405, '');
      if (!amAlerts().some((a) => a.fingerprint === fp)) return send(res, 404, `"alert ${fp} not found"`);
      let body;
      try { body = JSON.parse((await readBody(req)) || '{}'); } catch (e) { return send(res, 400, JSON.stringify(`invalid body: ${e.message}`)); }
      if (!body.by) return send(res, 400, '"by is required"');
      const ack = { fingerprint: fp, by: body.by, at: new Date().toISOString(), comment: body.comment || '' };
      acks.set(fp, ack);
      return send(res, 200, ack);
    }
    case path === '/api/v2/watchfire/history':
      return send(res, 200, history);
    default:
      return bad(res, `unknown API path ${path}`, 'not_found', 404);
  }
}

/** True if a selector string (name{...} or {...}) selects these labels. */
function selects(labels, sel) {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{.*\})?\s*$/s.exec(sel);
  if (!m) return false;
  if (m[1] && labels.__name__ !== m[1]) return false;
  return matchSel(labels, m[2]);
}

/** Starts the server on 127.0.0.1 (port 0: any free one). Resolves to {url, close()}. */
export function start(port = 0) {
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, { status: 'error', errorType: 'internal', error: String(e && e.message) });
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await start(parseInt(process.argv[2] || '0', 10));
  console.log(`fake Watchfire listening on ${url}`);
}
