"""A season played in a real Chromium against a running server: a reviewer opens a round that requires forms and
reports and accepts late uploads, three units upload (one late, one missing its report, one with errors), the
reviewer returns a form with a comment, the unit sends it again, the reviewer approves it, downloads the board
and the reminder list, draws a reproducible sample of two with a seed, enters 复核得分, and downloads the 复核
report and every unit's 工作考核评分表 — each file opened and read.

Each step is a small module-level function over one ``Season`` (the browser, the server, what the steps
learned), so later steps (抽查/复核, 工作考核评分表) can be appended to the same play.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.season_forms import unit_form, unit_report

from .conftest import PASSWORD
from .test_browser import CHROMIUM, DRIVER, IMAGES, REFRESHED, chromium_driver, log_in, shot, wait_download  # noqa: F401
from .test_restart import free_port, jixiao, kill_group, start

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROUND = "2024年度绩效自评（含自评报告）"
ON_TIME, NO_REPORT, LATE, SILENT = "长沙市交通运输局", "长沙市教育局", "长沙市水利局", "长沙市民政局"
ACCOUNTS = {ON_TIME: "jt", NO_REPORT: "jy", LATE: "sl", SILENT: "mz"}
COMMENT = "合计行与各指标得分之和不符，请核对后重新提交"


@dataclass
class Season:
    d: object  # the Chromium driver
    base: str
    files: Path  # where the units' workbooks and reports are written before they are picked
    rid: int = 0
    learned: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("season")
    assert jixiao("users", "add", "reviewer", "--role", "bureau", "--password-stdin", "--data", str(data),
                  stdin=PASSWORD).returncode == 0
    for unit, name in ACCOUNTS.items():
        assert jixiao("users", "add", name, "--role", "unit", "--unit", unit, "--password-stdin", "--data", str(data),
                      stdin=PASSWORD).returncode == 0
    port = free_port()
    proc = start(data, port, None)
    yield f"http://127.0.0.1:{port}", data
    kill_group(proc, 15)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    driver = chromium_driver(tmp_path_factory.mktemp("season-downloads"))
    yield driver
    driver.quit()


def beijing_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=8)


def set_datetime(d, element, value: str) -> None:
    d.execute_script("arguments[0].value = arguments[1];", element, value)


def board_row(s: Season, unit: str):
    return WebDriverWait(s.d, 10).until(EC.presence_of_element_located(
        (By.XPATH, f"//table[@id='board']//tr[td[text()='{unit}']]")))


def open_board(s: Season) -> None:
    s.d.get(f"{s.base}/rounds/{s.rid}")
    WebDriverWait(s.d, 10).until(EC.presence_of_element_located((By.ID, "board")))


# --- the steps -------------------------------------------------------------------------------------------


def reviewer_opens_the_round(s: Season) -> None:
    """Required documents 整体支出自评表 + 自评报告, uploads after the deadline accepted and counted; the
    deadline a week ahead (Beijing time)."""
    d = s.d
    log_in(d, s.base, "reviewer")
    form = d.find_element(By.ID, "new-round")
    form.find_element(By.NAME, "name").send_keys(ROUND)
    year = form.find_element(By.NAME, "year")
    year.clear()
    year.send_keys("2024")
    set_datetime(d, form.find_element(By.NAME, "deadline"), (beijing_now() + timedelta(days=7)).strftime("%Y-%m-%dT17:00"))
    for k in ("dept", "report"):
        form.find_element(By.CSS_SELECTOR, f"input[name=documents][value={k}]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=late_policy][value=accept]").click()
    shot(d, "season-new-round")
    form.find_element(By.CSS_SELECTOR, "button.primary").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "board")))
    s.rid = int(d.current_url.rstrip("/").rsplit("/", 1)[1])
    assert "截止后仍接收，记录迟报天数" in d.find_element(By.TAG_NAME, "main").text
    row = board_row(s, SILENT)
    assert "整体支出自评表：未提交" in row.text and "自评报告：未提交" in row.text


def unit_uploads(s: Season, unit: str, files: dict[str, bytes]) -> None:
    """A unit picks its files on its page; the page's script uploads them and reloads when they are checked."""
    d = s.d
    log_in(d, s.base, ACCOUNTS[unit])
    d.get(f"{s.base}/rounds/{s.rid}/mine")
    field_ = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "files")))
    paths = []
    for name, data in files.items():
        p = s.files / ACCOUNTS[unit] / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        paths.append(str(p))
    d.execute_script("arguments[0].style.display = 'block';", field_)
    before = len(d.find_elements(By.CSS_SELECTOR, "#latest tr[data-status=checked]"))
    field_.send_keys("\n".join(paths))
    want = before + len([n for n in files if not any(n == r for r in s.learned.get(("names", unit), []))])
    WebDriverWait(d, 90, ignored_exceptions=REFRESHED).until(
        lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#latest tr[data-status=checked]")) >= want
        and not drv.find_elements(By.CSS_SELECTOR, "#latest tr[data-status=queued], #latest tr[data-status=checking]"))
    s.learned.setdefault(("names", unit), []).extend(files)
    time.sleep(0.5)  # the script reloads the page once the checks are in: read the page after it, not during
    d.get(f"{s.base}/rounds/{s.rid}/mine")
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "latest")))


def three_units_upload(s: Season) -> None:
    """On time: one unit with its form and report, one with its form only; then the deadline passes and the
    third sends a form with an error and its report, late."""
    clean = unit_form(ON_TIME, seed=21)
    unit_uploads(s, ON_TIME, {"交通运输局-整体支出自评表.xlsx": clean,
                              "交通运输局-自评报告.docx": unit_report(clean, s.files / "r-jt")})
    unit_uploads(s, NO_REPORT, {"教育局-整体支出自评表.xlsx": unit_form(NO_REPORT, seed=22)})
    reviewer_moves_the_deadline_to_yesterday(s)
    wrong = unit_form(LATE, seed=23, wrong_sum=True)
    s.learned["late-report"] = unit_report(unit_form(LATE, seed=23), s.files / "r-sl")
    unit_uploads(s, LATE, {"水利局-整体支出自评表.xlsx": wrong, "水利局-自评报告.docx": s.learned["late-report"]})
    rows = {r.find_element(By.TAG_NAME, "a").text: r.text for r in s.d.find_elements(By.CSS_SELECTOR, "#latest tr[data-id]")}
    assert "迟报 1 天" in rows["水利局-整体支出自评表.xlsx"] and "有错误" in rows["水利局-整体支出自评表.xlsx"]
    assert "仍可提交" in s.d.find_element(By.ID, "late-accepted").text
    owed = s.d.find_element(By.ID, "owed").text  # the unit sees what it owes and where each stands
    assert "整体支出自评表：有错误" in owed and "自评报告：" in owed and "未提交" not in owed
    shot(s.d, "season-unit-late")


def reviewer_moves_the_deadline_to_yesterday(s: Season) -> None:
    d = s.d
    log_in(d, s.base, "reviewer")
    open_board(s)
    d.find_element(By.CSS_SELECTOR, "details.panel.slim:not(#edit-round) summary").click()
    form = d.find_element(By.CSS_SELECTOR, "form[action$='/deadline']")
    set_datetime(d, form.find_element(By.NAME, "deadline"), (beijing_now() - timedelta(days=1)).strftime("%Y-%m-%dT17:00"))
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "board")))


def reviewer_reads_the_board(s: Season) -> None:
    d = s.d
    log_in(d, s.base, "reviewer")
    open_board(s)
    on_time, no_report, late, silent = (board_row(s, u).text for u in (ON_TIME, NO_REPORT, LATE, SILENT))
    assert "材料齐全" in on_time and "自评报告：" in on_time
    assert "自评报告：未提交" in no_report and "材料齐全" not in no_report
    assert "整体支出自评表：有错误" in late and "材料齐全" in late
    late_days = board_row(s, LATE).find_element(By.CSS_SELECTOR, "td.late").text
    assert late_days == "1" and board_row(s, ON_TIME).find_element(By.CSS_SELECTOR, "td.late").text == ""
    assert "整体支出自评表：未提交" in silent
    assert d.find_element(By.ID, "all-in").text.startswith("材料齐全的单位 2")
    shot(d, "season-board")


def reviewer_reads_a_report_with_its_form(s: Season) -> None:
    """The report's page: checked against the unit's form (its findings with the form's)."""
    d = s.d
    board_row(s, ON_TIME).find_element(By.LINK_TEXT, "查看").click()
    d.find_element(By.LINK_TEXT, "交通运输局-自评报告.docx").click()
    findings = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "findings")))
    assert "待填写" in findings.text  # the draft's placeholders: the report itself was read
    assert "对应自评表：交通运输局-整体支出自评表.xlsx" in d.find_element(By.ID, "report-pair").text
    assert "交通运输局-整体支出自评表.xlsx" in d.find_element(By.ID, "companions").text  # the form beside it
    shot(d, "season-report")


def reviewer_returns_the_erroneous_form(s: Season) -> None:
    d = s.d
    open_board(s)
    board_row(s, LATE).find_element(By.LINK_TEXT, "查看").click()
    d.find_element(By.LINK_TEXT, "水利局-整体支出自评表.xlsx").click()
    beside = d.find_element(By.ID, "companions").text  # the unit's report, with its findings, on the form's page
    assert "本单位的自评报告" in beside and "水利局-自评报告.docx" in beside and "待填写" in beside
    d.find_element(By.ID, "review-text").send_keys(COMMENT)
    d.find_element(By.ID, "review-return").click()
    # the old page has a review-state too: wait for the answer page, not for any such element
    WebDriverWait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "review-state"), "已退回"))
    assert d.find_element(By.ID, "review-state").text == "已退回"
    assert COMMENT in d.find_element(By.ID, "review-comment").text


def unit_resubmits(s: Season) -> None:
    d = s.d
    unit_uploads(s, LATE, {"水利局-整体支出自评表.xlsx": unit_form(LATE, seed=23)})
    d.get(f"{s.base}/rounds/{s.rid}/mine")
    row = d.find_element(By.XPATH, "//table[@id='latest']//tr[td/a[text()='水利局-整体支出自评表.xlsx']]")
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[1].text == "2" and "有错误" not in row.text and "待审核" in row.text
    shot(d, "season-resubmitted")


def reviewer_approves(s: Season) -> None:
    d = s.d
    log_in(d, s.base, "reviewer")
    open_board(s)
    board_row(s, LATE).find_element(By.LINK_TEXT, "查看").click()
    d.find_element(By.LINK_TEXT, "水利局-整体支出自评表.xlsx").click()
    assert "第 2 版" in d.find_element(By.TAG_NAME, "main").text
    d.find_element(By.ID, "review-approve").click()
    # the old page has a review-state too: wait for the answer page, not for any such element
    WebDriverWait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "review-state"), "已通过"))
    assert d.find_element(By.ID, "review-state").text == "已通过"


def reviewer_downloads_the_board(s: Season) -> None:
    d = s.d
    open_board(s)
    d.find_element(By.ID, "download-board").click()
    wb = load_workbook(wait_download(d.downloads, "提交情况.xlsx"))
    rows = [list(r) for r in wb["汇总"].iter_rows(values_only=True)]
    head = rows[0]
    by_unit = {r[0]: dict(zip(head, r)) for r in rows[1:]}
    assert set(by_unit) == {ON_TIME, NO_REPORT, LATE, SILENT}
    assert by_unit[SILENT]["联系人（账号）"] == "mz" and by_unit[SILENT]["检查状态"] == "未提交"
    assert by_unit[SILENT]["缺少的材料"] == "整体支出自评表、自评报告"
    assert by_unit[NO_REPORT]["缺少的材料"] == "自评报告" and by_unit[NO_REPORT]["材料齐全"] == "否"
    assert by_unit[LATE]["迟报天数"] == 1 and by_unit[LATE]["审核"] == "待审核"  # its report still waits
    assert by_unit[LATE]["整体支出自评表"] in ("通过", "有警告") and by_unit[LATE]["材料齐全"] == "是"
    assert by_unit[ON_TIME]["迟报天数"] == 0 and by_unit[ON_TIME]["材料齐全"] == "是"


def reviewer_downloads_the_reminders(s: Season) -> None:
    d = s.d
    d.find_element(By.ID, "download-reminders").click()
    wb = load_workbook(wait_download(d.downloads, "催报名单.xlsx"))
    rows = [list(r) for r in wb["催报名单"].iter_rows(values_only=True)]
    assert rows[0] == ["单位", "联系人（账号）", "需要补交或修改", "截止时间"]
    listed = {r[0]: r for r in rows[1:]}
    assert set(listed) == {NO_REPORT, SILENT}
    assert listed[NO_REPORT][1:3] == ["jy", "尚缺：自评报告"]
    assert listed[SILENT][2] == "尚缺：整体支出自评表、自评报告"
    d.find_element(By.ID, "reminder-text").click()
    d.switch_to.window(d.window_handles[-1])
    text = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.TAG_NAME, "pre"))).text
    assert f"【{ROUND}】" in text and f"{NO_REPORT}：尚缺：自评报告" in text and ON_TIME not in text
    assert "已过，请尽快" in text  # the deadline was yesterday
    shot(d, "season-reminder-text", 500)
    d.close()
    d.switch_to.window(d.window_handles[0])


def open_sampling(s: Season) -> None:
    open_board(s)
    s.d.find_element(By.ID, "open-sampling").click()
    WebDriverWait(s.d, 10).until(EC.presence_of_element_located((By.ID, "population")))


def draw_sample(s: Season, size: int, seed: int) -> list[str]:
    d = s.d
    d.find_element(By.ID, "amount").send_keys(str(size))
    d.find_element(By.ID, "seed").send_keys(str(seed))
    button = d.find_element(By.ID, "draw")
    button.click()
    # the form posts and the page is drawn again: the old page (whose seed may be the same) must be gone first
    WebDriverWait(d, 10).until(EC.staleness_of(button))
    WebDriverWait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "draw-seed"), str(seed)))
    return [tr.get_attribute("data-key") for tr in d.find_elements(By.CSS_SELECTOR, "#sample tr[data-key]")]


def reviewer_draws_a_sample_of_two(s: Season) -> None:
    d = s.d
    open_sampling(s)
    assert d.find_element(By.ID, "population").text == "3"  # three units' forms are checked; 民政局 sent none
    first = draw_sample(s, 2, 20240331)
    assert len(first) == 2
    again = draw_sample(s, 2, 20240331)  # the same seed over the same forms: the same sample
    assert again == first
    s.learned["sample"] = first
    s.learned["sampled_units"] = [tr.find_elements(By.TAG_NAME, "td")[1].text
                                  for tr in d.find_elements(By.CSS_SELECTOR, "#sample tr[data-key]")]
    d.find_element(By.ID, "confirm").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "confirmed")))
    assert not d.find_elements(By.ID, "draw")  # a confirmed sample is not drawn again
    shot(d, "season-sampling")


def reviewer_enters_recheck_scores(s: Season) -> None:
    d = s.d
    d.find_elements(By.CLASS_NAME, "recheck-link")[0].click()
    box = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "score-0")))  # the 执行率 row
    rule = float(box.get_attribute("placeholder"))
    s.learned["recheck"] = max(0.0, rule - 1)
    box.send_keys(f"{s.learned['recheck']:g}")
    d.find_element(By.ID, "reason-0").send_keys("结转资金未计入全年执行数")
    d.find_element(By.ID, "save-recheck").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "saved")))
    assert d.find_element(By.ID, "score-0").get_attribute("value") == f"{s.learned['recheck']:g}"
    shot(d, "season-recheck")


def reviewer_downloads_the_recheck_report(s: Season) -> None:
    d = s.d
    open_sampling(s)
    assert d.find_elements(By.CLASS_NAME, "recheck-link")[0].text == "复核打分"  # one row entered, the rest by rule
    d.find_element(By.ID, "download-recheck").click()
    wb = load_workbook(wait_download(d.downloads, "抽查复核结果.xlsx"))
    units = [list(r) for r in wb["按单位"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in units] == s.learned["sampled_units"]
    rows = [list(r) for r in wb["按指标"].iter_rows(min_row=2, values_only=True)]
    [mine] = [r for r in rows if r[9] == "结转资金未计入全年执行数"]
    assert mine[0] == s.learned["sampled_units"][0] and mine[3] == "预算执行率" and mine[7] == s.learned["recheck"]
    assert mine[8] == round(mine[7] - mine[5], 2)  # 复核 − 自评
    assert all(r[7] == r[6] for r in rows if r[9] != "结转资金未计入全年执行数")  # the rest: the rules' scores


def reviewer_scores_the_work(s: Season) -> None:
    d = s.d
    open_board(s)
    d.find_element(By.ID, "open-assessment").click()
    row = WebDriverWait(d, 10).until(EC.presence_of_element_located(
        (By.XPATH, f"//table[@id='assessment']//tr[td[text()='{LATE}']]")))
    row.find_element(By.LINK_TEXT, "评分").click()
    for key, value in (("notice", "8"), ("team", "2"), ("meaning", "9"), ("lessons", "12"), ("proposals", "12")):
        WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, f"score-{key}"))).send_keys(value)
    d.find_element(By.ID, "reason-meaning").send_keys("个别指标未量化")
    d.find_element(By.ID, "save-assessment").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "saved")))
    assert d.find_element(By.ID, "reason-meaning").get_attribute("value") == "个别指标未量化"  # only the reviewer's words
    shot(d, "season-assessment")
    d.find_element(By.ID, "download-unit").click()
    ws = load_workbook(wait_download(d.downloads, f"{LATE}-工作考核评分表.xlsx")).active
    rows = {r[2]: r for r in ws.iter_rows(min_row=4, values_only=True) if r[2]}
    assert rows["提交报告"][5] == 9 and "迟报 1 天" in rows["提交报告"][6]  # one day late: −1
    assert rows["单位自查"][5] == 20 and rows["自评通知"][5] == 8 and "个别指标未量化" in rows["指标内涵明确"][6]
    assert isinstance(rows["正文"][5], (int, float))  # its report was read
    s.learned["late_total"] = next(r for r in ws.iter_rows(values_only=True) if r[0] == "合计")[5]
    assert isinstance(s.learned["late_total"], (int, float))


def reviewer_downloads_every_assessment(s: Season) -> None:
    import io
    import zipfile

    d = s.d
    d.get(f"{s.base}/rounds/{s.rid}/assessment")
    d.find_element(By.ID, "download-assessment").click()
    z = zipfile.ZipFile(wait_download(d.downloads, "工作考核评分表.zip"))
    names = z.namelist()
    assert {u for u in ACCOUNTS if any(n.endswith(f"{u}-工作考核评分表.xlsx") for n in names)} == set(ACCOUNTS)
    summary = load_workbook(io.BytesIO(z.read(next(n for n in names if n.endswith("工作考核汇总.xlsx"))))).active
    rows = [list(r) for r in summary.iter_rows(values_only=True)]
    by_unit = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by_unit[LATE]["合计"] == s.learned["late_total"] and by_unit[LATE]["提交报告（10）"] == 9
    assert by_unit[SILENT]["合计"] == "待评"  # nothing submitted, nothing scored for it by the reviewer


STEPS = [reviewer_opens_the_round, three_units_upload, reviewer_reads_the_board, reviewer_reads_a_report_with_its_form,
         reviewer_returns_the_erroneous_form, unit_resubmits, reviewer_approves, reviewer_downloads_the_board,
         reviewer_downloads_the_reminders, reviewer_draws_a_sample_of_two, reviewer_enters_recheck_scores,
         reviewer_downloads_the_recheck_report, reviewer_scores_the_work, reviewer_downloads_every_assessment]


def test_a_season(served, chromium, tmp_path):
    base, _ = served
    s = Season(chromium, base, tmp_path)
    for step in STEPS:
        step(s)
    print(f"screenshots in {IMAGES}")
