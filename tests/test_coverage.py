"""CONTRACT §3 "not tested": a rule whose input is missing for a unit says 未检查 with the reason in
every output (engine, report, workbook, index, county report, manifest), never 未发现疑点."""
from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal

import openpyxl
import pytest

from auditlib.batch.manifest import Manifest
from auditlib.outputs.index_page import page_context
from auditlib.outputs.workbook import write_workbook
from auditlib.rules import coverage
from auditlib.rules.catalogue import all_rules
from auditlib.rules.engine import inspect
from auditlib.rules.params import load_params
from auditlib.views import report as report_module
from test_rules import make_db, pay, txn

D = dt.date


@pytest.fixture()
def no_acceptance(tmp_path):
    """Unit 001 has acceptance dates; unit 002's payments never say when the work was accepted."""
    payments = [pay("A1", unit_code="001", payee_is_sme=True, accepted_on=D(2024, 3, 1), paid_on=D(2024, 6, 1),
                    amount=Decimal("50000.00"), requested_on=D(2024, 5, 30)),
                pay("B1", unit_code="002", payee_is_sme=True, paid_on=D(2024, 6, 1), amount=Decimal("50000.00"),
                    requested_on=D(2024, 5, 30)),
                pay("B2", unit_code="002", payee_is_sme=True, amount=Decimal("80000.00"))]
    units = [{"unit_code": "001", "unit_name": "县教育局"}, {"unit_code": "002", "unit_name": "县卫健委"}]
    return make_db(tmp_path / "a.duckdb", units=units, payments=payments)


@pytest.fixture()
def enterprise_chart(tmp_path):
    """A unit keeping enterprise books (1221 other receivables, 2241 other payables) beside bank lines."""
    ledger = [{"unit_code": "001", "voucher_date": D(2024, 5, i), "voucher_no": f"记-{i}", "line_no": 1,
               "account_code": code, "summary": "房租收入", "debit": None, "credit": Decimal("90000.00"),
               "counterparty": "某某公司"}
              for i, code in ((1, "1221"), (2, "2241"), (3, "2241"))]
    bank = [txn("T1", "A-1", D(2024, 5, 2), inflow=Decimal("90000.00"), balance=Decimal("90000.00"))]
    return make_db(tmp_path / "e.duckdb", units=[{"unit_code": "001", "unit_name": "县国资公司"}],
                   accounts=[{"unit_code": "001", "account_no": "A-1", "account_type": "basic"}],
                   ledger=ledger, bank_txns=bank)


def _gaps(result, unit):
    u = result.untested
    return dict(zip(u.loc[u["unit_code"] == unit, "rule_id"], u.loc[u["unit_code"] == unit, "reason_zh"]))


def test_every_rule_declares_its_input():
    for rule in all_rules():
        if rule.query is None:
            continue
        assert rule.needs, rule.id
        for need in rule.needs:
            for alt in need.split("|"):
                table, column = alt.split(".")
                from auditlib.ingest.schema import TABLES
                assert column in [c.name for c in TABLES[table].columns], (rule.id, alt)
    assert {"1002", "1011"} <= set(next(r for r in all_rules() if r.id == "SF02").accounts)


def test_missing_acceptance_date_leaves_dp01_dp02_untested_for_that_unit_only(no_acceptance):
    result = inspect(no_acceptance, "delayed_payments")
    gaps = _gaps(result, "002")
    assert {"DP01", "DP02"} <= set(gaps)
    assert "accepted_on" in gaps["DP01"] and "accepted_on" in gaps["DP02"]
    assert "DP04" not in gaps  # requested_on and paid_on are there
    assert not {"DP01", "DP02"} & set(_gaps(result, "001"))
    en = result.untested.set_index(["unit_code", "rule_id"]).loc[("002", "DP01"), "reason_en"]
    assert "accepted_on" in en


def test_report_says_untested_never_no_leads(no_acceptance, monkeypatch):
    shown = []
    monkeypatch.setattr(report_module, "show", lambda html, **kw: shown.append(html))
    rep = report_module.Report.open(str(no_acceptance), "002", "delayed_payments")
    text = rep.summary_text()
    assert "DP01: 未检查（缺少 accepted_on）" in text
    assert "DP04: 0 / " in text  # a rule that ran still reads as a count
    rep.rule("DP01", chart=False)
    assert "未检查（缺少 accepted_on）" in shown[-1] and "未发现" not in shown[-1]
    rep.rule("DP04", chart=False)
    assert "未发现疑点" in shown[-1]  # it ran and found nothing
    frame = rep.summary_frame()
    assert frame.iloc[0, 2] == "未检查（缺少 accepted_on）"
    concl = rep.conclusion_text()
    assert not concl.startswith("本次检查未发现") and "DP01" in concl and "DP02" in concl
    rep.header()
    assert "未检查的规则" in shown[-1] and "accepted_on" in shown[-1]
    # the unit whose data hold the dates: no 未检查 for DP01
    other = report_module.Report.open(str(no_acceptance), "001", "delayed_payments", lang="en")
    assert "DP01: 1 / " in other.summary_text() or "DP01: 0 / " in other.summary_text()
    assert "Not tested" not in other.summary_text().split("DP02")[0]


def test_enterprise_chart_of_accounts_untested_and_warned(enterprise_chart):
    result = inspect(enterprise_chart, "slush_funds")
    gaps = _gaps(result, "001")
    assert {"SF02", "SF03", "SF11"} <= set(gaps)
    assert "1002/1011" in gaps["SF02"]
    assert "SF02" not in set(result.findings["rule_id"])  # no bank line "not in the books" from foreign books
    assert "SF03" not in set(result.findings["rule_id"])
    assert "IF04" in _gaps(inspect(enterprise_chart, "idle_funds"), "001")
    con = __import__("auditlib.db", fromlist=["connect"]).connect(enterprise_chart)
    try:
        warnings = coverage.data_warnings(con, 2024, D(2024, 12, 31), all_rules())
        assert any("科目表" in zh and "chart of accounts" in en for zh, en in warnings)
        assert any("不是全年" in zh for zh, _ in warnings)  # May only, not the whole year
        assert any("没有 2023 年度" in zh for zh, _ in coverage.data_warnings(con, 2023, D(2023, 12, 31)))
    finally:
        con.close()


def test_government_chart_gives_no_account_gaps(tmp_path):
    ledger = [{"unit_code": "001", "voucher_date": D(2024, 5, 1), "voucher_no": "记-1", "line_no": 1,
               "account_code": "100201", "debit": Decimal("1.00"), "credit": Decimal("1.00"), "counterparty": "x", "summary": "s"}]
    db = make_db(tmp_path / "g.duckdb", units=[{"unit_code": "001", "unit_name": "x"}], ledger=ledger)
    gaps = _gaps(inspect(db, "slush_funds"), "001")
    assert "SF03" not in gaps and "SF11" not in gaps  # the government chart, merely no such lines


def test_workbook_and_manifest_and_index_say_untested(no_acceptance, tmp_path):
    result = inspect(no_acceptance, "delayed_payments")
    path = write_workbook(tmp_path / "w.xlsx", unit_code="002", unit_name="县卫健委", inspection="delayed_payments",
                          findings=result.findings, evidence=result.evidence, params=load_params(), run_id="r",
                          sources=[], untested=result.untested)
    wb = openpyxl.load_workbook(path)
    texts = ["".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
             for ws in wb.worksheets]
    assert any("未检查（缺少 accepted_on）" in x and "未发现" not in x for x in texts[2:])  # DP01's own sheet
    assert "未检查（缺少所需数据" in texts[0] and "DP01（缺少 accepted_on）" in texts[0]  # the cover's conclusion
    assert "运用上述规则未发现疑点" not in texts[0]

    # the batch's hand-off records each task's rules not tested, and the index shows them
    from auditlib.batch.manifest import task_record
    from auditlib.batch.options import RunOptions
    from auditlib.batch.run import _hand_off
    params = load_params()
    options = RunOptions(db=no_acceptance, notebooks=tmp_path / "nbs", out=tmp_path / "out", lang="zh")
    tasks = [task_record(u, "", "delayed_payments", u) for u in ("001", "002")]
    manifest = Manifest.new(tmp_path, "r", options, params, [], tasks)
    plan = types.SimpleNamespace(options=options, params=params, inspections=["delayed_payments"], decisions={},
                                 baseline=None, units=["001", "002"])
    _hand_off(plan, tmp_path / "work", manifest)
    saved = Manifest.load(tmp_path).data
    by = {x["unit_code"]: x for x in saved["tasks"]}
    assert {u["rule_id"] for u in by["002"]["untested"]} >= {"DP01", "DP02"}
    assert "accepted_on" in next(u for u in by["002"]["untested"] if u["rule_id"] == "DP01")["reason_zh"]
    assert not {"DP01", "DP02"} & {u["rule_id"] for u in by["001"]["untested"]}
    assert isinstance(saved["coverage_warnings"], list)
    for x in saved["tasks"]:
        x["status"] = "ok"
    ctx = page_context(tmp_path, saved, "zh")
    cell = next(r for r in ctx["rows"] if r["unit_code"] == "002")["cells"][0]
    assert "条规则未检查" in cell["untested"] and "DP01" in cell["untested_list"]
    from auditlib.outputs.index_page import render_index
    saved["coverage_warnings"] = [{"zh": "数据中没有 2024 年度的记录<b>", "en": "x"}]
    html = render_index(tmp_path, saved, "zh")
    assert cell["untested"] in html and "条规则未检查" in html and "缺少 accepted_on" in html and "数据中没有 2024 年度的记录&lt;b&gt;" in html


def test_county_report_lists_untested_rules(tmp_path):
    import docx
    import pandas as pd

    from auditlib.outputs.county_data import CountyInput
    from auditlib.outputs.county_report import write_county_report
    from auditlib.rules.engine import FINDING_COLUMNS
    inp = CountyInput(run_id="r", lang="zh", findings=pd.DataFrame(columns=FINDING_COLUMNS + ["status"]),
                      units={"002": "县卫健委"}, inspections=("delayed_payments",), as_of="2024-12-31",
                      fiscal_year=2024,
                      untested=({"unit_code": "002", "inspection": "delayed_payments", "rule_id": "DP01",
                                 "reason_zh": "缺少 accepted_on", "reason_en": "no accepted_on"},),
                      coverage_warnings=({"zh": "数据中没有 2024 年度的记录", "en": "no row in 2024"},))
    path = write_county_report(inp, tmp_path / "county-report.docx")
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "002 DP01（缺少 accepted_on）" in text and "数据中没有 2024 年度的记录" in text
    assert "本批次未发现疑点" not in text.replace("已运行的规则本批次未发现疑点", "")


def test_overview_names_the_units_a_rule_could_not_test(no_acceptance):
    from auditlib.views.overview import Overview
    ov = Overview.open(str(no_acceptance))
    frame = ov.per_rule_frame().set_index(ov.per_rule_frame().columns[0])
    column = "未检查单位（缺少数据）"
    assert frame.loc["DP01", column] == "002" and frame.loc["DP02", column] == "002"
