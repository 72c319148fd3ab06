"""The fast path: a UTF-8 CSV file read by DuckDB, canonical cells converted in SQL.

Cells in a canonical form (money ``1234.50``, dates ``2024-03-05`` or ``20240305``, plain
text, ...) give the same value in SQL as through :data:`~auditlib.ingest.values.PARSERS`;
every other row (export forms such as ``1,234.50``, subtotal candidates, bad cells) goes
through the row path's :func:`~auditlib.ingest.rows.parse_row`, and duplicate keys are
found in SQL in line order.  Same rows, values, rejects and counts as the row path
(:mod:`auditlib.ingest.rows`); a file DuckDB and Python's csv module might read differently
(:mod:`auditlib.ingest.sniff`) falls back to the row path.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from auditlib.errors import InputError
from auditlib.ingest import schema
from auditlib.ingest.header import check_duplicate_headers, map_header
from auditlib.ingest.readers import is_blank
from auditlib.ingest.report import FileReport, Reject, RejectReason
from auditlib.ingest.rows import ZERO_IF_EMPTY, parse_row, subtotal_indexes, to_sql_text
from auditlib.ingest.sniff import csv_header, csv_layout
from auditlib.ingest.values import cell_text, is_subtotal

#: CSV files smaller than this take the row path (the fast path's fixed cost is not worth it)
FAST_MIN_BYTES = 1 << 20

# an end character that str.strip() never removes (a superset of the whitespace is excluded)
_END = r"[^\x00-\x20\x7f-\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_TEXT_RE = f"(?s){_END}(.*{_END})?"
_TRUE_TEXT = ("是", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "t", "T", "1", "√")
_FALSE_TEXT = ("否", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "f", "F", "0")


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_list(items) -> str:
    return "(" + ", ".join(sql_str(x) for x in items) + ")"


def _fast_cell(table: schema.Table, col: schema.Column, x: str) -> tuple[str, str]:
    """SQL for (the cell is in a canonical form, its value when it is) of column ``col`` in ``x``."""
    empty = f"({x} IS NULL OR {x} = '')"
    if col.type == "text":
        ok, val = f"(regexp_full_match({x}, '{_TEXT_RE}') AND strpos({x}, chr(0)) = 0)", f"NULLIF({x}, '')"
    elif col.type == "money":
        ok = f"regexp_full_match({x}, '-?[0-9]{{1,16}}(\\.[0-9]{{1,2}})?')"
        val = f"CAST(CASE WHEN {x} <> '' THEN {x} END AS DECIMAL(18,2))"
    elif col.type == "date":
        val = (f"CASE WHEN length({x}) = 8 THEN CAST(try_strptime({x}, '%Y%m%d') AS DATE) "
               f"ELSE TRY_CAST({x} AS DATE) END")
        ok = (f"(regexp_full_match({x}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}|[0-9]{{8}}') "
              f"AND year({val}) BETWEEN 1900 AND 2100)")
        val = f"CASE WHEN {x} <> '' THEN {val} END"
    elif col.type == "bool":
        ok = f"{x} IN {_sql_list(_TRUE_TEXT + _FALSE_TEXT)}"
        val = f"CASE WHEN {x} IN {_sql_list(_TRUE_TEXT)} THEN true WHEN {x} <> '' THEN false END"
    elif col.type == "int":
        ok, val = f"regexp_full_match({x}, '-?[0-9]{{1,9}}')", f"CAST(CASE WHEN {x} <> '' THEN {x} END AS INTEGER)"
    elif col.type == "account_type":
        ok, val = f"{x} IN {_sql_list(schema.ACCOUNT_TYPES)}", f"NULLIF({x}, '')"
    else:  # pragma: no cover - every type is listed above
        return "false", "NULL"
    ok = f"(NOT {empty} AND {ok})" if col.required else f"({empty} OR {ok})"
    if col.name in table.subtotal_columns and col.type == "text":  # 合计 本月合计 本年累计 小计 总计 ...
        ok = f"({ok} AND ({x} IS NULL OR strpos({x}, '计') = 0))"
    return ok, val


def load_csv_fast(con, path: Path, table: schema.Table, rep: FileReport, rejects: list[Reject]) -> bool:
    """Load a CSV file the fast way; False (and nothing done) when the file needs the row path."""
    if path.stat().st_size < FAST_MIN_BYTES:
        return False
    layout = csv_layout(path)
    if layout is None or not layout["simple"]:
        return False
    found = csv_header(path, layout["encoding"])
    if found is None:
        return False
    header, header_end = found
    try:
        mapped, extra = map_header(table, header, path.name)
        check_duplicate_headers(table, header, path.name, header_end)
    except InputError:  # title rows, another delimiter, a missing column ...: the row path decides
        return False
    n = len(header)
    if n == 0:
        return False
    cols = [f"c{i}" for i in range(n)]
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    name = path.name
    try:
        source = (
            f"(SELECT row_number() OVER () AS _rn, * "
            f"FROM read_csv({sql_str(str(path))}, "
            f"header = false, skip = {header_end}, columns = {spec}, delim = ',', quote = '\"', escape = '\"', "
            f"comment = '', null_padding = false, auto_detect = false, strict_mode = true, ignore_errors = true, "
            f"encoding = 'utf-8', parallel = true))")
        staged = _stage(con, table, header_end, mapped, extra, n, source)
    except duckdb.Error as exc:  # the transaction is gone: say which file
        raise InputError(f"{name}: 无法读取 CSV / cannot read the CSV file: {exc}",
                         file=name, line=None, column=None, reason=str(exc)) from exc
    try:
        (n_rows,) = con.execute("SELECT count(*) FROM _fast_stage").fetchone()
        if n_rows != layout["lines"] - header_end:  # a record spanning lines, or a line DuckDB skipped
            return False
        choice = layout["choice"]
        rep.encoding_confidence = round(choice.confidence, 3)
        rep.encoding_evidence = choice.evidence
        rep.encoding_candidates = {k: round(v, 3) for k, v in choice.candidates.items()}
        return _load_staged(con, name, table, rep, rejects, layout["encoding"], mapped, extra, n, staged)
    finally:
        con.execute("DROP TABLE IF EXISTS _fast_stage")
        con.execute("DROP TABLE IF EXISTS _fast_ok")
        con.execute("DROP TABLE IF EXISTS _fast_slow")


def _stage(con, table, header_end, mapped, extra, n, source) -> list[str]:
    """``_fast_stage``: per line of ``source``, blank or not, canonical or not, typed values of the
    canonical rows and the raw cells of the others; returns the table's column names."""
    cols = [f"c{i}" for i in range(n)]
    oks, vals = [], {}
    for col in table.columns:
        if col.name in mapped:
            ok, val = _fast_cell(table, col, f"c{mapped[col.name]}")
            oks.append(ok)
        else:
            val = "NULL"
        if (table.name, col.name) in ZERO_IF_EMPTY:
            val = f"COALESCE({val}, CAST(0 AS DECIMAL(18,2)))"
        elif (table.name, col.name) == ("payments", "payee_is_sme"):
            val = f"COALESCE({val}, false)"
        vals[col.name] = val
    if table.name == "budget":
        vals["fiscal_year"] = f"COALESCE({vals['fiscal_year']}, year({vals['issued_on']}))"
    # extra columns: kept as JSON text like json.dumps(..., ensure_ascii=False) when no cell needs escaping
    parts = []
    for key, i in extra.items():
        x = f"c{i}"
        oks.append(f"({x} IS NULL OR {x} = '' OR (regexp_full_match({x}, '{_TEXT_RE}') "
                   f"AND NOT regexp_matches({x}, '[\"\\\\\\x00-\\x1f]')))")
        prefix = json.dumps(key, ensure_ascii=False) + ": "
        parts.append(f"CASE WHEN {x} <> '' THEN {sql_str(prefix)} || '\"' || {x} || '\"' END")
    extra_sql = (f"NULLIF('{{' || concat_ws(', ', {', '.join(parts)}) || '}}', '{{}}')" if parts else "NULL")
    blank = " AND ".join(f"({c} IS NULL OR {c} = '')" for c in cols)
    fast = " AND ".join(oks) or "true"
    names = [c.name for c in table.columns]
    typed = ", ".join(f'CASE WHEN _fast THEN {vals[c]} END AS "{c}"' for c in names)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fast_stage AS
        SELECT _line, _blank, _fast, {typed},
               CASE WHEN _fast THEN {extra_sql} END AS _extra,
               {", ".join(f"CASE WHEN NOT _fast AND NOT _blank THEN {c} END AS {c}" for c in cols)}
        FROM (SELECT _rn + {header_end} AS _line, {blank} AS _blank, COALESCE(({fast}), false) AS _fast, {", ".join(cols)}
              FROM {source})""")
    return names


def _load_staged(con, name, table, rep, rejects, encoding, mapped, extra, n, names) -> bool:
    cols = [f"c{i}" for i in range(n)]

    # rows not in a canonical form: the row path's parser, subtotal and blank rules
    rep.encoding = encoding
    subtotal_idx = subtotal_indexes(table, mapped)
    slow_rows: dict[str, list] = {c: [] for c in names}
    slow_rows["_line"], slow_rows["_extra"] = [], []
    file_rejects: list[Reject] = []
    n_slow_read = n_subtotal = n_rejected = 0
    cur = con.execute(f"SELECT _line, {', '.join(cols)} FROM _fast_stage WHERE NOT _fast AND NOT _blank ORDER BY _line")
    while True:
        batch = cur.fetchmany(10000)
        if not batch:
            break
        for line, *values in batch:
            if is_blank(values):
                continue
            n_slow_read += 1
            if any(is_subtotal(values[i]) for i in subtotal_idx):
                n_subtotal += 1
                continue
            row, errors = parse_row(table, mapped, {}, name, line, values)
            if errors:
                n_rejected += 1
                file_rejects.extend(errors)
                continue
            extras = {}
            for key, i in extra.items():
                text = cell_text(values[i])
                if text:
                    extras[key] = text
            for c in names:
                slow_rows[c].append(to_sql_text(row[c]))
            slow_rows["_line"].append(str(line))
            slow_rows["_extra"].append(json.dumps(extras, ensure_ascii=False) if extras else None)

    types = {c.name: schema.SQL_TYPES[c.type] for c in table.columns}
    select_cols = ", ".join(f'"{c}"' for c in names)
    if slow_rows["_line"]:
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in slow_rows.items()})
        con.register("_fast_slow_frame", frame)
        try:
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _fast_slow AS SELECT CAST(_line AS BIGINT) AS _line,
                {", ".join(f'CAST("{c}" AS {types[c]}) AS "{c}"' for c in names)}, _extra FROM _fast_slow_frame""")
        finally:
            con.unregister("_fast_slow_frame")
        union = f"UNION ALL SELECT _line, {select_cols}, _extra FROM _fast_slow"
    else:
        union = ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _fast_ok AS
        SELECT _line, {select_cols}, _extra FROM _fast_stage WHERE _fast AND NOT _blank {union}""")
    n_fast = con.execute("SELECT count(*) FROM _fast_stage WHERE _fast AND NOT _blank").fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _fast_stage")

    # duplicate keys, in line order: a key already in the table, or a later line of the same key
    key = ", ".join(f'"{k}"' for k in table.key)
    on = " AND ".join(f'o."{k}" = t."{k}"' for k in table.key)
    has_rows = con.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name})").fetchone()[0]
    dups = con.execute(f"""
        SELECT _line, {key} FROM (
            SELECT _line, {key}, row_number() OVER (PARTITION BY {key} ORDER BY _line) AS rn FROM _fast_ok) o
        WHERE rn > 1 {f"OR EXISTS (SELECT 1 FROM {table.name} t WHERE {on})" if has_rows else ""}
        ORDER BY _line""").fetchall()
    for line, *key_values in dups:
        file_rejects.append(Reject(name, int(line), ",".join(table.key),
                                   "|".join(cell_text(k) for k in key_values), RejectReason.DUPLICATE_KEY))
    n_rejected += len(dups)
    dup_filter = ""
    if dups:
        con.execute("CREATE OR REPLACE TEMP TABLE _fast_dup (_line BIGINT)")
        con.executemany("INSERT INTO _fast_dup VALUES (?)", [[d[0]] for d in dups])
        dup_filter = "WHERE _line NOT IN (SELECT _line FROM _fast_dup)"
    loaded = n_fast + len(slow_rows["_line"]) - len(dups)
    if loaded:
        con.execute(f"""INSERT INTO {table.name} ({select_cols}, _file, _line, _extra)
            SELECT {select_cols}, {sql_str(name)}, CAST(_line AS INTEGER), _extra FROM _fast_ok {dup_filter}
            ORDER BY _line""")
    con.execute("DROP TABLE IF EXISTS _fast_dup")
    file_rejects.sort(key=lambda r: r.line)  # stable: a row's cells keep their column order
    rejects.extend(file_rejects)
    rep.rows_read = n_fast + n_slow_read
    rep.rows_subtotal = n_subtotal
    rep.rows_rejected = n_rejected
    rep.rows_loaded = loaded
    rep.check()
    return True
