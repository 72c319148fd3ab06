"""Reviewer pages: reports that never reach another host, and an index that escapes what it shows."""
from __future__ import annotations

import json
import re

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from auditlib.outputs.html_export import export_html, external_urls
from auditlib.outputs.index_page import page_context, write_index


def test_external_urls_finds_every_kind_of_request():
    html = """<script src="https://cdn.example.com/require.js"></script>
              <link rel="stylesheet" href="//fonts.example.net/a.css">
              <img srcset='http://img.example.org/x.png 2x'>
              <style>@import "https://x.example/y.css"; .a { background: url(http://bg.example/b.png) }</style>"""
    assert external_urls(html) == ["https://cdn.example.com/require.js", "//fonts.example.net/a.css",
                                   "http://img.example.org/x.png", "https://x.example/y.css",
                                   "http://bg.example/b.png"]


def test_external_urls_ignores_inline_data_and_plain_text():
    html = """<img src="data:image/png;base64,iVBORw0KGgo="><a href="001/idle_funds.html">报告</a>
              <p>see https://example.com in the memo</p><svg xmlns="http://www.w3.org/2000/svg"></svg>"""
    assert external_urls(html) == []


def _notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# 沉淀资金"),
        new_code_cell("secret_code_here = 1", outputs=[new_output(
            "display_data", data={"text/html": "<p>摘要 &lt;script&gt;alert(1)&lt;/script&gt;</p>",
                                  "text/plain": "x"})]),
        new_code_cell("$x^2$ math", outputs=[new_output("display_data", data={"text/markdown": "$x^2$"})]),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json":
                              {"state": {}, "version_major": 2, "version_minor": 0}}
    return nb


def test_export_html_drops_code_and_cdn_scripts(tmp_path):
    out = export_html(_notebook(), tmp_path / "r.html", lang="zh", title="报告")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in text
    assert "secret_code_here" not in text
    assert "沉淀资金" in text and "&lt;script&gt;alert(1)" in text
    assert external_urls(text) == []
    assert "<script src" not in text
    assert not list(tmp_path.glob("*.part"))


def test_export_html_english_page_language(tmp_path):
    text = export_html(_notebook(), tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert '<html lang="en">' in text


def _manifest(tmp_path):
    (tmp_path / "~2e2e~2fx").mkdir()
    (tmp_path / "~2e2e~2fx" / "idle_funds.html").write_text("r", encoding="utf-8")
    (tmp_path / "overview.html").write_text("o", encoding="utf-8")
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    return {
        "run_id": "r1", "started": "2024-01-01T00:00:00", "finished": "2024-01-01T00:01:00",
        "as_of": "2024-12-31", "inputs": [{"file": hostile, "table": "payments", "rows": 3, "sha256": "a" * 64}],
        "software": {"auditlib": "0.1.0"}, "overview": {"status": "ok", "html": "overview.html"},
        "tasks": [
            {"unit_code": "../x", "unit_name": hostile, "inspection": "idle_funds", "status": "ok",
             "findings": 2, "amount": "1234567.5", "error": None, "html": "~2e2e~2fx/idle_funds.html",
             "xlsx": "~2e2e~2fx/idle_funds.xlsx", "notebook": "~2e2e~2fx/idle_funds.ipynb"},
            {"unit_code": "../x", "unit_name": hostile, "inspection": "slush_funds", "status": "failed",
             "findings": None, "amount": None, "error": "RuntimeError: <b>boom</b>", "html": None,
             "xlsx": None, "notebook": None},
        ],
    }


def test_index_escapes_links_relatively_and_lists_failures(tmp_path):
    manifest = _manifest(tmp_path)
    text = write_index(tmp_path, manifest, "zh").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and "单位 × 检查事项" in text
    assert "<script>" not in text and "<img src=x" not in text and "<b>boom</b>" not in text
    assert "&lt;script&gt;" in text and "RuntimeError: &lt;b&gt;boom&lt;/b&gt;" in text
    assert 'href="~2e2e~2fx/idle_funds.html"' in text
    assert "idle_funds.xlsx" not in text  # a file that does not exist is not linked
    assert 'href="overview.html"' in text
    assert "2 条 · 1,234,567.50 元" in text and "a" * 64 in text
    assert external_urls(text) == []
    assert not list(tmp_path.glob("*.part"))


def test_index_context_counts_tasks(tmp_path):
    ctx = page_context(tmp_path, _manifest(tmp_path), "en")
    assert ctx["n_failed"] == 1 and ctx["failures"][0]["inspection"] == "Slush funds"
    assert [i["label"] for i in ctx["inspections"]] == ["Idle funds", "Slush funds"]
    assert "2 tasks: 1 ok, 1 failed, 0 not done" == ctx["T"]["tally"]
    assert json.dumps(ctx, default=str)


# ---- issue 14: the look of the pages ---------------------------------------------------------------
def _cells(markup: str):
    """Each table cell of ``markup`` as (tag, text, its inline text-align)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    return [(c.name, c.get_text(), c.get("style", "").replace(" ", "")) for c in soup.find_all(["th", "td"])]


def test_table_aligns_text_left_and_numbers_right():
    import pandas as pd

    from auditlib.views.html import table

    df = pd.DataFrame({"单位代码": ["001", "0011"], "单位名称": ["县教育局", "<b>乡</b>"], "条数": [3, 12],
                       "金额(元)": ["1,234.50", "—"], "占比": ["12.5%", "0%"], "分值": [0.5, 1.23],
                       "日期": ["2024-12-31", ""]})
    markup = table(df)
    align = {}
    for tag, text, style in _cells(markup):
        align.setdefault(text, set()).add(style)
    for text in ("单位代码", "001", "0011", "单位名称", "县教育局", "<b>乡</b>", "日期", "2024-12-31"):
        assert align[text] == {"text-align:left"}, text  # codes and dates are text, whatever their digits
    for text in ("条数", "3", "12", "金额(元)", "1,234.50", "占比", "12.5%", "分值", "0.50", "1.23"):
        assert align[text] == {"text-align:right"}, text
    assert "<b>" not in markup and "&lt;b&gt;" in markup  # values are escaped
    assert 'class="num"' in markup and 'class="text"' in markup
    assert "<thead>" in markup and "NaN" not in table(pd.DataFrame({"a": [None, 1.5]}))


def test_table_column_kinds_can_be_forced():
    import pandas as pd

    from auditlib.views.html import column_kind, table

    assert column_kind(["1,000.00", "", None, "12.00"]) == "num"
    assert column_kind(["甲", "001"]) == "text" and column_kind(["", None]) == "text"
    assert column_kind(["1,000.00", "甲"]) == "mixed"
    mixed = _cells(table(pd.DataFrame({"取值": ["001 县教育局", "50,000.00", "20%"]})))
    assert mixed == [("th", "取值", "text-align:left"), ("td", "001 县教育局", "text-align:left"),
                     ("td", "50,000.00", "text-align:right"), ("td", "20%", "text-align:right")]
    assert column_kind([True, False]) == "text"
    markup = table(pd.DataFrame({"编号": [1, 2]}), text=["编号"])
    assert {s for _, _, s in _cells(markup)} == {"text-align:left"}


def test_display_shows_html_and_prints_its_text(capsys):
    from auditlib.views.html import Display, show

    d = Display("<p>合计</p>", "合计 3 条")
    assert d._repr_html_() == "<p>合计</p>" and repr(d) == "合计 3 条"
    show("<p>合计</p>", text="合计 3 条")  # outside a notebook: the plain text, never the markup
    assert capsys.readouterr().out.strip() == "合计 3 条"


def test_report_summary_is_a_table_with_its_text_beside(sample_db, monkeypatch):
    from auditlib.views import report as report_module

    calls = []
    monkeypatch.setattr(report_module, "show", lambda markup, **kw: calls.append((markup, kw)))
    rep = report_module.Report.open(str(sample_db), "001", "slush_funds")
    rep.summary()
    markup, kw = calls[-1]
    assert kw["text"] == rep.summary_text()
    assert "<pre" not in markup and "<table" in markup and '<tr class="total">' in markup
    rows = _cells(markup)
    assert ("td", "SF02", "text-align:left") in rows
    amounts = [(text, style) for tag, text, style in rows if tag == "td" and text.endswith(".00")]
    assert amounts and all(style == "text-align:right" for _, style in amounts)


def test_back_link_only_under_a_run(sample_db, tmp_path, monkeypatch):
    """A report of a run links to ../index.html, the overview to index.html; explored outside a
    run there is no index, so no link."""
    from auditlib.views import overview as overview_module
    from auditlib.views import report as report_module

    calls = []
    monkeypatch.setattr(report_module, "show", lambda markup, **kw: calls.append(markup))
    monkeypatch.setattr(overview_module, "show", lambda markup, **kw: calls.append(markup))
    monkeypatch.setattr(report_module.Report, "verification_html", lambda self: "")
    report_module.Report.open(str(sample_db), "001", "idle_funds").header()
    assert "index.html" not in calls[-1] and "<nav" not in calls[-1]
    report_module.Report.open(str(sample_db), "001", "idle_funds", run_id="r1").header()
    assert '<nav class="auditlib-back"><a href="../index.html">← 返回批次索引</a></nav>' in calls[-1]
    ov = overview_module.Overview.open(str(sample_db))
    ov.header()
    assert "index.html" not in calls[-1]
    import dataclasses

    dataclasses.replace(ov, in_run=True).header()
    assert '<a href="index.html">' in calls[-1]


def test_report_template_prints_without_a_blank_first_page_and_a_rule_per_page(tmp_path):
    """The print rules the report template carries (checked in a browser by test_browser)."""
    out = export_html(_notebook(), tmp_path / "r.html", lang="zh", title="报告")
    text = out.read_text(encoding="utf-8")
    css = "".join(re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S))
    assert "@media print" in css and "break-before: page" in css and "table-header-group" in css
    assert "td.num" in css and "text-align: right" in css


def test_source_column_names_the_rows_behind_a_finding_about_several(sample_db):
    """Issue 14: 来源 was empty for SF01 (an account), IF04 (a balance), DP05 (a year): it now names
    the source rows the drill-down finds, with their file and line numbers."""
    from auditlib.views.report import Report

    seen = set()
    for inspection, rule_id in (("slush_funds", "SF01"), ("idle_funds", "IF04"), ("delayed_payments", "DP05")):
        for unit in ("001", "0011", "002", "003", "004", "005", "006", "0021"):
            rep = Report.open(str(sample_db), unit, inspection)
            frame = rep.findings_frame(rule_id)
            if not len(frame):
                continue
            sources = list(frame["来源"])
            assert all(re.search(r" \d+ 行：\S+\.(csv|xlsx):\d+", s) for s in sources), (rule_id, sources)
            seen.add(rule_id)
            break
    assert seen == {"SF01", "IF04", "DP05"}


def _tricky_notebook():
    """Markdown (its text as character references), an error, escaped text, images with and
    without ``alt``, a ``>`` in text."""
    nb = new_notebook(cells=[
        new_markdown_cell("# 沉淀资金 ¶\n\n![x](data:image/png;base64,iVBORw0KGgo=) a <b>b</b> & c "
                          "<img src=\"data:image/png;base64,AA==\" /> it's \"q\" a > b"),
        new_code_cell("1/0", outputs=[
            new_output("stream", name="stdout", text="hi <x> & y 'q' \"d\"\n"),
            new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                       traceback=["\x1b[0;31m---\x1b[0m", "\x1b[0;31mZeroDivisionError\x1b[0m: <b> 'x'"]),
            new_output("display_data", data={"text/html": "<p>摘要 &lt;script&gt; <br> &#x27;q&#x27; &quot;d&quot; "
                                                          "a > b &nbsp;</p><IMG SRC='data:image/png;base64,AA=='>",
                                             "text/plain": "x"}),
            new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "x"}, metadata={"alt": "图"}),
            new_output("execute_result", data={"text/plain": "42 <tag>"}, execution_count=1),
        ]),
    ])
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def test_report_page_is_the_stock_exporters_page_without_its_reparse():
    """The exporter leaves out the stock exporter's BeautifulSoup pass: parsed again, the page is the
    stock exporter's page to the byte, and its text reads the same (no character references left)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from auditlib.outputs.html_export import TEMPLATE, TEMPLATES, render_html

    for nb in (_notebook(), _tricky_notebook()):
        for lang, code in (("zh", "zh-CN"), ("en", "en")):
            stock = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
                                 exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
            stock.language_code = code
            expected, _ = stock.from_notebook_node(nb, resources={"metadata": {"name": "报告"}})
            page = render_html(nb, lang, title="报告")
            assert str(BeautifulSoup(page, features="html.parser")) == expected
            assert page.count('tabindex="0"') == expected.count('tabindex="0"') > 0
            assert "&#" not in page[page.find("<body"):] and "&quot;" not in page[page.find("<body"):]
    page = render_html(_tricky_notebook(), "zh", title="报告")
    assert "沉淀资金" in page and 'alt="No description has been provided for this image"' in page


def test_external_urls_searches_only_where_a_url_can_be():
    """The stretches between brackets holding ``//`` give the same URLs as the whole page, in order."""
    from auditlib.outputs.html_export import _REF

    pages = ['<a href="https://x.org/a">x</a><img src = \'//cdn.y/z.png\'>', 'style="background:url( http://a.b/c)"',
             '@import "//f.g/h.css";', "src=//a>b//c<d href=http://e//f", "<p>see http://x.y</p>",
             "<style>a{} @import url(//s.t/u.css)</style><p>//</p><link href=//v.w>", "", "//"]
    for text in pages + [p * 3 for p in pages]:
        assert external_urls(text) == [m.group("url") for m in _REF.finditer(text)]
