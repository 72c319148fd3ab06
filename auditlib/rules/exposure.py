"""What a finding puts at stake (CONTRACT §3 "Amounts"): exact money to the fen.

A rule declares its ``exposure`` (and, for DP01/DP02, its ``interest``) as a column of its
evidence or as a function over its evidence (:class:`auditlib.rules.model.Rule`); the helpers
here turn those values into exact :class:`~decimal.Decimal` yuan, rounded half up to the fen,
and give the value of a rule that puts nothing at stake (an indicator such as SF08).

Roundings the SQL of a rule needs are done exactly in the query: DuckDB rounds DECIMAL values
half away from zero (``round(x, 2)``, ``CAST(x AS DECIMAL(18,2))``), and the engine's macro
``fen_quotient(n, d)`` (:data:`FEN_QUOTIENT_MACRO`) divides a DECIMAL of at most two places
by a whole number without going through floating point (DP03's time progress × amount).
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

#: one fen, the precision of every exposure and interest
FEN = Decimal("0.01")

#: DuckDB macro: ``n / d`` rounded half up (away from zero) to the fen, exactly, for a DECIMAL ``n``
#: with at most two decimal places and a positive whole ``d``
FEN_QUOTIENT_MACRO = (
    "CREATE OR REPLACE TEMP MACRO fen_quotient(n, d) AS "
    "CAST(sign(n) * ((CAST(abs(n) * 100 AS HUGEINT) * 2 + d) // (2 * d)) AS DECIMAL(36,0)) "
    "* CAST(0.01 AS DECIMAL(3,2))")


def fen(value) -> Decimal | None:
    """``value`` as exact yuan rounded half up to the fen; None when missing (None, NaN, NA).

    Floats are read through their shortest text (``0.1`` is 0.10, not 0.1000000000000000055...).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        value = repr(value)
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def money_series(values, index, missing: Decimal | None) -> pd.Series:
    """``values`` as an object Series of exact fen amounts on ``index``; missing values become ``missing``."""
    out = []
    for v in values:
        m = fen(v)
        out.append(missing if m is None else m)
    return pd.Series(out, index=index, dtype=object)


def nothing_at_stake(evidence: pd.DataFrame) -> pd.Series:
    """The exposure of an indicator (SF08): 0 for every finding."""
    return pd.Series([Decimal("0.00")] * len(evidence), index=evidence.index, dtype=object)


__all__ = ["FEN", "FEN_QUOTIENT_MACRO", "fen", "money_series", "nothing_at_stake"]
