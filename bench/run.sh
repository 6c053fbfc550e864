#!/usr/bin/env bash
# bench/run.sh: runs the fio suite in bench/jobs against each target, side by side, and
# writes bench/out/report.md with PNG plots (via bench/report.py).
#
# Targets (README.md): tmpfs (kernel, no FUSE); ramfs-c (a RAM filesystem on libfuse 3's
# low-level API, the baseline of every ratio); noop-c (the same, discarding: the protocol
# cost); noop-c-hl (libfuse 3 high-level no-op, not run by default); noop-java (jnr-fuse
# no-op: what that binding costs); pmemfs-cached and pmemfs-dax (bin/pmemfs on the
# jnr-fuse frontend); pmemfs-kernel-cached and pmemfs-kernel-dax (`--frontend=kernel`, the
# /dev/fuse frontend of issue 10) and noop-kernel (a Java no-op on that frontend: `pmemfs noop-mount`, or
# NOOP_KERNEL_CMD if set). A target that cannot be mounted is skipped with one line saying why.
#
# CPU placement: on a 2-core machine 4 KiB IOPS depend mostly on whether fio and the FUSE
# server share a CPU, so the 4 KiB jobs (PIN_JOBS) run once per PLACEMENTS entry:
#   same  = fio (PIN_NUMJOBS jobs, default 1) and every thread of the server on CPU FIO_CPU;
#   split = fio on FIO_CPU, the server on SERVER_CPU;
#   free  = no pinning, NUMJOBS fio jobs (the scheduler decides); only for FREE_JOBS
#           (default rand read and rand write: where two jobs show how a server scales).
# The other jobs run unpinned. Every target gets the same treatment (tmpfs: fio only).
#
# Usage: bench/run.sh            (full: about 90 s per target; pinned: all 4 KiB jobs, 3 ways)
#        QUICK=1 bench/run.sh    (about 15-35 s per target; pinned: rand read/write, 2 ways)
# Environment: TARGETS="tmpfs ramfs-c ..." (subset/order), JOBS="seqwrite randread ..."
#   (subset of job names), PLACEMENTS, OUT=dir (default bench/out), NUMJOBS, RUNTIME, SIZE,
#   PMEMFS_REGION (default /dev/shm/pmemfs-bench.XXXXXX.region, one per run; in job order one
#   per target beside it: .NAME.region), PMEMFS_REGION_SIZE, ORDER (job or target), PAIRED,
#   PMEMFS_CACHE_SIZE, PMEMFS_MOUNT_OPTS, NOOP_KERNEL_CMD, REPEATS and REPEAT_KEYS (job@placement
#   keys run REPEATS times, the median run counts; full mode: 3 for the noisiest four). The binaries must be built
#   (make bench does it).
#
# Order (ORDER): job (default) mounts every target at once, a region each (2 GiB in full mode),
# and runs each job on every target before the next job, the first target rotating, the
# targets waiting for their turn stopped (SIGSTOP); target runs every job on one target, then
# the next target (one region, 4 GiB). On this VM the whole machine drifts by 10-30 % over
# minutes (ramfs-c's figures moved that much between two runs), and in target order a ratio
# compares runs up to 15 minutes apart.
#
# Every mount this script makes is recorded and unmounted on exit (trap), whatever happens
# (stopped servers are continued first).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$HERE/build}
OUT=${OUT:-$HERE/out}
RAW=$OUT/raw
PMEMFS=${PMEMFS:-$ROOT/bin/pmemfs}
QUICK=${QUICK:-0}
TARGETS=${TARGETS:-"tmpfs ramfs-c noop-c noop-java pmemfs-cached pmemfs-dax pmemfs-kernel-cached pmemfs-kernel-dax noop-kernel"}
JOBS=${JOBS:-}

if [ "$QUICK" = 1 ]; then
  # A smoke test: fio's own start and stop (about 0.7 s a run) dominate, so fewer runs.
  : "${RUNTIME:=500ms}" "${RAMP:=0}" "${SIZE:=16m}" "${WAL_SIZE:=16m}" "${NRFILES:=200}"
  : "${HOT_SIZE_MB:=8}" "${HOT_LOOPS:=4}" "${PMEMFS_REGION_SIZE:=1G}"
  : "${PLACEMENTS:=same split}" "${PIN_JOBS:=randread randwrite}"
else
  : "${RUNTIME:=3}" "${RAMP:=1}" "${SIZE:=512m}" "${WAL_SIZE:=64m}" "${NRFILES:=10000}"
  : "${HOT_SIZE_MB:=64}" "${HOT_LOOPS:=16}"
  : "${PLACEMENTS:=same split free}" "${PIN_JOBS:=randread randwrite randrw fsync}"
  # The cells whose one window moves most between runs on a small VM (measured: the unpinned
  # 4 KiB jobs 60-190k IOPS on one mount, the append+fsync job +-15 %) run REPEATS times; the
  # report takes the median run and shows the range.
  : "${REPEATS:=3}" "${REPEAT_KEYS:=randread@free randwrite@free fsync@same fsync@split}"
  # Cached against DAX on the append+fsync job, the two mounted side by side and run in
  # alternation (bench/fsync-pair.sh): targets run minutes apart here, and their spread on this
  # job (+-15 %) is larger than the difference between the modes.
  : "${PAIRED:=1}"
fi
# Job order (see run_job_order) keeps every target mounted at once, a region each: 2 GiB regions
# then, so that four pmemfs regions, their caches and the RAM targets fit in RAM together.
: "${ORDER:=job}"
[ "$ORDER" = job ] && [ "$QUICK" != 1 ] && : "${PMEMFS_REGION_SIZE:=2G}"
: "${PAIRED:=0}"
: "${REPEATS:=1}" "${REPEAT_KEYS:=}"
: "${WARM_FSYNC:=5}" "${NUMJOBS:=2}" "${HOT_MAX_RUNTIME:=90}" "${META_MAX_RUNTIME:=60}" "${TMPFS_SIZE:=4g}"
# The hot overwrite runs to its size on pmemfs (its WA needs every pass); elsewhere only its
# rate counts, so it stops after HOT_OTHERS_RUNTIME seconds.
: "${HOT_OTHERS_RUNTIME:=10}"
: "${PMEMFS_CACHE_SIZE:=2G}" "${PMEMFS_REGION_SIZE:=4G}"
: "${FUSE_OPTS_JAVA:=big_writes,max_write=131072,auto_unmount,default_permissions}"
# default_permissions on every FUSE target, as pmemfs mounts: the kernel checks modes (a FUSE
# request carries no supplementary groups, so a filesystem cannot check them itself). It costs
# a GETATTR of the directory after each create or unlink (the kernel drops the directory's
# attributes then); without it the C targets would skip a permission model pmemfs must keep.
: "${FUSE_OPTS_C:=auto_unmount,default_permissions}"
# 1 MiB requests for the libfuse 3 targets (libfuse derives max_pages 256 from it), as the
# kernel frontend of pmemfs negotiates; jnr-fuse (libfuse 2) stays capped at 128 KiB.
: "${C_MAX_WRITE:=1048576}"
: "${PIN_NUMJOBS:=1}" "${FREE_JOBS:=randread randwrite}" "${FIO_CPU:=0}" "${SERVER_CPU:=1}"
ALL_CPUS=0-$(($(nproc) - 1))
export RUNTIME RAMP SIZE WAL_SIZE NRFILES HOT_LOOPS HOT_MAX_RUNTIME META_MAX_RUNTIME NUMJOBS
export HOT_HALF=$((HOT_SIZE_MB / 2))m HOT_IO=$((HOT_SIZE_MB / 2 * HOT_LOOPS))m

FUSERMOUNT=$(command -v fusermount3 || command -v fusermount || echo fusermount)
WORK=$(mktemp -d /tmp/pmemfs-bench.XXXXXX)
# One region per run, so that two benches on one machine never format each other's region.
: "${PMEMFS_REGION:=/dev/shm/$(basename "$WORK").region}"
MOUNTS=()      # mount points this script mounted
REGIONS_MADE=()   # the region files this script ran pmemfs mkfs on (removed at exit)

# region_of NAME: the region of a pmemfs target: PMEMFS_REGION in target order (one target at
# a time), one file per target beside it in job order.
region_of() {
  if [ "$ORDER" = job ]; then echo "${PMEMFS_REGION%.region}.$1.region"; else echo "$PMEMFS_REGION"; fi
}

remove_regions() {  # unless KEEP_REGION: gives their RAM back
  local r
  [ -n "${KEEP_REGION:-}" ] && return
  for r in "${REGIONS_MADE[@]}"; do
    grep -q "^$r " /proc/mounts || rm -f "$r"
  done
  REGIONS_MADE=()
}
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

# freeze MNT / thaw MNT: stop and continue every server process of the target at MNT (job
# order: a target waiting for its turn runs nothing). FROZEN lists the stopped mounts.
declare -A FROZEN
freeze() {
  local p
  for p in $(server_pids "$1"); do kill -STOP "$p" 2>/dev/null; done
  FROZEN[$1]=1
}
thaw() {
  local p
  [ -n "${FROZEN[$1]:-}" ] || return 0
  for p in $(server_pids "$1"); do kill -CONT "$p" 2>/dev/null; done
  unset "FROZEN[$1]"
}

unmount_target() {  # mnt: never leaves the mount or its daemon behind
  local mnt=$1 pid=${PIDS[$1]:-} kind=${KINDS[$1]:-}
  thaw "$mnt"
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
  remove_regions
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

PMEMFS_OK=
pmemfs_ok() {  # true when bin/pmemfs runs (checked once: a JVM start)
  [ -z "$PMEMFS_OK" ] && { [ -x "$PMEMFS" ] && "$PMEMFS" --help >/dev/null 2>&1 && PMEMFS_OK=1 || PMEMFS_OK=0; }
  [ "$PMEMFS_OK" = 1 ]
}

FRONTENDS=unknown
pmemfs_frontends() {  # prints the --frontend values `pmemfs mount` accepts (empty: no choice)
  if [ "$FRONTENDS" = unknown ]; then
    local help
    help=$("$PMEMFS" mount --help 2>&1)
    FRONTENDS=
    if grep -q -- --frontend <<<"$help"; then
      FRONTENDS=$(grep -o -E 'kernel|jnr-fuse' <<<"$help" | sort -u | tr '\n' ' ')
    fi
  fi
  echo "$FRONTENDS"
}

# The server's processes of the target mounted at mnt: every process whose command line names
# the mount point (the daemon, a JVM, fusermount's auto_unmount helper). fio's does not.
server_pids() { pgrep -f -- "$1( |\$)" 2>/dev/null; }

# place_server mnt cpus: sets the CPU affinity of every thread of the server; prints how many
# processes it pinned.
place_server() {
  local p n=0
  for p in $(server_pids "$1"); do
    taskset -a -p -c "$2" "$p" >/dev/null 2>&1 && n=$((n + 1))
  done
  echo $n
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
      [ -x "$BUILD/noop-c/noopfs-ll" ] || { echo "noop-c not built ($BUILD/noop-c/noopfs-ll)"; return 1; }
      # setsid: a Ctrl-C on the terminal goes to run.sh, whose trap unmounts in order.
      RAMFS_MAX_WRITE=$C_MAX_WRITE setsid "$BUILD/noop-c/noopfs-ll" "$mnt" -o "$FUSE_OPTS_C" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    noop-c-hl)
      [ -x "$BUILD/noop-c/noopfs" ] || { echo "noop-c-hl not built ($BUILD/noop-c/noopfs)"; return 1; }
      NOOPFS_MAX_WRITE=$C_MAX_WRITE setsid "$BUILD/noop-c/noopfs" "$mnt" -o "$FUSE_OPTS_C" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    ramfs-c)
      [ -x "$BUILD/noop-c/ramfs" ] || { echo "ramfs-c not built ($BUILD/noop-c/ramfs)"; return 1; }
      RAMFS_MAX_WRITE=$C_MAX_WRITE setsid "$BUILD/noop-c/ramfs" "$mnt" -o "$FUSE_OPTS_C" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    noop-kernel)
      # A Java no-op filesystem on pmemfs's /dev/fuse frontend (NOOP_KERNEL_CMD overrides). The
      # command mounts at the directory given as its last argument and stays in the foreground.
      # Default: pmemfs's hidden `noop-mount` command (kernel/NoopHandler.java).
      if [ -z "${NOOP_KERNEL_CMD:-}" ]; then
        pmemfs_ok || { echo "pmemfs not built yet ($PMEMFS missing or failing): no noop-mount"; return 1; }
        NOOP_KERNEL_CMD="$PMEMFS noop-mount"
      fi
      # shellcheck disable=SC2086 # a command line, word-split on purpose
      setsid $NOOP_KERNEL_CMD "$mnt" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    noop-java)
      [ -x "$BUILD/noop-java/run" ] || { echo "noop-java not built ($BUILD/noop-java/run)"; return 1; }
      setsid "$BUILD/noop-java/run" "$mnt" -o "$FUSE_OPTS_JAVA" >"$RAW/$name/daemon.log" 2>&1 &
      pid=$!; KINDS[$mnt]=fuse ;;
    pmemfs-cached|pmemfs-dax|pmemfs-kernel-cached|pmemfs-kernel-dax)
      pmemfs_ok || { echo "pmemfs not built yet ($PMEMFS missing or failing)"; return 1; }
      local dax=never frontend=; [ "${name%dax}" != "$name" ] && dax=always
      # The jnr-fuse targets name their frontend once pmemfs has a choice (the default may
      # change to kernel); the kernel targets need that choice.
      case $name in
        pmemfs-kernel-*)
          pmemfs_frontends | grep -qw kernel \
            || { echo "pmemfs has no --frontend=kernel yet (issue 10)"; return 1; }
          frontend=--frontend=kernel ;;
        *) pmemfs_frontends | grep -qw jnr-fuse && frontend=--frontend=jnr-fuse ;;
      esac
      # A fresh region per mode, so wear and write amplification start from zero.
      local region
      region=$(region_of "$name")
      REGIONS_MADE+=("$region")
      "$PMEMFS" mkfs --size "$PMEMFS_REGION_SIZE" --force "$region" >"$RAW/$name/mkfs.log" 2>&1 \
        || { echo "pmemfs mkfs failed (see $RAW/$name/mkfs.log)"; return 1; }
      KINDS[$mnt]=pmemfs; MOUNTS+=("$mnt")
      # shellcheck disable=SC2086 # PMEMFS_MOUNT_OPTS: extra mount flags, word-split on purpose
      setsid timeout 60 "$PMEMFS" mount --cache-size "$PMEMFS_CACHE_SIZE" --dax="$dax" $frontend ${PMEMFS_MOUNT_OPTS:-} --background \
        "$region" "$mnt" >"$RAW/$name/daemon.log" 2>&1 \
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

# run_job target mnt jobfile job placement: one fio run; its results are RAW/target/KEY.*
# with KEY = job, or job@placement for the pinned 4 KiB jobs.
run_job() {
  local name=$1 mnt=$2 f=$3 job=$4 pl=$5 key=$4 rc js nj=$NUMJOBS servers
  local -a pin=()
  [ -n "$pl" ] && key="$job@$pl"
  case $pl in
    same) servers=$(place_server "$mnt" "$FIO_CPU"); pin=(taskset -c "$FIO_CPU"); nj=$PIN_NUMJOBS ;;
    split) servers=$(place_server "$mnt" "$SERVER_CPU"); pin=(taskset -c "$FIO_CPU"); nj=$PIN_NUMJOBS ;;
    free|"") servers=$(place_server "$mnt" "$ALL_CPUS") ;;
    *) log "unknown placement $pl (same, split or free)"; return ;;
  esac
  if [ -n "$pl" ]; then
    printf '{"placement": "%s", "numjobs": %s, "fio_cpus": "%s", "server_processes": %s}\n' "$pl" "$nj" \
      "$([ "$pl" = free ] && echo "$ALL_CPUS" || echo "$FIO_CPU")" "$servers" >"$RAW/$name/$key.place.json"
    [ "$servers" = 0 ] && [ "${KINDS[$mnt]}" != tmpfs ] && log "$name/$key: no server process found to pin"
  fi
  # One stats read per job: the "before" of a job is the "after" of the previous one, or the
  # stats right after the mount.
  # The hot overwrite and the append+fsync job start from a clean cache, so they pay for no
  # write-back of earlier jobs' dirty pages (the hot overwrite's WA would count them; the
  # append+fsync job would share the CPU with their 30 s delayed write-back, a cost DAX never
  # has): fsync every file (libfuse 2 has no syncfs), then take fresh "before" stats.
  if { [ "$job" = hot-overwrite ] || [ "$job" = fsync ]; } && [[ $name == pmemfs-* ]]; then
    python3 -c 'import os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        fd = os.open(os.path.join(d, f), os.O_RDONLY); os.fsync(fd); os.close(fd)' "$mnt"
    stats "$name" "$mnt" "$RAW/$name/.last-stats.json"
  fi
  [ -f "$RAW/$name/.last-stats.json" ] && cp "$RAW/$name/.last-stats.json" "$RAW/$name/$key.stats-before.json"
  js=$SECONDS
  # In the background + wait, so that a signal runs the trap at once (bash defers traps
  # while a foreground child runs); timeout forwards the INT the trap sends to fio.
  local hot_cap=$HOT_MAX_RUNTIME
  [[ $name != pmemfs-* ]] && [ "$HOT_OTHERS_RUNTIME" -lt "$hot_cap" ] && hot_cap=$HOT_OTHERS_RUNTIME
  local runs=1 r out
  [[ " $REPEAT_KEYS " == *" $key "* ]] && runs=$REPEATS
  for ((r = 1; r <= runs; r++)); do
    out=$RAW/$name/$key.json
    [ "$runs" -gt 1 ] && out=$RAW/$name/$key.run$r.json
    HOT_MAX_RUNTIME=$hot_cap NUMJOBS=$nj timeout --signal=INT --kill-after=10 $((${RUNTIME//[!0-9]/} + HOT_MAX_RUNTIME + META_MAX_RUNTIME + 60)) \
      "${pin[@]}" fio --output-format=json --output="$out" "$f" 2>"$RAW/$name/$key.err" &
    FIO_PID=$!
    wait "$FIO_PID"
    rc=$?
    FIO_PID=
    [ $rc -ne 0 ] && break
  done
  # Repeated: the run with the median throughput becomes the job's result (report.py shows the range).
  [ "$runs" -gt 1 ] && [ $rc -eq 0 ] && python3 "$HERE/median_run.py" "$RAW/$name/$key"
  # The hot overwrite's WA must include writing back what the cache absorbed: fsync the file
  # once at the end (fio's end_fsync would fsync after every pass over the file).
  [ "$job" = hot-overwrite ] && [ -f "$mnt/hot.dat" ] && \
    python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.close(fd)' "$mnt/hot.dat"
  stats "$name" "$mnt" "$RAW/$name/$key.stats-after.json"
  [ -f "$RAW/$name/$key.stats-after.json" ] && cp "$RAW/$name/$key.stats-after.json" "$RAW/$name/.last-stats.json"
  [ $rc -ne 0 ] && log "$name/$key: fio exit $rc: $(head -c 300 "$RAW/$name/$key.err" | tr '\n' ' ')"
  echo "$rc $((SECONDS - js))" >"$RAW/$name/$key.rc"
}

# warm_meta mnt: with RAMP, creates and deletes NRFILES files per job once, under other names
# (warm.*, in the same directory: the flat targets have no mkdir), before the timed create:
# the ramp of the metadata jobs, which are not time-based (a JIT-compiled server is still
# warming up otherwise). The timed jobs' names are never looked up before they run.
warm_meta() {
  [ "${RAMP//[!0-9]/}" = 0 ] && return
  local j
  for j in 08-filecreate 10-filedelete; do
    sed 's/^filename_format=meta\./filename_format=warm./' "$HERE/jobs/$j.fio" >"$WORK/warm-$j.fio"
    DIR=$1 timeout 120 fio --output=/dev/null "$WORK/warm-$j.fio" >/dev/null 2>&1
  done
}

# warm_fsync mnt: with RAMP, runs the append+fsync job once for WARM_FSYNC seconds on another
# file (warm.*), deleted after, before the timed runs. Why: on a JVM server the job's first
# seconds are JIT compilation of a path the data jobs never took (commit per write, and in
# cached mode the write-through path); profiled on pmemfs (perf, all daemon threads on fio's
# CPU), the C2 compiler thread had 41 % of the daemon's CPU in the timed window, recompiling
# the journal commit four to five times, and the first seconds ran at 0.5-0.8 of the later rate.
# fio's one-second ramp does not cover that. Run on every target, like warm_meta.
warm_fsync() {
  [ "${RAMP//[!0-9]/}" = 0 ] && return
  fsync_warmup "$1" "$WARM_FSYNC" "$WORK" 2>/dev/null
}

# The state of each mounted target (job order keeps several mounted at once).
declare -A T0 LOAD0 OPTS DIRECTS BUSY
MOUNTED_TARGETS=()

# open_target NAME: mounts NAME; on failure writes its skipped meta.json and returns 1.
open_target() {
  local name=$1 reason mnt=$WORK/$1
  mkdir -p "$RAW/$name"
  T0[$name]=$SECONDS; LOAD0[$name]=$(cut -d' ' -f1 /proc/loadavg); BUSY[$name]=0
  if ! mount_target "$name" "$mnt" >"$WORK/reason"; then
    reason=$(tr '\n' ' ' <"$WORK/reason")
    log "$name: skipped: $reason"
    printf '{"target": "%s", "skipped": "%s"}\n' "$name" "${reason//\"/\'}" >"$RAW/$name/meta.json"
    unmount_target "$mnt"
    return 1
  fi
  DIRECTS[$name]=$(probe_direct "$mnt")
  OPTS[$name]=$(awk -v m="$mnt" '$2 == m { print $3 " " $4 }' /proc/mounts)
  log "$name: mounted at $mnt (${OPTS[$name]}), direct=${DIRECTS[$name]}"
  rm -f "$RAW/$name/.last-stats.json"
  stats "$name" "$mnt" "$RAW/$name/.last-stats.json"
  MOUNTED_TARGETS+=("$name")
}

# target_job NAME JOBFILE: runs one job file on a mounted target (every placement of a pinned
# job), with the warm-ups that go before it.
target_job() {
  local name=$1 f=$2 mnt=$WORK/$1 job pl js=$SECONDS
  job=$(job_name "$f")
  export DIR=$mnt DIRECT=${DIRECTS[$name]}
  [ "$job" = filecreate ] && warm_meta "$mnt"
  [ "$job" = fsync ] && warm_fsync "$mnt"
  if [[ " $PIN_JOBS " == *" $job "* ]]; then
    for pl in $PLACEMENTS; do
      [ "$pl" = free ] && [[ " $FREE_JOBS " != *" $job "* ]] && continue
      run_job "$name" "$mnt" "$f" "$job" "$pl"
    done
  else
    run_job "$name" "$mnt" "$f" "$job" ""
  fi
  BUSY[$name]=$((BUSY[$name] + SECONDS - js))
}

# close_target NAME: unmounts it and writes its meta.json.
close_target() {
  local name=$1 sizes
  unmount_target "$WORK/$name"
  # The C targets print the largest read and write they were sent when they unmount.
  sizes=$(grep -o 'largest read [0-9]* bytes.*' "$RAW/$name/daemon.log" 2>/dev/null | tail -1 | tr -d '"\\')
  printf '{"target": "%s", "direct": %s, "mount": "%s", "seconds": %d, "job_seconds": %d, "requests": "%s", "load": "%s -> %s"}\n' \
    "$name" "${DIRECTS[$name]}" "${OPTS[$name]}" $((SECONDS - T0[$name])) "${BUSY[$name]}" "$sizes" "${LOAD0[$name]}" \
    "$(cut -d' ' -f1 /proc/loadavg)" >"$RAW/$name/meta.json"
  log "$name: done ($((SECONDS - T0[$name])) s mounted, ${BUSY[$name]} s in its jobs)"
}

job_files() {  # the job files JOBS selects (every one when empty; the layout job always)
  local f job
  for f in "$HERE"/jobs/*.fio; do
    job=$(job_name "$f")
    if [ -n "$JOBS" ] && [ "$job" != layout ] && [[ " $JOBS " != *" $job "* ]]; then continue; fi
    echo "$f"
  done
}

# ORDER=target: one target after the other, every job on it, then the next target.
run_target_order() {
  local t f
  for t in $TARGETS; do
    open_target "$t" || continue
    for f in $(job_files); do target_job "$t" "$f"; done
    close_target "$t"
  done
}

# ORDER=job: every target mounted at once (a region each), each job run on every target before
# the next job, the first target rotating from job to job; the targets not running a job are
# stopped (SIGSTOP of their server processes), so their timers and write-back wait for their own
# turn. A job's ratios then compare runs about a minute apart instead of up to 15 minutes.
run_job_order() {
  local t f i n k=0
  for t in $TARGETS; do
    open_target "$t" && freeze "$WORK/$t"
  done
  n=${#MOUNTED_TARGETS[@]}
  for f in $(job_files); do
    for ((i = 0; i < n; i++)); do
      t=${MOUNTED_TARGETS[$(((i + k) % n))]}
      thaw "$WORK/$t"
      target_job "$t" "$f"
      freeze "$WORK/$t"
    done
    k=$((k + 1))
  done
  for t in "${MOUNTED_TARGETS[@]}"; do close_target "$t"; done
}

# run_paired: with PAIRED=1 and both kernel-frontend pmemfs targets run, bench/fsync-pair.sh on
# fresh mounts of its own (the bench's region is no longer needed: removed first) -> RAW/fsync-pair.json.
run_paired() {
  [ "$PAIRED" = 1 ] || return
  local t
  for t in pmemfs-kernel-cached pmemfs-kernel-dax; do
    [ -f "$RAW/$t/meta.json" ] && ! grep -q '"skipped"' "$RAW/$t/meta.json" || return
  done
  remove_regions
  log "cached against DAX, append+fsync, paired (bench/fsync-pair.sh)"
  local t0=$SECONDS
  JSON=$RAW/fsync-pair.json PMEMFS=$PMEMFS CACHE=$PMEMFS_CACHE_SIZE REGION_SIZE=$PMEMFS_REGION_SIZE \
    timeout --signal=INT --kill-after=30 1800 "$HERE/fsync-pair.sh" same split >"$RAW/fsync-pair.log" 2>&1 &
  FIO_PID=$!
  wait "$FIO_PID" || log "fsync-pair.sh failed: $(tail -3 "$RAW/fsync-pair.log" | tr '\n' ' ')"
  FIO_PID=
  log "paired runs done in $((SECONDS - t0)) s: $(grep -h median "$RAW/fsync-pair.log" | tr '\n' ' ')"
}

main() {
  local t0=$SECONDS load0
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  rm -rf "$RAW"; mkdir -p "$RAW"
  command -v fio >/dev/null || { log "fio is missing (make bench installs it)"; exit 1; }
  log "mode: $([ "$QUICK" = 1 ] && echo quick || echo full); targets: $TARGETS; runtime $RUNTIME (s unless marked) per timed job; pinned: $PIN_JOBS ($PLACEMENTS)"
  [[ " $TARGETS " == *" pmemfs-"* ]] && pmemfs_ok && pmemfs_frontends >/dev/null
  case $ORDER in
    job) run_job_order ;;
    *) run_target_order ;;
  esac
  run_paired
  cat >"$RAW/run.json" <<EOF
{"quick": $([ "$QUICK" = 1 ] && echo true || echo false), "seconds": $((SECONDS - t0)),
 "runtime": "$RUNTIME", "ramp": "$RAMP", "size": "$SIZE", "numjobs": $NUMJOBS, "wal_size": "$WAL_SIZE", "warm_fsync": "$WARM_FSYNC",
 "nrfiles": $NRFILES, "hot_size_mb": $HOT_SIZE_MB, "hot_loops": $HOT_LOOPS,
 "hot_max_runtime": $HOT_MAX_RUNTIME, "hot_others_runtime": $HOT_OTHERS_RUNTIME,
 "fuse_opts_c": "$FUSE_OPTS_C", "fuse_opts_java": "$FUSE_OPTS_JAVA", "c_max_write": $C_MAX_WRITE,
 "placements": "$PLACEMENTS", "pin_jobs": "$PIN_JOBS", "repeats": $REPEATS, "repeat_keys": "$REPEAT_KEYS", "paired": $PAIRED, "order": "$ORDER", "free_jobs": "$FREE_JOBS", "pin_numjobs": $PIN_NUMJOBS,
 "fio_cpu": "$FIO_CPU", "server_cpu": "$SERVER_CPU", "all_cpus": "$ALL_CPUS",
 "pmemfs_frontends": "$FRONTENDS", "pmemfs_mount_opts": "${PMEMFS_MOUNT_OPTS:-}",
 "pmemfs_cache_size": "$PMEMFS_CACHE_SIZE", "pmemfs_region_size": "$PMEMFS_REGION_SIZE",
 "targets": "$TARGETS", "load_start": "$load0", "load_end": "$(cut -d' ' -f1-3 /proc/loadavg)"}
EOF
  python3 "$HERE/report.py" "$OUT" || log "report.py failed"
  log "finished in $((SECONDS - t0)) s: $OUT/report.md"
}

main "$@"
