"""Sources of jixiao's Excel add-in, kept as text: the ribbon (customUI) and the VBA callbacks.

This package is the add-in's adapter: it hands its sources and the name of the
UDF module (:mod:`jixiao_udfs`) to the builder in :mod:`jixiao.xlam.build`, and
adds the ``jixiao addin build|install|uninstall`` command to the CLI (entry
point ``jixiao.commands``).

Example:
    >>> sources().udf_module
    'jixiao_udfs'
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the builder is imported by the commands that build: `jixiao check` never pays for it
    from jixiao.xlam.build import AddinSources

UDF_MODULE = "jixiao_udfs"
MESSAGES = (  # shown by JixiaoRibbon.bas as JxMsg<key>(); the builder writes them as ChrW text (module JixiaoText)
    ("Title", "绩效自评"),
    ("NoBook", "请先打开一个工作簿（或新建一个空白工作簿），再点“绩效自评”选项卡上的按钮。"),
)


def sources() -> AddinSources:
    from jixiao.xlam import build as xlam

    files = resources.files(__name__)
    return xlam.AddinSources(ribbon_xml=(files / "ribbon.xml").read_text(encoding="utf-8"),
                             callbacks=(files / "JixiaoRibbon.bas").read_text(encoding="utf-8"),
                             udf_module=UDF_MODULE, messages=MESSAGES)


def build(out: str | Path = "jixiao.xlam", interpreter: str = "", pythonpath: str = "") -> Path:
    """Write jixiao.xlam (any OS)."""
    from jixiao.xlam import build as xlam

    return xlam.build(sources(), out, interpreter, pythonpath)


def install(target_dir: str | Path | None = None, interpreter: str | None = None) -> Path:
    """Build jixiao.xlam into Excel's start-up folder (or ``target_dir``)."""
    from jixiao.xlam import build as xlam

    return xlam.install(sources(), target_dir, interpreter)


def uninstall(target_dir: str | Path | None = None) -> Path | None:
    from jixiao.xlam import build as xlam

    return xlam.uninstall(target_dir)


def _run(a: argparse.Namespace) -> int:
    from rich.console import Console

    from jixiao.xlam import build as xlam

    con = Console(highlight=False)
    if a.action == "build":
        if not a.interpreter:
            Console(stderr=True, highlight=False).print("[yellow]注意[/]：未指定 --interpreter，加载项中没有记录 Python 的路径，Excel 将调用 PATH 中的"
                      " python；在各单位的电脑上可能找不到 Python 或用错版本。分发前请用 "
                      '--interpreter "C:\\…\\pythonw.exe" 重新生成，或在本机用 jixiao addin install 安装。')
        path = build(a.out, a.interpreter or "", a.pythonpath or "")
        con.print(f"[green]✓[/] {path}（xlwings {xlam.xlwings_version()} 模板）")
    elif a.action == "install":
        path = install(a.dir, a.interpreter)
        con.print(f"[green]✓[/] 已安装：{path}\n重新打开 Excel 后即可看到“绩效自评”选项卡。")
    else:
        gone = uninstall(a.dir)
        con.print(f"[green]✓[/] 已删除：{gone}" if gone else "未安装，无需删除。")
    return 0


def register_command(add: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``jixiao addin`` sub-command (entry point ``jixiao.commands``)."""
    sp = add("addin", _run, "生成、安装或卸载 Excel 加载项 jixiao.xlam", profile=False)
    sp.add_argument("action", choices=("build", "install", "uninstall"), help="build 生成；install/uninstall 仅 Windows")
    sp.add_argument("--out", "-o", default="jixiao.xlam", help="build：输出文件（默认 jixiao.xlam）")
    sp.add_argument("--interpreter", default=None, help="Excel 调用的 Python（pythonw.exe）；install 默认为当前 Python")
    sp.add_argument("--pythonpath", default=None, help="build：附加的 PYTHONPATH")
    sp.add_argument("--dir", default=None, help="install/uninstall：代替 Excel 启动文件夹（XLSTART）的文件夹")
