"""The bureau's season, without HTTP: what each unit owes a round (:mod:`.requirements`), how late an upload
is (:mod:`.lateness`), whether a workbook is the submitting unit's and the round's year (:mod:`.identity`), the
抽查 draw (:mod:`.sampling`), 复核 (:mod:`.recheck`) and the 工作考核评分表 (:mod:`.assessment`).

The values a bureau may change are data files in ``data/``: ``season.toml`` (documents, late policy, how days
are counted), ``sampling.toml`` (risk weights), ``assessment.toml`` (the 工作考核评分表's rows and deductions).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=None)
def data_file(name: str) -> dict[str, Any]:
    """One of the season's data files (``data/NAME.toml``), read once."""
    with (DATA / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


def settings() -> dict[str, Any]:
    """The season's settings: documents, late policy, how days late are counted (``data/season.toml``)."""
    return data_file("season")
