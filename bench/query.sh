#!/usr/bin/env bash
# Query latency side by side with Prometheus 2.42 on identical data: the synthetic
# fleet is backfilled into both (promtool / `watchfire tsdb import`), both servers are
# started on loopback, and each query_range is timed REPS times (median, via curl).
# Env: TARGETS=4 SERIES=1000 HOURS=6 INTERVAL=15 REPS=7 WORK=/tmp/wf-query-bench
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/.."
TARGETS="${TARGETS:-4}" SERIES="${SERIES:-1000}" HOURS="${HOURS:-6}" INTERVAL="${INTERVAL:-15}"
REPS="${REPS:-7}" WORK="${WORK:-/tmp/wf-query-bench}"
PROM_ADDR=127.0.0.1:19091 WF_ADDR=127.0.0.1:19191
rm -rf "$WORK" && mkdir -p "$WORK"
command -v promtool >/dev/null && command -v prometheus >/dev/null || "$ROOT/../shared/peers/install.sh"
(cd "$ROOT" && cargo build --release -q -p watchfire)
WF="$ROOT/target/release/watchfire"
python3 "$HERE/gen_fleet_openmetrics.py" --targets "$TARGETS" --series "$SERIES" --hours "$HOURS" \
  --interval "$INTERVAL" --out "$WORK/fleet" 2>/dev/null
promtool tsdb create-blocks-from openmetrics "$WORK/fleet.om" "$WORK/prom" >/dev/null
"$WF" tsdb import openmetrics "$WORK/fleet.om" "$WORK/wf" >/dev/null
"$WF" tsdb compact "$WORK/wf" >/dev/null 2>&1
printf 'global:\n  scrape_interval: 15s\n' > "$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --storage.tsdb.retention.time=100y --web.listen-address="$PROM_ADDR" >"$WORK/prom.log" 2>&1 &
PROM_PID=$!
"$WF" --storage.tsdb.path="$WORK/wf" --web.listen-address="$WF_ADDR" >"$WORK/wf.log" 2>&1 &
WF_PID=$!
trap 'kill $PROM_PID $WF_PID 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for addr in $PROM_ADDR $WF_ADDR; do
  for _ in $(seq 300); do curl -sf "http://$addr/-/ready" >/dev/null && break; sleep 0.2; done
done
python3 - "$PROM_ADDR" "$WF_ADDR" "$REPS" "$WORK/fleet.om" <<'PY'
import json, statistics, subprocess, sys, urllib.parse
prom, wf, reps, om = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(om) as f:
    first = f.readline().rsplit(" ", 1)[1]
start = int(first) + 1800
end = start + 4 * 3600
queries = [
    ("rate_sum_by", 'sum(rate(app_requests_total[1m])) by (code)'),
    ("hist_p99", 'histogram_quantile(0.99, sum(rate(app_request_duration_seconds_bucket[1m])) by (le))'),
    ("hist_p99_by_handler", 'histogram_quantile(0.99, sum(rate(app_request_duration_seconds_bucket[1m])) by (le, handler))'),
    ("topk_gauge", 'topk(10, app_queue_depth)'),
    ("avg_gauge_by_inst", 'avg(app_temperature_celsius) by (instance)'),
    ("count_all_app", 'count({__name__=~"app_.*"})'),
    ("ratio_errors", 'sum(rate(app_errors_total[5m])) / sum(rate(app_requests_total[5m]))'),
    ("max_over_time", 'max_over_time(app_memory_bytes[10m])'),
]
def timed(addr, q):
    url = f"http://{addr}/api/v1/query_range?" + urllib.parse.urlencode({"query": q, "start": start, "end": end, "step": 60})
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{http_code}", url], capture_output=True, text=True).stdout.split()
    if out[1] != "200":
        raise SystemExit(f"{addr} answered {out[1]} to {q}")
    return float(out[0])
rows, ratios = [], []
for name, q in queries:
    timed(prom, q); timed(wf, q)  # warm caches
    p = statistics.median(timed(prom, q) for _ in range(reps))
    w = statistics.median(timed(wf, q) for _ in range(reps))
    ratios.append(p / w)
    rows.append(f"| {name} | {p*1000:.1f} | {w*1000:.1f} | {p/w:.2f}x |")
print("| query (query_range, 4h, step 60s) | Prometheus 2.42 ms | Watchfire ms | speed-up |")
print("|---|---|---|---|")
print("\n".join(rows))
print(f"\nmedian speed-up {statistics.median(ratios):.2f}x, worst {min(ratios):.2f}x (median of {reps} runs each)")
PY
