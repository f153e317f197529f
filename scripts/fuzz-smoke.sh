#!/usr/bin/env bash
# Runs each libFuzzer target in <build dir>/fuzz for a bounded time.
# Seeds come from fuzz/corpus/<target>/ when present; findings go to build/fuzz-findings/.
set -euo pipefail
dir=${1:-build/fuzz}
secs=${2:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build/fuzz-findings"
mkdir -p "$out"
status=0
failed=()
shopt -s nullglob
for bin in "$dir"/fuzz/*_fuzz; do
  name=$(basename "$bin")
  corpus="$root/build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$root/fuzz/corpus/$name" ] && seeds+=("$root/fuzz/corpus/$name")
  echo "fuzz-smoke: $name for ${secs}s"
  if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$out/$name-" "$corpus" "${seeds[@]}" > "$out/$name.log" 2>&1; then
    echo "fuzz-smoke: $name FAILED; log: $out/$name.log"
    tail -40 "$out/$name.log"
    status=1
    failed+=("$name")
  else
    grep -E "^Done|stat::number_of_executed_units" "$out/$name.log" | tail -1 || true
  fi
done
# Repeat the failures last: CI output is often shown from its tail.
for name in "${failed[@]}"; do
  echo "fuzz-smoke: FAILED $name; artifacts: $(ls "$out/$name"-* 2>/dev/null | tr '\n' ' ')"
  grep -E "ERROR|SUMMARY|out-of-memory|timeout|deadly|#0 |#1 |#2 |#3 |#4 " "$out/$name.log" | head -20
done
exit $status
