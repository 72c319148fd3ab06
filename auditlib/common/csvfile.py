"""The one way the workbench writes a CSV file for people: UTF-8 with BOM (Excel and WPS read
Chinese), every text cell formula-safe (:func:`auditlib.common.cells.neutralise`), money cells as
exact numbers with two places, and the file written whole or not at all
(:func:`auditlib.common.files.atomic_write`).  findings.csv, rejects.csv, resolved.csv, the diff
and the register listing all go through :func:`write_csv`."""
from __future__ import annotations

import csv
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Sequence

from auditlib.common.cells import neutralise
from auditlib.common.files import atomic_write


def money_text(value) -> str:
    """A money cell: the exact value with two places; empty for none; anything else made inert."""
    if value is None or str(value) in ("", "nan", "NaN", "<NA>", "NaT", "None"):  # no amount (pandas' too)
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return neutralise(value)
    return f"{d:.2f}" if d.is_finite() else neutralise(value)


def write_csv(path: str | os.PathLike, columns: Sequence[str], rows: Iterable[Sequence],
              money: Iterable[str] = ()) -> Path:
    """Write ``rows`` under the header ``columns``; cells of the ``money`` columns as exact amounts,
    every other cell as formula-safe text."""
    is_money = [c in set(money) for c in columns]
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([money_text(v) if m else neutralise(v) for v, m in zip(row, is_money)])
    return Path(path)
