"""VBA projects as [MS-OVBA] describes them: compression, the ``dir`` stream, source-only projects.

jixiao writes its add-in's VBA as a *source-only* project, the way xlwings'
own template is stored: ``_VBA_PROJECT`` says version 0xFFFF, every module
stream holds only compressed source (``MODULEOFFSET`` 0), and Excel compiles
the code when it first opens the add-in. Nothing here edits a binary by hand.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .cfb import CompoundFile

CHUNK = 4096
MAX_CANDIDATES = 48  # earlier positions tried per match: enough for source text, bounded time


# ---------------------------------------------------------------------------
# 2.4.1 Compression


def _copy_token_help(difference: int) -> tuple[int, int, int]:
    """(length_mask, offset_mask, bit_count) for a copy token at this distance from the chunk start."""
    bit_count = max((difference - 1).bit_length(), 4)
    length_mask = 0xFFFF >> bit_count
    return length_mask, ~length_mask & 0xFFFF, bit_count


def decompress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1.3.1 Decompression of a CompressedContainer."""
    if not data or data[0] != 0x01:
        raise ValueError("not a compressed VBA container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        size = (header & 0x0FFF) + 3
        compressed = header & 0x8000
        chunk_end = min(pos + size, len(data))
        pos += 2
        start = len(out)
        if not compressed:
            out += data[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                else:
                    token = struct.unpack_from("<H", data, pos)[0]
                    pos += 2
                    length_mask, offset_mask, bit_count = _copy_token_help(len(out) - start)
                    length = (token & length_mask) + 3
                    offset = ((token & offset_mask) >> (16 - bit_count)) + 1
                    src = len(out) - offset
                    for i in range(length):  # may overlap, byte by byte
                        out.append(out[src + i])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    pos, n = 0, len(chunk)
    index: dict[bytes, list[int]] = {}
    while pos < n:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            length_mask, _, bit_count = _copy_token_help(pos) if pos else (0, 0, 4)
            best_len = best_off = 0
            if pos >= 1 and pos + 3 <= n:
                max_len = min(length_mask + 3, n - pos)
                for cand in reversed(index.get(chunk[pos:pos + 3], [])[-MAX_CANDIDATES:]):
                    off = pos - cand  # always encodable: 2 ** bit_count >= pos
                    ln = 3
                    while ln < max_len and chunk[cand + ln] == chunk[pos + ln]:
                        ln += 1
                    if ln > best_len:
                        best_len, best_off = ln, off
                        if ln == max_len:
                            break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(chunk[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + 3 <= n:
                    index.setdefault(chunk[p:p + 3], []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1.3.6 Compression into a CompressedContainer."""
    out = bytearray(b"\x01")
    for i in range(0, len(data), CHUNK):
        chunk = data[i:i + CHUNK]
        body = _compress_chunk(chunk)
        if len(body) > CHUNK - 2 and len(chunk) == CHUNK:  # incompressible: a raw chunk of 4096 bytes
            out += struct.pack("<H", (CHUNK - 1) & 0x0FFF | 0x3000)
            out += chunk
        else:
            out += struct.pack("<H", ((len(body) + 2 - 3) & 0x0FFF) | 0x3000 | 0x8000)
            out += body
    return bytes(out)


# ---------------------------------------------------------------------------
# 2.3.4.2 The dir stream


@dataclass
class Module:
    name: str
    source: str  # the module's text, "Attribute VB_Name = …" lines included
    kind: str = "module"  # module | document | class
    stream: str = ""
    offset: int = 0

    @property
    def stream_name(self) -> str:
        return self.stream or self.name


@dataclass
class DirInfo:
    """A parsed dir stream: the project records before the modules, raw, and the modules."""

    head: bytes  # PROJECTINFORMATION + PROJECTREFERENCES records, as found
    code_page: int
    name: str
    modules: list[Module] = field(default_factory=list)


def _rec(rid: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def parse_dir(data: bytes) -> DirInfo:
    """Read a decompressed dir stream: project records (kept raw) and module records."""
    pos, code_page, name = 0, 1252, ""
    head_end = None
    modules: list[Module] = []
    cur: Module | None = None
    while pos + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        start = pos
        if rid == 0x0009:  # PROJECTVERSION: Reserved(4)=4, then 6 bytes
            pos += 6 + 6
            continue
        payload = data[pos + 6:pos + 6 + size]
        pos += 6 + size
        if rid == 0x0003:
            code_page = struct.unpack("<H", payload)[0]
        elif rid == 0x0004:
            name = payload.decode("cp1252", errors="replace")
        elif rid == 0x000F:
            head_end = start
        elif rid == 0x0019:
            cur = Module(payload.decode(f"cp{code_page}", errors="replace"), "")
        elif rid == 0x001A and cur:
            cur.stream = payload.decode(f"cp{code_page}", errors="replace")
        elif rid == 0x0031 and cur:
            cur.offset = struct.unpack("<I", payload)[0]
        elif rid == 0x0021 and cur:
            cur.kind = "module"
        elif rid == 0x0022 and cur:
            cur.kind = "document"  # also class modules: told apart by the PROJECT stream
        elif rid == 0x002B and cur:
            modules.append(cur)
            cur = None
        elif rid == 0x0010:
            break
    if head_end is None:
        raise ValueError("dir stream has no PROJECTMODULES record")
    return DirInfo(data[:head_end], code_page, name, modules)


def _rename_project(head: bytes, name: str) -> bytes:
    """The project records with PROJECTNAME replaced."""
    out, pos = bytearray(), 0
    while pos + 6 <= len(head):
        rid, size = struct.unpack_from("<HI", head, pos)
        length = 12 if rid == 0x0009 else 6 + size
        if rid == 0x0004:
            out += _rec(0x0004, name.encode("cp1252"))
        else:
            out += head[pos:pos + length]
        pos += length
    return bytes(out)


def build_dir(info: DirInfo, modules: list[Module], name: str) -> bytes:
    cp = f"cp{info.code_page}"
    out = bytearray(_rename_project(info.head, name))
    out += _rec(0x000F, struct.pack("<H", len(modules)))
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))
    for m in modules:
        out += _rec(0x0019, m.name.encode(cp))
        out += _rec(0x0047, m.name.encode("utf-16-le"))
        out += _rec(0x001A, m.stream_name.encode(cp))
        out += _rec(0x0032, m.stream_name.encode("utf-16-le"))
        out += _rec(0x001C, b"")
        out += _rec(0x0048, b"")
        out += _rec(0x0031, struct.pack("<I", 0))
        out += _rec(0x001E, struct.pack("<I", 0))
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))
        out += struct.pack("<HI", 0x0021 if m.kind == "module" else 0x0022, 0)
        out += struct.pack("<HI", 0x002B, 0)
    out += struct.pack("<HI", 0x0010, 0)
    return bytes(out)


# ---------------------------------------------------------------------------
# Whole projects


@dataclass
class Project:
    name: str
    modules: list[Module]
    dir_info: DirInfo
    project_text: str  # the template's PROJECT stream (ID, protection state, host extender)


def read_project(vba_bin: bytes) -> Project:
    """Read a VBA project (module sources included) from a vbaProject.bin, with olefile."""
    import io

    import olefile

    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    try:
        info = parse_dir(decompress(ole.openstream("VBA/dir").read()))
        project_text = ole.openstream("PROJECT").read().decode(f"cp{info.code_page}", errors="replace")
        classes = {line.split("=", 1)[1].strip() for line in project_text.splitlines() if line.startswith("Class=")}
        for m in info.modules:
            raw = ole.openstream(f"VBA/{m.stream_name}").read()
            m.source = decompress(raw[m.offset:]).decode(f"cp{info.code_page}", errors="replace")
            if m.name in classes:
                m.kind = "class"
    finally:
        ole.close()
    return Project(info.name, info.modules, info, project_text)


def _project_stream(project: Project, name: str) -> str:
    """The PROJECT stream: the template's ID and protection lines, our module list and name."""
    keep, workspace = [], []
    section = ""
    for line in project.project_text.replace("\r\n", "\n").split("\n"):
        if line.startswith("["):
            section = line
        if section == "" and line.split("=", 1)[0] in ("ID", "HelpContextID", "VersionCompatible32", "CMG", "DPB",
                                                        "GC"):
            keep.append(line)
    lines = [keep[0]]
    for m in project.modules:
        if m.kind == "document":
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    lines.append(f'Name="{name}"')
    lines += keep[1:]
    lines += ["", "[Host Extender Info]", "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000", "",
              "[Workspace]"]
    workspace = [f"{m.name}=0, 0, 0, 0, C" for m in project.modules]
    return "\r\n".join(lines + workspace) + "\r\n"


def write_project(project: Project) -> bytes:
    """A source-only vbaProject.bin for ``project``."""
    cp = f"cp{project.dir_info.code_page}"
    cf = CompoundFile()
    cf.add("PROJECT", _project_stream(project, project.name).encode(cp))
    wm = bytearray()
    for m in project.modules:
        wm += m.name.encode(cp) + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
    cf.add("PROJECTwm", bytes(wm) + b"\0\0")
    cf.add("VBA/_VBA_PROJECT", bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00]))
    cf.add("VBA/dir", compress(build_dir(project.dir_info, project.modules, project.name)))
    for m in project.modules:
        text = m.source.replace("\r\n", "\n").replace("\n", "\r\n")
        cf.add(f"VBA/{m.stream_name}", compress(text.encode(cp)))
    return cf.tobytes()
