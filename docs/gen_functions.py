"""Write docs/functions.md from the table of cell functions, :data:`jixiao.functions.FUNCTIONS`.

Run ``python docs/gen_functions.py`` after changing a cell function. The examples below are
computed by calling the functions, so the page never shows a result nobody ran. pytest runs
this module's doctest (``docs`` is in ``testpaths``) and fails when the page is out of date:

>>> render() == PAGE.read_text(encoding="utf-8")
True
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jixiao.errors import JixiaoError
from jixiao.functions import CATEGORY, FUNCTIONS

PAGE = Path(__file__).with_name("functions.md")

# Example calls, as cells would pass them: (arguments, what the example shows).
EXAMPLES: dict[str, list[tuple[tuple[Any, ...], str]]] = {
    "JX_EXEC_RATE": [((38479.52, 32521.07), "种子 000：全年预算数 38479.52、全年执行数 32521.07"),
                     ((0, 100), "全年预算数为 0：单元格显示 #VALUE!")],
    "JX_EXEC_SCORE": [((0.8452, "hunan-dept-2024"), "湖南：整数分，向上取整"),
                      ((0.8452,), "全国默认：按比例，两位小数"),
                      ((0.9216, "county-rubric-2022"), "县级评分表：分档，[90%,95%) 得 75%")],
    "JX_IND_SCORE": [(("≥95%", "90%", 10), "正向指标未达成：10 × 90/95"),
                     (("≤1次", "2次", 10), "反向指标：实际为目标两倍，0 分"),
                     (("=24期", "20期", 10), "等于型：10 × (1 − 4/24)"),
                     (("显著提升", "部分完成", 10), "定性：按完成情况判为“部分达成”，取区间上限"),
                     (("显著提升", "显著提升", 10, None, "部分达成", 7), "定性：已评 7 分在“部分达成”区间 6–8 内"),
                     (("≥95%", "96", 10), "裸数按指标值的单位读（96%）"),
                     (("≥95%", "96个", 10), "单位不一致：#VALUE!，不按 0 分计")],
    "JX_IND_KIND": [(("≥95%",), ""), (("≤1次",), ""), (("=24期",), ""), (("显著提升",), ""),
                    (("95斤",), "单位无法识别：#VALUE!")],
    "JX_IND_REASON": [(("≥95%", "90%", 10, 9.47), "得分低于分值"),
                      (("≥100篇", "150篇", 10, 10), "超额完成 150%"),
                      (("≥100篇", "100篇", 10, 10), "按目标完成：空")],
    "JX_CONTROL_RATE": [(("在职人员控制率", 47, 51), "在职人员数 / 编制数"),
                        (("three_public_change", 1802, 722), "（本年 − 上年）/ 上年")],
    "JX_CONTROL_SCORE": [(("在职人员控制率", 0.9216, "county-rubric-2022"), "≤100% 满分"),
                         (("staff_control", 1.05), "超 5 个百分点，每点扣 0.2"),
                         (("budget_adjust", 0.07), "5%–10% 得一半"),
                         (("payment_progress", 0.45, None, "Q2"), "二季度末应达 50%，差 5 个百分点")],
    "JX_PAYMENT_SCORE": [((0.2, 0.45, 0.78), "二季度差 5 点、三季度差 2 点，共扣 1.4 分")],
    "JX_GRADE": [((99,), ""), ((89.99,), ""), ((59.5,), "")],
    "JX_TOTAL_CAP": [((99, 0.75), "默认不封顶")],
    "JX_VALUE": [(("95%",), ""), (("1.2万条",), ""), (("显著提升",), "定性文字：#VALUE!")],
    "JX_SPLIT_CHECK": [(([[38479.52, 38479.52, 32521.07]], [[36273.98, 36273.98, 30000], [2205.54, 2205.54, 2521.07]]),
                        "三列都相符：空（模板中为 =JX_SPLIT_CHECK(D5:F5,D7:F10,$K$2)）"),
                       (([[100, 100, 90]], [[60, 60, 55], [40, 39, 35]]), "全年预算数一列不符")],
    "JX_SUM_ROW": [((9, 90, "hunan-dept-2024"), "湖南：合计只含指标"), ((9, 90), "全国默认：合计含执行率得分")],
}


def _arg(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "{" + ";".join(",".join(_arg(x) for x in row) for row in v) + "}"
    return format(v, ".15g") if isinstance(v, float) else str(v)


def _result(name: str, args: tuple[Any, ...]) -> str:
    try:
        out = FUNCTIONS[name].func(*args)
    except JixiaoError as e:
        return f"#VALUE!（{e.message}）"
    if isinstance(out, float):
        return format(round(out, 10), ".10g")
    return f'"{out}"' if isinstance(out, str) else str(out)


def _call(name: str, args: tuple[Any, ...]) -> str:
    parts = [_arg(a) for a in args]
    while parts and parts[-1] == "":
        parts.pop()
    return f"={name}({','.join(parts)})"


def render() -> str:
    lines = [
        "# 单元格函数（JX_…）",
        "",
        "<!-- 由 docs/gen_functions.py 根据 jixiao.functions.FUNCTIONS 生成，请勿手改；"
        "改了函数后运行 python docs/gen_functions.py。 -->",
        "",
        f"jixiao 的工作表函数都在核心的一张表里（`jixiao.functions.FUNCTIONS`）：Excel 加载项（函数向导类别"
        f"“{CATEGORY}”）、`formulas` 重算（`jixiao recalc`、`jixiao check`）与模板的快速重算都调用同一个 Python "
        "函数，后者再调用计分规则（见 [rules.md](rules.md)）。",
        "",
        "- 参数为单元格的值；空单元格即省略。带 `[ ]` 的参数可省略。",
        "- `profile` 为规则配置名称或 TOML 文件路径（见 [profiles.md](profiles.md)），空白时用 `national-2020`；"
        "模板中所有公式都引用主表的“规则配置”单元格。",
        "- 无法读取的输入使单元格显示 **#VALUE!**（从不按 0 分计）；参数中的错误值原样传递。",
        "- 下列示例的结果都由本页的生成脚本实际调用函数得到。",
        "",
        "| 函数 | 说明 |",
        "|---|---|",
    ]
    for name, fn in FUNCTIONS.items():
        lines.append(f"| [`{name}`](#{name.lower()}) | {fn.description} |")
    for name, fn in FUNCTIONS.items():
        sig = ", ".join(p if i < fn.required else f"[{p}]" for i, p in enumerate(fn.params))
        lines += ["", f"## {name}", "", f"`{name}({sig})`", "", fn.description, "",
                  "| 参数 | 必填 | 说明 |", "|---|---|---|"]
        for i, p in enumerate(fn.params):
            kind = "是" if i < fn.required else "否"
            doc = fn.arg_docs[p] + ("（整个区域）" if p in fn.ranges else "")
            lines.append(f"| `{p}` | {kind} | {doc} |")
        examples = EXAMPLES.get(name, [])
        if examples:
            lines += ["", "| 公式 | 结果 | 说明 |", "|---|---|---|"]
            for args, note in examples:
                lines.append(f"| `{_call(name, args)}` | {_result(name, args)} | {note} |")
    missing = sorted(set(FUNCTIONS) - set(EXAMPLES))
    if missing:
        raise SystemExit(f"no example for {', '.join(missing)}: add one to EXAMPLES")
    return "\n".join(lines) + "\n"


def main() -> int:
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
