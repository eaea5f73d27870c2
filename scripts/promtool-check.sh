#!/usr/bin/env bash
# Checks a Prometheus text file (`ballast run … --metrics-file FILE`) with `promtool check metrics < FILE`: the
# format, and the lint rules on names, units and help texts.
#
#   scripts/promtool-check.sh FILE
#
# Installs Debian's `prometheus` package (which provides promtool) with apt-get when promtool is missing and the script
# runs as root. Not root and no promtool: says why on stderr, prints "skipped" and exits 0.
# Exit codes: 0 the file passes (or skipped); promtool's own otherwise (1 unreadable, 3 lint problems); 2 bad usage.
set -euo pipefail
if [[ $# -ne 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
file="$1"
[[ -f "$file" ]] || { echo "promtool-check: $file not found" >&2; exit 2; }
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "promtool-check: installing prometheus (for promtool)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "promtool-check: promtool not found and not root, cannot install Debian's prometheus package" >&2
    echo "skipped"
    exit 0
  fi
fi
promtool check metrics < "$file"
echo "promtool-check: $file passes promtool check metrics" >&2
