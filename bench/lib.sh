# Shell functions that run.sh and fsync-pair.sh share (sourced by both).

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# fsync_warmup DIR SECONDS TMP: runs the append+fsync job (jobs/06-fsync.fio) on DIR for SECONDS,
# one job and no ramp, on files of its own (warm.*, deleted after); its job file goes in TMP.
# Why: run.sh's warm_fsync.
fsync_warmup() {
  sed 's/^filename_format=wal\./filename_format=warm./' "$BENCH_LIB_DIR/jobs/06-fsync.fio" >"$3/warm-fsync.fio"
  DIR=$1 NUMJOBS=1 RAMP=0 RUNTIME=$2 timeout 120 fio --output=/dev/null "$3/warm-fsync.fio" >/dev/null
  rm -f "$1"/warm.*
}
