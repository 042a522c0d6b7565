"""Batches: collect submitted workbooks from files, folders and .zip archives; check them in parallel.

One bad file never stops a batch: a corrupt archive, an encrypted workbook, a
file that is not a workbook, a folder or file that cannot be read, or a
workbook that takes too long becomes a finding for that file. Archives are read
with limits on what they may inflate; nothing is extracted to disk and no input
is ever modified. Member names written by Windows (GBK, without the zip UTF-8
flag) are decoded as such. jixiao's own reports (a report written into the
checked folder) are recognised and skipped.

Each file is checked in a worker process under one deadline and a memory
limit, both owned by the batch: a worker that runs past its file's deadline
is stopped, one that dies (out of memory, killed) is replaced, and either
way the file gets a finding while the batch goes on — on Linux, macOS and
Windows alike.
"""
from __future__ import annotations

import html
import io
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import Finding
from ..profile import Profile, load_profile
from ..rules import error_codes, rule
from .checker import check_file
from .deadline import Deadline
from .result import FileResult
from .xlsx import MAX_DIRECTORY_BYTES as XLSX_DIRECTORY_BYTES
from .xlsx import MAX_PARTS, reason, too_many_members, zip_directory

error_codes({
    "archive.corrupt": "压缩包损坏",
    "archive.encrypted": "压缩包加密",
    "archive.too_large": "压缩包文件过大",
    "input.not_found": "文件不存在",
    "input.unreadable": "文件无法读取",
    "output.is_input": "输出会覆盖提交的文件",
    "output.invalid": "输出路径无效",
    "output.special": "输出路径是设备、管道或套接字",
    "output.unwritable": "输出路径无法写入",
})

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
MAX_MEMBERS = 10_000  # members of one archive: each costs memory before any is read, each workbook a check
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024  # the archive's zip directory (names included)


@dataclass
class Source:
    label: str  # what reports show: the path, or "archive.zip!member.xlsx"
    path: str | None = None
    data: bytes | None = None
    problem: FileResult | None = None  # already known to be unreadable


def _problem(label: str, code: str, message: str) -> Source:
    return Source(label, problem=FileResult.failed(label, Finding(code, "error", message)))


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its writer meant it: without the UTF-8 flag (bit 11) the bytes are GBK on a Chinese
    Windows, which :mod:`zipfile` decodes as cp437 (mojibake)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _is_report_part(core: bytes, workbook: bytes) -> bool:
    from .report import REPORT_MARKER, REPORT_SHEETS

    text = workbook.decode("utf-8", "replace")
    sheets = [html.unescape(m) for m in re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', text)]
    props = core.decode("utf-8", "replace")
    # the marker; or, for reports written before it, jixiao as the creator and the report's title
    marked = REPORT_MARKER in props or (re.search(r"<dc:creator\b[^>]*>jixiao [\d.]+</dc:creator>", props) is not None
                                        and "绩效自评检查报告" in props)
    return marked and sheets == list(REPORT_SHEETS)


def is_own_report(source: str | Path | bytes) -> bool:
    """A report jixiao wrote (its marker in docProps/core.xml and exactly the report's sheets), not a submission."""
    try:
        fh = io.BytesIO(source) if isinstance(source, bytes) else source
        if zip_directory(fh) is None or too_many_members(fh, MAX_PARTS, XLSX_DIRECTORY_BYTES) is not None:
            return False
        with zipfile.ZipFile(fh) as z:
            parts = {}
            for name in ("docProps/core.xml", "xl/workbook.xml"):
                info = z.getinfo(name)
                if info.file_size > 1024 * 1024:
                    return False
                parts[name] = z.read(info)
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, ValueError):
        return False
    return _is_report_part(parts["docProps/core.xml"], parts["xl/workbook.xml"])


def _archive(path: Path) -> Iterator[Source]:
    label = str(path)
    try:
        count = too_many_members(path, MAX_MEMBERS, MAX_DIRECTORY_BYTES)
        if count is not None:
            yield _problem(label, "archive.too_large", f"压缩包内有约 {count} 个文件，超过 {MAX_MEMBERS} 个，拒绝解压")
            return
        z = zipfile.ZipFile(path)
    except PermissionError as e:
        yield _problem(label, "input.unreadable", f"压缩包无法读取：{reason(e)}")
        return
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
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
            name = member_name(info)
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
            if is_own_report(data):
                continue
            yield Source(member_label, data=data)


def _walk(folder: Path) -> Iterator[Path | Source]:
    """Files under a folder (linked folders not entered: a link to / would walk the disk), in a stable order; a folder
    that cannot be read becomes a finding instead of being skipped silently."""
    seen: set[tuple[int, int]] = set()
    problems: list[Source] = []

    def on_error(e: OSError) -> None:
        where = e.filename or str(folder)
        problems.append(_problem(str(where), "input.unreadable", f"文件夹无法读取：{reason(e)}，其中的文件未检查"))

    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=on_error):  # linked folders are not entered
        try:
            st = os.stat(root)
            ident = (st.st_dev, st.st_ino)
        except OSError:
            ident = None
        if ident is not None:
            if ident in seen:  # a link back to a folder already walked (a symlink loop)
                dirs[:] = []
                continue
            seen.add(ident)
        dirs.sort()
        found.extend(Path(root) / f for f in files)
    yield from problems
    yield from sorted(found)


def collect(paths: Iterable[str | Path]) -> list[Source]:
    """Every workbook named by ``paths``: files, folders (recursive) and .zip archives, in a stable order.

    jixiao's own reports found among them are skipped (see :func:`is_own_report`).
    """
    out: list[Source] = []
    for p in map(Path, paths):
        if not os.path.lexists(p):
            out.append(_problem(str(p), "input.not_found", "文件或文件夹不存在"))
        elif not p.exists():
            out.append(_problem(str(p), "input.not_found", "链接指向的文件不存在（或链接循环）"))
        elif p.is_dir():
            for f in _walk(p):
                if isinstance(f, Source):
                    out.append(f)
                    continue
                if f.name.startswith(("~$", ".")):
                    continue
                suffix = f.suffix.lower()
                if suffix not in WORKBOOK_SUFFIXES and suffix != ".zip":
                    continue
                if not f.exists():
                    out.append(_problem(str(f), "input.not_found", "链接指向的文件不存在（或链接循环）"))
                elif not os.access(f, os.R_OK):
                    out.append(_problem(str(f), "input.unreadable", "文件无法读取：没有读取权限"))
                elif suffix == ".zip":
                    out.extend(_archive(f))
                elif not is_own_report(f):
                    out.append(Source(str(f), path=str(f)))
        elif p.suffix.lower() == ".zip":
            out.extend(_archive(p))
        else:
            out.append(Source(str(p), path=str(p)))  # whatever it is: the reader says what is wrong with it
    return out


def _identity(path: str | Path) -> tuple[int, int] | None:
    """The file a path names (device, inode), symbolic links and bind mounts seen through; None if absent."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def output_clash(output: str | Path, inputs: Iterable[str | Path], sources: Iterable[Source] = ()
                 ) -> tuple[str, str] | None:
    """Why ``output`` cannot be written, as (code, Chinese message), or None.

    Refused: the output is, by file identity (device and inode, so a symbolic link, hard link or bind
    mount of an input is seen), an input file, a workbook found in an input folder, an input .zip, or a
    path inside one; a folder; a device, FIFO or socket (or a link to one); a path under a non-folder.
    """
    out = Path(output)
    files: set[tuple[int, int]] = set()
    for p in inputs:
        if os.path.isfile(p):
            files.add(_identity(p) or (-1, -1))
    for src in sources:
        if src.path:
            files.add(_identity(src.path) or (-1, -1))
        base = src.label.split("!", 1)[0] if "!" in src.label else None
        if base and base.lower().endswith(".zip"):
            files.add(_identity(base) or (-1, -1))
    try:
        st = os.stat(out)
    except OSError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return "output.invalid", "输出路径是一个文件夹"
        if not stat.S_ISREG(st.st_mode):
            return "output.special", "输出路径是设备、管道或套接字（或指向它们的链接），拒绝写入"
        if (st.st_dev, st.st_ino) in files:
            return "output.is_input", "输出文件就是被检查的输入文件，拒绝覆盖"
    for parent in Path(os.path.abspath(out)).parents:
        ident = _identity(parent)
        if ident is None:
            continue
        if ident in files:
            return "output.is_input", f"输出路径位于被检查的文件 {parent.name} 之内，拒绝写入"
        if not parent.is_dir():
            return "output.invalid", f"输出路径中的 {parent.name} 不是文件夹"
    return None


def output_unwritable(output: str | Path) -> str | None:
    """Why ``output`` cannot be written (Chinese), found before any checking work; None if it can."""
    parent = Path(os.path.abspath(output)).parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the folders still to be made are made by the writer
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".jixiao-probe-")
    except OSError as e:
        return f"无法在 {parent} 中写入（{e.strerror or e}）"
    os.close(fd)
    os.unlink(probe)
    if os.path.exists(output) and not os.access(output, os.W_OK):
        return "输出文件是只读的"
    return None


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


def _is_html(src: Source) -> bool:
    """An "Excel export" that is a web page's table named .xls: read as it is, not converted."""
    from .html_table import is_html

    if src.data is not None:
        return is_html(src.data[:4096])
    try:
        with open(src.path or src.label, "rb") as fh:
            return is_html(fh.read(4096))
    except OSError:
        return False


def check_source(src: Source, profile: str | Profile | None, deadline: Deadline | None = None) -> FileResult:
    """Check one source in this process (an .xls is converted by LibreOffice first)."""
    deadline = deadline or Deadline(FILE_SECONDS)
    if src.problem is not None:
        return src.problem
    label = src.label
    if label.lower().endswith(".xls") and not _is_html(src):
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
