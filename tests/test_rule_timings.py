"""Each rule's own seconds: the engine records them, ``auditlib scan --timings`` writes them."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from click.testing import CliRunner

from auditlib.cli import main
from auditlib.rules.engine import implemented_rules, inspect
from test_rules import make_db, pay


def _db(tmp_path):
    payments = [pay("M1", expense_type="会议费", amount=Decimal("10000.00"), paid_on=dt.date(2024, 3, 1)),
                pay("M2", unit_code="0012", expense_type="培训费", amount=Decimal("12000.00"),
                    paid_on=dt.date(2024, 3, 1))]
    return make_db(tmp_path / "t.duckdb", payments=payments)


def test_inspect_records_every_rule_it_ran(tmp_path):
    db = _db(tmp_path)
    result = inspect(db, "slush_funds")
    assert list(result.timings) == [r.id for r in implemented_rules("slush_funds")]  # in the order they ran
    assert all(isinstance(s, float) and s >= 0 for s in result.timings.values())
    assert set(result.shared_timings) == {"setup", "coverage"}
    only = inspect(db, "slush_funds", rule_ids=["SF07"])
    assert list(only.timings) == ["SF07"]


def test_inspect_without_evidence_gives_the_same_findings(tmp_path):
    db = _db(tmp_path)
    full, lean = inspect(db), inspect(db, keep_evidence=False)
    assert lean.evidence == {} and full.evidence
    assert lean.findings.equals(full.findings)


def test_scan_timings_json_lists_every_rule_slowest_first(tmp_path):
    db = _db(tmp_path)
    out, timings = tmp_path / "findings.csv", tmp_path / "timings.json"
    result = CliRunner().invoke(main, ["scan", "--db", str(db), "--out", str(out), "--timings", str(timings)])
    assert result.exit_code == 0, result.output
    doc = json.loads(timings.read_text(encoding="utf-8"))
    assert set(doc["rules"]) == {r.id for r in implemented_rules()}
    seconds = list(doc["rules"].values())
    assert seconds == sorted(seconds, reverse=True)
    assert set(doc["shared"]) == {"setup", "coverage", "write"}
    # each value rounded to the millisecond; the rules run in two lanes at once (auditlib.outputs.findings_scan)
    assert doc["total"] >= sum(seconds) / 2 - 0.03 and doc["total"] >= max(seconds) - 0.001
    assert not (tmp_path / "timings.json.part").exists()
    # without the option no file is written
    CliRunner().invoke(main, ["scan", "--db", str(db), "--out", str(tmp_path / "b.csv")])
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["timings.json"]
