"""A findings frame's verification state as every output shows it (CONTRACT §3 "Amounts", §6).

The one place that knows which columns a findings frame may carry and what their absence means:

* ``exposure`` (涉及金额, added by the engine since v2): absent, a finding's ``amount`` stands in;
* ``interest`` (逾期利息): absent, empty;
* ``status`` (from :func:`auditlib.review.apply.apply_register`): absent, every finding is ``open``
  (a run without a register); ``status_reason`` and ``confirmed_amount`` (认定金额) beside it;
* ``change`` (``--baseline``): absent, empty.

Totals split by status (:func:`auditlib.review.apply.status_totals`, the one rule for them): 待核实
and 属实 counted apart, a 属实 finding at its 认定金额 when one is given, else at its exposure; 已整改
apart; 排除 findings counted in no total.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from auditlib.review.apply import status_totals
from auditlib.review.statuses import Change, Status

#: statuses in the order outputs show them
STATUS_ORDER = (Status.OPEN, Status.CONFIRMED, Status.RECTIFIED, Status.DISMISSED)
#: statuses whose findings are 问题 (a 取证单 lists them)
PROBLEMS = (Status.CONFIRMED, Status.RECTIFIED)


def _series(frame: pd.DataFrame, values) -> pd.Series:
    """``values`` as an object Series on ``frame``'s index (None stays None, never NaN)."""
    return pd.Series(list(values), index=frame.index, dtype=object)


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def as_money(value) -> Decimal | None:
    """``value`` (Decimal, number or exact text) as Decimal; None for a missing or non-money value."""
    if _missing(value):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def exposure(findings: pd.DataFrame) -> pd.Series:
    """Each finding's exposure (涉及金额): the ``exposure`` column, else its ``amount``."""
    col = "exposure" if "exposure" in findings.columns else "amount"
    if col not in findings.columns:
        return pd.Series([None] * len(findings), index=findings.index, dtype=object)
    return _series(findings, map(as_money, findings[col]))


def interest(findings: pd.DataFrame) -> pd.Series:
    """Each finding's interest (逾期利息), None where it has none."""
    if "interest" not in findings.columns:
        return pd.Series([None] * len(findings), index=findings.index, dtype=object)
    return _series(findings, map(as_money, findings["interest"]))


def status_of(value) -> Status:
    """A status cell (Status, its value or its word) as Status; ``open`` when empty or unknown."""
    if isinstance(value, Status):
        return value
    if _missing(value):
        return Status.OPEN
    return Status.from_word(str(value)) or Status.OPEN


def statuses(findings: pd.DataFrame) -> pd.Series:
    """Each finding's Status (all ``open`` for a frame without a ``status`` column)."""
    if "status" not in findings.columns:
        return pd.Series([Status.OPEN] * len(findings), index=findings.index, dtype=object)
    return _series(findings, map(status_of, findings["status"]))


def has_status(findings: pd.DataFrame) -> bool:
    """Whether any finding is decided (the register said something about it)."""
    return "status" in findings.columns and any(s is not Status.OPEN for s in statuses(findings))


def reasons(findings: pd.DataFrame) -> pd.Series:
    """Each finding's 核实说明 (``status_reason``), empty text where none."""
    if "status_reason" not in findings.columns:
        return pd.Series([""] * len(findings), index=findings.index, dtype=object)
    return _series(findings, ("" if _missing(v) else str(v) for v in findings["status_reason"]))


def confirmed_amounts(findings: pd.DataFrame) -> pd.Series:
    """Each finding's 认定金额, None where none was given."""
    if "confirmed_amount" not in findings.columns:
        return pd.Series([None] * len(findings), index=findings.index, dtype=object)
    return _series(findings, map(as_money, findings["confirmed_amount"]))


def changes(findings: pd.DataFrame) -> pd.Series:
    """Each finding's change against a baseline (Change), None without a baseline."""
    if "change" not in findings.columns:
        return pd.Series([None] * len(findings), index=findings.index, dtype=object)

    def one(v):
        if isinstance(v, Change) or _missing(v):
            return None if _missing(v) else v
        try:
            return Change(str(v).strip())
        except ValueError:
            return next((c for c in Change if str(v).strip() in (c.label("zh"), c.label("en"))), None)
    return _series(findings, map(one, findings["change"]))


def has_baseline(findings: pd.DataFrame) -> bool:
    """Whether the findings were compared with a baseline run (a ``change`` column with a value)."""
    return "change" in findings.columns and any(c is not None for c in changes(findings))


def counted(findings: pd.DataFrame) -> pd.Series:
    """The money each finding adds to its status's total, as :func:`status_totals` counts it:
    a 属实 finding's 认定金额 when given, else its exposure; None for 排除 findings (counted in no
    total) and findings without an amount."""
    st, exp, conf = statuses(findings), exposure(findings), confirmed_amounts(findings)
    out = []
    for s, e, c in zip(st, exp, conf):
        if s is Status.DISMISSED:
            out.append(None)
        elif s is Status.CONFIRMED and c is not None:
            out.append(c)
        else:
            out.append(e)
    return pd.Series(out, index=findings.index, dtype=object)


@dataclass(frozen=True)
class Tally:
    """Findings of one status: how many, and the money they count (None when none has an amount)."""

    count: int = 0
    money: Decimal | None = None


def split(findings: pd.DataFrame) -> dict[Status, Tally]:
    """Count and money per status (:func:`status_totals`; every status a key): money None where
    the status has no finding, and always for 排除 (counted in no total)."""
    frame = findings if "status" not in findings.columns else findings.assign(
        status=[s.value for s in statuses(findings)])
    totals = status_totals(frame)
    return {s: Tally(totals[s.value]["count"],
                     totals[s.value]["money"] if totals[s.value]["count"] and s is not Status.DISMISSED else None)
            for s in STATUS_ORDER}


def counted_total(findings: pd.DataFrame) -> Tally:
    """Count and money of the findings that make up a total (待核实 + 属实 + 已整改; 排除 left out)."""
    totals = status_totals(findings if "status" not in findings.columns else findings.assign(
        status=[s.value for s in statuses(findings)]))["total"]
    return Tally(totals["count"], totals["money"] if totals["count"] else None)


def change_counts(findings: pd.DataFrame) -> dict[str, int]:
    """``new`` and ``persisting`` counts, and ``unrectified``: persisting findings that were confirmed
    (上次已确认、本次仍存在（未整改）) — by the baseline's status when the frame carries
    ``baseline_status``, else by their status now (the register carries decisions across runs)."""
    ch = changes(findings)
    was = (_series(findings, map(status_of, findings["baseline_status"])) if "baseline_status" in findings.columns
           else statuses(findings))
    return {"new": sum(c is Change.NEW for c in ch),
            "persisting": sum(c is Change.PERSISTING for c in ch),
            "unrectified": sum(c is Change.PERSISTING and s is Status.CONFIRMED for c, s in zip(ch, was))}


__all__ = ["STATUS_ORDER", "PROBLEMS", "Tally", "as_money", "exposure", "interest", "statuses", "status_of",
           "has_status", "reasons", "confirmed_amounts", "changes", "has_baseline", "counted", "split",
           "counted_total", "change_counts", "with_decisions", "run_decisions", "save_run_decisions", "RUN_DECISIONS"]


# ---- the decisions a run read ------------------------------------------------------------------

def with_decisions(findings: pd.DataFrame, decisions: dict | None) -> pd.DataFrame:
    """``findings`` with each decided finding's 核实说明 and each 属实 one's 认定金额, from the
    decisions the run read (its status stays what ``findings.csv`` says)."""
    out = findings.copy()
    if not decisions or "finding_id" not in out.columns:
        return out
    got = [decisions.get(i) for i in out["finding_id"]]
    states = statuses(out)
    out["status_reason"] = [d.reason if d is not None and s is not Status.OPEN else "" for d, s in zip(got, states)]
    out["confirmed_amount"] = pd.Series(
        [d.amount if d is not None and s is Status.CONFIRMED else None for d, s in zip(got, states)],
        index=out.index, dtype=object)
    return out


#: a file of the register's latest decisions on a run's findings as the run read them (each a register
#: line's fields, by finding id): the batch leaves one beside the findings.csv it makes while its tasks
#: run, so that the overview and the county deliverables made meanwhile never read a large register again
RUN_DECISIONS = "decisions.json"


def save_run_decisions(folder, decisions: dict, findings: list[pd.DataFrame]) -> None:
    """Write :data:`RUN_DECISIONS` into ``folder``: of ``decisions`` (finding id -> decision), those
    on the ``findings``."""
    import json

    from auditlib.common.files import atomic_write

    ids = dict.fromkeys(i for f in findings for i in f["finding_id"])  # the run's, in findings order
    with atomic_write(Path(folder) / RUN_DECISIONS) as fh:
        json.dump({i: decisions[i].to_dict() for i in ids if i in decisions}, fh, ensure_ascii=False)


def run_decisions(manifest: dict, saved=None) -> dict | None:
    """The decisions the run read: those in ``saved`` (a :data:`RUN_DECISIONS` file) when it exists,
    else the first ``decisions`` lines of its register (later ones are not the run's); None when the
    run read none or the register is gone."""
    from auditlib.review.register import Decision, Register

    if saved is not None and Path(saved).is_file():
        import json

        with open(saved, encoding="utf-8") as fh:
            return {i: Decision.from_dict(d) for i, d in json.load(fh).items()}
    info = manifest.get("register")
    if not isinstance(info, dict) or not info.get("path") or not Path(info["path"]).is_file():
        return None
    read = Register(info["path"]).decisions()
    n = info.get("decisions")
    read = read[:n] if isinstance(n, int) else read
    return {d.finding_id: d for d in read}
