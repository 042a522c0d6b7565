"""People, units and tokens: used by ``jixiao users`` and by the pages."""
from __future__ import annotations

import io
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .db import ApiToken, Audit, Unit, User
from .security import hash_password, new_token, token_hash

ROLES = {"bureau": "绩效科（审核）", "unit": "填报单位"}


class AccountError(Exception):
    """A refusal with a Chinese message."""


def unit_named(db: Session, name: str, create: bool = True) -> Unit | None:
    name = name.strip()
    unit = db.scalar(select(Unit).where(Unit.name == name))
    if unit is None and create:
        unit = Unit(name=name)
        db.add(unit)
        db.flush()
    return unit


def add_user(db: Session, name: str, role: str, password: str, unit: str | None = None,
             by: str | None = "(命令行)") -> User:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("用户名不能为空，且不超过 100 个字符")
    if role not in ROLES:
        raise AccountError("角色只能是 bureau（绩效科）或 unit（填报单位）")
    if role == "unit" and not (unit or "").strip():
        raise AccountError("填报单位的账号必须用 --unit 指定单位名称")
    if len(password) < 8:
        raise AccountError("密码至少 8 个字符")
    if db.scalar(select(User).where(User.name == name)):
        raise AccountError(f"用户 {name} 已存在")
    unit_id = None
    if role == "unit" and unit is not None:  # a unit account always names its unit (checked above)
        unit_row = unit_named(db, unit)
        assert unit_row is not None  # created when missing
        unit_id = unit_row.id
    user = User(name=name, role=role, password_hash=hash_password(password), unit_id=unit_id)
    db.add(user)
    db.flush()
    if by is not None:  # None: the page writes its own row, with the reviewer and the address
        db.add(Audit(user_name=by, action="user.add", target=name, detail=f"role={role} unit={unit or ''}"))
    return user


def set_password(db: Session, name: str, password: str, by: str | None = "(命令行)") -> None:
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"没有用户 {name}")
    if len(password) < 8:
        raise AccountError("密码至少 8 个字符")
    user.password_hash = hash_password(password)
    end_access(db, user)  # a new password ends the sessions and API tokens made under the old one
    if by is not None:
        db.add(Audit(user_id=user.id, user_name=by, action="user.password", target=name))


def end_access(db: Session, user: User) -> None:
    """Every session of the user ends (the epoch in their cookies is no longer the user's) and every API token goes."""
    user.session_epoch += 1
    db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


# no 0/O, 1/l/I: a password read out over the telephone or copied from a screen
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_password() -> str:
    """A password made for a unit (shown once to the reviewer who asked for it): 12 characters, about 70 bits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def set_active(db: Session, name: str, active: bool, by: str | None = "(命令行)") -> User:
    """Deactivate (sessions and API tokens end at once) or reactivate a unit's account."""
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"没有用户 {name}")
    if user.role != "unit":
        raise AccountError("这里只能停用或启用填报单位的账号")
    if user.active != active:
        user.active = active
        if not active:
            end_access(db, user)
        if by is not None:
            db.add(Audit(user_id=user.id, user_name=by, action="user.activate" if active else "user.deactivate",
                         target=name))
    return user


def revoke_tokens(db: Session, name: str) -> int:
    """Every API token of the user stops working (within the server's 30 s token cache); how many there were."""
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"没有用户 {name}")
    n = len(db.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id)).all())
    db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.add(Audit(user_id=user.id, user_name="(命令行)", action="user.revoke_tokens", target=name, detail=str(n)))
    return n


def issue_token(db: Session, name: str) -> str:
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"没有用户 {name}")
    token = new_token()
    db.add(ApiToken(user_id=user.id, token_hash=token_hash(token), hint=token[:7]))
    db.add(Audit(user_id=user.id, user_name="(命令行)", action="token.issue", target=name))
    return token


def import_units(db: Session, data: bytes) -> tuple[int, int]:
    """Units from the first sheet of an .xlsx: the column headed 单位名称 (or 单位, or the first column).

    Returns (added, already there)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001
        raise AccountError("无法读取单位名单：请上传 .xlsx 文件") from e
    rows: list[tuple[Any, ...]] = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True, max_row=20001)]
    wb.close()
    if not rows:
        raise AccountError("单位名单是空的")
    header = [str(x or "").strip() for x in rows[0]]
    col, code_col, start = 0, None, 0
    for i, h in enumerate(header):
        if h in ("单位名称", "单位", "预算单位", "填报单位"):
            col, start = i, 1
        if h in ("单位编码", "编码", "单位代码"):
            code_col = i
    added = existing = 0
    seen = set()
    for r in rows[start:]:
        name = str(r[col]).strip() if col < len(r) and r[col] is not None else ""
        if not name or name in seen or len(name) > 200:
            continue
        seen.add(name)
        unit = db.scalar(select(Unit).where(Unit.name == name))
        if unit:
            existing += 1
            continue
        code = r[code_col] if code_col is not None and code_col < len(r) else None
        db.add(Unit(name=name, code=None if code is None else str(code)[:64]))
        added += 1
    return added, existing
