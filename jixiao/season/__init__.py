"""The bureau's season, without HTTP: what each unit owes a round (:mod:`.requirements`), how late an upload
is (:mod:`.lateness`), and whether a workbook is the submitting unit's and the round's year (:mod:`.identity`).

The values a bureau may change (documents, late policy, how days are counted) are in ``data/season.toml``.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "season.toml"


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """The season's data file, read once."""
    with DATA.open("rb") as fh:
        return tomllib.load(fh)
