#!/usr/bin/env bash
# Runs the state fuzz target for ctest (tests/fuzz/CMakeLists.txt).
#   run.sh replay MODE FUZZER CORPUS               every committed input once
#   run.sh fuzz   MODE FUZZER CORPUS DICT SECONDS  bounded fuzzing
# MODE is libfuzzer or standalone (clang without libFuzzer: replay only).
# Fuzzing works on a scratch copy of the corpus, so the tree is never
# modified; a crashing input is kept beside the test (the build directory)
# and printed in base64, so a CI log alone is enough to reproduce it.
set -euo pipefail

what=$1 mode=$2 fuzzer=$3 corpus=$4
[ -x "$fuzzer" ] || { echo "FAIL: fuzz target not built: $fuzzer" >&2; exit 1; }
inputs=("$corpus"/*)
[ -e "${inputs[0]}" ] || { echo "FAIL: empty corpus $corpus" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if [ "$what" = replay ]; then
  # Each file named on the command line runs once (libFuzzer and standalone alike).
  "$fuzzer" "${inputs[@]}" >"$scratch/log" 2>&1 || {
    tail -n 60 "$scratch/log" >&2
    echo "FAIL: replaying $corpus" >&2
    exit 1
  }
  echo "ok - ${#inputs[@]} corpus inputs replayed without a finding ($mode)"
  exit 0
fi

dict=$5 seconds=$6
if [ "$mode" != libfuzzer ]; then
  echo "SKIP: clang++ has no libFuzzer (apt-get install libclang-rt-14-dev, then re-run cmake)"
  exit 77
fi
cp -r "$corpus" "$scratch/corpus"
mkdir "$scratch/artifacts"
rc=0
"$fuzzer" "$scratch/corpus" -dict="$dict" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -max_len=16384 -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 >"$scratch/log" 2>&1 || rc=$?
grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|Done [0-9]+ runs)" "$scratch/log" || true
if [ $rc -ne 0 ]; then
  tail -n 80 "$scratch/log" >&2
  for f in "$scratch"/artifacts/*; do
    [ -e "$f" ] || continue
    cp "$f" .
    echo "---- $(basename "$f") (kept as $PWD/$(basename "$f")), base64:" >&2
    base64 "$f" >&2
  done
  echo "FAIL: state_fuzz found a problem (exit $rc); add the input to $corpus once fixed" >&2
  exit 1
fi
echo "ok - fuzzed for ${seconds}s without a finding"
