#!/usr/bin/env python3
"""median_run.py PREFIX: of the repeated runs PREFIX.run<N>.json of one job (fio JSON), copies the
one with the median throughput (read + write IOPS of the first job group) to PREFIX.json and
writes every run's figure to PREFIX.runs.json, for report.py's range. Called by run.sh."""
import glob
import json
import re
import shutil
import sys


def iops(path):
    job = json.load(open(path))["jobs"][0]
    return job["read"]["iops"] + job["write"]["iops"]


def median(values):
    """The median of a run's figures as run.sh keeps it: the lower middle of an even count;
    None for none."""
    return sorted(values)[(len(values) - 1) // 2] if values else None


def main(prefix):
    runs = sorted(glob.glob(glob.escape(prefix) + ".run[0-9]*.json"),
                  key=lambda p: int(re.search(r"\.run(\d+)\.json$", p).group(1)))
    if not runs:
        sys.exit(f"median_run.py: no runs {prefix}.run*.json")
    figures = [(iops(p), p) for p in runs]
    kept = median(figures)
    shutil.copyfile(kept[1], prefix + ".json")
    with open(prefix + ".runs.json", "w") as f:
        json.dump({"iops": [v for v, _ in figures], "median_run": runs.index(kept[1]) + 1}, f)


if __name__ == "__main__":
    main(sys.argv[1])
