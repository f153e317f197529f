#!/usr/bin/env bash
# `make bench`: end-to-end benchmark of one fresh Skald process.
#   1. starts $BUILD_DIR/skald on a free loopback port with a temporary data dir
#      (default settings: zstd chunks, WAL with fdatasync);
#   2. pushes LINES generated lines with skald-bench (protobuf, 100 streams,
#      4 connections; all bodies are encoded before the clock starts);
#   3. POST /flush, then measures bytes on disk (store/chunks, store/index, wal)
#      and the compression ratio raw line bytes / stored bytes;
#   4. runs `skald-bench query` (REPEAT runs per query) over the loaded window;
#   5. stops the server with SIGTERM and removes the data dir.
# Builds nothing (make bench depends on build). Takes 2-3 minutes on 2 vCPUs.
#
#   env: BUILD_DIR  directory holding skald and skald-bench (default build/release)
#        LINES      lines to push (default 40000000: ~4.8 GB of raw lines, ~1 min of
#                   push here; the client holds ~2.3 GB of encoded bodies)
#        REPEAT     runs per query (default 3)
#        LINE_FORMAT  skald-bench push -line-format (default plain; mixed = issue 8's data)
#        TS_SPAN    timestamp span of the pushed lines (default 120s; 24h for issue 8)
#        QUERY_SET  skald-bench query -set (default: issue8 when LINE_FORMAT=mixed, else default)
#        JSON_DIR   if set, push.json and query.json are copied there
#        TMPDIR     where the data dir is created (needs ~6.5 GB for LINES=40M)
set -euo pipefail
# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, so the
# benchmark measures ingest speed, not the limiter.
no_rate_limits="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000 -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/release}
lines=${LINES:-40000000}
repeat=${REPEAT:-3}
corpus="$root/testdata/loghub"
line_format=${LINE_FORMAT:-plain}
ts_span=${TS_SPAN:-120s}
query_set=${QUERY_SET:-$([[ $line_format == mixed ]] && echo issue8 || echo default)}

for b in skald skald-bench; do
  [[ -x "$build/$b" ]] || { echo "bench.sh: $build/$b not found (run make build)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/skald-bench.XXXXXX")
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
bytes_in() { if [[ -d $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
json_num() { grep -o "\"$2\":[0-9.eE+-]*" "$1" | head -1 | cut -d: -f2; }

t_all=$(now_ns)
echo "=== skald make bench  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo '?')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load avg $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Start Skald on an OS-chosen port; the port is read from its start-up log line.
"$build/skald" -server.http-listen-address=127.0.0.1 -server.http-listen-port=0 -server.grpc-listen-port=0 \
  -common.path-prefix="$work/data" $no_rate_limits > "$work/skald.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 300); do
  port=$(grep -o 'msg="Skald started" http_port=[0-9]*' "$work/skald.log" | grep -o '[0-9]*$' || true)
  [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/ready" > /dev/null && break
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.1
done
if [[ -z $port ]] || ! curl -sf "http://127.0.0.1:$port/ready" > /dev/null; then
  echo "bench.sh: skald did not become ready" >&2
  cat "$work/skald.log" >&2
  exit 1
fi
url="http://127.0.0.1:$port"
echo "skald pid $pid at $url, data dir $work/data (defaults: zstd chunks, WAL fsync on)"

# 2. Push. The pool holds every pre-encoded body (~56 bytes per line).
bytes_per_line=64 # plain: ~56 bytes of protobuf + snappy body per line; records: ~80
[[ $line_format == plain ]] || bytes_per_line=100
pool_mb=$((lines * bytes_per_line / 1048576 + 256))
echo
echo "=== push: $lines lines"
t_push=$(now_ns)
format_flags=()
[[ $line_format == plain ]] || format_flags=(-line-format "$line_format")
if ! "$build/skald-bench" push -lines "$lines" -pool-mb "$pool_mb" -ts-span "$ts_span" \
  "${format_flags[@]}" -pid "$pid" -quiet -corpus "$corpus" -json "$work/push.json" "$url"; then
  echo "bench.sh: push failed" >&2
  tail -20 "$work/skald.log" >&2
  exit 1
fi
raw=$(json_num "$work/push.json" raw_bytes_accepted)

# 3. Flush and measure the data dir.
echo
echo "=== flush and bytes on disk"
flush=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST "$url/flush")
echo "POST /flush: HTTP ${flush% *} in ${flush#* } s"
chunks=$(bytes_in "$work/data/store/chunks")
index=$(bytes_in "$work/data/store/index")
wal=$(bytes_in "$work/data/wal")
store=$((chunks + index))
printf '  %-26s %14s  %s\n' "raw line bytes pushed" "$raw" "$(mb "$raw")"
printf '  %-26s %14s  %s  (ratio raw/chunks %s)\n' "store/chunks" "$chunks" "$(mb "$chunks")" \
  "$(awk -v r="$raw" -v s="$chunks" 'BEGIN { printf "%.2f", s ? r / s : 0 }')"
printf '  %-26s %14s  %s\n' "store/index" "$index" "$(mb "$index")"
printf '  %-26s %14s  %s  (compression ratio raw/store %s)\n' "store total" "$store" "$(mb "$store")" \
  "$(awk -v r="$raw" -v s="$store" 'BEGIN { printf "%.2f", s ? r / s : 0 }')"
printf '  %-26s %14s  %s  (not truncated by a flush; checkpoints reclaim it)\n' "wal" "$wal" "$(mb "$wal")"
echo "  server RSS after flush: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/$pid/status)," \
  "peak $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' /proc/$pid/status)"

# 4. Queries. Default set: over [push start - ts-span - 5 s, now], every pushed line inside.
# Other sets: the window and the loaded bytes per line format come from the push report.
echo
echo "=== queries (set $query_set, $repeat runs each)"
window=()
loaded=()
set_flags=()
if [[ $query_set == default ]]; then
  # ts_first_ns: the first pushed timestamp (older skald-bench: push start - 120 s).
  first=$(json_num "$work/push.json" ts_first_ns)
  start=$((${first:-$((t_push - 120 * 1000000000))} - 5 * 1000000000))
  end=$(now_ns)
  window=(-start "$start" -end "$end")
  # grep reads all of the help (grep -q would close the pipe early: SIGPIPE under pipefail).
  if "$build/skald-bench" query -help 2>&1 | grep -- '-loaded-bytes' > /dev/null; then
    loaded=(-loaded-bytes "$raw")
  fi
else
  set_flags=(-set "$query_set")
  loaded=(-push-report "$work/push.json")
fi
query_rc=0
"$build/skald-bench" query "${set_flags[@]}" -repeat "$repeat" "${window[@]}" -pid "$pid" \
  "${loaded[@]}" -json "$work/query.json" "$url" || query_rc=$?
if [[ $query_set == default ]] && ((${#loaded[@]} == 0)); then
  # Older skald-bench without -loaded-bytes: the full-scan row against the loaded volume.
  med=$(sed -n 's/.*"name":"literal_absent"//p' "$work/query.json" |
    grep -o '"median":[0-9.eE+-]*' | head -1 | cut -d: -f2 || true)
  [[ -n $med ]] && echo "  literal_absent: raw bytes pushed / median latency = $(awk -v r="$raw" -v m="$med" \
    'BEGIN { printf "%.1f MB/s", (m > 0 ? r / (m / 1e3) / 1e6 : 0) }')"
fi

if [[ -n ${JSON_DIR:-} ]]; then
  mkdir -p "$JSON_DIR"
  cp "$work/push.json" "$work/query.json" "$JSON_DIR/"
fi

# 5. Stop.
t_stop=$(now_ns)
kill -TERM "$pid"
wait "$pid" || true
pid=
echo
echo "server stopped (SIGTERM) in $(seconds_since "$t_stop") s; make bench took $(seconds_since "$t_all") s"
if ((query_rc != 0)); then
  echo "bench.sh: some queries failed (skald-bench query exit $query_rc)" >&2
  exit "$query_rc"
fi
