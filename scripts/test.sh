#!/usr/bin/env bash
# Second command of the README (and what CI runs): install what is missing, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --disable-xctest
