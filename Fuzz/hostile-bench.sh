#!/usr/bin/env bash
# Fuzz/hostile-bench.sh [HITLESS]
#
# Runs `hitless analyze` (release build unless HITLESS is given), under each
# memory model, on every file of the hostile corpus (Tests/HostileTests/Hostile/, each written
# uncompressed by make-hostile.py --plain, plus the committed files as they
# are) and prints, for each, its size, exit status, wall time and peak
# resident memory (/usr/bin/time). Fails when a file of at most 1 MB takes 2 s
# or more, or more than 64 MiB, or exits other than as expected.tsv says.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  swift build -c release --scratch-path "${BENCH_BUILD:-.build-bench}" --product hitless >&2
  bin="${BENCH_BUILD:-.build-bench}/release/hitless"
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 Tests/HostileTests/make-hostile.py --plain "$dir/plain" >/dev/null
cp Tests/HostileTests/Hostile/* "$dir/plain/" 2>/dev/null || true
rm -f "$dir/plain/expected.tsv"
fail=0
printf '%-40s %-5s %9s %6s %8s %9s\n' file model bytes exit seconds "peak KiB"
for f in "$dir"/plain/*; do
 for model in tso weak; do
  name=$(basename "$f")
  size=$(stat -c %s "$f")
  /usr/bin/time -f '%e %M' -o "$dir/time" timeout 30 "$bin" analyze --memory-model "$model" "$f" >/dev/null 2>&1 && status=0 || status=$?
  read -r seconds kib < <(tail -1 "$dir/time")
  expected=$(awk -F'\t' -v n="$name" -v z="$name.zst" '$1 == n || $1 == z { print $2 }' Tests/HostileTests/Hostile/expected.tsv)
  flag=""
  if [ "$size" -le 1048576 ]; then
    if awk -v s="$seconds" 'BEGIN { exit !(s >= 2) }'; then flag="$flag SLOW"; fi
    if [ "$kib" -gt 65536 ]; then flag="$flag MEMORY"; fi
  fi
  if [ -n "$expected" ] && [ "$status" != "$expected" ]; then flag="$flag STATUS(expected $expected)"; fi
  [ -n "$flag" ] && fail=1
  printf '%-40s %-5s %9d %6s %8s %9s%s\n' "$name" "$model" "$size" "$status" "$seconds" "$kib" "$flag"
 done
done
exit $fail
