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
    """Exact sum of the findings' amounts (unit-level indicators carry none)."""
    return sum((a for a in findings["amount"] if a is not None and not pd.isna(a)), Decimal(0))
