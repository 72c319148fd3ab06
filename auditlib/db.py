"""Opening the audit database and reading query results without losing exactness.

DuckDB turns DECIMAL into float64 when it builds a pandas frame; :func:`frame`
keeps money exact by converting DECIMAL columns to :class:`decimal.Decimal`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from auditlib.errors import DatabaseError
from auditlib.i18n import register, t

if TYPE_CHECKING:  # pandas is imported where a frame is made, so `auditlib ingest` starts without it
    import pandas as pd

register({
    "db.locked": ("数据库 {db} 正被其他进程使用（PID {pid}，例如正在运行的 auditlib run），请待其结束后重试",
                  "database {db} is in use by another process (PID {pid}, e.g. a running auditlib run); "
                  "retry when it ends"),
})


def lock_error(path, exc: Exception) -> DatabaseError | None:
    """DuckDB's "Could not set lock ... Conflicting lock is held in ... (PID n)" as a clear
    :class:`DatabaseError` (Chinese / English, naming the database and the process); None for
    any other error."""
    text = str(exc)
    if "lock" not in text.lower() or not isinstance(exc, duckdb.IOException):
        return None
    m = re.search(r"PID (\d+)", text)
    pid = m.group(1) if m else "?"
    message = (t("db.locked", "zh", db=path, pid=pid) + " / " + t("db.locked", "en", db=path, pid=pid)
               + " (DuckDB lock)")
    return DatabaseError(message, db=str(path), reason="locked", pid=pid)


def connect(db: str | os.PathLike, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database: the one way every command opens it.

    Parameters
    ----------
    db : path-like
        The database file.
    read_only : bool
        Read-only (the default; a missing file is then an error), or for writing (the ingest;
        a missing file is created).

    Raises
    ------
    DatabaseError
        The file is missing (read-only), locked by another process (:func:`lock_error`:
        ``reason="locked"`` with the PID), or cannot be opened (not a DuckDB database ...).
    """
    path = Path(db)
    if read_only and not path.exists():
        raise DatabaseError(f"数据库不存在 / database not found: {path}", db=str(path), reason="missing")
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:  # locked by a writer, unreadable, not a database ...
        locked = lock_error(path, exc)
        if locked is not None:
            raise locked from exc
        raise DatabaseError(f"无法打开数据库 / cannot open database {path}: {exc}", db=str(path), reason=str(exc)) from exc


#: set to ``1`` in the environment of a process that lives no longer than one run (the local
#: executor's kernels): :func:`run_connection` then keeps the database open for the process
KEEP_OPEN_ENV = "AUDITLIB_KEEP_DB_OPEN"

#: the read-only connections this process keeps open (path → connection), under KEEP_OPEN_ENV only
_KEPT: dict[str, duckdb.DuckDBPyConnection] = {}


def run_connection(db: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """A read-only connection for a notebook under ``auditlib run`` (close it after use).

    In a process whose environment sets :data:`KEEP_OPEN_ENV` (a kernel of the local executor, which
    ends with its run: the run holds the database read-only meanwhile, so nothing can change it) a
    cursor of one connection kept open for the process: DuckDB opens the file once per kernel
    instead of once per notebook (~25 ms each).  Anywhere else (a Dask worker's kernel serves many
    runs, and an open connection would keep ``auditlib ingest`` out) a new connection.
    """
    if os.environ.get(KEEP_OPEN_ENV) != "1":
        return connect(db)
    key = str(Path(db).resolve())
    kept = _KEPT.get(key)
    if kept is None:
        kept = _KEPT[key] = connect(db)
    return kept.cursor()


def frame(rel: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A relation as a pandas frame, DECIMAL columns as exact ``Decimal`` objects."""
    import pandas as pd

    names = rel.columns
    types = [str(t) for t in rel.types]
    rows = rel.fetchall()
    df = pd.DataFrame.from_records(rows, columns=names)
    for name, typ in zip(names, types):
        if typ.startswith("DECIMAL"):
            df[name] = df[name].astype(object)
    return df


def quote_ident(name) -> str:
    """``name`` as a quoted SQL identifier (a column or table name that may hold any character)."""
    return '"' + str(name).replace('"', '""') + '"'


def query(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> pd.DataFrame:
    """Run ``sql`` and return :func:`frame` of its result."""
    return frame(con.sql(sql, params=params) if params else con.sql(sql))


def ingested_files(db) -> list[dict]:
    """Input files recorded by ingest: file, table, rows, sha256 (empty for a hand-made database)."""
    con = connect(db)
    try:
        has = con.execute("SELECT count(*) FROM information_schema.tables "
                          "WHERE table_name = '_ingested_files'").fetchone()[0]
        if not has:
            return []
        rows = con.execute("SELECT file, table_name, rows_loaded, sha256 FROM _ingested_files "
                           "ORDER BY table_name, file").fetchall()
    finally:
        con.close()
    return [{"file": f, "table": tb, "rows": int(n or 0), "sha256": s} for f, tb, n, s in rows]
