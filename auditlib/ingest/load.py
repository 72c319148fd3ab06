"""Loading a folder of CSV/XLSX exports into the audit database (CONTRACT §1).

Every file is accounted for: rows read = rows loaded + subtotal rows dropped +
rows rejected.  Rejected rows go to ``rejects.csv`` with file, line, column,
value and reason; a file lacking a required column is an error naming the
file, the column and the columns found.  A file already loaded (same SHA-256)
is not loaded again.  Input files are only ever opened for reading.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from auditlib import auditlog
from auditlib.ingest import profiles as _mapping
from auditlib.ingest import schema
from auditlib.ingest.completeness import completeness_warnings
from auditlib.db import lock_error
from auditlib.errors import DatabaseError, InputError, MappingError, MissingColumnError
from auditlib.i18n import register, t
from auditlib.ingest.readers import RawFile, read_file
from auditlib.ingest.values import PARSERS, ValueParseError, is_subtotal, parse_text

logger = logging.getLogger("auditlib")

REPORT_NAME = "ingest_report.json"
REJECTS_NAME = "rejects.csv"
SUFFIXES = (".csv", ".xlsx")

#: money columns whose empty cell means 0
ZERO_IF_EMPTY = {("ledger", "debit"), ("ledger", "credit"), ("bank_txns", "inflow"), ("bank_txns", "outflow")}

#: first characters that make a spreadsheet treat a cell as a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: delimiters tried, in order, when a CSV file's header is not found with commas
DELIMITERS = (",", "\t", ";", "|")
#: how many non-blank records may stand above the header (report titles, units, dates ...)
MAX_TITLE_ROWS = 30
#: DuckDB memory during an ingest (AUDITLIB_INGEST_MEMORY overrides): beyond it DuckDB spills to
#: disk beside the database, so a very large CSV is loaded in flat memory
INGEST_MEMORY = "256MB"
#: transaction dates more than this many years before or after the data's fiscal year are loaded
#: with a warning (typos such as 2042 or 1924 for 2024)
FAR_YEARS = 5
#: (table, date column) of the transaction dates whose year makes the fiscal year of the data
TRANSACTION_DATES = (("budget", "issued_on"), ("payments", "accepted_on"), ("payments", "requested_on"),
                     ("payments", "paid_on"), ("ledger", "voucher_date"), ("bank_txns", "txn_date"))

register({
    "ingest.file": ("文件", "file"),
    "ingest.table": ("表", "table"),
    "ingest.status": ("状态", "status"),
    "ingest.read": ("读取", "read"),
    "ingest.loaded": ("载入", "loaded"),
    "ingest.subtotal": ("合计行", "subtotal"),
    "ingest.rejected": ("拒收", "rejected"),
    "ingest.status.loaded": ("已载入", "loaded"),
    "ingest.status.already": ("已载入过，跳过", "already loaded"),
    "ingest.status.skipped": ("跳过（文件名不对应任何表）", "skipped (no table matches the file name)"),
    "ingest.warnings": ("完整性警告 {n} 条：", "{n} completeness warning(s):"),
    "ingest.file_warnings": ("文件警告 {n} 条（也记在 ingest_report.json）：",
                             "{n} file warning(s) (also in ingest_report.json):"),
    "ingest.rejects": ("拒收行明细见 {path}", "rejected rows are listed in {path}"),
    "ingest.filtered": ("映射配置 {profile}，过滤 {n} 行", "profile {profile}, {n} row(s) filtered out"),
    "ingest.mapped": ("映射配置 {profile}", "profile {profile}"),
    "ingest.filtered_total": ("读取的行中有 {n} 行被映射配置的过滤条件排除",
                              "of the rows read, {n} were left out by the mapping profile's filters"),
    "ingest.total": ("合计：读取 {read}，载入 {loaded}，合计行 {subtotal}，拒收 {rejected}",
                     "total: read {read}, loaded {loaded}, subtotal {subtotal}, rejected {rejected}"),
})


@dataclass
class Reject:
    file: str
    line: int | None
    column: str
    value: str
    reason: str


@dataclass
class FileReport:
    file: str
    table: str | None
    sha256: str
    encoding: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_subtotal: int = 0
    rows_rejected: int = 0
    #: rows a mapping profile's filters left out (0 without a profile)
    rows_filtered: int = 0
    #: the mapping profile that read the file, if any
    mapping: str | None = None
    #: ``loaded``, ``already loaded`` or ``skipped``
    status: str = "loaded"
    reason: str | None = None
    #: remarks on this file: title rows skipped, another delimiter, dates far outside the fiscal year ...
    warnings: list = field(default_factory=list)

    def check(self) -> None:
        assert self.rows_read == (self.rows_loaded + self.rows_subtotal + self.rows_rejected
                                  + self.rows_filtered), self


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    report_path: str | None = None

    def describe(self, lang: str = "zh") -> str:
        """A per-file summary table, then totals and warnings, in ``lang``."""
        status_key = {"loaded": "ingest.status.loaded", "already loaded": "ingest.status.already",
                      "skipped": "ingest.status.skipped"}
        head = [t(k, lang) for k in ("ingest.file", "ingest.table", "ingest.status", "ingest.read",
                                      "ingest.loaded", "ingest.subtotal", "ingest.rejected")]
        body = []
        for f in self.files:
            status = t(status_key.get(f.status, f.status), lang)
            if f.reason and f.status != "skipped":
                status += f" ({f.reason})"
            if f.mapping and f.status == "loaded":
                status += " (" + (t("ingest.filtered", lang, profile=f.mapping, n=f.rows_filtered) if f.rows_filtered
                                  else t("ingest.mapped", lang, profile=f.mapping)) + ")"
            body.append([f.file, f.table or "-", status, str(f.rows_read), str(f.rows_loaded),
                         str(f.rows_subtotal), str(f.rows_rejected)])

        def width(s: str) -> int:  # CJK characters take two columns in a terminal
            return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

        widths = [max(width(r[i]) for r in [head] + body) for i in range(len(head))]

        def fmt(row):
            return "  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths)).rstrip()

        lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body]
        lines.append(t("ingest.total", lang,
                       read=sum(f.rows_read for f in self.files),
                       loaded=sum(f.rows_loaded for f in self.files),
                       subtotal=sum(f.rows_subtotal for f in self.files),
                       rejected=sum(f.rows_rejected for f in self.files)))
        filtered = sum(f.rows_filtered for f in self.files)
        if filtered:
            lines.append(t("ingest.filtered_total", lang, n=filtered))
        if self.rejects and self.rejects_path:
            lines.append(t("ingest.rejects", lang, path=self.rejects_path))
        file_warnings = [w for f in self.files for w in f.warnings]
        if file_warnings:
            lines.append(t("ingest.file_warnings", lang, n=len(file_warnings)))
            lines.extend(f"  {w}" for w in file_warnings)
        if self.warnings:
            lines.append(t("ingest.warnings", lang, n=len(self.warnings)))
            lines.extend(f"  {w}" for w in self.warnings)
        return "\n".join(lines)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _header_text(value) -> str:
    try:
        text = parse_text(value)
    except ValueParseError:
        text = str(value)
    return text or ""


def _alias_map(table: schema.Table) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in table.columns:
        for name in (col.name,) + col.aliases:
            out.setdefault(schema.normalize_header(name), col.name)
    return out


def map_header(table: schema.Table, header: list, file: str) -> tuple[dict[str, int], dict[str, int]]:
    """Column name -> index for known columns, and header -> index for extra columns.

    Raises :class:`MissingColumnError` when a required column is absent.
    """
    aliases = _alias_map(table)
    found = [_header_text(h) for h in header]
    mapped: dict[str, int] = {}
    extra: dict[str, int] = {}
    for i, text in enumerate(found):
        name = aliases.get(schema.normalize_header(text))
        if name is not None and name not in mapped:
            mapped[name] = i
        else:
            key = text or f"column_{i + 1}"
            while key in extra or key in mapped:
                key += "_"
            extra[key] = i
    for col in table.required:
        if col not in mapped:
            zh_names = "/".join(table.column(col).aliases)
            shown = ", ".join(found) if found else "(none)"
            raise MissingColumnError(
                f"{file}: 缺少必需列 / missing required column '{col}'"
                + (f" ({zh_names})" if zh_names else "")
                + f" for table {table.name}; 找到的列 / columns found: {shown}",
                file=file, table=table.name, column=col, found=found,
            )
    return mapped, extra


def check_duplicate_headers(table: schema.Table, header: list, file: str, line: int | None) -> None:
    """Two header cells with the same name (after normalising) for a column of ``table``:
    an :class:`InputError` naming the file, the header line and both columns."""
    aliases = _alias_map(table)
    first: dict[str, int] = {}
    for i, h in enumerate(header):
        norm = schema.normalize_header(_header_text(h))
        if not norm or aliases.get(norm) is None:
            continue
        if norm in first:
            j, text = first[norm], _header_text(h)
            raise InputError(
                f"{file}: 第 {line} 行表头第 {j + 1} 列和第 {i + 1} 列同名（{text}），无法确定用哪一列作 "
                f"{aliases[norm]} / header line {line}: columns {j + 1} and {i + 1} are both named '{text}'; "
                f"which one is {aliases[norm]} is ambiguous",
                file=file, line=line, column=text, reason="duplicate header")
        first[norm] = i


def _pick_header(table: schema.Table, raw: RawFile) -> list:
    """The header of ``raw``; for a header spanning rows (merged cells) per column the first
    candidate name that is a column of ``table`` not taken yet."""
    if not raw.header_alts:
        return list(raw.header)
    aliases = _alias_map(table)
    taken: set[str] = set()
    header = []
    for i, alts in enumerate(raw.header_alts):
        chosen = raw.header[i] if i < len(raw.header) else None
        for alt in alts:
            name = aliases.get(schema.normalize_header(alt))
            if name is not None and name not in taken:
                chosen = alt
                break
        name = aliases.get(schema.normalize_header(_header_text(chosen)))
        if name is not None:
            taken.add(name)
        header.append(chosen)
    return header


def _find_header(table: schema.Table, raw: RawFile, file: str) -> tuple[RawFile, dict, dict, list[str]]:
    """The header row of ``raw`` with its mapped and extra columns, and notes.

    The first non-blank row is the header when it names every required column (as always);
    otherwise title rows above the header (``某某单位序时账 2024年``) are skipped: the first of the
    next rows that names them all is the header.  When none does, the error of the first row.
    """
    header = _pick_header(table, raw)
    try:
        mapped, extra = map_header(table, header, file)
        check_duplicate_headers(table, header, file, raw.header_line)
        return raw._replace(header=header), mapped, extra, []
    except MissingColumnError as exc:
        best_error, best_score = exc, _required_found(table, header)
    rows = iter(raw.rows)
    peeked: list[tuple[int, list]] = []
    for line, values in rows:
        peeked.append((line, values))
        try:
            mapped, extra = map_header(table, values, file)
        except MissingColumnError as exc:
            score = _required_found(table, values)
            if score > best_score:  # the row most like a header names what is missing
                best_error, best_score = exc, score
            if len(peeked) >= MAX_TITLE_ROWS:
                break
            continue
        check_duplicate_headers(table, values, file, line)
        titles = [" ".join(_show(v) for v in raw.header if _show(v))]
        titles += [" ".join(_show(v) for v in vals if _show(v)) for _, vals in peeked[:-1]]
        shown = " | ".join(titles)
        note = (f"{file}: 表头在第 {line} 行，其上 {len(titles)} 行标题已跳过（{shown}）/ header on line {line}; "
                f"{len(titles)} title line(s) above it skipped: {shown}")
        return raw._replace(header=list(values), rows=rows, header_line=line, header_alts=None), mapped, extra, [note]
    raise best_error


def _required_found(table: schema.Table, header: list) -> int:
    aliases = _alias_map(table)
    names = {aliases.get(schema.normalize_header(_header_text(h))) for h in header}
    return sum(1 for col in table.required if col in names)


def _read_with_header(path: Path, table: schema.Table) -> tuple[RawFile, dict, dict, list[str]]:
    """Read a data file (no mapping profile) and find its header; a CSV file whose header is not
    found with commas is tried with tabs, semicolons and bars (the first that finds it wins)."""
    raw = read_file(path)
    _check_not_empty(raw, path.name)
    try:
        return _find_header(table, raw, path.name)
    except InputError as exc:
        if raw.encoding is None or isinstance(exc, MappingError):
            raise
        first_error = exc
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    for delim in DELIMITERS[1:]:
        if delim.encode() not in head:
            continue
        try:
            raw2 = read_file(path, delimiter=delim)
            found = _find_header(table, raw2, path.name)
        except InputError:
            continue
        shown = {"\t": "tab", ";": ";", "|": "|"}[delim]
        note = (f"{path.name}: 分隔符为 {shown}（不是逗号）/ the delimiter is {shown}, not a comma")
        return found[0], found[1], found[2], [note] + found[3]
    raise first_error


def _check_not_empty(raw: RawFile, file: str) -> None:
    if not raw.header or all(_header_text(h) == "" for h in raw.header):
        raise InputError(f"{file}: 文件为空（没有表头行）/ the file is empty (no header line)",
                         file=file, line=1, column=None, reason="empty file")


def _to_sql_text(value) -> str | None:
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


def _show(value) -> str:
    if value is None:
        return ""
    try:
        return parse_text(value) or ""
    except ValueParseError:
        return str(value)


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in schema.TABLES.values():
        con.execute(schema.ddl(table))
    con.execute(
        "CREATE TABLE IF NOT EXISTS _ingested_files (sha256 VARCHAR PRIMARY KEY, file VARCHAR, "
        "table_name VARCHAR, rows_loaded INTEGER, loaded_at TIMESTAMP)"
    )


def _parse_row(table: schema.Table, mapped: dict, labels: dict, file: str, line: int,
               values: list) -> tuple[dict, list[Reject]]:
    """One row's cells parsed into column values, and the rejects of the cells that do not parse."""
    row: dict = {}
    errors: list[Reject] = []
    for col in table.columns:
        cell = values[mapped[col.name]] if col.name in mapped else None
        if isinstance(cell, _mapping.BadCell):
            errors.append(Reject(file, line, labels.get(col.name, col.name), cell.value, cell.reason))
            continue
        try:
            val = PARSERS[col.type](cell)
        except ValueParseError as exc:
            errors.append(Reject(file, line, labels.get(col.name, col.name), _show(cell), exc.reason))
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
            errors.append(Reject(file, line, labels.get(col.name, col.name), "", "missing required value"))
    return row, errors


def _load_file(con, path: Path, table: schema.Table, rep: FileReport, seen: set,
               rejects: list[Reject], profile=None) -> None:
    labels: dict[str, str] = {}
    if profile is not None:  # the profile turns source rows into the table's cells
        raw = read_file(path, profile.encoding)
        _check_not_empty(raw, path.name)
        rep.encoding = raw.encoding
        raw, labels = profile.apply(raw, path.name)
        mapped, extra = map_header(table, raw.header, path.name)
    else:
        raw, mapped, extra, notes = _read_with_header(path, table)
        rep.encoding = raw.encoding
        rep.warnings.extend(raw.notes)
        rep.warnings.extend(notes)
    # a CSV row with fewer cells than the header is rejected (a line cut off, a broken line)
    short_check = profile is None and raw.encoding is not None
    header_label = {i: name for name, i in mapped.items()}
    subtotal_idx = [mapped[c] for c in table.subtotal_columns if c in mapped]
    subtotal_idx += [mapped[c.name] for c in table.columns if c.type == "date" and c.name in mapped]
    extra_names = [k for k in extra]
    out: dict[str, list] = {c.name: [] for c in table.columns}
    out["_file"], out["_line"], out["_extra"] = [], [], []
    n_header = len(raw.header)

    for line, values in raw.rows:
        rep.rows_read += 1
        if values is _mapping.FILTERED:
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
            missing = header_label.get(n_cells) or _header_text(raw.header[n_cells]) or f"column_{n_cells + 1}"
            reason = f"row has {n_cells} of {n_header} columns"
            if line == raw.cut_line:
                reason += "; the file ends in this row without a line break (cut off?)"
            rep.rows_rejected += 1
            rejects.append(Reject(path.name, line, missing, ",".join(_show(v) for v in values[:n_cells]), reason))
            continue
        row, errors = _parse_row(table, mapped, labels, path.name, line, values)
        if not errors:
            key = tuple(row[k] for k in table.key)
            if key in seen:
                errors.append(Reject(path.name, line, ",".join(table.key),
                                     "|".join(_show(k) for k in key), "duplicate key"))
            else:
                seen.add(key)
        if errors:
            rep.rows_rejected += 1
            rejects.extend(errors)
            continue
        extras = {}
        for name in extra_names:
            text = _show(values[extra[name]])
            if text:
                extras[name] = text
        for j, cell in enumerate(overflow):
            text = _show(cell)
            if text:
                extras[f"column_{n_header + j + 1}"] = text
        for col in table.columns:
            out[col.name].append(_to_sql_text(row[col.name]))
        out["_file"].append(path.name)
        out["_line"].append(str(line))
        out["_extra"].append(json.dumps(extras, ensure_ascii=False) if extras else None)
        rep.rows_loaded += 1

    rep.check()
    if rep.rows_loaded:
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
        types = {c.name: schema.SQL_TYPES[c.type] for c in table.columns}
        types.update({name: sqltype for name, sqltype in schema.PROVENANCE})
        cols = ", ".join(f'"{k}"' for k in out)
        select = ", ".join(f'CAST("{k}" AS {types[k]})' for k in out)
        con.register("_ingest_frame", frame)
        try:
            con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {select} FROM _ingest_frame")
        finally:
            con.unregister("_ingest_frame")


# ---- the fast path: a UTF-8 CSV read by DuckDB, canonical cells converted in SQL ----------------------
# Cells in a canonical form (money 1234.50, dates 2024-03-05 or 20240305, plain text, ...) give the
# same value in SQL as through :data:`~auditlib.ingest.values.PARSERS`; every other row (export forms such
# as 1,234.50, subtotal candidates, bad cells) goes through the row-by-row parser above, and
# duplicate keys are found in SQL in line order.  Same rows, values, rejects and counts as the row
# path; a file DuckDB and Python's csv module might read differently falls back to the row path.

#: CSV files smaller than this take the row path (the fast path's fixed cost is not worth it)
FAST_MIN_BYTES = 1 << 20

# an end character that str.strip() never removes (a superset of the whitespace is excluded)
_END = r"[^\x00-\x20\x7f-\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_TEXT_RE = f"(?s){_END}(.*{_END})?"
_TRUE_TEXT = ("是", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "t", "T", "1", "√")
_FALSE_TEXT = ("否", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "f", "F", "0")


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_list(items) -> str:
    return "(" + ", ".join(_sql_str(x) for x in items) + ")"


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


def _load_csv_fast(con, path: Path, table: schema.Table, rep: FileReport, rejects: list[Reject]) -> bool:
    """Load a CSV file the fast way; False (and nothing done) when the file needs the row path."""
    from auditlib.ingest.readers import csv_header, csv_layout

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
            f"FROM read_csv({_sql_str(str(path))}, "
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
        parts.append(f"CASE WHEN {x} <> '' THEN {_sql_str(prefix)} || '\"' || {x} || '\"' END")
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
    subtotal_idx = [mapped[c] for c in table.subtotal_columns if c in mapped]
    subtotal_idx += [mapped[c.name] for c in table.columns if c.type == "date" and c.name in mapped]
    from auditlib.ingest.readers import _blank

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
            if _blank(values):
                continue
            n_slow_read += 1
            if any(is_subtotal(values[i]) for i in subtotal_idx):
                n_subtotal += 1
                continue
            row, errors = _parse_row(table, mapped, {}, name, line, values)
            if errors:
                n_rejected += 1
                file_rejects.extend(errors)
                continue
            extras = {}
            for key, i in extra.items():
                text = _show(values[i])
                if text:
                    extras[key] = text
            for c in names:
                slow_rows[c].append(_to_sql_text(row[c]))
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
                                   "|".join(_show(k) for k in key_values), "duplicate key"))
    n_rejected += len(dups)
    dup_filter = ""
    if dups:
        con.execute("CREATE OR REPLACE TEMP TABLE _fast_dup (_line BIGINT)")
        con.executemany("INSERT INTO _fast_dup VALUES (?)", [[d[0]] for d in dups])
        dup_filter = "WHERE _line NOT IN (SELECT _line FROM _fast_dup)"
    loaded = n_fast + len(slow_rows["_line"]) - len(dups)
    if loaded:
        con.execute(f"""INSERT INTO {table.name} ({select_cols}, _file, _line, _extra)
            SELECT {select_cols}, {_sql_str(name)}, CAST(_line AS INTEGER), _extra FROM _fast_ok {dup_filter}
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


def _date_warnings(con, files: list[FileReport]) -> None:
    """Warn (per file) about transaction dates far outside the fiscal year of the data: the most
    common year of all transaction dates in the database."""
    if not files:
        return
    union = " UNION ALL ".join(f'SELECT year("{c}") AS y FROM {t} WHERE "{c}" IS NOT NULL'
                               for t, c in TRANSACTION_DATES)
    row = con.execute(f"SELECT y FROM ({union}) GROUP BY y ORDER BY count(*) DESC, y DESC LIMIT 1").fetchone()
    if row is None:
        return
    fy = int(row[0])
    lo, hi = fy - FAR_YEARS, fy + FAR_YEARS
    for f in files:
        for table, col in TRANSACTION_DATES:
            if table != f.table:
                continue
            n, line, value = con.execute(
                f'SELECT count(*), min(_line), arg_min("{col}", _line) FROM {table} '
                f'WHERE _file = ? AND (year("{col}") < ? OR year("{col}") > ?)', [f.file, lo, hi]).fetchone()
            if n:
                f.warnings.append(
                    f"{f.file}: {col} 列有 {n} 个日期远离会计年度 {fy}（早于 {lo} 年或晚于 {hi} 年），首个在第 {line} 行："
                    f"{value} / {n} date(s) in column {col} far outside the fiscal year {fy} (before {lo} or after "
                    f"{hi}), first at line {line}: {value}")


def _existing_keys(con, table: schema.Table) -> set:
    cols = ", ".join(f'"{k}"' for k in table.key)
    return {tuple(r) for r in con.execute(f"SELECT {cols} FROM {table.name}").fetchall()}


def _safe_cell(value) -> str:
    text = "" if value is None else str(value).replace("\x00", "\\x00")
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_rejects(path: Path, rejects: list[Reject]) -> None:
    """Write ``rejects.csv`` (UTF-8 with BOM), formula-like cells prefixed with ``'``."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "column", "value", "reason"])
        for r in rejects:
            writer.writerow([_safe_cell(r.file), "" if r.line is None else r.line,
                             _safe_cell(r.column), _safe_cell(r.value), _safe_cell(r.reason)])


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
    profile = _mapping.load_profile(mapping) if mapping is not None else None
    data_dir, db = Path(data_dir), Path(db)
    if not data_dir.is_dir():
        raise InputError(f"数据目录不存在 / data folder not found: {data_dir}",
                         file=str(data_dir), line=None, column=None, reason="missing")
    files = sorted(p for p in data_dir.iterdir()
                   if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("~$"))
    if profile is not None and not any(profile.matches(p.name) for p in files):
        raise MappingError(f"{data_dir}: 没有文件符合映射配置 {profile.name} 的 files {list(profile.files)} / "
                           f"no file matches the files of mapping profile {profile.name}",
                           file=str(data_dir), key="files", line=None, column=None, reason="no file")
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db))
    except duckdb.Error as exc:
        locked = lock_error(db, exc)
        if locked is not None:
            raise locked from exc
        raise DatabaseError(f"无法打开数据库 / cannot open database {db}: {exc}",
                            db=str(db), reason=str(exc)) from exc
    try:
        con.execute(f"SET memory_limit = {_sql_str(os.environ.get('AUDITLIB_INGEST_MEMORY') or INGEST_MEMORY)}")
    except duckdb.Error as exc:
        con.close()
        raise InputError(f"AUDITLIB_INGEST_MEMORY: {exc}", file=None, line=None, column=None,
                         reason=str(exc)) from exc
    report = IngestReport()
    digests: dict[str, str] = {}
    try:
        con.execute("BEGIN TRANSACTION")
        _ensure_tables(con)
        seen_keys: dict[str, set] = {}
        run_hashes: set[str] = set()
        for path in files:
            sha = _sha256(path)
            digests[str(path)] = sha
            use_profile = profile is not None and profile.matches(path.name)
            table_name = profile.table if use_profile else schema.table_for_file(path.stem)
            if table_name is None:
                report.files.append(FileReport(path.name, None, sha, status="skipped",
                                               reason="no table matches the file name"))
                logger.info("%s: skipped, no table matches the file name", path.name)
                continue
            rep = FileReport(path.name, table_name, sha, mapping=profile.name if use_profile else None)
            done = con.execute("SELECT file FROM _ingested_files WHERE sha256 = ?", [sha]).fetchone()
            if done is not None or sha in run_hashes:
                rep.status = "already loaded"
                rep.reason = f"same content as {done[0]}" if done else "duplicate file in this folder"
                report.files.append(rep)
                logger.info("%s: already loaded", path.name)
                continue
            table = schema.TABLES[table_name]
            if not use_profile and path.suffix.lower() == ".csv" and _load_csv_fast(con, path, table, rep,
                                                                                     report.rejects):
                seen_keys.pop(table_name, None)  # the row path reads the keys again, these included
            else:
                if table_name not in seen_keys:
                    seen_keys[table_name] = _existing_keys(con, table)
                _load_file(con, path, table, rep, seen_keys[table_name], report.rejects,
                           profile if use_profile else None)
            con.execute("INSERT INTO _ingested_files VALUES (?, ?, ?, ?, ?)",
                        [sha, path.name, table_name, rep.rows_loaded,
                         _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)])
            run_hashes.add(sha)
            report.files.append(rep)
            logger.info("%s -> %s: read %d, loaded %d, subtotal %d, rejected %d", path.name, table_name,
                        rep.rows_read, rep.rows_loaded, rep.rows_subtotal, rep.rows_rejected)
        _date_warnings(con, [f for f in report.files if f.status == "loaded" and f.table])
        for f in report.files:
            if f.status == "loaded" and f.table and f.rows_read == 0:
                f.warnings.append(f"{f.file}: 只有表头，没有数据行 / header only, no data rows")
        report.warnings = completeness_warnings(con)
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
    records = [asdict(f) for f in report.files]
    with open(report.report_path, "w", encoding="utf-8") as fh:
        json.dump(records, fh, ensure_ascii=False, indent=2)
    write_rejects(Path(report.rejects_path), report.rejects)
    auditlog.append(db, "ingest", files + ([Path(profile.path)] if profile is not None else []), {
        "files": len(report.files),
        "rows_read": sum(f.rows_read for f in report.files),
        "rows_loaded": sum(f.rows_loaded for f in report.files),
        "rows_subtotal": sum(f.rows_subtotal for f in report.files),
        "rows_rejected": sum(f.rows_rejected for f in report.files),
        "rows_filtered": sum(f.rows_filtered for f in report.files),
        "mapping": profile.path if profile is not None else None,
        "warnings": len(report.warnings),
    }, digests=digests)
    return report
