"""The default XLSX reader: python-calamine (Rust), cells as openpyxl gives them.

python-calamine reads a 300k-row sheet about ten times faster than openpyxl's read-only mode.
Its cells are made to match what openpyxl returns (:func:`auditlib.ingest.readers.read_xlsx`
with ``XlsxReader.OPENPYXL``), so the rest of the pipeline sees one kind of cell whichever reader
ran (``tests/test_ingest_xlsx_readers.py`` holds the two readers to that):

- an empty cell (calamine: ``""``) is ``None``;
- a whole number (calamine: ``12.0``) is an ``int``, as openpyxl reads ``<v>12</v>``;
- a date cell at midnight (calamine: ``date``) is a ``datetime``, as openpyxl gives every date cell;
- an error cell (``#N/A``, ``#DIV/0!`` ..., which calamine reads as empty) is its error text, taken
  from the sheet's XML (:func:`auditlib.ingest.xlsx_parts.scan_sheet`, in a thread while calamine
  parses the sheet; both release the GIL), so it is rejected, never loaded as an empty cell;
- a number of 2**53 or more (a 19-digit account number stored as a number) cannot be held by
  calamine's doubles: from the row holding one on, openpyxl reads the sheet (it keeps the digits).
"""
from __future__ import annotations

import datetime as _dt
import itertools
import threading
import zipfile
from pathlib import Path
from typing import Iterator, NamedTuple

from auditlib.ingest.xlsx_parts import SheetScan, first_worksheet, scan_sheet

#: whole floats of at most this size become ints (beyond it a float was never an exact int)
_INT_LIMIT = float(2**53)


class SheetRows(NamedTuple):
    """A worksheet as read: its rows (a :class:`CalamineRows`) and its merged ranges
    ``(min_col, min_row, max_col, max_row)``."""

    rows: "CalamineRows"
    merges: list


class NeedsOtherReader(Exception):
    """The workbook holds what this reader cannot read exactly (an error cell without an address,
    a number too long for a double)."""


def cell_value(v, _str=str, _float=float, _date=_dt.date, _datetime=_dt.datetime):
    """One calamine cell as openpyxl gives it (see the module's notes)."""
    t = type(v)
    if t is _str:
        return v if v else None
    if t is _float:
        if -_INT_LIMIT < v < _INT_LIMIT:
            return int(v) if v.is_integer() else v
        if v != v:  # NaN
            return v
        raise NeedsOtherReader("a number of 2**53 or more")
    if t is _date:
        return _datetime(v.year, v.month, v.day)
    return v


def convert_row(row) -> list:
    """One calamine row as openpyxl's cells (see the module's notes)."""
    return [cell_value(v) for v in row]


def _is_blank(values) -> bool:
    return all(v is None or (type(v) is str and not v.strip()) for v in values)


class CalamineRows:
    """The rows of a sheet read by calamine, once, from row 1 down.

    Iterated, it gives ``(line, values)`` of the non-blank rows, cells as openpyxl gives them
    (:func:`convert_row`).  :meth:`raw_chunks` gives the rest of the rows as calamine read them
    (blank ones included), for the XLSX fast path.  The workbook is closed when the rows end.
    """

    def __init__(self, path: Path, wb, sheet, errors: dict):
        self._path = path
        self._wb = wb
        #: the rows openpyxl reads, once a number calamine cannot hold exactly was met
        self.switched: Iterator | None = None
        start = sheet.start
        #: columns left of the first used one, which calamine's rows leave out
        self.pad = start[1] if start else 0
        self._errors: dict[int, list] = {}
        for (r, c), text in errors.items():
            self._errors.setdefault(r, []).append((c - 1 - self.pad, text))
        self._it = iter(sheet.iter_rows())
        self._line = 0
        self._pending: list = []

    def _next_raw(self):
        """``(line, calamine row)`` of the next row (error cells filled in), or None at the end."""
        if self._pending:
            return self._pending.pop()
        row = next(self._it, None)
        if row is None:
            self.close()
            return None
        self._line += 1
        if self._errors and self._line in self._errors:
            for c, text in self._errors[self._line]:
                if 0 <= c < len(row):
                    row[c] = text
        return self._line, row

    def values(self, row) -> list:
        """A calamine row as openpyxl's cells, from column A."""
        return [None] * self.pad + convert_row(row) if self.pad else convert_row(row)

    def __iter__(self):
        return self

    def __next__(self) -> tuple[int, list]:
        while True:
            if self.switched is not None:
                self._last_values = next(self.switched)
                return self._last_values
            got = self._next_raw()
            if got is None:
                raise StopIteration
            line, row = got
            try:
                values = self.values(row)
            except NeedsOtherReader:
                self._switch(line)
                continue
            if not _is_blank(values):
                self._last = (line, row)
                self._last_values = (line, values)
                return line, values

    def _switch(self, line: int) -> None:
        """Read the rows from ``line`` on with openpyxl (a number calamine holds as a double)."""
        from auditlib.ingest.readers import XlsxReader, read_rows

        rows, _merges = read_rows(self._path, XlsxReader.OPENPYXL)
        self.close()
        self.switched = iter([(ln, vals) for ln, vals in rows if ln >= line])

    def push_back(self) -> None:
        """Give the row last returned again (next time, or to :meth:`raw_chunks`)."""
        if self.switched is not None:
            self.switched = itertools.chain([self._last_values], self.switched)
        else:
            self._pending.append(self._last)

    def raw_chunks(self, size: int):
        """The remaining rows as ``(first line, [calamine rows])``: up to ``size`` rows of
        consecutive lines each, blank rows included, cells as calamine reads them (``""`` when
        empty, floats, ``date``), without the :attr:`pad` columns on the left."""
        while True:
            got = self._next_raw()
            if got is None:
                return
            first, row = got
            chunk = [row]
            while len(chunk) < size and not self._pending:
                got = self._next_raw()
                if got is None:
                    break
                chunk.append(got[1])
            yield first, chunk
            if got is None:
                return

    def close(self) -> None:
        """Close the workbook and free the sheet's cells (the rows end here)."""
        self._it = iter(())
        self._pending = []
        if self._wb is not None:
            self._wb.close()
            self._wb = None


def read_sheet(path: str | Path) -> SheetRows:
    """Read the first worksheet of ``path`` with python-calamine.

    Raises
    ------
    NeedsOtherReader
        When the sheet holds an error cell without a cell address.
    zipfile.BadZipFile, KeyError, python_calamine.CalamineError
        When the file is not a readable workbook (the caller turns these into an InputError).
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        part = first_worksheet(zf)
    if part is None:
        raise KeyError("no worksheet in the workbook")
    scanned: dict = {}

    def scan():
        try:
            with zipfile.ZipFile(path) as zf2:
                scanned["scan"] = scan_sheet(zf2, part.member)
        except Exception as exc:  # noqa: BLE001 - re-raised in the reading thread
            scanned["error"] = exc

    worker = threading.Thread(target=scan, name="xlsx-scan", daemon=True)
    worker.start()
    try:
        wb = CalamineWorkbook.from_path(str(path))
        try:
            sheet = wb.get_sheet_by_name(part.name)
        except Exception:
            wb.close()
            raise
    finally:
        worker.join()
    if "error" in scanned:
        wb.close()
        raise scanned["error"]
    info: SheetScan = scanned["scan"]
    if not info.complete:
        wb.close()
        raise NeedsOtherReader(f"{path.name}: an error cell without an address")
    merges = [(c0 + 1, r0 + 1, c1 + 1, r1 + 1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
    return SheetRows(CalamineRows(path, wb, sheet, info.errors), sorted(set(merges)))
