"""The row path: a data file parsed row by row in Python and loaded into its table.

Every cell goes through the parser of its column's type
(:data:`~auditlib.ingest.values.PARSERS`); a row with a cell that does not parse, an
empty required cell, a key already seen or too few cells is rejected whole, each
refused cell a :class:`~auditlib.ingest.report.Reject`.  Subtotal rows (合计 ...) are
counted and dropped.  The fast path (:mod:`auditlib.ingest.fast`) must load exactly what
this path loads, and sends every row it cannot convert in SQL through :func:`parse_row`.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
from decimal import Decimal
from pathlib import Path

from auditlib.ingest import profiles, schema
from auditlib.ingest.header import check_not_empty, map_header, read_with_header
from auditlib.ingest.readers import read_file
from auditlib.ingest.report import FileReport, Reject, RejectReason
from auditlib.ingest.values import PARSERS, ValueParseError, cell_text, is_subtotal

#: money columns whose empty cell means 0
ZERO_IF_EMPTY = {("ledger", "debit"), ("ledger", "credit"), ("bank_txns", "inflow"), ("bank_txns", "outflow")}


def to_sql_text(value) -> str | None:
    """A parsed value as the text DuckDB casts back exactly."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


@contextlib.contextmanager
def insert_text_rows(con, name: str, columns: dict[str, list], types: dict[str, str] | None = None):
    """A temporary table ``name`` of the columns given as lists of text (``None`` for NULL; a
    column of ``types`` as that SQL type), dropped again when the ``with`` block ends.  One
    statement however many rows, and no data frame library."""
    types = types or {}
    keys = list(columns)
    select = ", ".join(f'unnest(${i + 1}::{types.get(k, "VARCHAR")}[]) AS "{k}"' for i, k in enumerate(keys))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}", [columns[k] for k in keys])
    try:
        yield name
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def subtotal_indexes(table: schema.Table, mapped: dict) -> list[int]:
    """The cells a subtotal mark (合计 ...) is looked for in: the subtotal columns and the dates."""
    idx = [mapped[c] for c in table.subtotal_columns if c in mapped]
    return idx + [mapped[c.name] for c in table.columns if c.type == "date" and c.name in mapped]


def parse_row(table: schema.Table, mapped: dict, labels: dict, file: str, line: int,
              values: list) -> tuple[dict, list[Reject]]:
    """One row's cells parsed into column values, and the rejects of the cells that do not parse.

    ``mapped`` gives each column's cell index; ``labels`` the column names to show in rejects
    (a mapping profile's source columns), by default the table's column names.
    """
    row: dict = {}
    errors: list[Reject] = []
    for col in table.columns:
        cell = values[mapped[col.name]] if col.name in mapped else None
        if isinstance(cell, profiles.BadCell):
            errors.append(Reject(file, line, labels.get(col.name, col.name), cell.value, cell.reason,
                                 RejectReason.BAD_VALUE))
            continue
        try:
            val = PARSERS[col.type](cell)
        except ValueParseError as exc:
            errors.append(Reject(file, line, labels.get(col.name, col.name), cell_text(cell), exc.reason,
                                 RejectReason.BAD_VALUE))
            continue
        if val is None:
            if (table.name, col.name) in ZERO_IF_EMPTY:
                val = Decimal("0.00")
            elif (table.name, col.name) == ("payments", "payee_is_sme"):
                val = False
        row[col.name] = val
    if table.name == "budget" and row.get("fiscal_year") is None and row.get("issued_on") is not None:
        row["fiscal_year"] = row["issued_on"].year
    for col in table.columns:
        if col.required and col.name in row and row[col.name] is None:
            errors.append(Reject(file, line, labels.get(col.name, col.name), "", RejectReason.MISSING_VALUE))
    return row, errors


def existing_keys(con, table: schema.Table) -> set:
    """The keys already in ``table``."""
    cols = ", ".join(f'"{k}"' for k in table.key)
    return {tuple(r) for r in con.execute(f"SELECT {cols} FROM {table.name}").fetchall()}


def load_file(con, path: Path, table: schema.Table, rep: FileReport, seen: set,
              rejects: list[Reject], profile=None) -> None:
    """Load ``path`` into ``table`` row by row (through ``profile`` when given).

    ``seen`` holds the keys already loaded (and gains this file's); the counts go to ``rep``,
    the refused cells to ``rejects``.
    """
    labels: dict[str, str] = {}
    if profile is not None:  # the profile turns source rows into the table's cells
        raw = read_file(path, profile.encoding_for(path.name))
        check_not_empty(raw, path.name)
        rep.set_encoding(raw)
        raw, labels = profile.apply(raw, path.name)
        mapped, extra = map_header(table, raw.header, path.name)
    else:
        raw, mapped, extra, notes = read_with_header(path, table)
        rep.set_encoding(raw)
        rep.warnings.extend(raw.notes)
        rep.warnings.extend(notes)
    # a CSV row with fewer cells than the header is rejected (a line cut off, a broken line)
    short_check = profile is None and raw.encoding is not None
    header_label = {i: name for name, i in mapped.items()}
    subtotal_idx = subtotal_indexes(table, mapped)
    extra_names = [k for k in extra]
    out: dict[str, list] = {c.name: [] for c in table.columns}
    out["_file"], out["_line"], out["_extra"] = [], [], []
    n_header = len(raw.header)

    for line, values in raw.rows:
        rep.rows_read += 1
        if values is profiles.FILTERED:
            rep.rows_filtered += 1
            continue
        values = list(values)
        n_cells = len(values)
        if n_cells < n_header:
            values += [None] * (n_header - n_cells)
        overflow = values[n_header:]
        if any(is_subtotal(values[i]) for i in subtotal_idx):
            rep.rows_subtotal += 1
            continue
        if short_check and n_cells < n_header:
            missing = header_label.get(n_cells) or cell_text(raw.header[n_cells]) or f"column_{n_cells + 1}"
            reason = f"row has {n_cells} of {n_header} columns"
            if line == raw.cut_line:
                reason += "; the file ends in this row without a line break (cut off?)"
            rep.rows_rejected += 1
            rejects.append(Reject(path.name, line, missing, ",".join(cell_text(v) for v in values[:n_cells]),
                                  reason, RejectReason.SHORT_ROW))
            continue
        row, errors = parse_row(table, mapped, labels, path.name, line, values)
        if not errors:
            key = tuple(row[k] for k in table.key)
            if key in seen:
                errors.append(Reject(path.name, line, ",".join(table.key),
                                     "|".join(cell_text(k) for k in key), RejectReason.DUPLICATE_KEY))
            else:
                seen.add(key)
        if errors:
            rep.rows_rejected += 1
            rejects.extend(errors)
            continue
        extras = {}
        for name in extra_names:
            text = cell_text(values[extra[name]])
            if text:
                extras[name] = text
        for j, cell in enumerate(overflow):
            text = cell_text(cell)
            if text:
                extras[f"column_{n_header + j + 1}"] = text
        for col in table.columns:
            out[col.name].append(to_sql_text(row[col.name]))
        out["_file"].append(path.name)
        out["_line"].append(str(line))
        out["_extra"].append(json.dumps(extras, ensure_ascii=False) if extras else None)
        rep.rows_loaded += 1

    rep.check()
    if rep.rows_loaded:
        types = {c.name: schema.SQL_TYPES[c.type] for c in table.columns}
        types.update({name: sqltype for name, sqltype in schema.PROVENANCE})
        cols = ", ".join(f'"{k}"' for k in out)
        select = ", ".join(f'CAST("{k}" AS {types[k]})' for k in out)
        with insert_text_rows(con, "_ingest_rows", out):
            con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {select} FROM _ingest_rows")
