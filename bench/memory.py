#!/usr/bin/env python3
"""Helper for bench/memory.sh (stdlib only). Two subcommands:

push     Emulates a scraper for Watchfire, which cannot scrape yet: every INTERVAL, for
         each fleet target (one thread each, start times spread over the interval like
         Prometheus' offsets), GET http://127.0.0.1:PORT/metrics, add job= and instance=
         to every sample line, append the scheduled scrape time (ms, aligned to the
         interval) and POST it to Watchfire's /api/v1/import/prometheus. Also writes the
         5 series Prometheus and VictoriaMetrics add per scrape (up, scrape_*), so all
         three systems hold the same series. Stats (pushes, errors, samples sent/accepted,
         missed ticks) go to --stats as JSON about once a second. Stops on SIGTERM.
measure  Sleeps --warmup, then over --duration samples /proc/PID/{stat,status} of each
         process in --pids ("name pid" lines) and each system's /metrics; prints a
         markdown table (RSS per active series, CPU-ms per 1k samples, ratios) and
         writes JSON to --out.
"""
import argparse, http.client, json, os, signal, statistics, sys, threading, time, urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
URLS = {"watchfire": None, "prometheus": "http://127.0.0.1:19090",
        "victoria-metrics": "http://127.0.0.1:19428"}
# (series count, samples-ingested counter) per system; the peers' as in shared/peers/measure.py
SERIES = {"watchfire": "prometheus_tsdb_head_series", "prometheus": "prometheus_tsdb_head_series",
          "victoria-metrics": 'vm_cache_entries{type="storage/hour_metric_ids"}'}
SAMPLES = {"watchfire": 'prometheus_tsdb_head_samples_appended_total{type="float"}',
           "prometheus": 'prometheus_tsdb_head_samples_appended_total{type="float"}',
           "victoria-metrics": 'vm_rows_inserted_total{type="promscrape"}'}
WF_REJECTS = ['prometheus_tsdb_out_of_order_samples_total{type="float"}',
              "watchfire_tsdb_duplicate_samples_total",
              'prometheus_tsdb_out_of_bounds_samples_total{type="float"}']


def relabel(body, extra, ts):
    """Insert `extra` (job=..,instance=..) into every sample line; append ` ts` if absent."""
    out, n = [], 0
    for line in body.split("\n"):
        if not line or line[0] == "#":
            continue
        b, s = line.find("{"), line.find(" ")
        if b != -1 and (s == -1 or b < s):
            e = line.rfind("}")
            sep = "" if line[b + 1:b + 2] == "}" else ","
            head, tail = line[:b + 1] + extra + sep + line[b + 1:e + 1], line[e + 1:]
        elif s > 0:
            head, tail = line[:s] + "{" + extra + "}", line[s:]
        else:
            continue  # not a sample line
        out.append(head + tail if len(tail.split()) > 1 else head + tail + ts)
        n += 1
    return "\n".join(out) + "\n", n


class Pusher:
    def __init__(self, a):
        self.a, self.lock, self.stop = a, threading.Lock(), threading.Event()
        self.st = {k: 0 for k in ("pushes", "scrape_errors", "push_errors", "samples_sent",
                                  "samples_accepted", "missed_ticks", "bytes_pushed")}
        self.st.update(last_error="", max_cycle_s=0.0)

    def bump(self, **kw):
        with self.lock:
            for k, v in kw.items():
                if k in ("last_error",):
                    self.st[k] = v
                elif k == "cycle_s":
                    self.st["max_cycle_s"] = max(self.st["max_cycle_s"], v)
                else:
                    self.st[k] += v

    def target(self, i):
        a, port = self.a, self.a.base_port + i
        inst = f"127.0.0.1:{port}"
        extra = f'job="{a.job}",instance="{inst}"'
        src = http.client.HTTPConnection("127.0.0.1", port, timeout=a.interval)
        dst = http.client.HTTPConnection("127.0.0.1", a.wf_port, timeout=60)
        off, iv, first = a.interval * i / a.targets, a.interval, True
        nxt = (time.time() // iv) * iv + off
        while not self.stop.is_set():
            while nxt < time.time():
                nxt += iv
            if self.stop.wait(nxt - time.time()):
                return
            t0, ts = time.time(), f" {round(nxt * 1000)}"
            try:
                src.request("GET", "/metrics")
                r = src.getresponse()
                raw = r.read().decode()
                if r.status != 200:
                    raise OSError(f"HTTP {r.status}")
                body, n = relabel(raw, extra, ts)
                up = 1
            except Exception as e:  # target down: push up=0 only, as a scraper would
                src.close()
                self.bump(scrape_errors=1, last_error=f"{inst}: {e}")
                body, n, up = "", 0, 0
            dur = time.time() - t0
            for name, v in (("up", up), ("scrape_duration_seconds", dur),
                            ("scrape_samples_scraped", n), ("scrape_samples_post_metric_relabeling", n),
                            ("scrape_series_added", n if first and up else 0)):
                body += f"{name}{{{extra}}} {v!r}{ts}\n"
            first = first and not up
            try:
                data = body.encode()
                dst.request("POST", "/api/v1/import/prometheus", data,
                            {"Content-Type": "text/plain; version=0.0.4"})
                r = dst.getresponse()
                msg = r.read()
                if r.status >= 300:
                    raise OSError(f"HTTP {r.status} {msg[:200]!r}")
                self.bump(pushes=1, samples_sent=n + 5, bytes_pushed=len(data),
                          samples_accepted=int(r.getheader("X-Watchfire-Samples", "0")))
            except Exception as e:
                dst.close()
                self.bump(push_errors=1, last_error=f"push {inst}: {e}")
            self.bump(cycle_s=time.time() - t0)
            late = int((time.time() - nxt) // iv)  # ticks that passed while we were busy
            if late > 0:
                self.bump(missed_ticks=late)
            nxt += iv

    def run(self):
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        for i in range(self.a.targets):
            threading.Thread(target=self.target, args=(i,), daemon=True).start()
        while True:
            done = self.stop.wait(1.0)
            with self.lock:
                tmp = self.a.stats + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(self.st, f)
                os.replace(tmp, self.a.stats)
            if done:
                return


def metrics(base):
    out = {}
    with urllib.request.urlopen(base + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line and line[0] != "#":
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
    return out


def proc(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fl = st[st.rindex(")") + 2:].split()
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "RssAnon", "RssFile", "VmHWM")):
                k, v = line.split(":", 1)
                mem[k] = int(v.split()[0]) * 1024
    return (int(fl[11]) / CLK_TCK, int(fl[12]) / CLK_TCK), mem


def all_cpu():
    """{pid: (comm, cpu seconds)} for every process: who else used the box in the window."""
    r = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            st = open(f"/proc/{p}/stat").read()
            fl = st[st.rindex(")") + 2:].split()
            r[int(p)] = (st[st.index("(") + 1:st.rindex(")")], (int(fl[11]) + int(fl[12])) / CLK_TCK)
        except (OSError, ValueError):
            pass
    return r


def measure(a):
    URLS["watchfire"] = f"http://127.0.0.1:{a.wf_port}"
    pids = dict((n, int(p)) for n, p in (l.split() for l in open(a.pids) if l.strip()))
    print(f"warmup {a.warmup}s, then measuring {a.duration}s", file=sys.stderr, flush=True)
    time.sleep(a.warmup)

    def snap():
        s = {"t": time.time(), "proc": {n: proc(p) for n, p in pids.items()}, "all": all_cpu()}
        s["m"] = {n: metrics(URLS[n]) for n in URLS}
        with open("/proc/stat") as f:
            v = list(map(int, f.readline().split()[1:]))
        s["sys"] = (sum(v), v[3] + v[4])
        return s

    A, rss = snap(), {n: [] for n in pids}
    while time.time() < A["t"] + a.duration:
        time.sleep(min(5.0, max(0.0, A["t"] + a.duration - time.time())))
        for n, p in pids.items():
            rss[n].append(proc(p)[1]["VmRSS"])
    B = snap()
    dt = B["t"] - A["t"]
    out = {"window_s": dt, "ncpu": os.cpu_count(), "interval_s": a.interval,
           "box_cpu_busy_frac": 1 - (B["sys"][1] - A["sys"][1]) / max(1, B["sys"][0] - A["sys"][0]),
           "systems": {}, "others": {}}
    mine = set(pids.values())
    out["top_other_processes"] = sorted(
        ((round(c - A["all"].get(p, ("", 0.0))[1], 2), n, p) for p, (n, c) in B["all"].items()
         if p not in mine and c - A["all"].get(p, ("", 0.0))[1] > 0.1), reverse=True)[:5]
    for n in pids:
        (ua, sa), (ub, sb) = A["proc"][n][0], B["proc"][n][0]
        cpu, mem = ub + sb - ua - sa, B["proc"][n][1]
        d = {"cpu_s": cpu, "cpu_user_s": ub - ua, "cpu_sys_s": sb - sa, "cpu_cores_avg": cpu / dt, "rss_end": mem["VmRSS"],
             "rss_anon_end": mem.get("RssAnon"), "rss_file_end": mem.get("RssFile"),
             "rss_hwm": mem.get("VmHWM"), "rss_mean": statistics.mean(rss[n] or [0])}
        if n not in URLS:
            out["others"][n] = d
            continue
        ma, mb = A["m"][n], B["m"][n]
        ds, series = mb.get(SAMPLES[n], 0) - ma.get(SAMPLES[n], 0), mb.get(SERIES[n]) or 0
        d.update(samples_window=ds, samples_per_s=ds / dt, active_series=series,
                 cpu_ms_per_1k=cpu * 1e3 / (ds / 1e3) if ds else None,
                 rss_per_series=mem["VmRSS"] / series if series else None,
                 rss_anon_per_series=mem.get("RssAnon", 0) / series if series else None)
        out["systems"][n] = d
    W = out["systems"]["watchfire"]
    W["rejected_total"] = {k: B["m"]["watchfire"].get(k) for k in WF_REJECTS}
    W["expected_samples_window"] = W["active_series"] * dt / a.interval
    if a.stats and os.path.exists(a.stats):
        W["pusher"] = json.load(open(a.stats))
    pc = out["others"].get("pusher", {}).get("cpu_s")
    if pc is not None and W["samples_window"]:
        W["cpu_ms_per_1k_incl_pusher"] = (W["cpu_s"] + pc) * 1e3 / (W["samples_window"] / 1e3)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    table(out)


def table(o):
    S = o["systems"]
    W, P, V = S["watchfire"], S["prometheus"], S["victoria-metrics"]
    f = lambda x, nd=0: "n/a" if x is None else f"{x:,.{nd}f}"
    r = lambda x, y: "n/a" if not x or not y else f"{x / y:.2f}x"
    print(f"window {o['window_s']:.0f}s, interval {o['interval_s']:g}s; box CPU busy "
          f"{100 * o['box_cpu_busy_frac']:.0f}% of {o['ncpu']} cores, shared by the fleet, the 3 "
          "systems and the pusher (absolute CPU figures are inflated by contention)")
    print("other CPU users in the window (cpu-s, comm, pid; processes that exited are not seen): "
          + (", ".join(f"{c} {n} {p}" for c, n, p in o["top_other_processes"]) or "none") + "\n")
    print("| metric | Watchfire | Prometheus 2.42 | VictoriaMetrics 1.79 | WF/Prom | WF/VM |")
    print("|---|---|---|---|---|---|")
    for label, k, nd in (("active series", "active_series", 0), ("samples/s ingested", "samples_per_s", 0),
                         ("RSS bytes / active series", "rss_per_series", 0),
                         ("RssAnon bytes / active series", "rss_anon_per_series", 0),
                         ("CPU-ms / 1k samples", "cpu_ms_per_1k", 3), ("CPU cores (avg)", "cpu_cores_avg", 3)):
        print(f"| {label} | {f(W[k], nd)} | {f(P[k], nd)} | {f(V[k], nd)} | {r(W[k], P[k])} | {r(W[k], V[k])} |")
    for label, k in (("RSS end (MiB)", "rss_end"), ("RssAnon end (MiB)", "rss_anon_end")):
        m = [(x[k] or 0) / 2**20 for x in (W, P, V)]
        print(f"| {label} | {m[0]:.1f} | {m[1]:.1f} | {m[2]:.1f} | {r(m[0], m[1])} | {r(m[0], m[2])} |")
    x = W.get("cpu_ms_per_1k_incl_pusher")
    if x:
        print(f"| CPU-ms / 1k incl. pusher (Python scrape emulation) | {x:.3f} | | | {r(x, P['cpu_ms_per_1k'])} | {r(x, V['cpu_ms_per_1k'])} |")
    print("\nother processes (CPU cores avg, RSS MiB): " + ", ".join(
        f"{n} {d['cpu_cores_avg']:.3f} / {d['rss_end'] / 2**20:.0f}" for n, d in o["others"].items())
          + "; CPU user/sys s: " + ", ".join(f"{n} {d['cpu_user_s']:.1f}/{d['cpu_sys_s']:.1f}" for n, d in S.items()))
    p = W.get("pusher", {})
    print(f"watchfire: {W['samples_window']:,.0f} samples appended in window (expected "
          f"~{W['expected_samples_window']:,.0f}); rejected totals {W['rejected_total']}; pusher "
          f"sent {p.get('samples_sent', 0):,} accepted {p.get('samples_accepted', 0):,}, errors "
          f"scrape {p.get('scrape_errors')} push {p.get('push_errors')}, missed ticks "
          f"{p.get('missed_ticks')}, max cycle {p.get('max_cycle_s', 0):.2f}s {p.get('last_error', '')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("push", "measure"))
    ap.add_argument("--targets", type=int, default=20)
    ap.add_argument("--base-port", type=int, default=19100)
    ap.add_argument("--interval", type=float, default=5.0, help="seconds")
    ap.add_argument("--wf-port", type=int, default=19190)
    ap.add_argument("--job", default="fake")
    ap.add_argument("--stats", default="")
    ap.add_argument("--pids", default="")
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--out", default="/tmp/wf-memory.json")
    a = ap.parse_args()
    Pusher(a).run() if a.cmd == "push" else measure(a)


if __name__ == "__main__":
    main()
