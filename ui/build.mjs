// Bundles src/ into dist/ (committed, embedded by crates/web-ui).
// Deterministic: the same sources give byte-identical files, so
// check-dist.sh can compare. Asset URLs in index.html carry ?v=<hash>
// so the server may cache them for good.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
// UI_DIST_OUT lets check-dist.sh build elsewhere and compare.
const dist = process.env.UI_DIST_OUT || join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await esbuild.build({
  entryPoints: [join(root, 'src/main.js')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  legalComments: 'none',
  logLevel: 'warning',
});
await esbuild.build({
  entryPoints: [join(root, 'src/app.css')],
  outfile: join(dist, 'app.css'),
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
writeFileSync(join(dist, 'uPlot.min.css'), readFileSync(join(root, 'node_modules/uplot/dist/uPlot.min.css')));
writeFileSync(join(dist, 'favicon.svg'), readFileSync(join(root, 'src/favicon.svg')));

const hash = (f) => createHash('sha256').update(readFileSync(join(dist, f))).digest('hex').slice(0, 12);
let html = readFileSync(join(root, 'src/index.html'), 'utf8');
for (const f of ['app.js', 'app.css', 'uPlot.min.css', 'favicon.svg']) {
  html = html.replaceAll(`"${f}"`, `"${f}?v=${hash(f)}"`);
}
writeFileSync(join(dist, 'index.html'), html);

let total = 0;
for (const f of readdirSync(dist).sort()) {
  const n = readFileSync(join(dist, f)).length;
  total += n;
  console.log(`${f.padEnd(16)} ${(n / 1024).toFixed(1).padStart(7)} KiB`);
}
console.log(`${'total'.padEnd(16)} ${(total / 1024).toFixed(1).padStart(7)} KiB`);
