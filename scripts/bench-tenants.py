#!/usr/bin/env python3
"""Two tenants, one pushing far over its limits: is the other served, does memory stay bounded?

Usage: scripts/bench-tenants.py SKALD_BINARY [SECONDS [RATE_MB]]   (defaults 60, 4)

Starts SKALD_BINARY (e.g. build/release/skald) on a free port with its data in a temporary
directory, `-auth.enabled`, a process memory cap (`-ingester.max-head-bytes=64MB`) and a runtime
config giving tenant-a and tenant-b each `ingestion_rate_mb: RATE_MB` (burst 1.5x) and
`max_head_bytes_per_user: 16MB`. Then, for SECONDS:

  tenant-a pushes at 10x its rate limit (4 threads, bodies of 3000 lines, ~1 MiB);
  tenant-b pushes at its rate limit (one thread, bodies of 800 lines, ~250 KiB, paced);
  each tenant spreads its pushes over 4 streams per thread.

Every second it samples the server's RSS (/proc/PID/status VmRSS) and its /metrics, and
prints a row: RSS, the unflushed bytes the memory guard counts (process, per tenant), and per
tenant the pushes answered 204 / 429 / 503 in that second. At the end: the median and the
maximum RSS, tenant-b's share of 204s, and what tenant-a's 429s were for (rate limit or memory
guard, from loki_discarded_samples_total). Lines are distinct logfmt lines with random ids
(they compress about as well as real logs), timestamps fresh per push.
"""
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TENANT_CAP = "16MB"
LA, LB = '{tenant="tenant-a"}', '{tenant="tenant-b"}'
PROCESS_CAP = "64MB"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_lines(n, rnd):
    """n distinct logfmt lines of 200-450 bytes with random ids, numbers and words."""
    paths = ["/api/v1/users", "/api/v1/orders", "/healthz", "/static/app.js", "/login"]
    levels = ["info"] * 8 + ["warn", "error"]
    words = ("cache miss hit retry upstream timeout connection reset user order payment "
             "session token refresh queue worker batch commit rollback shard replica").split()
    out = []
    for i in range(n):
        line = (f'level={rnd.choice(levels)} ts=2024-05-01T10:{i % 60:02d}:{rnd.randrange(60):02d}.'
                f'{rnd.randrange(10**6):06d}Z caller=handler.go:{rnd.randrange(400)} method=GET '
                f'path={rnd.choice(paths)}/{rnd.randrange(10**5)} status={rnd.choice([200, 200, 404, 500])} '
                f'duration={rnd.random() * 900:.3f}ms trace_id={rnd.getrandbits(128):032x} '
                f'user_id={rnd.randrange(10**6)} bytes={rnd.randrange(10**7)} '
                f'msg="{" ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 25)))}"')
        out.append(line)
    return out


class Pusher(threading.Thread):
    """Pushes bodies of `lines_per_push` lines at `bytes_per_sec` (0 = as fast as it can)."""

    def __init__(self, url, tenant, streams, lines, lines_per_push, bytes_per_sec, stop, counts):
        super().__init__(daemon=True)
        self.url, self.tenant, self.streams = url, tenant, streams
        self.lines, self.per = lines, lines_per_push
        avg = sum(len(x) for x in lines) / len(lines)
        self.interval = lines_per_push * avg / bytes_per_sec
        self.stop, self.counts = stop, counts
        self.seq = 0

    def run(self):
        next_t = time.monotonic()
        rnd = random.Random(hash(self.name))
        while not self.stop.is_set():
            now_ns = time.time_ns()
            start = rnd.randrange(len(self.lines) - self.per)
            values = []
            for k in range(self.per):
                self.seq += 1
                values.append([str(now_ns + k), self.lines[start + k]])
            stream = self.streams[self.seq // self.per % len(self.streams)]
            body = json.dumps({"streams": [{"stream": {"app": stream, "tenant": self.tenant},
                                            "values": values}]}).encode()
            req = urllib.request.Request(self.url + "/loki/api/v1/push", data=body, headers={
                "Content-Type": "application/json", "X-Scope-OrgID": self.tenant})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    code = r.status
            except urllib.error.HTTPError as e:
                e.read()
                code = e.code
            except OSError:
                code = 0
            self.counts[(self.tenant, code)] = self.counts.get((self.tenant, code), 0) + 1
            next_t += self.interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_t = time.monotonic()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    rate_mb = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
    rate = rate_mb * 2**20
    tmp = tempfile.mkdtemp(prefix="skald-bench-tenants-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runtime = os.path.join(tmp, "runtime.yaml")
    with open(runtime, "w") as f:
        f.write("overrides:\n")
        for t in ("tenant-a", "tenant-b"):
            f.write(f"  {t}:\n    ingestion_rate_mb: {rate_mb}\n"
                    f"    ingestion_burst_size_mb: {rate_mb * 1.5}\n"
                    f"    max_head_bytes_per_user: {TENANT_CAP}\n")
    log = open(os.path.join(tmp, "skald.log"), "w")
    proc = subprocess.Popen([binary, f"-common.path-prefix={tmp}/data", "-auth.enabled",
                             f"-server.http-listen-port={port}", "-server.grpc-listen-port=0", "-server.http-listen-address=127.0.0.1",
                             f"-runtime-config.file={runtime}", f"-ingester.max-head-bytes={PROCESS_CAP}",
                             "-log.level=error"], stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/ready", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        lines = make_lines(20000, random.Random(7))
        stop = threading.Event()
        counts = {}
        # Several streams per tenant: one stream alone would meet the per-stream rate limit
        # (3 MB/s) before the tenant's.
        threads = [Pusher(url, "tenant-a", [f"a{i}-{k}" for k in range(4)], lines, 3000,
                          10 * rate / 4, stop, counts) for i in range(4)]
        threads.append(Pusher(url, "tenant-b", [f"b-{k}" for k in range(4)], lines, 800, rate,
                              stop, counts))
        base_rss = rss_mib(proc.pid)
        for t in threads:
            t.start()
        print(f"skald pid {proc.pid}, idle RSS {base_rss:.1f} MiB; caps: tenant {TENANT_CAP}, "
              f"process {PROCESS_CAP}; rate limit {rate_mb} MiB/s per tenant; tenant-a offers "
              f"{10 * rate_mb:.0f} MiB/s, tenant-b {rate_mb:.0f} MiB/s, for {seconds} s")
        print(f"{'t':>3} {'RSS MiB':>8} {'guard MiB':>9} {'a MiB':>6} {'b MiB':>6} "
              f"{'a 204':>5} {'a 429':>5} {'a 503':>5} {'b 204':>5} {'b !204':>6}")
        rss, prev = [], {}
        t0 = time.monotonic()
        for sec in range(1, seconds + 1):
            time.sleep(max(0.0, t0 + sec - time.monotonic()))
            r = rss_mib(proc.pid)
            rss.append(r)
            m = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
            snap = dict(counts)
            d = {k: snap.get(k, 0) - prev.get(k, 0) for k in set(snap) | set(prev)}
            prev = snap
            b_bad = sum(v for (t, c), v in d.items() if t == "tenant-b" and c != 204)
            print(f"{sec:>3} {r:>8.1f} {metric(m, 'skald_ingester_memory_bytes') / 2**20:>9.1f} "
                  f"{metric(m, 'skald_ingester_tenant_memory_bytes', LA) / 2**20:>6.1f} "
                  f"{metric(m, 'skald_ingester_tenant_memory_bytes', LB) / 2**20:>6.1f} "
                  f"{d.get(('tenant-a', 204), 0):>5} {d.get(('tenant-a', 429), 0):>5} "
                  f"{d.get(('tenant-a', 503), 0):>5} {d.get(('tenant-b', 204), 0):>5} {b_bad:>6}")
        stop.set()
        for t in threads:
            t.join(timeout=35)
        m = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
        b_ok = counts.get(("tenant-b", 204), 0)
        b_all = sum(v for (t, _), v in counts.items() if t == "tenant-b")
        a_rate = metric(m, "loki_discarded_samples_total", '{reason="rate_limited",tenant="tenant-a"}')
        a_mem = metric(m, "loki_discarded_samples_total", '{reason="memory_limit",tenant="tenant-a"}')
        print(f"RSS median {statistics.median(rss):.1f} MiB, max {max(rss):.1f} MiB "
              f"(idle {base_rss:.1f} MiB; process cap {PROCESS_CAP})")
        print(f"tenant-b: {b_ok}/{b_all} pushes answered 204; "
              f"received {metric(m, 'loki_distributor_bytes_received_total', LB) / 2**20:.0f} MiB")
        print(f"tenant-a: received {metric(m, 'loki_distributor_bytes_received_total', LA) / 2**20:.0f} MiB; "
              f"lines refused by the rate limit {a_rate:.0f}, by the memory guard {a_mem:.0f}; "
              f"pressure flush passes {metric(m, 'skald_ingester_memory_pressure_flushes_total'):.0f}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
