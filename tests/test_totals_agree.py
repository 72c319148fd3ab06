"""The amounts every page shows agree with ``findings.csv`` (issue 14, CONTRACT §3 "Amounts").

One run of three units with a register holding a 属实 finding with its 认定金额 and an 排除 one:
the index (county line, each unit × inspection, each unit's 去重 total), the overview's totals line
and each report's summary paragraph are read back out of the HTML text, and the county deliverables'
figures out of ``county-findings.xlsx`` (per rule, per unit, the county) and ``county-report.docx``
(the county line, each inspection's line), and checked against sums recomputed here from
``findings.csv`` (and the register, for the 认定金额).
"""
from __future__ import annotations

import csv
import re
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.ingest.load import ingest
from auditlib.review.register import Decision, Register
from auditlib.review.statuses import Status
from auditlib.rules.identity import finding_id
from auditlib.synth.county import generate

pytestmark = pytest.mark.batch

UNITS = ("001", "006", "002")
INSPECTIONS = {"idle_funds": "沉淀资金", "slush_funds": "小金库", "delayed_payments": "支付不及时"}
CONFIRMED = ("SF04", "001", Decimal("45000.00"))  # its planted finding 属实, 认定金额 45,000
DISMISSED = ("SF06", "001")                      # its first planted finding 排除


def _planted(data, rule_id, unit) -> tuple[str, str, str]:
    """The first planted finding of ``rule_id`` in ``unit`` by truth.csv (ids move as the county grows)."""
    return next((r["rule_id"], r["unit_code"], r["ref"]) for r in _rows(data / "truth.csv")
                if r["rule_id"] == rule_id and r["unit_code"] == unit)
NUM = r"(-?[\d,]+\.\d{2})"


def _d(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _counted(row, confirmed: dict) -> Decimal:
    """What a finding adds to a total: its 认定金额 when 属实 with one, else its exposure."""
    if row["status"] == "confirmed" and row["finding_id"] in confirmed:
        return confirmed[row["finding_id"]]
    return Decimal(row["exposure"] or "0")


def _dedup(rows) -> Decimal:
    best: dict = {}
    for r in rows:
        key = (r["unit_code"], r["ref"])
        best[key] = max(best.get(key, Decimal(0)), Decimal(r["exposure"] or "0"))
    return sum(best.values(), Decimal(0))


def _text(path) -> str:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" ")


def test_every_page_agrees_with_findings_csv(tmp_path):
    generate(tmp_path / "data", units=8, seed=2024)
    db = tmp_path / "audit.duckdb"
    ingest(tmp_path / "data", db)
    register = Register(tmp_path / "register.jsonl")
    rid, unit, ref = _planted(tmp_path / "data", *CONFIRMED[:2])
    amount = CONFIRMED[2]
    dismissed = _planted(tmp_path / "data", *DISMISSED)
    register.append([
        Decision(finding_id=finding_id(rid, unit, ref), rule_id=rid, unit_code=unit, ref=ref,
                 status=Status.CONFIRMED, reason="提现用于发放劳务费", amount=amount, by="张三", source="cli"),
        Decision(finding_id=finding_id(*dismissed), rule_id=dismissed[0], unit_code=dismissed[1], ref=dismissed[2],
                 status=Status.DISMISSED, reason="同一合同分期付款", by="张三", source="cli")])
    out = tmp_path / "outputs"
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--out", str(out), "--run-id", "r",
                                       "--units", ",".join(UNITS), "--register", str(register.path),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    run = out / "r"
    rows = _rows(run / "findings.csv")
    confirmed = {d.finding_id: d.amount for d in register.latest().values()
                 if d.status is Status.CONFIRMED and d.amount is not None}
    by_id = {r["finding_id"]: r for r in rows}
    assert by_id[finding_id(rid, unit, ref)]["status"] == "confirmed"
    assert Decimal(by_id[finding_id(rid, unit, ref)]["exposure"]) != amount  # the 认定金额 matters
    assert by_id[finding_id(*dismissed)]["status"] == "dismissed"
    counted = [r for r in rows if r["status"] != "dismissed"]

    def total(keep) -> Decimal:
        return sum((_counted(r, confirmed) for r in counted if keep(r)), Decimal(0))

    county = total(lambda r: True)
    interest = sum((Decimal(r["interest"]) for r in counted if r["interest"]), Decimal(0))
    assert interest > 0

    # the index: the county line, each unit × inspection, each unit's totals
    soup = BeautifulSoup((run / "index.html").read_text(encoding="utf-8"), "html.parser")
    line = " ".join(soup.get_text(" ").split())
    # it links the county deliverables whose totals are checked below
    assert {"county-report.docx", "county-findings.xlsx"} <= {a["href"] for a in soup.select("p.links a")}
    found = re.search(rf"(\d+) 条，涉及金额 {NUM} 元；涉及资金（去重） {NUM} 元；逾期利息 {NUM} 元", line)
    assert found, line[:2000]
    assert int(found[1]) == len(counted) or int(found[1]) == len(rows)
    assert (_d(found[2]), _d(found[3]), _d(found[4])) == (county, _dedup(counted), interest)
    labels = [th.get_text(strip=True) for th in soup.select("#matrix thead th")]
    for tr in soup.select("#matrix tbody tr"):
        cells = tr.find_all("td")
        code = cells[0].get_text(strip=True)
        mine = [r for r in counted if r["unit_code"] == code]
        for name, label in INSPECTIONS.items():
            cell = cells[labels.index(label)].get_text(" ")
            got = re.search(rf"{NUM} 元", cell)
            assert got and _d(got[1]) == total(lambda r: r["unit_code"] == code and r["inspection"] == name), cell
        unit_cell = " ".join(tr.select_one("td.unit-total").get_text(" ").split())
        got = re.search(rf"涉及金额 {NUM} 元；涉及资金（去重） {NUM} 元", unit_cell)
        assert got and (_d(got[1]), _d(got[2])) == (total(lambda r: r["unit_code"] == code), _dedup(mine)), unit_cell

    # the overview's totals line
    text = " ".join(_text(run / "overview.html").split())
    got = re.search(rf"发现疑点 (\d+) 条，涉及金额 {NUM} 元；涉及资金（去重） {NUM} 元；逾期利息 {NUM} 元", text)
    assert got, text[:2000]
    assert (int(got[1]), _d(got[2]), _d(got[3]), _d(got[4])) == (len(counted), county, _dedup(counted), interest)

    # each report's summary paragraph
    for code in UNITS:
        for name in INSPECTIONS:
            text = " ".join(_text(run / code / f"{name}.html").split())
            got = re.search(rf"合计：发现疑点 (\d+) 条，涉及金额 {NUM} 元；涉及资金（去重） {NUM} 元", text)
            assert got, (code, name, text[:1500])
            mine = [r for r in counted if r["unit_code"] == code and r["inspection"] == name]
            assert (int(got[1]), _d(got[2]), _d(got[3])) == (
                len(mine), total(lambda r: r["unit_code"] == code and r["inspection"] == name), _dedup(mine))
            if name == "delayed_payments":
                paid = re.search(rf"涉及资金（去重） {NUM} 元；逾期利息 {NUM} 元", text)
                assert paid and _d(paid[2]) == sum((Decimal(r["interest"]) for r in mine if r["interest"]),
                                                   Decimal(0)), text[:1500]

    # the county deliverables (CONTRACT §4): county-findings.xlsx and county-report.docx
    _county_files_agree(run, rows, counted, total, interest)


def _sheet(ws, first: str) -> list[dict]:
    """The data rows (as {header: value}) of the table whose header row starts with ``first``."""
    cells = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(cells) if r[0] == first)
    labels = [str(v or "").replace("\n", "") for v in cells[head]]
    return [dict(zip(labels, r)) for r in cells[head + 1:] if any(v not in (None, "") for v in r)]


def _county_files_agree(run, rows, counted, total, interest):
    import json

    import docx
    import openpyxl

    assert json.loads((run / "manifest.json").read_text(encoding="utf-8"))["county"]["errors"] == []
    county = total(lambda r: True)
    wb = openpyxl.load_workbook(run / "county-findings.xlsx")
    listed = _sheet(wb["清单"], "序号")
    assert sorted(r["疑点编号"] for r in listed) == sorted(r["finding_id"] for r in rows)
    by_rule = _sheet(wb["按问题性质汇总"], "检查事项")
    for row in (r for r in by_rule if r["规则编号"]):
        assert _x(row["合计金额(元)"]) == total(lambda r: r["rule_id"] == row["规则编号"]), row
    last = next(r for r in by_rule if r["检查内容"] == "合计")
    assert (last["合计(条)"], _x(last["合计金额(元)"]), _x(last["涉及资金（去重）(元)"]), _x(last["逾期利息(元)"])) == (
        len(counted), county, _dedup(counted), interest)
    by_unit = _sheet(wb["按单位汇总"], "单位编码")
    for row in (r for r in by_unit if r["单位编码"]):
        mine = [r for r in counted if r["unit_code"] == row["单位编码"]]
        assert (_x(row["合计金额(元)"]), _x(row["涉及资金（去重）(元)"])) == (
            total(lambda r: r["unit_code"] == row["单位编码"]), _dedup(mine)), row
    assert _x(next(r for r in by_unit if r["单位名称"] == "合计")["合计金额(元)"]) == county

    d = docx.Document(str(run / "county-report.docx"))
    text = " ".join(p.text for p in d.paragraphs)
    got = re.search(rf"发现疑点 (\d+) 条，涉及金额 {NUM} 元；涉及资金（去重） {NUM} 元；逾期利息 {NUM} 元", text)
    assert got, text[:2000]
    assert (int(got[1]), _d(got[2]), _d(got[3]), _d(got[4])) == (len(counted), county, _dedup(counted), interest)
    for name, label in INSPECTIONS.items():
        got = re.search(rf"{label}：发现疑点 (\d+) 条，涉及金额 {NUM} 元", text)
        assert got and (int(got[1]), _d(got[2])) == (
            sum(r["inspection"] == name for r in counted), total(lambda r: r["inspection"] == name)), label


def _x(value) -> Decimal:
    """A spreadsheet number back to exact yuan (two places)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
