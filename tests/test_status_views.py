"""Statuses and changes (CONTRACT §6) in the reader's pages: the notebook report, the overview and
the index. 待核实/属实/排除/已整改 shown beside each finding, 排除 listed collapsed with its reason and
counted in no total, new / persisting / resolved against a baseline; hostile 核实说明 stays inert."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from auditlib.outputs.findings_csv import write_findings_csv
from auditlib.outputs.index_page import page_context, write_index
from auditlib.views import report as report_module
from test_rules import make_db, pay

SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://evil.example","y")'


@pytest.fixture()
def db(tmp_path):
    payments = [pay(f"M{i}", expense_type="会议费", amount=Decimal(a), paid_on=dt.date(2024, 3, 4 + i))
                for i, a in enumerate(("10000.00", "12000.00", "15000.00", "20000.00"))]
    return make_db(tmp_path / "v.duckdb", units=[{"unit_code": "001", "unit_name": "县教育局"}], payments=payments)


def _decide(findings, statuses, reasons=None, amounts=None):
    """The findings as apply_register gives them, SF07's decided by position."""
    f = findings.copy()
    n = len(f)
    f["status"] = "open"
    f["status_reason"] = ""
    f["confirmed_amount"] = pd.Series([None] * n, index=f.index, dtype=object)
    f["decided_by"] = ""
    sf07 = f.index[f["rule_id"] == "SF07"]
    for i, idx in enumerate(sf07[:len(statuses)]):
        f.at[idx, "status"] = statuses[i]
        f.at[idx, "status_reason"] = (reasons or [""] * len(statuses))[i]
        f.at[idx, "confirmed_amount"] = (amounts or [None] * len(statuses))[i]
        f.at[idx, "decided_by"] = "张三"
    return f


@pytest.fixture()
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(report_module, "show", out.append)
    return out


def test_report_without_register_reads_as_before(db, shown):
    rep = report_module.Report.open(str(db), "001", "slush_funds")
    assert not rep.verified and not rep.compared
    text = rep.summary_text()
    assert text.splitlines()[0].startswith("001 小金库：发现疑点 ") and "核实" not in text
    rep.rule("SF07", chart=False)
    page = shown[-1]
    assert "待核实" in page and "疑点编号" in page and "<details" not in page
    assert "open" not in page  # statuses in Chinese words on a Chinese page


def test_report_shows_statuses_and_leaves_dismissed_out_of_totals(db, shown):
    rep = report_module.Report.open(str(db), "001", "slush_funds")
    sf07 = rep.findings[rep.findings["rule_id"] == "SF07"]
    assert len(sf07) == 4
    decided = _decide(rep.findings, ["confirmed", "dismissed", "rectified"],
                      reasons=["经核实属实", SCRIPT + FORMULA, "已收回"], amounts=[Decimal("9000.00"), None, None])
    rep = dataclasses.replace(rep, findings=decided)
    assert rep.verified
    rep.header = lambda: None  # no database coverage needed here
    rep.rule("SF07", chart=False)
    page = shown[-1]
    table_part, details = page.split("<details", 1)
    for word in ("属实", "已整改", "待核实"):
        assert word in table_part
    assert "排除 1 条（不计入合计）" in details and "张三" in details
    assert "<script>" not in page and "&lt;script&gt;" in details  # the reason is escaped
    dismissed_ref = decided.loc[decided["status"] == "dismissed", "ref"].iloc[0]
    assert dismissed_ref not in table_part and dismissed_ref in details
    # totals: the dismissed 12,000.00 in none; 属实 at its 认定金额
    text = rep.summary_text()
    assert "  SF07: 3 / 44,000.00" in text  # 属实 at its 认定金额 9,000 + 15,000 + 20,000; the 排除 12,000 in none
    assert "属实 1 / 9,000.00" in text and "排除 1（不计入合计）" in text
    concl = rep.conclusion_text()
    assert "属实的问题 1 条" in concl and "另排除 1 条，不计入合计" in concl
    assert "SF07 " in concl and "3 条，44,000.00 元" in concl
    html = rep.verification_html()
    assert "核实与整改跟踪" in html and "已消除" not in html  # no baseline


def test_report_against_a_baseline_counts_new_persisting_resolved(db, shown, tmp_path):
    rep = report_module.Report.open(str(db), "001", "slush_funds")
    decided = _decide(rep.findings, ["confirmed", "open"])
    ids = list(decided["finding_id"])
    decided["change"] = ["persisting" if i < 2 else "new" for i in range(len(decided))]
    sf07 = list(decided.index[decided["rule_id"] == "SF07"])
    decided.loc[sf07[:2], "change"] = "persisting"
    resolved = pd.DataFrame({"finding_id": ["aaaaaaaaaaaa", "bbbbbbbbbbbb"], "rule_id": ["SF07", "SF04"],
                             "unit_code": ["001", "001"], "ref": ["payments:OLD1", "bank_txns:T9"],
                             "baseline_status": ["confirmed", "open"], "baseline_exposure": ["5000.00", "60000.00"],
                             "outcome": ["rectified", "gone"]})
    # the batch hands the task its resolved rows beside its findings
    path = tmp_path / "task.pkl"
    from auditlib.batch.handoff import save_task_evidence

    save_task_evidence(path, decided, rep.evidence, resolved=resolved)
    rep = report_module.Report.open(str(db), "001", "slush_funds", evidence=str(path))
    assert rep.compared and len(rep.resolved) == 2 and list(rep.findings["finding_id"]) == ids
    counts = rep.change_counts()
    n_persisting = int((decided["change"] == "persisting").sum())
    assert counts == {"new": len(decided) - n_persisting, "persisting": n_persisting, "resolved": 2,
                      "unrectified": 1}
    text = rep.summary_text()
    assert f"新增 {counts['new']}，仍存在 {n_persisting}，已消除 2" in text and "未整改）1" in text
    html = rep.verification_html()
    assert "上次已确认、本次仍存在（未整改）" in html and "整改到位，数据复核" in html and "<details>" in html
    rep.rule("SF07", chart=False)
    assert "仍存在" in shown[-1] and "对比上次" in shown[-1]


def _run_dir(tmp_path, findings):
    run_dir = tmp_path / "run1"
    run_dir.mkdir(parents=True)
    write_findings_csv(findings, run_dir / "findings.csv", "run1")
    return run_dir


def test_overview_splits_by_status_and_shows_changes(db, tmp_path, capsys):
    from auditlib.rules.engine import inspect
    from auditlib.views.overview import Overview

    f = inspect(db, "slush_funds").findings
    plain = Overview.open(str(db), run_dir=str(_run_dir(tmp_path / "a", f)))
    assert not plain.verified and not plain.compared
    plain.summary()
    out = capsys.readouterr().out
    assert out.startswith(f"合计：1 个单位，发现疑点 {len(f)} 条") and "核实" not in out
    assert list(plain.ranking_frame().columns) == ["名次", "单位代码", "单位名称", "风险分值", "主要规则", "疑点条数",
                                                   "高风险", "金额(元)"]  # issue 14: ranked by risk score

    decided = _decide(f, ["confirmed", "dismissed"], reasons=["", FORMULA])
    decided["change"] = "persisting"
    run_dir = _run_dir(tmp_path / "b", decided)
    pd.DataFrame({"finding_id": ["aaaaaaaaaaaa"], "rule_id": ["SF07"], "unit_code": ["001"], "ref": ["payments:X"],
                  "baseline_status": ["confirmed"], "baseline_exposure": ["1.00"], "outcome": ["rectified"]}
                 ).to_csv(run_dir / "resolved.csv", index=False, encoding="utf-8-sig")
    ov = Overview.open(str(db), run_dir=str(run_dir))
    assert ov.verified and ov.compared
    ov.summary()
    out = capsys.readouterr().out
    assert out.startswith(f"合计：1 个单位，发现疑点 {len(f) - 1} 条")  # 排除 counted in no total
    assert "排除 1（不计入合计）" in out and "已消除 1" in out and "未整改）1" in out
    ranking = ov.ranking_frame().iloc[0]
    assert ranking["疑点条数"] == len(f) - 1 and ranking["属实"] == 1 and ranking["排除"] == 1
    assert ranking["已消除"] == 1 and ranking["新增"] == 0
    html = ov.verification_html()
    assert "待核实" in html and "HYPERLINK" not in html


def _manifest(with_statuses=True):
    hostile = "<script>alert('x')</script>"
    tasks = [
        {"unit_code": "001", "unit_name": hostile, "inspection": "idle_funds", "status": "ok", "findings": 5,
         "amount": "1000.00", "error": None, "html": None, "xlsx": None, "notebook": None},
        {"unit_code": "001", "unit_name": hostile, "inspection": "slush_funds", "status": "ok", "findings": 2,
         "amount": "10.00", "error": None, "html": None, "xlsx": None, "notebook": None},
        {"unit_code": "002", "unit_name": "乙", "inspection": "idle_funds", "status": "ok", "findings": 0,
         "amount": "0", "error": None, "html": None, "xlsx": None, "notebook": None},
    ]
    if with_statuses:
        tasks[0]["statuses"] = {"open": 2, "confirmed": 1, "dismissed": 1, "rectified": 1}
        tasks[0]["changes"] = {"new": 2, "persisting": 3, "resolved": 1}
        tasks[1]["statuses"] = {"open": 2, "confirmed": 0, "dismissed": 0, "rectified": 0}
        tasks[1]["changes"] = {"new": 0, "persisting": 2, "resolved": 4, "unrectified": 1}
        tasks[2]["statuses"] = {"open": 0, "confirmed": 0, "dismissed": 0, "rectified": 0}
        tasks[2]["changes"] = {"new": 0, "persisting": 0, "resolved": 0}
    return {"run_id": "r2", "started": "2025-01-01T00:00:00", "finished": "2025-01-01T00:01:00",
            "as_of": "2024-12-31", "inputs": [], "software": {"auditlib": "0.2.0"}, "overview": None,
            "register": {"path": "register.jsonl", "sha256": "f" * 64, "decisions": 7} if with_statuses else None,
            "baseline": {"path": "/runs/r1", "run_id": "r1"} if with_statuses else None, "tasks": tasks}


def test_index_shows_statuses_per_task_and_changes_per_unit(tmp_path):
    text = write_index(tmp_path, _manifest(), "zh").read_text(encoding="utf-8")
    assert "<script>" not in text
    assert '<span class="st st-open" data-status="open">待核实 2</span>' in text
    assert "属实 1" in text and "排除 1" in text and "已整改 1" in text
    assert ">open 2<" not in text and "confirmed 1" not in text
    ctx = page_context(tmp_path, _manifest(), "zh")
    assert ctx["compared"] and ctx["baseline"] == "r1"
    rows = {r["unit_code"]: r for r in ctx["rows"]}
    assert [(c["key"], c["n"]) for c in rows["001"]["changes"]] == [
        ("new", 2), ("persisting", 5), ("resolved", 5), ("unrectified", 1)]
    assert [(c["key"], c["n"]) for c in rows["002"]["changes"]] == [("new", 0), ("persisting", 0), ("resolved", 0)]
    assert [(s["status"], s["n"]) for s in ctx["statuses"]] == [("open", 4), ("confirmed", 1), ("rectified", 1),
                                                                ("dismissed", 1)]
    assert "对比上次" in text and "新增 2" in text and "已消除 5" in text and "7 条核实记录" in text


def test_index_without_register_or_baseline_shows_neither(tmp_path):
    text = write_index(tmp_path, _manifest(with_statuses=False), "zh").read_text(encoding="utf-8")
    ctx = page_context(tmp_path, _manifest(with_statuses=False), "zh")
    assert not ctx["compared"] and not ctx["statuses"] and all(r["changes"] is None for r in ctx["rows"])
    assert "对比上次" not in text and "待核实" not in text and 'class="st ' not in text
    en = page_context(tmp_path, _manifest(), "en")
    assert [s["label"] for s in en["statuses"]] == ["open", "confirmed", "rectified", "dismissed"]


def test_findings_csv_of_a_decided_run_keeps_hostile_reasons_out(tmp_path, db):
    from auditlib.rules.engine import inspect

    f = _decide(inspect(db, "slush_funds").findings, ["dismissed"], reasons=[SCRIPT + FORMULA])
    path = write_findings_csv(f, tmp_path / "f.csv", "r")
    text = path.read_text(encoding="utf-8-sig")
    assert "HYPERLINK" not in text and "<script>" not in text and ",dismissed," in text
