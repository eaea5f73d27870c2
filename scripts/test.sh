#!/usr/bin/env bash
# Second command of the README (and what CI runs): install what is missing, check the HTML report of the sample
# book in headless Chromium, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# The browser check (scripts/check-report.sh installs Debian's chromium when missing): the sample book's
# report.html must render with every section and chart and log no console error.
check_dir="$(mktemp -d)"
trap 'rm -rf "$check_dir"' EXIT
"$(swift build --show-bin-path)/ballast" run Data/sample --out "$check_dir/report" --quiet
scripts/check-report.sh "$check_dir/report"
# --no-parallel: several suites check bit-identical results across worker counts, and OpenBLAS's thread count is
# process-global; suites running side by side could change it under each other's dgemm calls.
swift test --skip-build --disable-xctest --no-parallel
