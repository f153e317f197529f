#!/usr/bin/env bash
# Ingest cost of this tree's skald against a baseline skald binary, in one invocation, same
# pre-encoded load (skald-bench from this tree drives both). For each durability mode the two
# servers run alternately ROUNDS times; the table shows medians of accepted lines/s and of lines
# per server CPU-second (the figure that matters on a shared, noisy machine) and their ratio.
#   usage: scripts/bench-ingest-compare.sh BASELINE_DIR [lines per run] [rounds]
#   BASELINE_DIR holds a `skald` binary built from the commit to compare against, e.g.
#     git worktree add /tmp/base <commit> && (cd /tmp/base && make build) -> /tmp/base/build/release
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: bench-ingest-compare.sh BASELINE_DIR [lines] [rounds]}
lines=${2:-3000000}
rounds=${3:-3}
port=${PORT:-31951}
bench="$root/build/release/skald-bench"
work=$(mktemp -d /tmp/skald-bench-compare.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, so the
# benchmark measures ingest speed, not the limiter; older binaries lack the per-stream flags.
no_rate_limits() {  # no_rate_limits <skald binary>
  local flags="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000"
  if "$1" -help 2>&1 | grep -q -- -ingester.per-stream-rate-limit; then
    flags="$flags -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
  fi
  echo "$flags"
}
run_one() {  # run_one <skald binary> <flags...>; prints "lines_per_s lines_per_cpu_s"
  local bin=$1; shift
  rm -rf "$work/data"
  "$bin" -server.http-listen-address=127.0.0.1 -server.http-listen-port=$port -server.grpc-listen-port=0 \
    -common.path-prefix="$work/data" $(no_rate_limits "$bin") "$@" > "$work/skald.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/ready" > /dev/null && break
    sleep 0.1
  done
  "$bench" push -lines "$lines" -pid "$pid" -corpus "$root/testdata/loghub" -json "$work/r.json" \
    "http://127.0.0.1:$port" > /dev/null 2>&1
  kill -TERM $pid; wait $pid || true
  local acc lps cpu
  acc=$(grep -o '"lines_accepted":[0-9.e+]*' "$work/r.json" | cut -d: -f2)
  lps=$(grep -o '"lines_per_second":[0-9.e+]*' "$work/r.json" | cut -d: -f2)
  cpu=$(grep -o '"cpu_seconds":[0-9.e+]*' "$work/r.json" | cut -d: -f2)
  awk -v a="$acc" -v l="$lps" -v c="$cpu" 'BEGIN{printf "%.0f %.0f\n", l, (c > 0 ? a / c : 0)}'
}

median() { sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

echo "ingest: $lines lines per run, 100 streams, 4 connections, $rounds rounds; baseline $base/skald"
printf "%-13s %14s %14s %10s %16s %16s %10s\n" mode "base lines/s" "new lines/s" ratio \
  "base lines/cpu-s" "new lines/cpu-s" ratio
for mode in "fsync on:" "fsync off:-ingester.wal-fsync=false" "wal disabled:-ingester.wal-enabled=false"; do
  name=${mode%%:*}; flags=${mode#*:}
  : > "$work/base"; : > "$work/new"
  for _ in $(seq 1 "$rounds"); do
    run_one "$base/skald" $flags >> "$work/base"
    run_one "$root/build/release/skald" $flags >> "$work/new"
  done
  bl=$(cut -d' ' -f1 "$work/base" | median); bc=$(cut -d' ' -f2 "$work/base" | median)
  nl=$(cut -d' ' -f1 "$work/new" | median); nc=$(cut -d' ' -f2 "$work/new" | median)
  awk -v m="$name" -v bl="$bl" -v nl="$nl" -v bc="$bc" -v nc="$nc" 'BEGIN{
    printf "%-13s %14.0f %14.0f %9.2fx %16.0f %16.0f %9.2fx\n", m, bl, nl, (bl>0?nl/bl:0), bc, nc, (bc>0?nc/bc:0)}'
done
