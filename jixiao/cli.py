"""The ``jixiao`` command: the library's rules, one subcommand each.

Exit codes: 0 done (no error-level finding), 1 error-level findings (in ``check``
a missing or unreadable input is a finding for that input; in ``recalc`` circular
cells), 2 could not run (bad arguments, unknown profile, no workbook found, an
output over an input, a workbook ``recalc`` cannot read …).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.table import Table

from . import __version__
from .control import BASIC_KIND, BASIC_PROFILE, RATE_FORMULAS, control_key, control_rate, control_score, county_rates
from .deviation import indicator_score
from .errors import Finding, JixiaoError
from .execution import exec_rate, exec_score
from .form import DeptForm, FormScore, form_from_data, named_profile, read_form_data, score_form
from .profile import DEFAULT_PROFILE, load_profile, shipped_profiles
from .rules import error_codes
from .totals import grade

error_codes({
    "form.invalid": "表单数据无效",
})

_SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_SEV_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def _t(text: object) -> str:
    """Text for the terminal: rich markup escaped, control characters drawn visibly, long texts cut."""
    from .checking.outtext import shown

    return _markup_escape(str(shown(str(text))))


def _console() -> Console:
    return Console(highlight=False)


def _emit_json(obj: Any) -> None:
    from .checking.outtext import json_safe

    print(json.dumps(json_safe(obj), ensure_ascii=False, indent=2, default=str, allow_nan=False))


def _plain_text(v: Any) -> str:
    """A value as an officer reads it: lists joined with 、, never Python's ['a', 'b']."""
    if v is None:
        return ""
    if isinstance(v, (list, tuple, set)):
        return "、".join(_plain_text(x) for x in v)
    if isinstance(v, dict):
        return "；".join(f"{k}：{_plain_text(x)}" for k, x in v.items())
    return str(v)


def _findings_table(findings: list[Finding], title: str = "发现的问题") -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for col in ("级别", "规则", "位置", "说明", "应为", "实际"):
        t.add_column(col, overflow="fold")
    for f in findings:
        where = f.context or ""
        t.add_row(f"[{_SEV_STYLE[f.severity]}]{_SEV_ZH[f.severity]}[/]", _t(f.rule), _t(_plain_text(where)),
                  _t(f.message), _t(_plain_text(f.expected)), _t(_plain_text(f.found)))
    return t


def _form_json(path: str, s: FormScore) -> dict[str, Any]:
    return {
        "file": path, "profile": s.profile, "exec_rate": s.exec_rate, "exec_score": s.exec_score,
        "indicator_sum": s.indicator_sum, "sum_row": s.sum_row if s.complete else None,
        "total": s.total if s.complete else None, "capped_total": s.shown_total, "grade": s.shown_grade,
        "total_note": s.total_note,
        "indicators": [{"kind": i.kind, "weight": i.weight, "score": i.score, "grade": i.grade,
                        "met": i.met, "reason_required": i.reason_required} for i in s.indicators],
        "findings": [f.to_dict() for f in s.findings],
    }


def _print_form(con: Console, path: str, form: DeptForm, s: FormScore, source: str | None = None) -> None:
    how = f"（{source}）" if source else ""
    con.rule(f"[bold]{_t(form.unit or path)}[/]  {form.year or ''}年度  规则配置：{_t(s.profile)}{how}")
    t = Table(show_header=True, title_justify="left")
    for col in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "类型", "分值", "得分"):
        t.add_column(col, overflow="fold", max_width=28 if col in ("年度指标值", "实际完成值", "三级指标") else None)
    def short(x: object, n: int = 24) -> str:
        text = str(x).replace("\n", " ")
        return text if len(text) <= n else text[: n - 1] + "…"

    for row, sc in zip(form.indicators, s.indicators):
        score = "—" if sc.score is None else f"{sc.score:g}"
        style = "" if sc.score is None or sc.score >= sc.weight else "yellow"
        t.add_row(row.level1, row.level2, short(row.name), short(row.target), short(row.actual), sc.kind or "?",
                  f"{sc.weight:g}", f"[{style}]{score}[/]" if style else score)
    con.print(t)
    if s.complete:
        con.print(f"执行率 [bold]{s.exec_rate:.2%}[/]  执行率得分 [bold]{s.exec_score:g}[/]  "
                  f"指标得分合计 [bold]{s.indicator_sum:g}[/]  合计行 [bold]{s.sum_row:g}[/]  "
                  f"总分 [bold]{s.capped_total:g}[/]  等级 [bold green]{s.grade}[/]")
    else:
        con.print(f"执行率 [bold]{s.exec_rate:.2%}[/]  执行率得分 [bold]{s.exec_score:g}[/]  "
                  f"总分 [bold yellow]需核对[/]  等级 [bold yellow]需核对[/]  {_t(s.total_note or '')}")
    if s.findings:
        con.print(_findings_table(s.findings))


def cmd_score(a: argparse.Namespace) -> int:
    """Score JSON forms (and counties' 基础数据表); one bad file is reported (exit 1), the others still scored.

    The profile: ``--profile``, else the one the form names (``"profile"`` key), else the default.
    """
    from .profile import DEFAULT_PROFILE

    results = []
    worst = 0
    con = _console()
    err = Console(stderr=True, highlight=False)
    for path in a.forms:
        try:
            data = read_form_data(path)
            named = named_profile(data)
            source = "--profile" if a.profile else ("表单指定" if named else "默认")
            if data.get("kind") == BASIC_KIND:
                profile = a.profile or named or BASIC_PROFILE
                try:
                    rows = county_rates(data, profile)
                except JixiaoError as e:
                    e.file = path
                    raise
                if a.json:
                    results.append({"file": path, "kind": BASIC_KIND, "profile": profile, "profile_source": source,
                                    "county_rates": _rates_json(rows), "error": None})
                else:
                    _print_rates(con, data, rows, profile)
                continue
            form = form_from_data(data, path)
            profile = a.profile or named or DEFAULT_PROFILE
            try:
                s = score_form(form, profile)
            except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError):
                raise JixiaoError("表单数据中有无法计分的值（数字写成了文字，或缺少栏目）", code="form.invalid",
                                  file=path) from None
        except JixiaoError as e:
            worst = 1  # an unreadable form is an error-level finding for that form, as in check
            if a.json:
                results.append({"file": path, "error": e.code, "message": e.message})
            else:
                err.print(f"[bold red]错误[/] {_t(str(e))}")
            continue
        if any(f.severity == "error" for f in s.findings):
            worst = 1
        if a.json:
            results.append(_form_json(path, s) | {"profile_source": source, "error": None})
        else:
            _print_form(con, path, form, s, source)
    if a.json:
        _emit_json({"forms": results})
    return worst


def _rates_json(rows: list[tuple[str, str, float, float, float]]) -> list[dict[str, Any]]:
    return [dict(zip(("key", "name", "rate", "score", "weight"), r)) for r in rows]


def _print_rates(con: Console, basic: dict[str, Any], rows: list[tuple[str, str, float, float, float]],
                 profile: str) -> None:
    con.rule(f"[bold]{_t(str(basic.get('unit', '')))}[/]  {basic.get('year', '')}年度 基础数据表 控制率  "
             f"规则：{_t(profile)}")
    t = Table()
    for col in ("控制率", "计算值", "得分", "满分"):
        t.add_column(col)
    for _key, name, rate, score, weight in rows:
        t.add_row(name, f"{rate:.2%}", f"{score:g}", f"{weight:g}")
    con.print(t)


def cmd_demo(a: argparse.Namespace) -> int:
    """Score the bundled sample forms: seed 000's department form and seed 002's basic data."""
    con = _console()
    samples = resources.files("jixiao.samples")
    path = samples / "hunan-2024-dept.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    form = DeptForm.from_dict(data)
    s = score_form(form, "hunan-dept-2024")
    basic = json.loads((samples / "county-2022-basic.json").read_text(encoding="utf-8"))
    rows = county_rates(basic, BASIC_PROFILE)
    if a.json:
        _emit_json({"dept_form": _form_json("hunan-2024-dept.json", s), "county_rates": _rates_json(rows)})
        return 0
    con.print(f"[bold]jixiao {__version__} · 绩效自评助手 · 示例[/]")
    _print_form(con, "hunan-2024-dept.json", form, s)
    _print_rates(con, basic, rows, BASIC_PROFILE)
    return _demo_check(con, Path(a.out), data)


def _demo_check(con: Console, folder: Path, seed: dict[str, Any]) -> int:
    """Write sample submissions (seed 000 as the bureau's layout and in jixiao's template) and check them."""
    import random

    from .checking import batch, report
    from .checking.result import CheckResult
    from .layouts.writer import template_model
    from .samples import submissions, workbooks

    folder.mkdir(parents=True, exist_ok=True)
    samples = {
        "湖南省机关事务管理局-官方格式.xlsx": submissions.bureau_bytes(seed, {"exec_score": 9, "sum": 90}),
        "湖南省机关事务管理局-执行率分母用错.xlsx": submissions.bureau_bytes(seed, {"exec_score": 9, "sum": 90,
                                                                       "rate": "149.75%"}),
    }
    model = template_model("dept-province")
    values = workbooks.template_values(seed, model)
    samples["湖南省机关事务管理局-jixiao模板.xlsx"] = workbooks.excel_bytes(
        workbooks.fill_bytes(workbooks.template_bytes("dept-province"), values),
        workbooks.compute_cached("dept-province", values))
    data, _ = submissions.make_submission(random.Random(2024), "template", "sum_row")
    samples["某单位-合计手填错误.xlsx"] = data
    for name, content in samples.items():
        (folder / name).write_bytes(content)
    results = batch.run(batch.collect([folder / name for name in samples]), "hunan-dept-2024")  # not its reports
    written = [report.write_xlsx(results, folder / "检查报告.xlsx"), report.write_html(results, folder / "检查报告.html")]
    con.rule(f"[bold]批量检查示例[/]  jixiao check {folder} --profile hunan-dept-2024")
    _print_check(CheckResult(results), written)
    from .reports import draft

    form = folder / "湖南省机关事务管理局-官方格式.xlsx"
    out = folder / "湖南省机关事务管理局-自评报告.docx"
    con.rule(f"[bold]自评报告示例[/]  jixiao report {_t(form)} --out {_t(out)}")
    _print_draft(con, *draft(form, out, "hunan-dept-2024"))
    return 0


def cmd_exec(a: argparse.Namespace) -> int:
    r = exec_rate(a.budget, a.executed)
    s = exec_score(r, a.profile, a.weight)
    if a.json:
        _emit_json({"exec_rate": r, "exec_score": s, "profile": load_profile(a.profile).id})
    else:
        _console().print(f"执行率 [bold]{r:.2%}[/]  得分 [bold]{s:g}[/]  （规则：{load_profile(a.profile).id}）")
    return 0


def cmd_indicator(a: argparse.Namespace) -> int:
    res = indicator_score(a.target, a.actual, a.weight, a.profile, grade=a.grade, reported=a.reported,
                          reason=a.reason)
    errors = any(f.severity == "error" for f in res.findings)
    if a.json:
        _emit_json({"kind": res.kind, "score": res.score, "weight": res.weight, "met": res.met,
                    "ratio": res.ratio, "grade": res.grade, "grade_source": res.grade_source,
                    "over_achievement": res.over_achievement, "reason_required": res.reason_required,
                    "findings": [f.to_dict() for f in res.findings]})
    else:
        con = _console()
        score = "无法计分" if res.score is None else f"{res.score:g} / {res.weight:g}"
        extra = f"  等级：{res.grade}（{'所填' if res.grade_source == 'given' else '推断'}）" if res.grade else ""
        con.print(f"类型 [bold]{res.kind or '?'}[/]  得分 [bold]{score}[/]{extra}"
                  + ("  [yellow]须填写偏差原因[/]" if res.reason_required else ""))
        if res.findings:
            con.print(_findings_table(res.findings))
    return 1 if errors else 0


def cmd_control(a: argparse.Namespace) -> int:
    p = load_profile(a.profile)
    key = control_key(a.kind, p)
    r = control_rate(key, a.numerator, a.denominator)
    s = control_score(key, r, p, a.quarter)
    if a.json:
        _emit_json({"kind": key, "name": p.control(key).name, "rate": r, "score": s, "weight": p.control(key).weight})
    else:
        _console().print(f"{p.control(key).name} [bold]{r:.2%}[/]  得分 [bold]{s:g}[/] / {p.control(key).weight:g}")
    return 0


def cmd_grade(a: argparse.Namespace) -> int:
    g = grade(a.total, a.profile)
    _emit_json({"total": a.total, "grade": g}) if a.json else _console().print(g)
    return 0


def cmd_profiles(a: argparse.Namespace) -> int:
    if a.name:
        p = load_profile(a.name)
        if a.json:
            _emit_json({"id": p.id, "chain": p.chain, **asdict(p)["data"]})
        else:
            con = _console()
            con.print(f"[bold]{p.id}[/] {p.name}\n来源：{p.source}\n继承：{' → '.join(p.chain)}\n{p.description}")
            _emit_json(p.data)
        return 0
    rows = [load_profile(n) for n in shipped_profiles()]
    if a.json:
        _emit_json([{"id": p.id, "name": p.name, "source": p.source} for p in rows])
        return 0
    t = Table(title="内置规则配置")
    for col in ("名称", "说明", "来源"):
        t.add_column(col, overflow="fold")
    for p in rows:
        t.add_row(p.id, p.name, p.source)
    _console().print(t)
    return 0


def cmd_template(a: argparse.Namespace) -> int:
    from .layouts.fill import load_form, write_filled
    from .layouts.writer import TEMPLATES, template_model, write_template

    kinds = a.kinds or list(TEMPLATES)
    for kind in kinds:
        if kind not in TEMPLATES:
            template_model(kind)  # raises template.unknown with the list of kinds
    out = Path(a.out) if a.out else Path("workbook_templates") / ("native" if a.engine == "native" else "")
    con = _console()
    written = []
    form = load_form(a.fill) if a.fill else None
    for kind in kinds:
        if form is not None:
            path = write_filled(kind, form, out / f"{kind}.xlsx", a.profile, a.engine)
        else:
            path = write_template(kind, out / f"{kind}.xlsx", a.profile, a.engine)
        written.append({"kind": kind, "engine": a.engine, "file": str(path), "title": TEMPLATES[kind][0]})
        if a.render:
            from .libreoffice import convert, pdf_to_png

            pdf = convert(path, "pdf", a.render)
            written[-1]["pdf"] = str(pdf)
            written[-1]["png"] = [str(p) for p in pdf_to_png(pdf, a.render, dpi=a.dpi)]
    if a.json:
        _emit_json(written)
    else:
        for w in written:
            con.print(f"[green]✓[/] {w['file']}  {w['title']}" + (f"  → {w['pdf']}" if "pdf" in w else ""))
    return 0


def cmd_recalc(a: argparse.Namespace) -> int:
    """Recompute a workbook with check's limits: bounded reader, nesting and range limits, time and memory bounds."""
    from .checking.recalc import bounded_recalc

    rc = bounded_recalc(a.workbook)
    rows, problems, warnings = rc["cells"], rc["problems"], rc["warnings"]
    if a.json:
        _emit_json({"file": a.workbook, "engine": rc["engine"], "note": rc["note"], "translated": rc["translated"],
                    "cells": rows, "problems": problems, "warnings": warnings})
        return 1 if problems else 0
    note = []
    if rc["translated"]:
        note.append(f"已转换 {rc['translated']} 个加载项引用")
    if rc["engine"] == "compiled":
        note.append(f"{rc['note']}，已由 jixiao 的快速计算按区域边界重算")
    t = Table(title=_t(f"{a.workbook}：重算结果" + (f"（{'；'.join(note)}）" if note else "")))
    for col in ("工作表", "单元格", "值"):
        t.add_column(col)
    for r in rows:
        t.add_row(_t(r["sheet"]), r["cell"], _t(str(r["value"])))
    con = _console()
    con.print(t)
    for label, items in (("[yellow]警告[/]", warnings), ("[bold red]错误[/]", problems)):
        for p in items:
            where = "!".join(x for x in (p["sheet"], p["cell"]) if x)
            con.print(f"{label} {_t(where)} {_t(p['message'])} {_t('[' + p['code'] + ']')}")
    return 1 if problems else 0


def cmd_check(a: argparse.Namespace) -> int:
    from .checking import batch, kept, report, runner
    from .checking.result import CheckResult
    from .checking.tally import Tally

    sources = batch.collect(a.paths, batch.parse_pairs(a.pair or ()))
    batch.refuse_outputs([o for o in (a.report, a.html, a.csv) if o], a.paths, sources)
    xlsx_report = report.XlsxReport(a.report) if a.report else None
    chosen: runner.Runner = runner.Pool(a.jobs)
    if getattr(a, "dask", None):  # --dask, added by the submission server's commands
        from .server.cli import dask_runner

        chosen = dask_runner(a.dask)
    tally = Tally()
    with kept.OnDisk(len(sources)) as keep:  # the results wait on disk: memory stays flat however many files
        with _progress(len(sources), a.quiet, tally) as on_result:
            result = CheckResult(chosen.run(sources, a.profile, on_result, keep=keep), tally)
        written = report.write_reports(result, xlsx_report, a.html, a.csv)
        if a.json:
            report.write_json(result.files, sys.stdout, tally)
        else:
            _print_check(result, written)
    return 1 if result.has_errors else 0


@contextmanager
def _progress(total: int, quiet: bool, tally: Any) -> Iterator[Callable[[Any], None]]:
    """What ``check`` does with each result as it arrives: it is counted and the terminal's bar advances."""
    bar = None
    if sys.stderr.isatty() and not quiet:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("检查"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True, highlight=False), transient=True)
        task = bar.add_task("check", total=total)
        bar.start()

    def on_result(r: Any) -> None:
        tally.add(r)
        if bar is not None:
            bar.advance(task)

    try:
        yield on_result
    finally:
        if bar is not None:
            bar.stop()


def cmd_report(a: argparse.Namespace) -> int:
    """Write a 自评报告 draft from a form: the library's jixiao.report, one call."""
    from .reports import draft

    out, facts = draft(a.form, a.out, a.profile, a.outline, a.basic)
    if a.json:
        _emit_json({"form": a.form, "report": str(out), "total": facts.total, "grade": facts.grade})
    else:
        _print_draft(_console(), out, facts)
    return 0


def _print_draft(con: Console, out: Path, facts: Any) -> None:
    if facts.total is None:
        score = f"自评得分需核对：{facts.total_note}" if facts.total_note else "自评得分需核对"
    else:
        score = f"自评得分 {facts.total:g} 分，等级 {facts.grade or '—'}"
    con.print(f"[green]✓[/] 自评报告草稿：{_t(out)}（数字取自自评表：{_t(score)}；黄色底纹的【待填写】处请补写）")


def _print_check(result, written) -> None:
    from .checking.report import NOT_CHECKED_RULES, SEVERITY_ZH
    from .rules import RULES

    con = _console()
    s = result.tally.summary()
    results = list(result.files) if s["files"] <= 30 else []
    if s["files"] <= 30:
        t = Table(title="检查结果", title_justify="left")
        for col in ("文件", "填报单位", "执行率", "总分", "等级", "错误", "警告", "规则配置（依据）"):
            t.add_column(col, overflow="fold")
        for r in results:
            c = r.counts()
            why = next((RULES[f.rule].title for f in r.findings if f.rule in NOT_CHECKED_RULES), None)
            t.add_row(_t(r.file), _t(r.unit or (f"（{why}）" if why else "")), "" if r.exec_rate is None else f"{r.exec_rate:.2%}",
                      r.total_text, r.grade or ("需核对" if r.total_note else ""),
                      f"[bold red]{c['error']}[/]" if c["error"] else "0",
                      f"[yellow]{c['warning']}[/]" if c["warning"] else "0", _t(r.profile_reason or ""))
        con.print(t)
        shown = [(r, f.to_dict()) for r in results for f in r.findings if f.severity != "info"][:40]
        if shown:
            ft = Table(title="问题（前 40 条）", title_justify="left")
            for col in ("文件", "位置", "级别", "说明", "应为", "实际"):
                ft.add_column(col, overflow="fold")
            for r, f in shown:
                where = "!".join(x for x in (f["sheet"], f["cell"]) if x)
                ft.add_row(_t(Path(r.file).name), _t(where),
                           f"[{_SEV_STYLE[f['severity']]}]{SEVERITY_ZH[f['severity']]}[/]", _t(f["message"]),
                           _t(_plain_text(f["expected"])), _t(_plain_text(f["found"])))
            con.print(ft)
    if s["files"] > 30 and not written:
        con.print(f"工作簿较多（{s['files']} 个），此处只显示汇总。查看每个工作簿与每条问题：加 --report 检查报告.xlsx"
                  " 、--html 检查报告.html 或 --csv 问题清单.csv 写出报告，或加 --json 输出全部结果。")
    elif s["files"] > 30:
        con.print(f"工作簿较多（{s['files']} 个），此处只显示汇总；每个工作簿与每条问题见下列报告。")
    elif sum(1 for r in results for f in r.findings if f.severity != "info") > 40 and not written:
        con.print("只列出了前 40 条问题；全部问题：加 --report 检查报告.xlsx、--html 检查报告.html 或 --json。")
    extra = "；".join(x for x in (f"自评报告 {s['reports']} 份" if s["reports"] else "",
                                  f"未检查的文件 {s['not_checked']} 个，原因见清单" if s["not_checked"] else "") if x)
    con.print(f"共 [bold]{s['workbooks']}[/] 个工作簿" + (f"（另有{extra}）" if extra else "")
              + f"：有错误 [bold red]{s['files_with_errors']}[/] 个，"
              f"无法读取 {s['unreadable']} 个；错误 {s['findings']['error']} 条，警告 {s['findings']['warning']} 条。"
              + (f" 平均总分 {s['mean_total']}。" if s["mean_total"] is not None else ""))
    for w in written:
        con.print(f"[green]✓[/] 报告：{w}")


_ARGPARSE_ZH = [  # argparse's English messages, in the order argparse words them
    (r"the following arguments are required: (.*)", "缺少参数：{0}"),
    (r"unrecognized arguments: (.*)", "无法识别的参数：{0}"),
    (r"argument (.*?): invalid choice: '?(.*?)'? \(choose from (.*)\)", "参数 {0} 的取值 {1} 无效，可选：{2}"),
    (r"argument (.*?): invalid (?:float|int) value: (.*)", "参数 {0} 应为数字，实际为 {1}"),
    (r"argument (.*?): invalid (.*?) value: (.*)", "参数 {0} 的值 {2} 无效"),
    (r"argument (.*?): expected one argument", "参数 {0} 需要一个值"),
    (r"argument (.*?): expected at least one argument", "参数 {0} 至少需要一个值"),
    (r"argument (.*?): ignored explicit argument (.*)", "参数 {0} 不接受值 {1}"),
    (r"argument (.*?): not allowed with argument (.*)", "参数 {0} 不能与 {1} 同时使用"),
    (r"ambiguous option: (.*?) could match (.*)", "选项 {0} 有歧义，可能是：{1}"),
]


def _zh_argparse(message: str) -> str:
    import re

    for pattern, zh in _ARGPARSE_ZH:
        m = re.fullmatch(pattern, message)
        if m:
            return zh.format(*(g.replace("'", "").replace(", ", "、") for g in m.groups()))
    return message


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese headings and error messages (exit code 2, as for every could-not-run)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage: ", "用法：", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage: ", "用法：", 1)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{_zh_argparse(message)} [cli.usage]\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="jixiao", description="绩效自评助手：部门整体/项目支出绩效自评表的计分与检查")
    ap.add_argument("--version", action="version", version=f"jixiao {__version__}", help="显示版本并退出")
    sub = ap.add_subparsers(dest="command", required=True, title="命令", metavar="命令")

    def add(name: str, fn, help_: str, profile: bool = True,
            default: str = f"默认 {DEFAULT_PROFILE}", json: bool = True) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=fn)
        if json:
            sp.add_argument("--json", action="store_true", help="以 JSON 输出")
        if profile:
            sp.add_argument("--profile", "-p", default=None, help=f"规则配置名称或 TOML 文件（{default}）")
        return sp

    sp = add("demo", cmd_demo, "用内置示例数据（湖南省机关事务管理局 2024 年度自评表、某县 2022 年度基础数据表）演示计分与批量检查", profile=False)
    sp.add_argument("--out", default="jixiao-demo", help="示例工作簿与检查报告的文件夹（默认 jixiao-demo）")
    sp = add("score", cmd_score, "为 JSON 表单数据计分并检查",
             default=f"默认用表单数据中 profile 指定的配置，没有时用 {DEFAULT_PROFILE}")
    sp.add_argument("forms", nargs="+", help="表单数据文件（JSON，格式见 jixiao/samples）")
    sp = add("exec", cmd_exec, "执行率及其得分")
    sp.add_argument("budget", type=float, help="全年预算数")
    sp.add_argument("executed", type=float, help="全年执行数")
    sp.add_argument("--weight", type=float, default=None, help="分值（默认取规则配置）")
    sp = add("indicator", cmd_indicator, "单个绩效指标的得分")
    sp.add_argument("target", help="年度指标值，如 ≥95%%")
    sp.add_argument("actual", help="实际完成值")
    sp.add_argument("weight", type=float, help="分值")
    sp.add_argument("--grade", default=None, help="定性等级：达成 / 部分达成 / 未达成")
    sp.add_argument("--reported", type=float, default=None, help="表中已填得分（检查用）")
    sp.add_argument("--reason", default=None, help="偏差原因（检查是否缺失）")
    sp = add("control", cmd_control, "控制率及其得分")
    sp.add_argument("kind", help="控制率：" + "、".join(f"{k}（{f.name}）" for k, f in RATE_FORMULAS.items()))
    sp.add_argument("numerator", type=float, help="分子（变动率为本年数）")
    sp.add_argument("denominator", type=float, help="分母（变动率为上年数）")
    sp.add_argument("--quarter", default=None, help="支付序时进度的季度 Q1/Q2/Q3")
    sp = add("grade", cmd_grade, "总分对应的等级")
    sp.add_argument("total", type=float, help="总分")
    sp = add("template", cmd_template, "由表单模型生成官方格式模板（.xlsx）",
             default="默认用每种表格自己的配置：部门整体表 hunan-dept-2024，项目表 national-2020，县级评分表 county-rubric-2022")
    sp.add_argument("kinds", nargs="*", help="模板种类：dept-province dept-city dept-county project county-rubric "
                                           "project-summary（默认全部）")
    sp.add_argument("--out", "-o", default=None,
                    help="输出文件夹（默认仓库的 workbook_templates；--engine native 时为 workbook_templates/native）")
    sp.add_argument("--engine", choices=("udf", "native"), default="udf",
                    help="得分公式：udf = jixiao 加载项函数 JX_…（默认）；native = 普通公式，WPS、LibreOffice、"
                         "未装加载项的 Excel 均能计算")
    sp.add_argument("--fill", metavar="FORM.json", default=None,
                    help="把表单数据（格式同 jixiao/samples/hunan-2024-dept.json）填入模板的填写单元格，公式不变")
    sp.add_argument("--render", metavar="DIR", default=None, help="同时用 LibreOffice 生成 PDF 与 PNG 到此文件夹")
    sp.add_argument("--dpi", type=int, default=80, help="PNG 分辨率（默认 80）")
    sp = add("recalc", cmd_recalc, "不用 Excel 重算工作簿（formulas 引擎 + jixiao 函数），列出公式结果", profile=False)
    sp.add_argument("workbook", help=".xlsx 文件；不会被修改")
    sp = add("check", cmd_check, "批量重算并检查自评表（文件、文件夹、.zip）",
             default="默认用每个工作簿自己写明的或由表格推断的配置，并注明用了哪个、为什么")
    sp.add_argument("paths", nargs="+", help="工作簿、文件夹（递归）或 .zip 压缩包")
    sp.add_argument("--report", metavar="OUT.xlsx", help="写出 xlsx 报告（汇总、问题清单、规则统计）")
    sp.add_argument("--html", metavar="OUT.html", help="写出带图表的 HTML 报告")
    sp.add_argument("--csv", metavar="OUT.csv", help="写出问题清单 CSV（每条问题一行：文件、单位、年度、单元格、规则……）")
    sp.add_argument("--pair", action="append", metavar="REPORT=FORM", default=None,
                    help="指定自评报告（.docx）对应的自评表；未指定时取同一文件夹中单位名称相同的、或唯一的自评表")
    sp.add_argument("--jobs", "-j", type=int, default=1, help="并行进程数（默认 1）")
    sp.add_argument("--quiet", "-q", action="store_true", help="不显示进度条")
    sp = add("report", cmd_report, "由自评表写出自评报告草稿（.docx）：数字取自自评表，待补写处标黄",
             default="默认用工作簿自己写明的或由表格推断的配置")
    sp.add_argument("form", help="自评表工作簿（.xlsx）；不会被修改")
    sp.add_argument("--out", "-o", default=None, help="报告文件 .docx（默认：工作簿旁的 〈文件名〉-自评报告.docx）")
    sp.add_argument("--outline", default=None, help="报告提纲：dept、project 或提纲 TOML 文件（默认按表格种类）")
    sp.add_argument("--basic", default=None, metavar="BASIC.xlsx",
                    help="基础数据表工作簿：第二部分按其写出“三公经费”各项的预算数、决算数与比例（默认取自评表工作簿中的基础数据表）")
    sp = add("profiles", cmd_profiles, "列出内置规则配置，或显示一个配置", profile=False)
    sp.add_argument("name", nargs="?", default=None, help="配置名称或 TOML 文件")
    add.parsers = sub.choices  # type: ignore[attr-defined]  # a command's hook may extend another (check --dask)
    for ep in sorted(entry_points(group="jixiao.commands"), key=lambda e: e.name):
        try:  # adapters add their commands: the add-in (jixiao addin), the server (serve, users, check --dask)
            ep.load()(add)
        except ImportError:  # its optional extra is not installed: the command is not offered
            continue
    return ap


def _os_message(e: OSError) -> str:
    from .checking.xlsx import reason

    where = f"{e.filename}：" if e.filename else ""
    return f"{where}{reason(e)}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    err = Console(stderr=True, highlight=False)
    try:
        return args.func(args)
    except JixiaoError as e:
        err.print(f"[bold red]错误[/] {_t(str(e))}")
        return 2
    except BrokenPipeError:
        # the reader went away (jixiao check … | head): stop quietly, and keep Python from complaining at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as e:
        err.print(f"[bold red]错误[/] 无法读写文件 {_t(_os_message(e))} {_t('[io.error]')}")
        return 2
    except KeyboardInterrupt:
        err.print("已中断 [cli.interrupted]", markup=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
