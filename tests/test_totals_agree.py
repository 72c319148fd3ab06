"""The amounts every page shows agree with ``findings.csv`` (issue 14, CONTRACT §3 "Amounts").

One run of three units with a register holding a 属实 finding with its 认定金额 and an 排除 one:
the index (county line, each unit × inspection, each unit's 去重 total), the overview's totals line
and each report's summary paragraph are read back out of the HTML text and checked against sums
recomputed here from ``findings.csv`` (and the register, for the 认定金额).
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
CONFIRMED = ("SF04", "001", "bank_txns:LS202404120000011", Decimal("45000.00"))  # 属实, 认定金额 45,000
DISMISSED = ("SF06", "001", "payments:ZF20240000012")                             # 排除
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
    rid, unit, ref, amount = CONFIRMED
    register.append([
        Decision(finding_id=finding_id(rid, unit, ref), rule_id=rid, unit_code=unit, ref=ref,
                 status=Status.CONFIRMED, reason="提现用于发放劳务费", amount=amount, by="张三", source="cli"),
        Decision(finding_id=finding_id(*DISMISSED), rule_id=DISMISSED[0], unit_code=DISMISSED[1], ref=DISMISSED[2],
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
    assert by_id[finding_id(*DISMISSED)]["status"] == "dismissed"
    counted = [r for r in rows if r["status"] != "dismissed"]

    def total(keep) -> Decimal:
        return sum((_counted(r, confirmed) for r in counted if keep(r)), Decimal(0))

    county = total(lambda r: True)
    interest = sum((Decimal(r["interest"]) for r in counted if r["interest"]), Decimal(0))
    assert interest > 0

    # the index: the county line, each unit × inspection, each unit's totals
    soup = BeautifulSoup((run / "index.html").read_text(encoding="utf-8"), "html.parser")
    line = " ".join(soup.get_text(" ").split())
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
