"""Each step of an ingest is timed and logged at DEBUG level (``auditlib --verbose ingest``), so
the benchmark can say where the time goes."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from auditlib.ingest import fast as fast_mod
from auditlib.ingest.load import ingest
from auditlib.ingest.timing import read_steps, step

BIN = Path(sys.executable).parent

LEDGER = ("unit_code,voucher_date,voucher_no,line_no,account_code,account_name,summary,debit,credit\n"
          "001,2024-01-05,V1,1,1002,银行存款,正常,100.00,\n"
          "001,2024/1/7,V2,1,1002,银行存款,斜杠日期,\"1,234.50\",\n"   # off the fast path
          "001,2024-01-05,V1,1,1002,银行存款,重复,5,\n")                 # duplicate key


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    return data


def test_read_steps_sums_each_step_over_the_files(caplog):
    caplog.set_level(logging.DEBUG, logger="auditlib")
    with step("a.csv", "stage"):
        pass
    with step("b.csv", "stage"):
        pass
    with step("*", "commit"):
        pass
    logging.getLogger("auditlib").debug("ingest step: not a step line")
    steps = read_steps(caplog.text)
    assert set(steps) == {"stage", "commit"}
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ingest step: a.csv")]
    assert len(lines) == 1 and lines[0].endswith(" s")
    assert steps["stage"] == pytest.approx(sum(float(r.getMessage().split("|")[2].split()[0])
                                               for r in caplog.records if "| stage |" in r.getMessage()))


@pytest.mark.parametrize("path", ["fast", "row"])
def test_an_ingest_logs_the_steps_of_the_path_it_took(path, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(fast_mod, "FAST_MIN_BYTES", 0 if path == "fast" else 10 ** 15)
    caplog.set_level(logging.DEBUG, logger="auditlib")
    report = ingest(_data(tmp_path), tmp_path / "a.duckdb")
    assert report.files[0].rows_loaded == 2 and report.files[0].rows_rejected == 1
    steps = read_steps(caplog.text)
    common = {"scan", "checks", "commit", "reports"}
    if path == "fast":
        assert set(steps) == common | {"stage", "rows off the fast path", "duplicate keys", "insert"}
    else:
        assert set(steps) == common | {"row path"}
    assert all(v >= 0 for v in steps.values())


def test_the_command_logs_the_steps_only_with_verbose(tmp_path):
    data = _data(tmp_path)
    runs = {}
    for flag in ("--verbose", None):
        db = tmp_path / f"{flag}.duckdb"
        out = subprocess.run([str(BIN / "auditlib"), *([flag] if flag else []), "ingest", str(data), "--db", str(db)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode in (0, 1), out.stderr  # 1: a third of the file rejected (over the share allowed)
        runs[flag] = read_steps(out.stdout + out.stderr)
    assert {"scan", "checks", "commit"} <= set(runs["--verbose"])
    assert runs[None] == {}
