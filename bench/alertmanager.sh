#!/usr/bin/env bash
# Alertmanager throughput side by side: the real Alertmanager 0.25 (prometheus-alertmanager)
# against Watchfire's embedded Alertmanager (the `watchfire` binary with
# --alertmanager.config.file). Prints alerts ingested per second and webhook notifications
# per second for both, and the ratios. Loopback only, ports 19310-19312 by default.
#
# Usage: bench/alertmanager.sh [driver options, see bench/alertmanager_bench.py --help]
# Env: NO_BUILD=1 skips `cargo build --release -p watchfire`; WATCHFIRE_BIN overrides the
#      binary path.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${NO_BUILD:-0}" != 1 && -z "${WATCHFIRE_BIN:-}" ]]; then
  cargo build --release -p watchfire
fi
exec python3 bench/alertmanager_bench.py --wf-bin "${WATCHFIRE_BIN:-target/release/watchfire}" "$@"
