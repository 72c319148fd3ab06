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

from auditlib.rules.catalogue import all_rules
from auditlib.rules.engine import inspect
from auditlib.views.explore import ALL, Explorer
from auditlib.rules.params import load_params

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
    assert ex.param_box.children == (ex.controls["SF04"]["min_amount"],)
    assert set(ex.findings["rule_id"]) <= {"SF04"}


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
    assert f"发现问题 {len(ex.findings)} 条" in ex.summary.value
    ex.controls["SF04"]["min_amount"].value = 10**9
    assert len(ex.findings) == 0 and "未发现问题" in ex.table.value


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
    assert len(files) == 1 and str(files[0]) in ex.message.value
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
    assert str(saved) in ex.message.value
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
