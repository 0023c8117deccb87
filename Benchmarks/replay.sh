#!/usr/bin/env bash
# The replay benchmark of issue 3: on one generated trace, parse only
# (`hitless stats`) against parse + replay (`hitless entries --summary`, which
# replays every event and prints only counts; it parses on a second thread)
# and parse + replay on one thread (`--single-thread`). Prints medians of
# RUNS runs of wall and CPU time, the ratios, and peak RSS of each.
#
#   Benchmarks/replay.sh                 # 20 million events, 3 runs
#   EVENTS=2000000 RUNS=5 Benchmarks/replay.sh
#   SCRATCH=.build-e-release SKIP_BUILD=1 Benchmarks/replay.sh
#
# The trace is generated once and kept in $BENCH_OUT (default bench-out/,
# ignored by git). Plain text by default, the stricter case: parsing is then
# not hidden behind decompression. FORMAT=zst uses a zstd-compressed trace.
# The binary is built in $SCRATCH (default .build-release); SKIP_BUILD=1
# uses the one already there. Needs GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-20000000}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench-out}
FORMAT=${FORMAT:-txt}
SCRATCH=${SCRATCH:-.build-release}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install -y time" >&2; exit 2; }

# SKIP_BUILD=1 uses the binary already in $SCRATCH.
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --scratch-path "$SCRATCH" --product hitless >&2
BIN=$SCRATCH/release/hitless
[ -x "$BIN" ] || { echo "no binary at $BIN: build it, or run without SKIP_BUILD" >&2; exit 2; }

case "$FORMAT" in
    txt) TRACE="$OUT/replay-$EVENTS.trace" ;;
    zst) TRACE="$OUT/replay-$EVENTS.trace.zst" ;;
    *) echo "FORMAT must be txt or zst" >&2; exit 2 ;;
esac
if [ ! -s "$TRACE" ]; then
    echo "generating $TRACE ..." >&2
    "$BIN" generate --events "$EVENTS" --seed 1 --buggy 0.05 -o "$TRACE" --manifest "$OUT/replay-$EVENTS.json"
fi

. Benchmarks/lib.sh

echo "trace: $TRACE ($(du -h "$TRACE" | cut -f1)), $EVENTS events, $RUNS runs each; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Assigned, not read from <(...): a failed run must stop the script.
run=$(timed_runs "parse (stats)" "'$BIN' stats '$TRACE'") || exit 1
read -r PARSE PARSE_CPU PARSE_RSS <<< "$run"
run=$(timed_runs "parse+replay (entries --summary)" "'$BIN' entries --summary '$TRACE'") || exit 1
read -r REPLAY REPLAY_CPU REPLAY_RSS <<< "$run"
run=$(timed_runs "parse+replay, one thread" "'$BIN' entries --summary --single-thread '$TRACE'") || exit 1
read -r SINGLE SINGLE_CPU SINGLE_RSS <<< "$run"
"$BIN" entries --summary "$TRACE" >&2

awk -v p="$PARSE" -v r="$REPLAY" -v pc="$PARSE_CPU" -v rc="$REPLAY_CPU" -v pm="$PARSE_RSS" -v rm="$REPLAY_RSS" \
    -v s="$SINGLE" -v sc="$SINGLE_CPU" -v sm="$SINGLE_RSS" -v n="$EVENTS" 'BEGIN {
    printf "                  wall (median)   CPU (median)   events/s (CPU)   peak RSS\n"
    printf "parse only        %8.2f s      %8.2f s     %6.2f M        %7.1f MiB\n", p, pc, n / pc / 1e6, pm / 1024
    printf "parse + replay    %8.2f s      %8.2f s     %6.2f M        %7.1f MiB\n", r, rc, n / rc / 1e6, rm / 1024
    printf "  one thread      %8.2f s      %8.2f s     %6.2f M        %7.1f MiB\n", s, sc, n / sc / 1e6, sm / 1024
    printf "\nreplay / parse (parse + replay time over parse-only time, medians):\n"
    printf "  pipelined       wall %5.2f   CPU %5.2f   goal: wall at most 1.5\n", r / p, rc / pc
    printf "  one thread      wall %5.2f   CPU %5.2f\n", s / p, sc / pc
}'
