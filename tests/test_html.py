"""Reviewer pages: reports that never reach another host, and an index that escapes what it shows."""
from __future__ import annotations

import json

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
