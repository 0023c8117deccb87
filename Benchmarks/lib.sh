# Shared by the benchmark scripts (sourced, not run): medians and timed runs.
# Needs RUNS and GNU time (/usr/bin/time).

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# time_once NAME COMMAND: one run of `sh -c COMMAND`, logged on stderr;
# prints "wall cpu rss_kib". CPU is user + system: on a loaded machine the
# wall clock measures the neighbours too. Exit status 1 (findings) is
# success here; 2 or more fails (call it as `x=$(time_once ...) || exit`:
# a failure inside $(...) stops only the subshell).
time_once() {
    local name=$1 cmd=$2 status=0 times e u s m
    times=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$times" sh -c "$cmd" > /dev/null || status=$?
    if [ "$status" -gt 1 ]; then echo "$name failed (exit $status): $cmd" >&2; rm -f "$times"; return 1; fi
    read -r e u s m < <(tail -n 1 "$times")
    rm -f "$times"
    echo "  $name: ${e} s wall, ${u} s user ${s} s sys, ${m} KiB" >&2
    echo "$e $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') $m"
}

# timed_runs NAME COMMAND: RUNS runs of time_once; prints "median_wall
# median_cpu max_rss_kib". A failed run stops the benchmark.
timed_runs() {
    local name=$1 cmd=$2 walls=() cpus=() rss=0 run w c m
    for _ in $(seq "$RUNS"); do
        run=$(time_once "$name" "$cmd") || exit 1
        read -r w c m <<< "$run"
        walls+=("$w")
        cpus+=("$c")
        (( m > rss )) && rss=$m
    done
    echo "$(median "${walls[@]}") $(median "${cpus[@]}") $rss"
}
