"""A round's deadline policy: refuse uploads after the deadline, or accept them and count the days late.

Times are naive UTC (as the server's database keeps them); days are counted on Beijing dates, the way the
bureau's notice states the deadline and its 工作考核评分表 deducts "每迟报一天" (``data/season.toml``).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from ..rules import error_codes
from . import settings

error_codes({"season.late_policy": "截止政策无效"})

REFUSE, ACCEPT = "refuse", "accept"


def policies() -> dict[str, str]:
    """Each policy's key and its Chinese label, as the round's form offers them."""
    return dict(settings()["lateness"]["policies"])


def default_policy() -> str:
    return str(settings()["lateness"]["default"])


def policy_of(raw: object) -> str:
    """A policy key, or ValueError with the Chinese reason."""
    text = str(raw or "").strip() or default_policy()
    if text not in policies():
        raise ValueError(f"截止政策应为：{'、'.join(policies().values())}")
    return text


def local_date(t: datetime) -> datetime:
    """The Beijing calendar day (midnight) of a naive-UTC time."""
    b = t + timedelta(hours=settings()["lateness"]["utc_offset_hours"])
    return datetime(b.year, b.month, b.day)


def days_late(deadline: datetime | None, at: datetime) -> int:
    """Days an upload at ``at`` is after ``deadline`` (0 when on time or without a deadline)."""
    if deadline is None or at <= deadline:
        return 0
    if settings()["lateness"]["count"] == "started_day":
        return math.ceil((at - deadline) / timedelta(days=1))
    return max(1, (local_date(at) - local_date(deadline)).days)


def takes_late(policy: str) -> bool:
    """Whether a round with this policy takes uploads after its deadline."""
    return policy == ACCEPT
