#!/usr/bin/env python3
"""Alertmanager throughput, the real Alertmanager 0.25 against Watchfire's embedded one.

Four figures per system, each from a fresh process:

* ingest: alerts accepted per second by POST /api/v2/alerts, in batches of --batch unique
  alerts over --conns keep-alive connections (bodies encoded before the clock starts); the
  route's receiver has no integrations, so this is intake + store + dispatch only.
* ingest per CPU-second: the same alerts / (user + system CPU time the server process used
  while they were posted, from /proc/PID/stat): the server's own cost, whatever the Python
  client (which shares the cores and is the limit for a fast server) costs.
* notify (wall clock): webhook notifications delivered per second. --notify alerts, each
  its own group (group_by ['...']), are posted before group_wait (5s) elapses, so all
  groups become due together; the rate is notifications / (last delivery - first
  delivery) at a local receiver. The receiver is the same for both systems: one thread
  running a bare epoll loop (minimal HTTP/1.1, answers 200 at once, records the arrival
  time). It shares the machine's cores with the server, so this figure also depends on
  how much CPU the receiver needs per request and on how many connections the server
  opens (Alertmanager opens one per group, Watchfire reuses a bounded pool).
* notify per CPU-second: notifications / (user + system CPU time the server process
  used from the end of the posts to the last delivery, read from /proc/PID/stat). This
  is the server's own cost per notification, whatever the receiver and the other
  processes on the machine cost; it includes the server's idle time during group_wait
  (small) and everything a delivery involves (mute, dedup, HTTP, nflog, history).

Only loopback ports 19000-19999 are used. Stdlib only (Linux: epoll, /proc).
"""
import argparse
import asyncio
import http.client
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

INGEST_CFG = """
route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 4h
receivers:
  - name: blackhole
"""

NOTIFY_CFG = """
route:
  receiver: hook
  group_by: ['...']
  group_wait: 5s
  group_interval: 1h
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs: [{{url: "http://127.0.0.1:{port}/{path}", send_resolved: false}}]
"""


RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Receiver:
    """Counts webhook deliveries per path with their arrival times.

    A bare epoll loop on one thread rather than asyncio: per request it costs a recv, a
    few bytes searches and a send, so the receiver takes as little of the shared CPU as
    a Python receiver can (the same one serves both systems)."""

    def __init__(self, port):
        self.port = port
        self.arrivals = {}
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(4096)
        self.listener.setblocking(False)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        ep = select.epoll()
        lfd = self.listener.fileno()
        ep.register(lfd, select.EPOLLIN)
        conns = {}  # fd -> [socket, unparsed bytes]
        monotonic = time.monotonic
        while True:
            for fd, _ in ep.poll():
                if fd == lfd:
                    while True:
                        try:
                            c, _ = self.listener.accept()
                        except BlockingIOError:
                            break
                        c.setblocking(False)
                        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        ep.register(c.fileno(), select.EPOLLIN)
                        conns[c.fileno()] = [c, b""]
                    continue
                st = conns.get(fd)
                if st is None:
                    continue
                c = st[0]
                try:
                    data = c.recv(262144)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    ep.unregister(fd)
                    del conns[fd]
                    c.close()
                    continue
                buf = st[1] + data if st[1] else data
                paths, close = [], False
                while True:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head = buf[:end]
                    lower = head.lower()
                    i = lower.find(b"\r\ncontent-length:")
                    length = 0
                    if i >= 0:
                        j = head.find(b"\r\n", i + 2)
                        length = int(head[i + 17:j if j >= 0 else end])
                    total = end + 4 + length
                    if len(buf) < total:
                        break
                    sp = head.find(b" ")
                    paths.append(head[sp + 1:head.find(b" ", sp + 1)].strip(b"/"))
                    buf = buf[total:]
                    if b"\r\nconnection: close" in lower:
                        close = True
                        break
                st[1] = buf
                if paths:
                    now = monotonic()
                    with self.lock:
                        for p in paths:
                            self.arrivals.setdefault(p.decode("latin-1"), []).append(now)
                    try:
                        c.sendall(RESPONSE * len(paths))
                    except OSError:
                        close = True
                if close:
                    ep.unregister(fd)
                    del conns[fd]
                    c.close()

    def times(self, path):
        with self.lock:
            return list(self.arrivals.get(path, []))


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(url, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode} before ready: {url}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.1)
    sys.exit(f"not ready: {url}")


def start(system, cfg_text, port, args, work):
    d = tempfile.mkdtemp(dir=work)
    cfg = os.path.join(d, "alertmanager.yml")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    log = open(os.path.join(d, "log"), "w")
    if system == "real":
        cmd = [args.am_bin, f"--config.file={cfg}", f"--storage.path={d}/data",
               f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
               "--log.level=warn"]
        ready = f"http://127.0.0.1:{port}/-/ready"
    else:
        cmd = [args.wf_bin, f"--alertmanager.config.file={cfg}",
               f"--storage.tsdb.path={d}/data", f"--web.listen-address=127.0.0.1:{port}"]
        ready = f"http://127.0.0.1:{port}/api/v2/status"
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(ready, proc)
    return proc


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bodies(prefix, n, batch):
    """Pre-encoded POST bodies of unique firing alerts."""
    out = []
    for b in range(0, n, batch):
        alerts = [{
            "labels": {"alertname": f"{prefix}{i % 10}", "instance": f"host-{i}",
                       "job": "bench", "severity": "warning"},
            "annotations": {"summary": f"alert {i} is firing"},
        } for i in range(b, min(n, b + batch))]
        out.append(json.dumps(alerts).encode())
    return out


def post_all(port, payloads, conns):
    """Posts the payloads over `conns` keep-alive connections; returns elapsed seconds."""
    errors = []
    chunks = [payloads[i::conns] for i in range(conns)]

    def worker(chunk):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in chunk:
            c.request("POST", "/api/v2/alerts", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        c.close()

    threads = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - t
    if errors:
        sys.exit(f"POST /api/v2/alerts failed: {errors[:5]}")
    return elapsed


def ingest(system, port, args, work):
    """Returns (alerts per second, alerts per server CPU-second)."""
    proc = start(system, INGEST_CFG, port, args, work)
    try:
        post_all(port, bodies("Warm", args.batch * args.conns, args.batch), args.conns)
        payloads = bodies("Bench", args.ingest, args.batch)
        cpu0 = cpu_seconds(proc.pid)
        took = post_all(port, payloads, args.conns)
        cpu = cpu_seconds(proc.pid) - cpu0
        return args.ingest / took, args.ingest / max(cpu, 1e-3)
    finally:
        stop(proc)


def notify(system, port, recv, args, work):
    cfg = NOTIFY_CFG.format(port=recv.port, path=system)
    proc = start(system, cfg, port, args, work)
    try:
        took = post_all(port, bodies("Notify", args.notify, args.batch), args.conns)
        if took > 4:
            print(f"warning: posting took {took:.1f}s, close to group_wait", file=sys.stderr)
        cpu0 = cpu_seconds(proc.pid)
        deadline = time.monotonic() + 120
        while len(recv.times(system)) < args.notify and time.monotonic() < deadline:
            time.sleep(0.02)
        cpu = cpu_seconds(proc.pid) - cpu0
        time.sleep(1)  # duplicates would show as more than --notify
        ts = recv.times(system)
        if len(ts) != args.notify:
            print(f"warning: {system} delivered {len(ts)} of {args.notify}", file=sys.stderr)
        rate = len(ts) / max(ts[-1] - ts[0], 1e-3) if ts else 0.0
        return len(ts), rate, len(ts) / max(cpu, 1e-3), cpu
    finally:
        stop(proc)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--wf-bin", default="target/release/watchfire")
    p.add_argument("--am-bin", default=shutil.which("prometheus-alertmanager") or "")
    p.add_argument("--ingest", type=int, default=50000, help="alerts posted in the ingest run")
    p.add_argument("--notify", type=int, default=5000, help="groups notified in the notify run")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--base-port", type=int, default=19310)
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    if not (19000 <= args.base_port <= 19997):
        sys.exit("--base-port must leave 3 ports inside 19000-19999")
    if not args.am_bin or not os.path.exists(args.am_bin):
        sys.exit("prometheus-alertmanager not found (--am-bin)")
    if not os.path.exists(args.wf_bin):
        sys.exit(f"watchfire binary not found: {args.wf_bin}")
    recv = Receiver(args.base_port + 2)
    res = {}
    with tempfile.TemporaryDirectory(prefix="am-bench-") as work:
        for i, system in enumerate(["real", "wf"]):
            port = args.base_port + i
            a, a_cpu = ingest(system, port, args, work)
            n, r, per_cpu, cpu = notify(system, port, recv, args, work)
            res[system] = {"ingest_alerts_per_s": a, "ingest_alerts_per_cpu_s": a_cpu,
                           "notifications": n,
                           "notifications_per_s": r,
                           "notifications_per_cpu_s": per_cpu, "notify_cpu_s": cpu}
    real, wf = res["real"], res["wf"]
    print(f"{'':28}{'Alertmanager 0.25':>20}{'Watchfire':>14}{'wf/real':>10}")
    for k, label in [("ingest_alerts_per_s", "alerts ingested / s"),
                     ("ingest_alerts_per_cpu_s", "alerts ingested / CPU-s"),
                     ("notifications_per_s", "notifications / s"),
                     ("notifications_per_cpu_s", "notifications / CPU-s")]:
        ratio = wf[k] / real[k] if real[k] else float("nan")
        print(f"{label:28}{real[k]:>20,.0f}{wf[k]:>14,.0f}{ratio:>10.2f}")
    print(f"(ingest: {args.ingest} alerts, batches of {args.batch}, {args.conns} connections;"
          f" notify: {args.notify} groups, delivered real={real['notifications']}"
          f" wf={wf['notifications']}; server CPU in the notify phase real="
          f"{real['notify_cpu_s']:.2f}s wf={wf['notify_cpu_s']:.2f}s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": res}, f, indent=2)


if __name__ == "__main__":
    main()
