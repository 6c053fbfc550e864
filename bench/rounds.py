#!/usr/bin/env python3
"""Median over rounds of the ratio to ramfs-c, per job and placement: OUT/rounds.md.

Input: OUT/round-1 .. OUT/round-N, each an OUT of bench/run.sh (its raw/ directory). Each
ratio is taken within one round (a target against ramfs-c of the same round), then the
median, smallest and largest over the rounds are reported. Standard library only.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (its figure(), keys_of(), load() and labels)


def ratios(out, rounds):
    """{(label, target): [ratio per round]} and the targets seen, in report order."""
    cells, seen, labels = {}, [], []
    for r in range(1, rounds + 1):
        raw = os.path.join(out, f"round-{r}", "raw")
        ran = [t for t in report.TARGETS if os.path.isfile(os.path.join(raw, t, "meta.json"))
               and "skipped" not in (report.load(os.path.join(raw, t, "meta.json")) or {})]
        for job, direction, unit, label in report.ROWS:
            for key in report.keys_of(raw, ran, job):
                row = report.row_label(label, key)
                if row not in labels:
                    labels.append(row)
                base = report.figure(report.load(os.path.join(raw, report.BASE, f"{key}.json")), direction, unit)
                for t in ran:
                    if t == report.BASE:
                        continue
                    fig = report.figure(report.load(os.path.join(raw, t, f"{key}.json")), direction, unit)
                    if fig and base and base[0]:
                        cells.setdefault((row, t), []).append(fig[0] / base[0])
                        if t not in seen:
                            seen.append(t)
    return cells, [t for t in report.TARGETS if t in seen], labels


PAIR = ("pmemfs-kernel-cached", "pmemfs-kernel-dax")


def main(out, rounds):
    cells, targets, labels = ratios(out, rounds)
    pair = all(t in targets for t in PAIR)
    md = ["# pmemfs bench: median of rounds", "",
          f"{rounds} rounds of `bench/run.sh`, the targets in a rotated order each round (raw results in "
          f"round-1 .. round-{rounds}). Each cell: the median over the rounds of the target's throughput "
          f"over {report.LABELS[report.BASE]}'s in the same round, job and placement, then the smallest "
          "and largest of those ratios.", "",
          "| job | " + " | ".join(report.SHORT[t] for t in targets) + (" | cached / DAX kern |" if pair else " |"),
          "|---|" + "--:|" * (len(targets) + pair)]
    for row in labels:
        out_cells = []
        for t in targets:
            v = cells.get((row, t))
            out_cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})" if v else "–")
        if pair:  # cached over DAX within each round (both over the same base, so the base cancels)
            c, d = cells.get((row, PAIR[0])), cells.get((row, PAIR[1]))
            v = [x / y for x, y in zip(c, d)] if c and d and len(c) == len(d) else None
            out_cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})" if v else "–")
        md.append(f"| {row} | " + " | ".join(out_cells) + " |")
    md += ["", "Columns: " + "; ".join(f"{report.SHORT[t]} = {report.LABELS[t]}" for t in targets)
           + ("; cached / DAX kern = pmemfs cached over pmemfs DAX on the kernel frontend, per round" if pair else "") + "."]
    with open(os.path.join(out, "rounds.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
