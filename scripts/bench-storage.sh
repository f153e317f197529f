#!/usr/bin/env bash
# `make bench-storage`: the storage-engine figures of issue 11, from one command, at several
# stream counts, for a fresh Skald (default), a second Skald build (before/after) or any
# running Loki-compatible server.
#
# For each stream count N in STREAMS (default "1000 1000000"):
#   1. starts $BUILD_DIR/skald on a free loopback port (-server.http-listen-port=0, the port is
#      read from the start-up log line) with a fresh data dir under $TMPDIR, ingestion rate
#      limits off and the per-tenant stream limit off (-ingester.max-global-streams-per-user=0),
#      like `make bench`; or, with URL set, uses that server instead (mode 2, below);
#   2. pushes LINES (default 2,000,000) loghub-derived lines over N streams with
#      `skald-bench push -streams N -pid PID` (protobuf + snappy, every body encoded before the
#      clock starts): server CPU seconds of the push -> lines per server CPU-second; VmRSS of the
#      server right after the push ("RSS after the load") and its VmHWM;
#   3. POST /flush and waits for it (Skald's flush is synchronous; in mode 2 the script also
#      waits until the server is idle and DATA_DIR stops growing, as Loki flushes in the
#      background); then bytes on disk (du -sb) and files ("objects") of the store;
#   4. runs four full-scan queries, each a metric query that reads every pushed line and
#      returns one number, so no query stops early at a limit:
#        sum(count_over_time({job="J"} <filter> [R]))  (instant query at the end of the load,
#        R = the whole load), <filter> =
#          absent literal      |= "QQ_never_present_QQ"   (ABSENT)
#          substring           |= "Connection reset"      (RARE; ~1 line in 3,400)
#          case-insensitive    |~ "(?i)error"
#          regex alternation   |~ "error|fail"
#      Server CPU seconds per query come from /proc/PID/stat (utime + stime) before and after
#      the request. After one unmeasured warm-up run, a query that used fewer than 50 clock
#      ticks (0.5 s) is run m times back to back per measurement (m <= 20) so one 10 ms tick is
#      at most 2% of the figure; REPEAT measurements (default 3), median. Figure: raw MB pushed
#      (MB = 1e6 bytes; every pushed line is in the window) / server CPU seconds per query.
#      The match counts are printed too: they must be equal for every server and build.
#      With LOG_QUERIES=1 (default) it also runs the same four filters as log queries
#      (`skald-bench query`, default set: literal_absent, literal_rare, icase_regex,
#      regex_alt; limit 100, backward) and reports their MB/s/core; those marked * returned
#      `limit` lines and may have stopped before reading everything;
#   5. stops the server with SIGTERM (timed) and deletes its data dir.
# Prints a Markdown table, one column per stream count (and per build with BEFORE_BUILD_DIR,
# plus the ratio after/before), and writes it to $OUT when set.
#
# Mode 2, any running Loki-compatible server on this host:
#   URL=http://127.0.0.1:3100 PID=<server pid> DATA_DIR=<its data dir> bash scripts/bench-storage.sh
#   - PID (optional but needed for every per-CPU-second figure and the RSS rows) is read
#     through /proc, so the server must run on this host (for a container: the host pid);
#   - DATA_DIR (optional): bytes and files are measured before the push and after the flush;
#     the table shows the difference (what this run added);
#   - each stream count pushes under its own job label (JOB, default bench-<unix time>, plus
#     -<N>), so data already in the server is not selected;
#   - POST /flush is sent and its failure ignored (servers without it flush on their own);
#     then the script waits until the server uses < 0.1 cores and DATA_DIR's size is stable
#     over three 5 s intervals (at least FLUSH_WAIT s, default 0 with DATA_DIR else 30; at most
#     FLUSH_TIMEOUT, default 900 s). The flush CPU row then includes that background work;
#   - Loki: raise its limits first (limits_config: ingestion_rate_mb: 1024,
#     ingestion_burst_size_mb: 2048, per_stream_rate_limit: 512MB, per_stream_rate_limit_burst:
#     1024MB, max_global_streams_per_user: 0, and for 1,000,000 streams
#     max_query_series / max_streams_matchers_per_query as needed); auth_enabled: false or
#     TENANT=<id>;
#   - VictoriaLogs: PUSH_PATH=/insert/loki/api/v1/push QUERY_API=logsql: its Loki push
#     endpoint for the load, and the same four filters as LogsQL regexp filters with
#     `| stats count() as n` at /select/logsql/query (start/end = the load); it has no /flush
#     (ignored; the settle wait covers its periodic flush). LOG_QUERIES is ignored there.
#   QUERY_API=none skips the queries (push, RSS and disk figures only).
#
#   env: BUILD_DIR         skald and skald-bench (default build/release); this skald-bench
#                          drives every server, so all columns use the same client and data
#        BEFORE_BUILD_DIR  a second build's directory (its skald is used): before/after columns
#        STREAMS           stream counts (default "1000 1000000")
#        LINES             lines per push (default 2000000, ~242 MB of raw lines)
#        REPEAT            measurements per query (default 3)
#        LOG_QUERIES       1 (default) or 0: also run the four log queries with skald-bench
#        SEED, CONNECTIONS, BATCH   skald-bench push -seed (1), -connections (4), -batch (1000)
#        RARE, ABSENT      the substring / absent literals
#        SKALD_FLAGS       extra flags for every Skald started (e.g. -ingester.wal-fsync=false)
#        OUT               also write the final table to this file
#        JSON_DIR          keep the push and query JSON reports there
#        TMPDIR            where data dirs are created (1,000,000 streams: ~1 GB, 2M files)
#        URL, PID, DATA_DIR, NAME, JOB, TENANT, PUSH_PATH, QUERY_API, FLUSH_WAIT,
#        FLUSH_TIMEOUT, QUERY_TIMEOUT (default 600 s)   mode 2, see above
# Resources: 1,000,000 streams hold a few GB of RSS in the server; the whole default run
# takes several minutes on 2 vCPUs (the 1,000,000-stream load most of it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/release}
before=${BEFORE_BUILD_DIR:-}
streams_list=${STREAMS:-1000 1000000}
lines=${LINES:-2000000}
repeat=${REPEAT:-3}
log_queries=${LOG_QUERIES:-1}
seed=${SEED:-1}
connections=${CONNECTIONS:-4}
batch=${BATCH:-1000}
rare=${RARE:-Connection reset}
absent=${ABSENT:-QQ_never_present_QQ}
corpus="$root/testdata/loghub"
ext_url=${URL:-}
ext_pid=${PID:-}
ext_data=${DATA_DIR:-}
query_api=${QUERY_API:-loki}
push_path=${PUSH_PATH:-/loki/api/v1/push}
flush_timeout=${FLUSH_TIMEOUT:-900}
query_timeout=${QUERY_TIMEOUT:-600}
client="$build/skald-bench"

die() { echo "bench-storage.sh: $*" >&2; exit 1; }
[[ -x $client ]] || die "$client not found (run make build)"
case $query_api in loki | logsql | none) ;; *) die "QUERY_API must be loki, logsql or none" ;; esac
if [[ -n $ext_url ]]; then
  [[ -z $before ]] || die "BEFORE_BUILD_DIR and URL exclude each other"
  [[ -z $ext_pid || -r /proc/$ext_pid/stat ]] || die "no process $ext_pid on this host (PID)"
  [[ -z $ext_data || -d $ext_data ]] || die "DATA_DIR=$ext_data is not a directory"
  targets=("${NAME:-server}")
else
  [[ -x $build/skald ]] || die "$build/skald not found (run make build)"
  targets=()
  if [[ -n $before ]]; then
    [[ -x $before/skald ]] || die "$before/skald not found (BEFORE_BUILD_DIR)"
    targets+=(before)
  fi
  targets+=(after)
fi
# No stream count is mandatory in mode 2, but each one is a separate push.
for n in $streams_list; do [[ $n =~ ^[0-9]+$ ]] || die "STREAMS: '$n' is not a number"; done
tenant=()
curl_tenant=()
if [[ -n ${TENANT:-} ]]; then
  tenant=(-tenant "$TENANT")
  curl_tenant=(-H "X-Scope-OrgID: $TENANT")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/skald-bench-storage.XXXXXX")
srv_pid=    # the Skald this script started and has not stopped yet
cleanup() {
  if [[ -n $srv_pid ]] && kill -0 "$srv_pid" 2> /dev/null; then
    kill -TERM "$srv_pid" 2> /dev/null || true
    wait "$srv_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hz=$(getconf CLK_TCK)
now_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
bytes_in() { if [[ -d $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
files_in() { if [[ -d $1 ]]; then find "$1" -type f | wc -l; else echo 0; fi; }
# utime + stime of process $1 in clock ticks (fields 14 and 15 of /proc/PID/stat; the command
# name in field 2 may hold spaces, so count from the closing parenthesis).
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
json_num() { grep -o "\"$2\":[0-9.eE+-]*" "$1" | head -1 | cut -d: -f2 || true; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# Thousands separators: grp 1234567.8 1 -> 1,234,567.8
grp() {
  awk -v x="$1" -v d="${2:-0}" 'BEGIN {
    s = sprintf("%." d "f", x); neg = (substr(s, 1, 1) == "-"); if (neg) s = substr(s, 2)
    i = index(s, "."); ip = i ? substr(s, 1, i - 1) : s; fp = i ? substr(s, i) : ""
    out = ""; while (length(ip) > 3) { out = "," substr(ip, length(ip) - 2) out; ip = substr(ip, 1, length(ip) - 3) }
    printf "%s%s%s%s", (neg ? "-" : ""), ip, out, fp }'
}
calc() { awk "BEGIN { OFMT = \"%.10g\"; CONVFMT = \"%.10g\"; $1 }"; }

declare -A V S   # V[target|N|row] = number (for ratios), S[target|N|row] = table cell
incomplete=()    # target|N of the columns whose push was not fully accepted

# Starts skald binary $1 with data dir $2; sets srv_pid and srv_url.
start_skald() {
  local bin=$1 data=$2 log=$3 port='' flags
  flags="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000"
  # Older binaries may lack the per-stream flags; the stream limit must go for 1,000,000 streams.
  local help
  help=$("$bin" -help 2>&1 || true)
  if grep -- '-ingester.per-stream-rate-limit ' <<< "$help" > /dev/null; then
    flags="$flags -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
  fi
  grep -- '-ingester.max-global-streams-per-user' <<< "$help" > /dev/null &&
    flags="$flags -ingester.max-global-streams-per-user=0"
  grep -- '-ingester.max-streams-per-user' <<< "$help" > /dev/null &&
    flags="$flags -ingester.max-streams-per-user=0"
  # shellcheck disable=SC2086 # flag lists are word-split on purpose
  "$bin" -server.http-listen-address=127.0.0.1 -server.http-listen-port=0 -server.grpc-listen-port=0 \
    -common.path-prefix="$data" $flags ${SKALD_FLAGS:-} > "$log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 1 600); do
    port=$(grep -o 'msg="Skald started" http_port=[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/ready" > /dev/null && break
    kill -0 "$srv_pid" 2> /dev/null || break
    sleep 0.1
  done
  if [[ -z $port ]] || ! curl -sf "http://127.0.0.1:$port/ready" > /dev/null; then
    cat "$log" >&2
    die "$bin did not become ready"
  fi
  srv_url="http://127.0.0.1:$port"
  echo "  $bin: pid $srv_pid at $srv_url, data dir $data"
  echo "  $("$bin" -version 2>&1 | head -1)"
}

# Mode 2: waits until process $1 (if any) uses < 0.1 cores and directory $2 (if any) keeps its
# size over 3 consecutive 5 s intervals; at least $3 s, at most flush_timeout s.
wait_settled() {
  local p=$1 dir=$2 min=$3 t0 quiet=0 last=-1 size cores c0 c1 elapsed
  t0=$(date +%s)
  while :; do
    c0=0 c1=0
    [[ -n $p ]] && c0=$(cpu_ticks "$p")
    sleep 5
    [[ -n $p ]] && c1=$(cpu_ticks "$p")
    cores=$(calc "printf \"%.2f\", ($c1 - $c0) / $hz / 5")
    size=0
    [[ -n $dir ]] && size=$(bytes_in "$dir")
    if calc "exit !($cores < 0.1)" && [[ $size == "$last" ]]; then quiet=$((quiet + 1)); else quiet=0; fi
    last=$size
    elapsed=$(($(date +%s) - t0))
    if ((quiet >= 3 && elapsed >= min)); then
      echo "  settled after $elapsed s ($cores cores${dir:+, $dir = $size bytes})"
      return 0
    fi
    if ((elapsed >= flush_timeout)); then
      echo "  warning: not settled after $elapsed s ($cores cores); going on" >&2
      return 0
    fi
  done
}

# One request of query $2 (LogQL filter or LogsQL filter, per query_api) against $1; writes the
# body to $work/q.out and prints "http_code seconds".
query_once() {
  local url=$1 filter=$2
  if [[ $query_api == logsql ]]; then
    curl -s -o "$work/q.out" -w '%{http_code} %{time_total}' -m "$query_timeout" "${curl_tenant[@]}" \
      --data-urlencode "query={job=\"$q_job\"} $filter | stats count() as n" \
      --data-urlencode "start=$q_start_rfc" --data-urlencode "end=$q_end_rfc" \
      "$url/select/logsql/query" || true
  else
    curl -s -G -o "$work/q.out" -w '%{http_code} %{time_total}' -m "$query_timeout" "${curl_tenant[@]}" \
      --data-urlencode "query=sum(count_over_time({job=\"$q_job\"} $filter [${q_range}s]))" \
      --data-urlencode "time=$q_end_ns" "$url/loki/api/v1/query" || true
  fi
}
query_count() {
  local c
  if [[ $query_api == logsql ]]; then
    c=$(grep -o '"n":"[0-9]*"' "$work/q.out" | head -1 | grep -o '[0-9][0-9]*' || true)
  else
    c=$(grep -o '"value":\[[^]]*\]' "$work/q.out" | head -1 | sed 's/.*,"\([0-9.eE+-]*\)"\]/\1/' || true)
  fi
  echo "${c:-0}"
}

# Runs one full-scan query (row $2, filter $3) against url $1, server pid $4 (may be empty),
# raw bytes $5, target/N key $6; fills V and S.
run_scan_query() {
  local url=$1 row=$2 filter=$3 pid=$4 raw=$5 key=$6
  local r code t c0 c1 ticks m=1 i k count cpus=() lats=() cpu lat
  c0=0
  [[ -n $pid ]] && c0=$(cpu_ticks "$pid")
  r=$(query_once "$url" "$filter")
  [[ -n $pid ]] && c1=$(cpu_ticks "$pid") && ticks=$((c1 - c0))
  code=${r% *}
  if [[ $code != 2* ]]; then
    echo "    $row: HTTP $code $(head -c 300 "$work/q.out" 2> /dev/null)" >&2
    S[$key|$row]="failed (HTTP $code)"
    return 0
  fi
  count=$(query_count)
  if [[ -n $pid ]] && ((ticks < 50)); then m=$(((50 + (ticks > 0 ? ticks : 1) - 1) / (ticks > 0 ? ticks : 1))); fi
  ((m > 20)) && m=20
  for ((k = 0; k < repeat; k++)); do
    t=0
    [[ -n $pid ]] && c0=$(cpu_ticks "$pid")
    for ((i = 0; i < m; i++)); do
      r=$(query_once "$url" "$filter")
      [[ ${r% *} == 2* ]] || { S[$key|$row]="failed (HTTP ${r% *})"; return 0; }
      t=$(calc "print $t + ${r#* }")
    done
    [[ -n $pid ]] && c1=$(cpu_ticks "$pid") && cpus+=("$(calc "print ($c1 - $c0) / $hz / $m")")
    lats+=("$(calc "print $t / $m")")
  done
  lat=$(printf '%s\n' "${lats[@]}" | median)
  if [[ -n $pid ]]; then
    cpu=$(printf '%s\n' "${cpus[@]}" | median)
    V[$key|$row]=$(calc "print ($cpu > 0 ? $raw / 1e6 / $cpu : 0)")
    S[$key|$row]="$(grp "${V[$key|$row]}") ($(calc "printf \"%.3f\", $cpu") CPU-s, $(grp "$count") matches)"
    echo "    $row: $(grp "${V[$key|$row]}") MB per CPU-second; CPU $(calc "printf \"%.3f\", $cpu") s," \
      "latency $(calc "printf \"%.0f\", $lat * 1000") ms (median of $repeat, $m per measurement), $count matches"
  else
    V[$key|$row]=$(calc "print ($lat > 0 ? $raw / 1e6 / $lat : 0)")
    S[$key|$row]="no PID; $(grp "${V[$key|$row]}") MB/s wall ($(grp "$count") matches)"
    echo "    $row: no PID; $(grp "${V[$key|$row]}") MB/s by latency $(calc "printf \"%.3f\", $lat") s, $count matches"
  fi
}

# Log queries through skald-bench (limit 100): MB/s/core per query name from its JSON.
run_log_queries() {
  local url=$1 pid=$2 raw=$3 key=$4 first=$5 end=$6 json=$work/query-$7.json rc=0 name row mbc st ret lim
  local pidf=()
  [[ -n $pid ]] && pidf=(-pid "$pid")
  "$client" query -queries literal_absent,literal_rare,icase_regex,regex_alt -repeat "$repeat" \
    -selector "{job=\"$q_job\"}" -rare "$rare" -absent "$absent" -start "$((first - 5000000000))" -end "$end" \
    -loaded-bytes "$raw" "${pidf[@]}" "${tenant[@]}" -timeout "${query_timeout}s" -json "$json" "$url" \
    > "$work/query.txt" 2>&1 || rc=$?
  sed 's/^/    /' "$work/query.txt" | grep -v '^    *\(scan(server)\|cpu_s =\|\* the log\)' || true
  [[ -s $json ]] || { echo "    skald-bench query failed (exit $rc)" >&2; return 0; }
  for name in literal_absent literal_rare icase_regex regex_alt; do
    row=log_$name
    # One JSON line: what follows "name":"<name>" up to the next query belongs to it.
    local rest
    rest=$(sed -n "s/.*\"name\":\"$name\"//p" "$json" | sed 's/"name":".*//')
    st=$(grep -o '"status":"[a-z]*"' <<< "$rest" | head -1 | cut -d'"' -f4 || true)
    if [[ $st != ok ]]; then
      S[$key|$row]="${st:-missing}"
      continue
    fi
    ret=$(grep -o '"entries_returned":[0-9]*' <<< "$rest" | head -1 | cut -d: -f2 || true)
    lim=$(grep -o '"limit":[0-9]*' <<< "$rest" | head -1 | cut -d: -f2 || true)
    mbc=$(grep -o '"mb_per_core":[0-9.eE+-]*' <<< "$rest" | head -1 | cut -d: -f2 || true)
    if [[ -z $mbc ]]; then
      S[$key|$row]="no PID"
      continue
    fi
    V[$key|$row]=$mbc
    S[$key|$row]=$(grp "$mbc")
    if [[ -n $ret && $ret == "$lim" ]]; then S[$key|$row]+="*"; fi
  done
  if [[ -n ${JSON_DIR:-} ]]; then cp "$json" "$JSON_DIR/"; fi
}

# The whole measurement for target $1 (after | before | mode-2 name) at $2 streams.
measure() {
  local target=$1 n=$2 key="$1|$2" bin url pid data store wal tag="$1-$2"
  local t_run t0 raw acc cpu rss hwm code fl_s fl_c0 fl_c1 bytes files d_bytes0=0 d_files0=0
  t_run=$(now_ns)
  echo
  echo "=== $target, $n streams, $lines lines  ($(date -u +%H:%M:%SZ), load avg $(cut -d' ' -f1-3 /proc/loadavg))"
  if [[ -z $ext_url ]]; then
    bin=$build/skald
    [[ $target == before ]] && bin=$before/skald
    data=$work/data-$tag
    start_skald "$bin" "$data" "$work/skald-$tag.log"
    url=$srv_url pid=$srv_pid
    q_job=${JOB:-bench}
  else
    url=${ext_url%/} pid=$ext_pid data=$ext_data
    q_job=${JOB:-bench-$(date +%s)}-$n
    curl -sf -m 10 "$url/ready" > /dev/null || echo "  warning: GET $url/ready failed; going on" >&2
    if [[ -n $data ]]; then
      d_bytes0=$(bytes_in "$data")
      d_files0=$(files_in "$data")
    fi
    echo "  $url pid ${pid:-?} data dir ${data:-?}, job=$q_job"
  fi

  # 2. Push.
  local pool_mb=$((lines * 192 / 1048576 + 256)) pidf=() push_rc=0 conns=$connections b=$batch
  [[ -n $pid ]] && pidf=(-pid "$pid")
  t0=$(now_ns)
  "$client" push -lines "$lines" -streams "$n" -seed "$seed" -connections "$conns" \
    -batch "$b" -job "$q_job" -pool-mb "$pool_mb" -path "$push_path" "${pidf[@]}" "${tenant[@]}" \
    -quiet -corpus "$corpus" -json "$work/push-$tag.json" "$url" > "$work/push.txt" 2>&1 || push_rc=$?
  local push_s
  push_s=$(seconds_since "$t0")
  if [[ -n $pid ]]; then
    rss=$(status_kb "$pid" VmRSS)
    hwm=$(status_kb "$pid" VmHWM)
  fi
  grep -E 'pre-encoded|elapsed|accepted|latency p50|responses|server' "$work/push.txt" | sed 's/^/  /' || true
  [[ -s $work/push-$tag.json ]] || { cat "$work/push.txt" >&2; die "push failed (exit $push_rc)"; }
  ((push_rc == 0)) || echo "  warning: skald-bench push exited $push_rc" >&2
  [[ -n ${JSON_DIR:-} ]] && mkdir -p "$JSON_DIR" && cp "$work/push-$tag.json" "$JSON_DIR/"
  raw=$(json_num "$work/push-$tag.json" raw_bytes_accepted)
  acc=$(json_num "$work/push-$tag.json" lines_accepted)
  local first
  first=$(json_num "$work/push-$tag.json" ts_first_ns)
  ((acc > 0)) || die "no line accepted (see above)"
  V[$key|raw]=$raw
  S[$key|raw]="$(grp "$(calc "print $raw / 1e6")" 1) MB, $(grp "$acc") lines ($conns connections, $(grp "$b") lines per request)"
  if ((acc != lines)); then
    echo "  warning: $acc of $lines lines accepted" >&2
    S[$key|raw]+=" **only $(grp "$acc") of $(grp "$lines") lines accepted**"
    incomplete+=("$key")
  fi
  V[$key|lps]=$(json_num "$work/push-$tag.json" lines_per_second)
  S[$key|lps]="$(grp "${V[$key|lps]}")"
  if [[ -n $pid ]]; then
    cpu=$(sed 's/.*"server":{//' "$work/push-$tag.json" | grep -o '"cpu_seconds":[0-9.eE+-]*' | head -1 | cut -d: -f2)
    V[$key|ingest]=$(calc "print ($cpu > 0 ? $acc / $cpu : 0)")
    S[$key|ingest]="$(grp "${V[$key|ingest]}") ($(calc "printf \"%.2f\", $cpu") CPU-s)"
    V[$key|rss]=$(calc "print $rss / 1024")
    S[$key|rss]="$(grp "${V[$key|rss]}") MiB"
    echo "  RSS after the load: VmRSS $(grp "$(calc "print $rss / 1024")") MiB, VmHWM $(grp "$(calc "print $hwm / 1024")") MiB; push took $push_s s"
  else
    S[$key|ingest]="no PID" S[$key|rss]="no PID"
  fi

  # 3. Flush, then bytes and files on disk.
  t0=$(now_ns)
  [[ -n $pid ]] && fl_c0=$(cpu_ticks "$pid")
  code=$(curl -s -o "$work/flush.out" -w '%{http_code}' -X POST -m "$flush_timeout" "${curl_tenant[@]}" "$url/flush" || true)
  fl_s=$(seconds_since "$t0")
  echo "  POST /flush: HTTP $code in $fl_s s"
  if [[ -n $ext_url ]]; then
    local min_wait=${FLUSH_WAIT:-$([[ -n $data ]] && echo 0 || echo 30)}
    [[ -n $pid || -n $data ]] || sleep "$min_wait"
    [[ -n $pid || -n $data ]] && wait_settled "$pid" "$data" "$min_wait"
    fl_s=$(seconds_since "$t0")
  fi
  if [[ -n $pid ]]; then
    fl_c1=$(cpu_ticks "$pid")
    local fcpu
    fcpu=$(calc "print ($fl_c1 - $fl_c0) / $hz")
    V[$key|ingest_flush]=$(calc "print ($cpu + $fcpu > 0 ? $acc / ($cpu + $fcpu) : 0)")
    S[$key|ingest_flush]="$(grp "${V[$key|ingest_flush]}") ($(calc "printf \"%.2f\", $cpu + $fcpu") CPU-s)"
    V[$key|rss_flush]=$(calc "print $(status_kb "$pid" VmRSS) / 1024")
    S[$key|rss_flush]="$(grp "${V[$key|rss_flush]}") MiB"
    V[$key|hwm]=$(calc "print $(status_kb "$pid" VmHWM) / 1024")
    S[$key|hwm]="$(grp "${V[$key|hwm]}") MiB"
    S[$key|flush]="HTTP $code, $fl_s s, $(calc "printf \"%.2f\", $fcpu") CPU-s"
  else
    S[$key|flush]="HTTP $code, $fl_s s"
  fi
  V[$key|flush]=$fl_s
  if [[ -z $ext_url ]]; then
    store=$data/store
    wal=$(bytes_in "$data/wal")
    if [[ -d $store ]]; then
      bytes=$(bytes_in "$store")
      files=$(files_in "$store")
    else # unknown layout: everything but the WAL
      bytes=$(($(bytes_in "$data") - wal))
      files=$(($(files_in "$data") - $(files_in "$data/wal")))
    fi
    V[$key|wal]=$wal
    S[$key|wal]="$(grp "$(calc "print $wal / 1e6")" 1) MB"
  elif [[ -n $data ]]; then
    bytes=$(($(bytes_in "$data") - d_bytes0))
    files=$(($(files_in "$data") - d_files0))
    S[$key|wal]="(in the row above)"
  fi
  if [[ -n ${bytes:-} ]]; then
    V[$key|bytes]=$bytes
    S[$key|bytes]="$(grp "$(calc "print $bytes / 1e6")" 1) MB (raw $(grp "$(calc "print $raw / 1e6")" 1) MB; raw/disk $(calc "printf \"%.2f\", ($bytes > 0 ? $raw / $bytes : 0)"))"
    V[$key|files]=$files
    S[$key|files]="$(grp "$files") ($(grp "$(calc "print $files / ($raw / 1e9)")") per GB raw)"
    echo "  on disk: $(grp "$bytes") bytes in $(grp "$files") files${wal:+ (+ WAL $(grp "$wal") bytes)}"
  else
    S[$key|bytes]="no DATA_DIR" S[$key|files]="no DATA_DIR"
  fi

  # 4. Queries over a window holding every pushed line.
  q_end_ns=$(now_ns)
  q_range=$(((q_end_ns - first) / 1000000000 + 10))
  q_start_rfc=$(date -u -d "@$((first / 1000000000 - 1))" +%Y-%m-%dT%H:%M:%SZ)
  q_end_rfc=$(date -u -d "@$((q_end_ns / 1000000000 + 1))" +%Y-%m-%dT%H:%M:%SZ)
  if [[ $query_api != none ]]; then
    if [[ $query_api == logsql ]]; then
      echo "  full-scan queries ({job=\"$q_job\"} <filter> | stats count() as n, $repeat measurements each):"
    else
      echo "  full-scan queries (sum(count_over_time({job=\"$q_job\"} <filter> [${q_range}s])), $repeat measurements each):"
    fi
    local f_absent f_rare f_icase f_alt
    if [[ $query_api == logsql ]]; then
      f_absent="~\"$absent\"" f_rare="~\"$rare\"" f_icase='~"(?i)error"' f_alt='~"error|fail"'
    else
      f_absent="|= \"$absent\"" f_rare="|= \"$rare\"" f_icase='|~ "(?i)error"' f_alt='|~ "error|fail"'
    fi
    run_scan_query "$url" absent "$f_absent" "$pid" "$raw" "$key"
    run_scan_query "$url" substring "$f_rare" "$pid" "$raw" "$key"
    run_scan_query "$url" icase "$f_icase" "$pid" "$raw" "$key"
    run_scan_query "$url" regex_alt "$f_alt" "$pid" "$raw" "$key"
    if [[ $log_queries == 1 && $query_api == loki ]]; then
      echo "  log queries (skald-bench query, limit 100, $repeat runs each):"
      run_log_queries "$url" "$pid" "$raw" "$key" "$first" "$(now_ns)" "$tag"
    fi
  fi

  # 5. Stop (mode 1).
  if [[ -z $ext_url ]]; then
    t0=$(now_ns)
    kill -TERM "$srv_pid"
    wait "$srv_pid" || true
    srv_pid=
    V[$key|stop]=$(calc "printf \"%.2f\", ($(now_ns) - $t0) / 1e9")
    S[$key|stop]="${V[$key|stop]} s"
    echo "  SIGTERM: stopped in ${V[$key|stop]} s"
    rm -rf "$data"
  else
    S[$key|stop]="(not stopped)"
  fi
  V[$key|took]=$(seconds_since "$t_run")
  S[$key|took]="${V[$key|took]} s"
  echo "  this column took ${V[$key|took]} s"
}

t_all=$(now_ns)
echo "=== skald bench-storage  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load avg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load: $lines lines (corpus testdata/loghub, seed $seed, protobuf, batch $batch, $connections connections) per column; streams: $streams_list"
[[ -n ${JSON_DIR:-} ]] && mkdir -p "$JSON_DIR"
for n in $streams_list; do
  for target in "${targets[@]}"; do
    measure "$target" "$n"
  done
done

# The table: one column per stream count (x target), plus after/before with BEFORE_BUILD_DIR.
rows=(
  "ingest|ingest, lines per server CPU-second (push only)"
  "ingest_flush|ingest incl. flush, lines per server CPU-second"
  "lps|ingest, accepted lines per second (wall clock)"
  "rss|RSS after the load (VmRSS right after the push)"
  "rss_flush|RSS after the flush"
  "hwm|peak RSS (VmHWM, push + flush)"
  "flush|POST /flush"
  "bytes|bytes on disk after flush (store; raw MB pushed)"
  "wal|WAL after flush"
  "files|objects (files) on disk after flush (per GB of raw lines)"
  "absent|scan for an absent word, raw MB per server CPU-second"
  "substring|substring scan (\`|= \"$rare\"\`), MB per CPU-second"
  "icase|case-insensitive literal (\`|~ \"(?i)error\"\`), MB per CPU-second"
  "regex_alt|regex alternation (\`|~ \"error|fail\"\`), MB per CPU-second"
)
if [[ $log_queries == 1 && $query_api == loki ]]; then
  rows+=(
    "log_literal_absent|log query \`|= \"$absent\"\` (limit 100), MB per CPU-second"
    "log_literal_rare|log query \`|= \"$rare\"\` (limit 100), MB per CPU-second"
    "log_icase_regex|log query \`|~ \"(?i)error\"\` (limit 100), MB per CPU-second"
    "log_regex_alt|log query \`|~ \"error|fail\"\` (limit 100), MB per CPU-second"
  )
fi
rows+=("stop|SIGTERM shutdown" "took|time for this column (start to stop)" "raw|raw lines pushed")
ratio_rows=" ingest ingest_flush lps rss rss_flush hwm flush bytes wal files absent substring icase regex_alt log_literal_absent log_literal_rare log_icase_regex log_regex_alt stop took "
{
  header="| figure |"
  sep="|---|"
  for n in $streams_list; do
    for target in "${targets[@]}"; do
      if [[ -n $ext_url ]]; then header+=" $target, $(grp "$n") streams |"
      elif [[ -n $before ]]; then header+=" $(grp "$n") streams: $target |"
      else header+=" $(grp "$n") streams |"; fi
      sep+="---|"
    done
    if [[ -n $before ]]; then header+=" after/before |"; sep+="---|"; fi
  done
  echo "$header"
  echo "$sep"
  for r in "${rows[@]}"; do
    id=${r%%|*}
    title=${r#*|}
    line="| ${title//|/\\|} |"
    for n in $streams_list; do
      for target in "${targets[@]}"; do line+=" ${S[$target|$n|$id]:-–} |"; done
      if [[ -n $before ]]; then
        a=${V[after|$n|$id]:-} b=${V[before|$n|$id]:-}
        if [[ $ratio_rows == *" $id "* && -n $a && -n $b ]] && calc "exit !($b > 0)"; then
          line+=" $(calc "r = $a / $b; printf (r >= 0.1 ? \"%.2f\" : \"%.2g\"), r") |"
        else
          line+=" |"
        fi
      fi
    done
    echo "$line"
  done
} > "$work/table.md"
{
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(date -u +%Y-%m-%d)."
  if [[ -z $ext_url ]]; then
    echo "Builds: after = $build/skald ($("$build/skald" -version 2>&1 | head -1 | sed 's/.*(//; s/)//'))${before:+; before = $before/skald}."
  fi
  echo "Load: $lines lines per column (skald-bench push, protobuf, seed $seed). MB = 1e6 bytes; CPU-s = server CPU seconds (utime + stime)."
  echo "Scan rows: full-scan metric queries \`sum(count_over_time({job=...} <filter> [whole load]))\`, raw MB pushed / median server CPU seconds per query (CPU-s and match counts in parentheses)."
  if [[ $log_queries == 1 && $query_api == loki ]]; then
    echo "Log-query rows: skald-bench query, default set, limit 100; * = returned the limit and may have stopped before reading everything."
  fi
} >> "$work/table.md"
echo
echo "=== bench-storage: $(seconds_since "$t_all") s in all"
echo
cat "$work/table.md"
if [[ -n ${OUT:-} ]]; then cp "$work/table.md" "$OUT"; fi
if ((${#incomplete[@]})); then
  echo "bench-storage.sh: not every line was accepted in: ${incomplete[*]} (see the push output above)" >&2
  exit 2
fi
