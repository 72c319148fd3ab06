"""A real browser reads the run from disk with the network off.

Headless Chromium from Debian (``/usr/bin/chromium``, installed by ``make browser``),
driven by Playwright (which never downloads a browser here).  Screenshots are kept in
``tests/output/browser/`` for a person to look at.
"""
from __future__ import annotations

from pathlib import Path

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
    page.screenshot(path=str(SHOTS / "index.png"), full_page=True)

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
    page.screenshot(path=str(SHOTS / "report_001_slush_funds.png"), full_page=True)

    page.goto((run_dir / "overview.html").as_uri())
    loaded = _images_loaded(page)
    assert loaded and all(loaded)
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
    assert _foreign(page.requests) == []
