# Shared by the benchmark scripts (sourced, not run): medians and timed runs.
# Needs RUNS and GNU time (/usr/bin/time).

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed_runs NAME COMMAND: RUNS runs of `sh -c COMMAND`, each logged on
# stderr; prints "median_wall median_cpu max_rss_kib". CPU is user + system:
# on a loaded machine the wall clock measures the neighbours too. Exit status
# 1 (findings) is success here; 2 or more stops the benchmark.
timed_runs() {
    local name=$1 cmd=$2 walls=() cpus=() rss=0 status times
    times=$(mktemp)
    for _ in $(seq "$RUNS"); do
        status=0
        /usr/bin/time -f "%e %U %S %M" -o "$times" sh -c "$cmd" > /dev/null || status=$?
        if [ "$status" -gt 1 ]; then echo "$name failed (exit $status): $cmd" >&2; rm -f "$times"; exit 1; fi
        read -r e u s m < <(tail -n 1 "$times")
        walls+=("$e")
        cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
        (( m > rss )) && rss=$m
        echo "  $name: ${e} s wall, ${u} s user ${s} s sys, ${m} KiB" >&2
    done
    rm -f "$times"
    echo "$(median "${walls[@]}") $(median "${cpus[@]}") $rss"
}

# time_once NAME COMMAND: one run of `sh -c COMMAND`, logged on stderr;
# prints "wall cpu rss_kib". Exit status 1 (findings) is success here.
time_once() {
    local name=$1 cmd=$2 status=0 times e u s m
    times=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$times" sh -c "$cmd" > /dev/null || status=$?
    if [ "$status" -gt 1 ]; then echo "$name failed (exit $status): $cmd" >&2; rm -f "$times"; exit 1; fi
    read -r e u s m < <(tail -n 1 "$times")
    rm -f "$times"
    echo "  $name: ${e} s wall, ${u} s user ${s} s sys, ${m} KiB" >&2
    echo "$e $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') $m"
}
