#!/usr/bin/env bash
# Disk bytes per sample, side by side on identical data: Watchfire's backfill,
# promtool's backfill (Prometheus 2.42 blocks) and VictoriaMetrics 1.79 (import, then
# force flush + force merge). Watchfire is measured as backfilled and after its own
# compaction (`watchfire tsdb compact`), as VictoriaMetrics is after its merge. The data is the peers' synthetic fleet rendered over a
# time range (bench/gen_fleet_openmetrics.py). Losslessness is checked for Watchfire:
# every value read back must equal the input bit for bit.
# DATA=realistic uses bench/gen_realistic_openmetrics.py instead (integer counters,
# few-digit gauges, a classic histogram; TARGETS instances).
# Env: DATA=fleet TARGETS=4 SERIES=1000 HOURS=6 INTERVAL=15 WORK=/tmp/wf-disk-bench
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/.."
TARGETS="${TARGETS:-4}" SERIES="${SERIES:-1000}" HOURS="${HOURS:-6}" INTERVAL="${INTERVAL:-15}"
WORK="${WORK:-/tmp/wf-disk-bench}" DATA="${DATA:-fleet}"
VM_PORT=19428
rm -rf "$WORK" && mkdir -p "$WORK"
command -v promtool >/dev/null && command -v victoria-metrics >/dev/null || "$ROOT/../shared/peers/install.sh"
(cd "$ROOT" && cargo build --release -q -p watchfire)
WF="$ROOT/target/release/watchfire"

if [ "$DATA" = realistic ]; then
  python3 "$HERE/gen_realistic_openmetrics.py" --instances "$TARGETS" --hours "$HOURS" \
    --interval "$INTERVAL" --out "$WORK/fleet"
else
  python3 "$HERE/gen_fleet_openmetrics.py" --targets "$TARGETS" --series "$SERIES" --hours "$HOURS" \
    --interval "$INTERVAL" --out "$WORK/fleet"
fi
SAMPLES=$(grep -vc '^#' "$WORK/fleet.om")

"$WF" tsdb import openmetrics "$WORK/fleet.om" "$WORK/watchfire" >/dev/null
WF_BYTES=$(du -sb "$WORK/watchfire" | cut -f1)
# What a running server does within a minute of finding backfilled blocks.
cp -r "$WORK/watchfire" "$WORK/watchfire-compacted"
"$WF" tsdb compact "$WORK/watchfire-compacted" >/dev/null 2>&1
WFC_BYTES=$(du -sb "$WORK/watchfire-compacted" | cut -f1)

promtool tsdb create-blocks-from openmetrics "$WORK/fleet.om" "$WORK/prometheus" >/dev/null
PROM_BYTES=$(du -sb "$WORK/prometheus" | cut -f1)

victoria-metrics -storageDataPath="$WORK/vm" -httpListenAddr="127.0.0.1:$VM_PORT" -retentionPeriod=100y \
  -loggerLevel=ERROR >"$WORK/vm.log" 2>&1 &
VM_PID=$!
trap 'kill $VM_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$VM_PORT/health" >/dev/null && break; sleep 0.2; done
curl -sf --data-binary "@$WORK/fleet.prom" "http://127.0.0.1:$VM_PORT/api/v1/import/prometheus"
curl -sf "http://127.0.0.1:$VM_PORT/internal/force_flush" >/dev/null
sleep 2
for p in $(ls "$WORK/vm/data/small" 2>/dev/null); do
  curl -sf "http://127.0.0.1:$VM_PORT/internal/force_merge?partition_prefix=$p" >/dev/null || true
done
for _ in $(seq 120); do
  active=$(curl -sf "http://127.0.0.1:$VM_PORT/metrics" | awk '/^vm_active_merges/ {s+=$2} END {print s+0}')
  [ "$active" = 0 ] && break; sleep 1
done
sleep 3
VM_ROWS=$(curl -sf "http://127.0.0.1:$VM_PORT/metrics" | awk '/^vm_rows_added_to_storage_total/ {print $2}')
kill $VM_PID; wait $VM_PID 2>/dev/null || true
VM_BYTES=$(du -sb "$WORK/vm" | cut -f1)

# Lossless check: every sample read back (dump of the compacted store) equals the
# input bit for bit. Both sides are canonicalised to "labels time value-bits" lines
# and compared sorted, so memory stays flat whatever the size.
"$WF" tsdb dump "$WORK/watchfire-compacted" > "$WORK/watchfire.dump"
canon() { python3 "$HERE/canon_samples.py" "$1"; }
canon input < "$WORK/fleet.prom" | LC_ALL=C sort -S 1G > "$WORK/want.txt"
canon dump < "$WORK/watchfire.dump" | LC_ALL=C sort -S 1G > "$WORK/got.txt"
cmp -s "$WORK/want.txt" "$WORK/got.txt" || { echo "LOSSY: read-back differs (see $WORK/want.txt vs got.txt)" >&2; exit 1; }
echo "lossless: $(wc -l < "$WORK/got.txt") samples read back bit-exact" >&2

python3 - "$SAMPLES" "$WF_BYTES" "$WFC_BYTES" "$PROM_BYTES" "$VM_BYTES" "${VM_ROWS:-0}" <<'PY'
import sys
n, wf, wfc, prom, vm, vm_rows = (int(float(x)) for x in sys.argv[1:])
best = min(prom, vm)
print(f"| system | bytes | bytes/sample | vs best peer |")
print(f"|---|---|---|---|")
for name, b in (("Watchfire (backfilled 2h blocks)", wf), ("Watchfire (after its compaction)", wfc), ("Prometheus 2.42 (promtool backfill)", prom), ("VictoriaMetrics 1.79 (merged)", vm)):
    print(f"| {name} | {b} | {b/n:.3f} | {b/best:.2f}x |")
print(f"\n{n} samples; VictoriaMetrics counted {vm_rows} rows")
PY
