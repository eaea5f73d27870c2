#!/usr/bin/env bash
# libFuzzer targets of the input parsers (docs/FUZZING.md): fuzz-csv, fuzz-decimal, fuzz-config, fuzz-part.
#
#   scripts/fuzz.sh [SECONDS]   each target for SECONDS (default 600), one after the other, under `nice -n 10`;
#                               release build (-O, -enable-testing) with AddressSanitizer. New corpus entries go to
#                               .build-fuzz/work/TARGET/corpus (not the repository), crashes to .build-fuzz/work/TARGET/.
#   scripts/fuzz.sh --smoke     each target over its seed corpus (Fuzz/corpus/TARGET) plus 2,000 mutations with a fixed
#                               seed; debug build (faster to compile). What scripts/test.sh (CI) runs.
#   scripts/fuzz.sh --seeds     remakes Fuzz/corpus/part/ (after a change of the part format): the synthetic parts of
#                               fuzz-part, and two parts of a small generated book written by `ballast run --shard`.
#
# FUZZ_TARGETS="csv part" runs only those targets. Exit code 1 when a target crashed or broke an invariant; the input
# is kept as .build-fuzz/work/TARGET/crash-… and the line to reproduce it is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(${FUZZ_TARGETS:-csv decimal config part})
mode=long
seconds=600
case "${1:-}" in
  --smoke) mode=smoke ;;
  --seeds) mode=seeds ;;
  "") ;;
  *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] | --smoke | --seeds" >&2; exit 2 ;;
  *) seconds=$1 ;;
esac
config=release
[ "$mode" = smoke ] && config=debug

scratch=.build-fuzz
work="$scratch/work"
# Per target: longest input (bytes) and dictionary.
max_len() { case $1 in csv) echo 8192 ;; decimal) echo 256 ;; config) echo 4096 ;; part) echo 32768 ;; esac; }

build() {  # build TARGET...
  # --sanitize=fuzzer makes SwiftPM compile the targets as libraries and link libFuzzer's main. The swift driver keeps
  # only the last -sanitize= option, so the Swift code gets "fuzzer,address" through -Xswiftc (after SwiftPM's own);
  # C code (Yams' libyaml, swift-crypto) gets both through clang, which adds them up.
  local flags=(-c "$config" --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address)
  [ "$config" = release ] && flags+=(-Xswiftc -enable-testing)  # the harnesses use @testable import RiskInput
  local t
  mkdir -p "$scratch"
  for t in "$@"; do
    if ! BALLAST_FUZZ=1 nice -n 10 swift build "${flags[@]}" --product "fuzz-$t" > "$scratch/build-$t.log" 2>&1; then
      # gold warns once per ASan symbol ("Cannot export local symbol"): noise.
      grep -v -e "Cannot export local symbol" -e "^\[" "$scratch/build-$t.log" | tail -40 >&2
      echo "fuzz.sh: building fuzz-$t failed (log: $scratch/build-$t.log)" >&2
      exit 1
    fi
  done
}

if [ "$mode" = seeds ]; then
  build part
  BALLAST_FUZZ_WRITE_SEEDS=Fuzz/corpus/part "$scratch/$config/fuzz-part"
  ballast="$(swift build --show-bin-path)/ballast"
  [ -x "$ballast" ] || { echo "fuzz.sh --seeds: build ballast first (swift build)" >&2; exit 1; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$ballast" generate --accounts 5 --assets 4 --days 300 --seed 1 --out "$tmp/book" >/dev/null
  head -3 "$tmp/book/scenarios.csv" > "$tmp/s.csv" && mv "$tmp/s.csv" "$tmp/book/scenarios.csv"
  for i in 0 1; do
    "$ballast" run "$tmp/book" --shard $i/2 --out "$tmp/part$i" --quiet \
      --set window=250 --set mc_paths=1000 --set historical_scenarios=none
    # The archive without the 32-byte SHA-256 trailer (what ResultArchive reads once the merge has checked it).
    head -c -32 "$tmp/part$i/part.ballast" > "$tmp/body$i"
  done
  cp "$tmp/body0" Fuzz/corpus/part/run-shard-0-of-2.ballast
  cat "$tmp/body0" "$tmp/body1" > Fuzz/corpus/part/run-shards-0-and-1-of-2.ballast
  ls -l Fuzz/corpus/part
  exit 0
fi

started=$(date +%s)
build "${targets[@]}"
echo "fuzz.sh: built ${targets[*]} ($config) in $(( $(date +%s) - started )) s" >&2

failed=0
summary=()
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir/crash-"* "$dir/oom-"* "$dir/timeout-"* "$dir/slow-unit-"* 2>/dev/null || true
  mkdir -p "$dir/corpus"
  [ "$mode" = smoke ] && rm -rf "$dir/corpus" && mkdir -p "$dir/corpus"
  args=(-max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/")
  [ -f "Fuzz/dict/$t.dict" ] && args+=(-dict="Fuzz/dict/$t.dict")
  if [ "$mode" = smoke ]; then
    args+=(-runs=2000 -seed=1 -max_total_time=60)
  else
    args+=(-max_total_time="$seconds")
  fi
  echo "fuzz.sh: fuzz-$t ${args[*]}" >&2
  t0=$(date +%s)
  # SWIFT_BACKTRACE=enable=no: the Swift runtime's crash backtracer would read the stack under ASan and report itself.
  if SWIFT_BACKTRACE=enable=no nice -n 10 "$scratch/$config/fuzz-$t" "${args[@]}" "$dir/corpus" "Fuzz/corpus/$t" \
       > "$dir/log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed=1
    grep -E "ERROR:|Fatal error|invariant broken|SUMMARY" "$dir/log" | head -5 >&2 || true
    for a in "$dir"/crash-* "$dir"/oom-* "$dir"/timeout-*; do
      [ -e "$a" ] && echo "fuzz.sh: fuzz-$t kept $a; reproduce:" \
        "${BALLAST_FUZZ_STRICT:+BALLAST_FUZZ_STRICT=1 }SWIFT_BACKTRACE=enable=no $scratch/$config/fuzz-$t $a" >&2
    done
    echo "fuzz.sh: full log in $dir/log" >&2
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  seeds=$(find "Fuzz/corpus/$t" -type f | wc -l)
  new=$(find "$dir/corpus" -type f | wc -l)
  summary+=("$(printf '%-13s %-7s %5d s %10s runs   corpus: %d seeds + %d found' "fuzz-$t" "$result" \
    $(( $(date +%s) - t0 )) "${runs:-?}" "$seeds" "$new")")
done
printf '%s\n' "${summary[@]}" >&2
exit $failed
