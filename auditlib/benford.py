"""Benford's law tests on any amount column (Nigrini, *Benford's Law*, 2012).

First-digit and first-two-digit tests with the mean absolute deviation (MAD),
chi-square and Nigrini's conformity label.  Digits are taken from the exact
decimal text of each amount, so ``0.1 + 0.2`` style float noise never shifts a
digit.  SF08 uses the first-digit MAD.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable

import pandas as pd

#: Nigrini's MAD limits: (close, acceptable, marginally acceptable); above is nonconformity
MAD_LIMITS = {
    1: (0.006, 0.012, 0.015),
    2: (0.0012, 0.0018, 0.0022),
}

CONFORMITY_LABELS = {
    "close": ("高度符合", "close conformity"),
    "acceptable": ("可接受的符合", "acceptable conformity"),
    "marginal": ("勉强可接受的符合", "marginally acceptable conformity"),
    "nonconformity": ("不符合", "nonconformity"),
}


@dataclass(frozen=True)
class BenfordResult:
    """One Benford test: the digit table and its summary statistics.

    ``table`` has one row per digit (or digit pair) with ``digit``, ``count``,
    ``observed`` and ``expected`` proportions and ``deviation`` (observed − expected).
    """

    digits: int
    n: int
    mad: float
    chi_square: float
    conformity: str
    table: pd.DataFrame

    def label(self, lang: str = "zh") -> str:
        zh, en = CONFORMITY_LABELS[self.conformity]
        return zh if lang == "zh" else en


def leading_digits(value, digits: int = 1) -> int | None:
    """The first ``digits`` significant digits of ``value`` as an int, or None for 0/empty/non-numbers.

    >>> leading_digits(Decimal("0.0503"), 2)
    50
    """
    if value is None:
        return None
    try:
        dec = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        return None
    if not dec.is_finite() or dec == 0:
        return None
    sig = "".join(map(str, dec.as_tuple().digits)).lstrip("0")
    sig = (sig + "0" * digits)[:digits]
    return int(sig)


def expected_proportions(digits: int = 1) -> dict[int, float]:
    """Benford's expected proportion of each leading digit (1–9) or digit pair (10–99)."""
    lo, hi = (1, 9) if digits == 1 else (10, 99)
    return {d: math.log10(1 + 1 / d) for d in range(lo, hi + 1)}


def conformity(mad: float, digits: int = 1) -> str:
    """Nigrini's conformity class for a MAD: close, acceptable, marginal or nonconformity."""
    close, acceptable, marginal = MAD_LIMITS[digits]
    if mad <= close:
        return "close"
    if mad <= acceptable:
        return "acceptable"
    if mad <= marginal:
        return "marginal"
    return "nonconformity"


def benford_test(amounts: Iterable, digits: int = 1, min_amount=None) -> BenfordResult:
    """Test the leading digits of ``amounts`` against Benford's law.

    Parameters
    ----------
    amounts : iterable of Decimal, int, float or str
        The values; zeros and empty values are left out, negatives count by their absolute value.
    digits : {1, 2}
        First-digit or first-two-digits test.
    min_amount : number, optional
        Keep only values >= this (Nigrini tests amounts >= 10, which leaves out negatives).
    """
    if digits not in MAD_LIMITS:
        raise ValueError(f"digits must be 1 or 2, not {digits!r}")
    floor = None if min_amount is None else Decimal(str(min_amount))
    counts: Counter[int] = Counter()
    for value in amounts:
        d = leading_digits(abs(_as_decimal(value)) if value is not None else None, digits)
        if d is None:
            continue
        if floor is not None and _as_decimal(value) < floor:
            continue
        counts[d] += 1
    expected = expected_proportions(digits)
    n = sum(counts.values())
    rows = []
    for d, exp in expected.items():
        obs = counts[d] / n if n else 0.0
        rows.append({"digit": d, "count": counts[d], "observed": obs, "expected": exp, "deviation": obs - exp})
    table = pd.DataFrame(rows)
    mad = float(table["deviation"].abs().mean()) if n else 0.0
    chi = float(sum(n * (r["observed"] - r["expected"]) ** 2 / r["expected"] for r in rows)) if n else 0.0
    return BenfordResult(digits=digits, n=n, mad=mad, chi_square=chi, conformity=conformity(mad, digits), table=table)


def _as_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)
