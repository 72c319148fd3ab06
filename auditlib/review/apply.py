"""A run's findings with their statuses from the register, and totals split by status
(CONTRACT §6): 待核实 and 属实 counted apart (属实 at its 认定金额 when given), 排除 counted in
no total, 已整改 apart."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd

from auditlib.review.register import Decision
from auditlib.review.statuses import Status
from auditlib.rules.identity import finding_ids

#: the columns :func:`apply_register` adds
STATUS_COLUMNS = ("status", "status_reason", "confirmed_amount", "decided_by", "decided_at")

#: the columns :func:`status_totals` reads (a frame cut to them adds up the same, and subsets of it
#: are cheap to take: a run's findings carry every rule's evidence columns)
TOTAL_COLUMNS = ("exposure", "amount", "status", "confirmed_amount")

#: statuses whose findings make up the totals (排除 is counted apart, in no total)
COUNTED = (Status.OPEN, Status.CONFIRMED, Status.RECTIFIED)


def apply_register(findings: pd.DataFrame, latest: dict[str, Decision]) -> pd.DataFrame:
    """A copy of ``findings`` with each finding's latest decision.

    Parameters
    ----------
    findings : DataFrame
        The engine's findings (or a read ``findings.csv``); ``finding_id`` is computed from
        ``rule_id, unit_code, ref`` when the column is absent.
    latest : dict
        ``finding_id`` -> latest :class:`Decision` (:meth:`Register.latest`).

    Returns
    -------
    DataFrame
        With the columns ``status`` (a :class:`Status` value, ``"open"`` when undecided),
        ``status_reason``, ``confirmed_amount`` (Decimal or None), ``decided_by`` and
        ``decided_at`` (empty text when undecided).
    """
    out = findings.copy()
    ids = out["finding_id"] if "finding_id" in out.columns else finding_ids(out)
    if "finding_id" not in out.columns:
        out["finding_id"] = ids
    got = [latest.get(fid) for fid in ids]
    out["status"] = [d.status.value if d else Status.OPEN.value for d in got]
    out["status_reason"] = [d.reason if d else "" for d in got]
    out["confirmed_amount"] = pd.Series([d.amount if d else None for d in got], index=out.index,
                                        dtype=object)
    out["decided_by"] = [d.by if d else "" for d in got]
    out["decided_at"] = [d.at if d else "" for d in got]
    return out


def money(value) -> Decimal | None:
    """An amount cell as exact Decimal (None for empty/NaN/None): Decimal, int or text."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return None if value != value else Decimal(str(value))
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none", "<na>"):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def status_totals(findings: pd.DataFrame) -> dict[str, dict]:
    """Count and money per status of findings carrying a ``status`` column
    (:func:`apply_register`); undecided rows (no column, empty) count as ``open``.

    Money is each finding's ``exposure`` (its ``amount`` when the frame has no exposure
    column); a ``confirmed`` finding counts its ``confirmed_amount`` (认定金额) when given.

    Returns
    -------
    dict
        ``{status value: {"count": int, "money": Decimal}}`` for every status, plus
        ``"total"`` = open + confirmed + rectified (``dismissed`` is in no total).
    """
    totals = {s.value: {"count": 0, "money": Decimal("0")} for s in Status}
    if len(findings):
        base = findings["exposure"] if "exposure" in findings.columns else findings["amount"]
        statuses = (findings["status"] if "status" in findings.columns
                    else pd.Series([Status.OPEN.value] * len(findings), index=findings.index))
        confirmed = (findings["confirmed_amount"] if "confirmed_amount" in findings.columns
                     else pd.Series([None] * len(findings), index=findings.index))
        for status, value, given in zip(statuses, base, confirmed):
            key = Status(status).value if status not in (None, "") else Status.OPEN.value
            amount = money(given) if key == Status.CONFIRMED.value else None
            if amount is None:
                amount = money(value)
            totals[key]["count"] += 1
            totals[key]["money"] += amount or Decimal("0")
    totals["total"] = {"count": sum(totals[s.value]["count"] for s in COUNTED),
                       "money": sum((totals[s.value]["money"] for s in COUNTED), Decimal("0"))}
    return totals
