"""Re-ingest (issue 16, item 2): a loaded file is its SHA-256 and its profile's SHA-256;
``ingest --replace`` reloads changed files and files named on the command line, deleting their old
rows in the same transaction and recording it in audit-log.jsonl; a changed profile without
--replace is exit 2; a process holding the database blocks it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from auditlib.cli import main
from auditlib.errors import DatabaseError, InputError
from auditlib.ingest.load import ingest

HEADER = "Ref,Supplier,Value,Kind\n"
ROWS = "1,Alpha Ltd,100.00,Rent\n2,Beta Ltd,200.00,Fees\n"

PROFILE = """
table: payments
files: ["pay-*.csv"]
constants: {{unit_code: "U1"}}
fields:
  payment_id: Ref
  payee_name: Supplier
  amount: Value
  expense_type: {kind}
"""


def _setup(tmp_path, kind="Kind"):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "pay-1.csv").write_text(HEADER + ROWS, encoding="utf-8")
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.format(kind=kind), encoding="utf-8")
    return data, profile, tmp_path / "db" / "a.duckdb"


def _rows(db, sql="SELECT payment_id, payee_name, expense_type, _file FROM payments ORDER BY payment_id"):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _log(db) -> list[dict]:
    return [json.loads(x) for x in (Path(db).parent / "audit-log.jsonl").read_text("utf-8").splitlines()]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"AUDITLIB_LANG": None})


def test_unchanged_file_is_skipped_and_a_changed_profile_asks_for_replace(tmp_path):
    data, profile, db = _setup(tmp_path)
    ingest(data, db, mapping=profile)
    again = ingest(data, db, mapping=profile)
    assert again.files[0].status == "already loaded"
    assert _rows(db) == [("1", "Alpha Ltd", "Rent", "pay-1.csv"), ("2", "Beta Ltd", "Fees", "pay-1.csv")]

    profile.write_text(PROFILE.format(kind="{column: Kind, map: {Rent: 租金}}"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        ingest(data, db, mapping=profile)
    assert exc.value.reason == "profile changed" and "--replace" in str(exc.value)
    res = invoke("ingest", data, "--db", db, "--mapping", profile)
    assert res.exit_code == 2 and "--replace" in res.output
    assert _rows(db)[0][2] == "Rent"  # nothing changed

    res = invoke("ingest", data, "--db", db, "--mapping", profile, "--replace", "--lang", "en")
    assert res.exit_code == 0, res.output
    assert "replaced, 2 old row(s) deleted (profile changed)" in res.output
    assert _rows(db) == [("1", "Alpha Ltd", "租金", "pay-1.csv"), ("2", "Beta Ltd", "Fees", "pay-1.csv")]
    last = _log(db)[-1]["outcome"]
    assert last["replace"] is True
    (rec,) = last["replaced"]
    assert rec["file"] == "pay-1.csv" and rec["why"] == "profile changed" and rec["rows_deleted"] == 2
    assert rec["old_profile_sha256"] and rec["old_profile_sha256"] != last["mapping_sha256"]
    report = json.loads((db.parent / "ingest_report.json").read_text("utf-8"))
    assert report[0]["replaced"]["rows_deleted"] == 2 and report[0]["profile_sha256"] == last["mapping_sha256"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM _ingested_files").fetchone() == (1,)
    con.close()


def test_changed_content_is_replaced_with_replace_only(tmp_path):
    data, profile, db = _setup(tmp_path)
    ingest(data, db, mapping=profile)
    (data / "pay-1.csv").write_text(HEADER + "1,Alpha Ltd,100.00,Rent\n3,Gamma Ltd,300.00,Fees\n", encoding="utf-8")
    plain = ingest(data, db, mapping=profile)  # as before: loaded beside the old rows, with a warning
    assert any("--replace" in w for w in plain.files[0].warnings)
    assert [r[0] for r in _rows(db)] == ["1", "2", "3"]  # '1' again is a duplicate key, rejected

    (data / "pay-1.csv").write_text(HEADER + "1,Alpha Ltd,150.00,Rent\n", encoding="utf-8")
    report = ingest(data, db, mapping=profile, replace=True)
    assert report.files[0].replaced["why"] == "content changed"
    assert _rows(db, "SELECT payment_id, amount FROM payments") == [("1", 150)]


def test_a_file_named_on_the_command_line_is_reloaded_even_unchanged(tmp_path):
    data, profile, db = _setup(tmp_path)
    ingest(data, db, mapping=profile)
    folder = ingest(data, db, mapping=profile, replace=True)  # through the folder: unchanged, skipped
    assert folder.files[0].status == "already loaded" and folder.files[0].replaced is None
    res = invoke("ingest", data / "pay-1.csv", "--db", db, "--mapping", profile, "--replace")
    assert res.exit_code == 0, res.output
    assert [r[0] for r in _rows(db)] == ["1", "2"]  # reloaded once, no duplicates
    assert _log(db)[-1]["outcome"]["replaced"][0]["why"] == "named on the command line"


def test_replace_is_one_transaction(tmp_path):
    """A replace that fails half-way (the second file lacks a column) keeps the old rows."""
    data, profile, db = _setup(tmp_path)
    ingest(data, db, mapping=profile)
    (data / "pay-1.csv").write_text(HEADER + "9,Zeta Ltd,1.00,Rent\n", encoding="utf-8")
    (data / "pay-2.csv").write_text("Ref,Supplier\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError):
        ingest(data, db, mapping=profile, replace=True)
    assert [r[0] for r in _rows(db)] == ["1", "2"]


def test_a_process_holding_the_database_blocks_replace(tmp_path):
    data, profile, db = _setup(tmp_path)
    ingest(data, db, mapping=profile)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"),
        str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseError) as exc:
            ingest(data / "pay-1.csv", db, mapping=profile, replace=True)
        assert exc.value.reason == "locked" and str(holder.pid) in str(exc.value)
    finally:
        holder.kill()
        holder.wait()
    assert [r[0] for r in _rows(db)] == ["1", "2"]
