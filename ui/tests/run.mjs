// `npm test`: runs tests/*.test.mjs with node's test runner against
// WATCHFIRE_URL, or against tests/fake-server.mjs started here when unset.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const env = { ...process.env };
let fake = null;
if (!env.WATCHFIRE_URL) {
  const { start } = await import('./fake-server.mjs');
  fake = await start(0);
  env.WATCHFIRE_URL = fake.url;
  env.WATCHFIRE_FAKE = '1';
  console.log(`# WATCHFIRE_URL unset: using the fake server at ${fake.url}`);
}
const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(here, f));
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { stdio: 'inherit', env });
const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (fake) await fake.close();
process.exit(code);
