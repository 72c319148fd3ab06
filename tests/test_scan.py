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
