"""A writer for Compound File Binary files ([MS-CFB]), version 3 (512-byte sectors).

Enough of the format to write a VBA project (``vbaProject.bin``): nested
storages and streams, the mini stream for streams under 4096 bytes, FAT,
MiniFAT and directory. Reading is left to olefile, an independent
implementation the tests use to check what this module writes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5


@dataclass
class Node:
    name: str
    kind: int
    data: bytes = b""
    children: list["Node"] = field(default_factory=list)
    sid: int = -1
    start: int = ENDOFCHAIN
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM


def _key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4: siblings compare by name length, then by upper-case name."""
    return len(name), name.upper()


class CompoundFile:
    """Build a compound file: ``add("VBA/dir", data)`` creates storages along the path."""

    def __init__(self) -> None:
        self.root = Node("Root Entry", ROOT)

    def add(self, path: str, data: bytes) -> None:
        parts = path.split("/")
        node = self.root
        for name in parts[:-1]:
            nxt = next((c for c in node.children if c.name == name and c.kind == STORAGE), None)
            if nxt is None:
                nxt = Node(name, STORAGE)
                node.children.append(nxt)
            node = nxt
        if len(parts[-1]) > 31:
            raise ValueError(f"CFB names are at most 31 characters: {parts[-1]}")
        if any(c.name.upper() == parts[-1].upper() for c in node.children):
            raise ValueError(f"CFB names are unique without regard to case: {path}")
        node.children.append(Node(parts[-1], STREAM, data))

    # -- layout ------------------------------------------------------------
    def _number(self) -> list[Node]:
        order: list[Node] = []

        def visit(n: Node) -> None:
            n.sid = len(order)
            order.append(n)
            for c in n.children:
                visit(c)

        visit(self.root)
        for n in order:
            kids = sorted(n.children, key=lambda c: _key(c.name))
            n.child = self._balance(kids)
        return order

    def _balance(self, kids: list[Node]) -> int:
        """Siblings as a balanced binary search tree (every node black); returns the root's id."""
        if not kids:
            return NOSTREAM
        mid = len(kids) // 2
        node = kids[mid]
        node.left = self._balance(kids[:mid])
        node.right = self._balance(kids[mid + 1:])
        return node.sid

    def tobytes(self) -> bytes:
        nodes = self._number()
        streams = [n for n in nodes if n.kind == STREAM]
        small = [n for n in streams if len(n.data) < MINI_CUTOFF]
        big = [n for n in streams if len(n.data) >= MINI_CUTOFF]

        # mini stream: small streams in 64-byte mini sectors, chained in the MiniFAT
        mini = bytearray()
        minifat: list[int] = []
        for n in small:
            if not n.data:
                n.start = ENDOFCHAIN
                continue
            count = -(-len(n.data) // MINI_SECTOR)
            n.start = len(minifat)
            minifat.extend(range(n.start + 1, n.start + count))
            minifat.append(ENDOFCHAIN)
            mini += n.data + b"\0" * (count * MINI_SECTOR - len(n.data))

        sectors: list[bytes] = []
        fat: list[int] = []

        def place(data: bytes) -> int:
            if not data:
                return ENDOFCHAIN
            count = -(-len(data) // SECTOR)
            first = len(sectors)
            padded = data + b"\0" * (count * SECTOR - len(data))
            for i in range(count):
                sectors.append(padded[i * SECTOR:(i + 1) * SECTOR])
                fat.append(first + i + 1 if i < count - 1 else ENDOFCHAIN)
            return first

        self.root.start = place(bytes(mini))
        self.root.data = bytes(mini)
        for n in big:
            n.start = place(n.data)
        dir_bytes = b"".join(self._entry(n) for n in nodes)
        dir_bytes += self._empty_entry() * ((-len(nodes)) % (SECTOR // 128))
        first_dir = place(dir_bytes)
        mf = b"".join(struct.pack("<I", x) for x in minifat)
        if mf:
            mf += struct.pack("<I", FREESECT) * ((-len(minifat)) % (SECTOR // 4))
        first_minifat = place(mf) if mf else ENDOFCHAIN
        n_minifat = len(mf) // SECTOR

        # FAT sectors describe every sector, themselves included
        n_fat = 1
        while (len(sectors) + n_fat) > n_fat * (SECTOR // 4):
            n_fat += 1
        if n_fat > 109:
            raise ValueError("compound file too large for a header-only DIFAT")
        fat_start = len(sectors)
        fat.extend([FATSECT] * n_fat)
        fat.extend([FREESECT] * (n_fat * (SECTOR // 4) - len(fat)))
        fat_bytes = b"".join(struct.pack("<I", x) for x in fat)
        for i in range(n_fat):
            sectors.append(fat_bytes[i * SECTOR:(i + 1) * SECTOR])

        difat = [fat_start + i for i in range(n_fat)] + [FREESECT] * (109 - n_fat)
        header = struct.pack(
            "<8s16sHHHHH6sIIIIIIIII",
            bytes.fromhex("D0CF11E0A1B11AE1"), b"\0" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6, b"\0" * 6,
            0, n_fat, first_dir, 0, MINI_CUTOFF, first_minifat, n_minifat, ENDOFCHAIN, 0,
        ) + b"".join(struct.pack("<I", x) for x in difat)
        assert len(header) == SECTOR
        return header + b"".join(sectors)

    @staticmethod
    def _empty_entry() -> bytes:
        return b"\0" * 64 + struct.pack("<HBBIII16sIQQIQ", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16, 0, 0, 0,
                                        0, 0)

    @staticmethod
    def _entry(n: Node) -> bytes:
        name = n.name.encode("utf-16-le") + b"\0\0"
        size = len(n.data) if n.kind != STORAGE else 0
        start = n.start if n.kind != STORAGE else 0
        if n.kind == ROOT and not n.data:
            start = ENDOFCHAIN
        return name.ljust(64, b"\0") + struct.pack(
            "<HBBIII16sIQQIQ", len(name), n.kind, 1, n.left, n.right, n.child, b"\0" * 16, 0, 0, 0, start, size)
