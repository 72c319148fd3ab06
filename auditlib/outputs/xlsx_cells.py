"""Typed cell writing for the evidence workbook (:mod:`auditlib.outputs.workbook`) and its papers.

:class:`Writer` holds one workbook's formats and writes every cell on purpose: money
(``Decimal``) as a number with two places, dates as Excel dates, whole numbers as numbers and
everything else as text written with ``write_string``, so text such as ``=HYPERLINK(...)`` or
``http://...`` from the source data stays inert text (with Excel's quote prefix when it looks like
a formula) and unit codes and account numbers keep their leading zeros; text over Excel's 32,767
characters a cell is cut with a marker saying so.

Every sheet it adds is an A4 paper with the header and footer of
:mod:`auditlib.outputs.workpaper_index` (unit, paper, 索引号, page numbers), protected without a
password: only the cells an auditor fills in are unlocked and highlighted
(:data:`auditlib.review.form.EDITABLE_FILL`).

Printing legibly: the text is 10 pt; :meth:`Writer.fit_columns` keeps a sheet's columns within
what fits its page at :data:`MIN_PRINT_SCALE` or more (wrapping the text columns that may wrap),
so no sheet prints below 8 pt.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import unicodedata
from decimal import Decimal

import numpy as np
import pandas as pd
import xlsxwriter

from auditlib.common.cells import starts_formula
from auditlib.i18n import register, t
from auditlib.outputs import workpaper_index as wpi
from auditlib.review import form

register({
    "wb.yes": ("是", "yes"),
    "wb.no": ("否", "no"),
    "wb.truncated": ("…（超出 Excel 单元格上限，已截断；全文 {n} 字）",
                     "… (cut at Excel's cell limit; {n} characters in all)"),
})

_MONEY = "#,##0.00"
#: a share as a percentage (0.015 -> 1.5%), and any other number (at most four decimals)
PERCENT = "0.0##%"
NUMBER = "#,##0.####"
MONEY = _MONEY
DATE = "yyyy-mm-dd"
_DATE = DATE
_DATETIME = "yyyy-mm-dd hh:mm:ss"
_NUMBER = NUMBER
_MAX_WIDTH = 60
_MIN_WIDTH = 6
_BAD_SHEET_CHARS = set('[]:*?/\\')
#: Excel's limit of characters in one cell
MAX_CELL_CHARS = 32767
#: what a protected sheet still lets the auditor do (xlsxwriter's ``protect`` options)
_PROTECTION = {"format_columns": True, "format_rows": True, "autofilter": True, "sort": True,
               "select_locked_cells": True, "select_unlocked_cells": True}
#: the text's size (points)
FONT_SIZE = 10
#: the least print scale a sheet is laid out for: 10 pt text prints at 8 pt or more
MIN_PRINT_SCALE = 0.85
#: printable width of an A4 page with 0.5-inch side margins, in pixels at 96 dpi
PAGE_PX = {"landscape": 1026, "portrait": 698}
#: pixels of one unit of column width as the widest renderer measures it: Excel and WPS take 7
#: (Calibri's digit), LibreOffice without Calibri's metrics about 10; laying out for 10 keeps the
#: text at 8 pt or more in all of them (Excel simply prints at 100 % with room to spare)
_PX_PER_CHAR = 10
_PX_PAD = 0


def column_px(width: float) -> int:
    """Pixels a column of ``width`` (Excel's character units) takes."""
    return int(width * _PX_PER_CHAR + _PX_PAD)


def is_missing(value) -> bool:
    """None, NA, NaT or NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(isinstance(value, np.datetime64) and np.isnat(value))


_is_missing = is_missing


def display_width(text: str) -> int:
    """Columns a text takes: East-Asian wide and full-width characters count 2."""
    if text.isascii():  # no ASCII character is wide
        return len(text)
    got = _WIDTHS.get(text)
    if got is None:
        got = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
        if len(_WIDTHS) >= 8192:
            _WIDTHS.clear()
        _WIDTHS[text] = got
    return got


#: the display widths of texts already measured (labels and headers recur on every sheet and workbook)
_WIDTHS: dict[str, int] = {}


_display_width = display_width


def lines_needed(text: str, width: float) -> int:
    """Lines a wrapped ``text`` takes in a cell ``width`` characters wide (at least 1)."""
    usable = max(width - 1, 4)
    # a wide character prints about 1.7 units of column width in Excel (1.3 in LibreOffice), a
    # narrow one about 0.9: 0.85 of the display width errs on the side of a line to spare
    return max(1, sum(max(1, math.ceil(0.85 * display_width(line) / usable)) for line in str(text).split("\n")))


def row_height(lines: int) -> float:
    """Points a row of ``lines`` lines of 10 pt text needs."""
    return 14.5 * lines + 3

class Writer:
    """Formats of one workbook and typed cell writing with column-width tracking."""

    def __init__(self, wb: xlsxwriter.Workbook, lang: str):
        self.wb, self.lang = wb, lang
        base = {"font_name": "宋体" if lang == "zh" else "Calibri", "font_size": FONT_SIZE, "valign": "top"}
        self._base = base
        self._cache: dict[tuple, object] = {}
        self._props_of: dict[int, dict] = {}
        self.used_names: set[str] = set()
        self.widths: dict[int, dict[int, int]] = {}
        self.orientation: dict[int, str] = {}
        #: per sheet, row -> [(column, text)] of the wrapped cells written (for :meth:`fit_rows`)
        self.wrapped: dict[int, dict[int, list]] = {}

    def t(self, key: str, **kw) -> str:
        return t(key, self.lang, **kw)

    def fmt(self, **props):
        """The format with these properties (on top of the base font), created once."""
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            f = self.wb.add_format({**self._base, **props})
            self._cache[key] = f
            self._props_of[id(f)] = props
        return self._cache[key]

    props = fmt

    # named formats
    def title(self):
        return self.fmt(bold=True, font_size=16, align="center", valign="vcenter")

    def heading(self):
        return self.fmt(bold=True, font_size=11)

    def header(self):
        return self.fmt(bold=True, border=1, bg_color="#D9E1F2", text_wrap=True, align="center",
                        valign="vcenter")

    def label(self):
        return self.fmt(bold=True, border=1, bg_color="#F2F2F2")

    def editable(self, **props):
        """A cell the auditor fills in: unlocked on the protected sheet, highlighted."""
        return self.fmt(border=1, locked=False, bg_color=form.EDITABLE_FILL, **props)

    def add_sheet(self, name: str, paper: "wpi.Paper | None" = None, title: str = "", unit: str = "",
                  portrait: bool = False, fit: bool = True, reserved: bool = False):
        """A protected A4 sheet; with ``paper``, its header names ``unit``, ``title`` and the index
        number, and its footer the page.  ``fit``: printed one page wide (else at the scale the
        caller sets); ``reserved``: ``name`` came from :meth:`reserve` and is used as it is."""
        ws = self.wb.add_worksheet(name if reserved else self._sheet_name(name))
        if portrait:
            ws.set_portrait()
        else:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        if fit:
            ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        if paper is not None:
            ws.set_header(wpi.header(unit, title, paper.index, self.lang), {"margin": 0.3})
            ws.set_footer(wpi.footer(paper.index, self.lang), {"margin": 0.3})
        ws.protect("", _PROTECTION)  # no password: a guard against careless edits, not a lock
        self.widths[id(ws)] = {}
        self.wrapped[id(ws)] = {}
        self.orientation[id(ws)] = "portrait" if portrait else "landscape"
        return ws

    def reserve(self, name: str) -> str:
        """A valid sheet name from ``name``, unique in this workbook, kept for :meth:`add_sheet`."""
        return self._sheet_name(name)

    def _sheet_name(self, name: str) -> str:
        clean = "".join("_" if ch in _BAD_SHEET_CHARS else ch for ch in str(name)).strip("'") or "Sheet"
        clean = clean[:31]
        candidate, i = clean, 2
        while candidate.lower() in self.used_names:
            suffix = f"_{i}"
            candidate = clean[:31 - len(suffix)] + suffix
            i += 1
        self.used_names.add(candidate.lower())
        return candidate

    def _track(self, ws, col: int, width: int) -> None:
        w = self.widths[id(ws)]
        w[col] = max(w.get(col, 0), width)

    def text(self, ws, row: int, col: int, value, fmt=None, track: bool = True) -> None:
        """Text, always as a string cell (never a formula, number or link)."""
        value = "" if _is_missing(value) else str(value)
        if len(value) > MAX_CELL_CHARS:  # Excel keeps no more: cut it, and say so in the cell
            marker = self.t("wb.truncated", n=len(value))
            value = value[:MAX_CELL_CHARS - len(marker)] + marker
        if starts_formula(value):  # Excel's quote prefix shows it as text, even when retyped
            fmt = self._quoted(fmt)
        ws.write_string(row, col, value, fmt)
        if fmt is not None and self._props_of.get(id(fmt), {}).get("text_wrap"):
            self.wrapped[id(ws)].setdefault(row, []).append((col, value))
        if track:
            self._track(ws, col, max((_display_width(line) for line in value.split("\n")), default=0))

    def _quoted(self, fmt):
        """The same format with Excel's quote prefix (text that looks like a formula stays text)."""
        props = dict(self._props_of.get(id(fmt), {})) if fmt is not None else {}
        props["quote_prefix"] = True
        return self.fmt(**props)

    def cell(self, ws, row: int, col: int, value, percent: bool = False, border: bool = True) -> None:
        """One value by its type: money, date, number or text (a float as a percentage when ``percent``)."""
        b = {"border": 1} if border else {}
        if _is_missing(value):
            ws.write_blank(row, col, None, self.props(**b))
        elif isinstance(value, (bool, np.bool_)):
            self.text(ws, row, col, self.t("wb.yes" if value else "wb.no"), self.props(**b))
        elif isinstance(value, Decimal):
            if not value.is_finite():
                self.text(ws, row, col, str(value), self.props(**b))
                return
            num_format = _MONEY if value.as_tuple().exponent >= -2 else "#,##0.00##"
            ws.write_number(row, col, float(value), self.props(num_format=num_format, **b))
            self._track(ws, col, len(f"{value:,.2f}") + 1)
        elif isinstance(value, (dt.datetime, pd.Timestamp, np.datetime64)):
            value = pd.Timestamp(value)
            if value.tzinfo is not None:
                value = value.tz_convert(None)
            value = value.to_pydatetime()
            timed = value.time() != dt.time(0)
            ws.write_datetime(row, col, value, self.props(num_format=_DATETIME if timed else _DATE, **b))
            self._track(ws, col, 19 if timed else 10)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, value, self.props(num_format=_DATE, **b))
            self._track(ws, col, 10)
        elif isinstance(value, numbers.Integral):
            value = int(value)
            if abs(value) > 2 ** 53:  # not exact in a double: keep the digits as text
                self.text(ws, row, col, str(value), self.props(**b))
                return
            ws.write_number(row, col, value, self.props(num_format="0", **b))
            self._track(ws, col, len(str(value)))
        elif isinstance(value, numbers.Real):
            value = float(value)
            if not math.isfinite(value):
                self.text(ws, row, col, str(value), self.props(**b))
                return
            if percent:
                ws.write_number(row, col, value, self.props(num_format="0.00%", **b))
                self._track(ws, col, 8)
            else:
                ws.write_number(row, col, value, self.props(num_format=_NUMBER, **b))
                self._track(ws, col, len(f"{value:,.4f}"))
        else:
            self.text(ws, row, col, value, self.props(**b))

    def money(self, ws, row: int, col: int, value, **props) -> None:
        if _is_missing(value):
            ws.write_blank(row, col, None, self.props(**props))
            return
        value = Decimal(value)
        ws.write_number(row, col, float(value), self.props(num_format=_MONEY, **props))
        self._track(ws, col, len(f"{value:,.2f}") + 1)

    def blank(self, ws, row: int, col: int, **props) -> None:
        ws.write_blank(row, col, None, self.props(**props))

    def fit_columns(self, ws, minimum: dict[int, int] | None = None, maximum: int = _MAX_WIDTH,
                    wrap: dict[int, int] | None = None, fixed: dict[int, int] | None = None) -> dict[int, int]:
        """Column widths from the widest cell, between ``_MIN_WIDTH`` and ``maximum``, then kept
        within the page at :data:`MIN_PRINT_SCALE`: the ``wrap`` columns (column -> least width),
        whose cells wrap, give up width first.  ``fixed`` widths are set as given.  Returns the
        widths set."""
        widths = dict(self.widths[id(ws)])
        for col, w in (minimum or {}).items():
            widths[col] = max(widths.get(col, 0), w)
        widths = {c: min(max(w + 2, _MIN_WIDTH), maximum) for c, w in widths.items()}
        widths.update(fixed or {})
        budget = PAGE_PX[self.orientation.get(id(ws), "landscape")] / MIN_PRINT_SCALE
        wrap = {c: m for c, m in (wrap or {}).items() if c in widths}
        total = sum(column_px(w) for w in widths.values())
        while total > budget and any(widths[c] > m for c, m in wrap.items()):
            widest = max((c for c, m in wrap.items() if widths[c] > m), key=lambda c: widths[c] - wrap[c])
            total -= column_px(widths[widest]) - column_px(widths[widest] - 1)
            widths[widest] -= 1
        for col, w in widths.items():
            ws.set_column(col, col, w)
        return widths

    def fit_rows(self, ws, widths: dict[int, int], rows) -> None:
        """Each row of ``rows`` as high as its wrapped cells need in columns of ``widths`` (not
        every program fits rows when it opens a file, and a cut-off line is lost on paper)."""
        wrapped = self.wrapped[id(ws)]
        for row in rows:
            cells = wrapped.get(row)
            if cells:
                n = max(lines_needed(text, widths.get(col, _MIN_WIDTH)) for col, text in cells)
                if n > 1:
                    ws.set_row(row, row_height(n))

    def printed_px(self, widths: dict[int, int]) -> int:
        """Pixels the columns of ``widths`` take on paper at scale 1."""
        return sum(column_px(w) for w in widths.values())
