"""Loading a folder of CSV/XLSX exports into the audit database (CONTRACT §1).

Every file is accounted for: rows read = rows loaded + subtotal rows dropped +
rows rejected.  Rejected rows go to ``rejects.csv`` with file, line, column,
value and reason; a file lacking a required column is an error naming the
file, the column and the columns found.  Input files are only ever opened for reading.

A loaded file's identity is its SHA-256 and the SHA-256 of the mapping profile that read it
(``_ingested_files``).  A file loaded before with the same content and profile is skipped; the
same content under a changed profile is an error asking for ``replace``; with ``replace=True``
a file whose content or profile changed, and any file named directly (not through a folder), has
its earlier rows (by ``_file``) deleted and is loaded again, all in the one transaction, and the
audit log records what was replaced.

This module runs the ingest: it opens the database in one transaction and sends
each file down the fast path (:mod:`auditlib.ingest.fast`, CSV files that DuckDB reads
line for line; one read of such a file gives its SHA-256, lines and encoding,
:func:`~auditlib.ingest.sniff.scan_csv`, run in a background thread ahead of the loads so that
the reading of one file overlaps DuckDB's load of another) or the row path
(:mod:`auditlib.ingest.rows`), then writes the report (:mod:`auditlib.ingest.report`) and the
audit-log line.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from auditlib import auditlog
from auditlib.common.files import sha256_file
from auditlib.db import connect
from auditlib.errors import InputError, MappingError
from auditlib.ingest import schema
from auditlib.ingest.completeness import (COMPLETENESS_NAME, completeness_issues, count_by_kind, counts_by_file,
                                         far_date_warnings, write_completeness)
from auditlib.ingest.fast import load_csv_fast, sql_str, wants_fast
from auditlib.ingest.report import (REJECTS_NAME, REPORT_NAME, FileReport, FileStatus, IngestReport,
                                    write_rejects, write_report)
from auditlib.ingest.rows import existing_keys, load_file
from auditlib.ingest.sniff import scan_csv
from auditlib.ingest.timing import step

logger = logging.getLogger("auditlib")

SUFFIXES = (".csv", ".xlsx")
#: DuckDB memory during an ingest (AUDITLIB_INGEST_MEMORY overrides): beyond it DuckDB spills to
#: disk beside the database, so a very large CSV is loaded in flat memory (DuckDB fills what it is
#: given with the blocks it writes).  The default is an eighth of the machine's memory within
#: these bounds: at 128MB DuckDB loads a large file on one thread only (its order-keeping insert
#: waits for memory), and 512MB keeps the whole command's peak under 1 GB (about 770 MB for
#: 14 million rows).  A workbook loads at the lower bound: its cells are held in Python meanwhile
#: (a 300,000-row sheet: peak 475 MB at 128MB, 550 MB at 512MB, for no gain in time).
INGEST_MEMORY_MIN_MB, INGEST_MEMORY_MAX_MB = 128, 512


def ingest_memory(workbook: bool = False) -> str:
    """The DuckDB memory limit of an ingest: AUDITLIB_INGEST_MEMORY, else an eighth of the
    machine's memory between :data:`INGEST_MEMORY_MIN_MB` and :data:`INGEST_MEMORY_MAX_MB`
    (the lower bound while a ``workbook`` loads)."""
    given = os.environ.get("AUDITLIB_INGEST_MEMORY")
    if given:
        return given
    if workbook:
        return f"{INGEST_MEMORY_MIN_MB}MB"
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not a POSIX system
        total_mb = 0
    return f"{min(max(total_mb // 8, INGEST_MEMORY_MIN_MB), INGEST_MEMORY_MAX_MB)}MB"


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables of CONTRACT §1, and ``_ingested_files``: the files loaded, by SHA-256."""
    for table in schema.TABLES.values():
        con.execute(schema.ddl(table))
    con.execute(
        "CREATE TABLE IF NOT EXISTS _ingested_files (sha256 VARCHAR PRIMARY KEY, file VARCHAR, "
        "table_name VARCHAR, rows_loaded INTEGER, loaded_at TIMESTAMP)"
    )
    # since issue 16: the SHA-256 of the mapping profile that loaded the file ('' without one)
    con.execute("ALTER TABLE _ingested_files ADD COLUMN IF NOT EXISTS profile_sha256 VARCHAR")


def _inputs(data_dir) -> tuple[list[Path], set[Path]]:
    """The files of ``data_dir`` (a folder, a file, or a list of them) and those named directly."""
    items = list(data_dir) if isinstance(data_dir, (list, tuple)) else [data_dir]
    files: list[Path] = []
    named: set[Path] = set()
    for item in items:
        path = Path(item)
        if path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(f"{path}: 不支持的文件类型 / unsupported file type {path.suffix}",
                                 file=str(path), line=None, column=None, reason="unsupported file type")
            files.append(path)
            named.add(path.resolve())
        else:
            files.extend(_data_files(path))
    unique = list(dict.fromkeys(files))
    return unique, named


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
        con.execute(f"SET memory_limit = {sql_str(ingest_memory())}")
    except duckdb.Error as exc:
        con.close()
        raise InputError(f"AUDITLIB_INGEST_MEMORY: {exc}", file=None, line=None, column=None,
                         reason=str(exc)) from exc
    return con


def _xlsx_fast():
    """The XLSX fast path module, imported when an XLSX file comes (a CSV-only ingest starts faster)."""
    from auditlib.ingest import xlsx_fast

    return xlsx_fast


def _load_workbook_fast(con, path, table, rep, rejects, tmp_dir) -> bool:
    """:func:`auditlib.ingest.xlsx_fast.load_xlsx_fast` with DuckDB's memory at
    :func:`ingest_memory` for a workbook."""
    con.execute(f"SET memory_limit = {sql_str(ingest_memory(workbook=True))}")
    try:
        with step(path.name, "workbook"):
            return _xlsx_fast().load_xlsx_fast(con, path, table, rep, rejects, tmp_dir)
    finally:
        con.execute(f"SET memory_limit = {sql_str(ingest_memory())}")


def _forget(con, table_name: str, file: str, sha: str | None = None) -> int:
    """Delete the rows a file loaded earlier (by ``_file``) and its ``_ingested_files`` record(s);
    returns the rows deleted."""
    n = con.execute(f"SELECT count(*) FROM {table_name} WHERE _file = ?", [file]).fetchone()[0]
    con.execute(f"DELETE FROM {table_name} WHERE _file = ?", [file])
    con.execute("DELETE FROM _ingested_files WHERE file = ? OR sha256 = ?", [file, sha or ""])
    return int(n)


def _load_files(con, files: list[Path], profile, report: IngestReport, digests: dict[str, str],
                replace: bool = False, named: set | None = None, profile_sha: str | None = None,
                tmp_dir: Path | None = None) -> None:
    """Load ``files`` (inside the caller's transaction), one :class:`FileReport` each."""
    named = named or set()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditlib-scan") as pool:
        scans = _prefetch_scans(pool, files, profile)
        try:
            _load_each(con, files, profile, report, digests, replace, named, profile_sha, tmp_dir, scans)
        finally:
            for future in scans.values():
                future.cancel()


def _prefetch_scans(pool: ThreadPoolExecutor, files: list[Path], profile) -> dict[Path, Future]:
    """The :func:`~auditlib.ingest.sniff.scan_csv` of every file the fast path tries, run one after
    another in ``pool`` while DuckDB loads the files before (DuckDB and the hashing release the
    GIL, so the read of one file overlaps the load of another)."""
    return {path: pool.submit(scan_csv, path) for path in files
            if wants_fast(path, profile is not None and profile.matches(path.name))}


def _load_each(con, files, profile, report, digests, replace, named, profile_sha, tmp_dir, scans) -> None:
    """The body of :func:`_load_files`: ``scans`` holds the pending scans of the fast-path files."""
    seen_keys: dict[str, set] = {}
    run_hashes: set[str] = set()
    for path in files:
        use_profile = profile is not None and profile.matches(path.name)
        with step(path.name, "scan"):  # SHA-256 and encoding: waited for here, read while the file before loads
            scan = scans[path].result() if path in scans else None
            sha = scan.sha256 if scan is not None else sha256_file(path)
        digests[str(path)] = sha
        table_name = profile.table if use_profile else schema.table_for_file(path.stem)
        if table_name is None:
            report.files.append(FileReport(path.name, None, sha, status=FileStatus.SKIPPED,
                                           reason="no table matches the file name"))
            logger.info("%s: skipped, no table matches the file name", path.name)
            continue
        psha = profile_sha if use_profile else None
        rep = FileReport(path.name, table_name, sha, mapping=profile.name if use_profile else None,
                         profile_sha256=psha)
        if sha in run_hashes:
            rep.status = FileStatus.ALREADY_LOADED
            rep.reason = "duplicate file in this folder"
            report.files.append(rep)
            continue
        done = con.execute("SELECT file, table_name, profile_sha256 FROM _ingested_files "
                           "WHERE sha256 = ?", [sha]).fetchone()
        same_name = con.execute("SELECT table_name, sha256 FROM _ingested_files WHERE file = ? AND sha256 <> ?",
                                [path.name, sha]).fetchall()
        forced = replace and path.resolve() in named
        why = None
        if done is not None:
            # None: loaded before profiles were recorded (an older database): taken as unchanged
            changed_profile = done[2] is not None and done[2] != (psha or "")
            if changed_profile and not replace:
                raise InputError(
                    f"{path.name}: 该文件已用另一映射配置载入（{done[0]}）；映射配置已修改，请加 --replace 重新载入 / "
                    f"the file was loaded before ({done[0]}) with another mapping profile; the profile changed: "
                    f"add --replace to load it again", file=path.name, line=None, column=None,
                    reason="profile changed")
            if not changed_profile and not forced:
                rep.status = FileStatus.ALREADY_LOADED
                rep.reason = f"same content as {done[0]}"
                report.files.append(rep)
                logger.info("%s: already loaded", path.name)
                continue
            why = "profile changed" if changed_profile else "named on the command line"
            deleted = _forget(con, done[1], done[0], sha)
            rep.replaced = {"why": why, "rows_deleted": deleted, "old_file": done[0], "old_sha256": sha,
                            "old_profile_sha256": done[2] or None}
        elif same_name:
            if replace:
                deleted = sum(_forget(con, tbl, path.name, old) for tbl, old in dict(same_name).items())
                rep.replaced = {"why": "content changed", "rows_deleted": deleted, "old_file": path.name,
                                "old_sha256": same_name[0][1], "old_profile_sha256": None}
            else:
                rep.warnings.append(
                    f"{path.name}: 同名文件曾以不同内容载入，旧数据仍在表中；如要替换，请加 --replace / a file of "
                    f"this name was loaded before with other content and its rows are still in the table; "
                    f"add --replace to replace them")
        if rep.replaced is not None:
            seen_keys.pop(table_name, None)
            for tbl in {table_name, *(t for t, _ in same_name)}:
                seen_keys.pop(tbl, None)
        table = schema.TABLES[table_name]
        if scan is not None and load_csv_fast(con, path, table, rep, report.rejects, scan, tmp_dir):
            seen_keys.pop(table_name, None)  # the row path reads the keys again, these included
        elif path.suffix.lower() == ".xlsx" and _xlsx_fast().wants_fast(path, use_profile) and \
                _load_workbook_fast(con, path, table, rep, report.rejects, tmp_dir):
            seen_keys.pop(table_name, None)
        else:
            with step(path.name, "row path"):
                if table_name not in seen_keys:
                    seen_keys[table_name] = existing_keys(con, table)
                load_file(con, path, table, rep, seen_keys[table_name], report.rejects,
                          profile if use_profile else None)
        con.execute("INSERT INTO _ingested_files (sha256, file, table_name, rows_loaded, loaded_at, profile_sha256) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [sha, path.name, table_name, rep.rows_loaded,
                     _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None), psha or ""])
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
    report.issues = completeness_issues(con)
    report.warnings = [i.message for i in report.issues]
    by_file = counts_by_file(report.issues)
    for f in report.files:
        f.completeness = by_file.get(f.file, {})


def ingest(data_dir, db, mapping=None, replace: bool = False) -> IngestReport:
    """Load every ``*.csv`` / ``*.xlsx`` file of ``data_dir`` into the database ``db``.

    ``data_dir`` is a folder, a file, or a list of folders and files; a file given directly is
    *named*: with ``replace=True`` it is loaded again even when unchanged.  ``replace`` also
    reloads the files whose content or profile changed since they were loaded (their old rows
    deleted first, in the same transaction); without it a file loaded before under another
    profile is an :class:`~auditlib.errors.InputError` (nothing loaded).

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
    profile = None
    if mapping is not None:
        from auditlib.ingest import profiles  # YAML only when a profile is used

        profile = profiles.load_profile(mapping)
    profile_sha = sha256_file(profile.path) if profile is not None else None
    db = Path(db)
    files, named = _inputs(data_dir)
    if profile is not None and not any(profile.matches(p.name) for p in files):
        raise MappingError(f"{data_dir}: 没有文件符合映射配置 {profile.name} 的 files {list(profile.files)} / "
                           f"no file matches the files of mapping profile {profile.name}",
                           file=str(data_dir), key="files", line=None, column=None, reason="no file")
    con = _open(db)
    report = IngestReport(profile=profile.name if profile else None,
                          currency_label=profile.currency_label if profile else None)
    digests: dict[str, str] = {}
    try:
        con.execute("BEGIN TRANSACTION")
        _ensure_tables(con)
        _load_files(con, files, profile, report, digests, replace=replace, named=named, profile_sha=profile_sha,
                    tmp_dir=db.resolve().parent)
        with step("*", "checks"):
            _check_loaded(con, report)
        with step("*", "commit"):
            con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # pragma: no cover - transaction already gone
            pass
        raise
    finally:
        con.close()

    out_dir = db.resolve().parent
    report.report_path = str(out_dir / REPORT_NAME)
    report.rejects_path = str(out_dir / REJECTS_NAME)
    report.completeness_path = str(out_dir / COMPLETENESS_NAME)
    for w in [w for f in report.files for w in f.warnings]:
        logger.warning(w)
    for kind, n in count_by_kind(report.issues).items():  # one line per kind, never one per row
        first = next(i for i in report.issues if i.kind == kind)
        logger.warning("%d completeness warning(s) %s, first at %s: %s (all in %s)", n, kind, first.where,
                       first.message, report.completeness_path)
    with step("*", "reports"):
        write_report(Path(report.report_path), report.files)
        write_rejects(Path(report.rejects_path), report.rejects)
        write_completeness(Path(report.completeness_path), report.issues)
    auditlog.append(db, "ingest", files + ([Path(profile.path)] if profile is not None else []), {
        "files": len(report.files),
        **report.totals(),
        "mapping": profile.path if profile is not None else None,
        "mapping_sha256": profile_sha,
        "warnings": len(report.warnings),
        "replace": replace,
        "replaced": [{"file": f.file, "table": f.table, "sha256": f.sha256, **f.replaced}
                     for f in report.files if f.replaced],
    }, digests=digests)
    return report
