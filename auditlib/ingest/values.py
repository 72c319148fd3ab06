"""Parsers for cell values as they come from real exports (CONTRACT §1).

Every parser takes one cell, either a ``str`` read from a CSV file or a Python
object produced by openpyxl (``int``, ``float``, ``Decimal``,
``datetime.datetime``, ``datetime.date``, ``bool`` or ``None``), and returns
the typed value, ``None`` for an empty cell, or raises
:class:`ValueParseError` with a short English reason.  No parser ever returns
a float: money is an exact :class:`decimal.Decimal` with two places.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Callable

__all__ = [
    "ValueParseError",
    "parse_text",
    "cell_text",
    "parse_money",
    "parse_date",
    "parse_bool",
    "parse_int",
    "parse_account_type",
    "PARSERS",
    "SUBTOTAL_RE",
    "is_subtotal",
]

#: quantum of a money value
CENT = Decimal("0.01")
#: money is DECIMAL(18,2): at most 16 digits before the point
MONEY_LIMIT = Decimal(10) ** 16
#: tolerance when a binary float from XLSX is taken as a two-place amount
FLOAT_TOLERANCE = Decimal("0.000001")
#: accepted years of a date
MIN_YEAR, MAX_YEAR = 1900, 2100
#: Excel serial numbers accepted as dates (about 1954-10 .. 2119-01)
SERIAL_MIN, SERIAL_MAX = 20000, 80000
#: day 0 of the Excel 1900 date system (compensates the fake 1900-02-29)
EXCEL_EPOCH = _dt.date(1899, 12, 30)
#: DuckDB INTEGER range
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class ValueParseError(ValueError):
    """A cell value that cannot be read as its column type.

    Parameters
    ----------
    reason : str
        Short English reason, e.g. ``"not a date: '2024-13-01'"``.

    Attributes
    ----------
    reason : str
        The reason given.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _nfkc(text: str) -> str:
    """Return ``text`` NFKC-normalised (full-width digits, signs, parens) and stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def _is_empty(value) -> bool:
    """Return True for ``None``, a float NaN and a blank string."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return False


def _decimal_to_plain(d: Decimal) -> str:
    """Format a finite Decimal without exponent and without trailing zeros."""
    if d == d.to_integral_value():
        return str(int(d))
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --------------------------------------------------------------------------- text


def parse_text(value) -> str | None:
    """Read a text cell (codes, names, account numbers).

    Parameters
    ----------
    value : str, int, float, Decimal, date, datetime, bool or None
        The cell.

    Returns
    -------
    str or None
        The stripped text; ``None`` for an empty cell.  Integral numbers from
        XLSX lose their ``.0`` (``12.0`` -> ``'12'``) and are never written in
        scientific notation.

    Raises
    ------
    ValueParseError
        For text holding a NUL byte, a non-finite number or an unsupported object.
    """
    if _is_empty(value):
        return None
    if isinstance(value, str):
        if "\x00" in value:  # a damaged file, or UTF-16 read as one byte per character
            raise ValueParseError(f"NUL byte in text: {value!r}")
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            if math.isnan(value):
                return None
            raise ValueParseError(f"not a text value: {value!r}")
        if value.is_integer():
            return str(int(value))
        return _decimal_to_plain(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        if not value.is_finite():
            raise ValueParseError(f"not a text value: {value!r}")
        return _decimal_to_plain(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    raise ValueParseError(f"not a text value: {value!r}")


def cell_text(value) -> str:
    """A cell as text for headers, messages and rejects: :func:`parse_text`, ``""`` for an
    empty cell, and ``str(value)`` for a cell :func:`parse_text` refuses (a NUL byte ...)."""
    try:
        return parse_text(value) or ""
    except ValueParseError:
        return str(value)


# -------------------------------------------------------------------------- money

_MONEY_NUM_RE = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d+))?")


def _check_money(d: Decimal, value) -> Decimal:
    # compare before quantizing: quantize fails beyond the context precision
    if abs(d) >= MONEY_LIMIT:
        raise ValueParseError(f"money amount too large: {value!r}")
    return d.quantize(CENT)


def parse_money(value) -> Decimal | None:
    """Read a money cell as an exact two-place Decimal.

    Accepted text: ``1234.5``, ``1,234.50``, ``￥1,234.50``, ``¥1234.5``,
    ``1234.50元``, ``-1,234.50``, ``(1,234.50)`` and ``（1,234.50）``
    (negative), full-width digits, surrounding spaces.  Accepted objects:
    ``int``, ``Decimal`` with at most two places, and a finite ``float``
    within 1e-6 of a two-place amount.

    Parameters
    ----------
    value : str, int, float, Decimal or None
        The cell.

    Returns
    -------
    Decimal or None
        The amount quantized to 0.01; ``None`` for an empty cell.

    Raises
    ------
    ValueParseError
        For anything else, e.g. ``'1.234'`` ("more than two decimals"),
        ``'1,23,4'`` (bad thousands grouping), NaN, infinity or a bool.
    """
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueParseError(f"not a money amount: {value!r}")
    if isinstance(value, int):
        return _check_money(Decimal(value), value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueParseError(f"not a money amount: {value!r}")
        d = Decimal(repr(value))
        if abs(d) >= MONEY_LIMIT:
            raise ValueParseError(f"money amount too large: {value!r}")
        q = d.quantize(CENT)
        if abs(d - q) > FLOAT_TOLERANCE:
            raise ValueParseError(f"more than two decimals: {value!r}")
        return _check_money(q, value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueParseError(f"not a money amount: {value!r}")
        if abs(value) >= MONEY_LIMIT:
            raise ValueParseError(f"money amount too large: {value!r}")
        if value != value.quantize(CENT, rounding="ROUND_DOWN"):
            raise ValueParseError(f"more than two decimals: {value!r}")
        return _check_money(value, value)
    if not isinstance(value, str):
        raise ValueParseError(f"not a money amount: {value!r}")
    return _parse_money_text(value)


def _parse_money_text(value: str) -> Decimal:
    text = _nfkc(value).replace("\u2212", "-")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative = True
        text = text[1:-1].strip()
    sign_seen = False
    # sign and currency sign in either order: -¥12, ¥-12
    for _ in range(2):
        if text[:1] in ("-", "+"):
            if sign_seen:
                raise ValueParseError(f"not a money amount: {value!r}")
            sign_seen = True
            if text[0] == "-":
                if negative:
                    raise ValueParseError(
                        f"both a minus sign and parentheses: {value!r}"
                    )
                negative = True
            text = text[1:].strip()
        if text[:1] == "¥":
            text = text[1:].strip()
    if text.endswith("元"):
        text = text[:-1].strip()
    m = _MONEY_NUM_RE.fullmatch(text)
    if not text or m is None or (m.group("int") is None and m.group("frac") is None):
        if "," in text and re.fullmatch(r"\d[\d,]*(?:\.\d+)?", text):
            raise ValueParseError(f"bad thousands grouping: {value!r}")
        raise ValueParseError(f"not a money amount: {value!r}")
    int_part = (m.group("int") or "0").replace(",", "")
    frac = (m.group("frac") or "").rstrip("0")
    if len(frac) > 2:
        raise ValueParseError(f"more than two decimals: {value!r}")
    try:
        d = Decimal(f"{int_part}.{frac or '0'}")
    except InvalidOperation:  # pragma: no cover - regex guarantees digits
        raise ValueParseError(f"not a money amount: {value!r}") from None
    if negative:
        d = -d
    return _check_money(d, value)


# --------------------------------------------------------------------------- date

_TIME = r"(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.\d{1,6})?)?"
_TIME_ONLY_RE = re.compile(_TIME)
_DATE_RES = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})年\s*(?P<m>\d{1,2})月\s*(?P<d>\d{1,2})日?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)
_SPLIT_TIME_RE = re.compile(r"(?P<date>.+?)(?:(?:\s+|T)" + _TIME + r")?")
_US_DATE_RE = re.compile(r"\d{1,2}[/-]\d{1,2}[/-]\d{4}")
_SERIAL_TEXT_RE = re.compile(r"(?P<int>\d+)(?:\.\d+)?")


def _make_date(y: int, m: int, d: int, value) -> _dt.date:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueParseError(f"year outside {MIN_YEAR}..{MAX_YEAR}: {value!r}")
    try:
        return _dt.date(y, m, d)
    except ValueError:
        raise ValueParseError(f"not a calendar date: {value!r}") from None


def _from_serial(serial, value) -> _dt.date:
    """Date of an Excel (1900 system) serial number; the fraction (time) is dropped."""
    if not SERIAL_MIN <= serial < SERIAL_MAX + 1:
        raise ValueParseError(f"not a date: {value!r}")
    day = EXCEL_EPOCH + _dt.timedelta(days=int(serial))
    return _make_date(day.year, day.month, day.day, value)


def _check_year(d: _dt.date, value) -> _dt.date:
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise ValueParseError(f"year outside {MIN_YEAR}..{MAX_YEAR}: {value!r}")
    return d


def parse_date(value) -> _dt.date | None:
    """Read a date cell.

    Accepted text: ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``20240305``,
    ``2024年3月5日``, each optionally followed by a time (``14:30``,
    ``14:30:00``, separated by spaces or ISO ``T``), and Excel serial numbers
    written as digits (20000..80000, not eight digits).  Accepted objects:
    ``datetime.datetime`` (time dropped), ``datetime.date``, ``int`` /
    ``float`` / ``Decimal`` serial numbers, and eight-digit ``YYYYMMDD`` ints.

    Parameters
    ----------
    value : str, int, float, Decimal, date, datetime or None
        The cell.

    Returns
    -------
    datetime.date or None
        The date; ``None`` for an empty cell.

    Raises
    ------
    ValueParseError
        For an ambiguous US date (``3/5/2024``), a time without a date, an
        invalid calendar date, a year outside 1900..2100, a bool, or anything
        else.
    """
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueParseError(f"not a date: {value!r}")
    if isinstance(value, _dt.datetime):
        return _check_year(value.date(), value)
    if isinstance(value, _dt.date):
        return _check_year(value, value)
    if isinstance(value, _dt.time):
        raise ValueParseError(f"time without a date: {value!r}")
    if isinstance(value, int):
        if 10_000_000 <= value <= 99_999_999:
            return _make_date(value // 10000, value // 100 % 100, value % 100, value)
        return _from_serial(value, value)
    if isinstance(value, (float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueParseError(f"not a date: {value!r}")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueParseError(f"not a date: {value!r}")
        if value == int(value) and 10_000_000 <= value <= 99_999_999:
            return parse_date(int(value))
        return _from_serial(value, value)
    if not isinstance(value, str):
        raise ValueParseError(f"not a date: {value!r}")
    return _parse_date_text(value)


def _parse_date_text(value: str) -> _dt.date:
    text = _nfkc(value)
    if _TIME_ONLY_RE.fullmatch(text):
        raise ValueParseError(f"time without a date: {value!r}")
    m = _SERIAL_TEXT_RE.fullmatch(text)
    if m and len(m.group("int")) != 8:
        try:
            serial = Decimal(text)
        except InvalidOperation:  # pragma: no cover - regex guarantees digits
            raise ValueParseError(f"not a date: {value!r}") from None
        return _from_serial(serial, value)
    split = _SPLIT_TIME_RE.fullmatch(text)
    date_part = split.group("date").strip() if split else text
    if split and split.group("hh") is not None:
        hh, mi = int(split.group("hh")), int(split.group("mi"))
        ss = int(split.group("ss") or 0)
        if hh > 23 or mi > 59 or ss > 59:
            raise ValueParseError(f"not a valid time of day: {value!r}")
    if _US_DATE_RE.fullmatch(date_part):
        raise ValueParseError(f"ambiguous day/month order, use YYYY-MM-DD: {value!r}")
    for rx in _DATE_RES:
        dm = rx.fullmatch(date_part)
        if dm:
            return _make_date(int(dm.group("y")), int(dm.group("m")), int(dm.group("d")), value)
    raise ValueParseError(f"not a date: {value!r}")


# --------------------------------------------------------------------------- bool

_TRUE = frozenset({"是", "y", "yes", "true", "t", "1", "√", "✓", "✔"})
_FALSE = frozenset({"否", "n", "no", "false", "f", "0", "×", "✗", "✘"})


def parse_bool(value) -> bool | None:
    """Read a yes/no cell.

    Accepted: ``是/否``, ``Y/N``, ``yes/no``, ``true/false``, ``T/F`` (any
    case), ``1/0``, ``√``/``✓`` (true), ``×``/``✗`` (false), a Python bool,
    and the numbers 1 and 0.

    Parameters
    ----------
    value : str, bool, int, float, Decimal or None
        The cell.

    Returns
    -------
    bool or None
        The truth value; ``None`` for an empty cell.

    Raises
    ------
    ValueParseError
        For anything else.
    """
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueParseError(f"not a yes/no value: {value!r}")
    if isinstance(value, (int, float, Decimal)):
        if value == 1:
            return True
        if value == 0:
            return False
        raise ValueParseError(f"not a yes/no value: {value!r}")
    if not isinstance(value, str):
        raise ValueParseError(f"not a yes/no value: {value!r}")
    text = _nfkc(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueParseError(f"not a yes/no value: {value!r}")


# ---------------------------------------------------------------------------- int

_INT_RE = re.compile(r"(?P<sign>[-+])?(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d*))?")


def _check_int(n: int, value) -> int:
    if not INT_MIN <= n <= INT_MAX:
        raise ValueParseError(f"whole number out of range: {value!r}")
    return n


def parse_int(value) -> int | None:
    """Read a whole-number cell.

    Accepted: ``'12'``, ``'12.0'``, ``'-3'``, ``'1,234'``, full-width digits,
    an ``int``, and an integral ``float`` or ``Decimal``.

    Parameters
    ----------
    value : str, int, float, Decimal or None
        The cell.

    Returns
    -------
    int or None
        The number; ``None`` for an empty cell.

    Raises
    ------
    ValueParseError
        For a fraction (``'12.5'``), a bool, a number outside the 32-bit
        range, or anything else.
    """
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueParseError(f"not a whole number: {value!r}")
    if isinstance(value, int):
        return _check_int(value, value)
    if isinstance(value, (float, Decimal)):
        finite = math.isfinite(value) if isinstance(value, float) else value.is_finite()
        if not finite or value != int(value):
            raise ValueParseError(f"not a whole number: {value!r}")
        return _check_int(int(value), value)
    if not isinstance(value, str):
        raise ValueParseError(f"not a whole number: {value!r}")
    text = _nfkc(value).replace("\u2212", "-")
    m = _INT_RE.fullmatch(text)
    if m is None:
        raise ValueParseError(f"not a whole number: {value!r}")
    if (m.group("frac") or "").strip("0"):
        raise ValueParseError(f"not a whole number: {value!r}")
    n = int(m.group("digits").replace(",", ""))
    if m.group("sign") == "-":
        n = -n
    return _check_int(n, value)


# ------------------------------------------------------------------- account type

_ACCOUNT_TYPE_NAMES = {
    "zero_balance": "zero_balance",
    "zerobalance": "zero_balance",
    "zero-balance": "zero_balance",
    "零余额账户": "zero_balance",
    "零余额": "zero_balance",
    "零余额户": "zero_balance",
    "basic": "basic",
    "基本存款账户": "basic",
    "基本户": "basic",
    "基本账户": "basic",
    "special": "special",
    "专用存款账户": "special",
    "专用户": "special",
    "专用账户": "special",
    "other": "other",
    "其他": "other",
    "其他账户": "other",
    "其它": "other",
}


def parse_account_type(value) -> str | None:
    """Read ``accounts.account_type``.

    Parameters
    ----------
    value : str or None
        English code (``zero_balance``, ``basic``, ``special``, ``other``, any
        case) or Chinese name (零余额账户/零余额, 基本存款账户/基本户,
        专用存款账户/专用户, 其他/其他账户).

    Returns
    -------
    str or None
        One of the keys of :data:`auditlib.ingest.schema.ACCOUNT_TYPES`; ``None``
        for an empty cell.

    Raises
    ------
    ValueParseError
        For any other value.
    """
    if _is_empty(value):
        return None
    if not isinstance(value, str):
        raise ValueParseError(f"not an account type: {value!r}")
    key = re.sub(r"\s+", "", _nfkc(value).lower())
    try:
        return _ACCOUNT_TYPE_NAMES[key]
    except KeyError:
        raise ValueParseError(f"not an account type: {value!r}") from None


# ---------------------------------------------------------------------- registry

#: parser of each column type of :data:`auditlib.ingest.schema.TYPES`
PARSERS: dict[str, Callable] = {
    "text": parse_text,
    "money": parse_money,
    "date": parse_date,
    "bool": parse_bool,
    "int": parse_int,
    "account_type": parse_account_type,
}

#: a whole cell (whitespace removed) that marks a subtotal row of an export
SUBTOTAL_RE = re.compile(r"^(?:合计|本月合计|本年累计|本期合计|小计|总计)$")


def is_subtotal(value) -> bool:
    """Tell whether a cell marks a subtotal row (``合计``, ``本月合计`` ...).

    Parameters
    ----------
    value : object
        The cell; only strings can mark a subtotal.

    Returns
    -------
    bool
        True when the cell, with all ASCII and full-width spaces removed
        (``'合  计'`` counts), is exactly one of the subtotal markers.
    """
    if not isinstance(value, str):
        return False
    return SUBTOTAL_RE.match(re.sub(r"\s+", "", value)) is not None
