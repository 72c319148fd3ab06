"""A rule owns everything about itself: one defined at run time shows everywhere, and every
shipped rule labels every evidence column it returns.

The toy rule below lives only in this file.  Installed in a temporary catalogue, it must appear
in the scan, the engine, the notebook report, the evidence workbook and the explore panel,
with its own query, evidence labels, chart and drill-down, and no other file changed.
"""
from __future__ import annotations

import shutil

import openpyxl
import pytest

from auditlib.batch.scan import scan
from auditlib.db import connect, query
from auditlib.outputs import charts
from auditlib.outputs.findings_csv import read_findings_csv
from auditlib.outputs.workbook import write_workbook
from auditlib.rules.catalogue import INSPECTIONS, all_rules, get_rule, rules_for, temporary_rules
from auditlib.rules.engine import inspect
from auditlib.rules.model import Rule, money
from auditlib.rules.params import load_params
from auditlib.rules.plotting import figure
from auditlib.rules.sources import fetch, source_rows

TOY_ID = "SF99"
TOY_TITLE = ("单位最大一笔支付", "Largest payment of the unit")
TOY_LABEL = ("玩具最大金额(元)", "Toy largest (yuan)")
TOY_PAYEE = ("最大支付收款人", "Payee of the largest")
TOY_CHART_TITLE = "Payments per month (toy)"
TOY_SOURCE = ("同一收款人的全部支付", "every payment to the same payee")


def toy_chart(con, unit_code, params, lang):
    """Number of the unit's payments per month."""
    df = query(con, "SELECT month(paid_on) AS m, count(*) AS n FROM payments WHERE unit_code = ? "
                    "AND paid_on <= ?::DATE GROUP BY 1 ORDER BY 1", [unit_code, params.as_of])
    if df.empty:
        return None
    fig, ax = figure()
    ax.bar(list(df["m"]), list(df["n"]))
    ax.set_title(TOY_CHART_TITLE)
    return fig


def toy_drilldown(con, unit_code, ref, evidence=None, as_of=None, fiscal_year=None):
    """The payment (generic lookup), then every payment to its payee."""
    out = source_rows(con, unit_code, ref, evidence, as_of, fiscal_year)
    return out + fetch(con, "payments", *TOY_SOURCE,
                       "SELECT * FROM payments WHERE unit_code = ? AND payee_name = ? ORDER BY paid_on",
                       [unit_code, evidence["toy_payee"]])


TOY = Rule(
    TOY_ID, "slush_funds", *TOY_TITLE, "（测试用）",
    (money("min_amount", 1000, "金额下限(元)", "minimum amount (yuan)"),),
    query="""
        WITH y AS (
            SELECT y.*, row_number() OVER (PARTITION BY y.unit_code ORDER BY y.amount DESC, y.payment_id) AS rn
            FROM payments y JOIN p USING (unit_code)
            WHERE y.paid_on <= p.as_of AND y.amount >= p.min_amount)
        SELECT unit_code, 'payments:' || payment_id AS ref, amount, 'low' AS severity,
               printf('单位最大一笔支付 %s 元', amount::VARCHAR) AS detail,
               payee_name AS toy_payee, amount AS toy_largest, _file, _line
        FROM y WHERE rn = 1""",
    check_zh="每个单位金额最大的一笔支付。", check_en="The largest payment of each unit.",
    columns={"toy_largest": TOY_LABEL, "toy_payee": TOY_PAYEE},
    chart=toy_chart, drilldown=toy_drilldown)


@pytest.fixture
def db(sample_db, tmp_path):
    """A private copy of the sample county (scan writes an audit log beside the database)."""
    copy = tmp_path / "audit.duckdb"
    shutil.copy(sample_db, copy)
    return copy


@pytest.fixture
def toy():
    with temporary_rules(TOY):
        yield TOY


def test_the_temporary_catalogue_comes_and_goes():
    before = all_rules()
    with temporary_rules(TOY) as rules:
        assert rules[-1] is TOY and all_rules() == rules
        assert get_rule(TOY_ID) is TOY and TOY in rules_for("slush_funds")
        assert TOY_ID in load_params().rules  # its parameters have defaults, and may be set in a file
        with pytest.raises(ValueError, match=TOY_ID):
            with temporary_rules(TOY):
                pass
    assert all_rules() == before
    with pytest.raises(KeyError):
        get_rule(TOY_ID)
    with pytest.raises(ValueError, match="nowhere"):
        with temporary_rules(Rule("XX01", "nowhere", "x", "x", "")):
            pass


def test_toy_rule_runs_in_the_engine_and_the_scan(db, tmp_path, toy):
    ins = inspect(db, "slush_funds")
    ev = ins.evidence[TOY_ID]
    con = connect(db)
    try:
        units = query(con, "SELECT DISTINCT unit_code FROM payments WHERE amount >= 1000")["unit_code"]
    finally:
        con.close()
    assert sorted(ev["unit_code"]) == sorted(units)
    assert {"toy_largest", "toy_payee"} <= set(ev.columns)
    assert (ins.findings["rule_id"] == TOY_ID).sum() == len(ev)
    assert set(ins.findings.loc[ins.findings["rule_id"] == TOY_ID, "title"]) == {TOY_TITLE[0]}

    result = scan(db, out=tmp_path / "findings.csv", run_id="toy")
    assert result.counts[TOY_ID] == len(ev)
    rows = read_findings_csv(tmp_path / "findings.csv")
    assert sorted(rows.loc[rows["rule_id"] == TOY_ID, "ref"]) == sorted(ev["ref"])


def test_toy_rule_in_the_notebook_report(db, toy, monkeypatch):
    import IPython.display

    from auditlib.views import report as report_module
    from auditlib.views.report import Report

    shown, images = [], []
    monkeypatch.setattr(report_module, "show", shown.append)
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: images.append(obj))
    report = Report.open(str(db), "001", "slush_funds")
    assert report.rules[-1] is TOY
    assert f"  {TOY_ID}: 1 / " in report.summary_text()
    for rule in report.rules:  # what the notebook's loop does
        report.rule(rule.id)
    headings = [h for h in shown if h.startswith("<h2>")]
    assert len(headings) == len(rules_for("slush_funds"))  # one heading per rule
    toy_html = next(h for h in shown if h.startswith(f"<h2>{TOY_ID} "))
    assert TOY_TITLE[0] in toy_html and "每个单位金额最大的一笔支付。" in toy_html and "发现疑点 1 条" in toy_html
    assert any(getattr(i, "metadata", {}).get("alt") == TOY_CHART_TITLE for i in images)
    assert TOY_ID in report.conclusion_text()


def test_toy_rule_in_the_evidence_workbook(db, tmp_path, toy):
    ins = inspect(db, "slush_funds", unit="001")
    for lang, (label, payee) in (("zh", (TOY_LABEL[0], TOY_PAYEE[0])), ("en", (TOY_LABEL[1], TOY_PAYEE[1]))):
        path = write_workbook(tmp_path / f"{lang}.xlsx", unit_code="001", unit_name="x", inspection="slush_funds",
                              findings=ins.findings, evidence=ins.evidence, params=ins.params, run_id="toy",
                              sources=[], lang=lang)
        wb = openpyxl.load_workbook(path)
        assert TOY_ID in wb.sheetnames  # the rule sheet, and its own columns on the detail sheet beside it
        values = {c.value for name in wb.sheetnames if name.startswith(TOY_ID)
                  for row in wb[name].iter_rows() for c in row}
        assert {label, payee} <= values
        assert not {"toy_largest", "toy_payee"} & values
        summary = {c.value for row in wb.worksheets[1].iter_rows() for c in row}
        assert TOY_ID in summary and TOY.title(lang) in summary


def test_toy_rule_in_the_explore_panel(db, tmp_path, toy):
    from auditlib.views.explore import ALL, Explorer

    ex = Explorer(db, lang="zh", out_dir=tmp_path / "explore")
    ex.unit.value = "001"
    ex.inspection.value = "slush_funds"
    assert [v for _, v in ex.rule.options][-1] == TOY_ID and ex.rule.options[0][1] == ALL
    ex.rule.value = TOY_ID
    assert ex.param_box.children == (ex.controls[TOY_ID]["min_amount"],)
    assert list(ex.findings["rule_id"]) == [TOY_ID]
    f, ev, sources = ex.drilldown(0)
    assert ev["toy_largest"] == f["amount"]
    assert [s.label("zh") for s in sources] == ["支付记录", TOY_SOURCE[0]]
    assert set(sources[1].rows["payee_name"]) == {ev["toy_payee"]}
    fig = ex.chart_figure(TOY_ID)
    assert fig is not None and fig.axes[0].get_title() == TOY_CHART_TITLE
    assert ex.chart.layout.display is None and ex.chart.value  # the chart is on screen
    ex.controls[TOY_ID]["min_amount"].value = 10**9  # live recount with the toy's own control
    assert ex.findings.empty
    ex.controls[TOY_ID]["min_amount"].value = 1000
    wb = openpyxl.load_workbook(ex.export_workbook())
    assert TOY_LABEL[0] in {c.value for name in wb.sheetnames if name.startswith(TOY_ID)
                            for row in wb[name].iter_rows() for c in row}


def test_a_rule_without_a_chart_draws_nothing(db):
    assert charts.draw(db, "no-such-rule", "001", load_params(), "zh") is None
    plain = [r for r in all_rules() if r.chart is None][0]
    assert charts.draw(db, plain.id, "001", load_params(), "zh") is None


def test_every_evidence_column_of_every_rule_has_zh_and_en_labels(sample_db):
    """Run every rule on the synthetic county; each column it returns is labelled by the rule."""
    for inspection in INSPECTIONS:
        ins = inspect(sample_db, inspection)
        for rule in rules_for(inspection):
            ev = ins.evidence[rule.id]
            assert len(ev), f"{rule.id}: the synthetic county plants no case"
            assert rule.unlabelled(ev.columns) == [], f"{rule.id}: evidence columns without a zh/en label"
            for column in ev.columns:
                zh, en = rule.labels(column)
                assert zh and en and zh != column
    assert Rule("XX01", "slush_funds", "x", "x", "", columns={"a": ("甲", "A")}).unlabelled(
        ["ref", "a", "b"]) == ["b"]
