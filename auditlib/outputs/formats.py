"""How values are shown to a reader: the one formatter for reports, the overview, explore, the
index and the workbooks.

Money with thousands separators and two decimals, ratios as percentages, whole numbers as whole
numbers, the data's code values (account types, directions, severities ...) in the page's
language, paths relative to the run folder or the workspace (never a machine's absolute path),
timestamps in local time with the zone.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

#: the code values of evidence columns and their names: column -> value -> (zh, en)
ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "severity": {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")},
    "account_type": {"zero_balance": ("零余额账户", "zero-balance account"),
                     "basic": ("基本存款账户", "basic deposit account"),
                     "special": ("专用存款账户", "special deposit account"), "other": ("其他", "other")},
    "direction": {"in": ("收入", "inflow"), "out": ("支出", "outflow")},
    "reason": {"unregistered": ("未在财政登记", "not registered"),
               "after_closure": ("销户后仍有收支", "lines after closure")},
    "conformity": {"close": ("高度符合", "close conformity"), "acceptable": ("可接受的符合", "acceptable conformity"),
                   "marginal": ("勉强可接受的符合", "marginally acceptable conformity"),
                   "nonconformity": ("不符合", "nonconformity")},
}


def is_missing(value) -> bool:
    """None, NaN, NaT or pandas' NA: no value to show."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def money(value) -> str:
    """``1234567.8`` -> ``1,234,567.80``; empty for None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{Decimal(value):,.2f}"


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(float(value))) if isinstance(value, float) \
        else Decimal(str(value))


def plain(value) -> str:
    """A number as written, without trailing zeros or an exponent: ``Decimal('0.015000')`` ->
    ``0.015``, ``1000.000000`` -> ``1000``."""
    if is_missing(value):
        return ""
    try:
        d = _decimal(value)
    except (InvalidOperation, ValueError):
        return str(value)
    if not d.is_finite():
        return str(value)
    d = d.normalize()
    return format(d.quantize(Decimal(1)) if d == d.to_integral() else d, "f")


def percent(value) -> str:
    """A share as a percentage: ``0.015`` -> ``1.5%``, ``0.2`` -> ``20%``; empty for None."""
    if is_missing(value):
        return ""
    return f"{plain(_decimal(value) * 100)}%"


def whole(value) -> str:
    """A whole number as one: ``Decimal('1000.000000')`` -> ``1000``."""
    if is_missing(value):
        return ""
    return str(int(_decimal(value)))


def param_value(param, value, lang: str = "zh") -> str:
    """A rule parameter's value by its type (:data:`auditlib.rules.model.PARAM_TYPES`): money
    ``10,000.00``, a ratio ``1.5%``, days and counts whole, words ``现金、取现``; ``param`` may be
    None (unknown)."""
    kind = getattr(param, "type", None)
    if is_missing(value):
        return ""
    if kind == "money":
        return money(_decimal(value))
    if kind == "ratio":
        return percent(value)
    if kind in ("days", "count"):
        return whole(value)
    if kind == "words" or isinstance(value, (list, tuple)):  # a word list: 现金、取现（empty: —）
        return ("、" if lang == "zh" else ", ").join(map(str, value)) or "—"
    return plain(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else str(value)


def param_text(rule, values: dict, lang: str = "zh", sep: str | None = None) -> str:
    """A rule's parameters as ``label = value`` pairs in ``lang``: ``金额下限(元) = 10,000.00；…``."""
    parts = []
    for p in rule.params:
        if p.name in values:
            parts.append(f"{p.label(lang)} = {param_value(p, values[p.name], lang)}")
    return (sep if sep is not None else ("；" if lang == "zh" else "; ")).join(parts)


def enum_label(column: str, value, lang: str = "zh"):
    """The name of a code value of ``column`` in ``lang`` (``special`` -> 专用存款账户); any
    other value unchanged."""
    names = ENUM_LABELS.get(column)
    if names and isinstance(value, str) and value in names:
        zh, en = names[value]
        return zh if lang == "zh" else en
    return value


#: the database tables as a reader names them
TABLE_LABELS: dict[str, tuple[str, str]] = {
    "units": ("单位", "units"), "accounts": ("银行账户", "bank accounts"), "budget": ("预算指标", "budget lines"),
    "payments": ("支付", "payments"), "ledger": ("凭证分录", "ledger lines"), "bank_txns": ("银行流水", "bank lines"),
}


def table_label(table, lang: str = "zh") -> str:
    """A database table's name in ``lang`` (payments -> 支付); an unknown one as it is."""
    zh, en = TABLE_LABELS.get(str(table), (str(table or ""),) * 2)
    return zh if lang == "zh" else en


def inspection_label(name: str, lang: str = "zh") -> str:
    """An inspection's name in ``lang`` (小金库), never its key beside it."""
    from auditlib.rules.catalogue import INSPECTIONS

    zh, en = INSPECTIONS.get(name, (name, name))
    return zh if lang == "zh" else en


def shown_path(path, *bases) -> str:
    """``path`` as a page shows it: relative to the first of ``bases`` (then the workspace) it
    lies under, else its file name alone — never a machine's absolute path."""
    if path in (None, ""):
        return ""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    from auditlib.workspace import root

    for base in (*bases, root()):
        if not base:
            continue
        try:
            rel = p.resolve().relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
        return p.name if rel == "." else rel
    return p.name


def local_time(value) -> str:
    """A timestamp (ISO text or datetime) in local time with the zone: ``2024-12-31 20:05:01
    UTC+08:00``; empty for None, the text unchanged when it is not a timestamp."""
    if is_missing(value) or value == "":
        return ""
    try:
        d = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    d = d.astimezone()  # a naive one is taken as local time already
    offset = d.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{d:%Y-%m-%d %H:%M:%S} {zone}"


def total_amount(findings: pd.DataFrame) -> Decimal:
    """The money a page adds up for ``findings`` (CONTRACT §3 and §6): each finding's ``exposure``
    (its ``amount`` in a frame without one; 0 for an indicator), a 属实 finding's 认定金额 when
    given, and nothing for 排除 findings — exactly :func:`auditlib.review.apply.status_totals`."""
    from auditlib.review.apply import status_totals

    return status_totals(findings)["total"]["money"]


__all__ = ["ENUM_LABELS", "enum_label", "inspection_label", "local_time", "money", "param_text", "param_value",
           "percent", "plain", "shown_path", "total_amount", "whole"]
