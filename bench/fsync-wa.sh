#!/usr/bin/env bash
# Write amplification of 4 KiB appends with an fsync after each, through the mount, from the
# mount's own wear counters (the issue-11 measurement). Usage:
#   bench/fsync-wa.sh [MODE...]      MODE: cached (--dax=never) or dax (--dax=always); default both
# Env: SIZE (default 80m), REGION_SIZE (1G), DIRECT (1), NUMJOBS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SIZE:=80m}" "${REGION_SIZE:=1G}" "${DIRECT:=1}" "${NUMJOBS:=1}"
WORK=$(mktemp -d /tmp/pmemfs-fsync-wa.XXXXXX)
REGION=/dev/shm/pmemfs-fsync-wa.$$.region
MNT=$WORK/mnt
mkdir -p "$MNT"
cleanup() {
  mountpoint -q "$MNT" && bin/pmemfs umount "$MNT" >/dev/null 2>&1 || true
  mountpoint -q "$MNT" && umount -l "$MNT" 2>/dev/null || true
  rm -rf "$WORK" "$REGION"
}
trap cleanup EXIT
stat_json() { python3 -c 'import os, sys; sys.stdout.buffer.write(os.getxattr(sys.argv[1], "user.pmemfs.stats"))' "$MNT"; }
for mode in "${@:-cached dax}"; do
  for m in $mode; do
    dax=never; [ "$m" = dax ] && dax=always
    bin/pmemfs mkfs --size "$REGION_SIZE" --force "$REGION" >/dev/null
    timeout 60 bin/pmemfs mount --dax=$dax --background "$REGION" "$MNT" >"$WORK/daemon.log" 2>&1
    stat_json >"$WORK/before.json"
    fio --name=fsync --directory="$MNT" --ioengine=psync --direct="$DIRECT" --rw=write --bs=4k --fsync=1 \
        --size="$SIZE" --numjobs="$NUMJOBS" --fallocate=none --group_reporting=1 --output-format=json >"$WORK/fio.json"
    stat_json >"$WORK/after.json"
    python3 - "$m" "$WORK/before.json" "$WORK/after.json" "$WORK/fio.json" <<'PY'
import json, sys
mode, b, a, f = sys.argv[1:]
b, a, f = json.load(open(b)), json.load(open(a)), json.load(open(f))
def media(s): return s["media_bytes"]
job = f["jobs"][0]
user = job["write"]["io_bytes"]
mb = media(a) - media(b)
print(f"{mode}: user {user/2**20:.1f} MiB, media {mb/2**20:.1f} MiB, WA {mb/user:.3f}, "
      f"{job['write']['iops']:.0f} write+fsync/s, write p50 {job['write']['clat_ns']['percentile']['50.000000']/1000:.0f} us, "
      f"fsync p50 {job['sync']['lat_ns']['percentile']['50.000000']/1000:.0f} us, "
      f"{(a['persists'] - b['persists']) / (user / 4096):.2f} persists and {(a['commits'] - b['commits']) / (user / 4096):.2f} commits per write")
if "areas" in a:
    hb = a["hottest_block"]
    print(f"  lifetime wear: hottest block {hb['block']} ({hb['area']}, {hb['writes']} writes); " + "; ".join(
        f"{x['area']} max {x['max']} mean {x['mean']} max/mean {x['max_over_mean']}" for x in a["areas"]))
    j = next(x for x in a["areas"] if x["area"] == "journal")
    outside = max(x["max"] for x in a["areas"] if x["area"] not in ("journal", "data"))
    print(f"  journal max <= 2 x mean: {j['max'] <= 2 * j['mean']}; no block outside data above the hottest journal block: {outside <= j['max']}")
PY
    bin/pmemfs umount "$MNT" >/dev/null
  done
done
