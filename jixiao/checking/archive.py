"""Archives: listed from their zip directory alone, each member read later, in a worker, through a byte counter.

Listing reads only the central directory, whose size and entry count are checked first (see
:func:`jixiao.checking.xlsx.zip_directory`, which reads the zip64 record as :mod:`zipfile` does); nothing is
inflated in the batch's own process. A member is read by the worker that checks it, in chunks, and the reading
stops at :data:`MAX_MEMBER_BYTES` whatever the member's headers claim.
"""
from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import JixiaoError
from .xlsx import reason, too_many_members

MAX_MEMBERS = 10_000  # members of one archive: each costs memory before any is read, each workbook a check
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024  # the archive's zip directory (names included)
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one member, as read through the counter
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024  # all members of one archive, as declared
MAX_MEMBER_RATIO = 200  # declared size / compressed size: workbooks are compressed already (about 1)
RATIO_FLOOR = 64 * 1024  # below this declared size a high ratio is harmless
CHUNK = 1024 * 1024


class ArchiveError(JixiaoError):
    """An archive, or one of its members, that cannot be read within the bounds."""


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


def open_archive(path: str | Path) -> zipfile.ZipFile:
    """The archive, opened once its directory is known to be small enough; ArchiveError otherwise."""
    try:
        count = too_many_members(path, MAX_MEMBERS, MAX_DIRECTORY_BYTES)
        if count is not None:
            raise ArchiveError(f"压缩包内有约 {count} 个文件（或目录过大），超过 {MAX_MEMBERS} 个的上限，拒绝解压",
                               code="archive.too_large", file=str(path))
        return zipfile.ZipFile(path)
    except PermissionError as e:
        raise ArchiveError(f"压缩包无法读取：{reason(e)}", code="input.unreadable", file=str(path)) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise ArchiveError(f"压缩包已损坏，无法打开：{reason(e)}", code="archive.corrupt", file=str(path)) from None


def members(z: zipfile.ZipFile) -> Iterator[tuple[zipfile.ZipInfo, str | None]]:
    """Each file member with why it cannot be read (None when it can), judged from the directory alone."""
    total = 0
    for info in z.infolist():
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            yield info, "archive.encrypted"
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (ratio > MAX_MEMBER_RATIO and info.file_size > RATIO_FLOOR):
            yield info, "archive.too_large"
            continue
        total += info.file_size
        yield info, ("archive.total" if total > MAX_ARCHIVE_BYTES else None)


def too_large_message(info: zipfile.ZipInfo) -> str:
    ratio = info.file_size / max(info.compress_size, 1)
    return f"压缩包内文件声明解压后达 {info.file_size / 1e6:.1f} MB（压缩比 {ratio:.0f}），拒绝解压"


def read_member(archive: str | Path, member: str, label: str) -> bytes:
    """One member's bytes, read in chunks through a counter that stops at MAX_MEMBER_BYTES (in the worker)."""
    with open_archive(archive) as z:
        try:
            info = z.getinfo(member)
        except KeyError:
            raise ArchiveError("压缩包内已找不到此文件（压缩包在检查期间被改动）", code="archive.corrupt",
                               file=label) from None
        if info.flag_bits & 0x1:
            raise ArchiveError("压缩包内文件已加密，无法读取", code="archive.encrypted", file=label)
        chunks, size = [], 0
        try:
            with z.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    size += len(chunk)
                    if size > MAX_MEMBER_BYTES:
                        raise ArchiveError(f"压缩包内文件解压后超过 {MAX_MEMBER_BYTES // 2**20} MB（与其声明不符），"
                                           "已停止解压", code="archive.too_large", file=label)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, NotImplementedError, zlib.error) as e:
            raise ArchiveError(f"无法从压缩包读取：{reason(e)}", code="archive.corrupt", file=label) from None
    return b"".join(chunks)
