#!/usr/bin/env bash
# The whole test suite under a sanitizer (docs/FUZZING.md):
#
#   scripts/sanitize.sh asan [SWIFT TEST OPTIONS]   AddressSanitizer, build in .build-asan (BALLAST_LSAN=1: + leaks)
#   scripts/sanitize.sh tsan [SWIFT TEST OPTIONS]   ThreadSanitizer, build in .build-tsan
#
# e.g. `scripts/sanitize.sh tsan --filter ShardMerge`. Every process of the run — the test runner and each `ballast` the
# CLI tests start — writes its sanitizer reports to SCRATCH/reports/ (log_path), so a report fails the script even when
# the process that made it was expected to fail anyway; the reports are printed. Exit code 1 on a failed test or a report.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  asan) sanitizer=address; scratch=.build-asan; name=asan ;;
  tsan) sanitizer=thread; scratch=.build-tsan; name=tsan ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan [swift test options]" >&2; exit 2 ;;
esac
shift
scripts/install-deps.sh

started=$(date +%s)
mkdir -p "$scratch"
if ! nice -n 10 swift build --build-tests --scratch-path "$scratch" --sanitize="$sanitizer" > "$scratch/build.log" 2>&1; then
  # gold warns once per ASan symbol ("Cannot export local symbol"): noise.
  grep -v -e "Cannot export local symbol" -e "^\[" "$scratch/build.log" | tail -40 >&2
  echo "sanitize.sh: the $sanitizer build failed (log: $scratch/build.log)" >&2
  exit 1
fi
built=$(date +%s)

reports="$PWD/$scratch/reports"
rm -rf "$reports"
mkdir -p "$reports"
# Shared by every process of the run (children inherit them). SWIFT_BACKTRACE=enable=no: the Swift runtime's own crash
# backtracer would run under the sanitizer and report itself instead of the crash.
export SWIFT_BACKTRACE=enable=no
# LeakSanitizer is off unless BALLAST_LSAN=1: it takes an array held in a Swift multi-payload enum (FigureValues'
# .integers/.texts, ResultArchive.Values) for a leak, because the enum keeps its case in the pointer's spare bits
# (docs/FUZZING.md); with it on, every run reports those arrays.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=${BALLAST_LSAN:-0}:strict_string_checks=1:detect_stack_use_after_return=1"
export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
status=0
# --no-parallel: as in scripts/test.sh (OpenBLAS's thread count is process-global).
nice -n 10 swift test --skip-build --scratch-path "$scratch" --sanitize="$sanitizer" --disable-xctest --no-parallel "$@" \
  || status=$?
finished=$(date +%s)

found=$(find "$reports" -type f | wc -l)
if [ "$found" -gt 0 ]; then
  for f in "$reports"/*; do
    echo "=== $f" >&2
    head -60 "$f" >&2
  done
  echo "sanitize.sh: $found sanitizer report file(s) in $reports" >&2
  status=1
fi
echo "sanitize.sh: $name: build $((built - started)) s, tests $((finished - built)) s, test exit code $status," \
  "$found report file(s)" >&2
exit $status
