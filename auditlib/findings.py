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
