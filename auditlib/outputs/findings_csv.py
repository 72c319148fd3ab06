"""``findings.csv`` of CONTRACT §4: UTF-8 with BOM, one row per finding, formula-safe."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from auditlib.common.cells import neutralise, unneutralise
from auditlib.common.files import atomic_write

CSV_COLUMNS = ["run_id", "inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail"]

#: columns of ``findings.csv`` that hold text and are neutralised (``amount`` is a number)
TEXT_COLUMNS = ("run_id", "unit_code", "ref", "title", "detail")


def read_findings_csv(path: str | os.PathLike) -> pd.DataFrame:
    """A ``findings.csv`` as text columns with the values the engine produced (quotes taken off).

    A value that itself began with ``'`` followed by ``= + - @``, tab, CR or LF cannot be told from a
    neutralised one; unit codes, refs and details of real data do not.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col in TEXT_COLUMNS:
        if col in df.columns:
            df[col] = df[col].map(unneutralise)
    return df


def write_findings_csv(findings: pd.DataFrame, path: str | os.PathLike, run_id: str) -> Path:
    """Write ``findings`` (the engine's frame) as ``findings.csv``; written then renamed, never half-visible.

    Amounts are written exactly (``Decimal`` text with two places); empty for unit-level indicators.
    """
    ordered = findings.sort_values(["inspection", "rule_id", "unit_code", "ref"], kind="stable")
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in ordered.itertuples(index=False):
            amount = "" if row.amount is None or pd.isna(row.amount) else f"{row.amount:.2f}"
            writer.writerow([neutralise(run_id), row.inspection, row.rule_id, neutralise(row.unit_code),
                             neutralise(row.ref), amount, row.severity, neutralise(row.title),
                             neutralise(row.detail)])
    return Path(path)
