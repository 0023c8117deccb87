#!/usr/bin/env bash
# Fuzz/run.sh TARGET SECONDS [CORPUS...]
#
# Builds the libFuzzer target TARGET (reader or analyze: Fuzz/targets/TARGET.swift)
# with -sanitize=fuzzer,address over the sources of TraceFormat, Replay and
# Checks, then runs it for SECONDS seconds on a scratch copy of the seed
# corpus Fuzz/corpus/TARGET (the committed corpus is never written to) plus
# any CORPUS directories given. Exit status: 0 when the run ends without a
# crash, timeout, leak or out-of-memory; non-zero otherwise, with libFuzzer's
# report and the crashing input under $FUZZ_OUT (default .build-fuzz/out).
#
# Environment: FUZZ_BUILD (build directory, default .build-fuzz),
# FUZZ_OUT (artifacts), FUZZ_JOBS (parallel fuzzing processes, default 1),
# FUZZ_SEED (libFuzzer's -seed; unset, a random one), FUZZ_TIMEOUT (seconds
# one input may take before it counts as a hang, default 10: inputs take
# milliseconds, and a loaded CI machine must not turn a stall into a
# failure), SWIFTC (default swiftc on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${1:?usage: Fuzz/run.sh TARGET SECONDS [CORPUS...]}
seconds=${2:?usage: Fuzz/run.sh TARGET SECONDS [CORPUS...]}
shift 2
[ -f "Fuzz/targets/$target.swift" ] || { echo "no fuzz target $target (Fuzz/targets/)" >&2; exit 2; }
build=${FUZZ_BUILD:-$root/.build-fuzz}
out=${FUZZ_OUT:-$build/out}
jobs=${FUZZ_JOBS:-1}
swiftc=${SWIFTC:-swiftc}
mkdir -p "$build/modules" "$out"

zstd_flags=$(pkg-config --cflags libzstd 2>/dev/null || true)
zstd_libs=$(pkg-config --libs libzstd 2>/dev/null || echo -lzstd)
cflags=()
for f in $zstd_flags; do cflags+=(-Xcc "$f"); done

common=(-O -sanitize=fuzzer,address -parse-as-library -swift-version 6
        -I "$build/modules" -I Sources/CZstd "${cflags[@]}")

# One module at a time, in pipeline order; rebuilt only when a source is
# newer than its object.
module() {
  local name=$1
  shift
  local obj="$build/modules/$name.o"
  local sources=(Sources/"$name"/*.swift)
  local deps=()
  for d in "$@"; do deps+=("$build/modules/$d.o"); done
  local stale=0
  [ -f "$obj" ] || stale=1
  if [ $stale -eq 0 ]; then
    for s in "${sources[@]}" "${deps[@]}"; do
      [ "$s" -nt "$obj" ] && { stale=1; break; }
    done
  fi
  [ $stale -eq 0 ] && return 0
  echo "fuzz: building $name" >&2
  # -package-name as SwiftPM passes it: the modules share `package` symbols.
  "$swiftc" "${common[@]}" -module-name "$name" -package-name hitless -wmo \
    -emit-module -emit-module-path "$build/modules/$name.swiftmodule" \
    -c "${sources[@]}" -o "$obj"
}
module TraceFormat
module Replay TraceFormat
module Checks TraceFormat Replay

bin="$build/fuzz-$target"
if [ ! -x "$bin" ] || [ "Fuzz/targets/$target.swift" -nt "$bin" ] || [ "$build/modules/Checks.o" -nt "$bin" ]; then
  echo "fuzz: linking $target" >&2
  "$swiftc" "${common[@]}" -module-name "Fuzz_$target" "Fuzz/targets/$target.swift" \
    "$build/modules/TraceFormat.o" "$build/modules/Replay.o" "$build/modules/Checks.o" \
    $zstd_libs -o "$bin"
fi

# libFuzzer adds what it finds to the first corpus directory: a scratch copy,
# so that the committed seeds stay as they are.
work="$build/corpus-$target"
mkdir -p "$work"
cp -n Fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
dict=()
[ -f "Fuzz/trace.dict" ] && dict=(-dict=Fuzz/trace.dict)
args=(-max_total_time="$seconds" -timeout=${FUZZ_TIMEOUT:-10} -rss_limit_mb=${FUZZ_RSS_MB:-512} -malloc_limit_mb=64
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$out/$target-" "${dict[@]}")
if [ -n "${FUZZ_SEED:-}" ]; then
  args+=(-seed="$FUZZ_SEED")
fi
if [ "$jobs" -gt 1 ]; then
  args+=(-jobs="$jobs" -workers="$jobs")
fi
echo "fuzz: running $target for ${seconds}s" >&2
exec "$bin" "${args[@]}" "$work" Fuzz/corpus/"$target" "$@"
