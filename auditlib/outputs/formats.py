"""How amounts are shown to a reader: one formatter for reports, the overview, explore and the index."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd


def money(value) -> str:
    """``1234567.8`` -> ``1,234,567.80``; empty for None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{Decimal(value):,.2f}"


def total_amount(findings: pd.DataFrame) -> Decimal:
    """The money a page adds up for ``findings`` (CONTRACT §3 and §6): each finding's ``exposure``
    (its ``amount`` in a frame without one; 0 for an indicator), a 属实 finding's 认定金额 when
    given, and nothing for 排除 findings — exactly :func:`auditlib.review.apply.status_totals`."""
    from auditlib.review.apply import status_totals

    return status_totals(findings)["total"]["money"]
