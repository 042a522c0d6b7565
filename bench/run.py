"""Benchmark: `jixiao check` end to end against raw reading (python-calamine), the naive `formulas` route and
LibreOffice headless.

    python bench/run.py                 # N = 100 and N = 1,000 (the issue's targets)
    python bench/run.py --n 1000 --naive-sample 12 --lo-sample 40
    python bench/run.py --n 1000 10000 --read-only   # jixiao against python-calamine only

Prints workbooks per second for (a) `jixiao check --jobs 2` (reading, recomputing, checking and writing the
xlsx, HTML and JSON reports), (b) the naive route — `formulas.ExcelModel().loads(f).finish().calculate()` per
workbook — and (c) LibreOffice headless recalculating the same files in one process; the ratios against
(a); and the peak RSS of `jixiao check` at each N. Results are also written to bench/results.json.
(r) is the raw read rate: python-calamine reading every sheet's values of the same files with the same number of
processes, timed in the same run right after (a) (process start included, as for (a)); jixiao's rate is printed
as a share of it.
Targets: ≥ 300 workbooks/s end to end on 2 cores, ≥ 100× the naive route, ≥ 50% of the raw read rate
(issue “Check at the speed of reading”), memory flat (≤ 150 MiB per process).
(p) is the least a Python reader does (unzip every worksheet, one regex finding its cells, nothing decoded or
checked), timed like (r): how near any pure-Python check can come to the raw read rate.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from jixiao.samples import submissions  # noqa: E402

PROFILE = "hunan-dept-2024"
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def dataset(n: int, seed: int) -> tuple[Path, list[dict]]:
    """N generated workbooks (half with one injected error each), cached under bench/data/."""
    d = HERE / "data" / f"n{n}-s{seed}"
    manifest = d / "manifest.json"
    if manifest.exists():
        return d, json.loads(manifest.read_text(encoding="utf-8"))
    if d.exists():
        shutil.rmtree(d)
    t = time.perf_counter()
    m = submissions.generate(d, n, seed=seed)
    print(f"  generated {n} workbooks in {time.perf_counter() - t:.1f} s → {d}")
    return d, m


def run_check(d: Path, jobs: int) -> tuple[float, int, dict]:
    """Wall time and peak RSS (KiB, largest process) of `jixiao check` as a user runs it."""
    out = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    cmd = [sys.executable, "-m", "jixiao", "check", str(d), "--profile", PROFILE, "--jobs", str(jobs),
           "--report", str(out / "report.xlsx"), "--html", str(out / "report.html"), "--json", "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        raise SystemExit(f"jixiao check failed: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    shutil.rmtree(out, ignore_errors=True)
    return wall, max(peak, before), result


CALAMINE = """
import resource
import sys
from multiprocessing import Pool

from python_calamine import CalamineWorkbook


def read(path):
    wb = CalamineWorkbook.from_path(path)
    return sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)


if __name__ == "__main__":
    files = sys.stdin.read().split("\\n")
    with Pool(int(sys.argv[1])) as pool:
        rows = sum(pool.map(read, files, chunksize=8))
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(rows, peak)
"""


def _run_pool_program(program: str, files: list[Path], jobs: int, what: str) -> tuple[float, str]:
    """Wall time and output of ``program`` (a pool of ``jobs`` processes over ``files``, read from stdin),
    started as a program like `jixiao check` is."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", program, str(jobs)], input="\n".join(str(f) for f in files),
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed: {proc.stderr[-2000:]}")
    return wall, proc.stdout


def run_calamine(files: list[Path], jobs: int) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of python-calamine reading every sheet's values of ``files`` in ``jobs``
    processes."""
    wall, out = _run_pool_program(CALAMINE, files, jobs, "python-calamine (pip install python-calamine)")
    return wall, int(out.split()[1])


FLOOR = """
import re
import sys
import zipfile
from multiprocessing import Pool

CELL = re.compile(r'<c r="([A-Z]{1,3})(\\d+)"([^>]*?)(?<!/)>(.*?)</c>', re.S)


def scan(path):
    with zipfile.ZipFile(path) as z:
        return sum(len(CELL.findall(z.read(i).decode("utf-8", "replace"))) for i in z.infolist()
                   if i.filename.startswith("xl/worksheets/"))


if __name__ == "__main__":
    files = sys.stdin.read().split("\\n")
    with Pool(int(sys.argv[1])) as pool:
        print(sum(pool.map(scan, files, chunksize=8)))
"""


def run_floor(files: list[Path], jobs: int) -> float:
    """Wall time of the least a Python reader does: unzip each worksheet and find every cell with one regex (no
    value decoded, nothing checked), in ``jobs`` processes: what any pure-Python check pays before its first
    rule."""
    return _run_pool_program(FLOOR, files, jobs, "the floor's run")[0]


def verify(result: dict, manifest: list[dict]) -> tuple[int, int, int]:
    """(injected errors found at the right cell, injected errors, clean files with an error-level finding)."""
    by_file: dict[str, list[dict]] = {}
    for f in result["findings"]:
        by_file.setdefault(Path(f["file"]).name, []).append(f)
    found = total = false_alarms = 0
    for entry in manifest:
        fs = by_file.get(entry["file"], [])
        for x in entry["expected"]:
            total += 1
            found += any(f["rule"] == x["rule"] and f["cell"] == x["cell"] for f in fs)
        if not entry["expected"] and any(f["severity"] == "error" for f in fs):
            false_alarms += 1
    return found, total, false_alarms


def naive(files: list[Path]) -> float:
    """Seconds per workbook: formulas.ExcelModel().loads(f).finish().calculate(), jixiao's UDFs registered."""
    import formulas

    from jixiao.excel import bridge

    bridge.install()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            copy, _ = bridge.translate_addin_refs(f, tmp)  # formulas cannot parse Excel's [1]!JX_… form
            t = time.perf_counter()
            formulas.ExcelModel().loads(str(copy)).finish().calculate()
            times.append(time.perf_counter() - t)
            os.unlink(copy)
    return sum(times) / len(times)


def libreoffice(files: list[Path]) -> float | None:
    """Seconds per workbook for LibreOffice headless, one process, recalculating every file on load."""
    exe = shutil.which("soffice")
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "profile"
        (prof / "user").mkdir(parents=True)
        (prof / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        warm = [exe, f"-env:UserInstallation=file://{prof}", "--headless", "--norestore", "--convert-to", "xlsx",
                "--outdir", str(Path(tmp) / "warm"), str(files[0])]
        subprocess.run(warm, capture_output=True, timeout=300)  # first start creates the profile
        cmd = warm[:-2] + [str(Path(tmp) / "out")] + [str(f) for f in files]
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, timeout=1800)
        return (time.perf_counter() - t) / len(files)


def byte_compile() -> None:
    """Compile jixiao's sources as pip does when it installs a copy: where PYTHONDONTWRITEBYTECODE is set (or the
    tree was never run), each `jixiao check` would otherwise compile them again before its first file (~0.3 s)."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "jixiao"), quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="*", default=[100, 1000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--naive-sample", type=int, default=12, help="workbooks timed on the naive route")
    ap.add_argument("--lo-sample", type=int, default=40, help="workbooks recalculated by LibreOffice")
    ap.add_argument("--repeat", type=int, default=1, help="runs of (a) and (r) in turns; medians are compared")
    ap.add_argument("--read-only", action="store_true", help="only (a) against (r): skip the naive route and LibreOffice")
    a = ap.parse_args()
    byte_compile()
    print(f"jixiao bench · {os.cpu_count()} CPUs · jobs={a.jobs} · jixiao byte-compiled, as an installed copy is")
    report: dict = {"jobs": a.jobs, "cpus": os.cpu_count(), "runs": []}
    for n in a.n:
        d, manifest = dataset(n, a.seed)
        walls, raw_walls, floor_walls = [], [], []
        for _ in range(a.repeat):  # taken in turns, so that a busy moment of the machine falls on both
            wall, peak, result = run_check(d, a.jobs)
            raw_wall, raw_peak = run_calamine(sorted(d.glob("*.xlsx")), a.jobs)
            walls.append(wall)
            raw_walls.append(raw_wall)
            floor_walls.append(run_floor(sorted(d.glob("*.xlsx")), a.jobs))
        wall, raw_wall, floor = statistics.median(walls), statistics.median(raw_walls), statistics.median(floor_walls)
        found, total, false_alarms = verify(result, manifest)
        share = raw_wall / wall
        row = {"n": n, "seconds": round(wall, 3), "workbooks_per_s": round(n / wall, 1), "peak_rss_mib": round(peak / 1024, 1),
               "injected_found": found, "injected": total, "clean_with_errors": false_alarms,
               "routes": result["summary"]["routes"], "calamine_seconds": round(raw_wall, 3),
               "calamine_workbooks_per_s": round(n / raw_wall, 1), "share_of_read_rate": round(share, 3),
               "repeats": a.repeat, "calamine_peak_rss_mib": round(raw_peak / 1024, 1),
               "python_floor_workbooks_per_s": round(n / floor, 1), "python_floor_share": round(raw_wall / floor, 3)}
        report["runs"].append(row)
        times = f" (median of {a.repeat})" if a.repeat > 1 else ""
        print(f"(a) jixiao check --jobs {a.jobs}, N={n}: {wall:.2f} s{times} → {n / wall:.0f} workbooks/s end to end; "
              f"peak RSS {peak / 1024:.0f} MiB; injected errors found {found}/{total}; "
              f"clean files with an error {false_alarms}; routes {result['summary']['routes']}")
        print(f"(r) python-calamine reading every sheet, {a.jobs} processes, N={n}: {raw_wall:.2f} s{times} → "
              f"{n / raw_wall:.0f} workbooks/s; peak RSS {raw_peak / 1024:.0f} MiB; "
              f"jixiao check is {share:.0%} of the raw read rate")
        print(f"(p) the pure-Python floor (unzip each sheet, one regex for its cells, nothing decoded or checked), "
              f"{a.jobs} processes, N={n}: {floor:.2f} s{times} → {n / floor:.0f} workbooks/s, "
              f"{raw_wall / floor:.0%} of the raw read rate")
    if a.read_only:
        (HERE / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        return
    d, manifest = dataset(max(a.n), a.seed)
    rng = random.Random(1)
    files = sorted(d.glob("*.xlsx"))
    # the naive route's cost differs by layout: time a sample of each, weight by the dataset's mix
    per_layout, share = {}, {}
    for layout in ("template", "bureau"):
        group = [f for f in files if f"-{layout}-" in f.name]
        share[layout] = len(group) / len(files)
        per_layout[layout] = naive(rng.sample(group, min(a.naive_sample, len(group))))
    per_naive = sum(per_layout[k] * share[k] for k in per_layout)
    lo_files = rng.sample(files, min(a.lo_sample, len(files)))
    per_lo = libreoffice(lo_files)
    best = max(report["runs"], key=lambda r: r["n"])
    ours = best["workbooks_per_s"]
    report["naive_workbooks_per_s"] = round(1 / per_naive, 2)
    report["naive_ratio"] = round(ours * per_naive, 1)
    report["naive_seconds_by_layout"] = {k: round(v, 4) for k, v in per_layout.items()}
    print(f"(b) naive formulas route (1 process, {a.naive_sample} sampled workbooks per layout: template "
          f"{per_layout['template']:.3f} s, bureau {per_layout['bureau']:.3f} s; weighted by the mix "
          f"{share['template']:.0%}/{share['bureau']:.0%}): {per_naive:.3f} s/workbook → "
          f"{1 / per_naive:.2f} workbooks/s; jixiao check is {ours * per_naive:.0f}× faster")
    if per_lo is not None:
        report["libreoffice_workbooks_per_s"] = round(1 / per_lo, 2)
        report["libreoffice_ratio"] = round(ours * per_lo, 1)
        print(f"(c) LibreOffice headless recalculation (1 process, {len(lo_files)} workbooks): {per_lo:.3f} s/workbook → "
              f"{1 / per_lo:.1f} workbooks/s; jixiao check is {ours * per_lo:.0f}× faster "
              "(LibreOffice has no JX_ functions: it times the recalculation, it cannot score)")
    else:
        print("(c) LibreOffice not installed: skipped")
    if len(report["runs"]) > 1:
        small, large = report["runs"][0], report["runs"][-1]
        print(f"memory: peak RSS {small['peak_rss_mib']} MiB at N={small['n']}, {large['peak_rss_mib']} MiB at "
              f"N={large['n']}")
    targets = {"≥300 workbooks/s": ours >= 300, "≥100× naive": report["naive_ratio"] >= 100,
               "≥50% of the raw read rate": best["share_of_read_rate"] >= 0.5}
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in targets.items()))
    (HERE / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
