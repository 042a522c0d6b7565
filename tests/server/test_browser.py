"""A real Chromium (Debian's chromium + chromium-driver, through Selenium) against a running server.

Screenshots go to a temporary folder; ``JIXIAO_SCREENSHOTS=docs/images`` writes them where the README
shows them (refresh the tracked images only on purpose).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from .conftest import PASSWORD, workbook
from .test_restart import free_port, jixiao, kill_group, start

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

REFRESHED = (StaleElementReferenceException,)  # the results table is redrawn while a check finishes

IMAGES = Path(os.environ.get("JIXIAO_SCREENSHOTS") or tempfile.mkdtemp(prefix="jixiao-shots-"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI must have chromium and chromium-driver installed (.ci/run installs them)")
    pytest.skip("chromium / chromedriver not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("site")
    for args in (["reviewer", "--role", "bureau"], ["unit-a", "--role", "unit", "--unit", "湖南省机关事务管理局"]):
        assert jixiao("users", "add", *args, "--password-stdin", "--data", str(data), stdin=PASSWORD).returncode == 0
    others = {"湖南省财政厅": (21, None), "湖南省教育厅": (22, "wrong_budget"), "湖南省卫生健康委员会": (23, "over_achievement"),
              "湖南省交通运输厅": (24, "sum_row"), "湖南省水利厅": (25, None)}
    for i, unit in enumerate(list(others) + ["湖南省民政厅", "湖南省文化和旅游厅"]):
        assert jixiao("users", "add", f"u{i}", "--role", "unit", "--unit", unit, "--password-stdin", "--data",
                      str(data), stdin=PASSWORD).returncode == 0
    from jixiao.server.db import Round, make_engine, sessions

    engine = make_engine(f"sqlite:///{data / 'jixiao.db'}")
    with sessions(engine).begin() as db:
        db.add(Round(name="2024年度部门整体支出绩效自评", year=2024, kinds="dept,project"))
    engine.dispose()
    port = free_port()
    proc = start(data, port, None)
    base = f"http://127.0.0.1:{port}"
    for i, (unit, (k, inj)) in enumerate(others.items()):
        token = jixiao("users", "token", f"u{i}", "--data", str(data)).stdout.strip()
        r = httpx.post(f"{base}/api/v1/submissions", headers={"Authorization": f"Bearer {token}"},
                       files=[("file", (f"{unit}-部门整体支出绩效自评表.xlsx", workbook(k, inj)[0]))])
        assert r.status_code == 202
    books = {}
    for name, (k, inj, layout) in {"部门整体支出绩效自评表.xlsx": (31, "split", "template"),
                                   "自评表-官方格式.xlsx": (32, "wrong_budget", "bureau")}.items():
        data_, expected = workbook(k, inj, layout)
        path = data / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data_)
        books[name] = (path, expected)
    yield base, books, data
    kill_group(proc, 15)


def chromium_driver(downloads: Path):
    """A headless Chromium at 1366×900 in Chinese that saves downloads into ``downloads`` without asking."""
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,900",
              "--lang=zh-CN", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False, "intl.accept_languages": "zh-CN"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium_driver(tmp_path_factory.mktemp("downloads"))
    yield driver
    driver.quit()


def shot(driver, name: str, height: int | None = None) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    h = height or min(2400, driver.execute_script("return document.documentElement.scrollHeight") + 140)
    driver.set_window_size(1366, max(700, h))
    time.sleep(0.3)
    driver.save_screenshot(str(IMAGES / f"server-{name}.png"))
    driver.set_window_size(1366, 900)


def wait_download(folder: Path, suffix: str, timeout: float = 30) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if done and not any(p.name.endswith(".crdownload") for p in folder.iterdir()):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded: {list(folder.iterdir())}")


def log_in(driver, base: str, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    WebDriverWait(driver, 10).until(EC.url_contains("/rounds"))


def test_unit_uploads_two_workbooks_and_downloads_the_marked_copy(site, browser):
    base, books, _ = site
    d = browser
    d.get(f"{base}/login")
    shot(d, "login", 700)
    log_in(d, base, "unit-a")
    d.find_element(By.LINK_TEXT, "提交与结果").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "drop")))
    field = d.find_element(By.ID, "files")
    d.execute_script("arguments[0].style.display = 'block';", field)
    field.send_keys("\n".join(str(p) for p, _ in books.values()))
    # the page's script uploads, waits for the checks and reloads
    WebDriverWait(d, 60, ignored_exceptions=REFRESHED).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#latest tr[data-status=checked]")) == 2)
    rows = d.find_elements(By.CSS_SELECTOR, "#latest tr[data-id]")
    assert {r.find_element(By.TAG_NAME, "a").text for r in rows} == set(books)
    assert all("有错误" in r.text for r in rows)
    shot(d, "unit")
    for name, (_, expected) in books.items():
        d.find_element(By.LINK_TEXT, name).click()
        table = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "findings")))
        cells = {(td[3].get_attribute("title"), td[2].text) for td in
                 (tr.find_elements(By.TAG_NAME, "td") for tr in table.find_elements(By.TAG_NAME, "tr")[1:])}
        for e in expected:
            assert (e["rule"], e["cell"]) in cells, (name, e, cells)
        if name == "部门整体支出绩效自评表.xlsx":
            shot(d, "findings")
            d.find_element(By.ID, "download-marked").click()
            copy = wait_download(d.downloads, "-标注.xlsx")
            wb = load_workbook(copy)
            e = expected[0]
            sheet = next(s for s in wb.sheetnames if s != "检查结果")
            assert wb[sheet][e["cell"]].comment is not None
            assert wb["检查结果"]["A2"].value == "错误"
        d.back()


def test_unit_drops_a_corrected_version(site, browser):
    """A file dropped on the drop zone (a real drop event carrying a File) becomes version 2, with what changed."""
    import base64

    base, books, _ = site
    d = browser
    log_in(d, base, "unit-a")
    d.find_element(By.LINK_TEXT, "提交与结果").click()
    drop = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "drop")))
    fixed = base64.b64encode(workbook(31, None)[0]).decode()
    d.execute_script("""
        const [zone, b64, name] = arguments;
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    """, drop, fixed, "部门整体支出绩效自评表.xlsx")
    WebDriverWait(d, 60, ignored_exceptions=REFRESHED).until(lambda drv: any(
        "2" == r.find_elements(By.TAG_NAME, "td")[1].text
        for r in drv.find_elements(By.CSS_SELECTOR, "#latest tr[data-status=checked]")))
    d.find_element(By.LINK_TEXT, "部门整体支出绩效自评表.xlsx").click()
    WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "versions")))
    page = d.find_element(By.TAG_NAME, "main").text
    assert "第 2 版" in page and "与第 1 版相比" in page and "已改正（1）" in page
    assert d.find_elements(By.ID, "cell-changes")
    shot(d, "versions")


def test_refused_files_are_explained_in_chinese(site, browser):
    """A zip with a good workbook, a ``../`` name, a text file and a zip bomb: each refusal keeps its reason on screen."""
    import io
    import zipfile

    base, _, data = site
    d = browser
    log_in(d, base, "unit-a")
    d.find_element(By.LINK_TEXT, "提交与结果").click()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("项目支出绩效自评表.xlsx", workbook(33, "over_weight")[0])
        z.writestr("../../上级目录.xlsx", workbook(34)[0])
        z.writestr("说明.txt", "请查收")
        z.writestr("炸弹.xlsx", b"\0" * (300 * 1024 * 1024))
    path = data / "uploads" / "本单位材料.zip"
    path.write_bytes(buf.getvalue())
    field = d.find_element(By.ID, "files")
    d.execute_script("arguments[0].style.display = 'block';", field)
    field.send_keys(str(path))
    WebDriverWait(d, 60).until(EC.presence_of_element_located((By.LINK_TEXT, "检查完成，点此刷新查看结果")))
    log = d.find_element(By.ID, "upload-log").text
    assert "已收到 项目支出绩效自评表.xlsx" in log
    assert "“../”" in log and "不是工作簿" in log and "压缩炸弹" in log
    d.execute_script("arguments[0].style.display = 'none';", field)
    shot(d, "refused")


def test_reviewer_sees_the_board_and_downloads_the_report(site, browser):
    base, _, _ = site
    d = browser
    log_in(d, base, "reviewer")
    d.find_element(By.LINK_TEXT, "2024年度部门整体支出绩效自评").click()
    board = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "board")))
    text = board.text
    assert "湖南省机关事务管理局" in text and "未提交" in text and "有错误" in text and "通过" in text
    time.sleep(1.0)  # the charts' frame
    shot(d, "board")
    d.find_element(By.ID, "download-xlsx").click()
    report = wait_download(d.downloads, "检查报告.xlsx")
    wb = load_workbook(report)
    assert len(wb.sheetnames) >= 2
    d.find_element(By.CSS_SELECTOR, "a.card.st-有错误").click()
    WebDriverWait(d, 10).until(EC.url_contains("status="))
    rows = d.find_elements(By.CSS_SELECTOR, "#board tr")[1:]
    assert rows and all("有错误" in r.text for r in rows)
    d.get(f"{base}/rounds")
    shot(d, "rounds", 900)


def test_reviewer_returns_a_file_with_a_comment_and_the_unit_sees_it(site, browser):
    base, _, _ = site
    d = browser
    comment = "预算执行率的分母应为全年预算数，请改正后重新提交"
    log_in(d, base, "reviewer")
    d.find_element(By.LINK_TEXT, "2024年度部门整体支出绩效自评").click()
    row = WebDriverWait(d, 10).until(EC.presence_of_element_located(
        (By.XPATH, "//table[@id='board']//tr[td[text()='湖南省机关事务管理局']]")))
    assert "待审核" in row.text
    row.find_element(By.LINK_TEXT, "查看").click()
    d.find_element(By.LINK_TEXT, "自评表-官方格式.xlsx").click()
    d.find_element(By.ID, "review-text").send_keys(comment)
    d.find_element(By.ID, "review-return").click()
    # the old page has a review-state too: wait for the answer page, not for any such element
    WebDriverWait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "review-state"), "已退回"))
    assert d.find_element(By.ID, "review-state").text == "已退回"
    assert comment in d.find_element(By.ID, "review-comment").text
    # a word on the first finding: 不采纳, with the reason
    d.find_element(By.CSS_SELECTOR, "#findings details.word-edit summary").click()
    form = d.find_element(By.CSS_SELECTOR, "#findings details.word-edit[open] form")
    Select(form.find_element(By.NAME, "verdict")).select_by_value("reject")
    form.find_element(By.NAME, "reason").send_keys("年中追加了预算，以调整后为准")
    form.find_element(By.TAG_NAME, "button").click()
    word = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#findings .word-reject")))
    assert "不采纳" in word.text and "年中追加了预算" in word.text
    shot(d, "review")
    d.get(f"{base}/rounds")
    d.find_element(By.LINK_TEXT, "2024年度部门整体支出绩效自评").click()
    row = d.find_element(By.XPATH, "//table[@id='board']//tr[td[text()='湖南省机关事务管理局']]")
    assert "待审核" in row.text  # its two other files still wait for the reviewer
    d.get(f"{base}/accounts")
    assert "湖南省机关事务管理局" in d.find_element(By.ID, "accounts").text
    shot(d, "accounts")

    log_in(d, base, "unit-a")
    d.find_element(By.LINK_TEXT, "提交与结果").click()
    returned = WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "returned")))
    assert "自评表-官方格式.xlsx" in returned.text and comment in returned.text
    rows = {r.find_element(By.TAG_NAME, "a").text: r.text for r in d.find_elements(By.CSS_SELECTOR, "#latest tr[data-id]")}
    assert "已退回" in rows["自评表-官方格式.xlsx"] and comment in rows["自评表-官方格式.xlsx"]
    shot(d, "returned")
    d.find_element(By.LINK_TEXT, "自评表-官方格式.xlsx").click()
    assert comment in WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "review-comment"))).text
    findings = d.find_element(By.ID, "findings")
    assert "不采纳：年中追加了预算，以调整后为准" in findings.text and not findings.find_elements(By.TAG_NAME, "form")
    shot(d, "review-unit")


def _fits(d, width: int) -> None:
    """The page is no wider than the screen; the top bar's parts do not overlap; every table fits or scrolls
    inside itself."""
    assert d.execute_script("return document.documentElement.scrollWidth") <= width
    boxes = d.execute_script("""return [...document.querySelectorAll('header .brand, header nav a, .who > *')]
        .map(e => e.getBoundingClientRect()).map(r => [r.left, r.top, r.right, r.bottom]);""")
    for i, a in enumerate(boxes):
        assert a[2] <= width + 1, a  # nothing of the top bar is off the screen
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] + 1 or b[2] <= a[0] + 1 or a[3] <= b[1] + 1 or b[3] <= a[1] + 1, (a, b)  # no overlap
    for t in d.find_elements(By.CSS_SELECTOR, "table"):
        assert t.rect["x"] + t.rect["width"] <= width + 1


def test_pages_fit_a_phone_390_px_wide(site, browser):
    base, _, _ = site
    d = browser
    d.set_window_size(390, 844)
    IMAGES.mkdir(parents=True, exist_ok=True)
    try:
        log_in(d, base, "reviewer")
        d.find_element(By.LINK_TEXT, "2024年度部门整体支出绩效自评").click()
        WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "board")))
        _fits(d, 390)
        board = d.find_element(By.ID, "board")
        assert board.rect["width"] <= 390 and d.execute_script("return arguments[0].scrollWidth", board) > 390
        d.save_screenshot(str(IMAGES / "server-board-390.png"))
        for path in ("/rounds", "/accounts", "/audit"):
            d.get(base + path)
            _fits(d, 390)
        log_in(d, base, "unit-a")
        d.find_element(By.LINK_TEXT, "提交与结果").click()
        WebDriverWait(d, 10).until(EC.presence_of_element_located((By.ID, "drop")))
        _fits(d, 390)
        d.save_screenshot(str(IMAGES / "server-unit-390.png"))
    finally:
        d.set_window_size(1366, 900)
