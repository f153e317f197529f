#!/usr/bin/env bash
# OTLP/HTTP ingest against Loki's own push API, on Skald and (when LOKI_URL and LOKI_PID are
# given) on a real Loki, in one invocation with the same generated lines: accepted lines/s and
# lines per server CPU-second (the figure that matters on a shared, noisy machine), median of
# ROUNDS alternating runs. A fresh Skald per run; Loki keeps its data (fresh job label per run).
#   usage: [LOKI_URL=http://127.0.0.1:3100 LOKI_PID=<pid>] scripts/bench-otlp.sh [lines] [rounds]
set -euo pipefail
# Ingestion rate limits (Loki's defaults: 4 MB/s per tenant, 3 MB/s per stream) off, so the
# benchmark measures ingest speed, not the limiter.
no_rate_limits="-distributor.ingestion-rate-limit-mb=1000000 -distributor.ingestion-burst-size-mb=1000000 -ingester.per-stream-rate-limit=1TB -ingester.per-stream-rate-limit-burst=1TB"
root=$(cd "$(dirname "$0")/.." && pwd)
lines=${1:-1000000}
rounds=${2:-3}
port=${PORT:-31970}
bench="$root/build/release/skald-bench"
work=$(mktemp -d /tmp/skald-bench-otlp.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

push() {  # push <url> <pid> <format> <job> -> "lines/s lines/cpu-s"
  "$bench" push -quiet -lines "$lines" -pid "$2" -format "$3" -job "$4" \
    -corpus "$root/testdata/loghub" -json "$work/r.json" "$1" > /dev/null 2>&1 || true
  python3 - "$work/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (r.get("server") or {}).get("cpu_seconds") or 0
print("%.0f %.0f" % (r["lines_per_second"], r["lines_accepted"] / cpu if cpu else 0))
PY
}

declare -A res
for r in $(seq 1 "$rounds"); do
  for fmt in protobuf otlp; do
    rm -rf "$work/data"
    "$root/build/release/skald" -server.http-listen-address=127.0.0.1 -server.http-listen-port=$port -server.grpc-listen-port=0 \
      -common.path-prefix="$work/data" $no_rate_limits > "$work/skald.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/ready" > /dev/null && break; sleep 0.1; done
    res[skald_$fmt]+="$(push "http://127.0.0.1:$port" "$pid" "$fmt" "skald$r$fmt");"
    kill -TERM $pid; wait $pid || true
    if [ -n "${LOKI_URL:-}" ]; then
      res[loki_$fmt]+="$(push "$LOKI_URL" "$LOKI_PID" "$fmt" "loki$r$fmt$$");"
    fi
  done
done

python3 - "$lines" "$rounds" "${res[skald_protobuf]}" "${res[skald_otlp]}" "${res[loki_protobuf]:-}" "${res[loki_otlp]:-}" <<'PY'
import statistics, sys
lines, rounds = sys.argv[1], sys.argv[2]
def med(s, i):
    v = [float(x.split()[i]) for x in s.split(";") if x.strip()]
    return statistics.median(v) if v else 0
names = ["skald protobuf push", "skald OTLP", "loki protobuf push", "loki OTLP"]
print(f"{lines} lines per run, {rounds} rounds, medians")
print(f"{'':22} {'lines/s':>10} {'lines/CPU-s':>12}")
rows = {}
for n, s in zip(names, sys.argv[3:]):
    if s:
        rows[n] = (med(s, 0), med(s, 1))
        print(f"{n:22} {rows[n][0]:10.0f} {rows[n][1]:12.0f}")
if "loki OTLP" in rows and rows["loki OTLP"][1]:
    print(f"OTLP lines per CPU-second, Skald / Loki: {rows['skald OTLP'][1] / rows['loki OTLP'][1]:.2f}x")
if rows.get("skald protobuf push", (0, 0))[1]:
    print(f"Skald OTLP / Skald protobuf push (lines per CPU-second): {rows['skald OTLP'][1] / rows['skald protobuf push'][1]:.2f}")
PY
