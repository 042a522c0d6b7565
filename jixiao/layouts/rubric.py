"""County rubric forms (seed 002): 附件1-2 基础数据表 feeding 附件1-1 评价指标表, and 附件2-4 汇总表.

Every quantitative 三级指标 of 附件1-1 is computed from the basic data by the
control-rate UDFs; criteria that need judgement keep a helper input column
(人工评分) whose points are added and capped at the row's 分值.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..profile import Profile, load_profile
from . import native
from .model import FMT_AMOUNT, FMT_RATE, FormModel, SheetModel, _profile_cell

BASIC = "附件1-2 基础数据表"
RUBRIC = "附件1-1 评价指标表"


def _basic_sheet(p: Profile, engine: str = "udf") -> SheetModel:
    def rate(kind: str, n: str, d: str, n_first: bool = False) -> str:
        if engine == "native":
            return native.control_rate(kind, n, d)
        a, b = (n, d) if n_first else (d, n)
        return f'=IF(OR({a}="",{b}=""),"",JX_CONTROL_RATE("{kind}",{n},{d}))'

    s = SheetModel(BASIC, {"A": 40, "B": 13, "C": 13, "D": 13, "E": 13, "F": 13, "G": 13}, "A:G", landscape=False)
    s.protect = True
    s.put("A1", "部门整体支出绩效自评基础数据表", "title", to="G1")
    s.heights[1] = 32
    s.put("A2", "填报单位：", "plain")
    s.put("B2", None, "input_plain", to="D2", key="unit")
    s.put("E2", "年度：", "plain")
    s.put("F2", None, "input_plain", fmt="0", key="year")
    s.validate("whole", "F2", "2000", "2100", error="年度应为四位数字，如 2022")
    s.put("G2", "单位：万元、人", "plain")
    # staff
    s.put("A3", "财政供养人员情况", "header", to="A4")
    for col, text in zip("BCDEFG", ("编制数", "实际在职人数", "在职人员控制率", "聘用人员批复数", "聘用人员实际使用数",
                                    "聘用人员控制率")):
        s.put(f"{col}3", text, "header")
    s.put("B4", None, "input", fmt="0", key="staff.authorized")
    s.put("C4", None, "input", fmt="0", key="staff.actual")
    s.put("D4", rate("staff_control", "C4", "B4"), "formula", fmt=FMT_RATE,
          key="rate.staff_control")
    s.put("E4", None, "input", fmt="0", key="contract.approved")
    s.put("F4", None, "input", fmt="0", key="contract.actual")
    s.put("G4", rate("contract_staff", "F4", "E4"), "formula", fmt=FMT_RATE,
          key="rate.contract_staff")
    s.validate("whole", ("B4:C4", "E4:F4"), "0", "100000", error="人数应为整数")
    # expenses
    s.put("A5", "经费控制情况", "header")
    for col, text in zip("BCDE", ("上年预算数", "上年决算数", "本年预算数", "本年决算数")):
        s.put(f"{col}5", text, "header")
    s.put("F5", "控制率", "header")
    s.put("G5", "变动率", "header")
    rows = [
        ("三公经费", "sum:7,10,11", "three_public"),
        ("  1、公务用车购置和运行维护经费", "sum:8,9", "three_public.vehicle"),
        ("      其中：公车购置", "input", "three_public.vehicle_purchase"),
        ("            公车运行维护", "input", "three_public.vehicle_running"),
        ("  2、因公出国（境）经费", "input", "three_public.abroad"),
        ("  3、公务接待费", "input", "three_public.reception"),
        ("项目支出", "sum:13,14,15", "project"),
        ("  1、业务工作专项", "input", "project.business"),
        ("  2、运行维护专项", "input", "project.operation"),
        ("  3、其他项目", "input", "project.other"),
        ("公用经费", "input", "public_expense"),
        ("    其中：办公经费", "input", "public_expense.office"),
        ("          水费、电费、差旅费", "input", "public_expense.utilities"),
        ("          会议费、培训费", "input", "public_expense.meetings"),
        ("政府采购金额", "input", "procurement"),
        ("部门整体支出（本年预算数含追加）", "input", "dept_spending"),
    ]
    for i, (label, how, key) in enumerate(rows):
        r = 6 + i
        s.put(f"A{r}", label, "label_left" if label.startswith(" ") else "label_left")
        for col, ckey in zip("BCDE", ("prev_budget", "prev_final", "budget", "final")):
            if how == "input":
                s.put(f"{col}{r}", None, "input", fmt=FMT_AMOUNT, key=f"{key}.{ckey}")
            else:
                parts = [int(x) for x in how.split(":")[1].split(",")]
                refs = ",".join(f"{col}{x}" for x in parts)
                s.put(f"{col}{r}", f'=IF(COUNT({refs})=0,"",SUM({refs}))', "formula", fmt=FMT_AMOUNT,
                      key=f"{key}.{ckey}")
        s.put(f"F{r}", None, "blank")
        s.put(f"G{r}", None, "blank")
    s.validate("decimal", "B6:E21", "0", "10000000000", error="金额应为不小于 0 的数字（万元）")
    s.put("F6", rate("three_public_control", "E6", "D6"), "formula", fmt=FMT_RATE,
          key="rate.three_public_control")
    s.put("G6", rate("three_public_change", "D6", "B6"), "formula", fmt=FMT_RATE,
          key="rate.three_public_change")
    s.put("F16", rate("public_expense_control", "E16", "D16"), "formula",
          fmt=FMT_RATE, key="rate.public_expense_control")
    s.put("F20", rate("procurement_exec", "E20", "D20"), "formula", fmt=FMT_RATE,
          key="rate.procurement_exec")
    s.put("F21", native.exec_rate("D21", "E21") if engine == "native" else '=IF(OR(D21="",E21=""),"",JX_EXEC_RATE(D21,E21))',
          "formula", fmt=FMT_RATE,
          key="rate.budget_completion")
    s.put("A22", "部门整体支出预算调整数（追加、追减、结构调整之和）", "label_left")
    s.put("B22", "——", "label")
    s.put("C22", "——", "label")
    s.put("D22", None, "input", fmt=FMT_AMOUNT, key="budget_adjustment")
    s.put("E22", "——", "label")
    s.put("F22", rate("budget_adjust", "D22", "D21", True), "formula", fmt=FMT_RATE,
          key="rate.budget_adjust")
    s.put("G22", None, "blank")
    # payment progress
    s.put("A23", "支付序时进度", "header")
    for col, text in zip("BCD", ("一季度末", "二季度末", "三季度末")):
        s.put(f"{col}23", text, "header")
    s.put("E23", "得分", "header")
    s.put("F23", None, "blank", to="G23")
    s.put("A24", "序时执行数", "label_left")
    s.put("A25", "序时指标下达数", "label_left")
    s.put("A26", "支付序时进度", "label_left")
    for col, q in zip("BCD", ("Q1", "Q2", "Q3")):
        s.put(f"{col}24", None, "input", fmt=FMT_AMOUNT, key=f"payment.{q}.executed")
        s.put(f"{col}25", None, "input", fmt=FMT_AMOUNT, key=f"payment.{q}.issued")
        s.put(f"{col}26", rate("payment_progress", f"{col}24", f"{col}25", True), "formula", fmt=FMT_RATE,
              key=f"rate.payment.{q}")
    s.validate("decimal", "B24:D25", "0", "10000000000", error="金额应为不小于 0 的数字（万元）")
    for r in (24, 25, 26):
        s.put(f"E{r}", None, "blank")
        s.put(f"F{r}", None, "blank", to=f"G{r}")
    # duties
    s.put("A27", "职责履行", "header", to="A28")
    for col, text in zip("BCDEFG", ("计划工作数", "实际完成工作数", "及时完成工作数", "质量达标工作数", "重点工作交办数",
                                    "重点工作办结数")):
        s.put(f"{col}27", text, "header")
    for col, key in zip("BCDEFG", ("planned", "completed", "timely", "quality", "key_assigned", "key_done")):
        s.put(f"{col}28", None, "input", fmt="0", key=f"work.{key}")
    s.validate("whole", "B28:G28", "0", "100000", error="工作数应为整数")
    # buildings
    s.put("A29", "楼堂馆所控制情况（本年完工项目）", "header", to="A30")
    for col, text in zip("BCDEFG", ("批复规模（㎡）", "实际规模（㎡）", "规模控制率", "预算投资（万元）", "实际投资（万元）",
                                    "投资概算控制率")):
        s.put(f"{col}29", text, "header")
    s.put("B30", None, "input", fmt="#,##0.00", key="building.approved_area")
    s.put("C30", None, "input", fmt="#,##0.00", key="building.actual_area")
    s.put("D30", '=IF(OR(B30="",C30=""),"",C30/B30)', "formula", fmt=FMT_RATE, key="rate.building_area")
    s.put("E30", None, "input", fmt=FMT_AMOUNT, key="building.budget")
    s.put("F30", None, "input", fmt=FMT_AMOUNT, key="building.actual")
    s.put("G30", '=IF(OR(E30="",F30=""),"",F30/E30)', "formula", fmt=FMT_RATE, key="rate.building_investment")
    s.put("A31", "厉行节约保障措施", "label_left")
    s.put("B31", None, "input_long", to="G31", key="frugality")
    s.fit_rows[31] = 45
    s.put("A32", "说明：“项目支出”需要填报除公共专项资金和基本支出以外的所有项目情况，包括业务工作项目、运行维护项目等；"
                 "“公用经费”填报基本支出中的一般商品和服务支出。“三公经费”变动率 =（本年预算数 − 上年预算数）/ 上年预算数。",
          "note", to="G32")
    return s


@dataclass(frozen=True)
class RubricRow:
    """One 三级指标 of 附件1-1. Its 分值 comes from the profile (``[rubric] weights``); none: set on the form."""

    level1: str
    level2: str
    name: str
    points: str  # 评分要点
    standard: str  # 评分标准
    auto: str | None = None  # formula (without '=') giving the computed part of the score
    basis: str | None = None  # formula shown in the 计算依据 helper column


def _duty_row(name: str, kind: str, done: str, planned: str, points: str, standard: str, prof: str,
              nat: Profile | None = None) -> RubricRow:
    """A 职责履行 row: a completion rate from the basic data, scored in proportion to the points the form sets."""
    b = f"'{BASIC}'!"
    blank = f'OR({b}{planned}="",{b}{done}="")'
    if nat is not None:
        d, n = f"{b}{planned}", f"{b}{done}"
        auto = (f'IF({blank},0,IF(OR(NOT(ISNUMBER({n})),NOT(ISNUMBER({d})),{d}<=0),"{native.CHECK}",'
                f'{native.control_score_expr(nat, kind, f"{n}/{d}", "D{row}")}))')
    else:
        auto = (f'IF({blank},0,JX_CONTROL_SCORE("{kind}",JX_CONTROL_RATE("{kind}",{b}{done},{b}{planned}),'
                f'{prof},"",D{{row}}))')
    return RubricRow("产出", "职责履行", name, points, standard, auto=auto,
                     basis=f'=IF({blank},"",TEXT({b}{done}/{b}{planned},"0.00%"))')


def _rate_row(level1: str, level2: str, name: str, kind: str, rate_cell: str, points: str, standard: str,
              prof: str, nat: Profile | None = None) -> RubricRow:
    """A row scored from one control rate of the basic-data sheet."""
    b = f"'{BASIC}'!{rate_cell}"
    if nat is not None:
        auto = f'IF({b}="",0,IF({b}="{native.CHECK}","{native.CHECK}",{native.control_score_expr(nat, kind, b)}))'
    else:
        auto = f'IF({b}="",0,JX_CONTROL_SCORE("{kind}",{b},{prof}))'
    return RubricRow(level1, level2, name, points, standard, auto=auto,
                     basis=f'=IF({b}="","",IF({b}="{native.CHECK}","{native.CHECK}",TEXT({b},"0.00%")))'
                     if nat is not None else f'=IF({b}="","",TEXT({b},"0.00%"))')


def _rubric_rows(prof: str, nat: Profile | None = None) -> list[RubricRow]:
    """The rows of 附件1-1; ``nat``: the profile whose rules native formulas write out (None: UDF formulas)."""
    b = f"'{BASIC}'!"
    cs = "JX_CONTROL_SCORE"
    C = native.CHECK
    if nat is not None:
        staff = (f'IF(OR({b}D4="{C}",{b}G4="{C}"),"{C}",IF({b}D4="",0,{native.control_score_expr(nat, "staff_control", f"{b}D4")})'
                 f'+IF({b}G4="",0,{native.control_score_expr(nat, "contract_staff", f"{b}G4")}))')
        pay = {q: f"{b}{c}26" for q, c in zip(("Q1", "Q2", "Q3"), "BCD")}
        execution = (f'IF({native.is_check(f"{b}F21", *pay.values())},"{C}",'
                     f'IF({b}F21="",0,{native.exec_score_expr(nat, f"{b}F21")})+IF(COUNT({b}B26:D26)=0,0,'
                     f'{native.payment_score_expr(nat, pay)}))')
    else:
        staff = (f'IF({b}D4="",0,{cs}("staff_control",{b}D4,{prof}))+IF({b}G4="",0,{cs}("contract_staff",{b}G4,'
                 f'{prof}))')
        execution = (f'IF({b}F21="",0,JX_EXEC_SCORE({b}F21,{prof}))+IF(COUNT({b}B26:D26)=0,0,'
                     f'JX_PAYMENT_SCORE({b}B26,{b}C26,{b}D26,{prof}))')
    return [
        RubricRow("投入", "目标设定", "绩效目标合理性",
                  "①是否符合国家法律法规、国民经济和社会发展总体规划；②是否符合部门“三定”方案确定的职责；"
                  "③是否符合部门制定的发展实施规划；④各个公共项目是否单独设置绩效目标。",
                  "①符合国家相关法律法规，本区域国民经济和社会发展规划，计0.5分，否则不得分；②与部门（单位）职责密切相关，"
                  "计0.5分，否则不得分；③符合部门制定的发展实施规划，计1分，否则不得分；④对各个公共项目单独设置绩效目标，"
                  "计1分，否则不得分。"),
        RubricRow("投入", "目标设定", "绩效指标明确性",
                  "①是否将部门整体的绩效目标细化分解为具体的工作任务；②是否通过清晰、可衡量的指标值予以体现；"
                  "③是否与部门年度的任务数或计划数相对应；④是否与本年度部门预算资金相匹配；⑤公共项目绩效指标是否细化、明确。",
                  "①有目标，计1分；②目标明确，细化量化良好，量化指标超过3个计1分，2个计0.5分；③与年度任务数或计划数相对应，"
                  "计1分；④目标与资金匹配良好，计1分；⑤公共项目绩效指标细化、明确，计1分。"),
        RubricRow("投入", "预算配置", "人员控制率",
                  "在职人员控制率 =（在职人员数 / 编制数）× 100%；聘用人员控制率 ≦ 人社和编办共同批复的人数。",
                  "在职人员控制率≦100%计2分，每超出1%扣0.2分，扣完为止；聘用人员实际使用数小于等于编办人社部门批复数，"
                  "计2分，否则不得分。",
                  auto=staff,
                  basis=f'=IF({b}D4="","",TEXT({b}D4,"0.00%"))'),
        _rate_row("投入", "预算配置", "“三公经费”变动率", "three_public_change", "G6",
                  "“三公经费”变动率 =[（本年度“三公经费”预算数 − 上年度“三公经费”预算数）/ 上年度“三公经费”预算数] × 100%。",
                  "“三公经费”变动率≦0，计3分；＞0，每超过一个百分点扣0.5分，扣完为止。", prof, nat),
        RubricRow("过程", "预算执行", "预算执行率",
                  "①预算执行率 =（预算完成数 / 预算数）× 100%，预算数含追加的项目预算数；②支付序时进度 =（序时执行数 / "
                  "序时指标下达数）× 100%。",
                  "①全年预算执行率95%以上计2分，95-90%（含）计1.5分，90-80%（含）计1分，小于80%不得分；②一、二、三季度末"
                  "支付序时进度分别达到20%、50%、80%（含）以上计2分，每低1个百分点扣0.2分，扣完为止。",
                  auto=execution,
                  basis=f'=IF({b}F21="","",TEXT({b}F21,"0.00%"))'),
        _rate_row("过程", "预算执行", "预算调整率", "budget_adjust", "F22",
                  "预算调整率 =（预算调整数 / 预算数）× 100%。预算调整数：本年度内预算的追加、追减或结构调整的资金总和。",
                  "预算调整率<5%，计3分；5-10%（含），计1.5分；大于10%不得分。", prof, nat),
        RubricRow("过程", "预算执行", "结转结余",
                  "根据县政府文件规定，预算单位年度安排的县级预算资金不能结转。", "县本级资金无结转，计2分；有结转，不计分。"),
        _rate_row("过程", "预算执行", "“三公经费”控制率", "three_public_control", "F6",
                  "“三公经费”控制率 =（“三公经费”实际支出数 / “三公经费”预算安排数）× 100%。不超当年预算，不超上年决算。",
                  "“三公经费”控制率100%以下（含）计2分，每超出1%扣0.1分，扣完为止。", prof, nat),
        _rate_row("过程", "预算执行", "政府采购执行率和规范性", "procurement_exec", "F20",
                  "政府采购执行率 =（实际政府采购金额 / 政府采购预算数）× 100%；无规避政府采购或化整为零的行为，履行验收手续。",
                  "政府采购执行率100%计1分，每超过（降低）1%扣0.1分，扣完为止；依法采购并履行验收手续计1分，否则不得分。", prof, nat),
        RubricRow("过程", "预算管理", "管理制度健全性",
                  "①内控、财务管理和会计核算制度是否健全；②资金、项目管理制度是否合法合规、完整；③制度是否得到有效执行。",
                  "①②各计1分，否则酌情扣分；③管理制度得到有效执行，计1分，1例不符合扣0.2分。"),
        RubricRow("过程", "预算管理", "资金使用合规性",
                  "①是否符合财经法规和财务管理制度；②支付是否有完整的审批程序；③重大开支是否经集体决策；④是否符合批复用途；"
                  "⑤是否存在截留、挤占、挪用、虚列支出；⑥是否存在重复申报、虚报冒领。",
                  "①–④各计1分，1例不符合扣0.2分；⑤⑥各计1分，1例不符合本指标6分全扣。"),
        RubricRow("过程", "预算管理", "信息公开性",
                  "①按规定及时、准确、完整公开预决算和绩效管理信息；②基础数据和会计信息真实、准确、完整。",
                  "①、②各计1分，否则酌情扣分。"),
        RubricRow("过程", "资产管理", "资产管理制度健全性",
                  "①是否制定合法、合规、完整的资产管理制度；②是否有效执行；③资产配置是否编制年度预算；④资产配置预算执行情况。",
                  "①–④各计0.5分，否则不得分。"),
        RubricRow("过程", "资产管理", "资产管理安全性",
                  "①资产保存完整并有台账；②配置合理；③处置规范；④账实相符；⑤收入及时足额上缴；⑥购置履行政府采购手续；⑦定期盘点。",
                  "①资产配置、保管、账务、盘点规范，计0.5分，一例不符扣0.1分；②处置规范计0.5分；③收入及时上缴计0.5分；"
                  "④购置履行政府采购手续计0.5分。"),
        RubricRow("过程", "资产管理", "固定资产保管和使用情况",
                  "①是否建立固定资产台账，实行编码管理；②固定资产增减变化是否建立审批程序。",
                  "建立固定资产台账实行编码管理的计1分；建立增减变化审批程序的计1分，否则不得分。"),
        _duty_row("实际完成率", "work_completion", "C28", "B28",
                  "部门履行职责而实际完成的工作数与计划工作数的比率。",
                  "实际完成率 =（实际完成工作数 / 计划工作数）× 100%。", prof, nat),
        _duty_row("完成及时性", "work_timeliness", "D28", "B28",
                  "部门在规定时限内及时完成的实际工作数与计划工作数的比率。",
                  "完成及时率 =（及时完成实际工作数 / 计划工作数）× 100%。", prof, nat),
        _duty_row("质量达标率", "work_quality", "E28", "B28",
                  "达到质量标准（绩效标准值）的实际工作数与计划工作数的比率。",
                  "质量达标率 =（质量达标实际工作数 / 计划工作数）× 100%。", prof, nat),
        _duty_row("重点项目或工作办结率", "key_work_completion", "G28", "F28",
                  "部门年度重点项目或工作实际完成数与交办或下达数的比率。",
                  "重点项目或工作办结率 =（重点项目或工作实际完成数 / 交办或下达数）× 100%。", prof, nat),
        RubricRow("效果", "履职效益", "经济效益",
                  "部门履行职责对经济发展所带来的直接或间接影响。",
                  "此三项指标为共性要素，可根据部门实际有选择地设置，并细化为相应的个性化指标。"),
        RubricRow("效果", "履职效益", "社会效益", "部门履行职责对社会发展所带来的直接或间接影响。", ""),
        RubricRow("效果", "履职效益", "生态效益", "部门履行职责对生态环境所带来的直接或间接影响。", ""),
        RubricRow("效果", "履职效益", "社会公众或服务对象满意度",
                  "社会公众或部门的服务对象对部门履职效果的满意程度。",
                  "社会公众或服务对象是指部门履行职责而影响到的部门、群体或个人。一般采取社会调查的方式。"),
    ]


def _rubric_sheet(p: Profile, engine: str = "udf") -> SheetModel:
    s = SheetModel(RUBRIC, {"A": 11, "B": 11, "C": 14, "D": 6, "E": 44, "F": 48, "G": 9, "H": 3,
                            "J": 12, "K": 10, "L": 10, "M": 3, "N": 10, "O": 18, "P": 10}, "A:G", landscape=True)
    s.put("A1", "部门整体支出绩效自评指标表", "title", to="G1")
    s.heights[1] = 32
    for col, text in zip("ABCDEFG", ("一级指标", "二级指标", "三级指标", "分值", "评分要点", "评分标准", "得分")):
        s.put(f"{col}2", text, "header")
    prof = _profile_cell(s, p, row=2, col="N", engine=engine)
    nat = p if engine == "native" else None
    for col, text in zip("JKL", ("计算依据", "自动得分", "人工评分")):
        s.put(f"{col}2", text, "helper_header")
    s.put("N4", "人工评分（L 列）：不能由基础数据计算的评分标准，由评价人按评分标准给分", "helper", to="P4")
    rows = _rubric_rows(prof, nat)
    top = 3
    weights = [p.rubric_weights.get(row.name) for row in rows]
    # a level label shows its points ("投入（15分）", on a line of their own) when the profile fixes them; it is
    # written on every row of its group rather than merged down the group: a merge that a page break cuts
    # prints its label once, mid-table, and leaves its border open at the break
    for col, attr in (("A", "level1"), ("B", "level2")):
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or getattr(rows[i], attr) != getattr(rows[start], attr):
                name = getattr(rows[start], attr)
                group = weights[start:i]
                points = (p.weights.first_level.get(name) if attr == "level1" else p.rubric_groups.get(name)) \
                    or (sum(w for w in group if w is not None) if all(w is not None for w in group) else None)
                label = f"{name}\n（{points:g}分）" if points else name
                for r in range(top + start, top + i):
                    s.put(f"{col}{r}", label, "header")
                start = i
    for i, row in enumerate(rows):
        r = top + i
        s.put(f"C{r}", row.name, "label")
        if weights[i] is None:
            s.put(f"D{r}", None, "input", fmt="0.##", key=f"rubric.{i}.weight")
        else:
            s.put(f"D{r}", weights[i], "label", fmt="0.##", key=f"rubric.{i}.weight")
        s.put(f"E{r}", row.points, "label_left")
        s.put(f"F{r}", row.standard, "label_left")
        auto = row.auto.replace("{row}", str(r)) if row.auto else None
        if auto:
            s.put(f"K{r}", f"={auto}", "helper", fmt="0.##", key=f"rubric.{i}.auto")
            s.put(f"J{r}", row.basis, "helper", key=f"rubric.{i}.basis")
        s.put(f"L{r}", None, "input", fmt="0.##", key=f"rubric.{i}.manual")
        parts = f"N(K{r})+N(L{r})" if auto else f"N(L{r})"
        empty = f'AND(L{r}=""' + (f',J{r}=""' if auto else "") + ")"  # nothing to score yet
        score = f"MIN(D{r},MAX(0,{parts}))"
        if nat is not None and auto:
            score = f'IF(K{r}="{native.CHECK}","{native.CHECK}",{score})'
        s.put(f"G{r}", f'=IF(OR(D{r}="",{empty}),"",{score})', "formula", fmt="0.##", key=f"rubric.{i}.score")
    last = top + len(rows) - 1
    s.validate("decimal", f"L{top}:L{last}", "0", "100", error="人工评分应为 0–100 的数字")
    s.validate("decimal", f"D{top}:D{last}", "0", "100", error="分值应为 0–100 的数字")
    r = last + 1
    s.put(f"A{r}", "合计", "header", to=f"C{r}")
    s.put(f"D{r}", f"=SUM(D{top}:D{last})", "formula", fmt="0.##", key="total.weight")
    s.put(f"E{r}", None, "blank", to=f"F{r}")
    total = f'IF(COUNT(G{top}:G{last})=0,"",SUM(G{top}:G{last}))'
    if nat is not None:
        total = f'IF({native.any_check(f"G{top}:G{last}")},"{native.CHECK}",{total})'
    s.put(f"G{r}", f"={total}", "formula", fmt="0.##", key="total.score")
    r += 1
    s.put(f"A{r}", "等级", "header", to=f"C{r}")
    grade = native.grade(p, f"G{r - 1}") if nat is not None else f'=IF(G{r - 1}="","",JX_GRADE(G{r - 1},{prof}))'
    s.put(f"D{r}", grade, "formula_text", to=f"G{r}", key="total.grade")
    r += 1
    groups = "、".join(f"{k}{v:g}分" for k, v in p.rubric_groups.items())
    s.put(f"A{r}", "注：分值空白的三级指标由部门按实际设置" + (f"，合计应为：{groups}" if groups else "") +
                   "。得分 = 自动得分（由附件1-2 计算）+ 人工评分，不超过分值。", "note", to=f"G{r}")
    s.title_rows = "1:2"
    return s


def rubric_groups(model: FormModel, p: Profile) -> dict[str, tuple[list[str], float]]:
    """二级指标 whose rows' 分值 the department sets: their 分值 cells and the points they must add up to."""
    sheet = model.sheet(RUBRIC)
    rows = _rubric_rows("")
    out: dict[str, tuple[list[str], float]] = {}
    for i, row in enumerate(rows):
        if row.level2 in p.rubric_groups:
            out.setdefault(row.level2, ([], p.rubric_groups[row.level2]))[0].append(sheet.fields[f"rubric.{i}.weight"])
    return out


def county_rubric(profile: str | Profile = "county-rubric-2022", engine: str = "udf") -> FormModel:
    p = load_profile(profile)
    basic, rubric = _basic_sheet(p, engine), _rubric_sheet(p, engine)
    guide = [
        ("适用表格", "县级部门整体支出绩效自评：附件1-2 基础数据表（填写）与附件1-1 评价指标表（自动计分 + 人工评分）。"),
        ("规则配置", f"使用规则配置“{p.id}”（{p.name}），写在附件1-1 的 K3 单元格。来源：{p.source}"),
        ("先填基础数据表", "浅黄色单元格为填写项。三公经费、公务用车、项目支出的合计由公式汇总，只填明细。"
                          "“三公经费”变动率用上年预算数，不要用上年决算数；预算执行率的预算数应含年中追加、追减。"),
        ("再看评价指标表", "在职人员控制率、“三公经费”变动率、预算执行率、支付序时进度、预算调整率、“三公经费”控制率、"
                          "政府采购执行率及职责履行各率由基础数据自动计算并计分（辅助列 J、K）；"
                          "其余评分标准在辅助列 L 填写人工评分。得分不超过分值。"),
        ("分值", "附件1-1 中产出、效果的部分三级指标分值空白，由部门设置，两项各 25 分。"),
        ("保护", "工作表已保护，未设密码：审阅 → 撤消工作表保护。"),
        ("得分与等级", "得分由 jixiao 单元格函数（JX_…）计算，需安装 jixiao Excel 加载项；财政部门用 jixiao 在服务器上重算。"
                      if engine != "native" else
                      "得分与等级由普通公式按规则配置“" + p.id + "”计算（Excel 2010 及以上、WPS 表格、LibreOffice 均可），"
                      "不需要加载项；基础数据无法计算比率时（如分母为 0）显示“需核对”。"),
    ]
    return FormModel("county-rubric", "部门整体支出绩效自评（县级评分表）", p.id, [rubric, basic], guide, engine)


def project_summary(profile: str | Profile = "county-rubric-2022", rows: int = 30, engine: str = "udf") -> FormModel:
    """附件2-4 公共项目资金绩效自评评分汇总表."""
    p = load_profile(profile)
    s = SheetModel("附件2-4 评分汇总表", {"A": 6, "B": 46, "C": 12, "D": 24, "E": 3, "J": 12, "K": 16, "L": 10},
                   "A:D", landscape=False)
    s.put("A1", "公共项目资金绩效自评评分汇总表", "title", to="D1")
    s.heights[1] = 32
    s.put("A2", "单位名称：", "plain", to="B2")
    s.put("C2", None, "input_plain", to="D2", key="unit")
    for col, text in zip("ABCD", ("序号", "项目名称", "自评分数", "备注")):
        s.put(f"{col}3", text, "header")
    prof = _profile_cell(s, p, row=2, engine=engine)
    grade = (lambda x: native.grade(p, x)) if engine == "native" else (lambda x: f'=IF({x}="","",JX_GRADE({x},{prof}))')
    s.put("J4", "等级", "helper_header")
    first = 4
    for i in range(rows):
        r = first + i
        s.put(f"A{r}", i + 1, "label")
        s.put(f"B{r}", None, "input_text", key=f"projects.{i}.name")
        s.put(f"C{r}", None, "input", fmt="0.0#", key=f"projects.{i}.score")
        s.put(f"D{r}", None, "input_text", key=f"projects.{i}.note")
        s.put(f"J{r}", grade(f"C{r}"), "helper", key=f"projects.{i}.grade")
    last = first + rows - 1
    s.validate("decimal", f"C{first}:C{last}", "0", "100", error="自评分数应为 0–100 的数字")
    r = last + 1
    s.put(f"A{r}", "项目个数", "header", to=f"B{r}")
    s.put(f"C{r}", f"=COUNT(C{first}:C{last})", "formula", fmt="0", key="count")
    s.put(f"D{r}", None, "blank")
    r += 1
    s.put(f"A{r}", "平均分", "header", to=f"B{r}")
    s.put(f"C{r}", f'=IF(COUNT(C{first}:C{last})=0,"",ROUND(AVERAGE(C{first}:C{last}),2))', "formula", fmt="0.00",
          key="average")
    s.put(f"D{r}", grade(f"C{r}"), "formula_text", key="average_grade")
    s.title_rows = "1:3"
    guide = [("适用表格", "附件2-4 公共项目资金绩效自评评分汇总表：每个公共项目一行。"),
             ("填写", f"浅黄色单元格为填写项；预留 {rows} 行，不够时撤消工作表保护（无密码）后复制插入整行。"),
             ("等级", f"辅助列 J 按规则配置“{p.id}”给出每个项目的等级，不打印。")]
    return FormModel("project-summary", "公共项目资金绩效自评评分汇总表", p.id, [s], guide, engine)
