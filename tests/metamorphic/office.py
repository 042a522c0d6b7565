"""Office-suite round trips for the harness, in batches: one soffice process per target format for all
forms (and one more to bring .xls/.ods back to .xlsx for reading), Gnumeric's ssconvert in parallel."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jixiao.libreoffice import soffice

SUFFIX = {"libreoffice_xlsx": ".xlsx", "libreoffice_xls": ".xls", "libreoffice_ods": ".ods",
          "gnumeric_xlsx": ".xlsx", "gnumeric_xls": ".xls"}


def available(transformation: str) -> bool:
    exe = "ssconvert" if transformation.startswith("gnumeric") else "soffice"
    return shutil.which(exe) is not None


def lo_batch(files: list[Path], fmt: str, outdir: Path, timeout: float = 600) -> dict[str, Path]:
    """All ``files`` converted by one LibreOffice process; stem → converted file."""
    outdir.mkdir(parents=True, exist_ok=True)
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-batch-") as profile:
        subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                        "--convert-to", fmt, "--outdir", str(outdir), *map(str, files)],
                       capture_output=True, timeout=timeout, check=False)
    ext = "." + fmt.split(":")[0]
    return {f.stem: outdir / (f.stem + ext) for f in files if (outdir / (f.stem + ext)).exists()}


def _ssconvert(src: Path, dst: Path) -> Path | None:
    proc = subprocess.run(["ssconvert", str(src), str(dst)], capture_output=True, timeout=120, check=False)
    return dst if proc.returncode == 0 and dst.exists() else None


def gnumeric_batch(files: list[Path], ext: str, outdir: Path) -> dict[str, Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda f: (f.stem, _ssconvert(f, outdir / (f.stem + ext))), files)
        return {stem: p for stem, p in done if p is not None}


def round_trips(files: list[Path], work: Path) -> dict[str, dict[str, Path]]:
    """transformation → stem → an .xlsx to read (the saved .xlsx itself, or the .xls/.ods brought back)."""
    out: dict[str, dict[str, Path]] = {}
    if shutil.which("soffice") or shutil.which("libreoffice"):
        out["libreoffice_xlsx"] = lo_batch(files, "xlsx:Calc MS Excel 2007 XML", work / "lo-xlsx")
        xls = lo_batch(files, "xls:MS Excel 97", work / "lo-xls")
        ods = lo_batch(files, "ods", work / "lo-ods")
        out["libreoffice_xls"] = lo_batch(list(xls.values()), "xlsx:Calc MS Excel 2007 XML", work / "lo-xls-back")
        out["libreoffice_ods"] = lo_batch(list(ods.values()), "xlsx:Calc MS Excel 2007 XML", work / "lo-ods-back")
    if shutil.which("ssconvert"):
        out["gnumeric_xlsx"] = gnumeric_batch(files, ".xlsx", work / "gnumeric-xlsx")
        gxls = gnumeric_batch(files, ".xls", work / "gnumeric-xls")
        if shutil.which("soffice") or shutil.which("libreoffice"):
            out["gnumeric_xls"] = lo_batch(list(gxls.values()), "xlsx:Calc MS Excel 2007 XML", work / "gnumeric-xls-back")
    return out
