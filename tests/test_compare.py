"""Comparing runs (CONTRACT §6) on hand-made run folders: ``change``, ``resolved.csv`` and ``auditlib diff``
match by finding_id only, look only where the later run looked, and write formula-safe UTF-8 CSV."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from auditlib.common.csvfile import money_text
from auditlib.batch import compare
from auditlib.cli import main
from auditlib.rules.identity import finding_id

HEAD = ["run_id", "inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail",
        "finding_id", "exposure", "interest", "status", "change"]


def make_run(folder: Path, rows, tasks=None, old_format=False) -> Path:
    """A run folder: findings.csv (rows: inspection, rule, unit, ref, amount, exposure, status) and a manifest."""
    folder.mkdir(parents=True)
    head = HEAD[:9] if old_format else HEAD
    with open(folder / "findings.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for ins, rule, unit, ref, amount, exposure, status in rows:
            row = [folder.name, ins, rule, unit, ref, amount, "high", "t", "d",
                   finding_id(rule, unit, ref), exposure, "", status, ""]
            w.writerow(row[:len(head)])
    if tasks is not None:
        (folder / "manifest.json").write_text(json.dumps({"run_id": folder.name, "tasks": [
            {"unit_code": u, "inspection": i, "status": s} for u, i, s in tasks]}), encoding="utf-8")
    return folder


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


S, D = "slush_funds", "delayed_payments"


@pytest.fixture
def runs(tmp_path):
    a = make_run(tmp_path / "a", [
        (S, "SF04", "001", "bank_txns:L1", "50000.00", "50000.00", "confirmed"),
        (S, "SF02", "001", "bank_txns:L2", "100.00", "", "dismissed"),          # exposure falls back to amount
        (S, "SF06", "001", "payments:P1", "36800.00", "36800.00", "open"),
        (D, "DP01", "002", "payments:P9", "10.00", "10.00", "confirmed"),       # unit 002 not covered by b
        (S, "SF05", "003", "=cmd", "5.00", "5.00", "open"),
    ], tasks=[("001", S, "ok"), ("002", D, "ok"), ("003", S, "ok")])
    b = make_run(tmp_path / "b", [
        (S, "SF06", "001", "payments:P1", "36800.00", "30000.00", "confirmed"),
        (S, "SF07", "001", "payments:P2", "7.00", "7.00", "open"),
    ], tasks=[("001", S, "ok"), ("002", D, "failed"), ("003", S, "ok")])
    return a, b


def test_changes_mark_new_and_persisting_by_finding_id(runs):
    a, _ = runs
    base = compare.read_run(a)
    ids = pd.Series([finding_id("SF06", "001", "payments:P1"), finding_id("SF07", "001", "payments:P2")])
    assert list(compare.changes(ids, base)) == ["persisting", "new"]
    assert list(compare.changes(ids, None)) == ["", ""]


def test_resolved_lists_gone_findings_where_the_run_looked(runs, tmp_path):
    a, b = runs
    base = compare.read_run(a)
    current = compare.read_run(b)
    frame = compare.resolved(base, current.findings["finding_id"], current.covered)
    path = compare.write_resolved(frame, tmp_path)
    rows = read(path)
    assert list(rows[0]) == compare.RESOLVED_COLUMNS
    assert [(r["rule_id"], r["unit_code"], r["ref"], r["baseline_status"], r["baseline_exposure"], r["outcome"])
            for r in rows] == [
        ("SF02", "001", "bank_txns:L2", "dismissed", "100.00", "gone"),
        ("SF04", "001", "bank_txns:L1", "confirmed", "50000.00", "rectified"),
        ("SF05", "003", "'=cmd", "open", "5.00", "gone"),    # formula-safe
    ]
    assert rows[1]["finding_id"] == finding_id("SF04", "001", "bank_txns:L1")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_diff_writes_every_change_exactly(runs, tmp_path):
    a, b = runs
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(main, ["diff", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output and "仍存在 1" in result.output and "已消除 3" in result.output
    rows = read(out)
    assert list(rows[0]) == compare.DIFF_COLUMNS
    got = [(r["rule_id"], r["unit_code"], r["ref"], r["change"], r["exposure_a"], r["exposure_b"], r["status_a"],
            r["status_b"]) for r in rows]
    assert got == [
        ("SF02", "001", "bank_txns:L2", "resolved", "100.00", "", "dismissed", ""),
        ("SF04", "001", "bank_txns:L1", "resolved", "50000.00", "", "confirmed", ""),
        ("SF05", "003", "'=cmd", "resolved", "5.00", "", "open", ""),
        ("SF06", "001", "payments:P1", "persisting", "36800.00", "30000.00", "open", "confirmed"),
        ("SF07", "001", "payments:P2", "new", "", "7.00", "", "open"),
    ]  # DP01 of unit 002 is left out: b's task for it failed
    assert all(r["finding_id"] == finding_id(r["rule_id"], r["unit_code"], r["ref"].lstrip("'")) for r in rows)


def test_an_old_findings_csv_without_ids_is_matched_by_recomputed_ids(tmp_path):
    old = make_run(tmp_path / "old", [(S, "SF06", "001", "payments:P1", "36800.00", "", "")], old_format=True)
    new = make_run(tmp_path / "new", [(S, "SF06", "001", "payments:P1", "36800.00", "36800.00", "open")])
    rows = compare.diff(old, new)
    assert list(rows["change"]) == ["persisting"] and list(rows["exposure_a"]) == ["36800.00"]
    assert list(rows["status_a"]) == ["open"]


def test_a_folder_without_findings_is_refused_with_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    make_run(tmp_path / "b", [])
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "empty"), str(tmp_path / "b"), "--out",
                                       str(tmp_path / "d.csv")])
    assert result.exit_code == 2 and "findings.csv" in result.output
    assert not (tmp_path / "d.csv").exists()


def test_money_cells_are_numbers_or_inert():
    assert money_text("-12.5") == "-12.50" and money_text("") == ""
    assert money_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
