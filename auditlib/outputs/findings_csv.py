"""``findings.csv`` of CONTRACT §4: UTF-8 with BOM, one row per finding, formula-safe.

Since v2 each row also carries ``finding_id, exposure, interest, status, change`` (§6): ``status``
is ``open`` for a finding the register does not mention (or a run without a register), ``change``
is empty without a baseline; :mod:`auditlib.outputs.verification` says what an absent column means.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from auditlib.common.cells import unneutralise
from auditlib.common.csvfile import write_csv
from auditlib.outputs.verification import changes, exposure, interest, statuses
from auditlib.rules.identity import finding_ids

CSV_COLUMNS = ["run_id", "inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail",
               "finding_id", "exposure", "interest", "status", "change"]

#: columns of ``findings.csv`` that hold text and are neutralised (amounts are numbers; finding_id,
#: status and change are the workbench's own words)
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
    The frame may carry ``finding_id`` (computed when absent), ``exposure``, ``interest``, ``status``
    and ``change`` (see :mod:`auditlib.outputs.verification` for their defaults).
    """
    ordered = findings.sort_values(["inspection", "rule_id", "unit_code", "ref"], kind="stable")
    ids = ordered["finding_id"] if "finding_id" in ordered.columns else finding_ids(ordered)
    extra = zip(ids, exposure(ordered), interest(ordered), statuses(ordered), changes(ordered))
    rows = ([run_id, row.inspection, row.rule_id, row.unit_code, row.ref, row.amount, row.severity, row.title,
             row.detail, fid, exp, intr, status.value, "" if change is None else change.value]
            for row, (fid, exp, intr, status, change) in zip(ordered.itertuples(index=False), extra))
    return write_csv(path, CSV_COLUMNS, rows, money=("amount", "exposure", "interest"))


