#!/usr/bin/env python3
"""A scaled-out Skald against a monolithic one on the same machine, and how the cluster heals.

Usage: scripts/bench-cluster.py DIR [LINES [STREAMS]]   (defaults 400000, 1000)

Starts a cluster with scripts/local-cluster.sh in DIR (etcd, Ceph radosgw, 3 ingesters with
replication factor 3, 2 distributors, 2 queriers, a query frontend, a compactor) and a
monolithic skald (-target=all, its store on the local file system under DIR/mono) next to
it, then measures:

  ingest    LINES lines over STREAMS streams, by two `skald-bench push` clients at once (half
            the streams each, jobs "a" and "b"): through the two distributors for the cluster,
            to the one process for monolithic. Lines per second (wall clock) and lines per
            server CPU-second (utime + stime of every Skald process, /proc/PID/stat).
  store     after /flush on every ingester: object storage requests (by operation) and bytes
            sent, per GB of raw lines ingested, and the mean object size written.
  queries   `skald-bench query` on the frontend and on the monolithic process, alternating,
            over the pushed window: latency medians and their ratio; object storage requests
            per query on the queriers.
  recovery  an ingester killed with -9 and restarted: seconds until it answers /ready (its WAL
            replayed).
  takeover  with a spare ingester-4 running, an ingester killed with -9: seconds until every
            new stream pushed is written to ingester-4 (the ring marked the dead one unhealthy
            and its token ranges' writes moved to the next owner).

Prints each figure with what it was measured on. Stops everything at the end (`down`).
The machine is shared and noisy: run it several times and quote medians.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKALD = os.environ.get("SKALD_BIN", os.path.join(ROOT, "build/release/skald"))
BENCH = os.path.join(os.path.dirname(SKALD), "skald-bench")
CLUSTER = os.path.join(ROOT, "scripts/local-cluster.sh")
TICK = os.sysconf("SC_CLK_TCK")
# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, on both
# setups, so the benchmark measures ingest, not the limiter.
NO_RATE_LIMITS = ["-distributor.ingestion-rate-limit-mb=1000000",
                  "-distributor.ingestion-burst-size-mb=1000000",
                  "-ingester.per-stream-rate-limit=1TB", "-ingester.per-stream-rate-limit-burst=1TB"]


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def metric_sum(url, name, label_filter=""):
    """Sum of the samples of `name` whose label set contains `label_filter`."""
    _, text = http("GET", url + "/metrics")
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and label_filter in line:
            head, _, value = line.rpartition(" ")
            if head == name or head.startswith(name + "{"):
                total += float(value)
    return total


def s3_counts(urls):
    """Object storage requests by operation, summed over the processes at `urls`."""
    out = {}
    for url in urls:
        _, text = http("GET", url + "/metrics")
        for m in re.finditer(r'^skald_s3_request_duration_seconds_count\{operation="([A-Z_]+)",'
                             r'status_code="(\d+|error)"\} (\S+)$', text, re.M):
            out[m.group(1)] = out.get(m.group(1), 0) + float(m.group(3))
    return out


def s3_sent(urls):
    return sum(metric_sum(u, "skald_s3_request_bytes_total", 'direction="sent"') for u in urls)


def push(urls, lines, streams, ts_end, tag):
    """Two clients at once, one per URL (jobs a and b). Returns (wall s, lines, raw bytes)."""
    procs = []
    for i, url in enumerate(urls):
        report = f"/tmp/bench-cluster-{tag}-{i}.json"
        procs.append((report, subprocess.Popen(
            [BENCH, "push", "-lines", str(lines // 2), "-streams", str(streams // 2),
             "-job", "ab"[i], "-seed", str(i + 1), "-ts-end", str(ts_end), "-ts-span", "10m",
             "-json", report, "-quiet", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    t0 = time.monotonic()
    for _, p in procs:
        p.wait()
    wall = time.monotonic() - t0
    accepted = raw = 0
    for report, p in procs:
        with open(report) as f:
            r = json.load(f)
        accepted += r["lines_accepted"]
        raw += r["raw_bytes_accepted"]
    return wall, accepted, raw


def wait_ready(url, seconds=90):
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            if http("GET", url + "/ready", timeout=2)[0] == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} not ready after {seconds} s")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    d = os.path.abspath(sys.argv[1])
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 400000
    streams = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    base = int(os.environ.get("CLUSTER_BASE_PORT", "31000"))
    env = dict(os.environ, CLUSTER_BASE_PORT=str(base), SKALD_BIN=SKALD,
               CLUSTER_EXTRA_ARGS=" ".join(NO_RATE_LIMITS))
    subprocess.run(["bash", CLUSTER, "up", d], env=env, check=True, stdout=subprocess.DEVNULL)
    mono = None
    try:
        cfg = dict(l.strip().split("=", 1) for l in open(os.path.join(d, "cluster.env"))
                   if "=" in l)
        pids = {}
        for name in os.listdir(os.path.join(d, "pids")):
            if name[:-4] not in ("etcd", "rgw"):
                pids[name[:-4]] = int(open(os.path.join(d, "pids", name)).read())
        ingesters = [cfg[f"INGESTER_{i}_URL"] for i in (1, 2, 3)]
        queriers = [cfg["QUERIER_1_URL"], cfg["QUERIER_2_URL"]]
        mono_port = base + 60
        os.makedirs(os.path.join(d, "mono"), exist_ok=True)
        mono = subprocess.Popen(
            [SKALD, f"-common.path-prefix={d}/mono", f"-server.http-listen-port={mono_port}",
             "-server.http-listen-address=127.0.0.1", "-server.grpc-listen-port=0",
             "-server.grpc-listen-address=127.0.0.1"] + NO_RATE_LIMITS,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "mono.log"), "w"))
        mono_url = f"http://127.0.0.1:{mono_port}"
        wait_ready(mono_url)
        ts_end = time.time_ns()

        # Ingest.
        print(f"ingest: {lines:,} lines over {streams:,} streams, two clients at once "
              f"(skald-bench push, protobuf, batches of 1000)")
        results = {}
        for tag, urls, procs in (
                ("cluster", [cfg["DISTRIBUTOR_1_URL"], cfg["DISTRIBUTOR_2_URL"]],
                 list(pids.values())),
                ("mono", [mono_url, mono_url], [mono.pid])):
            before_s3 = s3_counts(ingesters) if tag == "cluster" else {}
            c0 = cpu_seconds(procs)
            wall, accepted, raw = push(urls, lines, streams, ts_end, tag)
            cpu = cpu_seconds(procs) - c0
            results[tag] = (wall, accepted, raw, cpu)
            if accepted != lines:
                print(f"  warning: {tag} accepted {accepted:,} of {lines:,} lines")
            print(f"  {tag:8s} {accepted / wall:>10,.0f} lines/s  {cpu:6.2f} server CPU-s  "
                  f"{accepted / cpu:>9,.0f} lines per CPU-s  ({accepted:,} accepted)")
        cw, ca, craw, ccpu = results["cluster"]
        mw, ma, _, mcpu = results["mono"]
        print(f"  cluster/monolithic: {(ca / cw) / (ma / mw):.2f}x lines/s, "
              f"{(ca / ccpu) / (ma / mcpu):.2f}x lines per CPU-s")

        # Store: flush every ingester.
        s0, b0 = s3_counts(ingesters), s3_sent(ingesters)
        for u in ingesters:
            http("POST", u + "/flush", timeout=300)
        s1, b1 = s3_counts(ingesters), s3_sent(ingesters)
        gb = craw / 1e9
        reqs = {k: s1.get(k, 0) - s0.get(k, 0) for k in s1}
        puts = reqs.get("PUT", 0) + reqs.get("COMPLETE_MULTIPART", 0)
        deduped = sum(metric_sum(u, "skald_ingester_replica_chunks_deduped_total")
                      for u in ingesters)
        stored = sum(metric_sum(u, "skald_ingester_replica_chunks_stored_total")
                     for u in ingesters)
        print(f"store: /flush on 3 ingesters after {craw / 1e6:.1f} MB of raw lines "
              f"({gb:.3f} GB)")
        print("  requests: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(reqs.items()) if v)
              + f"  = {sum(reqs.values()) / gb:,.0f} per GB ingested")
        if puts:
            print(f"  objects written {puts:.0f}, {(b1 - b0) / 1e6:.1f} MB sent, mean object "
                  f"{(b1 - b0) / puts / 1e3:,.1f} kB")
        print(f"  replica chunks: {deduped:.0f} dropped (the owner had stored them), "
              f"{stored:.0f} stored by a non-owner")

        # Queries through the frontend vs monolithic.
        print("queries: skald-bench query (default set), frontend vs monolithic, alternating")
        q0 = s3_counts(queriers)
        start = ts_end - 11 * 60 * 10**9
        out = subprocess.run(
            [BENCH, "query", "-selector", '{job=~"a|b"}', "-start", str(start), "-end",
             str(ts_end + 10**9), "-repeat", "5", "-warmup", "1", "-names", "cluster,mono",
             cfg["QUERY_URL"], mono_url], capture_output=True, text=True)
        q1 = s3_counts(queriers)
        print("  " + "\n  ".join(out.stdout.strip().splitlines()[-16:]))
        n_queries = 10 * 6  # 10 queries, 5 runs + 1 warmup
        qreqs = {k: q1.get(k, 0) - q0.get(k, 0) for k in q1}
        print("  object storage requests on the queriers: " +
              ", ".join(f"{k} {v:.0f}" for k, v in sorted(qreqs.items()) if v) +
              f"  = {sum(qreqs.values()) / n_queries:.1f} per query")

        # Recovery of a killed ingester.
        push([cfg["DISTRIBUTOR_1_URL"], cfg["DISTRIBUTOR_2_URL"]], 100000, 100, time.time_ns(),
             "refill")
        os.kill(pids["ingester-2"], 9)
        time.sleep(0.5)
        t0 = time.monotonic()
        subprocess.run(["bash", CLUSTER, "restart", d, "ingester-2"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.monotonic() - t0
        log = open(os.path.join(d, "logs", "ingester-2.log")).read()
        replay = re.findall(r'msg="WAL replay finished" duration=(\S+) bytes=(\d+)', log)
        print(f"recovery: ingester-2 killed with -9 after 100,000 more lines, restarted: "
              f"ready in {took:.2f} s (WAL replay {replay[-1][0]}, {int(replay[-1][1]) / 1e6:.1f}"
              f" MB)" if replay else f"recovery: ready in {took:.2f} s")

        # Takeover by a spare ingester.
        env4 = dict(env, CLUSTER_SPARE_INGESTER="1")
        subprocess.run(["bash", CLUSTER, "restart", d, "ingester-4"], env=env4, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        spare = cfg["INGESTER_1_URL"].rsplit(":", 1)[0] + f":{base + 39}"
        time.sleep(2)  # the distributors' ring watch sees it ACTIVE
        hb = re.search(r"-ring.heartbeat-timeout=(\S+)", open(
            os.path.join(d, "logs", "ingester-1.log")).read())
        os.kill(pids["ingester-1"], 9)
        t0 = time.monotonic()
        created = metric_sum(spare, "loki_ingester_streams_created_total")
        streak, i, landed_at = 0, 0, None
        while time.monotonic() - t0 < 120 and streak < 20:
            body = json.dumps({"streams": [{"stream": {"job": "takeover", "s": str(i)},
                                            "values": [[str(time.time_ns()), "x"]]}]})
            http("POST", cfg["PUSH_URL"], body.encode(), {"Content-Type": "application/json"})
            now = metric_sum(spare, "loki_ingester_streams_created_total")
            if now > created:
                streak += 1
                if streak == 1:
                    landed_at = time.monotonic() - t0
            else:
                streak, landed_at = 0, None
            created, i = now, i + 1
            time.sleep(0.05)
        print(f"takeover: ingester-1 killed with -9 (heartbeat timeout "
              f"{hb.group(1) if hb else '?'}), a new stream pushed every ~50 ms: every one "
              f"written to the spare ingester-4 from {landed_at:.1f} s on"
              if landed_at is not None else "takeover: not observed within 120 s")
    finally:
        if mono is not None:
            mono.terminate()
            mono.wait()
        subprocess.run(["bash", CLUSTER, "down", d], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
