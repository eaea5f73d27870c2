#!/usr/bin/env bash
# Second command of the README (and what CI runs): install what is missing, check the HTML report of the sample
# book in headless Chromium, run a sharded run through a real one-node Slurm cluster, then the whole test suite
# (last, so that its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# The browser check (scripts/check-report.sh installs Debian's chromium when missing): the sample book's
# report.html must render with every section and chart and log no console error.
check_dir="$(mktemp -d)"
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then scripts/postgres.sh stop "$pg_dir" || true; fi
  rm -rf "$check_dir"
}
trap cleanup EXIT
"$(swift build --show-bin-path)/ballast" run Data/sample --out "$check_dir/report" --quiet \
  --metrics-file "$check_dir/ballast.prom"
scripts/check-report.sh "$check_dir/report"
# The run's metrics file in Prometheus's own checker (scripts/promtool-check.sh installs Debian's prometheus when
# missing, as root; RunMetricsTests then check the rendered text with it too).
scripts/promtool-check.sh "$check_dir/ballast.prom"
# Sharded run on Slurm (issue 8): deploy/slurm/test-local.sh brings up slurmctld/slurmd/munge on this machine
# (installing Debian's packages when missing), submits 4 shards as a job array and the merge as a dependent job,
# and checks the merged report against a whole run byte for byte. It needs root (apt-get, /etc/slurm).
if [ "$(id -u)" -eq 0 ]; then
  deploy/slurm/test-local.sh --bin "$(swift build --show-bin-path)/ballast" --accounts 3000 --shards 4
else
  echo "Slurm end-to-end test skipped: needs root (run deploy/slurm/test-local.sh as root)" >&2
fi
# Fuzz smoke run (docs/FUZZING.md): the four libFuzzer targets (CSV, decimals, YAML config, part files) built with
# ASan in .build-fuzz, each over its seed corpus plus 2,000 mutations (~10 s in all, plus the build: ~2 min cold).
# The sanitizer runs of the whole suite (scripts/sanitize.sh asan|tsan) are not part of CI: see docs/FUZZING.md.
scripts/fuzz.sh --smoke
# --- PostgreSQL results store (PostgresStoreTests) -------------------------------------------------------------
# As root: a throwaway PostgreSQL cluster (scripts/postgres.sh; installs Debian's postgresql when missing) in a temp dir
# on a free port, for the suite below; stopped and removed on exit (`cleanup`). Otherwise
# PostgresStoreTests skip, unless BALLAST_TEST_POSTGRES_URL already names a server.
if [ "$(id -u)" -eq 0 ]; then
  pg_dir="$(mktemp -d /tmp/ballast-pg-XXXXXX)"
  pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  BALLAST_TEST_POSTGRES_URL="$(scripts/postgres.sh start "$pg_dir" "$pg_port")"
  export BALLAST_TEST_POSTGRES_URL
  export BALLAST_TEST_POSTGRES_PASSWORD_URL="postgresql://ballast_pw:s3cret-pw@127.0.0.1:$pg_port/ballast"
elif [ -z "${BALLAST_TEST_POSTGRES_URL:-}" ]; then
  echo "PostgreSQL store tests skipped: needs root (scripts/postgres.sh), or set BALLAST_TEST_POSTGRES_URL" >&2
fi
# --- end PostgreSQL -----------------------------------------------------------------------------------------------
# --no-parallel: several suites check bit-identical results across worker counts, and OpenBLAS's thread count is
# process-global; suites running side by side could change it under each other's dgemm calls.
swift test --skip-build --disable-xctest --no-parallel
