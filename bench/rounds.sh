#!/usr/bin/env bash
# Runs bench/run.sh ROUNDS times (default 3), the targets in a rotated order each round
# (A B C, B C A, C A B), each round into OUT/round-N, then bench/rounds.py writes
# OUT/rounds.md: per cell the median over the rounds of the ratio to ramfs-c (each ratio
# taken within its round), with the smallest and largest. Why: on a 2-core virtual machine one
# cell of one run moves by 20-30 % between runs (the host's noise, a target that ran in a bad
# minute), more than the differences it is meant to show; a median of rounds whose target
# order rotates does not hang on one bad minute or on the order.
# Usage: ROUNDS=3 TARGETS="ramfs-c pmemfs-kernel-cached pmemfs-kernel-dax" bench/rounds.sh
# Every other setting as for run.sh (JOBS, PLACEMENTS, QUICK...); needs the binaries make bench builds.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/out}
ROUNDS=${ROUNDS:-3}
read -r -a targets <<<"${TARGETS:-ramfs-c pmemfs-kernel-cached pmemfs-kernel-dax}"
[[ " ${targets[*]} " == *" ramfs-c "* ]] || { echo "rounds.sh: TARGETS must include ramfs-c (the ratios' base)"; exit 2; }
for ((r = 1; r <= ROUNDS; r++)); do
  n=${#targets[@]}
  order=()
  for ((i = 0; i < n; i++)); do order+=("${targets[$(((i + r - 1) % n))]}"); done
  echo "[rounds] round $r of $ROUNDS: ${order[*]}"
  OUT="$OUT/round-$r" TARGETS="${order[*]}" "$HERE/run.sh" || { echo "rounds.sh: round $r failed"; exit 1; }
done
python3 "$HERE/rounds.py" "$OUT" "$ROUNDS" && echo "[rounds] $OUT/rounds.md"
