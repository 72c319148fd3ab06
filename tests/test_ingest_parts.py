"""The ingest's rooms (issue 12): reject reasons and file statuses as Enums, one database opener,
one SHA-256 helper, one formula neutraliser, mapping profiles found through the workspace, and no
module of the ingest reaching into another's private names."""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from auditlib.common.files import sha256_file
from auditlib.errors import DatabaseError, MappingError
from auditlib.ingest import fast, profiles
from auditlib.ingest.load import ingest
from auditlib.ingest.readers import is_blank, plausibility, plausible_count
from auditlib.ingest.report import FileStatus, Reject, RejectReason, write_rejects
from auditlib.workspace import shipped

INGEST = Path(__file__).resolve().parents[1] / "auditlib" / "ingest"

BAD_PAYMENTS = ("unit_code,payment_id,payee_name,amount,memo\n"
                "001,P1,甲,1,\n"
                "001,P1,乙,2,\n"          # duplicate key
                "001,P3,,3,\n"            # missing required value
                "001,P4,丁,1.005,\n")    # bad value: more than two decimals


def _rejects(db: Path) -> list[dict]:
    with open(db.parent / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_reject_reasons_keep_todays_text():
    assert RejectReason.DUPLICATE_KEY == "duplicate key"
    assert RejectReason.MISSING_VALUE == "missing required value"
    r = Reject("f.csv", 2, "k", "v", RejectReason.DUPLICATE_KEY)
    assert r.reason == "duplicate key" and type(r.reason) is str and r.code is RejectReason.DUPLICATE_KEY
    r = Reject("f.csv", 2, "amount", "x", "not a money amount: 'x'")
    assert r.code is RejectReason.BAD_VALUE and r.reason == "not a money amount: 'x'"


@pytest.mark.parametrize("threshold", [10 ** 15, 0], ids=["row path", "fast path"])
def test_every_reject_carries_its_code(monkeypatch, tmp_path, threshold):
    monkeypatch.setattr(fast, "FAST_MIN_BYTES", threshold)
    staged = []
    real = fast._load_staged
    monkeypatch.setattr(fast, "_load_staged", lambda *a: staged.append(real(*a)) or staged[-1])
    data = tmp_path / "data"
    data.mkdir()
    (data / "payments.csv").write_text(BAD_PAYMENTS, encoding="utf-8")
    (data / "payments_short.csv").write_text(BAD_PAYMENTS.splitlines()[0] + "\n001,P5,戊\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db)
    assert staged == ([True] if threshold == 0 else [])  # payments.csv took the fast path; the short row cannot
    got = [(r.file, r.line, r.code) for r in report.rejects]
    assert got == [("payments.csv", 3, RejectReason.DUPLICATE_KEY), ("payments.csv", 4, RejectReason.MISSING_VALUE),
                   ("payments.csv", 5, RejectReason.BAD_VALUE), ("payments_short.csv", 2, RejectReason.SHORT_ROW)]
    rows = _rejects(db)
    assert [r["reason"] for r in rows] == ["duplicate key", "missing required value",
                                           "more than two decimals: '1.005'", "row has 3 of 5 columns"]


def test_rejects_csv_neutralises_a_leading_line_break_and_shows_nul(tmp_path):
    """The one neutraliser (auditlib.common.cells) also quotes a leading line break."""
    write_rejects(tmp_path / "r.csv", [Reject("f.csv", 3, "memo", v, "bad") for v in ("\nx", "\rx", "a\x00b", None)])
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["value"] for r in rows] == ["'\nx", "'\rx", "a\\x00b", ""]


def test_file_statuses_are_an_enum_written_as_todays_text(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "units.csv").write_text("unit_code,unit_name\n001,甲\n", encoding="utf-8")
    (data / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    first = ingest(data, db)
    assert {f.file: f.status for f in first.files} == {"notes.csv": FileStatus.SKIPPED, "units.csv": FileStatus.LOADED}
    second = ingest(data, db)
    assert {f.file: f.status for f in second.files}["units.csv"] is FileStatus.ALREADY_LOADED
    records = json.loads((tmp_path / "ingest_report.json").read_text(encoding="utf-8"))
    assert {r["file"]: r["status"] for r in records} == {"notes.csv": "skipped", "units.csv": "already loaded"}


def test_ingest_fingerprints_files_with_the_common_helper(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "units.csv").write_text("unit_code,unit_name\n001,甲\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    report = ingest(data, db)
    assert report.files[0].sha256 == sha256_file(data / "units.csv")
    log = json.loads((tmp_path / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert log["inputs"] == [{"path": str(data / "units.csv"), "sha256": sha256_file(data / "units.csv")}]


def test_ingest_into_a_file_that_is_not_a_database_is_a_database_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "units.csv").write_text("unit_code,unit_name\n001,甲\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    db.write_text("not a database " * 500, encoding="utf-8")
    with pytest.raises(DatabaseError) as err:
        ingest(data, db)
    assert "无法打开数据库 / cannot open database" in str(err.value) and str(db) in str(err.value)


def test_the_ingest_opens_the_database_only_through_auditlib_db():
    for path in INGEST.glob("*.py"):
        assert "duckdb.connect(" not in path.read_text(encoding="utf-8"), path.name


def test_no_ingest_module_imports_another_ones_private_names():
    pattern = re.compile(r"from auditlib\.ingest\.\w+ import \(?[^)\n]*\b_\w+")
    for path in INGEST.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not pattern.search(text), path.name
        assert "hashlib" not in text and "_FORMULA_START" not in text, path.name


def test_blank_records_and_plausibility_are_public_helpers():
    assert is_blank([None, "", "  ", "\t"]) and not is_blank(["", "x"])
    assert plausible_count("ab摘要ժ") == (3, 2)
    assert plausibility(0, 0) == 1.0 and plausibility(4, 1) == 0.25


# ---- mapping profiles through the workspace -----------------------------------------------------------

def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "params" / "mappings").mkdir(parents=True)
    shutil.copy(shipped("params") / "default.yaml", ws / "params" / "default.yaml")
    own = (shipped("params") / "mappings" / "ar-invoices.yaml").read_text(encoding="utf-8")
    (ws / "params" / "mappings" / "my-invoices.yaml").write_text(own, encoding="utf-8")
    (ws / "params" / "mappings" / "ar-invoices.yaml").write_text(own, encoding="utf-8")
    return ws


def test_mapping_names_are_found_in_the_workspace_first_then_shipped(tmp_path, monkeypatch):
    ws = _workspace(tmp_path)
    monkeypatch.setenv("AUDITLIB_WORKSPACE", str(ws))
    assert profiles.resolve("my-invoices") == ws / "params" / "mappings" / "my-invoices.yaml"
    assert profiles.resolve("ar-invoices") == ws / "params" / "mappings" / "ar-invoices.yaml"
    assert profiles.resolve("oxford-payments") == shipped("params") / "mappings" / "oxford-payments.yaml"
    assert profiles.load_profile("my-invoices").table == "payments"
    with pytest.raises(MappingError) as err:
        profiles.resolve("no-such-profile")
    assert "my-invoices" in str(err.value) and "oxford-payments" in str(err.value)


def test_mapping_names_are_found_outside_any_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDITLIB_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert profiles.resolve("oxford-payments") == shipped("params") / "mappings" / "oxford-payments.yaml"
