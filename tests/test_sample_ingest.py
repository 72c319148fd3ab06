"""The sample county goes through the real ingest: everything loads, nothing warns."""
from __future__ import annotations

import csv
import hashlib
import json

import duckdb
from click.testing import CliRunner

from auditlib.cli import main


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_sample_ingests_cleanly_through_the_cli(tmp_path):
    data, db = tmp_path / "county", tmp_path / "audit.duckdb"
    runner = CliRunner()
    result = runner.invoke(main, ["synth", str(data), "--units", "8", "--seed", "7"])
    assert result.exit_code == 0, result.output
    before = _digests(data)

    result = runner.invoke(main, ["ingest", str(data), "--db", str(db)])
    assert result.exit_code == 0, result.output

    report = json.loads((tmp_path / "ingest_report.json").read_text(encoding="utf-8"))
    tables = {rec["table"] for rec in report if rec.get("table")}
    assert tables == {"units", "accounts", "budget", "payments", "ledger", "bank_txns"}
    for rec in report:
        if rec.get("table"):
            assert rec["rows_read"] == rec["rows_loaded"] + rec["rows_subtotal"] + rec["rows_rejected"]
            assert rec["rows_rejected"] == 0, rec
    assert sum(rec.get("rows_subtotal", 0) for rec in report) >= 1

    with open(tmp_path / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        assert list(csv.DictReader(fh)) == []

    con = duckdb.connect(str(db), read_only=True)
    from auditlib.ingest.completeness import completeness_warnings
    assert completeness_warnings(con) == []
    loaded = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("units", "ledger", "payments", "bank_txns")}
    assert loaded["units"] == 8 and all(n > 0 for n in loaded.values())
    con.close()

    assert _digests(data) == before  # inputs never modified
    log = (tmp_path / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(log) == 1 and json.loads(log[0])["inputs"]
