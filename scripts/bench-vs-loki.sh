#!/usr/bin/env bash
# Skald against a running Grafana Loki: the same data, the same queries, in the same run.
#   1. starts $BUILD_DIR/skald on a free loopback port with a temporary data dir (like make bench);
#   2. pushes LINES lines of `skald-bench push -line-format mixed` (1/3 plain loghub lines,
#      1/3 logfmt records, 1/3 JSON records; labels job, host, stream, format) spread over the
#      TS_SPAN (24 h) ending at one fixed instant, with the same SEED, into Skald, then into Loki;
#   3. POST /flush on both. Skald's flush is synchronous. Loki's is asynchronous: with LOKI_DATA
#      (its chunks directory) the script waits until that directory stops growing and Loki's CPU
#      use drops; without it, LOKI_FLUSH_WAIT seconds and then until Loki's CPU use drops;
#   4. runs `skald-bench query -set issue8` against both, alternating servers per repetition
#      (A B A B ...) over one window that holds all pushed data, and prints per query: MB/s per
#      server core for each (raw bytes of the selected streams / server CPU seconds), the ratio
#      Skald / Loki, median latencies and the peak RSS sampled during the query;
#   5. stops Skald and removes its data dir. Loki is left running (its data stays).
# Exit status: non-zero only on errors (a server not ready, a failed push, a failed query).
#
# Starting a Loki to compare with (any Loki 3.x single binary on this host, so /proc/PID works):
#   loki -config.file=loki.yaml -target=all     with, in loki.yaml:
#     auth_enabled: false
#     limits_config: ingestion_rate_mb: 1024, ingestion_burst_size_mb: 2048,
#                    per_stream_rate_limit: 512MB, per_stream_rate_limit_burst: 1024MB
#                    (reject_old_samples_max_age must stay >= TS_SPAN; Loki's default is 168h)
#     query_range: cache_results: false          (repeats must be real executions)
#   Loki's default query limits apply (query_timeout 1m, max_entries_limit_per_query 5000).
#   A Loki built from the project's anchors has a start.sh doing this (127.0.0.1:3100, pid in
#   loki/loki.pid, chunks in loki/data/chunks). Use a Loki nobody else is loading.
#
#   env: LOKI_URL            Loki's base URL, e.g. http://127.0.0.1:3100 (required)
#        LOKI_PID            Loki's process id on this host (required: CPU and RSS from /proc)
#        LOKI_DATA           Loki's chunks directory (optional; makes the flush wait exact)
#        LOKI_FLUSH_WAIT     seconds to wait after Loki's /flush without LOKI_DATA (default 60)
#        LOKI_FLUSH_TIMEOUT  give up waiting for Loki to settle after this many s (default 900)
#        BUILD_DIR           directory holding skald and skald-bench (default build/release)
#        LINES               lines to push into each server (default 11000000: ~2.15 GB raw)
#        SEED                generator seed (default 1)
#        TS_SPAN             timestamp span ending at the push (default 24h; Loki takes <= 168h)
#        REPEAT / WARMUP     measured / unmeasured runs per query and server (default 3 / 1)
#        QUERIES             comma-separated subset of the issue8 query names (default: all)
#        JOB                 job label (default bench-<unix time>: earlier runs' data in Loki
#                            is not selected)
#        TENANT              X-Scope-OrgID for both servers (default: none)
#        JSON_DIR            if set, the push and query JSON reports are copied there
#        TMPDIR              where Skald's data dir is created (needs ~2.5x the raw bytes)
set -euo pipefail
# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, so the
# benchmark measures ingest speed, not the limiter.
no_rate_limits="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000 -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/release}
lines=${LINES:-11000000}
seed=${SEED:-1}
ts_span=${TS_SPAN:-24h}
repeat=${REPEAT:-3}
warmup=${WARMUP:-1}
job=${JOB:-bench-$(date +%s)}
flush_wait=${LOKI_FLUSH_WAIT:-60}
flush_timeout=${LOKI_FLUSH_TIMEOUT:-900}
corpus="$root/testdata/loghub"

die() { echo "bench-vs-loki.sh: $*" >&2; exit 1; }
[[ -n ${LOKI_URL:-} ]] || die "set LOKI_URL (e.g. http://127.0.0.1:3100) to a running Loki"
[[ -n ${LOKI_PID:-} ]] || die "set LOKI_PID to the Loki process id (for its CPU seconds and RSS)"
[[ -r /proc/$LOKI_PID/stat ]] || die "no process $LOKI_PID on this host (LOKI_PID)"
loki=${LOKI_URL%/}
for b in skald skald-bench; do
  [[ -x "$build/$b" ]] || die "$build/$b not found (run make build)"
done
if [[ -n ${LOKI_DATA:-} && ! -d $LOKI_DATA ]]; then die "LOKI_DATA=$LOKI_DATA is not a directory"; fi
tenant=()
curl_tenant=()
if [[ -n ${TENANT:-} ]]; then
  tenant=(-tenant "$TENANT")
  curl_tenant=(-H "X-Scope-OrgID: $TENANT")
fi
queries=()
[[ -n ${QUERIES:-} ]] && queries=(-queries "$QUERIES")

work=$(mktemp -d "${TMPDIR:-/tmp}/skald-vs-loki.XXXXXX")
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
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# Waits until process $1 uses less than 0.1 cores over 3 consecutive 5 s intervals and, with a
# directory $2, until that directory's size stopped changing over the same intervals; at least
# $3 seconds, at most flush_timeout. Prints what it saw.
wait_settled() {
  local p=$1 dir=$2 min=$3 t0 quiet=0 last_size=-1 size cores c0 c1
  t0=$(date +%s)
  while :; do
    c0=$(cpu_ticks "$p")
    sleep 5
    c1=$(cpu_ticks "$p")
    cores=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / 5 }')
    size=0
    [[ -n $dir ]] && size=$(bytes_in "$dir")
    if awk -v c="$cores" 'BEGIN { exit !(c < 0.1) }' && [[ $size == "$last_size" ]]; then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
    last_size=$size
    local elapsed=$(($(date +%s) - t0))
    if ((quiet >= 3 && elapsed >= min)); then
      echo "  settled after ${elapsed} s (${cores} cores${dir:+, $dir = $size bytes})"
      return 0
    fi
    if ((elapsed >= flush_timeout)); then
      echo "  warning: not settled after ${elapsed} s (${cores} cores${dir:+, $dir = $size bytes}); going on" >&2
      return 0
    fi
  done
}

t_all=$(now_ns)
echo "=== skald vs loki  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo '?')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load avg $(cut -d' ' -f1-3 /proc/loadavg)"
loki_version=$(curl -s -m 5 "$loki/loki/api/v1/status/buildinfo" | grep -o '"version":"[^"]*"' | cut -d'"' -f4 || true)
echo "loki: $loki pid $LOKI_PID version ${loki_version:-?}"
curl -sf -m 5 "$loki/ready" > /dev/null || die "Loki at $loki is not ready (GET /ready)"

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
  cat "$work/skald.log" >&2
  die "skald did not become ready"
fi
skald="http://127.0.0.1:$port"
echo "skald: $skald pid $pid, data dir $work/data (defaults: zstd chunks, WAL fsync on)"

# 2. Push the same data into both: same seed, same -ts-end, unique job label.
ts_end=$(now_ns)
pool_mb=$((lines * 100 / 1048576 + 256)) # protobuf + snappy bodies of mixed lines: ~80 B/line
push() { # name url pid
  echo
  echo "=== push into $1: $lines lines, -line-format mixed, job=$job, span $ts_span ending $ts_end"
  local t0
  t0=$(now_ns)
  if ! "$build/skald-bench" push -line-format mixed -lines "$lines" -seed "$seed" \
    -ts-span "$ts_span" -ts-end "$ts_end" -job "$job" -pool-mb "$pool_mb" -pid "$3" \
    "${tenant[@]}" -quiet -corpus "$corpus" -json "$work/$1-push.json" "$2"; then
    [[ $1 == skald ]] && tail -20 "$work/skald.log" >&2
    die "push into $1 failed"
  fi
  echo "  push into $1 took $(seconds_since "$t0") s (encoding included)"
}
push skald "$skald" "$pid"
flush=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST "${curl_tenant[@]}" "$skald/flush")
echo "  skald POST /flush: HTTP ${flush% *} in ${flush#* } s"
push loki "$loki" "$LOKI_PID"
flush=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST "${curl_tenant[@]}" "$loki/flush")
echo "  loki POST /flush: HTTP ${flush% *} in ${flush#* } s (asynchronous)"

echo
echo "=== waiting for both servers to settle"
if [[ -n ${LOKI_DATA:-} ]]; then
  wait_settled "$LOKI_PID" "$LOKI_DATA" 0
else
  wait_settled "$LOKI_PID" "" "$flush_wait"
fi
wait_settled "$pid" "" 0
echo "  skald store: $(bytes_in "$work/data/store") bytes, RSS $(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status")"
[[ -n ${LOKI_DATA:-} ]] && echo "  loki chunks: $(bytes_in "$LOKI_DATA") bytes (all runs)"
echo "  loki RSS $(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$LOKI_PID/status")"

# 3. Queries, alternating servers per repetition over one window holding all pushed data.
echo
echo "=== queries (set issue8, $warmup warm-up + $repeat measured runs per query and server)"
query_rc=0
"$build/skald-bench" query -set issue8 -names skald,loki -pid "$pid,$LOKI_PID" \
  -push-report "$work/skald-push.json,$work/loki-push.json" -warmup "$warmup" -repeat "$repeat" \
  -timeout 10m "${tenant[@]}" "${queries[@]}" -json "$work/query.json" "$skald" "$loki" ||
  query_rc=$?

if [[ -n ${JSON_DIR:-} ]]; then
  mkdir -p "$JSON_DIR"
  cp "$work/skald-push.json" "$work/loki-push.json" "$work/query.json" "$JSON_DIR/"
fi

kill -TERM "$pid"
wait "$pid" || true
pid=
echo
echo "skald stopped; bench-vs-loki took $(seconds_since "$t_all") s (Loki keeps job=$job)"
if ((query_rc != 0)); then
  echo "bench-vs-loki.sh: some queries failed (skald-bench query exit $query_rc)" >&2
  exit "$query_rc"
fi
