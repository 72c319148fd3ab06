"""Statuses applied to a run's findings and totals split by status (CONTRACT §6)."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from auditlib.review.apply import apply_register, status_totals
from auditlib.review.register import Decision
from auditlib.review.statuses import Status
from auditlib.rules.identity import finding_id


def _findings(with_exposure=True):
    rows = [("SF06", "001", f"payments:P{i}", Decimal(f"{i}00.10")) for i in range(1, 6)]
    df = pd.DataFrame(rows, columns=["rule_id", "unit_code", "ref", "amount"])
    if with_exposure:
        df["exposure"] = [Decimal("10.01"), Decimal("20.02"), Decimal("30.03"), Decimal("40.04"),
                          Decimal("0")]
    return df


def _d(ref, status, **kw):
    return Decision(finding_id("SF06", "001", ref), "SF06", "001", ref, status,
                    by=kw.pop("by", "张三"), **kw)


def test_apply_register_adds_status_columns_without_touching_the_input():
    df = _findings()
    latest = {d.finding_id: d for d in [
        _d("payments:P1", Status.CONFIRMED, amount=Decimal("5.00"), at="2025-01-01T00:00:00+08:00"),
        _d("payments:P2", Status.DISMISSED, reason="已核实为正常支出"),
        _d("payments:P3", Status.RECTIFIED, reason="已退回")]}
    out = apply_register(df, latest)
    assert "status" not in df.columns
    assert list(out["status"]) == ["confirmed", "dismissed", "rectified", "open", "open"]
    assert list(out["status_reason"]) == ["", "已核实为正常支出", "已退回", "", ""]
    assert out["confirmed_amount"].iloc[0] == Decimal("5.00") and out["confirmed_amount"].iloc[3] is None
    assert out["decided_by"].iloc[0] == "张三" and out["decided_by"].iloc[4] == ""
    assert out["decided_at"].iloc[0] == "2025-01-01T00:00:00+08:00"
    assert list(out["finding_id"]) == [finding_id("SF06", "001", f"payments:P{i}") for i in range(1, 6)]


def test_totals_split_exact_and_dismissed_in_no_total():
    df = _findings()
    latest = {d.finding_id: d for d in [
        _d("payments:P1", Status.CONFIRMED, amount=Decimal("5.00")),
        _d("payments:P2", Status.CONFIRMED),
        _d("payments:P3", Status.DISMISSED, reason="正常"),
        _d("payments:P4", Status.RECTIFIED)]}
    totals = status_totals(apply_register(df, latest))
    assert totals["confirmed"] == {"count": 2, "money": Decimal("25.02")}  # 认定金额 5.00 + 20.02
    assert totals["dismissed"] == {"count": 1, "money": Decimal("30.03")}
    assert totals["rectified"] == {"count": 1, "money": Decimal("40.04")}
    assert totals["open"] == {"count": 1, "money": Decimal("0")}
    assert totals["total"] == {"count": 4, "money": Decimal("65.06")}
    assert all(isinstance(v["money"], Decimal) for v in totals.values())


def test_totals_fall_back_to_amount_and_read_text_cells():
    df = _findings(with_exposure=False)
    df["amount"] = df["amount"].map(str)  # as read from findings.csv
    df.loc[4, "amount"] = ""              # an indicator
    totals = status_totals(apply_register(df, {}))
    assert totals["open"] == {"count": 5, "money": Decimal("100.10") + Decimal("200.10")
                              + Decimal("300.10") + Decimal("400.10")}
    assert status_totals(df)["open"]["count"] == 5  # no status column: all open


def test_empty_findings():
    empty = pd.DataFrame(columns=["rule_id", "unit_code", "ref", "amount"])
    out = apply_register(empty, {})
    assert len(out) == 0 and "status" in out.columns
    assert status_totals(out)["total"] == {"count": 0, "money": Decimal("0")}
