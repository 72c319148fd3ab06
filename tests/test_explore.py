"""The explore panel driven as objects: controls from the catalogue, live recount, drill-down, buttons."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from decimal import Decimal

import ipywidgets as w
import openpyxl
import pytest
import yaml

from auditlib.rules.catalogue import all_rules, get_rule
from auditlib.rules.engine import inspect
from auditlib.views.explore import ALL, Explorer
from auditlib.rules.params import load_params
from auditlib.outputs.formats import shown_path

RULES = all_rules()


@pytest.fixture
def ex(sample_db, tmp_path):
    return Explorer(sample_db, lang="zh", out_dir=tmp_path / "explore")


def _keys(findings):
    return sorted(zip(findings["rule_id"], findings["ref"], [str(a) for a in findings["amount"]]))


def test_one_control_per_rule_parameter_from_its_type_and_range(ex):
    for rule in RULES:
        assert list(ex.controls[rule.id]) == [p.name for p in rule.params]
        for p in rule.params:
            c = ex.controls[rule.id][p.name]
            if p.type == "words":  # a tag list, one tag per literal word
                assert isinstance(c, w.TagsInput) and tuple(c.value) == p.default, (rule.id, p.name)
                continue
            kind = {"days": w.IntSlider, "count": w.BoundedIntText}.get(p.type, w.BoundedFloatText)
            assert isinstance(c, kind), (rule.id, p.name)
            assert (c.min, c.max) == (float(p.min) if kind is w.BoundedFloatText else int(p.min),
                                      float(p.max) if kind is w.BoundedFloatText else int(p.max))
            assert Decimal(repr(float(c.value))) == Decimal(str(p.default))
    assert [c for c, _ in [(o[1], o[0]) for o in ex.unit.options]] == sorted(ex.units)
    assert isinstance(ex.as_of, w.DatePicker) and ex.as_of.value == dt.date(2024, 12, 31)


def test_rule_picker_shows_that_rules_controls_and_findings(ex):
    ex.inspection.value = "slush_funds"
    assert [v for _, v in ex.rule.options] == [ALL] + [r.id for r in RULES if r.inspection == "slush_funds"]
    ex.rule.value = "SF04"
    assert ex.param_box.children == (ex.controls["SF04"]["min_amount"], ex.controls["SF04"]["words"])
    assert set(ex.findings["rule_id"]) <= {"SF04"}


def test_word_tags_recount_and_save_as_escaped_words(ex, tmp_path):
    ex.unit.value = "001"
    ex.inspection.value = "slush_funds"
    ex.rule.value = "SF04"
    before = len(ex.findings)
    assert before >= 1
    ex.controls["SF04"]["words"].value = ["工程款(预付)"]  # a tag is a literal word, brackets and all
    assert ex.params().rules["SF04"]["words"] == ("工程款(预付)",)
    assert len(ex.findings) == 0
    saved = load_params(ex.save_params(tmp_path / "p.yaml"))
    assert saved.rules["SF04"]["words"] == ("工程款(预付)",)
    ex.controls["SF04"]["words"].value = []  # a list that must hold a word keeps its default
    assert ex.params().rules["SF04"]["words"] == get_rule("SF04").param("words").default
    assert len(ex.findings) == before


def test_findings_recount_as_a_control_moves(ex, sample_db):
    ex.unit.value = "001"
    ex.inspection.value = "slush_funds"
    ex.rule.value = "SF04"
    before = len(ex.findings)
    ex.controls["SF04"]["min_amount"].value = 1000
    params = load_params()
    expected = inspect(sample_db, "slush_funds", "001",
                       dataclasses.replace(params, rules={**params.rules, "SF04": {"min_amount": Decimal(1000)}}))
    got = ex.result.findings
    assert _keys(got) == _keys(expected.findings)
    assert len(ex.findings) == (expected.findings["rule_id"] == "SF04").sum() >= before
    assert f"发现疑点 {len(ex.findings)} 条" in ex.summary.value
    ex.controls["SF04"]["min_amount"].value = 10**9
    assert len(ex.findings) == 0 and "未发现疑点" in ex.table.value


def test_cut_off_date_changes_the_findings(ex, sample_db):
    ex.inspection.value = "delayed_payments"
    ex.as_of.value = dt.date(2024, 6, 30)
    params = dataclasses.replace(load_params(), as_of=dt.date(2024, 6, 30))
    assert _keys(ex.result.findings) == _keys(inspect(sample_db, "delayed_payments", "001", params).findings)
    assert ex.params().as_of == dt.date(2024, 6, 30)


def test_unit_override_in_the_starting_file_sets_the_controls(sample_db, tmp_path):
    start = tmp_path / "start.yaml"
    start.write_text('units: {"001": {rules: {SF04: {min_amount: 20000}}}}\n', encoding="utf-8")
    ex = Explorer(sample_db, params_file=start, out_dir=tmp_path)
    assert ex.controls["SF04"]["min_amount"].value == 20000
    assert ex.params().for_unit("001")["SF04"]["min_amount"] == Decimal("20000.00")


def test_drill_down_shows_evidence_source_rows_and_chart(ex):
    ex.inspection.value = "slush_funds"
    ex.rule.value = "SF06"
    assert len(ex.findings) >= 1
    ex.finding.value = 0
    f, ev, sources = ex.drilldown(0)
    twin = str(ev["twin_ids"]).split(",")[0].strip()
    assert f["ref"] in ex.drill.value and twin in ex.drill.value
    assert [s.table for s in sources] == ["payments", "payments"]
    assert set(sources[1].rows["payment_id"]) == {twin}
    assert {"_file", "_line"} <= set(sources[0].rows.columns)
    assert ex.chart.layout.display == "none"  # SF06 has no chart
    ex.inspection.value = "delayed_payments"
    ex.rule.value = "DP03"
    assert len(ex.findings) >= 1
    budget_id = ex.findings["ref"][0].split(":", 1)[1]
    f, ev, sources = ex.drilldown(0)
    assert sources[0].table == "budget" and list(sources[0].rows["budget_id"]) == [budget_id]
    assert set(sources[1].rows["budget_id"]) == {budget_id}  # the payments made against it
    assert bytes(ex.chart.value).startswith(b"\x89PNG") and ex.chart.layout.display is None


def test_export_button_writes_the_batch_workbook(ex):
    ex.inspection.value = "slush_funds"
    ex.controls["SF04"]["min_amount"].value = 1000
    ex.export_button.click()
    files = list(ex.out_dir.glob("*.xlsx"))
    assert len(files) == 1 and shown_path(files[0]) in ex.message.value and str(files[0]) not in ex.message.value
    wb = openpyxl.load_workbook(files[0])
    rule_ids = [r.id for r in RULES if r.inspection == "slush_funds"]
    assert all(any(rid in name for name in wb.sheetnames) for rid in rule_ids if (ex.result.findings["rule_id"] == rid).any())
    cover = "\n".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row if c.value is not None)
    assert "001" in cover and "1000" in cover  # the tuned threshold is on the cover


def test_saved_parameters_reproduce_the_findings_in_a_batch(ex, sample_db, tmp_path):
    from auditlib.batch.run import run

    ex.unit.value = "002"
    ex.inspection.value = "slush_funds"
    ex.controls["SF04"]["min_amount"].value = 1000
    ex.controls["SF05"]["window_days"].value = 20
    ex.controls["SF08"]["max_mad"].value = 0.05
    shown = ex.result.findings.copy()
    ex.save_button.click()
    saved = next(ex.out_dir.glob("params-*.yaml"))
    assert shown_path(saved) in ex.message.value and str(saved) not in ex.message.value
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert data["rules"]["SF04"]["min_amount"] == "1000.00" and data["rules"]["SF08"]["max_mad"] == "0.05"
    result = run(sample_db, params_file=str(saved), units=["002"], inspections=["slush_funds"],
                 out=tmp_path / "runs", run_id="from-explore", workers=1, progress=False)
    assert result.exit_code == 0, result.failed
    with open(result.run_dir / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted((r["rule_id"], r["ref"], Decimal(r["amount"]) if r["amount"] else None) for r in rows) == \
        sorted((a, b, Decimal(str(c)) if c is not None and str(c) not in ("", "nan", "None") else None)
               for a, b, c in zip(shown["rule_id"], shown["ref"], shown["amount"]))
    assert len(rows) == len(shown) > 0


def test_a_failing_button_reports_instead_of_raising(ex, tmp_path):
    ex.out_dir = tmp_path / "file-not-dir"
    ex.out_dir.write_text("x")
    ex.save_button.click()
    assert "失败" in ex.message.value


# ---- verification in the panel (CONTRACT §6): statuses, buttons writing the register, a filter ----

from auditlib.review.register import Register  # noqa: E402
from auditlib.review.statuses import Status  # noqa: E402


@pytest.fixture
def vex(sample_db, tmp_path):
    return Explorer(sample_db, lang="zh", out_dir=tmp_path / "explore", register=tmp_path / "register.jsonl")


def _choose(ex, rule_id):
    ex.inspection.value = {"SF": "slush_funds", "IF": "idle_funds", "DP": "delayed_payments"}[rule_id[:2]]
    ex.rule.value = rule_id
    assert len(ex.findings) >= 1
    ex.finding.value = 0
    return ex.findings.iloc[0]


def test_every_finding_shows_its_status_open_until_decided(vex):
    vex.inspection.value = "slush_funds"
    assert set(vex.findings["status"]) == {"open"}
    assert "待核实" in vex.table.value and "核实结论" in vex.table.value
    assert all(label.endswith("[待核实]") for label, _ in vex.finding.options)
    assert vex.findings["finding_id"].iloc[0] in vex.table.value


def test_buttons_write_decisions_to_the_register_and_show_them(vex, tmp_path):
    f = _choose(vex, "SF06")
    vex.by.value = "张三"
    vex.amount.value = "1,200.50"
    vex.reason.value = "重复支付属实"
    vex.decision_buttons[Status.CONFIRMED].click()
    assert "已登记" in vex.decision_message.value and f["finding_id"] in vex.decision_message.value
    reg = Register(tmp_path / "register.jsonl")
    (d,) = reg.decisions()
    assert (d.finding_id, d.rule_id, d.unit_code, d.ref) == (f["finding_id"], "SF06", f["unit_code"], f["ref"])
    assert d.status is Status.CONFIRMED and d.reason == "重复支付属实" and d.amount == Decimal("1200.50")
    assert d.by == "张三" and d.source == "explore" and d.at
    # shown beside the finding, which stays chosen; the boxes are cleared for the next one
    assert vex.findings.iloc[vex.finding.value]["finding_id"] == f["finding_id"]
    assert vex.findings.iloc[vex.finding.value]["status"] == "confirmed"
    assert "[属实]" in dict((v, k) for k, v in vex.finding.options)[vex.finding.value]
    assert "属实" in vex.table.value and vex.reason.value == "" and vex.amount.value == ""
    # 已整改, then 待核实 again: the latest decision wins, nothing is rewritten
    vex.decision_buttons[Status.RECTIFIED].click()
    vex.decision_buttons[Status.OPEN].click()
    assert [d.status for d in reg.decisions()] == [Status.CONFIRMED, Status.RECTIFIED, Status.OPEN]
    assert vex.status_of(f["finding_id"]) is Status.OPEN


def test_dismissal_without_reason_and_a_nameless_decision_are_refused(vex, tmp_path):
    _choose(vex, "SF06")
    vex.decision_buttons[Status.CONFIRMED].click()
    assert "请填写核实人" in vex.decision_message.value
    vex.by.value = "李四"
    vex.decision_buttons[Status.DISMISSED].click()
    assert "排除须填写核实说明" in vex.decision_message.value
    vex.amount.value = "12.345"
    vex.decision_buttons[Status.CONFIRMED].click()
    assert "认定金额不是金额" in vex.decision_message.value
    vex.amount.value = "=1+1"
    vex.decision_buttons[Status.CONFIRMED].click()
    assert "认定金额不是金额" in vex.decision_message.value
    assert not (tmp_path / "register.jsonl").exists() or Register(tmp_path / "register.jsonl").decisions() == []
    vex.amount.value = ""
    vex.reason.value = "  经核对为同一合同分期付款  "
    vex.decision_buttons[Status.DISMISSED].click()
    (d,) = Register(tmp_path / "register.jsonl").decisions()
    assert d.status is Status.DISMISSED and d.reason == "经核对为同一合同分期付款"


def test_status_filter_shows_one_status(vex):
    f = _choose(vex, "SF06")
    n = len(vex.findings)
    assert n >= 2
    vex.by.value = "王五"
    vex.reason.value = "同一发票"
    vex.decision_buttons[Status.DISMISSED].click()
    vex.status_filter.value = "dismissed"
    assert list(vex.findings["finding_id"]) == [f["finding_id"]]
    assert "排除" in vex.table.value
    vex.status_filter.value = "open"
    assert len(vex.findings) == n - 1 and f["finding_id"] not in set(vex.findings["finding_id"])
    vex.status_filter.value = "confirmed"
    assert len(vex.findings) == 0 and vex.finding.value is None
    vex.decision_buttons[Status.CONFIRMED].click()
    assert "请先选择一条疑点" in vex.decision_message.value


def test_panel_reads_the_register_beside_the_database_by_default(sample_db, tmp_path):
    from auditlib.review.register import Decision

    db = tmp_path / "audit.duckdb"
    import shutil as _sh

    _sh.copy(sample_db, db)
    probe = Explorer(db, lang="zh", out_dir=tmp_path)
    f = _choose(probe, "SF06")
    assert probe.register.path == tmp_path / "register.jsonl"
    Register.beside(db).append([Decision(f["finding_id"], "SF06", f["unit_code"], f["ref"], Status.CONFIRMED,
                                         by="赵六", source="cli")])
    ex = Explorer(db, lang="zh", out_dir=tmp_path)
    _choose(ex, "SF06")
    assert ex.status_of(f["finding_id"]) is Status.CONFIRMED
    assert "属实" in ex.table.value


def test_exported_workbook_carries_the_statuses(vex):
    f = _choose(vex, "SF06")
    vex.by.value = "张三"
    vex.decision_buttons[Status.CONFIRMED].click()
    path = vex.export_workbook()
    wb = openpyxl.load_workbook(path)
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert f["finding_id"] in cells and "属实" in cells  # the decided cell is prefilled
