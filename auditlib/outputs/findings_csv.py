"""``findings.csv`` of CONTRACT §4: UTF-8 with BOM, one row per finding, formula-safe."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

CSV_COLUMNS = ["run_id", "inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail"]

#: a cell starting with one of these is read as a formula by spreadsheet programs
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text) -> str:
    """Text made inert for spreadsheets: a leading ``'`` before ``= + - @ tab CR``."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    text = str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def unneutralize(text: str) -> str:
    """The value :func:`neutralize` was given: the quote it added taken off again."""
    if isinstance(text, str) and len(text) > 1 and text[0] == "'" and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


#: columns of ``findings.csv`` that hold text and are neutralised (``amount`` is a number)
TEXT_COLUMNS = ("run_id", "unit_code", "ref", "title", "detail")


def read_findings_csv(path: str | os.PathLike) -> pd.DataFrame:
    """A ``findings.csv`` as text columns with the values the engine produced (quotes taken off).

    A value that itself began with ``'`` followed by ``= + - @`` tab or CR cannot be told from a
    neutralised one; unit codes, refs and details of real data do not.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col in TEXT_COLUMNS:
        if col in df.columns:
            df[col] = df[col].map(unneutralize)
    return df


def write_findings_csv(findings: pd.DataFrame, path: str | os.PathLike, run_id: str) -> Path:
    """Write ``findings`` (the engine's frame) as ``findings.csv``; written then renamed, never half-visible.

    Amounts are written exactly (``Decimal`` text with two places); empty for unit-level indicators.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    ordered = findings.sort_values(["inspection", "rule_id", "unit_code", "ref"], kind="stable")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in ordered.itertuples(index=False):
            amount = "" if row.amount is None or pd.isna(row.amount) else f"{row.amount:.2f}"
            writer.writerow([neutralize(run_id), row.inspection, row.rule_id, neutralize(row.unit_code),
                             neutralize(row.ref), amount, row.severity, neutralize(row.title),
                             neutralize(row.detail)])
    os.replace(tmp, path)
    return path
