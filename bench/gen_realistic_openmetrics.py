#!/usr/bin/env python3
"""A realistic backfill file, as the storage issue describes one: counters growing by
integers, gauges with a few significant digits, a classic histogram, regular 15 s
timestamps. Deterministic (seeded). Same two outputs as gen_fleet_openmetrics.py.

Usage: gen_realistic_openmetrics.py --instances 4 --hours 10 --out /tmp/realistic
"""
import argparse
import math
import random

BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
CODES = ["200", "404", "500"]
METHODS = ["GET", "POST"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--hours", type=float, default=10)
    ap.add_argument("--interval", type=int, default=15)
    ap.add_argument("--start", type=int, default=1_700_000_000 + 86_400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="/tmp/realistic")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    steps = int(a.hours * 3600 // a.interval)
    series = {}  # key -> list of values (strings)

    def add(key, values):
        series[key] = values

    for i in range(a.instances):
        inst = f'instance="app-{i}:8080",job="api"'
        for m in METHODS:
            for c in CODES:
                rate = {"200": 40, "404": 3, "500": 0.5}[c] * (2 if m == "GET" else 1) * rng.uniform(0.5, 1.5)
                total, vals = rng.randint(0, 10_000), []
                for k in range(steps):
                    wobble = 1 + 0.4 * math.sin(k / 240 + i)
                    total += max(0, int(rng.gauss(rate * wobble * a.interval / 15, math.sqrt(rate) + 0.5)))
                    vals.append(str(total))
                add(f'http_requests_total{{{inst},method="{m}",code="{c}"}}', vals)
        # Gauges with a few significant digits.
        temp, mem, load, conns = 40.0, 512.0, 0.5, 100
        tv, mv, lv, cv, rv = [], [], [], [], []
        for k in range(steps):
            temp = round(min(90, max(20, temp + rng.choice([-0.5, 0, 0, 0.5]))), 1)
            mem = round(min(2048, max(128, mem + rng.choice([-4, 0, 0, 0, 4, 8]))), 0)
            load = round(min(4, max(0, load + rng.gauss(0, 0.05))), 2)
            conns = max(0, conns + rng.randint(-3, 3))
            tv.append(f"{temp:g}")
            mv.append(f"{mem * 1048576:.0f}")
            lv.append(f"{load:g}")
            cv.append(str(conns))
            rv.append("1")
        add(f"node_temperature_celsius{{{inst}}}", tv)
        add(f"process_resident_memory_bytes{{{inst}}}", mv)
        add(f"node_load1{{{inst}}}", lv)
        add(f"websocket_connections_active{{{inst}}}", cv)
        add(f"up{{{inst}}}", rv)
        # A classic histogram: integer bucket counts, _sum with millisecond precision.
        counts = [0] * len(BUCKETS)
        total_sum = 0.0
        cols = [[] for _ in BUCKETS]
        sums, cnts = [], []
        bounds = [float(b) for b in BUCKETS[:-1]] + [math.inf]
        for k in range(steps):
            n = max(0, int(rng.gauss(30, 6)))
            for _ in range(n):
                d = round(rng.lognormvariate(math.log(0.08), 0.9), 3)
                total_sum = round(total_sum + d, 3)
                for j, b in enumerate(bounds):
                    if d <= b:
                        counts[j] += 1
            for j in range(len(BUCKETS)):
                cols[j].append(str(counts[j]))
            sums.append(f"{total_sum:.3f}")
            cnts.append(str(counts[-1]))
        for j, b in enumerate(BUCKETS):
            add(f'http_request_duration_seconds_bucket{{{inst},le="{b}"}}', cols[j])
        add(f"http_request_duration_seconds_sum{{{inst}}}", sums)
        add(f"http_request_duration_seconds_count{{{inst}}}", cnts)

    n = 0
    with open(a.out + ".om", "w") as om, open(a.out + ".prom", "w") as prom:
        for key, vals in series.items():
            for k, v in enumerate(vals):
                ts = a.start + k * a.interval
                om.write(f"{key} {v} {ts}\n")
                prom.write(f"{key} {v} {ts * 1000}\n")
                n += 1
        om.write("# EOF\n")
    print(f"{n} samples, {len(series)} series, {steps} steps")


if __name__ == "__main__":
    main()
