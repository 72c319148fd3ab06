"""The one way the views write HTML: escape text, render a table, show markup in the notebook.

Tables align by what a column holds: text (names, codes, dates, explanations) to the left,
numbers (counts, amounts formatted as ``1,234.50``, percentages) to the right.  The alignment is
written on each cell (``class`` and an inline ``style``), so it holds in the exported report, in
JupyterLab (whose stylesheet right-aligns every cell) and in print alike.
"""
from __future__ import annotations

import datetime as dt
import html
import numbers
import re
from decimal import Decimal

import pandas as pd

from auditlib.outputs.formats import is_missing
from auditlib.outputs.html_export import PAGE_TITLE_KEY

#: a number as the pages print it: ``1,234.50``, ``-0.01``, ``12.5%``, ``20%`` (not ``001`` or ``2024``:
#: a bare digit string is a code or a year, i.e. text)
_NUMBER_TEXT = re.compile(r"^[-−]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?:\.\d+)?%)$")
#: cells that say "nothing here" and leave a column's kind open
_BLANK = {"", "—", "-", "–"}

NUM, TEXT = "num", "text"
#: a table of at most this many rows is kept on one printed page (class ``keep``)
KEEP_ROWS = 15
_ALIGN = {NUM: "right", TEXT: "left"}


def escape(text) -> str:
    """``text`` (any value, as ``str``) with ``& < > " '`` escaped."""
    return html.escape(str(text), quote=True)


def is_number(value) -> bool:
    """Whether a cell holds a number (a numeric value, or text printed as an amount or a share)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (numbers.Number, Decimal)):
        return True
    return isinstance(value, str) and bool(_NUMBER_TEXT.match(value.strip()))


#: a column of numbers and text (a settings table's values): each cell aligned by its own kind
MIXED = "mixed"


def _blank(value) -> bool:
    return is_missing(value) or (isinstance(value, str) and value.strip() in _BLANK)


def column_kind(values) -> str:
    """:data:`NUM` when every non-blank cell of a column is a number (and there is one),
    :data:`TEXT` when none is, :data:`MIXED` for both."""
    kinds = {NUM if is_number(v) else TEXT for v in values if not _blank(v)}
    return kinds.pop() if len(kinds) == 1 else MIXED if kinds else TEXT


def _float_places(values) -> int:
    """Decimals a float column shows: as many as its values need, at most 4 (``0.5, 1.23`` -> 2)."""
    places = 0
    for v in values:
        if isinstance(v, float) and not is_missing(v):
            text = f"{v:.4f}".rstrip("0")
            places = max(places, len(text.split(".")[1]) if "." in text else 0)
    return places


def cell_text(value, na_rep: str = "", places: int = 2) -> str:
    """A cell's text: blank for a missing value, floats to ``places`` decimals, dates as ISO dates."""
    if is_missing(value):
        return na_rep
    if isinstance(value, float):
        return f"{value:.{places}f}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def table(df: pd.DataFrame, na_rep: str = "", numeric=(), text=(), css_class: str = "auditlib") -> str:
    """``df`` as an escaped HTML table without its index, each column aligned by its kind.

    Parameters
    ----------
    df : DataFrame
        The rows to show; values are escaped.
    na_rep : str
        What a missing value shows.
    numeric, text : iterable of column names
        Columns forced right (numbers) or left (text); the others by :func:`column_kind` (a
        column of both, such as a settings table's values, aligns each cell by its own kind).
    css_class : str
        The table's ``class``; a short table (≤ :data:`KEEP_ROWS` rows) also gets ``keep``, which
        the report's print stylesheet keeps on one page.
    """
    forced = {**{c: NUM for c in numeric}, **{c: TEXT for c in text}}
    columns = list(df.columns)
    kinds = [forced.get(c) or column_kind(df.iloc[:, i]) for i, c in enumerate(columns)]
    places = [_float_places(df.iloc[:, i]) for i in range(len(columns))]

    def cell(tag: str, kind: str, content: str) -> str:
        return f'<{tag} class="{kind}" style="text-align: {_ALIGN[kind]}">{escape(content)}</{tag}>'

    def kind_of(value, kind: str) -> str:
        return kind if kind != MIXED else NUM if is_number(value) else TEXT

    head = "".join(cell("th", TEXT if k == MIXED else k, c) for c, k in zip(columns, kinds))
    rows = []
    for row in df.itertuples(index=False, name=None):
        rows.append("<tr>" + "".join(cell("td", kind_of(v, k), cell_text(v, na_rep, p))
                                     for v, k, p in zip(row, kinds, places)) + "</tr>")
    classes = f"{css_class} keep" if len(df) <= KEEP_ROWS else css_class
    return (f'<table class="{escape(classes)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def back_link(href: str, label: str) -> str:
    """The link back to the run's index (a relative ``href``), at the top of a page."""
    return f'<nav class="auditlib-back"><a href="{escape(href)}">← {escape(label)}</a></nav>'


class Display:
    """Markup for the notebook with its plain-text twin: the page shows the HTML, while the text
    (``text/plain``) is what nbval compares and what a terminal prints."""

    def __init__(self, markup: str, text: str):
        self.markup, self.text = markup, text

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def show(markup: str, page_title: str | None = None, text: str | None = None) -> None:
    """Display ``markup`` as HTML in the notebook's output; ``page_title`` names the exported
    page (its browser tab) through the output's metadata; ``text`` is the output's plain-text
    form (printed as it is outside a notebook)."""
    from IPython.display import HTML, display

    obj = HTML(markup) if text is None else Display(markup, text)
    display(obj, metadata={PAGE_TITLE_KEY: page_title} if page_title else None)
