"""Batch reports: JSON for programs, an .xlsx a bureau forwards, and an HTML page with charts.

Text from submitted workbooks is written as text, never as a formula, with control characters drawn
visibly and long texts cut (:mod:`jixiao.checking.outtext`); a report lists at most
``MAX_FINDINGS_PER_FILE`` findings of one workbook and says how many it left out.
"""
from __future__ import annotations

import html
import json
import os
import stat
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from .. import __version__, rules
from ..vocabulary import FORM_KINDS
from . import batch, workers  # noqa: F401  (declare the rules whose titles reports show)
from .outtext import cell_text, json_safe, shown
from .result import CheckResult, FileResult
from .tally import NOT_CHECKED_RULES, Tally, not_checked  # noqa: F401  (the reports' names for them)

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
KIND_ZH = FORM_KINDS


def rule_title(rule_id: str) -> str:
    """The Chinese title of a rule, from the one registry (:mod:`jixiao.rules`)."""
    return rules.title(rule_id)


ROUTE_ZH = {"template": "模板快速重算", "values": "按标签读取", "full": "完整重算", None: "—"}


def _finding_entry(file: str, f: Any) -> dict[str, Any]:
    """One finding as the ``--json`` document lists it: its file, then the finding's fields."""
    return {"file": file, **f.to_dict()}


def findings_of(results: list[FileResult]) -> list[dict[str, Any]]:
    return [_finding_entry(r.file, f) for r in results for f in r.findings]


def _counting(results: Iterable[FileResult], tally: Tally | None) -> tuple[Iterable[FileResult], Tally]:
    """The results and their counts: ``tally`` when they were gathered as the results arrived, else a new one
    filled as the results pass (the one pass a report makes)."""
    if tally is not None:
        return results, tally
    fresh = Tally()

    def passing() -> Iterable[FileResult]:
        for r in results:
            fresh.add(r)
            yield r

    return passing(), fresh


def summary(results: Iterable[FileResult]) -> dict[str, Any]:
    """Counts of a batch (:meth:`.tally.Tally.summary`): ``files`` is every listed file; ``workbooks``,
    ``reports`` and ``not_checked`` split it."""
    return Tally(results).summary()


def to_json(results: Iterable[FileResult]) -> dict[str, Any]:
    """The ``--json`` document: ``{"files": [...], "findings": [...], "summary": {...}}`` (always valid JSON)."""
    results = list(results)
    return json_safe({"version": __version__, "files": [r.to_dict() for r in results], "findings": findings_of(results),
            "summary": summary(results)})


def _json_line(obj: Any) -> str:
    """One file or finding of the document as one line (the C encoder: ``indent`` would take the Python one)."""
    return json.dumps(json_safe(obj), ensure_ascii=False, separators=(", ", ": "), default=str, allow_nan=False)


def write_json(results: Iterable[FileResult], out: IO[str], tally: Tally | None = None) -> None:
    """:func:`to_json`'s document written to ``out`` one file at a time, each file and each finding on a line
    of its own: the files in one pass (their findings wait in a temporary file), so a batch's size costs no
    memory. ``tally``: the batch's counts when they were gathered as the results arrived."""
    results, tally = _counting(results, tally)
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024, mode="w+", encoding="utf-8") as found:
        out.write("{\n  \"version\": " + json.dumps(__version__) + ",\n  \"files\": [")
        first_file = first_finding = True
        for r in results:
            out.write(("\n    " if first_file else ",\n    ") + _json_line(r.to_dict()))
            first_file = False
            for f in r.findings:
                found.write(("\n    " if first_finding else ",\n    ") + _json_line(_finding_entry(r.file, f)))
                first_finding = False
        out.write("]" if first_file else "\n  ]")
        out.write(",\n  \"findings\": [")
        found.seek(0)
        while chunk := found.read(1 << 16):
            out.write(chunk)
        out.write("]" if first_finding else "\n  ]")
    summary_text = json.dumps(json_safe(tally.summary()), ensure_ascii=False, indent=2, allow_nan=False)
    out.write(",\n  \"summary\": " + summary_text.replace("\n", "\n  ") + "\n}\n")


MAX_FINDINGS_PER_FILE = 2_000  # rows of one workbook in the xlsx report; the rest is counted, not listed
REPORT_MARKER = "jixiao-report"  # in docProps/core.xml (keywords): a re-checked folder skips jixiao's own reports
REPORT_SHEETS = ("汇总", "问题清单", "规则统计")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: str | Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".jixiao-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # as any new file (0644 under the usual umask), not mkstemp's 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path




# ---------------------------------------------------------------------------
# xlsx


def _value(value: Any) -> Any:
    """A value as a report cell holds it: lists and dicts as JSON, text shown safely, NaN blank."""
    if isinstance(value, (list, dict)):
        value = json.dumps(json_safe(value), ensure_ascii=False)
    value = shown(value)
    if isinstance(value, float) and value != value:
        value = None
    return value


def _relative(folder: Path, file: str, base: Path | None, dirs: dict[str, str] | None = None) -> str | None:
    """The checked file's path from the report's folder, for a link; None for an archive's member (its name is
    the submitter's) and for a name with control characters (it cannot be a link target).

    ``folder``: the report's folder, resolved; ``base``: the folder a relative ``file`` is in (default: the
    current one), as when the report and the files are packed together for another machine; ``dirs``: folders
    already resolved (a batch's files share a few), so that a file costs one ``lstat``, not one per folder of
    its path."""
    at = os.path.join(base, file) if base is not None else file
    if ".zip!" in file.lower():
        return None
    try:
        st = os.lstat(at)
    except (OSError, ValueError):
        return None
    if stat.S_ISLNK(st.st_mode):  # a link to the file: where it points, as before
        if not os.path.isfile(at):
            return None
        real = os.path.realpath(at)
    elif not stat.S_ISREG(st.st_mode):
        return None
    else:
        head, name = os.path.split(at)
        if dirs is None:
            dirs = {}
        if head not in dirs:
            dirs[head] = os.path.realpath(head or os.curdir)
        real = os.path.join(dirs[head], name)
    try:
        rel = os.path.relpath(real, folder)
    except ValueError:
        rel = real
    rel = rel.replace(os.sep, "/")
    return rel if shown(rel) == rel else None


class XlsxReport:
    """The xlsx report, written one workbook at a time (streamed: its memory does not grow with the batch) and
    finished once (:mod:`.tablebook` writes the parts).

    Sheets: 汇总 (one row per workbook), 问题清单 (findings, linked to their cells), 规则统计.
    """

    SUMMARY = ["文件", "填报单位", "年度", "表格", "执行率", "总分", "等级", "错误", "警告", "提示", "检查方式", "规则配置",
               "无法读取"]
    ISSUES = ["文件", "工作表", "单元格", "级别", "规则", "说明", "应为", "实际", "指标/项目"]
    _SUMMARY_STYLES = {4: "percent", 5: "two_places"}
    _SUMMARY_LINKED = {0: "link", 4: "percent", 5: "two_places"}
    _ISSUE_STYLES = {5: "wrap"}
    _ISSUE_LINKED = {2: "link", 5: "wrap"}

    def __init__(self, path: str | Path, base: str | Path | None = None):
        from .tablebook import TableBook

        self.path = Path(path)
        self.base = Path(base) if base is not None else None  # where relative file names are (see _relative)
        self.book = TableBook()
        self.ws = self.book.table(REPORT_SHEETS[0], self.SUMMARY, [46, 28, 8, 18, 10, 8, 6, 7, 7, 7, 14, 18, 22])
        self.wf = self.book.table(REPORT_SHEETS[1], self.ISSUES, [40, 14, 8, 6, 30, 60, 16, 16, 30])
        self.wr = self.book.table(REPORT_SHEETS[2], ["问题", "规则", "级别", "次数", "涉及文件数", "示例说明"],
                                  [24, 32, 8, 8, 10, 70])
        self.stats: dict[str, dict[str, Any]] = {}
        self._targets: dict[str, str | None] = {}  # file → its link target, found once per file
        self._folder: Path | None = None  # the report's folder, resolved once
        self._dirs: dict[str, str] = {}  # the checked files' folders, resolved once each

    def _link(self, file: str, sheet: str | None, cell: str | None) -> str | None:
        """A link to the checked file on disk, at a cell when given; the file's path is found once for its row
        and all its findings."""
        if file not in self._targets:
            if self._folder is None:
                self._folder = self.path.resolve().parent
            self._targets[file] = _relative(self._folder, file, self.base, self._dirs)
        rel = self._targets[file]
        if rel is None or (sheet and shown(sheet) != sheet):
            return None
        return f"{rel}#'{sheet}'!{cell}" if sheet and cell else rel

    def add(self, r: FileResult) -> None:
        c = r.counts()
        link = self._link(r.file, None, None)
        self.ws.row([_value(v) for v in (
            r.file, r.unit, r.year, KIND_ZH.get(r.kind or "", r.kind), r.exec_rate,
            r.total if r.total is not None else (r.total_text or None), r.grade or (r.total_text or None),
            c["error"], c["warning"], c["info"], ROUTE_ZH.get(r.route, r.route), r.profile, r.error)],
            styles=self._SUMMARY_LINKED if link else self._SUMMARY_STYLES, links={0: link} if link else None)
        wf = self.wf
        if len(r.findings) > MAX_FINDINGS_PER_FILE:
            left = len(r.findings) - MAX_FINDINGS_PER_FILE
            wf.row([_value(r.file), None, None, None, None,
                    f"另有 {left} 条问题未列出（本工作簿共 {len(r.findings)} 条；全部见 --json 或 --csv）"])
        for n, finding in enumerate(r.findings):
            if n >= MAX_FINDINGS_PER_FILE:
                self._count(finding.rule, finding.severity, finding.message, r.file, n)
                continue
            f = finding.to_dict()
            link = self._link(r.file, f["sheet"], f["cell"]) if f["cell"] else None
            wf.row([_value(v) for v in (r.file, f["sheet"], f["cell"], SEVERITY_ZH[f["severity"]], f["rule"],
                                        f["message"], f["expected"], f["found"], f.get("context"))],
                   styles=self._ISSUE_LINKED if link else self._ISSUE_STYLES, links={2: link} if link else None)
            self._count(f["rule"], f["severity"], f["message"], r.file, n)

    def _count(self, rule: str, severity: str, message: str, file: str, n: int) -> None:
        """One finding into 规则统计. Results arrive in whatever order workers finish, so the rule's example
        (message and severity) is the one of the first file by name, whatever the order: the same folder
        gives the same report."""
        st = self.stats.setdefault(rule, {"n": 0, "files": set(), "first": None})
        st["n"] += 1
        st["files"].add(file)
        if st["first"] is None or (file, n) < st["first"][:2]:
            st["first"] = (file, n, severity, message)

    def save(self) -> Path:
        ws, last = self.ws, self.ws.last_row
        if last >= 2:
            ws.filter_all()
            ws.fill_when(f"H2:H{last}", "red", "greaterThan", "0")
            ws.fill_when(f"I2:I{last}", "yellow", "greaterThan", "0")
            ws.fill_when(f"F2:F{last}", "red", "lessThan", "60")
            ws.fill_when(f"F2:F{last}", "green", "greaterThanOrEqual", "90")
            ws.fill_when(f"M2:M{last}", "red", formula="LEN(M2)>0")
        flast = self.wf.last_row
        if flast >= 2:
            self.wf.filter_all()
            self.wf.fill_when(f"D2:D{flast}", "red", "equal", '"错误"')
            self.wf.fill_when(f"D2:D{flast}", "yellow", "equal", '"警告"')
        for rule, counted in sorted(self.stats.items(), key=lambda kv: (-kv[1]["n"], kv[0])):
            severity, message = counted["first"][2:]
            self.wr.row([_value(v) for v in (rule_title(rule), rule, SEVERITY_ZH[severity], counted["n"],
                                             len(counted["files"]), message)])
        return _atomic(self.path, lambda tmp: self.book.save(tmp, title="绩效自评检查报告",
                                                             creator=f"jixiao {__version__}", keywords=REPORT_MARKER))


def write_xlsx(results: Iterable[FileResult], path: str | Path, base: str | Path | None = None) -> Path:
    """The xlsx report for a finished batch (see :class:`XlsxReport`); ``base``: where relative file names are."""
    rep = XlsxReport(path, base)
    for r in results:
        rep.add(r)
    return rep.save()


# ---------------------------------------------------------------------------
# HTML


def _e(x: Any) -> str:
    return html.escape(str(shown(x)))


def _bars(title: str, items: list[tuple[str, int]], color: str, width: int = 520) -> str:
    if not items:
        return f"<figure><figcaption>{html.escape(title)}</figcaption><p class=muted>无数据</p></figure>"
    peak = max(n for _, n in items) or 1
    bar_h, gap, label_w = 22, 6, 190
    h = len(items) * (bar_h + gap) + 10
    rows = []
    for i, (label, n) in enumerate(items):
        y = 5 + i * (bar_h + gap)
        w = int((width - label_w - 60) * n / peak)
        rows.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" rx="3" fill="{color}"/>'
                    f'<text x="{label_w + w + 6}" y="{y + 16}">{n}</text>')
    return (f'<figure><figcaption>{html.escape(title)}</figcaption>'
            f'<svg viewBox="0 0 {width} {h}" width="{width}" height="{h}" role="img">{"".join(rows)}</svg></figure>')


def _histogram(values: list[float], edges: list[tuple[str, float, float]]) -> list[tuple[str, int]]:
    return [(label, sum(1 for v in values if lo <= v < hi)) for label, lo, hi in edges]


TOTAL_BINS = [("<60 差", -1e9, 60), ("60–70", 60, 70), ("70–80", 70, 80), ("80–90 良", 80, 90), ("≥90 优", 90, 1e9)]
RATE_BINS = [("<50%", -1e9, .5), ("50–60%", .5, .6), ("60–70%", .6, .7), ("70–80%", .7, .8), ("80–90%", .8, .9),
             ("90–100%", .9, 1.0 + 1e-9), (">100%", 1.0 + 1e-9, 1e9)]

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px 32px;color:#1f2933;
background:#f7f9fb}
h1{font-size:22px;margin:0 0 4px} .muted{color:#7b8794;font-size:13px}
.cards{display:flex;gap:14px;margin:18px 0;flex-wrap:wrap}
.card{background:#fff;border-radius:10px;padding:12px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:120px}
.card b{display:block;font-size:26px} .card.err b{color:#c0392b} .card.warn b{color:#b7791f} .card.ok b{color:#2f855a}
.charts{display:flex;flex-wrap:wrap;gap:18px} figure{background:#fff;border-radius:10px;padding:12px 16px;margin:0;
box-shadow:0 1px 3px rgba(0,0,0,.08)} figcaption{font-weight:600;margin-bottom:8px}
svg text{font-size:13px;fill:#334e68}
table{border-collapse:collapse;background:#fff;width:100%;margin-top:10px;font-size:13px;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
th,td{border-bottom:1px solid #e4e7eb;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7;position:sticky;top:0} td.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-error{color:#c0392b;font-weight:600}.sev-warning{color:#b7791f}.sev-info{color:#52606d}
h2{font-size:17px;margin:26px 0 6px}
"""


def render_html(results: Iterable[FileResult], title: str = "绩效自评检查报告", max_rows: int = 3000,
                tally: Tally | None = None) -> str:
    """The batch report as one self-contained HTML page: summary cards, charts, files, rules, findings.
    The results are read once; ``tally``: their counts when they were gathered as the results arrived."""
    results, tally = _counting(results, tally)
    files, found, listed = [], [], 0
    for r in results:
        files.append(_html_file_row(r))
        for f in r.findings:
            if listed < max_rows:
                found.append(_html_finding_row(r.file, f.to_dict()))
            listed += 1
    s = tally.summary()
    e = _e
    more = (f"<p class=muted>共 {listed} 条，此处列出前 {max_rows} 条；完整清单见 xlsx 报告或 JSON。</p>"
            if listed > max_rows else "")
    return "".join([
        f"<!doctype html><html lang=zh-CN><meta charset=utf-8><meta name=generator content={REPORT_MARKER}><title>{e(title)}</title><style>{_CSS}</style>",
        f"<h1>{e(title)}</h1><div class=muted>jixiao {__version__} · 生成于 {datetime.now():%Y-%m-%d %H:%M}</div>",
        _html_cards(s), _html_charts(tally, s), _FILES_HEAD, *files, "</table>", _html_rules(tally, s),
        _FINDINGS_HEAD, *found, "</table>", more, "</html>"])


def _html_cards(s: dict[str, Any]) -> str:
    mean = "—" if s["mean_total"] is None else s["mean_total"]
    return ("<div class=cards>"
            f"<div class=card>工作簿<b>{s['workbooks']}</b></div>"
            + (f"<div class=card>自评报告<b>{s['reports']}</b></div>" if s["reports"] else "")
            + (f"<div class=card>未检查的文件<b>{s['not_checked']}</b></div>" if s["not_checked"] else "")
            + f"<div class='card err'>有错误的工作簿<b>{s['files_with_errors']}</b></div>"
            f"<div class='card err'>错误<b>{s['findings']['error']}</b></div>"
            f"<div class='card warn'>警告<b>{s['findings']['warning']}</b></div>"
            f"<div class='card'>无法读取<b>{s['unreadable']}</b></div>"
            f"<div class='card ok'>平均总分<b>{mean}</b></div></div>")


def _html_charts(tally: Tally, s: dict[str, Any]) -> str:
    top_rules = list(s["rules"].items())[:12]
    return ("<div class=charts>" + _bars("总分分布", _histogram(tally.totals, TOTAL_BINS), "#4c78a8")
            + _bars("执行率分布", _histogram(tally.rates, RATE_BINS), "#72b7b2")
            + _bars("最常见的问题（条）", [(rule_title(k), n) for k, n in top_rules], "#e45756", width=620) + "</div>")


_FILES_HEAD = ("<h2>各工作簿</h2><table><tr><th>文件</th><th>填报单位</th><th>年度</th><th>表格</th><th>执行率</th>"
               "<th>总分</th><th>等级</th><th>错误</th><th>警告</th><th>检查方式</th></tr>")


def _html_file_row(r: FileResult) -> str:
    e = _e
    c = r.counts()
    rate = "" if r.exec_rate is None else f"{r.exec_rate:.2%}"
    return (f"<tr><td>{e(r.file)}</td><td>{e(r.unit or '')}</td><td>{r.year or ''}</td>"
            f"<td>{e(KIND_ZH.get(r.kind or '', r.kind or '') or '')}</td><td class=n>{rate}</td>"
            f"<td class=n>{r.total_text}</td><td>{e(r.grade or ('需核对' if r.total_note else ''))}</td>"
            f"<td class='n sev-error'>{c['error'] or ''}</td><td class='n sev-warning'>{c['warning'] or ''}</td>"
            f"<td>{e(ROUTE_ZH.get(r.route, r.route or ''))}</td></tr>")


def _html_rules(tally: Tally, s: dict[str, Any]) -> str:
    e = _e
    rows = "".join(f"<tr><td>{e(rule_title(rule))}</td><td>{e(rule)}</td><td class=n>{n}</td>"
                   f"<td>{e(tally.examples.get(rule, ''))}</td></tr>" for rule, n in s["rules"].items())
    return "<h2>问题说明</h2><table><tr><th>问题</th><th>规则</th><th>次数</th><th>示例说明</th></tr>" + rows + "</table>"


_FINDINGS_HEAD = ("<h2>问题清单</h2><table><tr><th>文件</th><th>工作表</th><th>单元格</th><th>级别</th><th>规则</th>"
                  "<th>说明</th><th>应为</th><th>实际</th></tr>")


def _html_cell(x: Any) -> str:
    return _e(str(x if x is not None else ""))


def _html_finding_row(file: str, f: dict[str, Any]) -> str:
    e, cell = _e, _html_cell
    return (f"<tr><td>{e(file)}</td><td>{cell(f['sheet'])}</td><td>{cell(f['cell'])}</td>"
            f"<td class=sev-{f['severity']}>{SEVERITY_ZH[f['severity']]}</td><td>{e(f['rule'])}</td>"
            f"<td>{e(f['message'])}</td><td>{cell(f['expected'])}</td><td>{cell(f['found'])}</td></tr>")


CSV_HEADERS = {"file": "文件", "unit": "填报单位", "year": "年度", "kind": "表格", "profile": "规则配置",
               "sheet": "工作表", "cell": "单元格", "rule": "规则", "title": "问题", "severity": "级别",
               "message": "说明", "expected": "应为", "found": "实际", "context": "指标/项目", "field": "字段"}


def write_csv(result: CheckResult, path: str | Path) -> Path:
    """Every finding as one CSV row (UTF-8 with BOM, so Excel and WPS open it in Chinese), with Chinese headers
    and severities: ``CheckResult.frame()`` with every text inert (never a formula) and shown safely."""
    frame = result.frame().astype(object)
    if "severity" in frame.columns:
        frame["severity"] = frame["severity"].map(lambda x: SEVERITY_ZH.get(x, x))
    if "kind" in frame.columns:
        frame["kind"] = frame["kind"].map(lambda x: KIND_ZH.get(x, x) if isinstance(x, str) else x)
    for col in frame.columns:  # whatever the dtype: text from a submission stays text
        frame[col] = frame[col].map(cell_text)
    frame = frame.rename(columns=lambda c: CSV_HEADERS.get(c, c))

    def w(tmp: str) -> None:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")

    return _atomic(path, w)


def write_html(results: Iterable[FileResult], path: str | Path, tally: Tally | None = None) -> Path:
    text = render_html(results, tally=tally)

    def w(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    return _atomic(path, w)


def write_reports(result: CheckResult, xlsx: XlsxReport | None, html: str | Path | None,
                  csv: str | Path | None) -> list[Path]:
    """The batch's reports ``jixiao check`` was asked for, written once the batch has run: the xlsx one and the
    HTML in one pass over the results, in the batch's order (the same folder gives the same report, however
    its workers finished), then the CSV; the paths written, in that order."""
    written = []
    files: Iterable[FileResult] = result.files
    if xlsx is not None:
        if html:
            files = _feeding(files, xlsx)
        else:
            for r in files:
                xlsx.add(r)
    page = write_html(files, html, result.tally) if html else None
    if xlsx is not None:
        written.append(xlsx.save())
    if page is not None:
        written.append(page)
    if csv:
        written.append(write_csv(result, csv))
    return written


def _feeding(results: Iterable[FileResult], xlsx: XlsxReport) -> Iterable[FileResult]:
    """``results`` as they pass, each added to the xlsx report on its way (one read of results kept on disk)."""
    for r in results:
        xlsx.add(r)
        yield r
