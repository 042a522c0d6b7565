"""Build the real-report corpus: every .docx under reports/ is typed here, as filed.

Run:  python tests/corpus/build_reports.py      (needs python-docx)

Each report is a list of paragraphs typed from the published page named in its key (reports/<stem>.json):
the unit's headings and every sentence that states a number, with the unit's own numbers, punctuation and
mistakes. Narrative without numbers is not copied: it stands as "（叙述从略）". The pages were stored cut
after about 1,500 characters, so each report ends where its page was cut (the key says so).
"""
from __future__ import annotations

import datetime as dt
import pathlib
import sys

from docx import Document

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "reports"
OMITTED = "（叙述从略）"

REPORTS: dict[str, list[str]] = {
    # 南县政协网站, 2022-04-15: 部门整体支出及项目支出绩效评价报告 (2021 年度); key: reports/r01_*.json
    "r01_hunan_nanxian_zhengxie_dept_2021": [
        "部门整体支出绩效评价报告",
        "一、基本情况",
        "(一)部门整体支出概况。",
        "2021年部门决算收支完成情况。",
        "1、收入:792.22万元。同比上年度增加189.25万元,增加31.39%。其中:财政拨款收入792.22万元,"
        "同比上年度增加209.28万元,增加35.9%。",
        "2、支出:799.12万元。其中:人员经费支出434.89万元,公用经费支出77.4万元,项目支出286.83万元。",
        "(二)部门整体支出绩效目标。",
        OMITTED,
        "(三)部门整体支出或项目实施情况分析。",
        "本项目由基本支出和项目支出两个部分构成。" + OMITTED + "项目支出包括委员活动经费36.3万元,扫黑除恶工作经费1万元,"
        "信息网络运行经费5万元,老干部活动经费10.5万元,派出纪检监察组专项经费5万元,",
    ],
    # 红河州人民政府网站, 2025-04-29: 红河州数据发展中心2024年度项目支出绩效单位自评报告; key: reports/r02_*.json
    "r02_yunnan_honghe_shuju_project_2024": [
        "红河州数据发展中心2024年度项目支出绩效单位自评报告",
        "一、基本情况",
        "2024年,红河州数据发展中心(以下简称“州数据发展中心”)实施项目共15个(含2023年转列暂付性款项项目5个),"
        "年初批复预算8个项目985万元(含1个年初结转结余项目50万元),调整预算后项目预算861.46万元,"
        "年中增加8个项目(含2023年转列暂付性款项项目5个),实际到位资金334.67万元。",
        "(一)项目概况",
        "1.项目立项背景",
        "(1)“数说红河”展厅运维经费。" + OMITTED,
        "(2)红河州一中心一平台六大库N应用经费。" + OMITTED,
    ],
}


def write(stem: str, paragraphs: list[str]) -> pathlib.Path:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    props = doc.core_properties
    props.title, props.author = paragraphs[0], ""
    props.created = props.modified = props.last_printed = dt.datetime(2024, 1, 1)
    path = OUT / f"{stem}.docx"
    doc.save(str(path))
    sys.path.insert(0, str(HERE))
    from build import _normalise_zip  # the forms' builder: fixed zip entry times, so rebuilds are byte-identical

    _normalise_zip(path)
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for stem, paragraphs in REPORTS.items():
        print(write(stem, paragraphs).relative_to(HERE))


if __name__ == "__main__":
    main()
