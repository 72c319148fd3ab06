"""findings.csv written column by column (issue 17) is byte for byte what the row-by-row writer
wrote: the same quoting, money text, formula neutralisation, BOM and line endings, on a frame of
awkward values.  The row-by-row writer is kept here, in the test, as the reference."""
from __future__ import annotations

import csv
import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from auditlib.common.cells import neutralise
from auditlib.common.csvfile import money_cells, money_text, text_cells, write_csv, write_csv_columns
from auditlib.outputs.findings_csv import CSV_COLUMNS, read_findings_csv, write_findings_csv
from auditlib.outputs.verification import changes, exposure, interest, statuses
from auditlib.review.statuses import Change, Status
from auditlib.rules.identity import finding_ids


def reference_write(findings: pd.DataFrame, path, run_id: str):
    """The writer as it was before issue 17: every row through ``csv.writer``, every cell through
    ``neutralise`` or ``money_text``."""
    ordered = findings.sort_values(["inspection", "rule_id", "unit_code", "ref"], kind="stable")
    ids = ordered["finding_id"] if "finding_id" in ordered.columns else finding_ids(ordered)
    extra = zip(ids, exposure(ordered), interest(ordered), statuses(ordered), changes(ordered))
    rows = ([run_id, row.inspection, row.rule_id, row.unit_code, row.ref, row.amount, row.severity, row.title,
             row.detail, fid, exp, intr, status.value, "" if change is None else change.value]
            for row, (fid, exp, intr, status, change) in zip(ordered.itertuples(index=False), extra))
    return write_csv(path, CSV_COLUMNS, rows, money=("amount", "exposure", "interest"))


HOSTILE = ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(1)", "\tlead tab", "\rlead cr", "\nlead lf",
           "=HYPERLINK(\"http://x\",\"点我\")", "'=already quoted", "a,b", 'say "hi"', "line\nbreak",
           "cr\rinside", "", " ", "小金库，单位“甲”", "中文\n第二行", "x\x00y", "=", "-", "'", "\u3000全角"]
AMOUNTS = [Decimal("12345678901234567890.123456789"), Decimal("0.005"), Decimal("0.015"), Decimal("-0.00"),
           Decimal("-0"), Decimal("1E+3"), Decimal("1E-9"), Decimal("1.5E-7"), Decimal("12.30"), Decimal("-7.25"),
           Decimal("NaN"), Decimal("Infinity"), None, float("nan"), 1.25, 0.1 + 0.2, 7, "3.456", "=1+1", "  1.00",
           pd.NA, Decimal("100"), Decimal("99.999")]


def awkward_frame(n: int = 240, seed: int = 7) -> pd.DataFrame:
    """Findings with hostile text, missing values, many-digit and odd amounts, dates and Chinese."""
    rng = np.random.default_rng(seed)
    pick = lambda seq: [seq[i] for i in rng.integers(0, len(seq), n)]  # noqa: E731
    texts = HOSTILE + [None, float("nan"), dt.date(2024, 2, 29), pd.Timestamp("2024-03-01 08:30"), 42, 3.5,
                       Decimal("1.10"), Status.CONFIRMED]
    return pd.DataFrame({
        "inspection": pick(["slush_funds", "idle_funds", "delayed_payments", "=evil"]),
        "rule_id": pick(["SF06", "IF01", "DP04", "+X"]),
        "unit_code": pick(["001", "002", "-01", "单位 甲", "a/b"]),
        "ref": [f"payments:P{int(i):04d}" for i in rng.integers(0, 60, n)],
        "amount": pick(AMOUNTS),
        "severity": pick(["high", "medium", "low", "", None]),
        "title": pick(["大额现金支付", "=title", "Title, with comma"]),
        "detail": pick(texts),
        "exposure": pick(AMOUNTS),
        "interest": pick([None, Decimal("0.01"), Decimal("1234.5678"), float("nan"), "", "x"]),
        "status": pick([Status.OPEN, Status.CONFIRMED, "dismissed", "属实", None, float("nan"), "", "unknown"]),
        "change": pick([None, Change.NEW, "persisting", "新增", "", "?"]),
    })


def _same(frame: pd.DataFrame, tmp_path, run_id: str = "scan-20261129T120000") -> bytes:
    new, ref = tmp_path / "new.csv", tmp_path / "ref.csv"
    write_findings_csv(frame, new, run_id)
    reference_write(frame, ref, run_id)
    assert new.read_bytes() == ref.read_bytes()
    return new.read_bytes()


def test_awkward_values_write_the_same_bytes(tmp_path):
    data = _same(awkward_frame(), tmp_path)
    assert data.startswith(b"\xef\xbb\xbfrun_id,") and b"\r\n" in data
    assert b"'=cmd|" in data and b"'+1+2" in data and b"'@SUM(1)" in data  # neutralised
    assert "小金库".encode() in data


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_optional_columns_and_hostile_run_id(tmp_path, seed):
    frame = awkward_frame(120, seed).drop(columns=["exposure", "interest", "status", "change"])
    _same(frame, tmp_path, run_id="=run")
    frame["finding_id"] = finding_ids(frame)
    _same(frame, tmp_path, run_id="-run")


def test_text_dtype_columns_with_missing_values(tmp_path):
    frame = awkward_frame(200, 11)
    for col in ("inspection", "rule_id", "unit_code", "ref", "severity", "title"):
        frame[col] = frame[col].astype("string")  # pandas' text dtype: missing as <NA>/NaN
    _same(frame, tmp_path)


def test_engine_order_and_shuffled_order_are_both_sorted_alike(tmp_path):
    """The writer's shortcut (each rule's rows already ordered by unit and ref, as the engine gives
    them) and the full sort it falls back to give the reference's order, ties kept stable."""
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame({
        "inspection": rng.choice(["slush_funds", "idle_funds", "delayed_payments"], n),
        "rule_id": rng.choice(["SF02", "SF14", "IF01", "DP04", "SF10"], n),
        "unit_code": rng.choice(["001", "002", "010", "单位"], n),
        "ref": [f"payments:P{i:05d}" for i in rng.integers(0, 400, n)],  # duplicate refs: ties
        "amount": [Decimal(int(i)) / 100 for i in rng.integers(-10**6, 10**6, n)],
        "severity": "high", "title": "标题", "detail": [f"明细 {i}" for i in range(n)],
    })
    engine = frame.sort_values(["rule_id", "unit_code", "ref"], kind="stable").reset_index(drop=True)
    engine = pd.concat([engine[engine["rule_id"] == r] for r in ["SF14", "IF01", "SF02", "DP04", "SF10"]],
                       ignore_index=True)  # rules in catalogue-like order, each ordered by unit and ref
    _same(engine, tmp_path)
    _same(frame, tmp_path)  # not ordered: the full sort
    _same(frame.iloc[::-1], tmp_path)
    with_nan = frame.copy()
    with_nan.loc[3, "ref"] = float("nan")
    _same(with_nan, tmp_path)


def test_empty_and_one_row(tmp_path):
    frame = awkward_frame(1)
    _same(frame, tmp_path)
    _same(frame.iloc[:0], tmp_path)


def test_cells_match_neutralise_and_money_text():
    texts = HOSTILE + [None, float("nan"), pd.NA, 1, 2.5, dt.date(2024, 1, 2), Status.OPEN, Decimal("1.0")]
    assert text_cells(texts) == [neutralise(v) for v in texts]
    assert text_cells(["plain", "中文", "a,b"]) == ["plain", "中文", "a,b"]
    assert text_cells(["ok", "=bad"]) == ["ok", "'=bad"]
    amounts = [v for v in AMOUNTS if not (isinstance(v, float) and math.isnan(v))]
    assert money_cells(amounts) == [money_text(v) for v in amounts]
    decimals = [Decimal("1.23"), Decimal("-0.00"), Decimal("1E+2"), Decimal("1.2E-7"), Decimal("0.125"), None]
    assert money_cells(decimals) == [money_text(v) for v in decimals] == ["1.23", "-0.00", "100.00", "0.00",
                                                                           "0.12", ""]


@pytest.mark.parametrize("columns", [["a", "b", "c"], ["only"], ["", "x"]])
def test_column_writer_equals_row_writer(tmp_path, columns):
    values = HOSTILE + ["", "plain"]
    cells = [text_cells(values[i:] + values[:i]) for i in range(len(columns))]
    write_csv_columns(tmp_path / "cols.csv", columns, cells)
    write_csv(tmp_path / "rows.csv", columns, list(zip(*cells)))
    assert (tmp_path / "cols.csv").read_bytes() == (tmp_path / "rows.csv").read_bytes()
    with open(tmp_path / "cols.csv", encoding="utf-8-sig", newline="") as fh:
        assert [row for row in csv.reader(fh)][1:] == [list(r) for r in zip(*cells)]


def test_read_back_gives_the_engine_text(tmp_path):
    frame = pd.DataFrame({"inspection": ["slush_funds"] * 3, "rule_id": ["SF06"] * 3, "unit_code": ["001"] * 3,
                          "ref": ["payments:P1", "payments:P2", "payments:P3"],
                          "amount": [Decimal("1.5"), None, Decimal("-2")], "severity": ["high"] * 3,
                          "title": ["标题"] * 3, "detail": ["=cmd|' /C calc'!A0", "第一行\n第二行", 'a "b", c']})
    write_findings_csv(frame, tmp_path / "f.csv", "r1")
    back = read_findings_csv(tmp_path / "f.csv")
    assert back["detail"].tolist() == frame["detail"].tolist()
    assert back["amount"].tolist() == ["1.50", "", "-2.00"]


def test_scan_runs_the_engine_once_with_the_rows_of_one_run_per_inspection(sample_db, tmp_path, monkeypatch):
    """``auditlib scan`` asks the engine once for all the chosen inspections (units and coverage
    once); its findings.csv is the one a run per inspection wrote through the reference writer."""
    import auditlib.batch.scan as scan_module
    from auditlib.batch.plan import select_inspections
    from auditlib.rules.engine import inspect

    calls = []
    engine_run = scan_module.finding_cells_by_rule

    def counting(*args, **kwargs):
        calls.append(args)
        return engine_run(*args, **kwargs)

    monkeypatch.setattr(scan_module, "finding_cells_by_rule", counting)
    for chosen in (None, ["slush_funds", "delayed_payments"]):
        calls.clear()
        out = tmp_path / "scan.csv"
        scan_module.scan(sample_db, inspections=chosen, out=out, run_id="r1")
        assert len(calls) == 1
        names = select_inspections(chosen, "zh")
        frames = [inspect(sample_db, name, keep_evidence=False).findings for name in names]
        reference_write(pd.concat(frames, ignore_index=True), tmp_path / "ref.csv", "r1")
        assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
        assert len(out.read_bytes().splitlines()) > 5
