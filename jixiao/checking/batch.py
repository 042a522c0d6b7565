"""Batches: collect submitted workbooks from files, folders and .zip archives; check them in parallel.

One bad file never stops a batch: a corrupt archive, an encrypted workbook, a
file that is not a workbook or a workbook that takes too long becomes a
finding for that file. Archives are read with limits on what they may
inflate; nothing is extracted to disk and no input is ever modified.

Each file is checked in a worker process under one deadline and a memory
limit, both owned by the batch: a worker that runs past its file's deadline
is stopped, one that dies (out of memory, killed) is replaced, and either
way the file gets a finding while the batch goes on — on Linux, macOS and
Windows alike.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import Finding
from ..profile import Profile, load_profile
from ..rules import rule
from .checker import check_file
from .deadline import Deadline
from .result import FileResult

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBER_RATIO = 200
FILE_SECONDS = 60  # one file's deadline
WORKER_MEMORY = 2 * 1024 ** 3  # bytes of data a worker may allocate (RLIMIT_DATA where the OS has it)

CONVERTED = rule("xls.converted", "已由 .xls 转换")
CONVERT_FAILED = rule("xls.convert_failed", ".xls 无法转换")
CRASHED = rule("check.crashed", "检查出错")
OUT_OF_MEMORY = rule("check.memory", "内存超限")
for _id, _title in (("input.not_found", "文件不存在"), ("archive.corrupt", "压缩包损坏"),
                    ("archive.too_large", "压缩包文件过大"), ("archive.encrypted", "压缩包加密")):
    rule(_id, _title)


@dataclass
class Source:
    label: str  # what reports show: the path, or "archive.zip!member.xlsx"
    path: str | None = None
    data: bytes | None = None
    problem: FileResult | None = None  # already known to be unreadable


def _problem(label: str, code: str, message: str) -> Source:
    return Source(label, problem=FileResult.failed(label, Finding(code, "error", message)))


def _archive(path: Path) -> Iterator[Source]:
    label = str(path)
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        yield _problem(label, "archive.corrupt", f"压缩包已损坏，无法打开：{e}")
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
                yield _problem(member_label, "archive.corrupt", f"无法从压缩包读取：{e}")
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


def _convert_xls(src: Source, tmp: str, deadline: Deadline) -> tuple[str | None, str | None]:
    """An .xls converted to .xlsx by LibreOffice headless; (path, None) or (None, reason)."""
    from ..libreoffice import convert

    path = src.path
    if path is None:
        path = os.path.join(tmp, "book.xls")
        with open(path, "wb") as fh:
            fh.write(src.data or b"")
    try:
        return str(convert(path, "xlsx", os.path.join(tmp, "out"), timeout=max(deadline.left(), 1))), None
    except Exception as e:  # noqa: BLE001 - any failure of the converter becomes a finding
        return None, getattr(e, "message", str(e))


def check_source(src: Source, profile: Profile | None, deadline: Deadline | None = None) -> FileResult:
    """Check one source in this process (an .xls is converted by LibreOffice first)."""
    deadline = deadline or Deadline(FILE_SECONDS)
    if src.problem is not None:
        return src.problem
    label = src.label
    if label.lower().endswith(".xls"):
        with tempfile.TemporaryDirectory(prefix="jixiao-xls-") as tmp:
            converted, why = _convert_xls(src, tmp, deadline)
            if converted is None:
                return FileResult.failed(label, Finding(CONVERT_FAILED, "error", f".xls 文件无法转换为 .xlsx：{why}"))
            res = check_file(converted, profile, label=label, deadline=deadline)
            res.findings.insert(0, Finding(CONVERTED, "info", "旧版 .xls 文件已由 LibreOffice 转换为 .xlsx 后检查"))
            return res
    return check_file(src.path or label, profile, label=label, data=src.data, deadline=deadline)


def run(sources: list[Source], profile: str | Profile | None = None, jobs: int = 1,
        progress: Callable[[FileResult], None] | None = None, *, seconds: float = FILE_SECONDS,
        memory: int | None = WORKER_MEMORY, isolate: bool = True) -> list[FileResult]:
    """Check every source and return the results in input order.

    ``profile``: the bureau's profile (a name is loaded once, here), None to let each form say.
    ``jobs`` worker processes check files in parallel, each file within ``seconds`` and each worker
    within ``memory`` bytes; ``isolate=False`` checks in this process instead (no deadline can stop
    a file there). ``progress`` is called with each result as it arrives.
    """
    prof = load_profile(profile) if isinstance(profile, (str, Path)) else profile  # fails before any worker starts
    if not isolate:
        out = []
        for src in sources:
            r = _guarded(src, prof, Deadline(seconds))
            out.append(r)
            if progress:
                progress(r)
        return out
    from .workers import WorkerPool

    warm_up()
    jobs = max(1, min(jobs, len(sources), os.cpu_count() or 1))
    results: list[FileResult | None] = [None] * len(sources)
    work = []
    for i, src in enumerate(sources):
        if src.problem is not None:  # known to be unreadable: no worker needed
            results[i] = src.problem
            if progress:
                progress(src.problem)
        else:
            work.append((i, src))
    if work:
        with WorkerPool(jobs, prof, seconds, memory) as pool:
            for i, r in pool.map(work):
                results[i] = r
                if progress:
                    progress(r)
    return [r for r in results if r is not None]


def _guarded(src: Source, profile: Profile | None, deadline: Deadline) -> FileResult:
    """check_source that never raises: what escapes becomes the file's finding."""
    try:
        return check_source(src, profile, deadline)
    except MemoryError:
        return FileResult.failed(src.label, Finding(OUT_OF_MEMORY, "error", "检查此文件所需内存超过限额，已放弃"))
    except Exception as e:  # noqa: BLE001 - one workbook never stops a batch
        return FileResult.failed(src.label, Finding(CRASHED, "error", f"检查时出错：{type(e).__name__}: {e}"))


def warm_up() -> None:
    """Compile the shipped templates' calculations and load the profiles, once, before workers fork."""
    from ..profile import shipped_profiles
    from .templates import templates

    for t in templates():
        if t.model.kind.startswith("dept-province") or t.model.kind == "project":
            t.compiled  # noqa: B018 - the property compiles and caches
    for name in shipped_profiles():
        load_profile(name)


__all__ = ["Source", "collect", "run", "check_source", "warm_up", "FILE_SECONDS"]
