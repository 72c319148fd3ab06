"""Opening the audit database and reading query results without losing exactness.

DuckDB turns DECIMAL into float64 when it builds a pandas frame; :func:`frame`
keeps money exact by converting DECIMAL columns to :class:`decimal.Decimal`.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from .errors import DatabaseError


def connect(db: str | os.PathLike, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database; read-only unless told otherwise. A missing file is an error."""
    path = Path(db)
    if read_only and not path.exists():
        raise DatabaseError(f"数据库不存在 / database not found: {path}", db=str(path), reason="missing")
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:  # locked by a writer, unreadable ...
        raise DatabaseError(f"无法打开数据库 / cannot open database {path}: {exc}", db=str(path), reason=str(exc)) from exc


def frame(rel: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A relation as a pandas frame, DECIMAL columns as exact ``Decimal`` objects."""
    names = rel.columns
    types = [str(t) for t in rel.types]
    rows = rel.fetchall()
    df = pd.DataFrame.from_records(rows, columns=names)
    for name, typ in zip(names, types):
        if typ.startswith("DECIMAL"):
            df[name] = df[name].astype(object)
    return df


def query(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> pd.DataFrame:
    """Run ``sql`` and return :func:`frame` of its result."""
    return frame(con.sql(sql, params=params) if params else con.sql(sql))
