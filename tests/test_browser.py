"""A real browser reads the run from disk with the network off.

Headless Chromium from Debian (``/usr/bin/chromium``, installed by ``make browser``),
driven by Playwright (which never downloads a browser here).  Screenshots of each kind of
page (index, report, overview) are kept in ``tests/output/browser/`` for a person to look at,
and checked not to be blank; a report printed to PDF (A4) has text on its first page and
starts each rule on a new page.
"""
from __future__ import annotations

import difflib
import io
import logging
import unicodedata
from pathlib import Path

import numpy
import pytest

from auditlib.batch.run import run

pytestmark = pytest.mark.batch
SHOTS = Path(__file__).resolve().parent / "output" / "browser"


@pytest.fixture(scope="module")
def run_dir(sample_db, tmp_path_factory):
    result = run(sample_db, units=["001", "002"], out=tmp_path_factory.mktemp("browser"), run_id="b1",
                 workers=2, progress=False)
    assert result.exit_code == 0, result.failed
    return result.run_dir


@pytest.fixture(scope="module")
def page(offline_page):
    return offline_page


def _foreign(urls):
    return [u for u in urls if not u.startswith(("file:", "data:", "about:"))]


def _images_loaded(page) -> list[bool]:
    return page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")


def _screenshot(page, name: str) -> Path:
    """A full-page screenshot in :data:`SHOTS`, checked to show a page (not a blank or a flat
    colour): a sizeable PNG with many colours and a good share of non-white pixels."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    image = Image.open(path).convert("RGB")
    width, height = image.size
    assert width >= 1000 and height >= 600, (name, image.size)
    pixels = numpy.asarray(image.resize((width // 4, height // 4))).reshape(-1, 3)
    colours = len(numpy.unique(pixels, axis=0))
    inked = float((pixels.min(axis=1) < 200).mean())
    assert colours > 50 and inked > 0.02, (name, colours, inked)
    assert path.stat().st_size > 20_000
    return path


def _align(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).textAlign")


def _same(title: str, line: str) -> bool:
    """Whether a PDF's text line is ``title`` (a radical or two may come out as a variant form)."""
    return difflib.SequenceMatcher(None, title, line.strip()).ratio() >= 0.75


def _pdf_pages(page) -> list[str]:
    """The page printed to A4 PDF by Chromium, as each PDF page's text (NFKC: the CJK radicals
    some fonts map to read as the ordinary characters)."""
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    data = page.pdf(format="A4", print_background=True)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [unicodedata.normalize("NFKC", p.extract_text() or "") for p in pdf.pages]


def test_index_and_a_report_open_offline_in_chinese_with_charts(run_dir, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.requests.clear()
    page.goto((run_dir / "index.html").as_uri())
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    body = page.inner_text("body")
    assert "专项检查批量运行" in body and "单位 × 检查事项" in body and "沉淀资金" in body
    assert page.locator("#matrix tbody tr").count() == 2
    assert page.locator("td.task[data-status=ok]").count() == 6
    first = page.locator("td.task").first.inner_text()
    assert first.startswith("完成") and " 条 · " in first and " 元" in first, first
    _screenshot(page, "index")

    # follow the index's own link to a report
    page.locator("#matrix tbody tr").first.locator("td.task").nth(1).get_by_text("报告").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/001/slush_funds.html")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    text = page.inner_text("body")
    assert "小金库" in text and "SF02" in text and "银行收支在账簿中未找到对应记录" in text and "结论" in text
    assert "Report.open" not in text
    loaded = _images_loaded(page)
    assert len(loaded) >= 2 and all(loaded), loaded
    _screenshot(page, "report_001_slush_funds")

    page.goto((run_dir / "overview.html").as_uri())
    loaded = _images_loaded(page)
    assert loaded and all(loaded)
    _screenshot(page, "overview")
    assert _foreign(page.requests) == []


def test_tables_align_text_left_and_numbers_right(run_dir, page):
    page.goto((run_dir / "001" / "delayed_payments.html").as_uri())
    # the findings table of a rule: the evidence ref is text, the amount a number
    first = "div.auditlib-rule table.auditlib tbody tr:first-child"
    assert _align(page, f"{first} td:nth-child(3)") == "left"  # 证据行
    assert _align(page, f"{first} td:nth-child(4)") == "right"  # 金额(元)
    assert page.inner_text(f"{first} td:nth-child(4)").replace(",", "").replace(".", "").isdigit()
    assert _align(page, "table.auditlib thead th:first-child") == "left"
    page.goto((run_dir / "overview.html").as_uri())
    cells = page.locator("table.auditlib").nth(0).locator("tbody tr").first.locator("td")
    texts = [cells.nth(i).inner_text() for i in range(cells.count())]
    aligns = [cells.nth(i).evaluate("e => getComputedStyle(e).textAlign") for i in range(cells.count())]
    # 名次 1, 单位代码 (text, even though digits), 单位名称, … 金额(元)
    assert aligns[0] == "right" and aligns[1] == "left" and aligns[2] == "left" and aligns[-1] == "right", \
        list(zip(texts, aligns))
    page.goto((run_dir / "index.html").as_uri())
    assert _align(page, "#matrix tbody td:nth-child(2)") == "left"
    assert _align(page, "td.num") == "right"


def test_each_page_links_back_to_the_index(run_dir, page):
    page.goto((run_dir / "001" / "idle_funds.html").as_uri())
    page.get_by_text("返回批次索引").click()
    page.wait_for_load_state("load")
    assert page.url == (run_dir / "index.html").as_uri()
    page.goto((run_dir / "overview.html").as_uri())
    page.get_by_text("返回批次索引").click()
    page.wait_for_load_state("load")
    assert page.url == (run_dir / "index.html").as_uri()
    assert page.locator("#matrix").count() == 1


def test_a_report_prints_without_a_blank_page_one_rule_per_page(run_dir, page):
    from auditlib.rules.catalogue import rules_for

    page.goto((run_dir / "001" / "slush_funds.html").as_uri())
    texts = _pdf_pages(page)
    assert len(texts[0].strip()) > 100 and "小金库专项检查报告" in texts[0], texts[0][:200]
    assert all(t.strip() for t in texts), [i for i, t in enumerate(texts) if not t.strip()]  # no blank page
    rules = rules_for("slush_funds")
    assert len(texts) >= len(rules) + 1
    firsts = [t.strip().splitlines()[0] for t in texts]
    for rule in rules:  # each rule's heading is the first line of a page (its id, Latin, is not extracted)
        tops = [i for i, line in enumerate(firsts) if _same(rule.title("zh"), line)]
        assert len(tops) == 1, (rule.id, firsts)
    for name in ("001/idle_funds.html", "001/delayed_payments.html", "overview.html", "index.html"):
        page.goto((run_dir / name).as_uri())
        texts = _pdf_pages(page)
        assert len(texts[0].strip()) > 100 and all(t.strip() for t in texts), name
