"""LibreOffice headless as an independent spreadsheet client: render workbooks to PDF and PNG,
or recalculate them. Used by the tests and by ``jixiao template --render``."""
from __future__ import annotations

import os
import shutil
import signal
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

    Each call uses its own LibreOffice profile folder, so parallel runs never share a lock. LibreOffice runs in a
    process group of its own, written to ``group`` in that folder while it runs: past ``timeout`` the whole group
    is killed (the launcher and ``soffice.bin``), and a batch that stops a worker can stop its conversion too.
    """
    src, out = Path(path).resolve(), Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as profile:
        _new_profile(profile)
        cmd = [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               *([f"--infilter={infilter}"] if infilter else []), "--convert-to", fmt, "--outdir", str(out), str(src)]
        returncode, stdout, stderr = _run_grouped(cmd, timeout, Path(profile) / "group", str(src))
    target = out / (src.stem + "." + fmt.split(":")[0])
    if returncode != 0 or not target.exists():
        raise JixiaoError(f"LibreOffice 无法转换：{stderr.strip() or stdout.strip()}",
                          code="render.failed", file=str(src))
    return target


def _run_grouped(cmd: list[str], timeout: float, marker: Path, label: str) -> tuple[int, str, str]:
    """Run ``cmd`` in a new process group; kill the whole group past ``timeout`` (and whatever happens here)."""
    grouped = hasattr(os, "killpg")
    env = os.environ | {"TMPDIR": str(marker.parent)}  # LibreOffice's own temporary files go with its profile
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=grouped, env=env)
    try:
        if grouped:
            marker.write_text(str(proc.pid))
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise JixiaoError(f"LibreOffice 转换超时（{timeout:.0f} 秒）", code="render.timeout", file=label) from None
    finally:
        if grouped:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # soffice.bin outlives its launcher otherwise
            except (ProcessLookupError, PermissionError):
                pass
        else:
            proc.kill()
        proc.wait()
    return proc.returncode, stdout, stderr


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
