"""``findings.csv`` of CONTRACT §4: UTF-8 with BOM, one row per finding, formula-safe.

Since v2 each row also carries ``finding_id, exposure, interest, status, change`` (§6): ``status``
is ``open`` for a finding the register does not mention (or a run without a register), ``change``
is empty without a baseline; :mod:`auditlib.outputs.verification` says what an absent column means.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from auditlib.common.cells import neutralise, unneutralise
from auditlib.common.csvfile import csv_cells, money_cells, text_cells, write_csv_chunks, write_csv_columns
from auditlib.outputs.verification import as_money, changes, statuses
from auditlib.review.statuses import Status
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

    Built column by column (:func:`~auditlib.common.csvfile.text_cells`,
    :func:`~auditlib.common.csvfile.money_cells`, :func:`~auditlib.common.csvfile.write_csv_columns`):
    the same bytes as writing each row through :func:`~auditlib.common.csvfile.write_csv`.
    """
    ordered = _ordered(findings)
    cells = finding_cells(ordered)
    n = len(ordered)
    cells["status"] = ([Status.OPEN.value] * n if "status" not in ordered.columns
                       else [s.value for s in statuses(ordered)])
    cells["change"] = ([""] * n if "change" not in ordered.columns
                       else ["" if c is None else c.value for c in changes(ordered)])
    for col in ("status", "change"):
        cells[col] = text_cells(cells[col])
    cells["run_id"] = [neutralise(run_id)] * n
    return write_csv_columns(path, CSV_COLUMNS, [cells[c] for c in CSV_COLUMNS])


#: the columns of findings.csv an engine's findings give (:func:`finding_cells`); the others are the
#: run's (``run_id``) and the register's (``status``, ``change``)
FINDING_CELLS = CSV_COLUMNS[1:12]


def finding_cells(findings: pd.DataFrame) -> dict[str, list[str]]:
    """The cells of :data:`FINDING_CELLS` of ``findings`` (in its order), as findings.csv holds them:
    text neutralised, money as exact text with two places, ``finding_id`` computed when absent,
    exposure and interest as verification reads them (``as_money``)."""
    n = len(findings)
    ids = findings["finding_id"] if "finding_id" in findings.columns else finding_ids(findings)
    cells = {}
    for col in ("inspection", "rule_id", "unit_code", "ref"):
        cells[col] = text_cells(_values(findings[col]))
    cells["amount"] = money_cells(_values(findings["amount"]))
    for col in ("severity", "title", "detail"):
        cells[col] = text_cells(_values(findings[col]))
    cells["finding_id"] = text_cells(_values(ids))
    for col in ("exposure", "interest"):
        source = col if col in findings.columns else ("amount" if col == "exposure" else None)
        if source is None or source not in findings.columns:
            cells[col] = [""] * n
        else:
            cells[col] = money_cells(_values(findings[source]), parse=as_money)
    return cells


def write_findings_chunks(path: str | os.PathLike, run_id: str, chunks) -> Path:
    """Write findings.csv from ``chunks`` of :func:`finding_cells` (dicts of cells, each chunk's rows
    already in findings.csv's order and the chunks in order), every finding ``open`` with no
    change: the same bytes as :func:`write_findings_csv` of the findings of all the chunks.  A
    chunk may also be a list of rows already written as csv writes them, all but their run id
    (``<inspection>,...,open,``).  A chunk is written as soon as ``chunks`` gives it; the file
    appears when all are written."""
    run = neutralise(run_id)
    lead = csv_cells([run])[0] + ","

    def columns():
        for cells in chunks:
            if isinstance(cells, list):
                if cells:
                    yield lead + ("\r\n" + lead).join(cells) + "\r\n"
                continue
            n = len(cells["rule_id"])
            extra = {"run_id": [run] * n, "status": [Status.OPEN.value] * n, "change": [""] * n}
            yield [extra[c] if c in extra else cells[c] for c in CSV_COLUMNS]
    return write_csv_chunks(path, CSV_COLUMNS, columns())


#: the order of findings.csv's rows (a stable sort)
_ORDER = ["inspection", "rule_id", "unit_code", "ref"]


def _values(column: pd.Series) -> list:
    """A column's values as Python objects, as ``itertuples`` gives them (missing text as NaN)."""
    return column.to_numpy(dtype=object).tolist()


def _ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` stably sorted by inspection, rule, unit and ref.

    The engine gives each rule's findings already ordered by unit and ref, so the rows are ordered
    by (inspection, rule) only, stably, and each rule's rows checked to be in order already; the same
    rows in the same order as the full stable sort, which runs when the check fails or a key is
    missing (NaN) or not text."""
    full = lambda: findings.sort_values(_ORDER, kind="stable")  # noqa: E731
    if len(findings) < 2:
        return full()
    keys = [findings[c].to_numpy(dtype=object) for c in _ORDER]
    if not all(set(map(type, k)) <= {str} for k in keys):
        return full()
    (ci, inspections), (cr, rules) = pd.factorize(keys[0]), pd.factorize(keys[1])
    pair = ci.astype(np.int64) * len(rules) + cr  # (inspection, rule) as one code
    codes = np.unique(pair)
    ranked = sorted(codes.tolist(), key=lambda c: (inspections[c // len(rules)], rules[c % len(rules)]))
    rank = np.empty(int(codes.max()) + 1, dtype=np.int64)
    rank[ranked] = np.arange(len(ranked))
    group = rank[pair]
    perm = np.argsort(group, kind="stable")
    g, unit, ref = group[perm], keys[2][perm], keys[3][perm]
    same_group = g[1:] == g[:-1]
    in_order = (unit[1:] > unit[:-1]) | ((unit[1:] == unit[:-1]) & (ref[1:] >= ref[:-1]))
    if not bool(np.all(in_order | ~same_group)):
        return full()
    return findings.iloc[perm]
