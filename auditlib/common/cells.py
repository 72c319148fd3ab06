"""Keeping text inert where a spreadsheet would run it.

A value that starts with ``= + - @``, a tab or a line break is read as a formula by
Excel, WPS and LibreOffice when a CSV opens or a cell is retyped (CSV/formula
injection).  :func:`neutralise` puts a leading ``'`` before such text (Excel's own
quote prefix, shown as text); :func:`unneutralise` takes it off again when the
workbench reads its own file back.  Numbers are never touched.
"""
from __future__ import annotations

#: first characters that make a spreadsheet treat text as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def starts_formula(text: str) -> bool:
    """Whether ``text`` would be read as a formula (for writers that mark such text as text,
    as the workbook does with Excel's quote prefix, instead of adding a ``'``)."""
    return text.startswith(FORMULA_START)


def neutralise(value) -> str:
    """``value`` as text, with a leading ``'`` when it would start a formula."""
    if value is None or (isinstance(value, float) and value != value):  # None, NaN
        return ""
    text = str(value)
    return "'" + text if starts_formula(text) else text


def unneutralise(text):
    """Undo :func:`neutralise` (only for text it would have changed)."""
    if isinstance(text, str) and len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text
