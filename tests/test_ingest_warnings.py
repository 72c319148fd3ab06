"""Rejects and warnings are loud, never a flood (issue 16, item 3): warnings counted by kind with five
examples (file:line) and the full list in completeness.csv; the rejected share per file and the three
most common reasons in the summary; exit 1 above --max-reject-share, 0 when all is well, 2 on errors."""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from click.testing import CliRunner

from auditlib.cli import main
from auditlib.ingest.load import ingest

N = 3000


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"AUDITLIB_LANG": None})


def _unknown_budget_ids(tmp_path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "budget.csv").write_text("unit_code,budget_id,amount,issued_on\n0012,B-1,100,2024-01-01\n",
                                     encoding="utf-8")
    lines = [f"0012,P{i},甲公司,1,B-X{i}" for i in range(N)]
    (data / "payments.csv").write_text("unit_code,payment_id,payee_name,amount,budget_id\n" + "\n".join(lines) + "\n",
                                       encoding="utf-8")
    return data


def test_thousands_of_warnings_are_counted_not_printed(tmp_path, caplog):
    data = _unknown_budget_ids(tmp_path)
    db = tmp_path / "a.duckdb"
    with caplog.at_level(logging.WARNING, logger="auditlib"):
        report = ingest(data, db)
    assert len(report.issues) == N
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 3  # one line per kind
    text = report.describe("en")
    assert len(text.splitlines()) < 30
    assert f"payments naming an unknown budget_id: {N}" in text
    examples = [ln for ln in text.splitlines() if ln.strip().startswith("payments.csv:")]
    assert len(examples) == 5 and examples[0].strip().startswith("payments.csv:2  ")  # five examples, file:line
    assert f"{N - 5} more, all in {report.completeness_path}" in text
    with open(tmp_path / "completeness.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == N and rows[0]["kind"] == "unknown_budget_id" and rows[0]["file"] == "payments.csv"
    assert rows[0]["line"] == "2" and "B-X0" in rows[0]["message"]
    records = {r["file"]: r for r in json.loads((tmp_path / "ingest_report.json").read_text("utf-8"))}
    assert records["payments.csv"]["completeness"] == {"unknown_budget_id": N}
    assert records["budget.csv"]["completeness"] == {}
    res = invoke("ingest", data, "--db", tmp_path / "b.duckdb")
    assert res.exit_code == 0 and len(res.output.splitlines()) < 30, res.output


def _rejecting(tmp_path, bad: int, good: int = 8) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    lines = [f"0012,P{i},甲,1,2024-03-0{1 + i % 9}" for i in range(good)]
    lines += [f"0012,Q{i},乙,1,2024-13-01" for i in range(bad)]
    lines += ["0012,R1,丙,abc,2024-03-01"] if bad else []
    (data / "payments.csv").write_text("unit_code,payment_id,payee_name,amount,paid_on\n" + "\n".join(lines) + "\n",
                                       encoding="utf-8")
    (data / "units.csv").write_text("unit_code,unit_name\n0012,某局\n", encoding="utf-8")
    return data


def test_rejected_share_above_the_limit_is_exit_1_with_the_reasons(tmp_path):
    data = _rejecting(tmp_path, bad=2)
    res = invoke("ingest", data, "--db", tmp_path / "a.duckdb", "--lang", "en")
    assert res.exit_code == 1, res.output
    assert "27.3%" in res.output  # 3 of 11 rows of payments.csv
    assert "payments.csv: 3 row(s) rejected (27.3%), most common reasons: paid_on: not a calendar date: '…' ×2; " \
           "amount: not a money amount: '…' ×1" in res.output
    assert "more than --max-reject-share 1.0%" in res.output
    records = {r["file"]: r for r in json.loads((tmp_path / "ingest_report.json").read_text("utf-8"))}
    assert records["payments.csv"]["rejected_share"] == round(3 / 11, 6) and records["units.csv"]["rejected_share"] == 0


def test_rejected_share_within_the_limit_is_exit_0(tmp_path):
    data = _rejecting(tmp_path, bad=2)
    res = invoke("ingest", data, "--db", tmp_path / "a.duckdb", "--max-reject-share", "0.5")
    assert res.exit_code == 0, res.output
    assert "拒收率" in res.output and "最常见原因" in res.output


def test_no_rejects_is_exit_0_and_an_error_is_exit_2(tmp_path):
    data = _rejecting(tmp_path, bad=0)
    assert invoke("ingest", data, "--db", tmp_path / "a.duckdb").exit_code == 0
    (data / "ledger.csv").write_text("unit_code\n0012\n", encoding="utf-8")  # required columns missing
    res = invoke("ingest", data, "--db", tmp_path / "b.duckdb")
    assert res.exit_code == 2


def test_max_reject_share_is_checked(tmp_path):
    res = invoke("ingest", tmp_path, "--db", tmp_path / "a.duckdb", "--max-reject-share", "2")
    assert res.exit_code == 2 and "--max-reject-share" in res.output
