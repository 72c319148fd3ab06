"""The de-duplicated exposure and the interest a page shows beside its plain total (CONTRACT §3
"Amounts"): the one place every page (index, overview, reports) gets them from.

The plain total is :func:`auditlib.outputs.formats.total_amount`; these two stand beside it and are
never added into it.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from auditlib.outputs import verification as vf
from auditlib.review.statuses import Status


def _kept(findings: pd.DataFrame) -> list[bool]:
    return [s is not Status.DISMISSED for s in vf.statuses(findings)]


def dedup_exposure(findings: pd.DataFrame) -> Decimal:
    """涉及资金（去重）: each evidence row counted once, at the largest exposure any finding gives it.

    A row is its (``unit_code``, ``ref``) — refs such as ``ledger:<voucher>#<line>`` are only
    unique within a unit — or its ``ref`` alone in a frame without ``unit_code``. Findings of
    status 排除 are left out, as in every other total; a finding's exposure is its ``exposure``
    (its ``amount`` in a frame without one, nothing when empty). 认定金额 does not enter: this is
    what the evidence puts at stake, not what verification settled.
    """
    if not len(findings) or "ref" not in findings.columns:
        return Decimal("0")
    units = findings["unit_code"].astype(str) if "unit_code" in findings.columns else [""] * len(findings)
    best: dict[tuple[str, str], Decimal] = {}
    for keep, unit, ref, amount in zip(_kept(findings), units, findings["ref"].astype(str), vf.exposure(findings)):
        if not keep:
            continue
        key = (unit, ref)
        value = amount if amount is not None else Decimal("0")
        if key not in best or value > best[key]:
            best[key] = value
    return sum(best.values(), Decimal("0"))


def interest_total(findings: pd.DataFrame) -> Decimal:
    """逾期利息 of the findings (DP01/DP02's ``interest``), 排除 ones left out; shown beside the
    exposure, never added into a total."""
    if not len(findings):
        return Decimal("0")
    return sum((i for keep, i in zip(_kept(findings), vf.interest(findings)) if keep and i is not None),
               Decimal("0"))


def has_interest(findings: pd.DataFrame) -> bool:
    """Whether any counted finding carries an interest (a DP01/DP02 finding)."""
    return bool(len(findings)) and any(keep and i is not None
                                       for keep, i in zip(_kept(findings), vf.interest(findings)))


__all__ = ["dedup_exposure", "interest_total", "has_interest"]
