#!/usr/bin/env python3
"""Turns the raw results of bench/run.sh into OUT/report.md and PNG plots (gnuplot).

Input (OUT/raw): run.json; per target a directory with meta.json, <key>.json (fio
--output-format=json), <key>.rc and, for pmemfs targets, <key>.stats-before.json and
<key>.stats-after.json (pmemfs stats --json). A key is a job name, or job@placement for the
4 KiB jobs run pinned (same: fio and server on one CPU; split: on different CPUs; free: not
pinned), with <key>.place.json beside. Output: OUT/report.md, OUT/throughput.png,
OUT/wear.png (when a pmemfs target left a wear histogram), and the .dat/.gp files beside.
Every ratio is to the C RAM filesystem (ramfs-c) in the same job and placement.
Standard library only.
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import median_run  # noqa: E402  (its median: the run kept as a job's result)

TARGETS = ["tmpfs", "ramfs-c", "noop-c", "noop-c-hl", "noop-java", "noop-kernel", "pmemfs-cached", "pmemfs-dax",
           "pmemfs-kernel-cached", "pmemfs-kernel-dax"]
LABELS = {"tmpfs": "tmpfs", "ramfs-c": "C RAM fs (libfuse3)", "noop-c": "C no-op (libfuse3)",
          "noop-c-hl": "C no-op (libfuse3 high-level)",
          "noop-java": "Java no-op (jnr-fuse)", "noop-kernel": "Java no-op (kernel)",
          "pmemfs-cached": "pmemfs cached (jnr-fuse)", "pmemfs-dax": "pmemfs DAX (jnr-fuse)",
          "pmemfs-kernel-cached": "pmemfs cached (kernel)", "pmemfs-kernel-dax": "pmemfs DAX (kernel)"}
SHORT = {"tmpfs": "tmpfs", "ramfs-c": "C RAM", "noop-c": "C no-op", "noop-c-hl": "C no-op hl", "noop-java": "J no-op jnr",
         "noop-kernel": "J no-op kern", "pmemfs-cached": "cached jnr", "pmemfs-dax": "DAX jnr",
         "pmemfs-kernel-cached": "cached kern", "pmemfs-kernel-dax": "DAX kern"}
BASE = "ramfs-c"
PLACEMENTS = ["same", "split", "free"]
PLACE_LABEL = {"same": "same CPU", "split": "split CPUs", "free": "unpinned", None: ""}
# (job file name, fio section, data direction, unit, row label)
ROWS = [
    ("seqwrite", "write", "MB/s", "seq write 1M"),
    ("seqread", "read", "MB/s", "seq read 1M"),
    ("randread", "read", "IOPS", "rand read 4k"),
    ("randwrite", "write", "IOPS", "rand write 4k"),
    ("randrw", "read", "IOPS", "randrw 70/30: reads"),
    ("randrw", "write", "IOPS", "randrw 70/30: writes"),
    ("fsync", "write", "IOPS", "4k write+fsync: write"),
    ("fsync", "sync", "IOPS", "4k write+fsync: fsync"),
    ("hot-overwrite", "write", "IOPS", "hot overwrite 4k"),
    ("filecreate", "read", "files/s", "file create"),
    ("filestat", "read", "stats/s", "file stat"),
    ("filedelete", "read", "files/s", "file delete"),
]


def load(path):
    try:
        with open(path) as f:
            text = f.read()
        # fio may print notes before the JSON document.
        return json.loads(text[text.index("{"):])
    except (OSError, ValueError):
        return None


def cmd(*args):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    lscpu = cmd("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    pkgs = []
    for p in ["fuse3", "libfuse3-3", "libfuse2", "fio", "gnuplot-nox"]:
        v = cmd("dpkg-query", "-W", "-f=${Version}", p)
        pkgs.append(f"{p} {v if v and 'no packages' not in v else 'not installed'}")
    java = os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64") + "/bin/java"
    jv = cmd(java, "-version").splitlines()
    mem = re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read())
    here = os.path.dirname(os.path.abspath(__file__))
    jars = sorted(f for f in os.listdir(os.path.join(here, "build", "noop-java", "lib"))
                  if re.match(r"(jnr-fuse|jnr-ffi|jffi)-\d", f)) if os.path.isdir(os.path.join(here, "build", "noop-java", "lib")) else []
    return [
        ("CPU", f"{model.group(1).strip() if model else platform.processor()}, {os.cpu_count()} cores (nproc {cmd('nproc')})"),
        ("Memory", f"{int(mem.group(1)) // 1024 // 1024} GiB" if mem else "?"),
        ("Kernel", cmd("uname", "-r")),
        ("libfuse", f"3: {cmd('pkg-config', '--modversion', 'fuse3') or '?'} (the C targets, the kernel frontend's fusermount3); "
                    f"2: the jnr-fuse targets"),
        ("jnr-fuse", ", ".join(j[:-4] for j in jars) or "not built"),
        ("Packages", ", ".join(pkgs)),
        ("fio", cmd("fio", "--version")),
        ("Java", " / ".join(jv[:2]) if jv else "not found"),
    ]


def figure(fio, direction, unit):
    """(throughput, p50, p99, p99.9 in microseconds) of one direction of a fio result."""
    if not fio or not fio.get("jobs"):
        return None
    d = fio["jobs"][0].get(direction) or {}
    ios = d.get("total_ios", 0)
    if not ios:
        return None
    if unit == "MB/s":
        value = d.get("bw_bytes", 0) / 1e6
    elif direction == "sync":  # fio leaves iops 0 for fsyncs: count them over the run time
        ms = fio["jobs"][0].get("job_runtime") or 0
        value = ios * 1000.0 / ms if ms else 0.0
    else:
        value = d.get("iops", 0.0)
    lat = d.get("clat_ns") or {}
    if not lat.get("percentile"):
        lat = d.get("lat_ns") or {}
    pct = lat.get("percentile") or {}

    def p(key):
        v = pct.get(key)
        return v / 1000.0 if v is not None else None
    return value, p("50.000000"), p("99.000000"), p("99.900000")


def fmt(v, unit=None):
    if v is None:
        return "–"
    if unit == "MB/s":
        return f"{v:,.0f} MB/s"
    if unit is not None:
        return f"{v / 1000:,.1f}k" if v >= 10000 else f"{v:,.0f}"
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def find(d, *keys):
    """First value in a nested dict whose key matches one of keys (case-insensitive)."""
    if isinstance(d, dict):
        for k, v in d.items():
            if k.lower() in keys:
                return v
        for v in d.values():
            r = find(v, *keys)
            if r is not None:
                return r
    return None


def num(d, *keys):
    v = find(d, *keys)
    return float(v) if isinstance(v, (int, float)) else None


def write_amp(before, after):
    """Write amplification of one job: delta media bytes / delta user bytes, else lifetime."""
    if not after:
        return None, "no stats"
    ua, ma = num(after, "user_bytes"), num(after, "media_bytes")
    ub, mb = (num(before, "user_bytes"), num(before, "media_bytes")) if before else (None, None)
    if None not in (ua, ma, ub, mb) and ua > ub:
        return (ma - mb) / (ua - ub), f"{(ua - ub) / 2**20:,.0f} MiB user → {(ma - mb) / 2**20:,.0f} MiB media"
    if None not in (ua, ma, ub, mb):
        return None, f"no user writes ({(ma - mb) / 2**20:,.1f} MiB media)"
    wa = num(after, "write_amplification")
    return wa, "lifetime" if wa is not None else "no stats"


def histogram(stats):
    """[(label, count)] from the wear histogram in pmemfs stats, in whatever shape it has."""
    h = find(stats, "wear_histogram", "histogram", "wear")
    if isinstance(h, dict) and not any(isinstance(v, (int, float)) for v in h.values()):
        h = find(h, "histogram", "buckets", "counts")
    out = []
    if isinstance(h, dict):
        out = [(str(k), v) for k, v in h.items() if isinstance(v, (int, float))]
    elif isinstance(h, list):
        for i, e in enumerate(h):
            if isinstance(e, (int, float)):
                out.append((str(i), e))
            elif isinstance(e, dict):
                label = next((e[k] for k in ("label", "range", "le", "upper", "bucket", "writes", "min") if k in e), i)
                count = next((e[k] for k in ("count", "blocks", "n", "value") if k in e), None)
                if isinstance(count, (int, float)):
                    out.append((str(label), count))
    return out


def gnuplot(script, out_dir):
    if not shutil.which("gnuplot"):
        return "gnuplot not installed"
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True, cwd=out_dir)
    return r.stderr.strip() if r.returncode else None


def plot_throughput(out, targets, results, rows):
    """Two panels: MB/s of the sequential jobs, IOPS (log scale) of the others."""
    cols = " ".join(f'"{LABELS[t]}"' for t in targets)
    def dat(name, rows):
        with open(os.path.join(out, name), "w") as f:
            f.write(f'"job" {cols}\n')
            for r in rows:
                vals = [results[t].get((r[0], r[1]), (None,))[0] for t in targets]
                f.write(f'"{r[3]}" ' + " ".join("NaN" if v is None else f"{v:.3f}" for v in vals) + "\n")
    dat("throughput-mbs.dat", [r for r in rows if r[2] == "MB/s"])
    dat("throughput-iops.dat", [r for r in rows if r[2] != "MB/s"])
    n = len(targets) + 1
    script = f"""
set terminal pngcairo size 1600,1100 font "DejaVu Sans,10"
set output "throughput.png"
set multiplot layout 2,1 title "pmemfs bench: throughput by target (higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set xtics nomirror
set ylabel "MB/s"
set yrange [0:*]
set title "Sequential, 1 MiB blocks"
plot for [i=2:{n}] "throughput-mbs.dat" using i:xtic(1) title columnheader(i)
set logscale y
set ylabel "operations/s (log)"
set yrange [*:*]
set xtics rotate by -25
set title "4 KiB I/O and metadata (IOPS, files/s)"
plot for [i=2:{n}] "throughput-iops.dat" using i:xtic(1) title columnheader(i)
unset multiplot
"""
    with open(os.path.join(out, "throughput.gp"), "w") as f:
        f.write(script)
    return gnuplot(script, out)


def plot_wear(out, hists):
    labels = []
    for _, h in hists:
        for lab, _ in h:
            if lab not in labels:
                labels.append(lab)
    with open(os.path.join(out, "wear.dat"), "w") as f:
        f.write('"bucket" ' + " ".join(f'"{LABELS[t]}"' for t, _ in hists) + "\n")
        for lab in labels:
            vals = [dict(h).get(lab) for _, h in hists]
            f.write(f'"{lab}" ' + " ".join("NaN" if v is None else str(v) for v in vals) + "\n")
    n = len(hists) + 1
    script = f"""
set terminal pngcairo size 1200,700 font "DejaVu Sans,11"
set output "wear.png"
set title "Wear after the hot overwrite job (blocks per write-count bucket)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set grid ytics
set xlabel "writes per block (bucket)"
set ylabel "blocks (log)"
set xtics rotate by -30 nomirror
set rmargin 8
set key top right
plot for [i=2:{n}] "wear.dat" using i:xtic(1) title columnheader(i)
"""
    with open(os.path.join(out, "wear.gp"), "w") as f:
        f.write(script)
    return gnuplot(script, out)


def keys_of(raw, targets, job):
    """The result keys of a job over all targets: job itself, or job@placement in PLACEMENTS order."""
    found = set()
    for t in targets:
        d = os.path.join(raw, t)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            m = re.fullmatch(re.escape(job) + r"(@(\w+))?\.json", f)
            if m:
                found.add(m.group(2))
    order = [None] + PLACEMENTS
    return [job if p is None else f"{job}@{p}" for p in sorted(found, key=lambda p: order.index(p) if p in order else 99)]


def placement(key):
    return key.split("@", 1)[1] if "@" in key else None


def row_label(label, key):
    """A row's label: the job's, with the placement of a pinned key in brackets."""
    pl = placement(key)
    return label + (f" [{PLACE_LABEL.get(pl, pl)}]" if pl else "")


def read_rc(raw, t, key):
    path = os.path.join(raw, t, f"{key}.rc")
    if not os.path.exists(path):
        return None
    rc = open(path).read().split() or ["?"]
    if rc[0] == "0":
        return None
    errp = os.path.join(raw, t, f"{key}.err")
    err = open(errp).read().strip()[:200] if os.path.exists(errp) else ""
    return f"{t}/{key}: fio exit {rc[0]} {err}"


def wa_of(raw, t, key):
    return write_amp(load(os.path.join(raw, t, f"{key}.stats-before.json")),
                     load(os.path.join(raw, t, f"{key}.stats-after.json")))


def repeated_cells(raw, ran, rows, run):
    """Markdown: for the keys run several times (run.sh REPEAT_KEYS), each target's runs as a
    ratio to the median of the C RAM fs, and cached over DAX per mode pair."""
    keys = [k for k in dict.fromkeys(r[0] for r in rows)
            if any(os.path.exists(os.path.join(raw, t, f"{k}.runs.json")) for t in ran)]
    if not keys:
        return []
    runs = {(t, k): (load(os.path.join(raw, t, f"{k}.runs.json")) or {}).get("iops") for t in ran for k in keys}
    med = median_run.median  # the run run.sh kept as the job's result
    md = [f"### Repeated cells ({run.get('repeats', '?')} runs each, one mount)", "",
          "These cells move most between runs on this machine, so each ran several times in a row; the "
          "table above shows the median run. Here: median (lowest-highest) of the runs, as ratios to "
          f"{LABELS[BASE]}'s median run. *cached/DAX* is the median cached run over the median DAX run "
          "of the same frontend.", ""]
    pairs = [(c, d, f) for c, d, f in (("pmemfs-kernel-cached", "pmemfs-kernel-dax", "kern"),
                                       ("pmemfs-cached", "pmemfs-dax", "jnr")) if c in ran and d in ran]
    shown = [t for t in ran if t != BASE]
    md.append("| job | " + " | ".join(SHORT[t] for t in shown) + "".join(f" | cached/DAX {f}" for _, _, f in pairs) + " |")
    md.append("|---|" + "--:|" * (len(shown) + len(pairs)))
    for k in keys:
        base = med(runs.get((BASE, k)) or [])
        cells = []
        for t in shown:
            v = runs.get((t, k))
            if not v or not base:
                cells.append("–")
                continue
            cells.append(f"{med(v) / base:.2f} ({min(v) / base:.2f}-{max(v) / base:.2f})")
        for c, d, _ in pairs:
            vc, vd = runs.get((c, k)), runs.get((d, k))
            cells.append(f"{med(vc) / med(vd):.2f}" if vc and vd and med(vd) else "–")
        md.append(f"| {k} | " + " | ".join(cells) + " |")
    md.append("")
    return md


def paired_fsync(raw):
    """Markdown: cached over DAX on the append+fsync job, both mounted side by side and run in
    alternation by bench/fsync-pair.sh (run.sh PAIRED), per placement."""
    res = load(os.path.join(raw, "fsync-pair.json"))
    if not res or not res.get("placements"):
        return []
    before = " and ".join(w for w, on in (("the data jobs", res.get("pre")),
                                         (f"a {res.get('warm_seconds', 0):g} s warm-up", res.get("warm_seconds"))) if on)
    md = ["### Cached against DAX on the append+fsync job, paired", "",
          f"Both modes on the /dev/fuse frontend, mounted side by side on fresh regions"
          f"{' after ' + before if before else ''}; the job ran {res.get('pairs', '?')} times on each, {res.get('seconds_per_run', '?')} s "
          "a run, alternating (cached first in odd pairs, DAX first in even ones), so each ratio compares two "
          "runs seconds apart. The cells above compare mounts minutes apart. The criterion of issue 10 "
          "(cached at least the DAX figure) is read here: the median of the per-pair ratios.", "",
          "| placement | cached/DAX median | lowest-highest | write+fsync/s per pair (cached/DAX) |", "|---|--:|--:|---|"]
    for pl, r in res["placements"].items():
        runs = ", ".join(f"{c / 1000:.1f}k/{d / 1000:.1f}k" for c, d in zip(r["cached"], r["dax"]))
        md.append(f"| {PLACE_LABEL.get(pl, pl)} | {r['median']:.3f} | {r['min']:.3f}-{r['max']:.3f} | {runs} |")
    md.append("")
    return md


def main(out):
    raw = os.path.join(out, "raw")
    run = load(os.path.join(raw, "run.json")) or {}
    metas = {t: load(os.path.join(raw, t, "meta.json")) for t in TARGETS}
    ran = [t for t in TARGETS if metas.get(t) and "skipped" not in metas[t]]
    skipped = [(t, metas[t]["skipped"]) for t in TARGETS if metas.get(t) and "skipped" in metas[t]]
    # One row per (key, direction): the 4 KiB jobs have one key per placement.
    rows = []
    for job, direction, unit, label in ROWS:
        for key in keys_of(raw, ran, job):
            rows.append((key, direction, unit, row_label(label, key)))
    results, errors = {}, []
    for t in ran:
        results[t] = {}
        for key, direction, unit, _ in rows:
            fig = figure(load(os.path.join(raw, t, f"{key}.json")), direction, unit)
            if fig:
                results[t][(key, direction)] = fig
        for key in dict.fromkeys(r[0] for r in rows):
            e = read_rc(raw, t, key)
            if e:
                errors.append(e)
    pm = [t for t in ran if t.startswith("pmemfs")]
    base_label = LABELS[BASE]

    md = ["# pmemfs bench report", ""]
    mode = "quick (`make bench QUICK=1`)" if run.get("quick") else "full (`make bench`)"
    per_target = ", ".join("%s %s s (load %s)" % (t, metas[t].get("seconds", "?"), metas[t].get("load", "?")) for t in ran)
    md.append(f"Mode: {mode}. Suite run time: {run.get('seconds', '?')} s ({per_target}).")
    md.append(f"Parameters: {run.get('numjobs')} jobs per fio job, {run.get('runtime')} (s unless marked) per timed job "
              f"(+{run.get('ramp')} ramp), data files {run.get('size')} per job, WAL {run.get('wal_size')}, "
              f"{run.get('nrfiles')} files per job for the metadata jobs, hot overwrite "
              f"{run.get('hot_loops')} passes over {run.get('hot_size_mb')} MiB (at most {run.get('hot_max_runtime', '?')} s "
              f"on pmemfs, {run.get('hot_others_runtime', '?')} s elsewhere, where only its rate counts). ioengine=psync.")
    md.append(f"Load average (1, 5, 15 min) at the start: {run.get('load_start', '?')}, at the end: "
              f"{run.get('load_end', '?')}, on {os.cpu_count()} CPUs (the bench's own fio and servers count in it). " + (
                  "Job order: every target was mounted at once and each job ran on every target before the "
                  "next job, the first target rotating from job to job and the others stopped (SIGSTOP) "
                  "meanwhile, so a job's ratios compare runs about a minute apart; the seconds per target "
                  "above are its time mounted." if run.get("order") == "job" else
                  "Targets ran one after the other, so a ratio also carries any change of load between them "
                  "(the 1-minute load per target is in the line above)."))
    md.append("")
    md.append(f"CPU placement ({os.cpu_count()} CPUs): the 4 KiB jobs ({run.get('pin_jobs', '?')}) ran once per "
              f"placement: **same CPU** = fio ({run.get('pin_numjobs', '?')} job) and every thread of the "
              f"server pinned to CPU {run.get('fio_cpu', '?')}; **split CPUs** = fio on CPU {run.get('fio_cpu', '?')}, "
              f"the server on CPU {run.get('server_cpu', '?')}; **unpinned** = {run.get('numjobs')} fio jobs, "
              f"the scheduler decides (only {run.get('free_jobs', '?')}). Placements run: {run.get('placements', '?')}. All other jobs run unpinned. "
              "Every target gets the same treatment (tmpfs has no server: only fio is pinned). "
              "Compare targets within one placement; the spread between placements is the machine, "
              "not the filesystem.")
    md.append("")
    for t, why in skipped:
        md.append(f"- **{LABELS[t]}: skipped**: {why}")
    if skipped:
        md.append("")

    # Summary: ratios to the C RAM filesystem
    md += [f"## Ratio to the C RAM filesystem ({BASE})", ""]
    if BASE not in ran:
        md.append(f"{base_label} did not run, so there are no ratios (see the skipped targets).")
    others = [t for t in ran if t != BASE]
    md.append(f"Each cell is the target's throughput over {base_label}'s in the same job and placement "
              "(1.00 = as fast as a C filesystem that keeps its data in RAM on libfuse 3 with 1 MiB requests).")
    md.append("")
    md.append(f"| job | {SHORT[BASE]} | " + " | ".join(SHORT[t] for t in others) + " |")
    md.append("|---|--:|" + "--:|" * len(others))
    for key, direction, unit, label in rows:
        base = results.get(BASE, {}).get((key, direction))
        cells = []
        for t in others:
            fig = results[t].get((key, direction))
            cells.append(f"{fig[0] / base[0]:.2f}" if fig and base and base[0] else "–")
        absval = f"{fmt(base[0], unit)}{'' if unit == 'MB/s' else ' ' + unit}" if base else "–"
        md.append(f"| {label} | {absval} | " + " | ".join(cells) + " |")
    md += ["", "Columns: " + "; ".join(f"{SHORT[t]} = {LABELS[t]}" for t in [BASE] + others if t in ran) + ".", ""]
    md += repeated_cells(raw, ran, rows, run)
    md += paired_fsync(raw)

    md += ["## Throughput and latency", "",
           "Latency is fio's completion latency per operation in µs (p50 / p99 / p99.9). "
           f"*vs C RAM* is the throughput as a ratio to {base_label}. WA is write amplification "
           "(media bytes / user bytes, from `pmemfs stats` before and after the job).", ""]
    md.append("| job | target | throughput | p50 µs | p99 µs | p99.9 µs | vs C RAM | WA |")
    md.append("|---|---|--:|--:|--:|--:|--:|--:|")
    wa_rows = {}
    for key, direction, unit, label in rows:
        base = results.get(BASE, {}).get((key, direction))
        for t in ran:
            fig = results[t].get((key, direction))
            if not fig:
                md.append(f"| {label} | {LABELS[t]} | – | | | | | |")
                continue
            ratio = f"{fig[0] / base[0]:.2f}×" if base and base[0] else "–"
            wa = ""
            if t in pm:
                if (t, key) not in wa_rows:
                    wa_rows[(t, key)] = wa_of(raw, t, key)
                wa = fmt(wa_rows[(t, key)][0]) if wa_rows[(t, key)][0] is not None else "n/a"
            md.append(f"| {label} | {LABELS[t]} | {fmt(fig[0], unit)}{'' if unit == 'MB/s' else ' ' + unit} | "
                      f"{fmt(fig[1])} | {fmt(fig[2])} | {fmt(fig[3])} | {ratio} | {wa} |")
    md.append("")
    md += ["## Write amplification per job", ""]
    if pm:
        md.append("| job | " + " | ".join(LABELS[t] for t in pm) + " |")
        md.append("|---|" + "--:|" * len(pm))
        for key in dict.fromkeys(r[0] for r in rows):
            cells = []
            for t in pm:
                wa, note = wa_rows.get((t, key)) or wa_of(raw, t, key)
                cells.append(f"{fmt(wa) if wa is not None else 'n/a'} ({note})")
            md.append(f"| {key} | " + " | ".join(cells) + " |")
        md += ["", "WA of a job is the media bytes written during it over the bytes fio wrote in it. "
               "In cached mode the write-back of dirty pages can happen during a later job "
               "(for example the read or stat jobs), and is then counted there; the hot overwrite "
               "row is the one to read for absorption of repeated writes."]
    else:
        md.append("No pmemfs target ran, so there is no write amplification to report.")
    md.append("")

    md += ["## Plots", ""]
    err = plot_throughput(out, ran, results, rows) if ran else "no target ran"
    md.append(f"![throughput](throughput.png)" if not err else f"throughput plot failed: {err}")
    hists = []
    for t in pm:
        h = histogram(load(os.path.join(raw, t, "hot-overwrite.stats-after.json")))
        if h:
            hists.append((t, h))
    if hists:
        err = plot_wear(out, hists)
        md.append("")
        md.append("![wear after the hot overwrite job](wear.png)" if not err else f"wear plot failed: {err}")
    else:
        md.append("")
        md.append("No wear histogram (no pmemfs target, or `pmemfs stats` had none).")
        try:
            os.remove(os.path.join(out, "wear.png"))
        except OSError:
            pass
    md.append("")

    md += ["## Targets", ""]
    for t in ran:
        m = metas[t]
        req = f"; requests seen: {m['requests']}" if m.get("requests") else ""
        md.append(f"- **{LABELS[t]}**: mounted as `{m.get('mount', '?')}`, direct={m.get('direct')}"
                  f"{'' if m.get('direct') else ' (O_DIRECT refused: buffered I/O)'}{req}")
    cmw = run.get("c_max_write", "?")
    md.append("- The C RAM fs and the C no-op are one source (`noop-c/ramfs.c`, libfuse 3's low-level API, "
              "multi-threaded loop); the no-op discards writes and reads zeros, so the gap between the two is "
              "what keeping the data costs. The high-level no-op (`noop-c/noopfs.c`, target noop-c-hl) is the "
              "twin of the Java no-op on jnr-fuse.")
    md.append(f"- FUSE options: C targets `-o {run.get('fuse_opts_c')}` with max_write {cmw} set in init "
              f"(libfuse 3.14 then answers max_pages = max_write / 4 KiB, which also caps reads); "
              f"Java no-op on jnr-fuse `-o {run.get('fuse_opts_java')}` (libfuse 2: 128 KiB at most). "
              f"pmemfs: cache {run.get('pmemfs_cache_size')}, region {run.get('pmemfs_region_size')}, "
              f"frontends offered by `pmemfs mount`: {run.get('pmemfs_frontends') or 'no --frontend option (jnr-fuse only)'}"
              f"{', extra flags `' + run['pmemfs_mount_opts'] + '`' if run.get('pmemfs_mount_opts') else ''}.")
    if errors:
        md += ["", "## Errors", ""] + [f"- {e}" for e in errors]
    md += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in machine()] + [""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))
    print(os.path.join(out, "report.md"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
