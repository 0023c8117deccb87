#!/usr/bin/env bash
# The speed-and-scale benchmark of issue 6. In one run, on the same
# generated 20-million-event trace (zstd-compressed text, and its binary
# form made by `hitless convert`), times RUNS rounds (default 3) of every
# command in turn and prints medians of wall time, events per second, the ratios the
# issue asks for and peak resident memory (/usr/bin/time -f %M). Then the
# same for a 2-million-event trace, for linearity and memory at both sizes.
# Issue 4 asks for analysis in at most twice the time of parsing alone:
# analyze / stats, text and binary, wall and CPU.
# CPU time (user + system, children included) is printed beside the wall
# time: on a loaded machine the wall clock measures the neighbours too.
#
#   Benchmarks/run.sh                          # 20M and 2M events, 3 runs
#   EVENTS=2000000 SMALL=200000 Benchmarks/run.sh
#   SCRATCH=.build-e-release SKIP_BUILD=1 Benchmarks/run.sh
#
# Traces are generated once and kept in $BENCH_OUT (default bench-out/,
# ignored by git). Needs the zstd CLI (installed with apt-get when missing)
# and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-20000000}
SMALL=${SMALL:-$((EVENTS / 10))}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench-out}
SCRATCH=${SCRATCH:-.build-release}
mkdir -p "$OUT"

if ! command -v zstd > /dev/null; then
    echo "installing zstd ..." >&2
    apt-get install -y zstd > /dev/null || sudo apt-get install -y zstd > /dev/null
fi
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install -y time" >&2; exit 2; }

# SKIP_BUILD=1 uses the binary already in $SCRATCH.
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --scratch-path "$SCRATCH" --product hitless >&2
BIN=$SCRATCH/release/hitless

# trace N: the text .zst of N events (generated once), and its binary .htb.zst.
trace() {
    local n=$1 name
    if [ "$n" = "$EVENTS" ] && [ "$EVENTS" = 20000000 ]; then name=trace; else name=trace-$n; fi
    if [ ! -s "$OUT/$name.zst" ]; then
        echo "generating $OUT/$name.zst ..." >&2
        "$BIN" generate --events "$n" --seed 1 -o "$OUT/$name.zst" >&2
    fi
    if [ ! -s "$OUT/$name.htb.zst" ] || [ "$OUT/$name.htb.zst" -ot "$OUT/$name.zst" ]; then
        echo "converting to $OUT/$name.htb.zst ..." >&2
        "$BIN" convert "$OUT/$name.zst" "$OUT/$name.htb.zst" >&2
    fi
    echo "$OUT/$name"
}

. Benchmarks/lib.sh

BIG=$(trace "$EVENTS")
LITTLE=$(trace "$SMALL")
echo "traces: $BIG.zst ($(du -h "$BIG.zst" | cut -f1)), $BIG.htb.zst ($(du -h "$BIG.htb.zst" | cut -f1)); $RUNS runs each; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

RESULTS=$(mktemp)
RUNLOG=$(mktemp)
trap 'rm -f "$RESULTS" "$RUNLOG"' EXIT
# The commands, as KEY, EVENTS, NAME and COMMAND separated by tabs. They are run round-robin, RUNS
# rounds of every command in turn: this machine's speed drifts by up to
# twice over minutes, and each ratio should compare runs made at the same
# time, not a command's runs early with another's late.
FOUR="'$LITTLE.zst' '$LITTLE.zst' '$LITTLE.zst' '$LITTLE.zst'"
COMMANDS=(
    "zdc\t$EVENTS\tzstd -dc (text)\tzstd -dc '$BIG.zst' > /dev/null"
    "wcl\t$EVENTS\tzstdcat | wc -l (text)\tzstdcat '$BIG.zst' | wc -l"
    "stats\t$EVENTS\thitless stats (text)\t'$BIN' stats '$BIG.zst'"
    "tso\t$EVENTS\thitless analyze (text, tso)\t'$BIN' analyze '$BIG.zst'"
    "weak\t$EVENTS\thitless analyze --memory-model weak (text)\t'$BIN' analyze --memory-model weak '$BIG.zst'"
    "bzdc\t$EVENTS\tzstd -dc (binary)\tzstd -dc '$BIG.htb.zst' > /dev/null"
    "bstats\t$EVENTS\thitless stats (binary)\t'$BIN' stats '$BIG.htb.zst'"
    "btso\t$EVENTS\thitless analyze (binary, tso)\t'$BIN' analyze '$BIG.htb.zst'"
    "stso\t$SMALL\thitless analyze (text, tso, small)\t'$BIN' analyze '$LITTLE.zst'"
    "sbtso\t$SMALL\thitless analyze (binary, tso, small)\t'$BIN' analyze '$LITTLE.htb.zst'"
    "j1\t$((4 * SMALL))\thitless analyze --jobs 1, 4 traces (small)\t'$BIN' analyze --jobs 1 $FOUR"
    "j2\t$((4 * SMALL))\thitless analyze --jobs 2, 4 traces (small)\t'$BIN' analyze --jobs 2 $FOUR"
)
for round in $(seq "$RUNS"); do
    echo "round $round of $RUNS" >&2
    for entry in "${COMMANDS[@]}"; do
        IFS=$'\t' read -r key n name cmd <<< "$(printf '%b' "$entry")"
        run=$(time_once "$name" "$cmd") || exit 1
        echo "$key $run" >> "$RUNLOG"
    done
done
# Per command: median wall, median CPU, highest peak memory.
for entry in "${COMMANDS[@]}"; do
    IFS=$'\t' read -r key n name cmd <<< "$(printf '%b' "$entry")"
    walls=$(awk -v k="$key" '$1 == k { print $2 }' "$RUNLOG")
    cpus=$(awk -v k="$key" '$1 == k { print $3 }' "$RUNLOG")
    rss=$(awk -v k="$key" '$1 == k && $4 > m { m = $4 } END { print m }' "$RUNLOG")
    # shellcheck disable=SC2086
    echo "$key $n $(median $walls) $(median $cpus) $rss $name" >> "$RESULTS"
done

awk '
{ key[NR] = $1; n[$1] = $2; wall[$1] = $3; cpu[$1] = $4; rss[$1] = $5; name = $6; for (i = 7; i <= NF; i++) name = name " " $i; label[$1] = name }
END {
    printf "%-42s %9s %8s %8s %11s %11s %7s %7s %8s\n", "command (medians)", "events", "wall s", "CPU s", "events/s", "ev/CPU-s", "ratio", "CPU", "peak MiB"
    for (i = 1; i <= NR; i++) {
        k = key[i]
        base = (k == "bzdc" || k == "btso" || k == "bstats") ? "bzdc" : "wcl"
        small = (k == "stso" || k == "sbtso" || k == "j1" || k == "j2")
        ratio = small ? "" : sprintf("%.2f", wall[k] / wall[base])
        cratio = small ? "" : sprintf("%.2f", cpu[k] / cpu[base])
        printf "%-42s %9d %8.2f %8.2f %9.2f M %9.2f M %7s %7s %8.1f\n", label[k], n[k], wall[k], cpu[k], n[k] / wall[k] / 1e6, n[k] / cpu[k] / 1e6, ratio, cratio, rss[k] / 1024
    }
    printf "\nratios (wall, and CPU in parentheses): text to zstdcat | wc -l, binary to zstd -dc of the binary file\n"
    printf "analyze (text, tso) / zstdcat | wc -l:  %6.2f (%.2f)   goal: at most 2.0\n", wall["tso"] / wall["wcl"], cpu["tso"] / cpu["wcl"]
    printf "analyze (binary) / zstd -dc (binary):   %6.2f (%.2f)   goal: at most 1.2\n", wall["btso"] / wall["bzdc"], cpu["btso"] / cpu["bzdc"]
    printf "analyze / stats (parsing alone), text:  %6.2f (%.2f)   goal: at most 2.0\n", wall["tso"] / wall["stats"], cpu["tso"] / cpu["stats"]
    printf "analyze weak / stats, text:             %6.2f (%.2f)   goal: at most 2.0\n", wall["weak"] / wall["stats"], cpu["weak"] / cpu["stats"]
    printf "analyze / stats (parsing alone), binary:%6.2f (%.2f)   goal: at most 2.0\n", wall["btso"] / wall["bstats"], cpu["btso"] / cpu["bstats"]
    printf "linearity, text, %d / %d events:   time x%.2f (CPU x%.2f)   goal: at most x%.1f\n", n["tso"], n["stso"], wall["tso"] / wall["stso"], cpu["tso"] / cpu["stso"], 1.05 * n["tso"] / n["stso"]
    printf "linearity, binary, %d / %d events: time x%.2f (CPU x%.2f)\n", n["btso"], n["sbtso"], wall["btso"] / wall["sbtso"], cpu["btso"] / cpu["sbtso"]
    printf "--jobs 2 / --jobs 1 on 4 traces:        %6.2f (CPU %.2f)   goal: at most 0.6\n", wall["j2"] / wall["j1"], cpu["j2"] / cpu["j1"]
    printf "peak memory of analyze: text %.1f MiB (%d events), %.1f MiB (%d); binary %.1f MiB, %.1f MiB   goal: at most 64\n", rss["tso"] / 1024, n["tso"], rss["stso"] / 1024, n["stso"], rss["btso"] / 1024, rss["sbtso"] / 1024
}' "$RESULTS"
