"""The fast path: a CSV file read by DuckDB, canonical cells converted in SQL.

DuckDB reads the file in parallel into a staging table, one row per record in the file's order
(so a row's line is its ``rowid`` plus the header's line): cells in a canonical form (money
``1234.50``, dates ``2024-03-05`` or ``20240305``, plain text, ...) give the same value in SQL as
through :data:`~auditlib.ingest.values.PARSERS`; every other row (export forms such as
``1,234.50``, subtotal candidates, bad cells, blank records) keeps its raw cells as a JSON list
and goes through the row path's :func:`~auditlib.ingest.rows.parse_row`, which updates or
deletes it in the staging table.  The canonical forms of text, money, date and integer cells are
checked by one pattern match per row (the cells joined by NUL characters, :func:`_row_pattern`),
not one per cell.  Duplicate keys are found in SQL in line order (by hash first),
and the rest goes into the table in one statement, never deleted from it afterwards (a delete
makes DuckDB rewrite the whole append at commit).  Same rows, values, rejects and counts as the
row path (:mod:`auditlib.ingest.rows`); a file DuckDB and Python's csv module might read
differently (:mod:`auditlib.ingest.sniff`) falls back to the row path.  A file in GBK / GB18030 /
Windows-1252 is first transcoded to a UTF-8 copy in a streaming pass
(:func:`~auditlib.ingest.sniff.transcode`), lines unchanged.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from auditlib.errors import InputError
from auditlib.ingest import schema
from auditlib.ingest.header import check_duplicate_headers, map_header
from auditlib.ingest.readers import check_not_binary, is_blank
from auditlib.ingest.report import FileReport, Reject, RejectReason
from auditlib.ingest.rows import ZERO_IF_EMPTY, insert_text_rows, parse_row, subtotal_indexes, to_sql_text
from auditlib.ingest.sniff import UTF8, CsvScan, csv_header, transcode
from auditlib.ingest.timing import step
from auditlib.ingest.values import cell_text, is_subtotal

#: CSV files smaller than this take the row path (the fast path's fixed cost is not worth it)
FAST_MIN_BYTES = 1 << 16

# an end character that str.strip() never removes (a superset of the whitespace is excluded)
_END = r"[^\x00-\x20\x7f-\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_TEXT_RE = f"(?s){_END}(.*{_END})?"
_TRUE_TEXT = ("是", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "t", "T", "1", "√")
_FALSE_TEXT = ("否", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "f", "F", "0")


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_list(items) -> str:
    return "(" + ", ".join(sql_str(x) for x in items) + ")"


#: the canonical form of a non-empty cell of each regex-checked type (RE2 syntax); a text cell must
#: also hold no NUL byte, which the row pattern's separators guarantee (see :func:`_row_pattern`)
_CANONICAL = {
    "text": f"{_END}(?:[^\\x00]*{_END})?",
    "money": "-?[0-9]{1,16}(?:\\.[0-9]{1,2})?",
    "date": "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}",
    "int": "-?[0-9]{1,9}",
}


def _fast_cell(table: schema.Table, col: schema.Column, x: str) -> tuple[str, str, str | None]:
    """SQL for (the cell is in a canonical form, its value when it is) of column ``col`` in ``x``,
    and the cell's part of the row pattern (:func:`_row_pattern`; None: the SQL checks it all).

    A cell with a pattern is canonical when it matches the pattern (empty allowed unless the
    column is required) *and* the SQL condition holds: a date's year, a subtotal mark (计) in a
    subtotal column; the pattern of a whole row is matched once, not cell by cell."""
    empty = f"({x} IS NULL OR {x} = '')"
    pattern = _CANONICAL.get(col.type)
    if pattern is not None:
        pattern = f"(?:{pattern})" if col.required else f"(?:{pattern})?"
    if col.type == "text":
        ok, val = "true", f"NULLIF({x}, '')"
    elif col.type == "money":
        ok, val = "true", f"CAST(CASE WHEN {x} <> '' THEN {x} END AS DECIMAL(18,2))"
    elif col.type == "date":
        val = (f"CASE WHEN length({x}) = 8 THEN CAST(try_strptime({x}, '%Y%m%d') AS DATE) "
               f"ELSE TRY_CAST({x} AS DATE) END")
        ok = f"year({val}) BETWEEN 1900 AND 2100"
        ok = ok if col.required else f"({empty} OR {ok})"
        val = f"CASE WHEN {x} <> '' THEN {val} END"
    elif col.type == "bool":
        ok = f"{x} IN {_sql_list(_TRUE_TEXT + _FALSE_TEXT)}"
        val = f"CASE WHEN {x} IN {_sql_list(_TRUE_TEXT)} THEN true WHEN {x} <> '' THEN false END"
    elif col.type == "int":
        ok, val = "true", f"CAST(CASE WHEN {x} <> '' THEN {x} END AS INTEGER)"
    elif col.type == "account_type":
        ok, val = f"{x} IN {_sql_list(schema.ACCOUNT_TYPES)}", f"NULLIF({x}, '')"
    else:  # pragma: no cover - every type is listed above
        return "false", "NULL", None
    if pattern is None:
        ok = f"(NOT {empty} AND {ok})" if col.required else f"({empty} OR {ok})"
    if col.name in table.subtotal_columns and col.type == "text":  # 合计 本月合计 本年累计 小计 总计 ...
        ok = f"({x} IS NULL OR strpos({x}, '计') = 0)"
    return ok, val, pattern


def _row_pattern(cells: list[tuple[str, str]]) -> str | None:
    """SQL for: every cell of ``cells`` ((SQL cell, pattern) pairs) matches its pattern, in one
    match of the cells joined by NUL characters (an empty or NULL cell as the empty string).  No
    pattern matches a NUL, so each cell is matched by its own pattern, and a cell holding a NUL
    (which no canonical cell does) makes the match fail."""
    if not cells:
        return None
    joined = ", chr(0), ".join(f"{x}" for x, _ in cells)
    pattern = "\\x00".join(p for _, p in cells)
    return f"regexp_full_match(concat({joined}), '{pattern}')"


def wants_fast(path: Path, profile_used: bool) -> bool:
    """Whether the file is one the fast path tries (a CSV file of at least :data:`FAST_MIN_BYTES`
    read without a mapping profile); the caller then scans it with :func:`~auditlib.ingest.sniff.scan_csv`."""
    return not profile_used and path.suffix.lower() == ".csv" and path.stat().st_size >= FAST_MIN_BYTES


def load_csv_fast(con, path: Path, table: schema.Table, rep: FileReport, rejects: list[Reject],
                  scan: CsvScan, tmp_dir: Path | None = None) -> bool:
    """Load a CSV file the fast way; False (and nothing loaded) when the file needs the row path.

    ``scan`` is the file's :func:`~auditlib.ingest.sniff.scan_csv`; a file in another encoding than
    UTF-8 is transcoded to a temporary UTF-8 copy in ``tmp_dir`` (removed afterwards).
    """
    if scan.choice is None or not scan.simple or scan.size < FAST_MIN_BYTES:
        return False
    encoding = scan.choice.encoding
    found = csv_header(path, encoding)
    if found is None:
        return False
    header, header_end = found
    try:
        mapped, extra = map_header(table, header, path.name)
        check_duplicate_headers(table, header, path.name, header_end)
    except InputError:  # title rows, another delimiter, a missing column ...: the row path decides
        return False
    if not header:
        return False
    source = path
    with contextlib.ExitStack() as stack:
        if encoding not in UTF8:
            with open(path, "rb") as fh:
                check_not_binary(fh.read(65536), path.name)
            fd, tmp = tempfile.mkstemp(prefix=".auditlib-", suffix=".csv", dir=tmp_dir)
            os.close(fd)
            stack.callback(lambda: Path(tmp).unlink(missing_ok=True))
            with step(path.name, "transcode"):
                done = transcode(path, encoding, tmp)
            if not done:  # pragma: no cover - the sniffer decoded it all
                return False
            source = Path(tmp)
        return _insert(con, path.name, source, table, rep, rejects, scan, header_end, mapped, extra, len(header))


def _insert(con, name, source, table, rep, rejects, scan, header_end, mapped, extra, n) -> bool:
    """The records after the header (see :func:`load_rows_csv`)."""
    return load_rows_csv(con, name, table, rep, rejects, source, n, mapped, extra, skip=header_end,
                         first_line=header_end + 1, expected=scan.lines - header_end, choice=scan.choice)


def load_rows_csv(con, name: str, table: schema.Table, rep: FileReport, rejects: list[Reject], source: Path,
                  n: int, mapped: dict, extra: dict, *, skip: int = 0, first_line: int = 1, expected: int,
                  choice=None, parallel: bool = True) -> bool:
    """Load the records of a UTF-8 CSV file ``source`` (``n`` cells each, after ``skip`` lines) into
    ``table`` the fast way, one record per line from line ``first_line`` on, as file ``name``.

    ``mapped`` and ``extra`` are :func:`~auditlib.ingest.header.map_header`'s; ``expected`` is the
    number of records the file must give (else False, nothing loaded: the caller takes another
    path); ``choice`` the :class:`~auditlib.ingest.encoding.EncodingChoice` to report (None: no
    encoding, e.g. an XLSX sheet staged as CSV).  Counts go to ``rep``, rejects to ``rejects``.
    """
    cols = [f"c{i}" for i in range(n)]
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    reader = (f"read_csv({sql_str(str(source))}, header = false, skip = {skip}, columns = {spec}, "
              f"delim = ',', quote = '\"', escape = '\"', comment = '', null_padding = false, auto_detect = false, "
              f"strict_mode = true, ignore_errors = true, encoding = 'utf-8', parallel = {str(parallel).lower()})")
    select, names = _select(table, mapped, extra, n)
    try:
        with step(name, "stage"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE _fast_stage AS {select} FROM {reader})")
        try:
            count, base, top = con.execute("SELECT count(*), min(rowid), max(rowid) FROM _fast_stage").fetchone()
            # every physical line one record, in order (a record spanning lines, or a line DuckDB
            # skipped: a short or long row, bytes that are not UTF-8 ...: the row path reads the file)
            if count != expected or (count and top - base + 1 != count):
                return False
            encoding = None
            if choice is not None:
                encoding = choice.encoding
                rep.encoding_confidence = round(choice.confidence, 3)
                rep.encoding_evidence = choice.evidence
                rep.encoding_candidates = {k: round(v, 3) for k, v in choice.candidates.items()}
            return _load_staged(con, name, table, rep, rejects, encoding, mapped, extra, names,
                                (base or 0) - first_line, count)
        finally:
            con.execute("DROP TABLE IF EXISTS _fast_stage")
    except duckdb.Error as exc:  # the transaction is gone: say which file
        raise InputError(f"{name}: 无法读取 CSV / cannot read the CSV file: {exc}",
                         file=name, line=None, column=None, reason=str(exc)) from exc


def _select(table, mapped, extra, n) -> tuple[str, list[str]]:
    """The SELECT of ``_fast_stage`` (its FROM to be completed with the reader and a closing
    parenthesis): ``_fast`` (the row is canonical), typed values of canonical rows (NULL for the
    others) and ``_extra``: the extra columns as JSON text for canonical rows, the raw cells (a JSON
    list) for the others; and the table's column names."""
    cols = [f"c{i}" for i in range(n)]
    fast, vals = _fast_sql(table, mapped, extra)
    # extra columns: kept as JSON text like json.dumps(..., ensure_ascii=False) when no cell needs escaping
    parts = []
    for key, i in extra.items():
        x = f"c{i}"
        prefix = json.dumps(key, ensure_ascii=False) + ": "
        parts.append(f"CASE WHEN {x} <> '' THEN {sql_str(prefix)} || '\"' || {x} || '\"' END")
    extra_sql = (f"NULLIF('{{' || concat_ws(', ', {', '.join(parts)}) || '}}', '{{}}')" if parts else "NULL")
    names = [c.name for c in table.columns]
    typed = ", ".join(f'CASE WHEN _fast THEN {vals[c]} END AS "{c}"' for c in names)
    select = (f"SELECT _fast, {typed}, CASE WHEN _fast THEN {extra_sql} "
              f"ELSE CAST(to_json([{', '.join(cols)}]) AS VARCHAR) END AS _extra "
              f"FROM (SELECT COALESCE(({fast}), false) AS _fast, {', '.join(cols)} ")
    return select, names


def _fast_sql(table, mapped, extra) -> tuple[str, dict[str, str]]:
    """SQL for: the row (cells ``c0``, ``c1`` ...) is canonical; and each column's value SQL."""
    oks, vals, patterns = [], {}, []
    for col in table.columns:
        if col.name in mapped:
            ok, val, pattern = _fast_cell(table, col, f"c{mapped[col.name]}")
            if ok != "true":
                oks.append(ok)
            if pattern is not None:
                patterns.append((f"c{mapped[col.name]}", pattern))
        else:
            val = "NULL"
        if (table.name, col.name) in ZERO_IF_EMPTY:
            val = f"COALESCE({val}, CAST(0 AS DECIMAL(18,2)))"
        elif (table.name, col.name) == ("payments", "payee_is_sme"):
            val = f"COALESCE({val}, false)"
        vals[col.name] = val
    if table.name == "budget":
        vals["fiscal_year"] = f"COALESCE({vals['fiscal_year']}, year({vals['issued_on']}))"
    for key, i in extra.items():
        x = f"c{i}"
        oks.append(f"({x} IS NULL OR {x} = '' OR (regexp_full_match({x}, '{_TEXT_RE}') "
                   f"AND NOT regexp_matches({x}, '[\"\\\\\\x00-\\x1f]')))")
    row_ok = _row_pattern(patterns)
    return " AND ".join(([row_ok] if row_ok else []) + oks) or "true", vals


def _load_staged(con, name, table, rep, rejects, encoding, mapped, extra, names, offset, count) -> bool:
    """``_fast_stage`` made final (a row's line is its ``rowid - offset``): the raw rows through the
    row path's parser, subtotal and blank rules (updated in place or deleted), duplicate keys
    deleted, and the rest inserted into the table in line order."""
    rep.encoding = encoding
    tally = _Tally()
    with step(name, "rows off the fast path"):
        _settle_raw_rows(con, name, table, mapped, extra, names, offset, tally)
    with step(name, "duplicate keys"):
        dups = _delete_duplicate_keys(con, name, table, offset, tally)
    loaded = count - tally.raw + tally.settled - dups
    if loaded:
        cols = ", ".join(f'"{c}"' for c in names)
        with step(name, "insert"):
            con.execute(f"INSERT INTO {table.name} ({cols}, _file, _line, _extra) "
                        f"SELECT {cols}, {sql_str(name)}, CAST(rowid - {offset} AS INTEGER), _extra FROM _fast_stage")
    tally.rejects.sort(key=lambda r: r.line)  # stable: a row's cells keep their column order
    rejects.extend(tally.rejects)
    rep.rows_read = count - tally.raw + tally.read
    rep.rows_subtotal = tally.subtotal
    rep.rows_rejected = tally.rejected
    rep.rows_loaded = loaded
    rep.check()
    return True


@dataclass
class _Tally:
    """What :func:`_load_staged` counts of a file's rows besides the canonical ones."""

    raw: int = 0  # rows DuckDB did not type (read again in Python)
    read: int = 0  # of those, the rows not blank
    subtotal: int = 0  # of those, subtotal rows
    settled: int = 0  # of those, the rows loaded
    rejected: int = 0  # rows rejected (parse errors and duplicate keys)
    rejects: list[Reject] = field(default_factory=list)


def _settle_raw_rows(con, name, table, mapped, extra, names, offset, tally: _Tally) -> None:
    """The rows of ``_fast_stage`` DuckDB did not type, through the row path's parser: typed in
    place when they parse, deleted when blank, a subtotal or rejected (counted in ``tally``)."""
    subtotal_idx = subtotal_indexes(table, mapped)
    slow_rows: dict[str, list] = {c: [] for c in names}
    slow_rows["_rid"], slow_rows["_extra"] = [], []
    drop: list[int] = []
    cur = con.execute("SELECT rowid, _extra FROM _fast_stage WHERE NOT _fast ORDER BY rowid")
    while True:
        batch = cur.fetchmany(10000)
        if not batch:
            break
        for rid, raw in batch:
            tally.raw += 1
            drop.append(rid)
            values = json.loads(raw)
            if is_blank(values):
                continue
            tally.read += 1
            if any(is_subtotal(values[i]) for i in subtotal_idx):
                tally.subtotal += 1
                continue
            row, errors = parse_row(table, mapped, {}, name, rid - offset, values)
            if errors:
                tally.rejected += 1
                tally.rejects.extend(errors)
                continue
            drop.pop()
            extras = {}
            for key, i in extra.items():
                text = cell_text(values[i])
                if text:
                    extras[key] = text
            for c in names:
                slow_rows[c].append(to_sql_text(row[c]))
            slow_rows["_rid"].append(rid)
            slow_rows["_extra"].append(json.dumps(extras, ensure_ascii=False) if extras else None)
    tally.settled = len(slow_rows["_rid"])
    types = {c.name: schema.SQL_TYPES[c.type] for c in table.columns}
    if slow_rows["_rid"]:
        sets = ", ".join(f'"{c}" = CAST(u."{c}" AS {types[c]})' for c in names)
        with insert_text_rows(con, "_fast_slow", slow_rows, {"_rid": "BIGINT"}):
            con.execute(f"UPDATE _fast_stage SET {sets}, _extra = u._extra FROM _fast_slow u "
                        f"WHERE _fast_stage.rowid = u._rid")
    _delete(con, drop)


def _delete_duplicate_keys(con, name, table, offset, tally: _Tally) -> int:
    """Delete from ``_fast_stage`` the rows whose key is a duplicate, in line order: a key already
    in the table, or a later line of the same key; each one rejected in ``tally``.  Returns how
    many.  Keys are first compared by their hash (little memory), then exactly where hashes meet."""
    key = ", ".join(f'"{k}"' for k in table.key)
    same = " AND ".join(f'o."{k}" = d."{k}"' for k in table.key)
    has_rows = con.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name})").fetchone()[0]
    new_h = f"SELECT hash({key}) AS _h FROM _fast_stage"
    met = (f"UNION SELECT _h FROM ({new_h}) SEMI JOIN (SELECT hash({key}) AS _h FROM {table.name}) USING (_h)"
           if has_rows else "")
    in_old = f"OR EXISTS (SELECT 1 FROM {table.name} o WHERE {same})" if has_rows else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fast_keys AS SELECT _h FROM ({new_h}) GROUP BY _h "
                f"HAVING count(*) > 1 {met}")
    dups = []
    if con.execute("SELECT EXISTS (SELECT 1 FROM _fast_keys)").fetchone()[0]:
        dups = con.execute(f"""
            WITH d AS (SELECT rowid AS _rid, {key} FROM _fast_stage WHERE hash({key}) IN (SELECT _h FROM _fast_keys))
            SELECT _rid, {key} FROM (
                SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _rid) AS rn FROM d) d
            WHERE rn > 1 {in_old}
            ORDER BY _rid""").fetchall()
    con.execute("DROP TABLE IF EXISTS _fast_keys")
    for rid, *key_values in dups:
        tally.rejects.append(Reject(name, int(rid - offset), ",".join(table.key),
                                    "|".join(cell_text(k) for k in key_values), RejectReason.DUPLICATE_KEY))
    tally.rejected += len(dups)
    _delete(con, [d[0] for d in dups])
    return len(dups)


def _delete(con, rowids: list[int]) -> None:
    """Delete the rows of ``_fast_stage`` with these rowids."""
    if rowids:
        con.execute("DELETE FROM _fast_stage WHERE rowid IN (SELECT unnest(?::BIGINT[]))", [rowids])
