"""The fast path for XLSX workbooks: the sheet staged as a UTF-8 CSV file for the CSV fast path.

The workbook is read as the row path reads it (:func:`~auditlib.ingest.header.read_with_header`,
python-calamine underneath), so the header, title rows and merged two-row headers are found the
same way.  Then, a chunk of rows at a time and a column at a time, every cell becomes text: a text
cell as it is; a typed cell (number, date cell, bool) as the canonical text of the value its
column's parser gives it (``to_sql_text(PARSERS[type](cell))``), which that parser reads back to
the same value.  The text goes to a temporary CSV file, one line per sheet row below the header
(blank rows too, so lines stay sheet rows); the sheet's cells are freed; then
:func:`~auditlib.ingest.fast.load_rows_csv` loads the file (canonical cells converted in SQL, the
others through the row path's parser, duplicate keys in line order).

A row with a typed cell its parser refuses (a number in a date column outside the serial range,
an amount with three decimals ...) is a rejected row whatever else it holds: it is parsed here,
from its typed cells, exactly as the row path parses it, and staged as a blank line.  So the
rows, values, rejects (line = sheet row) and counts are the row path's
(``tests/test_ingest_xlsx_readers.py``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import tempfile
from pathlib import Path

from auditlib.ingest import fast, readers, schema
from auditlib.ingest.header import read_with_header
from auditlib.ingest.readers import OLE2_MAGIC, ZIP_MAGIC
from auditlib.ingest.report import FileReport, Reject
from auditlib.ingest.rows import parse_row, subtotal_indexes, to_sql_text
from auditlib.ingest.values import MAX_YEAR, MIN_YEAR, PARSERS, ValueParseError, cell_text, is_subtotal
from auditlib.ingest.xlsx_calamine import CalamineRows, cell_value

#: workbooks smaller than this take the row path (the fast path's fixed cost is not worth it)
FAST_MIN_BYTES = 1 << 18
#: rows staged per round trip to DuckDB
CHUNK_ROWS = 50_000

_MONEY_LIMIT = 10**16
_INT_LIMIT = 2**31
#: doubles hold every whole number below this exactly
_EXACT_LIMIT = float(2**53)


class _Refused(Exception):
    """A typed cell its column's parser refuses: the row is parsed from its typed cells."""


def wants_fast(path: Path, profile_used: bool) -> bool:
    """Whether the XLSX fast path tries ``path``: an ``.xlsx`` zip of at least :data:`FAST_MIN_BYTES`
    read without a mapping profile."""
    if profile_used or path.suffix.lower() != ".xlsx" or path.stat().st_size < FAST_MIN_BYTES:
        return False
    if readers.xlsx_reader() is not readers.XlsxReader.CALAMINE:
        return False
    with open(path, "rb") as fh:
        magic = fh.read(8)
    return magic.startswith(ZIP_MAGIC) and magic != OLE2_MAGIC


def _generic(parser):
    def conv(v):
        try:
            return to_sql_text(parser(v))
        except ValueParseError:
            raise _Refused from None
    return conv


def _converter(col_type: str):
    """Calamine cell -> staged text for a column of ``col_type``: text cells unchanged, typed cells
    the canonical text of their parsed value (common types without the parser's detours).  A
    calamine cell parses to the value its openpyxl form (:func:`~auditlib.ingest.xlsx_calamine.
    convert_row`) parses to, and is refused when that one is."""
    generic = _generic(PARSERS[col_type])
    datetime, date, str_ = _dt.datetime, _dt.date, str

    if col_type == "date":
        def conv(v):
            t = type(v)
            if t is str_:
                return v
            if t is date and MIN_YEAR <= v.year <= MAX_YEAR:
                return v.isoformat()
            if t is datetime and MIN_YEAR <= v.year <= MAX_YEAR:
                return v.date().isoformat()
            return generic(v)
    elif col_type == "money":
        def conv(v):
            t = type(v)
            if t is str_:
                return v
            if t is float:
                r = repr(v)
                dot = r.find(".")
                if "e" not in r and "n" not in r and dot >= 0 and len(r) - dot <= 3 and abs(v) < _MONEY_LIMIT:
                    return r  # what parse_money reads: Decimal(repr(v)), two places at most
            return generic(v)
    elif col_type == "int":
        def conv(v):
            t = type(v)
            if t is str_:
                return v
            if t is float and v.is_integer() and -_INT_LIMIT <= v < _INT_LIMIT:
                return str_(int(v))
            return generic(v)
    else:
        def conv(v):
            if type(v) is str_:
                return v
            return generic(v)
    return conv


def _extra_text(v):
    if type(v) is str:
        return v
    return cell_text(cell_value(v)) or None


_MONEY_TEXTS_RE = re.compile(r"(?:-?[0-9]{1,16}(?:\.[0-9]{1,2})?\n)*")


def _whole_column(kind: str | None, col: tuple, types: set) -> list | None:
    """A whole column of date cells, amounts or whole numbers as text at once (what
    :func:`_converter` gives cell by cell, checked for the column as a whole); None for any
    other column, or one with a cell the per-cell converter must look at."""
    date, str_, float_ = _dt.date, str, float
    if kind == "date" and types <= {date, str_}:
        dates = [v for v in col if v.__class__ is date]
        if dates and (min(dates).year < MIN_YEAR or max(dates).year > MAX_YEAR):
            return None
        return [v if v.__class__ is str_ else v.isoformat() for v in col]
    if kind == "money" and types <= {float_, str_}:
        texts = [v if v.__class__ is str_ else repr(v) for v in col]
        nums = [t for t, v in zip(texts, col) if v.__class__ is float_]
        return texts if _MONEY_TEXTS_RE.fullmatch("\n".join(nums) + "\n" if nums else "") else None
    if kind == "int" and types <= {float_, str_}:
        nums = [v for v in col if v.__class__ is float_]
        if nums and not (all(map(float_.is_integer, nums)) and -_INT_LIMIT <= min(nums)
                         and max(nums) < _INT_LIMIT):
            return None
        return [v if v.__class__ is str_ else str_(int(v)) for v in col]
    return None


def _stage_chunk(chunk: list, pad: int, n: int, role: list, kinds: list) -> tuple[list, set] | None:
    """The chunk's cells as ``n`` text columns, and the indexes of its rows with a refused typed
    cell (blanked in the columns); None when a row has cells beyond the header or a number
    calamine cannot hold exactly (the row path reads the workbook then).  ``role`` holds
    each column's cell converter, ``kinds`` its column type (None for an extra column)."""
    width = pad + len(chunk[0])
    columns: list = [None] * pad + list(zip(*chunk))
    if width > n:
        if any(any(type(v) is not str or v.strip() for v in col) for col in columns[n:]):
            return None
        columns = columns[:n]
    columns += [None] * (n - len(columns))
    refused: set = set()
    out: list = []
    for j, col in enumerate(columns):
        if col is None or role[j] is None:
            out.append(col)
            continue
        types = set(map(type, col))
        if types <= {str}:  # text cells are staged as they are ("" is empty)
            out.append(col)
            continue
        if float in types:  # a number calamine cannot hold exactly: openpyxl reads the sheet
            nums = [v for v in col if v.__class__ is float]
            if max(nums) >= _EXACT_LIMIT or min(nums) <= -_EXACT_LIMIT:
                return None
        whole = _whole_column(kinds[j], col, types)
        if whole is not None:
            out.append(whole)
            continue
        conv = role[j]
        try:
            out.append([conv(v) for v in col])
        except _Refused:
            texts = []
            for k, v in enumerate(col):
                try:
                    texts.append(conv(v))
                except _Refused:
                    refused.add(k)
                    texts.append(None)
            out.append(texts)
    if refused:
        out = [list(c) if c is not None else None for c in out]
        for c in out:
            if c is not None:
                for k in refused:
                    c[k] = None
    return out, refused


def _csv_text(columns: list, length: int) -> bytes | None:
    """``length`` rows of the text ``columns`` as UTF-8 CSV lines; None when a cell cannot go
    through a UTF-8 CSV file unchanged (a NUL, a lone surrogate): the row path reads it then."""
    cols = [c if c is not None else [""] * length for c in columns]
    try:  # the lines joined at once, kept when no cell needs quoting (the common case)
        text = "\n".join(map(",".join, zip(*cols))) + "\n"
        if ('"' in text or "\r" in text or text.count("\n") != length
                or text.count(",") != length * (len(cols) - 1)):
            text = None
    except TypeError:  # an empty cell as None
        text = None
    if text is None:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(zip(*cols))
        text = out.getvalue()
    if "\x00" in text:
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def load_xlsx_fast(con, path: Path, table: schema.Table, rep: FileReport, rejects: list[Reject],
                   tmp_dir: Path | None = None) -> bool:
    """Load an XLSX workbook the fast way; False (and nothing loaded) when it needs the row path.

    The staged text goes to a temporary CSV file in ``tmp_dir``; the sheet's cells are freed
    before DuckDB reads it into the table, so memory holds one or the other, never both.
    """
    raw, mapped, extra, notes = read_with_header(path, table)
    rows = raw.rows
    if raw.encoding is not None or not isinstance(rows, CalamineRows):  # CSV text, or read by openpyxl
        return False
    n = len(raw.header)
    if n == 0 or raw.header_line is None or rows.switched is not None:
        return False
    role: list = [_extra_text] * n
    kinds: list = [None] * n
    for col in table.columns:
        if col.name in mapped:
            role[mapped[col.name]] = _converter(col.type)
            kinds[mapped[col.name]] = col.type
    subtotal_idx = subtotal_indexes(table, mapped)
    name = path.name
    first = raw.header_line + 1
    own_rejects: list[Reject] = []
    own_read = own_subtotal = own_rejected = 0
    blank_line = b"," * (n - 1) + b"\n"
    fd, tmp = tempfile.mkstemp(prefix=".auditlib-", suffix=".csv", dir=tmp_dir)
    try:
        written = 0
        one_line = True  # no cell holds a line break: DuckDB may read the file in parallel
        with open(fd, "wb") as fh:
            expected = first
            for line, chunk in rows.raw_chunks(CHUNK_ROWS):
                if line > expected:  # blank rows skipped with the title rows: lines kept in step
                    fh.write(blank_line * (line - expected))
                    written += line - expected
                expected = line + len(chunk)
                got = _stage_chunk(chunk, rows.pad, n, role, kinds)
                if got is None:  # cells beyond the header (kept as extras), a long number: the row path
                    return False
                columns, refused = got
                for k in sorted(refused):  # a rejected row (or a subtotal): parsed from its typed cells
                    values = (rows.values(chunk[k]) + [None] * n)[:n]
                    own_read += 1
                    if any(is_subtotal(values[i]) for i in subtotal_idx):
                        own_subtotal += 1
                        continue
                    _row, errors = parse_row(table, mapped, {}, name, line + k, values)
                    own_rejected += 1
                    own_rejects.extend(errors)
                length = len(chunk)
                del chunk
                text = _csv_text(columns, length)
                if text is None:
                    return False
                one_line = one_line and text.count(b"\n") == length
                fh.write(text)
                written += length
        rows.close()  # the sheet's cells are freed before DuckDB reads the rows
        if not written:  # a header only: the row path says so
            return False
        before = len(rejects)
        if not _insert(con, name, table, rep, rejects, tmp, first, mapped, extra, n, written, one_line):
            return False
    finally:
        Path(tmp).unlink(missing_ok=True)
    rep.set_encoding(raw)
    rep.warnings.extend(raw.notes)
    rep.warnings.extend(notes)
    tail = rejects[before:] + own_rejects
    tail.sort(key=lambda r: r.line)  # stable: a row's cells keep their column order
    rejects[before:] = tail
    rep.rows_read += own_read
    rep.rows_subtotal += own_subtotal
    rep.rows_rejected += own_rejected
    rep.check()
    return True


def _insert(con, name, table, rep, rejects, tmp, first, mapped, extra, n, written, one_line) -> bool:
    """The staged CSV file into ``table`` by the CSV fast path
    (:func:`~auditlib.ingest.fast.load_rows_csv`), lines from ``first`` on; False (nothing loaded)
    when DuckDB did not read back every row."""
    return fast.load_rows_csv(con, name, table, rep, rejects, Path(tmp), n, mapped, extra, skip=0,
                              first_line=first, expected=written, choice=None, parallel=one_line)
