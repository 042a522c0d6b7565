"""LibreOffice headless as an independent spreadsheet client: render workbooks to PDF and PNG,
or recalculate them. Used by the tests and by ``jixiao template --render``."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import JixiaoError
from .rules import error_codes

error_codes({
    "render.failed": "LibreOffice 无法转换",
    "render.no_libreoffice": "缺少 LibreOffice",
    "render.no_pdftoppm": "缺少 pdftoppm",
    "render.timeout": "LibreOffice 转换超时",
})


def soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise JixiaoError("找不到 LibreOffice（soffice），请先安装：apt-get install libreoffice-calc",
                          code="render.no_libreoffice")
    return exe


# The fresh profile each conversion starts from: a submitted workbook's links to other files are never updated
# (Calc's "update links when opening": 0 always, 1 never, 2 on request), so LibreOffice opens nothing but the file.
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def _new_profile(folder: str) -> None:
    """A LibreOffice user profile that never updates links and never recalculates on load."""
    user = Path(folder) / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")


def convert(path: str | Path, fmt: str, outdir: str | Path, timeout: float = 180, infilter: str | None = None) -> Path:
    """Convert one file with LibreOffice headless (pdf, csv, xlsx …) into ``outdir``; return the new file.

    Each call uses its own LibreOffice profile folder, so parallel runs never share a lock.
    """
    src, out = Path(path).resolve(), Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as profile:
        _new_profile(profile)
        cmd = [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               *([f"--infilter={infilter}"] if infilter else []), "--convert-to", fmt, "--outdir", str(out), str(src)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise JixiaoError(f"LibreOffice 转换超时（{timeout:.0f} 秒）", code="render.timeout", file=str(src)) from None
    target = out / (src.stem + "." + fmt.split(":")[0])
    if proc.returncode != 0 or not target.exists():
        raise JixiaoError(f"LibreOffice 无法转换：{proc.stderr.strip() or proc.stdout.strip()}",
                          code="render.failed", file=str(src))
    return target


def pdf_to_png(pdf: str | Path, outdir: str | Path, dpi: int = 80, first_page_only: bool = False) -> list[Path]:
    """PNG pages of a PDF with pdftoppm (poppler-utils)."""
    exe = shutil.which("pdftoppm")
    if not exe:
        raise JixiaoError("找不到 pdftoppm，请安装 poppler-utils", code="render.no_pdftoppm")
    pdf, out = Path(pdf), Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "-r", str(dpi), "-png"] + (["-f", "1", "-l", "1"] if first_page_only else []) + [str(pdf), str(out / pdf.stem)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return sorted(out.glob(f"{pdf.stem}*.png"))
