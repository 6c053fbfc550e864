#!/usr/bin/env bash
# Cached against DAX on the 4 KiB append+fsync job (bench/jobs/06-fsync.fio), paired: both
# modes mounted side by side on the kernel frontend, the job run alternately on each, so every
# ratio compares two runs seconds apart on the same machine state (make bench runs the targets
# minutes apart, and on a shared 2-core machine that spread is larger than the difference).
# Within a pair the order alternates (cached first in odd pairs, DAX first in even ones), so
# that neither mode always runs right after the other.
# Usage: bench/fsync-pair.sh [PLACEMENT...]   same (fio and the daemon on CPU 0) and/or split
#        (daemon on CPU 1); default both. make bench runs it after bench/run.sh (PAIRED).
# Env: PAIRS (6), PAIR_RUNTIME (2: seconds per run), PRE (1: first run the bench's data jobs on each mount,
#      as make bench does, so the cache holds dirty data and the JIT has seen the data paths;
#      0: fresh mounts), WARM (5: seconds of the job on each mount before the pairs, as run.sh's
#      warm_fsync: its first seconds are JIT compilation; 0: none), CACHE (2G), REGION_SIZE (4G),
#      PMEMFS (bin/pmemfs), FRONTEND (kernel), JSON (a file for the results: per placement the
#      IOPS of each run and the ratios; bench/report.py reads OUT/raw/fsync-pair.json).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
: "${PAIRS:=6}" "${PAIR_RUNTIME:=2}" "${PRE:=1}" "${WARM:=5}" "${CACHE:=2G}" "${REGION_SIZE:=4G}" "${PMEMFS:=bin/pmemfs}"
: "${FRONTEND:=kernel}" "${JSON:=}"
[ -n "$JSON" ] && rm -f "$JSON"
WORK=$(mktemp -d /tmp/pmemfs-fsync-pair.XXXXXX)
cleanup() {
  for m in cached dax; do
    mountpoint -q "$WORK/$m" && { "$PMEMFS" umount "$WORK/$m" >/dev/null 2>&1 || umount -l "$WORK/$m"; }
    rm -f "/dev/shm/$(basename "$WORK").$m.region"
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
for m in cached dax; do
  mkdir -p "$WORK/$m"
  dax=never; [ $m = dax ] && dax=always
  region=/dev/shm/$(basename "$WORK").$m.region
  "$PMEMFS" mkfs --size "$REGION_SIZE" --force "$region" >/dev/null
  setsid timeout 60 "$PMEMFS" mount --cache-size "$CACHE" --dax=$dax --frontend="$FRONTEND" --background "$region" "$WORK/$m" >"$WORK/$m.log" 2>&1
done
export DIRECT=1 RAMP=1 RUNTIME=3 SIZE=512m NUMJOBS=2 WAL_SIZE=64m
if [ "$PRE" = 1 ]; then
  for m in cached dax; do
    for j in 01-seqwrite 02-seqread 03-randread 04-randwrite 05-randrw; do
      DIR=$WORK/$m fio --output-format=json "bench/jobs/$j.fio" >/dev/null
    done
  done
fi
if [ "$WARM" != 0 ]; then
  for m in cached dax; do fsync_warmup "$WORK/$m" "$WARM" "$WORK"; done
fi
export RAMP=0 NUMJOBS=1 RUNTIME=$PAIR_RUNTIME
for pl in "${@:-same split}"; do
  for p in $pl; do
    cpu=0; [ "$p" = split ] && cpu=1
    for m in cached dax; do
      for pid in $(pgrep -f -- "$WORK/$m( |\$)"); do taskset -a -p -c $cpu "$pid" >/dev/null 2>&1 || true; done
    done
    for i in $(seq "$PAIRS"); do
      order="cached dax"; [ $((i % 2)) = 0 ] && order="dax cached"
      for m in $order; do
        DIR=$WORK/$m taskset -c 0 fio --output-format=json bench/jobs/06-fsync.fio >"$WORK/$p.$m.$i.json"
        rm -f "$WORK/$m"/wal.*
      done
    done
    PRE=$PRE WARM=$WARM python3 - "$WORK" "$p" "$PAIRS" "$JSON" <<'PY'
import json, os, statistics, sys
work, pl, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def iops(m, i): return json.load(open(f"{work}/{pl}.{m}.{i}.json"))["jobs"][0]["write"]["iops"]
rows = [(iops("cached", i), iops("dax", i)) for i in range(1, n + 1)]
ratios = [c / d for c, d in rows]
print(f"{pl}: " + ", ".join(f"{c:.0f}/{d:.0f}" for c, d in rows) + " write+fsync/s (cached/DAX)")
print(f"{pl}: cached/DAX median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}")
if out:
    res = json.load(open(out)) if os.path.exists(out) else {"placements": {}}
    res.update(pairs=n, seconds_per_run=float(os.environ["RUNTIME"]), pre=os.environ["PRE"] == "1",
               warm_seconds=float(os.environ["WARM"]))
    res["placements"][pl] = {"cached": [c for c, _ in rows], "dax": [d for _, d in rows], "ratios": ratios,
                             "median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    json.dump(res, open(out, "w"), indent=1)
PY
  done
done
