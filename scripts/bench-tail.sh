#!/usr/bin/env bash
# Live-tail fan-out: ingest speed with no tail, then with N WebSocket tails selecting every
# pushed stream, and the entries those tails receive per second. Same skald, same load
# (skald-bench push, 100 streams, 4 connections), fresh job label per run.
#   usage: scripts/bench-tail.sh [lines per run] [tails] [runs]
set -euo pipefail
# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, so the
# benchmark measures ingest speed, not the limiter.
no_rate_limits="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000 -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/release"
lines=${1:-2000000}
tails=${2:-100}
runs=${3:-3}
port=${PORT:-31960}
work=$(mktemp -d /tmp/skald-bench-tail.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/skald" -server.http-listen-address=127.0.0.1 -server.http-listen-port=$port -server.grpc-listen-port=0 \
  -common.path-prefix="$work/data" -querier.max-concurrent-tail-requests=$((tails + 10)) $no_rate_limits \
  > "$work/skald.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/ready" > /dev/null && break
  sleep 0.1
done

push() {  # push <job> -> prints accepted lines/s
  "$bin/skald-bench" push -quiet -lines "$lines" -job "$1" -pid "$pid" -corpus "$root/testdata/loghub" \
    "http://127.0.0.1:$port" > "$work/push.out"
  grep -E "accepted lines/s|server CPU" "$work/push.out"
}

echo "=== $lines lines per run, $tails tails, $runs runs (alternating without / with tails)"
for r in $(seq 1 "$runs"); do
  echo "--- run $r without tails"
  push "plain$r"
  echo "--- run $r with $tails tails on {job=\"tail$r\"}"
  "$bin/skald-bench" tail -clients "$tails" -duration 600s -idle 3s -query "{job=\"tail$r\"}" \
    "http://127.0.0.1:$port" > "$work/tail.out" 2>&1 &
  tpid=$!
  sleep 2
  push "tail$r"
  wait $tpid || true
  cat "$work/tail.out"
done
kill -TERM $pid; wait $pid || true
