#!/usr/bin/env python3
"""index/stats and index/volume(_range) latency over many streams.

Usage: scripts/bench-volume.py URL [STREAMS [LINES_PER_STREAM]]   (defaults 10000, 100)

Pushes STREAMS streams {job="vol", host="host-<s % 50>", stream="<s>"} with LINES_PER_STREAM
logfmt lines each, spread over the last 24 h, into the server at URL (JSON push, 100 streams
per request), POSTs /flush (so the data is in stored chunks), then calls each endpoint 7
times and prints the median and every wall time. Use a server that holds no other job="vol"
data and has no active stream limit, e.g. a fresh
`build/release/skald -common.path-prefix=/tmp/x -ingester.max-global-streams-per-user=0`:
Skald, like Loki, refuses more than 5000 active streams per tenant by default
(max_global_streams_per_user), answering 429 "maximum active stream limit exceeded ...".
"""
import json
import random
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DAY_NS = 86400 * 10**9


def push(url, streams):
    body = json.dumps({"streams": streams}).encode()
    req = urllib.request.Request(url + "/loki/api/v1/push", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=60).read()
    except urllib.error.HTTPError as e:
        msg = e.read().decode(errors="replace")
        hint = ""
        if "maximum active stream limit exceeded" in msg:
            hint = "\n(start the server with -ingester.max-global-streams-per-user=0)"
        sys.exit(f"push failed: HTTP {e.code}: {msg[:500]}{hint}")


def timed_get(url, path, params):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url + path + "?" + urllib.parse.urlencode(params), timeout=60) as r:
        body = r.read()
    return time.perf_counter() - t0, body


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    url = sys.argv[1].rstrip("/")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    rnd = random.Random(1)
    now = time.time_ns()
    t0 = time.time()
    for base in range(0, n, 100):
        streams = []
        for s in range(base, min(n, base + 100)):
            values = [[str(now - DAY_NS + (k * DAY_NS) // per + s),
                       f'level=info host=h{s % 50} stream={s} msg="request {k} served in '
                       f'{rnd.randrange(1000)}ms"'] for k in range(per)]
            streams.append({"stream": {"job": "vol", "host": f"host-{s % 50}", "stream": str(s)},
                            "values": values})
        push(url, streams)
    print(f"pushed {n * per} lines into {n} streams in {time.time() - t0:.1f} s")
    req = urllib.request.Request(url + "/flush", data=b"", method="POST")
    urllib.request.urlopen(req, timeout=600).read()

    start, end = str(now - DAY_NS - 600 * 10**9), str(time.time_ns())
    cases = [
        ("index/stats", {"query": '{job="vol"}'}),
        ("index/volume", {"query": '{job="vol"}', "targetLabels": "host"}),
        ("index/volume_range", {"query": '{job="vol"}', "targetLabels": "host", "step": "3600"}),
        ("index/volume", {"query": '{job="vol"}', "aggregateBy": "labels"}),
        ("index/volume", {"query": '{job="vol", stream=~".+"}', "limit": str(n)}),
    ]
    for path, params in cases:
        params = dict(params, start=start, end=end)
        times = []
        for _ in range(7):
            t, body = timed_get(url, "/loki/api/v1/" + path, params)
            times.append(t)
        extra = {k: v for k, v in params.items() if k not in ("start", "end")}
        print(f"{path:20s} {json.dumps(extra):60s} median {statistics.median(times) * 1000:7.1f} ms"
              f"  ({' '.join(f'{x * 1000:.1f}' for x in times)})")
        print("   ", body[:100].decode(errors="replace"))


if __name__ == "__main__":
    main()
