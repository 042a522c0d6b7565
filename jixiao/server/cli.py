"""The server's commands: ``jixiao serve``, ``jixiao users …`` and ``jixiao check --dask``."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any


def _settings(a: argparse.Namespace, **kw):
    from .config import Settings

    return Settings(data=Path(a.data), db_url=getattr(a, "db", None), **kw)


def register_command(add: Any) -> None:
    """``serve`` and ``users``, and ``--dask`` on ``check`` (entry point ``jixiao.commands``, as the add-in's)."""
    _fastapi_installed()
    sp = add("serve", cmd_serve, "启动提交服务（网页与接口）", profile=False, json=False)
    sp.add_argument("--data", required=True, help="数据目录：上传的文件、SQLite 数据库、签名密钥")
    sp.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    sp.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；放在反向代理之后）")
    sp.add_argument("--db", default=None, help="数据库 URL，如 postgresql+psycopg://用户:密码@主机/库（默认：数据目录中的 SQLite）")
    sp.add_argument("--workers", type=int, default=2, help="检查进程数（默认 2）")
    sp.add_argument("--dask", default=None, metavar="tcp://HOST:8786", help="把检查交给 Dask 集群")
    sp.add_argument("--max-file-mb", type=int, default=20, help="每个工作簿的大小上限（MB，默认 20）")
    sp.add_argument("--max-files", type=int, default=50, help="一次上传的工作簿数上限（默认 50）")
    sp.add_argument("--unit-quota-mb", type=int, default=None,
                    help="每个单位每个批次存储的文件总量上限（MB，压缩包按解压后计；默认 200；0 为不限）")
    sp.add_argument("--secure-cookies", action="store_true", help="只经 HTTPS 发送登录 Cookie（在 HTTPS 反向代理之后使用）")
    sp.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                    help="信任这些反向代理发来的 X-Forwarded-For/-Proto（默认 127.0.0.1）")

    up = add("users", cmd_users, "管理账号：添加用户、生成接口令牌、导入单位", profile=False, json=False)
    usub = up.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="添加用户")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=["bureau", "unit"], help="bureau：绩效科（审核）；unit：填报单位")
    a.add_argument("--unit", default=None, help="填报单位名称（role=unit 时必填；没有则新建）")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（第一行）")
    pw = usub.add_parser("passwd", help="重设用户密码")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（第一行）")
    t = usub.add_parser("token", help="为用户生成接口令牌（只显示这一次）")
    t.add_argument("name")
    rv = usub.add_parser("revoke-tokens", help="作废用户的全部接口令牌")
    rv.add_argument("name")
    de = usub.add_parser("deactivate", help="停用填报单位的账号（会话与接口令牌同时失效）")
    de.add_argument("name")
    ac = usub.add_parser("activate", help="重新启用填报单位的账号")
    ac.add_argument("name")
    i = usub.add_parser("import-units", help="从 .xlsx 导入单位名单（“单位名称”一列）")
    i.add_argument("xlsx")
    ls = usub.add_parser("list", help="列出用户")
    for p in (a, pw, t, rv, de, ac, i, ls):
        p.add_argument("--data", required=True, help="数据目录（与 jixiao serve 相同）")
        p.add_argument("--db", default=None, help="数据库 URL（与 jixiao serve 相同）")

    check = add.parsers.get("check")
    if check is not None:  # jixiao check runs its one body with the runner --dask names (dask_runner)
        check.add_argument("--dask", default=None, metavar="tcp://HOST:8786", help="把检查交给 Dask 集群")


def _fastapi_installed() -> None:
    """The server's commands exist only with the ``server`` extra (ImportError: the CLI leaves them out).
    Looked up, not imported: a command that does not serve never pays for importing the server's libraries."""
    from importlib.util import find_spec

    for name in ("fastapi", "sqlalchemy"):
        if find_spec(name) is None:
            raise ImportError(f"{name} is not installed", name=name)


def cmd_serve(a: argparse.Namespace) -> int:
    import uvicorn

    from . import create_app

    quota = {} if a.unit_quota_mb is None else {"unit_quota_bytes": a.unit_quota_mb * 1024 * 1024}
    settings = _settings(a, workers=a.workers, dask=a.dask, secure_cookies=a.secure_cookies,
                         max_file_bytes=a.max_file_mb * 1024 * 1024, max_files=a.max_files,
                         max_request_bytes=max(120, a.max_file_mb * 6) * 1024 * 1024, **quota)
    app = create_app(settings)
    where = "SQLite（" + str(settings.data / "jixiao.db") + "）" if not a.db else "外部数据库"
    print(f"jixiao 提交服务：http://{a.host}:{a.port}/  数据：{settings.data}  数据库：{where}  "
          f"检查：{'Dask ' + a.dask if a.dask else f'{a.workers} 个进程'}", file=sys.stderr)
    uvicorn.run(app, host=a.host, port=a.port, proxy_headers=True, forwarded_allow_ips=a.forwarded_allow_ips,
                log_level="warning", timeout_graceful_shutdown=10)
    return 0


def cmd_users(a: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .accounts import (
        AccountError,
        add_user,
        import_units,
        issue_token,
        revoke_tokens,
        set_active,
        set_password,
    )
    from .db import User, make_engine, migrate, sessions

    settings = _settings(a, start_workers=False)
    migrate(settings.url)
    engine = make_engine(settings.url)
    Session = sessions(engine)  # noqa: N806
    try:
        password = ""
        if a.users_command in ("add", "passwd"):  # asked before the transaction: no lock held while typing
            if a.password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = getpass.getpass("密码：")
                if getpass.getpass("再输入一次：") != password:
                    raise AccountError("两次输入的密码不一致")
        with Session.begin() as db:
            if a.users_command == "passwd":
                set_password(db, a.name, password)
                print(f"已重设 {a.name} 的密码")
            elif a.users_command == "add":
                user = add_user(db, a.name, a.role, password, a.unit)
                print(f"已添加用户 {user.name}（{a.role}{'，' + a.unit if a.unit else ''}）")
            elif a.users_command == "token":
                token = issue_token(db, a.name)
                print(token)
            elif a.users_command == "revoke-tokens":
                print(f"已作废 {a.name} 的 {revoke_tokens(db, a.name)} 个接口令牌")
            elif a.users_command in ("deactivate", "activate"):
                set_active(db, a.name, a.users_command == "activate")
                print(f"已{'启用' if a.users_command == 'activate' else '停用'} {a.name}")
            elif a.users_command == "import-units":
                added, existing = import_units(db, Path(a.xlsx).read_bytes())
                print(f"新增 {added} 个单位，已有 {existing} 个")
            else:
                for u in db.scalars(select(User).order_by(User.name)):
                    print(f"{u.name}\t{u.role}\t{u.unit.name if u.unit else ''}{'' if u.active else chr(9) + '已停用'}")
    except AccountError as e:
        print(f"错误 {e}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def dask_runner(address: str):
    """The runner ``jixiao check --dask`` checks with: the cluster at ``address``."""
    from .cluster import DaskRunner

    return DaskRunner(address)
