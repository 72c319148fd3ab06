"""``auditlib scan`` writes findings.csv as CONTRACT §4 says, formula-safe."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

from click.testing import CliRunner

from auditlib.cli import main
from auditlib.common.cells import neutralise
from auditlib.outputs.findings_csv import CSV_COLUMNS
from test_rules import make_db, pay


def test_neutralize_leading_formula_characters():
    for text in ("=HYPERLINK(\"x\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("县教育局") == "县教育局" and neutralise(None) == ""


def test_scan_cli_writes_bom_csv_with_exact_amounts(tmp_path):
    payments = [pay("M1", expense_type="会议费", payee_name="=HYPERLINK(\"http://x\")", amount=Decimal("10000.00"),
                    paid_on=dt.date(2024, 3, 1)),
                pay("M2", unit_code="0012", expense_type="培训费", amount=Decimal("12000.00"), paid_on=dt.date(2024, 3, 1))]
    db = make_db(tmp_path / "s.duckdb", payments=payments)
    out = tmp_path / "findings.csv"
    result = CliRunner().invoke(main, ["scan", "--db", str(db), "--out", str(out), "--inspections", "slush_funds"])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert list(rows[0]) == CSV_COLUMNS
    sf07 = {r["ref"]: r for r in rows if r["rule_id"] == "SF07"}
    assert set(sf07) == {"payments:M1", "payments:M2"}
    assert sf07["payments:M1"]["amount"] == "10000.00" and sf07["payments:M2"]["unit_code"] == "0012"
    assert all(not r["detail"].startswith("=") for r in rows)
    # one unit only
    out2 = tmp_path / "one.csv"
    CliRunner().invoke(main, ["scan", "--db", str(db), "--out", str(out2), "--units", "0012"])
    assert {r["unit_code"] for r in csv.DictReader(out2.open(encoding="utf-8-sig"))} == {"0012"}


def test_scan_unknown_inspection_is_exit_2(tmp_path):
    db = make_db(tmp_path / "s.duckdb")
    result = CliRunner().invoke(main, ["scan", "--db", str(db), "--out", str(tmp_path / "f.csv"),
                                       "--inspections", "nonsense"])
    assert result.exit_code == 2 and "nonsense" in result.output


def _frame(**extra):
    import pandas as pd

    rows = [{"inspection": "delayed_payments", "rule_id": rid, "unit_code": "0012", "ref": f"payments:{p}",
             "amount": Decimal(a), "severity": "medium", "title": "t", "detail": "d"}
            for rid, p, a in (("DP01", "P1", "1000.00"), ("DP01", "P2", "2000.50"), ("DP04", "P3", "300.00"))]
    return pd.DataFrame(rows).assign(**extra)


def test_findings_csv_v2_columns_in_contract_order(tmp_path):
    from auditlib.outputs.findings_csv import read_findings_csv, write_findings_csv
    from auditlib.rules.identity import finding_id

    assert CSV_COLUMNS == ["run_id", "inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title",
                           "detail", "finding_id", "exposure", "interest", "status", "change"]
    # a frame without the v2 columns: id computed, exposure = amount, no interest, open, no change
    path = write_findings_csv(_frame(), tmp_path / "a.csv", "r1")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))
    assert list(rows[0]) == CSV_COLUMNS
    for r in rows:
        assert r["finding_id"] == finding_id(r["rule_id"], r["unit_code"], r["ref"])
        assert r["exposure"] == r["amount"] and r["interest"] == "" and r["status"] == "open" and r["change"] == ""
    # a frame with them, as the run gives it (register applied, baseline compared)
    from auditlib.review.statuses import Status

    f = _frame(finding_id=["000000000123", "1234567e8901", "abcdefabcdef"],
               exposure=[Decimal("1000.00"), Decimal("0.00"), None],
               interest=[Decimal("12.35"), None, None],
               status=[Status.CONFIRMED, "dismissed", "open"], change=["new", "persisting", ""],
               status_reason=['=HYPERLINK("http://x","y")', "<script>alert(1)</script>", ""])
    path = write_findings_csv(f, tmp_path / "b.csv", "r2")
    text = path.read_text(encoding="utf-8-sig")
    assert "HYPERLINK" not in text and "<script>" not in text  # 核实说明 is not a findings.csv column
    rows = {r["ref"]: r for r in csv.DictReader(path.open(encoding="utf-8-sig", newline=""))}
    assert [rows[f"payments:{p}"]["status"] for p in ("P1", "P2", "P3")] == ["confirmed", "dismissed", "open"]
    assert [rows[f"payments:{p}"]["change"] for p in ("P1", "P2", "P3")] == ["new", "persisting", ""]
    assert [rows[f"payments:{p}"]["exposure"] for p in ("P1", "P2", "P3")] == ["1000.00", "0.00", ""]
    assert [rows[f"payments:{p}"]["interest"] for p in ("P1", "P2", "P3")] == ["12.35", "", ""]
    back = read_findings_csv(path)  # ids stay text: no lost zeros, no 1.2e+12
    assert set(back["finding_id"]) == {"000000000123", "1234567e8901", "abcdefabcdef"}
    assert set(back["status"]) == {"confirmed", "dismissed", "open"}
    assert all(isinstance(x, str) for x in back["finding_id"])
