"""Batches: collect submitted workbooks from files, folders and .zip archives; check them in parallel.

One bad file never stops a batch: a corrupt archive, an encrypted workbook, a
file that is not a workbook or a workbook that takes too long becomes a
finding for that file. Archives are read with limits on what they may
inflate; nothing is extracted to disk and no input is ever modified.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .checker import FileResult, _finding, check_file
from ..profile import Profile, load_profile
from .xlsx import reason

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBER_RATIO = 200
FILE_SECONDS = 120


@dataclass
class Source:
    label: str  # what reports show: the path, or "archive.zip!member.xlsx"
    path: str | None = None
    data: bytes | None = None
    problem: FileResult | None = None  # already known to be unreadable


def _problem(label: str, code: str, message: str) -> Source:
    r = FileResult(label, error=code)
    r.findings = [_finding(code, "error", message, None, None)]
    return Source(label, problem=r)


def _archive(path: Path) -> Iterator[Source]:
    label = str(path)
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        yield _problem(label, "archive.corrupt", f"压缩包已损坏，无法打开：{reason(e)}")
        return
    total = 0
    with z:
        members = [i for i in z.infolist() if not i.is_dir()]
        if any(Path(i.filename).suffix.lower() == ".xml" for i in members) and "[Content_Types].xml" in z.namelist():
            # an .xlsx renamed to .zip
            yield Source(label, path=label)
            return
        for info in members:
            name = info.filename
            base = Path(name).name
            if name.startswith("__MACOSX/") or base.startswith(("~$", ".")):
                continue
            suffix = Path(name).suffix.lower()
            member_label = f"{label}!{name}"
            if suffix not in WORKBOOK_SUFFIXES:
                continue
            if info.flag_bits & 0x1:
                yield _problem(member_label, "archive.encrypted", "压缩包内文件已加密，无法读取")
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_MEMBER_BYTES or (ratio > MAX_MEMBER_RATIO and info.file_size > 1024 * 1024):
                yield _problem(member_label, "archive.too_large",
                               f"压缩包内文件解压后达 {info.file_size / 1e6:.0f} MB（压缩比 {ratio:.0f}），拒绝解压")
                continue
            total += info.file_size
            if total > MAX_ARCHIVE_BYTES:
                yield _problem(member_label, "archive.too_large", "压缩包解压总量超过 2 GB，其余文件不再读取")
                return
            try:
                with z.open(info) as fh:
                    data = fh.read(MAX_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as e:
                yield _problem(member_label, "archive.corrupt", f"无法从压缩包读取：{reason(e)}")
                continue
            if len(data) > MAX_MEMBER_BYTES:
                yield _problem(member_label, "archive.too_large", "压缩包内文件过大，拒绝解压")
                continue
            yield Source(member_label, data=data)


def collect(paths: Iterable[str | Path]) -> list[Source]:
    """Every workbook named by ``paths``: files, folders (recursive) and .zip archives, in a stable order."""
    out: list[Source] = []
    for p in map(Path, paths):
        if not p.exists():
            out.append(_problem(str(p), "input.not_found", "文件或文件夹不存在"))
        elif p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                if f.name.startswith(("~$", ".")):
                    continue
                if f.suffix.lower() in WORKBOOK_SUFFIXES:
                    out.append(Source(str(f), path=str(f)))
                elif f.suffix.lower() == ".zip":
                    out.extend(_archive(f))
        elif p.suffix.lower() == ".zip":
            out.extend(_archive(p))
        else:
            out.append(Source(str(p), path=str(p)))  # whatever it is: the reader says what is wrong with it
    return out


# ---------------------------------------------------------------------------
# Checking one source, in a worker


def _convert_xls(src: Source, tmp: str) -> tuple[str | None, str | None]:
    """An .xls converted to .xlsx by LibreOffice headless; (path, None) or (None, reason)."""
    from ..libreoffice import convert

    path = src.path
    if path is None:
        path = os.path.join(tmp, "book.xls")
        with open(path, "wb") as fh:
            fh.write(src.data or b"")
    try:
        return str(convert(path, "xlsx", os.path.join(tmp, "out"), timeout=FILE_SECONDS)), None
    except Exception as e:  # noqa: BLE001 - any failure of the converter becomes a finding
        return None, getattr(e, "message", str(e))


def check_source(src: Source, profile: str | Profile | None) -> FileResult:
    if src.problem is not None:
        return src.problem
    label = src.label
    is_xls = label.lower().endswith(".xls")
    if is_xls:
        with tempfile.TemporaryDirectory(prefix="jixiao-xls-") as tmp:
            converted, why = _convert_xls(src, tmp)
            if converted is None:
                r = FileResult(label, error="xls.convert_failed")
                r.findings = [_finding("xls.convert_failed", "error", f".xls 文件无法转换为 .xlsx：{why}", None, None)]
                return r
            res = check_file(converted, profile, label=label)
            res.findings.insert(0, _finding("xls.converted", "info", "旧版 .xls 文件已由 LibreOffice 转换为 .xlsx 后检查",
                                            None, None))
            return res
    return check_file(src.path or label, profile, label=label, data=src.data)


def _bounded(src: Source, profile: str | None) -> FileResult:
    """check_source with a wall-clock limit, in a worker process."""
    if hasattr(signal, "SIGALRM"):
        def on_alarm(*_):
            raise TimeoutError

        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(FILE_SECONDS)
    try:
        return check_source(src, profile)
    except TimeoutError:
        r = FileResult(src.label, error="check.timeout")
        r.findings = [_finding("check.timeout", "error", f"检查超过 {FILE_SECONDS} 秒，已放弃", None, None)]
        return r
    except Exception as e:  # noqa: BLE001 - one workbook never stops a batch
        r = FileResult(src.label, error="check.crashed")
        r.findings = [_finding("check.crashed", "error", f"检查时出错：{type(e).__name__}: {e}", None, None)]
        return r
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)


_PROFILE: str | None = None


def _init_worker(profile: str | None) -> None:
    global _PROFILE
    _PROFILE = profile
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(src: Source) -> FileResult:
    return _bounded(src, _PROFILE)


def run(sources: list[Source], profile: str | None = None, jobs: int = 1,
        progress: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Check every source; ``jobs`` worker processes (1: in this process). Results keep the input order."""
    if profile is not None:
        load_profile(profile)  # fail early, before any worker starts
    results: list[FileResult] = []
    if jobs <= 1 or len(sources) <= 1:
        for src in sources:
            r = _bounded(src, profile)
            results.append(r)
            if progress:
                progress(r)
        return results
    import multiprocessing as mp

    fork = sys.platform.startswith("linux")
    if fork:
        warm_up()  # compiled once here, inherited by every forked worker
    ctx = mp.get_context("fork" if fork else "spawn")
    chunk = max(1, min(16, len(sources) // (jobs * 8) or 1))
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(profile,)) as pool:
        for r in pool.imap(_work, sources, chunksize=chunk):
            results.append(r)
            if progress:
                progress(r)
    return results


def warm_up() -> None:
    """Compile the shipped templates' calculations and load the profiles before workers fork."""
    from .checker import templates
    from ..profile import shipped_profiles

    for t in templates():
        if t.model.kind.startswith("dept-province") or t.model.kind == "project":
            t.compiled  # noqa: B018 - the property compiles and caches
    for name in shipped_profiles():
        load_profile(name)




__all__ = ["Source", "collect", "run", "check_source", "warm_up"]
