#!/usr/bin/env bash
# The replay benchmark of issue 3: on one generated trace, parse only
# (`hitless stats`) against parse + replay (`hitless entries --summary`, which
# replays every event and prints only counts). Prints medians of RUNS runs,
# the ratio, and peak RSS of each.
#
#   Benchmarks/replay.sh                 # 20 million events, 3 runs
#   EVENTS=2000000 RUNS=5 Benchmarks/replay.sh
#
# The trace is generated once and kept in $BENCH_OUT (default bench-out/,
# ignored by git). Plain text by default, the stricter case: parsing is then
# not hidden behind decompression. FORMAT=zst uses a zstd-compressed trace.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-20000000}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench-out}
FORMAT=${FORMAT:-txt}
mkdir -p "$OUT"

swift build -c release --scratch-path .build-release --product hitless >&2
BIN=.build-release/release/hitless

case "$FORMAT" in
    txt) TRACE="$OUT/replay-$EVENTS.trace" ;;
    zst) TRACE="$OUT/replay-$EVENTS.trace.zst" ;;
    *) echo "FORMAT must be txt or zst" >&2; exit 2 ;;
esac
if [ ! -s "$TRACE" ]; then
    echo "generating $TRACE ..." >&2
    "$BIN" generate --events "$EVENTS" --seed 1 --buggy 0.05 -o "$TRACE" --manifest "$OUT/replay-$EVENTS.json"
fi

TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT

# run NAME ARGS...: RUNS runs; prints "median_seconds max_rss_kib".
run() {
    local name=$1; shift
    local secs=() rss=0
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$TIMES" "$@" > /dev/null
        read -r s m < "$TIMES"
        secs+=("$s")
        (( m > rss )) && rss=$m
        echo "  $name: ${s}s, ${m} KiB" >&2
    done
    local median
    median=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$median $rss"
}

echo "trace: $TRACE ($(du -h "$TRACE" | cut -f1)), $EVENTS events, $RUNS runs each" >&2
read -r PARSE PARSE_RSS < <(run "parse (stats)" "$BIN" stats "$TRACE")
read -r REPLAY REPLAY_RSS < <(run "parse+replay (entries --summary)" "$BIN" entries --summary "$TRACE")
"$BIN" entries --summary "$TRACE" >&2

awk -v p="$PARSE" -v r="$REPLAY" -v pm="$PARSE_RSS" -v rm="$REPLAY_RSS" -v n="$EVENTS" 'BEGIN {
    printf "parse only      %8.2f s  %6.1f M events/s  peak RSS %7.1f MiB\n", p, n / p / 1e6, pm / 1024
    printf "parse + replay  %8.2f s  %6.1f M events/s  peak RSS %7.1f MiB\n", r, n / r / 1e6, rm / 1024
    printf "ratio           %8.2f (goal: at most 1.5)\n", r / p
}'
