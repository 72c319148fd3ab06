"""The risk ranking of units (issue 14 item 5): a score that explains itself.

A unit's score is the sum over rules of ``weight(rule) × b(x)``:

- ``x`` = the unit's exposure on the rule (its findings of the rule that are not 排除, added up by
  :func:`auditlib.outputs.formats.total_amount`) ÷ the unit's base;
- the base is the unit's budget (the ``amount`` of its ``budget`` lines issued on or before
  ``as_of``); a unit without budget lines falls back to its payments of ``fiscal_year`` paid on or
  before ``as_of``; when both are 0, ``x`` is 0 without exposure and 1 with some;
- ``b(x) = x ÷ (x + k)`` with ``k`` = :data:`K` = 0.05: bounded in [0, 1), 0.5 when the exposure
  is 5 % of the budget, ≈ 0.67 at 10 %, ≈ 0.91 at 50 %;
- an indicator rule, whose findings put nothing at stake (SF08), gives ``b = 1`` when the unit has
  a finding of it;
- weights come from the parameters (CONTRACT §2 ``weights``; defaults in ``params/default.yaml``).

So a score lies in [0, Σ weights); each rule's term ``weight × b`` is its share of the score,
which the overview draws as a stacked bar.  Inputs are exact Decimal yuan; the score is a float.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from auditlib.i18n import register
from auditlib.outputs.formats import total_amount
from auditlib.review.apply import TOTAL_COLUMNS
from auditlib.rules.catalogue import all_rules
from auditlib.rules.exposure import nothing_at_stake

#: the half-saturation of ``b``: an exposure of ``K`` × the base scores half its rule's weight
K = 0.05

register({
    "rank.heading_county": ("风险排序（全县 {n} 个单位）", "Risk ranking (all {n} units of the county)"),
    "rank.heading_batch": ("风险排序（本批次 {n} 个单位）", "Risk ranking ({n} units of this run)"),
    "rank.how": ("风险分值 = Σ 规则权重 × x ÷ (x + 0.05)，x = 单位在该规则的涉及金额 ÷ 单位预算指标总额"
                 "（无指标时按本年度支付总额）；指标类规则（本福特检验）有疑点即计满权重。"
                 "排除的疑点不计；权重见参数 weights。分值用于排定检查先后，不是问题认定。",
                 "Risk score = Σ rule weight × x ÷ (x + 0.05), x = the unit's exposure on the rule ÷ its budget "
                 "(its payments of the year when it has no budget lines); an indicator rule (Benford) counts its "
                 "full weight when flagged. Dismissed findings do not count; weights are the parameters' "
                 "weights. The score orders the work; it finds no fault."),
    "rank.col.score": ("风险分值", "Score"),
    "rank.col.top": ("主要规则", "Top rule"),
    "rank.chart": ("各单位风险分值构成（按规则）", "Risk score per unit, by rule"),
    "rank.axis.score": ("风险分值", "score"),
})


def bounded(x: float, k: float = K) -> float:
    """``b(x) = x / (x + k)`` for ``x`` ≥ 0 (0 for ``x`` ≤ 0): increasing, in [0, 1)."""
    return x / (x + k) if x > 0 else 0.0


def relative_exposure(exposure: Decimal, base: Decimal) -> float:
    """``x`` = exposure ÷ base; with no base, 0 without exposure and 1 with some."""
    if base > 0:
        return float(exposure / base)
    return 1.0 if exposure > 0 else 0.0


def unit_bases(con, codes, as_of, fiscal_year: int) -> dict[str, Decimal]:
    """Each unit's base: its budget lines issued on or before ``as_of``, else (no budget lines) its
    payments paid in ``fiscal_year`` on or before ``as_of``; 0 when it has neither."""
    budget = dict(con.execute(
        "SELECT unit_code, COALESCE(sum(amount), 0) FROM budget WHERE issued_on <= ? GROUP BY unit_code",
        [as_of]).fetchall())
    paid = dict(con.execute(
        "SELECT unit_code, COALESCE(sum(amount), 0) FROM payments "
        "WHERE paid_on <= ? AND year(paid_on) = ? GROUP BY unit_code", [as_of, int(fiscal_year)]).fetchall())
    out = {}
    for code in codes:
        if code in budget:
            out[code] = Decimal(budget[code])
        else:
            out[code] = Decimal(paid.get(code, 0))
    return out


def is_indicator(rule) -> bool:
    """A rule whose findings put nothing at stake (an indicator such as SF08)."""
    return rule.exposure is nothing_at_stake


@dataclass(frozen=True)
class RiskScores:
    """Per unit and rule: exposure, x, b, weight and the term ``weight × b``; the score per unit.

    ``terms`` has one row per (unit, rule): ``unit_code, rule_id, findings, exposure, base, x, b,
    weight, term``.
    """

    terms: pd.DataFrame
    k: float = K

    @classmethod
    def compute(cls, findings: pd.DataFrame, codes, bases: dict[str, Decimal], weights: dict,
                k: float = K) -> "RiskScores":
        """Score ``codes`` on ``findings`` (排除 ones are left out by :func:`total_amount`; pass the
        findings that count), with each unit's base and each rule's weight (missing: 1)."""
        # each (unit, rule)'s findings, split once (a mask per pair costs units × rules scans), on
        # the columns total_amount reads only (slicing ~100 columns per group costs more than the sums)
        narrow = findings[[c for c in ("unit_code", "rule_id", *TOTAL_COLUMNS) if c in findings.columns]]
        groups = dict(iter(narrow.groupby(["unit_code", "rule_id"], sort=False))) if len(narrow) else {}
        rows = []
        for code in codes:
            base = Decimal(bases.get(code, 0) or 0)
            for rule in all_rules():
                f = groups.get((code, rule.id))
                f = narrow.iloc[:0] if f is None else f
                exposure = total_amount(f) if len(f) else Decimal("0")
                weight = float(weights.get(rule.id, 1))
                if is_indicator(rule):
                    x = float("nan")
                    b = 1.0 if len(f) else 0.0
                else:
                    x = relative_exposure(exposure, base)
                    b = bounded(x, k)
                rows.append((code, rule.id, len(f), exposure, base, x, b, weight, weight * b))
        terms = pd.DataFrame(rows, columns=["unit_code", "rule_id", "findings", "exposure", "base", "x", "b",
                                            "weight", "term"])
        return cls(terms=terms, k=k)

    def contributions(self) -> pd.DataFrame:
        """Units × rules: each rule's term (its share of the unit's score), units in input order."""
        t = self.terms
        if not len(t):
            return pd.DataFrame()
        units = list(dict.fromkeys(t["unit_code"]))
        rules = list(dict.fromkeys(t["rule_id"]))
        return t.pivot(index="unit_code", columns="rule_id", values="term").reindex(index=units, columns=rules)

    def scores(self) -> pd.Series:
        """The score of each unit (unit code → float)."""
        t = self.terms
        if not len(t):
            return pd.Series(dtype=float)
        return t.groupby("unit_code", sort=False)["term"].sum()

    def top_rule(self, unit_code: str) -> str | None:
        """The rule with the largest term of a unit; None when its score is 0."""
        t = self.terms[self.terms["unit_code"] == unit_code]
        if not len(t) or t["term"].max() <= 0:
            return None
        return str(t.loc[t["term"].idxmax(), "rule_id"])

    def order(self) -> list[str]:
        """Unit codes by score (highest first), then by exposure, findings and code."""
        t = self.terms
        if not len(t):
            return []
        per = t.groupby("unit_code", sort=False).agg(score=("term", "sum"), n=("findings", "sum"))
        money = t.groupby("unit_code", sort=False)["exposure"].apply(lambda s: sum(s, Decimal("0")))
        return sorted(per.index, key=lambda c: (-per.loc[c, "score"], -money[c], -per.loc[c, "n"], c))


__all__ = ["K", "RiskScores", "bounded", "is_indicator", "relative_exposure", "unit_bases"]
