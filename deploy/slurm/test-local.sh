#!/usr/bin/env bash
# End-to-end test of the Slurm deployment on this machine: brings up the one-node cluster (local-cluster.sh),
# generates a book, runs it whole, submits it as N shards + merge with submit.sh, waits, and checks that the
# merged report equals the whole run: accounts.csv, holdings.csv, stress.csv, backtest.csv and the cascade files byte for byte, summary.json
# equal but for run metadata (phases, wall time, memory, threads, book path). Exit 0 only then.
#
#   deploy/slurm/test-local.sh [--bin PATH] [--accounts N] [--shards N] [--keep-cluster]
#
# Defaults: the release build (built if missing), 20,000 accounts, 4 shards; the daemons are stopped at the end
# unless --keep-cluster. Needs root (see local-cluster.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin= accounts=20000 shards=4 keep=
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --accounts) accounts=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --keep-cluster) keep=1; shift ;;
    *) echo "test-local.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  (cd "$root" && swift build -c release --product ballast >/dev/null)
  bin="$root/.build/release/ballast"
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
"$root/deploy/slurm/local-cluster.sh"

work=$(mktemp -d /tmp/ballast-slurm-test-XXXXXX)
cleanup() {
  rm -rf "$work"
  [ -n "$keep" ] || "$root/deploy/slurm/local-cluster.sh" stop
}
trap cleanup EXIT
args=(--set rebalance=all --set mc_paths=2000)
"$bin" generate --accounts "$accounts" --assets 40 --days 600 --seed 8 --out "$work/book" >/dev/null
"$bin" run "$work/book" --out "$work/whole" --quiet "${args[@]}"

read -r _ shard_job _ merge_job < <("$root/deploy/slurm/submit.sh" --bin "$bin" "$work/book" "$shards" \
  "$work/parts" "$work/report" "${args[@]}")
echo "test-local.sh: submitted shards (job $shard_job, array 0-$((shards - 1))) and merge (job $merge_job)" >&2
deadline=$((SECONDS + 600))
while [ -n "$(squeue -h -j "$shard_job,$merge_job" 2>/dev/null)" ]; do
  if [ $SECONDS -ge $deadline ]; then
    echo "test-local.sh: jobs still queued after 600 s" >&2; squeue >&2; exit 1
  fi
  sleep 1
done
state=$(scontrol show job "$merge_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1)
if [ "$state" != JobState=COMPLETED ]; then
  echo "test-local.sh: merge job $merge_job ended with $state" >&2
  tail -n 20 "$work"/parts/logs/*.out >&2 || true
  exit 1
fi
for f in accounts.csv holdings.csv stress.csv backtest.csv cascade.csv cascade_assets.csv; do
  cmp "$work/whole/$f" "$work/report/$f" || { echo "test-local.sh: $f differs from the whole run" >&2; exit 1; }
done
python3 - "$work/whole/summary.json" "$work/report/summary.json" <<'PY'
import json, sys
meta = {"phases_s", "wall_s", "peak_rss_bytes", "threads", "book_directory"}
a, b = ({k: v for k, v in json.load(open(p)).items() if k not in meta} for p in sys.argv[1:3])
if a != b:
    print("test-local.sh: summary.json differs beyond run metadata:", sorted(k for k in a if a[k] != b.get(k)), file=sys.stderr)
    sys.exit(1)
PY
echo "slurm: ${shards} shards of ${accounts} accounts merged = the whole run (CSV byte-identical, summary equal but for run metadata)"
