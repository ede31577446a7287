#!/usr/bin/env bash
# End-to-end scrape cost (fetch + parse + relabel + append), Watchfire next to Prometheus 2.42,
# both scraping the same synthetic exporter fleet (shared/peers/targets.py) with the SAME
# scrape config file, in the same run.
#
# Both systems run scrape-only (no rules, no Alertmanager), so process CPU is scrape + TSDB
# work (plus each one's housekeeping: WAL, head GC, its own /metrics being read twice).
# After WARMUP seconds (series creation and the first chunks are done), the script reads
# each process's CPU time (utime+stime from /proc/PID/stat) and its samples counter
# prometheus_tsdb_head_samples_appended_total{type="float"} (same name in both /metrics)
# at the start and end of a DURATION-second window and prints:
#   samples/s ingested (and the fleet's expected rate), CPU cores used,
#   CPU-ns per sample for both, the Watchfire/Prometheus ratio (goal: <= 0.5), and
#   Watchfire's samples per CPU-core-second (goal: >= 1,000,000).
# The markdown table is also written to OUT (default /tmp/wf-scrape.md).
# Everything started here is stopped on exit by PID (SIGTERM, then SIGKILL after 60 s).
# The box is shared (2 cores, the Python fleet competes for CPU): compare the ratio; the
# per-sample figures count only each system's own CPU time, not wall time.
#
# Env: TARGETS=10 SERIES=10000 INTERVAL=5s (s only) WARMUP=30 DURATION=60
#      BASE_PORT=19300 PROM_PORT=19390 WF_PORT=19391 (all within 19000-19999)
#      WORK=/tmp/wf-scrape-bench OUT=/tmp/wf-scrape.md NO_BUILD=1 (skip cargo build)
#      PROM_BIN=/usr/bin/prometheus WITH_PROM=0 (Watchfire alone, no ratio)
# Example: TARGETS=10 SERIES=10000 INTERVAL=1s bench/scrape.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PEERS="${PEERS:-$(cd "$ROOT/../shared/peers" && pwd)}"
TARGETS="${TARGETS:-10}" SERIES="${SERIES:-10000}" INTERVAL="${INTERVAL:-5s}"
WARMUP="${WARMUP:-30}" DURATION="${DURATION:-60}"
BASE_PORT="${BASE_PORT:-19300}" PROM_PORT="${PROM_PORT:-19390}" WF_PORT="${WF_PORT:-19391}"
WORK="${WORK:-/tmp/wf-scrape-bench}" OUT="${OUT:-/tmp/wf-scrape.md}"
PROM_BIN="${PROM_BIN:-/usr/bin/prometheus}" WITH_PROM="${WITH_PROM:-1}"

die() { echo "scrape.sh: $*" >&2; exit 2; }
case "$INTERVAL" in *s) IV="${INTERVAL%s}" ;; *) die "INTERVAL must look like 5s" ;; esac
[[ "$IV" =~ ^[0-9]+$ && "$IV" -ge 1 ]] || die "bad INTERVAL $INTERVAL"
for p in "$BASE_PORT" $((BASE_PORT + TARGETS - 1)) "$PROM_PORT" "$WF_PORT"; do
  [[ "$p" -ge 19000 && "$p" -le 19999 ]] || die "port $p outside 19000-19999"
done
if [[ "$WITH_PROM" == 1 && ! -x "$PROM_BIN" ]]; then
  echo "scrape.sh: $PROM_BIN missing; running Watchfire alone (WITH_PROM=0)" >&2
  WITH_PROM=0
fi

if [[ "${NO_BUILD:-0}" != 1 ]]; then (cd "$ROOT" && cargo build --release -q -p watchfire); fi
WF="$ROOT/target/release/watchfire"
[[ -x "$WF" ]] || die "$WF not built"
rm -rf "$WORK" && mkdir -p "$WORK/wf-data" "$WORK/prom-data" "$(dirname "$OUT")"

# One scrape config for both: scrape-only, timeout = interval (capped at 10 s).
TIMEOUT="$INTERVAL"; [[ "$IV" -gt 10 ]] && TIMEOUT=10s
{
  echo "global:"
  echo "  scrape_interval: $INTERVAL"
  echo "  scrape_timeout: $TIMEOUT"
  echo "scrape_configs:"
  echo "  - job_name: fake"
  echo "    metrics_path: /metrics"
  echo "    static_configs:"
  echo "      - targets:"
  for ((i = 0; i < TARGETS; i++)); do echo "          - 127.0.0.1:$((BASE_PORT + i))"; done
} > "$WORK/scrape.yml"

FLEET_PID="" PROM_PID="" WF_PID=""
stop_pid() {  # stop_pid PID: SIGTERM, wait up to 60 s, then SIGKILL
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pid $pid did not exit; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  stop_pid "$WF_PID"
  stop_pid "$PROM_PID"
  stop_pid "$FLEET_PID"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() {  # wait_http URL SECONDS NAME LOG
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "scrape.sh: $3 not ready at $1; log:" >&2
  tail -n 30 "$4" >&2
  exit 1
}

python3 "$PEERS/targets.py" --targets "$TARGETS" --series "$SERIES" --base-port "$BASE_PORT" \
  --seed 42 >"$WORK/targets.log" 2>&1 &
FLEET_PID=$!
wait_http "http://127.0.0.1:$BASE_PORT/healthz" 60 fleet "$WORK/targets.log"
# Lines per scrape = samples per scrape (each non-comment line is one sample); the five
# series both systems add per scrape (up, scrape_*) come on top.
PER_SCRAPE=$(curl -fsS "http://127.0.0.1:$BASE_PORT/metrics" | grep -vc '^#' || true)

if [[ "$WITH_PROM" == 1 ]]; then
  "$PROM_BIN" --config.file="$WORK/scrape.yml" --storage.tsdb.path="$WORK/prom-data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=1d \
    >"$WORK/prometheus.log" 2>&1 &
  PROM_PID=$!
fi
"$WF" --config.file="$WORK/scrape.yml" --storage.tsdb.path="$WORK/wf-data" \
  --web.listen-address="127.0.0.1:$WF_PORT" --storage.tsdb.retention.time=1d \
  >"$WORK/watchfire.log" 2>&1 &
WF_PID=$!
[[ "$WITH_PROM" == 1 ]] && wait_http "http://127.0.0.1:$PROM_PORT/-/ready" 60 prometheus "$WORK/prometheus.log"
wait_http "http://127.0.0.1:$WF_PORT/-/ready" 60 watchfire "$WORK/watchfire.log"
echo "fleet pid=$FLEET_PID prometheus pid=${PROM_PID:-none} watchfire pid=$WF_PID; work dir $WORK" >&2

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # utime+stime of PID in clock ticks (fields 14, 15; comm may hold spaces)
  local s
  s="$(cat "/proc/$1/stat")" || { echo "scrape.sh: pid $1 gone" >&2; exit 1; }
  s="${s##*) }"
  awk '{print $12 + $13}' <<<"$s"
}
samples() {  # samples PORT: prometheus_tsdb_head_samples_appended_total{type="float"}
  curl -fsS --max-time 10 "http://127.0.0.1:$1/metrics" |
    awk '$1 == "prometheus_tsdb_head_samples_appended_total{type=\"float\"}" {printf "%.0f\n", $2; f=1}
         END {if (!f) print "NaN"}'
}
snap() {  # snap PID PORT -> "ticks samples"
  echo "$(cpu_ticks "$1") $(samples "$2")"
}

echo "warm-up ${WARMUP}s, then measuring ${DURATION}s ($TARGETS targets x $PER_SCRAPE samples every $INTERVAL)" >&2
sleep "$WARMUP"
T0=$(date +%s.%N)
W0=$(snap "$WF_PID" "$WF_PORT")
[[ "$WITH_PROM" == 1 ]] && P0=$(snap "$PROM_PID" "$PROM_PORT")
FL0=$(cpu_ticks "$FLEET_PID")
sleep "$DURATION"
W1=$(snap "$WF_PID" "$WF_PORT")
[[ "$WITH_PROM" == 1 ]] && P1=$(snap "$PROM_PID" "$PROM_PORT")
FL1=$(cpu_ticks "$FLEET_PID")
T1=$(date +%s.%N)

python3 - "$T0" "$T1" "$CLK_TCK" "$W0" "$W1" "${P0:-}" "${P1:-}" "$FL0" "$FL1" \
  "$TARGETS" "$PER_SCRAPE" "$IV" "$(nproc)" <<'EOF' | tee "$OUT"
import sys
t0, t1, tck = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
w0, w1, p0, p1 = (a.split() for a in sys.argv[4:8])
fl = (int(sys.argv[9]) - int(sys.argv[8])) / tck
targets, per, iv, ncpu = int(sys.argv[10]), int(sys.argv[11]), int(sys.argv[12]), int(sys.argv[13])
dt = t1 - t0
expect = targets * (per + 5) / iv

def fig(a, b):
    if not a:
        return None
    cpu = (int(b[0]) - int(a[0])) / tck
    n = float(b[1]) - float(a[1])
    return {"cpu": cpu, "n": n, "rate": n / dt, "cores": cpu / dt,
            "ns": cpu * 1e9 / n if n > 0 else float("nan"),
            "per_core": n / cpu if cpu > 0 else float("nan")}

W, P = fig(w0, w1), fig(p0, p1)
rows = [("samples/s ingested", "rate", "{:,.0f}"), ("CPU cores (avg)", "cores", "{:.3f}"),
        ("CPU-ns per sample", "ns", "{:,.0f}"),
        ("samples per CPU-core-second", "per_core", "{:,.0f}")]
print(f"window {dt:.0f}s; fleet: {targets} targets x {per} samples (+5 synthetic) every {iv}s "
      f"= {expect:,.0f} samples/s expected; fleet CPU {fl / dt:.2f} of {ncpu} cores")
print("| metric | watchfire | prometheus 2.42 |")
print("|---|---|---|")
for label, k, f in rows:
    print(f"| {label} | {f.format(W[k])} | {f.format(P[k]) if P else 'n/a'} |")
if P:
    ratio = W["ns"] / P["ns"]
    print(f"| CPU per sample, watchfire / prometheus | {ratio:.3f} | 1 |")
bad = [(n, s) for n, s in (("watchfire", W), ("prometheus", P)) if s and s["rate"] < 0.9 * expect]
for n, s in bad:
    print(f"WARNING: {n} ingested {s['rate']:,.0f}/s, below 90% of the expected {expect:,.0f}/s "
          f"(targets down, scrapes slow, or the box is saturated)")
print(f"goal: >= 1,000,000 samples per CPU-core-second: "
      f"{'MET' if W['per_core'] >= 1e6 else 'NOT met'} ({W['per_core']:,.0f})")
if P:
    print(f"goal: <= 0.5x Prometheus CPU per sample: {'MET' if ratio <= 0.5 else 'NOT met'} ({ratio:.3f})")
EOF
