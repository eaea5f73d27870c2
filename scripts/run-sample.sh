#!/usr/bin/env bash
# First command of the README: install what is missing, build Ballast (release), run it on Data/sample.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product ballast
"$(swift build -c release --show-bin-path)/ballast" run Data/sample --out report "$@"
echo "report written to report/ (accounts.csv, holdings.csv, stress.csv, summary.json)" >&2
