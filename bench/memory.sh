#!/usr/bin/env bash
# Resident memory per active series and CPU per 1k samples ingested, side by side on
# loopback: Watchfire next to Prometheus 2.42 and VictoriaMetrics 1.79, all three fed
# the same synthetic exporter fleet (/work/shared/peers/targets.py).
#
# The peers scrape the fleet themselves (shared/peers/run_peers.sh, Alertmanager off).
# Watchfire cannot scrape yet, so bench/memory.py "push" emulates a scraper for it: per
# target and INTERVAL it GETs /metrics, adds job/instance labels and the interval-aligned
# timestamp (ms), adds the up/scrape_* series the peers synthesise, and POSTs the body
# to /api/v1/import/prometheus (one transaction per scrape). The pusher is measured as
# its own process, so its CPU is not in Watchfire's figures (shown separately too).
# After WARMUP seconds, memory.py "measure" samples /proc/PID/{stat,status} (VmRSS,
# RssAnon, utime+stime) and each system's /metrics over DURATION seconds:
#   series:  prometheus_tsdb_head_series (Watchfire, Prometheus),
#            vm_cache_entries{type="storage/hour_metric_ids"} (VictoriaMetrics)
#   samples: prometheus_tsdb_head_samples_appended_total{type="float"} (Watchfire, Prometheus),
#            vm_rows_inserted_total{type="promscrape"} (VictoriaMetrics)
# Prints a markdown table with Watchfire/Prometheus and Watchfire/VictoriaMetrics ratios
# (also saved as ${OUT%.json}.md) and writes JSON to OUT. Everything started here is
# stopped on exit by PID (run_peers.sh stop for the peers). The 2-core box is shared by
# the fleet, three systems and the pusher: absolute CPU is inflated, compare ratios.
#
# Env: TARGETS=20 SERIES=5000 INTERVAL=5s (s or m) WARMUP=60 DURATION=120
#      OUT=/tmp/wf-memory.json WORK=/tmp/wf-memory-bench WF_PORT=19190 BASE_PORT=19100
#      JOB=fake (the peers' scrape job_name, so all three store identical label sets)
# Example: TARGETS=20 SERIES=5000 INTERVAL=5s bench/memory.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/.."
PEERS="${PEERS:-$(cd "$ROOT/../shared/peers" && pwd)}"
export TARGETS="${TARGETS:-20}" SERIES="${SERIES:-5000}" INTERVAL="${INTERVAL:-5s}"
export BASE_PORT="${BASE_PORT:-19100}" WITH_AM=0 WITH_PROM=1 WITH_VM=1 START_TARGETS=1 FRESH=1
WARMUP="${WARMUP:-60}" DURATION="${DURATION:-120}" OUT="${OUT:-/tmp/wf-memory.json}"
WORK="${WORK:-/tmp/wf-memory-bench}" WF_PORT="${WF_PORT:-19190}" JOB="${JOB:-fake}"
export PEERS_DIR="$WORK/peers"
case "$INTERVAL" in
  *s) IV="${INTERVAL%s}" ;; *m) IV=$(( ${INTERVAL%m} * 60 )) ;;
  *) echo "INTERVAL must look like 5s or 1m" >&2; exit 2 ;;
esac
[[ "$WF_PORT" -ge 19000 && "$WF_PORT" -le 19999 ]] || { echo "WF_PORT outside 19000-19999" >&2; exit 2; }

command -v prometheus >/dev/null && command -v victoria-metrics >/dev/null || "$PEERS/install.sh"
(cd "$ROOT" && cargo build --release -q -p watchfire)
WF="$ROOT/target/release/watchfire"
rm -rf "$WORK" && mkdir -p "$WORK/wf-data" "$(dirname "$OUT")"

WF_PID="" PUSH_PID="" PEERS_STARTED=0
stop_pid() {  # stop_pid PID: SIGTERM, wait up to 60 s, then SIGKILL
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "pid $pid did not exit; SIGKILL" >&2; kill -KILL "$pid" 2>/dev/null || true; }
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  stop_pid "$PUSH_PID"
  stop_pid "$WF_PID"
  [[ "$PEERS_STARTED" == 1 ]] && "$PEERS/run_peers.sh" stop >"$WORK/peers-stop.log" 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PEERS_STARTED=1
"$PEERS/run_peers.sh" start >"$WORK/peers-start.log" 2>&1 || { cat "$WORK/peers-start.log" >&2; exit 1; }
"$WF" --storage.tsdb.path="$WORK/wf-data" --web.listen-address="127.0.0.1:$WF_PORT" \
  >"$WORK/watchfire.log" 2>&1 &
WF_PID=$!
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$WF_PORT/-/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$WF_PORT/-/ready" >/dev/null || { echo "watchfire not ready:" >&2; cat "$WORK/watchfire.log" >&2; exit 1; }
python3 "$HERE/memory.py" push --targets "$TARGETS" --base-port "$BASE_PORT" --interval "$IV" \
  --wf-port "$WF_PORT" --job "$JOB" --stats "$WORK/pusher.json" >"$WORK/pusher.log" 2>&1 &
PUSH_PID=$!

{ grep -E '^(targets|prometheus|victoria-metrics) ' "$PEERS_DIR/pids"
  echo "watchfire $WF_PID"; echo "pusher $PUSH_PID"; } > "$WORK/pids"
echo "started: $(tr '\n' ' ' < "$WORK/pids")(work dir $WORK)" >&2
python3 "$HERE/memory.py" measure --pids "$WORK/pids" --interval "$IV" --wf-port "$WF_PORT" \
  --warmup "$WARMUP" --duration "$DURATION" --stats "$WORK/pusher.json" --out "$OUT" \
  | tee "${OUT%.json}.md"
echo "$TARGETS targets x $SERIES series, INTERVAL=$INTERVAL; JSON: $OUT" | tee -a "${OUT%.json}.md"
