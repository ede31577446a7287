// Entry point: a tiny history-API router over the pages.
import { base, h, mount, errorBox } from './util.js';
import * as query from './pages/query.js';
import * as targets from './pages/targets.js';
import * as rules from './pages/rules.js';
import * as alerts from './pages/alerts.js';
import * as silences from './pages/silences.js';
import * as historyPage from './pages/history.js';
import * as status from './pages/status.js';
import * as dashboards from './dash/list.js';
import * as dashboard from './dash/dashboard.js';

const routes = [
  [/^(query|graph)?$/, query, 'Query'],
  [/^targets$/, targets, 'Targets'],
  [/^rules$/, rules, 'Rules'],
  [/^alerts$/, alerts, 'Alerts'],
  [/^silences$/, silences, 'Silences'],
  [/^history$/, historyPage, 'Notification history'],
  [/^status$/, status, 'Status'],
  [/^dashboards$/, dashboards, 'Dashboards'],
  [/^d\/([^/]+)(?:\/[^/]*)?$/, dashboard, 'Dashboard'],
];

let cleanup = null;

function route() {
  const path = decodeURIComponent(location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname.replace(/^\//, '')).replace(/\/$/, '');
  const main = document.getElementById('main');
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's teardown must not block navigation */
    }
    cleanup = null;
  }
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href');
    const active = path === target || (target === 'query' && (path === '' || path === 'graph')) || (target === 'dashboards' && path.startsWith('d/'));
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const [re, page, title] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    document.title = `${title} - Watchfire`;
    mount(main);
    main.dataset.page = title.toLowerCase();
    try {
      cleanup = page.render(main, new URLSearchParams(location.search), m.slice(1)) || null;
    } catch (e) {
      mount(main, errorBox(e.message));
    }
    return;
  }
  document.title = 'Not found - Watchfire';
  mount(main, h('h1', {}, 'Not found'), h('p', {}, `No page at /${path}.`));
}

/** Navigates within the app (pushState); `replace` edits the current entry. */
export function navigate(to, replace = false) {
  const u = new URL(to, document.baseURI);
  if (replace) history.replaceState(null, '', u);
  else history.pushState(null, '', u);
  route();
}

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
  const u = new URL(a.href, document.baseURI);
  if (u.origin !== location.origin || !u.pathname.startsWith(base) || u.pathname.startsWith(base + 'api/')) return;
  e.preventDefault();
  document.getElementById('nav').classList.remove('open');
  navigate(u.href);
  document.getElementById('main').focus({ preventScroll: true });
});
window.addEventListener('popstate', route);
window.__wfNavigate = navigate;

const toggle = document.querySelector('.navtoggle');
toggle.addEventListener('click', () => {
  const nav = document.getElementById('nav');
  const open = nav.classList.toggle('open');
  toggle.setAttribute('aria-expanded', String(open));
});

route();
