#!/usr/bin/env bash
# Submits a sharded Ballast run to Slurm: a job array of N shards, then a merge job that waits for all of them
# (--dependency=afterok). Book, parts and report must be on storage every node sees.
#
#   deploy/slurm/submit.sh [--bin PATH] [--only LIST] BOOK N PARTS_DIR REPORT_DIR [ballast run args...]
#
#   --bin PATH   the ballast executable on the nodes (default: ballast on PATH)
#   --only LIST  resubmit only these shards (e.g. 3,5 after they failed), and a new merge after them
#
# Prints "shards JOBID merge JOBID". Logs: PARTS_DIR/logs/. Extra sbatch options (partition, account, time)
# go in SBATCH_* environment variables, e.g. SBATCH_PARTITION=risk SBATCH_TIMELIMIT=02:00:00.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=ballast
only=
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 4 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
book=$(cd "$1" && pwd); shards=$2; parts=$3; report=$4; shift 4
case $shards in ''|*[!0-9]*) echo "submit.sh: N must be a positive whole number (got $shards)" >&2; exit 2 ;; esac
[ "$shards" -ge 1 ] || { echo "submit.sh: N must be at least 1" >&2; exit 2; }
mkdir -p "$parts/logs"
parts=$(cd "$parts" && pwd)
case $report in /*) ;; *) report="$PWD/$report" ;; esac
array=${only:-0-$((shards - 1))}
export BALLAST_BIN=$bin BALLAST_BOOK=$book BALLAST_SHARDS=$shards BALLAST_PARTS=$parts BALLAST_REPORT=$report
export BALLAST_RUN_ARGS="$*"
shard_job=$(sbatch --parsable --array="$array" --output="$parts/logs/shard-%A_%a.out" --export=ALL \
  "$here/ballast-shard.sbatch")
merge_job=$(sbatch --parsable --dependency="afterok:${shard_job%%;*}" --kill-on-invalid-dep=yes \
  --output="$parts/logs/merge-%j.out" --export=ALL "$here/ballast-merge.sbatch")
echo "shards ${shard_job%%;*} merge ${merge_job%%;*}"
