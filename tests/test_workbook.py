"""The evidence workbook: sheets, typed cells, inert hostile text, both languages."""
from __future__ import annotations

import dataclasses
import datetime as dt
import zipfile
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from auditlib.outputs import workbook
from auditlib.rules.catalogue import all_rules
from auditlib.rules.engine import inspect
from auditlib.ingest.load import ingest
from auditlib.synth.county import generate
from auditlib.outputs.workbook import write_workbook

RULES = all_rules()

HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "http://evil.example/x"]
SF_RULES = [r.id for r in RULES if r.inspection == "slush_funds"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wb")
    generate(tmp / "s", units=8, seed=2024)
    report = ingest(tmp / "s", tmp / "a.duckdb")
    sources = [{"file": f.file, "table": f.table, "rows": f.rows_loaded, "sha256": f.sha256}
               for f in report.files if f.status == "loaded"]
    return inspect(tmp / "a.duckdb", "slush_funds"), sources


def _slice(ins, unit):
    findings = ins.findings[ins.findings["unit_code"] == unit].reset_index(drop=True)
    evidence = {k: v[v["unit_code"] == unit].reset_index(drop=True) for k, v in ins.evidence.items()}
    return findings, evidence


def _write(path, ins, sources, unit="0011", findings=None, evidence=None, **kw):
    f, ev = _slice(ins, unit)
    args = {"unit_code": unit, "unit_name": "县教育局", "inspection": "slush_funds",
            "findings": f if findings is None else findings, "evidence": ev if evidence is None else evidence,
            "params": ins.params, "run_id": "20241231T000000", "sources": sources}
    args.update(kw)
    return write_workbook(path, **args)


def _header(ws):
    """(header row number, {label: column index}) of a rule sheet's table."""
    for row in ws.iter_rows(min_row=1, max_row=12):
        if row[0].value in ("序号", "No."):
            return row[0].row, {c.value: c.column for c in row if c.value is not None}
    raise AssertionError(f"no table header on {ws.title}")


def _cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                yield ws, c


def test_sheets_cover_and_atomic_write(tmp_path, sample):
    ins, sources = sample
    path = tmp_path / "out" / "0011" / "slush_funds.xlsx"
    assert _write(path, ins, sources) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["slush_funds.xlsx"]  # no .part left
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["封面", "汇总", *SF_RULES, "取证单"]
    cover = {(c.row, c.column): c for _, c in _cells(wb) if _.title == "封面"}
    values = [c.value for c in cover.values()]
    code = [c for c in cover.values() if c.value == "0011"]
    assert code and all(c.data_type == "s" for c in code)
    for src in sources:
        assert src["sha256"] in values and src["file"] in values
    assert dt.datetime(2024, 12, 31) in values  # cut-off as a real date
    assert {"编制人", "复核人", "日期", "20241231T000000"} <= set(values)
    # the parameters applied, per rule
    assert "SF05 化整为零拆分支付" in values and "window_days" in values


def test_summary_counts_and_amounts_match_findings(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    wb = openpyxl.load_workbook(_write(tmp_path / "w.xlsx", ins, sources))
    ws = wb["汇总"]
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value in SF_RULES}
    assert list(rows) == SF_RULES
    for rid, r in rows.items():
        mine = findings[findings["rule_id"] == rid]
        assert r[3].value == len(mine) and r[3].data_type == "n"
        amounts = [a for a in mine["amount"] if a is not None]
        if amounts:
            assert r[5].data_type == "n" and "0.00" in r[5].number_format
            assert Decimal(repr(r[5].value)).quantize(Decimal("0.01")) == sum(amounts)
        else:
            assert r[5].value is None
    total = next(r for r in ws.iter_rows() if r[0].value == "合计")
    assert total[3].value == len(findings)


def test_rule_sheets_typed_cells_and_frozen_header(tmp_path, sample):
    ins, sources = sample
    _, evidence = _slice(ins, "0011")
    wb = openpyxl.load_workbook(_write(tmp_path / "w.xlsx", ins, sources))
    for rid in SF_RULES:
        ws = wb[rid]
        assert ws.freeze_panes is not None
        if len(evidence[rid]):
            assert ws.auto_filter.ref
        else:
            assert any(c.value == "未发现问题。" for row in ws.iter_rows() for c in row)
    ev = evidence["SF05"]
    assert len(ev) >= 2
    ws = wb["SF05"]
    head, cols = _header(ws)
    assert {"核实情况", "备注", "证据行", "支付日期", "收款人"} <= set(cols)
    assert ws.freeze_panes == f"C{head + 1}"
    for i, rec in enumerate(ev.itertuples(index=False)):
        row = head + 1 + i
        money = ws.cell(row, cols["金额(元)"])
        assert money.data_type == "n" and "0.00" in money.number_format
        assert Decimal(repr(money.value)).quantize(Decimal("0.01")) == rec.amount
        day = ws.cell(row, cols["支付日期"])
        assert isinstance(day.value, dt.datetime) and day.value.date() == rec.paid_on
        assert day.number_format == "yyyy-mm-dd"
        assert ws.cell(row, cols["证据行"]).value == rec.ref
        assert ws.cell(row, cols["来源行号"]).data_type == "n"
        assert ws.cell(row, cols["核实情况"]).value is None
    # account numbers stay text (no float rounding of 19 digits)
    ws = wb["SF04"]
    head, cols = _header(ws)
    acct = ws.cell(head + 1, cols["银行账号"])
    assert acct.data_type == "s" and acct.value == evidence["SF04"]["account_no"].iloc[0]


def test_certificate_lists_every_finding(tmp_path, sample):
    ins, sources = sample
    findings, _ = _slice(ins, "0011")
    wb = openpyxl.load_workbook(_write(tmp_path / "w.xlsx", ins, sources))
    ws = wb["取证单"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    for ref in findings["ref"]:
        assert ref in values
    for label in ("被检查单位意见：", "被检查单位负责人（签名）：", "审计人员（签名）：",
                  "被检查单位：县教育局（0011）"):
        assert label in values
    assert ws.freeze_panes


def test_hostile_text_is_stored_as_plain_strings(tmp_path, sample):
    ins, sources = sample
    findings, evidence = _slice(ins, "0011")
    ev = evidence["SF09"].copy()
    assert len(ev)
    ev = pd.concat([ev] * len(HOSTILE), ignore_index=True)
    ev["payee_name"] = HOSTILE
    ev["memo"] = HOSTILE[::-1]
    ev["detail"] = HOSTILE
    evidence["SF09"] = ev
    findings = findings.copy()
    findings["detail"] = HOSTILE[0]
    hostile_sources = sources + [{"file": HOSTILE[1], "table": HOSTILE[2], "rows": 1, "sha256": HOSTILE[4]}]
    path = _write(tmp_path / "h.xlsx", ins, hostile_sources, findings=findings, evidence=evidence,
                  unit_name=HOSTILE[0], run_id=HOSTILE[3])
    wb = openpyxl.load_workbook(path)
    seen = set()
    for ws, c in _cells(wb):
        assert c.data_type != "f", (ws.title, c.coordinate, c.value)
        if c.value in HOSTILE:
            assert c.data_type == "s"
            seen.add(c.value)
    assert seen == set(HOSTILE)
    for ws in wb.worksheets:
        assert not ws._hyperlinks, ws.title
    ws = wb["SF09"]
    head, cols = _header(ws)
    cell = ws.cell(head + 1, cols["收款人"])
    assert cell.value == HOSTILE[0] and cell.quotePrefix  # Excel shows it as text even when retyped
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            xml = z.read(name).decode("utf-8")
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in xml and "<f " not in xml, name
                assert "<hyperlink" not in xml, name
            assert 'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"' \
                not in xml, name


def test_english_labels(tmp_path, sample):
    ins, sources = sample
    wb = openpyxl.load_workbook(_write(tmp_path / "en.xlsx", ins, sources, lang="en"))
    assert wb.sheetnames == ["Cover", "Summary", *SF_RULES, "Certificate"]
    values = {c.value for _, c in _cells(wb)}
    assert {"Unit code", "Cut-off date", "Prepared by", "Reviewed by", "No.", "Verification", "Remarks",
            "Amount (yuan)", "high", "Opinion of the inspected unit:"} <= values
    assert not any(isinstance(v, str) and v in ("核实情况", "封面", "编制人") for v in values)


def test_empty_inspection_and_unit_override(tmp_path, sample):
    ins, _ = sample
    params = dataclasses.replace(ins.params, units={"0012": {"IF01": {"min_amount": Decimal(20000)}}})
    empty = pd.DataFrame(columns=["inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title",
                                  "detail"])
    path = write_workbook(tmp_path / "0012" / "idle_funds.xlsx", unit_code="0012", unit_name="某单位",
                          inspection="idle_funds", findings=empty, evidence={}, params=params,
                          run_id="r", sources=[])
    wb = openpyxl.load_workbook(path)
    rules = [r.id for r in RULES if r.inspection == "idle_funds"]
    assert wb.sheetnames == ["封面", "汇总", *rules, "取证单"]
    for rid in rules:
        assert any(c.value == "未发现问题。" for row in wb[rid].iter_rows() for c in row)
    code = [c for row in wb["封面"].iter_rows() for c in row if c.value == "0012"]
    assert code and code[0].data_type == "s"
    # the override is the value shown for IF01 min_amount, and marked
    row = next(r for r in wb["封面"].iter_rows() if r[0].value and str(r[0].value).startswith("IF01")
               and r[1].value == "min_amount")
    assert row[3].value == 20000 and row[3].data_type == "n" and row[4].value == "是"
    summary = [r for r in wb["汇总"].iter_rows() if r[0].value in rules]
    assert [r[3].value for r in summary] == [0] * len(rules)


def test_failed_write_leaves_nothing(tmp_path, sample, monkeypatch):
    ins, sources = sample

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(workbook, "_certificate", boom)
    with pytest.raises(RuntimeError):
        _write(tmp_path / "x.xlsx", ins, sources)
    assert list(tmp_path.iterdir()) == []
