#!/usr/bin/env bash
# bench/run.sh: runs the fio suite in bench/jobs against each target, side by side, and
# writes bench/out/report.md with PNG plots (via bench/report.py).
#
# Targets: tmpfs (kernel, no FUSE), noop-c (libfuse 3 no-op: the FUSE limit), noop-java
# (jnr-fuse no-op: what the binding costs), pmemfs-cached and pmemfs-dax (bin/pmemfs).
# A target that cannot be mounted is skipped with one line saying why; the run goes on.
#
# Usage: bench/run.sh            (full: about 2.5 min per target)
#        QUICK=1 bench/run.sh    (about 15 s per target)
# Environment: TARGETS="tmpfs noop-c ..." (subset/order), JOBS="seqwrite randread ..."
#   (subset of job names), OUT=dir (default bench/out), NUMJOBS, RUNTIME, SIZE, ...
#   PMEMFS_REGION (default /dev/shm/pmemfs-bench.region), PMEMFS_REGION_SIZE,
#   PMEMFS_CACHE_SIZE. The binaries must be built (make bench does it).
#
# Every mount this script makes is recorded and unmounted on exit (trap), whatever happens.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$HERE/build}
OUT=${OUT:-$HERE/out}
RAW=$OUT/raw
PMEMFS=${PMEMFS:-$ROOT/bin/pmemfs}
QUICK=${QUICK:-0}
TARGETS=${TARGETS:-"tmpfs noop-c noop-java pmemfs-cached pmemfs-dax"}
JOBS=${JOBS:-}

if [ "$QUICK" = 1 ]; then
  : "${RUNTIME:=1}" "${RAMP:=0}" "${SIZE:=16m}" "${WAL_SIZE:=16m}" "${NRFILES:=200}"
  : "${HOT_SIZE_MB:=8}" "${HOT_LOOPS:=4}" "${PMEMFS_REGION_SIZE:=1G}"
else
  : "${RUNTIME:=10}" "${RAMP:=1}" "${SIZE:=512m}" "${WAL_SIZE:=64m}" "${NRFILES:=4000}"
  : "${HOT_SIZE_MB:=64}" "${HOT_LOOPS:=16}" "${PMEMFS_REGION_SIZE:=4G}"
fi
: "${NUMJOBS:=2}" "${HOT_MAX_RUNTIME:=90}" "${META_MAX_RUNTIME:=60}" "${TMPFS_SIZE:=4g}"
: "${PMEMFS_REGION:=/dev/shm/pmemfs-bench.region}" "${PMEMFS_CACHE_SIZE:=2G}"
: "${FUSE_OPTS_JAVA:=big_writes,max_write=131072,auto_unmount}"
: "${FUSE_OPTS_C:=auto_unmount}"
export RUNTIME RAMP SIZE WAL_SIZE NRFILES HOT_LOOPS HOT_MAX_RUNTIME META_MAX_RUNTIME NUMJOBS
export HOT_HALF=$((HOT_SIZE_MB / 2))m HOT_IO=$((HOT_SIZE_MB / 2 * HOT_LOOPS))m

FUSERMOUNT=$(command -v fusermount3 || command -v fusermount || echo fusermount)
WORK=$(mktemp -d /tmp/pmemfs-bench.XXXXXX)
MOUNTS=()      # mount points this script mounted
REGION_MADE=   # set once this script ran pmemfs mkfs on PMEMFS_REGION
declare -A PIDS KINDS

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

is_mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts; }

wait_mounted() {  # mnt timeout_s [pid]
  local mnt=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  while ! is_mounted "$mnt"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.05
  done
}

unmount_target() {  # mnt: never leaves the mount or its daemon behind
  local mnt=$1 pid=${PIDS[$1]:-} kind=${KINDS[$1]:-}
  if is_mounted "$mnt"; then
    case $kind in
      pmemfs) timeout 60 "$PMEMFS" umount "$mnt" >>"$WORK/umount.log" 2>&1 ;;
      tmpfs) umount "$mnt" 2>/dev/null ;;
      *) "$FUSERMOUNT" -u "$mnt" 2>/dev/null ;;
    esac
  fi
  if is_mounted "$mnt"; then
    log "unmount of $mnt did not complete: lazy unmount"
    "$FUSERMOUNT" -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
  fi
  if [ -n "$pid" ]; then
    local i
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "daemon $pid still alive 10 s after unmount: SIGTERM"
      kill -TERM "$pid" 2>/dev/null; sleep 2; kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  fi
  unset "PIDS[$mnt]"
}

cleanup() {
  local m
  for m in "${MOUNTS[@]}"; do unmount_target "$m"; done
  MOUNTS=()
  # The emulated region is ours (mkfs --force): give its RAM back unless asked to keep it.
  if [ -n "$REGION_MADE" ] && [ -z "${KEEP_REGION:-}" ] && ! grep -q "^$PMEMFS_REGION " /proc/mounts; then
    rm -f "$PMEMFS_REGION"
  fi
  # Only remove the work dir once nothing is mounted below it.
  if ! grep -q " $WORK/" /proc/mounts; then rm -rf "$WORK"; else log "left $WORK: still mounted"; fi
}
FIO_PID=
on_signal() {
  log "interrupted: stopping fio, unmounting"
  [ -n "$FIO_PID" ] && kill -INT "$FIO_PID" 2>/dev/null && wait "$FIO_PID" 2>/dev/null
  exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

pmemfs_ok() {
  [ -x "$PMEMFS" ] && "$PMEMFS" --help >/dev/null 2>&1
}

# mount_target NAME MNT: mounts NAME at MNT; prints the reason and returns 1 when it cannot.
mount_target() {
  local name=$1 mnt=$2 pid=
  mkdir -p "$mnt"
  case $name in
    tmpfs)
      mount -t tmpfs -o "size=$TMPFS_SIZE" bench-tmpfs "$mnt" || { echo "mount -t tmpfs failed"; return 1; }
      KINDS[$mnt]=tmpfs ;;
    noop-c)
      [ -x "$BUILD/noop-c/noopfs" ] || { echo "noop-c not built ($BUILD/noop-c/noopfs)"; return 1; }
      # setsid: a Ctrl-C on the terminal goes to run.sh, whose trap unmounts in order.
      setsid "$BUILD/noop-c/noopfs" "$mnt" -o "$FUSE_OPTS_C" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    noop-java)
      [ -x "$BUILD/noop-java/run" ] || { echo "noop-java not built ($BUILD/noop-java/run)"; return 1; }
      setsid "$BUILD/noop-java/run" "$mnt" -o "$FUSE_OPTS_JAVA" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    pmemfs-cached|pmemfs-dax)
      pmemfs_ok || { echo "pmemfs not built yet ($PMEMFS missing or failing)"; return 1; }
      local dax=never; [ "$name" = pmemfs-dax ] && dax=always
      # A fresh region per mode, so wear and write amplification start from zero.
      REGION_MADE=1
      "$PMEMFS" mkfs --size "$PMEMFS_REGION_SIZE" --force "$PMEMFS_REGION" >"$RAW/$name/mkfs.log" 2>&1 \
        || { echo "pmemfs mkfs failed (see $RAW/$name/mkfs.log)"; return 1; }
      KINDS[$mnt]=pmemfs; MOUNTS+=("$mnt")
      # shellcheck disable=SC2086 # PMEMFS_MOUNT_OPTS: extra mount flags, word-split on purpose
      setsid timeout 60 "$PMEMFS" mount --cache-size "$PMEMFS_CACHE_SIZE" --dax="$dax" ${PMEMFS_MOUNT_OPTS:-} --background \
        "$PMEMFS_REGION" "$mnt" >"$RAW/$name/daemon.log" 2>&1 \
        || { echo "pmemfs mount failed (see $RAW/$name/daemon.log)"; return 1; } ;;
    *) echo "unknown target"; return 1 ;;
  esac
  [ -n "$pid" ] && PIDS[$mnt]=$pid
  case " ${MOUNTS[*]} " in *" $mnt "*) ;; *) MOUNTS+=("$mnt") ;; esac
  wait_mounted "$mnt" 30 "$pid" || { echo "did not mount within 30 s (see $RAW/$name/daemon.log)"; return 1; }
}

stats() {  # target mnt file: pmemfs stats --json, guarded
  case $1 in
    # The JSON of `pmemfs stats --json MNT`, read straight from the mount's stats xattr
    # (what that command reads), without a JVM start per job.
    pmemfs-*) timeout 30 python3 -c 'import os, sys; sys.stdout.buffer.write(os.getxattr(sys.argv[1], "user.pmemfs.stats"))' "$2" >"$3" 2>/dev/null || rm -f "$3" ;;
  esac
}

probe_direct() {  # prints 1 when O_DIRECT opens and writes work on mnt
  if dd if=/dev/zero of="$1/.odirect-probe" bs=4k count=1 oflag=direct status=none 2>/dev/null; then
    echo 1
  else
    echo 0
  fi
  rm -f "$1/.odirect-probe"
}

job_name() { basename "$1" .fio | sed 's/^[0-9]*-//'; }

run_target() {
  local name=$1 reason t0=$SECONDS
  local mnt=$WORK/$name
  mkdir -p "$RAW/$name"
  if ! mount_target "$name" "$mnt" >"$WORK/reason"; then
    reason=$(tr '\n' ' ' <"$WORK/reason")
    log "$name: skipped: $reason"
    printf '{"target": "%s", "skipped": "%s"}\n' "$name" "${reason//\"/\'}" >"$RAW/$name/meta.json"
    unmount_target "$mnt"
    return
  fi
  export DIR=$mnt DIRECT
  DIRECT=$(probe_direct "$mnt")
  local opts
  opts=$(awk -v m="$mnt" '$2 == m { print $3 " " $4 }' /proc/mounts)
  log "$name: mounted at $mnt ($opts), direct=$DIRECT"
  rm -f "$RAW/$name/.last-stats.json"
  stats "$name" "$mnt" "$RAW/$name/.last-stats.json"
  local f job rc js
  for f in "$HERE"/jobs/*.fio; do
    job=$(job_name "$f")
    if [ -n "$JOBS" ] && [ "$job" != layout ] && [[ " $JOBS " != *" $job "* ]]; then continue; fi
    # One `pmemfs stats` per job (a JVM start each): the "before" of a job is the "after"
    # of the previous one, or the stats right after the mount.
    # The hot overwrite starts from a clean cache, so its WA counts no write-back of earlier
    # jobs' pages (libfuse 2 has no syncfs: fsync every file, then take fresh "before" stats).
    if [ "$job" = hot-overwrite ] && [[ $name == pmemfs-* ]]; then
      python3 -c 'import os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        fd = os.open(os.path.join(d, f), os.O_RDONLY); os.fsync(fd); os.close(fd)' "$mnt"
      stats "$name" "$mnt" "$RAW/$name/.last-stats.json"
    fi
    [ -f "$RAW/$name/.last-stats.json" ] && cp "$RAW/$name/.last-stats.json" "$RAW/$name/$job.stats-before.json"
    js=$SECONDS
    # In the background + wait, so that a signal runs the trap at once (bash defers traps
    # while a foreground child runs); timeout forwards the INT the trap sends to fio.
    timeout --signal=INT --kill-after=10 $((RUNTIME + HOT_MAX_RUNTIME + META_MAX_RUNTIME + 60)) \
      fio --output-format=json --output="$RAW/$name/$job.json" "$f" 2>"$RAW/$name/$job.err" &
    FIO_PID=$!
    wait "$FIO_PID"
    rc=$?
    FIO_PID=
    # The hot overwrite's WA must include writing back what the cache absorbed: fsync the file
    # once at the end (fio's end_fsync would fsync after every pass over the file).
    [ "$job" = hot-overwrite ] && [ -f "$mnt/hot.dat" ] && \
      python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.close(fd)' "$mnt/hot.dat"
    stats "$name" "$mnt" "$RAW/$name/$job.stats-after.json"
    [ -f "$RAW/$name/$job.stats-after.json" ] && cp "$RAW/$name/$job.stats-after.json" "$RAW/$name/.last-stats.json"
    [ $rc -ne 0 ] && log "$name/$job: fio exit $rc: $(head -c 300 "$RAW/$name/$job.err" | tr '\n' ' ')"
    echo "$rc $((SECONDS - js))" >"$RAW/$name/$job.rc"
  done
  unmount_target "$mnt"
  printf '{"target": "%s", "direct": %s, "mount": "%s", "seconds": %d}\n' \
    "$name" "$DIRECT" "$opts" $((SECONDS - t0)) >"$RAW/$name/meta.json"
  log "$name: done in $((SECONDS - t0)) s"
}

main() {
  local t0=$SECONDS
  rm -rf "$RAW"; mkdir -p "$RAW"
  command -v fio >/dev/null || { log "fio is missing (make bench installs it)"; exit 1; }
  log "mode: $([ "$QUICK" = 1 ] && echo quick || echo full); targets: $TARGETS; runtime ${RUNTIME}s per timed job"
  local t
  for t in $TARGETS; do run_target "$t"; done
  cat >"$RAW/run.json" <<EOF
{"quick": $([ "$QUICK" = 1 ] && echo true || echo false), "seconds": $((SECONDS - t0)),
 "runtime": $RUNTIME, "ramp": $RAMP, "size": "$SIZE", "numjobs": $NUMJOBS, "wal_size": "$WAL_SIZE",
 "nrfiles": $NRFILES, "hot_size_mb": $HOT_SIZE_MB, "hot_loops": $HOT_LOOPS,
 "fuse_opts_c": "$FUSE_OPTS_C", "fuse_opts_java": "$FUSE_OPTS_JAVA",
 "pmemfs_cache_size": "$PMEMFS_CACHE_SIZE", "pmemfs_region_size": "$PMEMFS_REGION_SIZE",
 "targets": "$TARGETS"}
EOF
  python3 "$HERE/report.py" "$OUT" || log "report.py failed"
  log "finished in $((SECONDS - t0)) s: $OUT/report.md"
}

main "$@"
