#!/usr/bin/env python3
"""Render the peers' synthetic fleet (../shared/peers/targets.py) over a time range
into backfill files, so Watchfire, promtool and VictoriaMetrics ingest identical data.

Writes  OUT.om   OpenMetrics text, timestamps in seconds, ending in '# EOF'
        OUT.prom Prometheus text, timestamps in milliseconds (VictoriaMetrics import)
Usage: gen_fleet_openmetrics.py --targets 4 --series 1000 --hours 6 --interval 15 --out /tmp/fleet
"""
import argparse
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.environ.get("PEERS", os.path.join(HERE, "..", "..", "shared", "peers"))


def load_targets_module():
    spec = importlib.util.spec_from_file_location("targets", os.path.join(PEERS, "targets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=4)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=6)
    ap.add_argument("--interval", type=int, default=15)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--start", type=int, default=1_700_000_000 + 86_400)
    ap.add_argument("--out", default="/tmp/fleet")
    a = ap.parse_args()
    t = load_targets_module()
    targs = argparse.Namespace(series=a.series, hist_frac=0.2, gauge_frac=0.4, handlers=50,
                               codes=5, extra_labels=2, seed=a.seed)
    fleet = [t.Target(i, targs) for i in range(a.targets)]
    steps = int(a.hours * 3600 // a.interval)
    samples = 0
    # OpenMetrics wants each metric family contiguous, so write series-major per target:
    # render every step once, then emit per series line in time order.
    rendered = {}
    with open(a.out + ".om", "w") as om, open(a.out + ".prom", "w") as prom:
        for ti, tgt in enumerate(fleet):
            inst = f'instance="127.0.0.1:{19100 + ti}",job="fleet"'
            per_series = {}
            order = []
            for k in range(steps):
                ts = a.start + k * a.interval
                for line in tgt.render(ts).decode().splitlines():
                    if not line or line[0] == "#":
                        continue
                    key, _, val = line.rpartition(" ")
                    if key not in per_series:
                        per_series[key] = []
                        order.append(key)
                    per_series[key].append((ts, val))
            for key in order:
                name, _, rest = key.partition("{")
                lbl = "{" + inst + "," + rest if rest else "{" + inst + "}"
                for ts, val in per_series[key]:
                    om.write(f"{name}{lbl} {val} {ts}\n")
                    prom.write(f"{name}{lbl} {val} {ts * 1000}\n")
                    samples += 1
        om.write("# EOF\n")
    print(f"{samples} samples, {sum(len(x) for x in [order])} series per target, steps {steps}", file=sys.stderr)


if __name__ == "__main__":
    main()
