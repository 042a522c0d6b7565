"""The forms the harness transforms: every corpus form (tests/corpus/forms) and the bundled samples
(seed 000 in the bureau's layout, as the demo writes it, and generated bureau-layout submissions with
each kind of mistake injected)."""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from jixiao.samples import submissions

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "forms"


def _seed000() -> dict:
    return json.loads(resources.files("jixiao.samples").joinpath("hunan-2024-dept.json").read_text("utf-8"))


def _bureau(injection: str) -> Callable[[], bytes]:
    return lambda: submissions.make_submission(random.Random(f"metamorphic-{injection}"), "bureau", injection)[0]


SOURCES: dict[str, Callable[[], bytes]] = {p.stem: p.read_bytes for p in sorted(CORPUS.glob("*.xlsx"))}
SOURCES["sample_seed000_bureau"] = lambda: submissions.bureau_bytes(_seed000(), {"exec_score": 9, "sum": 90})
SOURCES["sample_seed000_wrong_denominator"] = lambda: submissions.bureau_bytes(
    _seed000(), {"exec_score": 9, "sum": 90, "rate": "149.75%"})
for _inj in submissions.INJECTIONS:
    if _inj not in submissions.TEMPLATE_ONLY:
        SOURCES[f"sample_bureau_{_inj}"] = _bureau(_inj)


def _rows_bytes(rows: list[list[object]]) -> Callable[[], bytes]:
    """A one-sheet workbook of literal rows (no formulas), as a unit types it."""
    def make() -> bytes:
        import io

        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "Sheet1"
        for r, row in enumerate(rows, start=1):
            for c, x in enumerate(row, start=1):
                if x is not None:
                    ws.cell(r, c, x)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    return make


# Layouts of issue 15's label-points and rubric readers, each with mistakes in it, so that every
# transformation must keep them: block points in 二级 labels (a row above its points, a met row short), a
# rubric-style project form (指标名称(三级指标), 自评分, a sources table whose 合计 is the budget), a 20-point
# form with a 分值 column (never a county rubric), and a county rubric with a wrong subtotal and grade.
SOURCES["shape_second_level_points"] = _rows_bytes([
    ["2022年度项目支出绩效自评表"],
    ["项目名称", "测试项目"],
    ["预算执行情况(万元)\n(20分)", None, None, "预算数(A)", "执行数(B)", "执行率(B/A)", "得分\n(20分*执行率)"],
    [None, "年度财政资金总额", None, 100, 95, "95%", 19],
    ["年度绩效目标\n(80分)", "一级指标", "二级指标", "三级指标", "年初目标值(A)", "实际完成值(B)", "得分"],
    [None, "项目绩效80分\n产出指标60分", "数量指标20分", "慰问人数", "≥100人", "100人", 25],
    [None, None, "质量指标20分", "补助经费足额拨付率", "100%", "100%", 20],
    [None, None, "时效指标20分", "走访完成率", "100%", "100%", 15],
    [None, "效益指标(10分)", "社会效益指标", "群众知晓率", "≥90%", "95%", 10],
    [None, "满意度指标(10分)", "服务对象满意度指标", "满意率", "≥95%", "100%", 10],
    ["总分(100分)", None, None, None, None, None, 99],
])
SOURCES["shape_rubric_style_project"] = _rows_bytes([
    ["某市财政预算支出项目绩效目标自评表"],
    ["填报日期:2022年8月10日"],
    ["项目名称", "乡村道路建设养护项目", None, "项目主管单位", "某市交通运输局"],
    ["项目资金\n来源", "中央\n(万元)", "省、地\n(万元)", "本级\n(万元)", "其他\n(万元)", "合计\n(万元)",
     "执行数\n(万元)", "执行率"],
    [None, 100, 50, 159, None, 309, 250, "100%"],
    ["一级指标", "二级指标", "指标名称\n(三级指标)", "年初指标值", "年终完成值", "自评分", "复核分", "评价标准"],
    ["项目绩效85分\n产出指标40分", "数量指标15分", "乡村道路建设养护里程", "300公里", "240公里", 15, None, "…"],
    [None, "质量指标15分", "验收合格率", "100%", "100%", 18, None, "…"],
])
SOURCES["shape_twenty_point_weights"] = _rows_bytes([
    ["2022年度项目支出绩效自评表"],
    ["项目名称", "测试项目"],
    ["预算执行情况(万元)\n(20分)", None, None, "预算数(A)", "执行数(B)", "执行率(B/A)", "得分\n(20分*执行率)"],
    [None, "年度财政资金总额", None, 100, 100, "100%", 20],
    ["年度绩效目标\n(80分)", "一级指标", "二级指标", "三级指标", "年初目标值(A)", "实际完成值(B)", "分值", "得分"],
    [None, "产出指标", "数量指标", "慰问人数", "≥100人", "100人", 20, 20],
    [None, None, "质量指标", "补助经费足额拨付率", "100%", "100%", 20, 20],
    [None, None, "时效指标", "走访完成率", "100%", "100%", 20, 20],
    [None, "效益指标", "社会效益指标", "群众知晓率", "≥90%", "95%", 10, 10],
    [None, "满意度指标", "服务对象满意度指标", "满意率", "≥95%", "100%", 10, 10],
    ["总分", None, None, None, None, None, 100, 90],
])
SOURCES["shape_rubric_subtotals"] = _rows_bytes([
    ["部门整体支出绩效评价指标表"],
    ["一级指标", "分值", "二级指标", "分值", "三级指标", "分值", "评分标准", "得分"],
    ["投入", 18, "预算配置", 16, "在职人员控制率", 8, "≤100%计8分", 8],
    [None, None, None, None, "三公经费变动率", 8, "≤0计8分", 8],
    ["过程(84分)", None, "预算执行", 84, "预算完成率", 84, "100%计满分", 76],
    ["合计", None, None, None, None, 100, None, 92],
    ["等级", None, None, None, None, None, None, "良"],
])
