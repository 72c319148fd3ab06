"""Issue 14: a Chinese page shows no English code value, no 6-decimal number and no machine path.

One small run (2 units, every inspection) and every HTML page and xlsx workbook it leaves is
scanned for the data's code values in English (``unregistered``, ``special``, ``out``, ``medium``
…, as a whole cell or as a word in Chinese text), numbers printed with six decimals
(``1000.000000``) and absolute paths (the run's own folder, ``/home/``, ``/tmp/``, ``/work/``).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.ingest.load import ingest
from auditlib.synth.county import generate

pytestmark = pytest.mark.batch

#: code values of the data and the engine that a Chinese page must name in Chinese
ENGLISH_VALUES = {
    "unregistered", "after_closure", "zero_balance", "basic", "special", "other", "in", "out",
    "high", "medium", "low", "close", "acceptable", "marginal", "nonconformity",
    "open", "confirmed", "dismissed", "rectified", "idle_funds", "slush_funds", "delayed_payments", "overview",
}
#: the database's tables, which a page's 数据来源 names in Chinese (checked on the HTML pages)
TABLE_NAMES = {"units", "accounts", "budget", "payments", "ledger", "bank_txns"}
_WORD = re.compile(r"(?<![A-Za-z0-9_./:-])(" + "|".join(sorted(ENGLISH_VALUES, key=len, reverse=True))
                   + r")(?![A-Za-z0-9_./:-])")
_CJK = re.compile(r"[\u4e00-\u9fff]")
SIX_DECIMALS = re.compile(r"\d\.\d{6}\b")
ABSOLUTE = ("/home/", "/tmp/", "/work/")


def offences(text: str, run_dir: Path, names=frozenset()) -> list[str]:
    """What is wrong with one piece of page text (a cell, a text node or a title); ``names``: more
    English names that may not stand as a whole text."""
    found = []
    s = text.strip()
    if s in ENGLISH_VALUES or s in names or (_CJK.search(s) and _WORD.search(s)):
        found.append("English code value")
    if SIX_DECIMALS.search(s):
        found.append("six decimals")
    if str(run_dir) in s or str(run_dir.resolve()) in s or any(p in s for p in ABSOLUTE):
        found.append("absolute path")
    return found


def html_texts(page: Path):
    """The visible text nodes and the title of a page; then its markup (attributes too) without
    inline images, for paths."""
    raw = page.read_text(encoding="utf-8")
    body = re.sub(r"<(style|script)\b.*?</\1>", "", raw, flags=re.S | re.I)
    body = re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "", body)
    for node in re.split(r"<[^>]+>", body):
        yield html.unescape(node)
    for alt in re.findall(r"""\balt="([^"]*)\"""", body):
        yield html.unescape(alt)


def html_markup_paths(page: Path, run_dir: Path) -> list[str]:
    raw = re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "", page.read_text(encoding="utf-8"))
    return [p for p in (str(run_dir), str(run_dir.resolve()), *ABSOLUTE) if p in raw]


def _decimals(number_format: str) -> int:
    """How many decimals a number format shows (``#,##0.00`` -> 2, ``General`` -> -1)."""
    if not number_format or number_format == "General":
        return -1
    m = re.search(r"\.([0#]+)", number_format)
    return len(m.group(1)) if m else 0


def xlsx_texts(book: Path):
    """Every cell as it reads: text as written, a number as its format shows it."""
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                if isinstance(v, float):
                    places = _decimals(c.number_format)
                    yield f"{ws.title}!{c.coordinate}", (repr(v) if places < 0 else f"{v:.{places}f}")
                else:
                    yield f"{ws.title}!{c.coordinate}", str(v)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("pages")
    generate(base / "data", units=8, seed=2024)
    ingest(base / "data", base / "audit.duckdb")
    result = CliRunner().invoke(main, ["run", "--db", str(base / "audit.duckdb"), "--out", str(base / "out"),
                                       "--run-id", "pages", "--units", "001,002", "--no-progress"])
    assert result.exit_code == 0, result.output
    return base / "out" / "pages"


def test_no_english_code_value_six_decimals_or_path_on_a_page(run_dir):
    pages = sorted(run_dir.rglob("*.html"))
    books = sorted(run_dir.rglob("*.xlsx"))
    # index, overview, 2 units × 3 reports; 2 × 3 workbooks (and the county's, at the run's root)
    assert len(pages) >= 8 and len([b for b in books if b.parent != run_dir]) == 6
    bad = []
    for page in pages:
        rel = page.relative_to(run_dir)
        for text in html_texts(page):
            for what in offences(text, run_dir, TABLE_NAMES):
                bad.append(f"{rel}: {what}: {text.strip()[:120]!r}")
        for path in html_markup_paths(page, run_dir):
            bad.append(f"{rel}: absolute path in the markup: {path!r}")
    for book in books:
        rel = book.relative_to(run_dir)
        for where, text in xlsx_texts(book):
            for what in offences(text, run_dir, TABLE_NAMES):
                bad.append(f"{rel} {where}: {what}: {text.strip()[:120]!r}")
    for where, text in docx_texts(run_dir / "county-report.docx"):
        for what in offences(text, run_dir, TABLE_NAMES):
            bad.append(f"county-report.docx {where}: {what}: {text.strip()[:120]!r}")
    assert not bad, "\n".join(bad)


def docx_texts(path: Path):
    """Every paragraph and table cell of a Word document, with where it stands."""
    import docx

    doc = docx.Document(str(path))
    for i, par in enumerate(doc.paragraphs):
        yield f"paragraph {i + 1}", par.text
    for t, tbl in enumerate(doc.tables):
        for r, row in enumerate(tbl.rows):
            for c, cell in enumerate(row.cells):
                yield f"table {t + 1} cell ({r + 1}, {c + 1})", cell.text


def test_the_scan_catches_what_it_looks_for(run_dir):
    """The scanner itself: each kind of offence is caught, the Chinese forms pass."""
    assert offences("unregistered", run_dir) and offences("out", run_dir) and offences("medium", run_dir)
    assert offences("检查事项 小金库（slush_funds）", run_dir)
    assert offences("会议费 10000.00 元为 1000.000000 元整数倍", run_dir)
    assert offences(f"数据库 {run_dir}/audit.duckdb", run_dir) and offences("/work/main/notebooks", run_dir)
    assert not offences("未在财政登记", run_dir) and not offences("会议费 10000.00 元为 1000.00 元整数倍", run_dir)
    assert not offences("payments.xlsx:26", run_dir) and not offences("Nigrini, Benford's Law (2012)", run_dir)


def test_tab_titles_are_chinese(run_dir):
    def title(page: Path) -> str:
        return html.unescape(re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S).group(1))

    assert title(run_dir / "overview.html") == "本批次总览"  # 2 of 8 units: not the county
    for page in (run_dir / "001").glob("*.html"):
        assert _CJK.search(title(page)) and "001" in title(page) and page.stem not in title(page), page
    assert "小金库" in title(run_dir / "001" / "slush_funds.html")
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert ">本批次总览</a>" in index
    assert not re.search(r"<dd>\d{4}-\d\d-\d\dT", index)  # local time with the zone, not UTC ISO
    assert re.search(r"<dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+-]\d\d:\d\d</dd>", index)


# ---- issue 14 "the look": formatted HTML, aligned tables, a way back to the index ----------------------
_MONEY = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d\d$")


def _reports_and_overview(run_dir: Path) -> list[Path]:
    return [p for p in sorted(run_dir.rglob("*.html")) if p.name != "index.html"]


def test_no_print_dump_on_a_report_or_the_overview(run_dir):
    """Everything is displayed as formatted HTML: no ``<pre>`` output block (a print, a warning)."""
    pages = _reports_and_overview(run_dir)
    assert len(pages) >= 7  # the overview and 2 units × 3 reports
    dumps = [str(p.relative_to(run_dir)) for p in pages if "<pre" in p.read_text(encoding="utf-8").lower()]
    assert not dumps, dumps
    overview = (run_dir / "overview.html").read_text(encoding="utf-8")
    assert overview.count("涉及资金（去重）") == 1  # the summary is shown once


def test_every_table_aligns_text_left_and_numbers_right(run_dir):
    from bs4 import BeautifulSoup

    checked = {"left": 0, "right": 0}
    bad = []
    for page in _reports_and_overview(run_dir):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for td in soup.select("table td"):
            text = td.get_text(strip=True)
            style = td.get("style", "").replace(" ", "")
            want = "right" if _MONEY.match(text) else "left" if _CJK.search(text) else None
            if want is None:
                continue
            checked[want] += 1
            if f"text-align:{want}" not in style:
                bad.append(f"{page.relative_to(run_dir)}: {text!r} is not {want}-aligned ({style!r})")
    assert checked["left"] > 50 and checked["right"] > 20, checked
    assert not bad, "\n".join(bad[:20])


def test_each_report_and_the_overview_link_back_to_the_index(run_dir):
    from bs4 import BeautifulSoup

    for page in _reports_and_overview(run_dir):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        links = soup.select("nav.auditlib-back a")
        assert len(links) == 1, page
        href = links[0]["href"]
        assert not href.startswith(("/", "file:", "http")), href  # relative: works wherever the run is copied
        assert (page.parent / href).resolve() == (run_dir / "index.html").resolve(), (page, href)
