"""Loading a folder of CSV/XLSX exports into the audit database (CONTRACT §1).

Every file is accounted for: rows read = rows loaded + subtotal rows dropped +
rows rejected.  Rejected rows go to ``rejects.csv`` with file, line, column,
value and reason; a file lacking a required column is an error naming the
file, the column and the columns found.  A file already loaded (same SHA-256)
is not loaded again.  Input files are only ever opened for reading.

This module runs the ingest: it opens the database in one transaction and sends
each file down the fast path (:mod:`auditlib.ingest.fast`, large plain UTF-8 CSV
files) or the row path (:mod:`auditlib.ingest.rows`), then writes the report
(:mod:`auditlib.ingest.report`) and the audit-log line.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
from pathlib import Path

import duckdb

from auditlib import auditlog
from auditlib.common.files import sha256_file
from auditlib.db import connect
from auditlib.errors import InputError, MappingError
from auditlib.ingest import profiles, schema
from auditlib.ingest.completeness import completeness_warnings, far_date_warnings
from auditlib.ingest.fast import load_csv_fast, sql_str
from auditlib.ingest.report import (REJECTS_NAME, REPORT_NAME, FileReport, FileStatus, IngestReport,
                                    write_rejects, write_report)
from auditlib.ingest.rows import existing_keys, load_file

logger = logging.getLogger("auditlib")

SUFFIXES = (".csv", ".xlsx")
#: DuckDB memory during an ingest (AUDITLIB_INGEST_MEMORY overrides): beyond it DuckDB spills to
#: disk beside the database, so a very large CSV is loaded in flat memory
INGEST_MEMORY = "256MB"


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables of CONTRACT §1, and ``_ingested_files``: the files loaded, by SHA-256."""
    for table in schema.TABLES.values():
        con.execute(schema.ddl(table))
    con.execute(
        "CREATE TABLE IF NOT EXISTS _ingested_files (sha256 VARCHAR PRIMARY KEY, file VARCHAR, "
        "table_name VARCHAR, rows_loaded INTEGER, loaded_at TIMESTAMP)"
    )


def _data_files(data_dir: Path) -> list[Path]:
    """The ``*.csv`` / ``*.xlsx`` files of ``data_dir`` (not Excel's ``~$`` lock files), sorted."""
    if not data_dir.is_dir():
        raise InputError(f"数据目录不存在 / data folder not found: {data_dir}",
                         file=str(data_dir), line=None, column=None, reason="missing")
    return sorted(p for p in data_dir.iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("~$"))


def _open(db: Path) -> duckdb.DuckDBPyConnection:
    """The database opened for writing (created if missing), DuckDB's memory capped."""
    db.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db, read_only=False)
    try:
        con.execute(f"SET memory_limit = {sql_str(os.environ.get('AUDITLIB_INGEST_MEMORY') or INGEST_MEMORY)}")
    except duckdb.Error as exc:
        con.close()
        raise InputError(f"AUDITLIB_INGEST_MEMORY: {exc}", file=None, line=None, column=None,
                         reason=str(exc)) from exc
    return con


def _load_files(con, files: list[Path], profile, report: IngestReport, digests: dict[str, str]) -> None:
    """Load ``files`` (inside the caller's transaction), one :class:`FileReport` each."""
    seen_keys: dict[str, set] = {}
    run_hashes: set[str] = set()
    for path in files:
        sha = sha256_file(path)
        digests[str(path)] = sha
        use_profile = profile is not None and profile.matches(path.name)
        table_name = profile.table if use_profile else schema.table_for_file(path.stem)
        if table_name is None:
            report.files.append(FileReport(path.name, None, sha, status=FileStatus.SKIPPED,
                                           reason="no table matches the file name"))
            logger.info("%s: skipped, no table matches the file name", path.name)
            continue
        rep = FileReport(path.name, table_name, sha, mapping=profile.name if use_profile else None)
        done = con.execute("SELECT file FROM _ingested_files WHERE sha256 = ?", [sha]).fetchone()
        if done is not None or sha in run_hashes:
            rep.status = FileStatus.ALREADY_LOADED
            rep.reason = f"same content as {done[0]}" if done else "duplicate file in this folder"
            report.files.append(rep)
            logger.info("%s: already loaded", path.name)
            continue
        table = schema.TABLES[table_name]
        if not use_profile and path.suffix.lower() == ".csv" and load_csv_fast(con, path, table, rep,
                                                                                report.rejects):
            seen_keys.pop(table_name, None)  # the row path reads the keys again, these included
        else:
            if table_name not in seen_keys:
                seen_keys[table_name] = existing_keys(con, table)
            load_file(con, path, table, rep, seen_keys[table_name], report.rejects,
                      profile if use_profile else None)
        con.execute("INSERT INTO _ingested_files VALUES (?, ?, ?, ?, ?)",
                    [sha, path.name, table_name, rep.rows_loaded,
                     _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)])
        run_hashes.add(sha)
        report.files.append(rep)
        logger.info("%s -> %s: read %d, loaded %d, subtotal %d, rejected %d", path.name, table_name,
                    rep.rows_read, rep.rows_loaded, rep.rows_subtotal, rep.rows_rejected)


def _check_loaded(con, report: IngestReport) -> None:
    """The warnings on what was loaded: far dates and empty files per file, completeness overall."""
    loaded = [f for f in report.files if f.status == FileStatus.LOADED and f.table]
    far_date_warnings(con, loaded)
    for f in loaded:
        if f.rows_read == 0:
            f.warnings.append(f"{f.file}: 只有表头，没有数据行 / header only, no data rows")
    report.warnings = completeness_warnings(con)


def ingest(data_dir, db, mapping=None) -> IngestReport:
    """Load every ``*.csv`` / ``*.xlsx`` file of ``data_dir`` into the database ``db``.

    Returns the :class:`IngestReport`; writes ``ingest_report.json``,
    ``rejects.csv`` and an audit-log line beside the database.  Raises
    :class:`MissingColumnError` (nothing is loaded then) when a file lacks a
    required column.

    ``mapping`` is a mapping profile (a YAML path or the name of one in
    ``params/mappings/``, see :mod:`auditlib.ingest.profiles`): the files it names are
    read through it into its table; other files follow the file-name rules.
    A profile that matches no file, or names a column a file lacks, raises
    :class:`~auditlib.errors.MappingError` and nothing is loaded.
    """
    profile = profiles.load_profile(mapping) if mapping is not None else None
    data_dir, db = Path(data_dir), Path(db)
    files = _data_files(data_dir)
    if profile is not None and not any(profile.matches(p.name) for p in files):
        raise MappingError(f"{data_dir}: 没有文件符合映射配置 {profile.name} 的 files {list(profile.files)} / "
                           f"no file matches the files of mapping profile {profile.name}",
                           file=str(data_dir), key="files", line=None, column=None, reason="no file")
    con = _open(db)
    report = IngestReport()
    digests: dict[str, str] = {}
    try:
        con.execute("BEGIN TRANSACTION")
        _ensure_tables(con)
        _load_files(con, files, profile, report, digests)
        _check_loaded(con, report)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # pragma: no cover - transaction already gone
            pass
        raise
    finally:
        con.close()

    for w in [w for f in report.files for w in f.warnings] + report.warnings:
        logger.warning(w)
    out_dir = db.resolve().parent
    report.report_path = str(out_dir / REPORT_NAME)
    report.rejects_path = str(out_dir / REJECTS_NAME)
    write_report(Path(report.report_path), report.files)
    write_rejects(Path(report.rejects_path), report.rejects)
    auditlog.append(db, "ingest", files + ([Path(profile.path)] if profile is not None else []), {
        "files": len(report.files),
        **report.totals(),
        "mapping": profile.path if profile is not None else None,
        "warnings": len(report.warnings),
    }, digests=digests)
    return report
