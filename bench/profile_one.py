"""Profile of one workbook's check, as a worker does it: cProfile, top functions by cumulative and by own time.

    python bench/profile_one.py                       # a generated template-layout workbook
    python bench/profile_one.py path/to/form.xlsx --top 30 --repeat 20

The first check of a process compiles the templates and loads the profile; ``--warm`` checks (default 3) run
before the profiled ones so that the profile shows the steady cost a worker pays per file.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from jixiao.checking.checker import check_file  # noqa: E402
from jixiao.profile import load_profile  # noqa: E402

PROFILE = "hunan-dept-2024"


def _sample(layout: str) -> Path:
    from jixiao.samples import submissions

    d = Path(tempfile.mkdtemp(prefix="jixiao-profile-"))
    submissions.generate(d, 8, seed=2026)
    return next(p for p in sorted(d.glob("*.xlsx")) if f"-{layout}-" in p.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", help="a workbook (default: a generated one)")
    ap.add_argument("--layout", default="template", choices=("template", "bureau"))
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=10, help="profiled checks (the table is their sum)")
    a = ap.parse_args()
    path = Path(a.file) if a.file else _sample(a.layout)
    profile = load_profile(PROFILE)
    for _ in range(a.warm):
        check_file(str(path), profile)
    t = time.perf_counter()
    for _ in range(a.repeat):
        check_file(str(path), profile)
    per = (time.perf_counter() - t) / a.repeat
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(a.repeat):
        res = check_file(str(path), profile)
    pr.disable()
    st = pstats.Stats(pr)
    print(f"{path.name}: {per * 1000:.1f} ms per check unprofiled; route {res.route}; {len(res.findings)} findings; "
          f"{st.total_calls / a.repeat:,.0f} calls per check (profiled, over {a.repeat} checks)")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(pr, stream=out).sort_stats(key).print_stats(a.top)
        body = out.getvalue()
        print(f"\n--- by {key} ---")
        print(body[body.find("   ncalls"):].rstrip())


if __name__ == "__main__":
    main()
