#!/usr/bin/env bash
# Installs what Ballast needs on a Debian machine when it is missing: OpenBLAS (CBLAS), LAPACKE and SQLite's headers
# (the results store). Idempotent: does nothing when all are present. Needs root (or sudo) only when something is missing.
set -euo pipefail
missing=()
for pkg in libopenblas-dev liblapacke-dev libsqlite3-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: libopenblas-dev, liblapacke-dev and libsqlite3-dev are present" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
