#!/usr/bin/env bash
# Ingest throughput of one skald process under three durability settings, same load:
# WAL with fdatasync (default), WAL without fsync, WAL disabled. Then the replay time
# and peak RSS for a large WAL. Prints skald-bench's table for each.
#   usage: scripts/bench-ingest.sh [lines per run] [lines for the replay WAL]
set -euo pipefail
# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, so the
# benchmark measures ingest speed, not the limiter.
no_rate_limits="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000 -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/release"
lines=${1:-3000000}
replay_lines=${2:-9000000}
port=${PORT:-31950}
work=$(mktemp -d /tmp/skald-bench-ingest.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

start() {  # start <data dir> <flags...>
  local data=$1; shift
  "$bin/skald" -server.http-listen-address=127.0.0.1 -server.http-listen-port=$port -server.grpc-listen-port=0 \
    -common.path-prefix="$data" $no_rate_limits "$@" > "$work/skald.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/ready" > /dev/null && return 0
    sleep 0.1
  done
  echo "skald did not become ready" >&2; cat "$work/skald.log" >&2; exit 1
}

for mode in "fsync on:" "fsync off:-ingester.wal-fsync=false" "wal disabled:-ingester.wal-enabled=false"; do
  name=${mode%%:*}; flags=${mode#*:}
  rm -rf "$work/data"
  start "$work/data" $flags
  echo "=== ingest, $name ($lines lines, 100 streams, 4 connections)"
  "$bin/skald-bench" push -lines "$lines" -pid "$pid" -corpus "$root/testdata/loghub" \
    "http://127.0.0.1:$port" | grep -E "accepted|MB/s|latency|server|status" || true
  kill -TERM $pid; wait $pid || true
done

echo "=== replay: push $replay_lines lines, kill -9, restart"
rm -rf "$work/data"
start "$work/data" -ingester.wal-fsync=false -ingester.checkpoint-duration=10h
"$bin/skald-bench" push -lines "$replay_lines" -pool-mb 4000 -corpus "$root/testdata/loghub" \
  "http://127.0.0.1:$port" | grep -E "accepted" || true
kill -9 $pid; wait $pid 2>/dev/null || true
echo "WAL size: $(du -sh "$work/data/wal" | cut -f1)"
t0=$(date +%s.%N)
start "$work/data"
t1=$(date +%s.%N)
grep "WAL replay finished" "$work/skald.log" || true
echo "ready after $(awk "BEGIN{print $t1 - $t0}") s; peak RSS $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
kill -TERM $pid; wait $pid || true
