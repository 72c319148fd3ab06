"""The risk ranking (issue 14 item 5): weights in the parameters, a bounded score per unit that
grows with exposure relative to the budget, and the overview ranking units by it."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from auditlib.errors import ParameterError
from auditlib.rules.catalogue import all_rules
from auditlib.rules.params import load_params
from auditlib.views.ranking import K, RiskScores, bounded, is_indicator, relative_exposure
from test_rules import make_db, pay


# ---- weights in the parameters ------------------------------------------------------------------
def test_default_weights_cover_every_rule():
    weights = load_params().weights
    assert set(weights) == {r.id for r in all_rules()}
    assert all(w >= 0 for w in weights.values())


def test_a_run_file_sets_some_weights_and_the_rest_keep_their_defaults(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("weights: {SF01: 7, DP05: 0.5, IF01: 0}\n", encoding="utf-8")
    default = load_params().weights
    weights = load_params(f).weights
    assert weights["SF01"] == Decimal(7) and weights["DP05"] == Decimal("0.5") and weights["IF01"] == 0
    assert weights["SF02"] == default["SF02"]
    assert load_params(f).to_dict()["weights"]["DP05"] == 0.5  # a number, read back by load_params


@pytest.mark.parametrize("text, key", [
    ("weights: {XX01: 1}\n", "weights.XX01"),      # unknown rule
    ("weights: {SF01: -1}\n", "weights.SF01"),     # negative
    ("weights: {SF01: 'high'}\n", "weights.SF01"),  # not a number
    ("weights: {SF01: '3'}\n", "weights.SF01"),    # text, even of digits
    ("weights: {SF01: true}\n", "weights.SF01"),
    ("weights: {SF01: .nan}\n", "weights.SF01"),
    ("weights: [SF01]\n", "weights"),
])
def test_bad_weights_name_the_key(tmp_path, text, key):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(f)
    assert info.value.key == key and info.value.file == str(f) and key in str(info.value)


# ---- the score -----------------------------------------------------------------------------------
def _findings(rows):
    """rows: (unit_code, rule_id, exposure) → a findings frame as the overview counts it."""
    return pd.DataFrame([{"unit_code": u, "rule_id": r, "exposure": Decimal(e), "amount": Decimal(e),
                          "severity": "medium", "status": "open"} for u, r, e in rows])


def _scores(rows, bases, weights=None, codes=None):
    f = _findings(rows)
    codes = codes or list(dict.fromkeys(f["unit_code"]))
    return RiskScores.compute(f, codes, {c: Decimal(b) for c, b in bases.items()}, weights or {})


def test_b_is_bounded_and_monotone():
    xs = [0, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 10, 1e6]
    bs = [bounded(x) for x in xs]
    assert bs[0] == 0 and bounded(K) == pytest.approx(0.5)
    assert all(0 <= b < 1 for b in bs) and bs == sorted(bs) and len(set(bs)) == len(bs)


def test_score_grows_with_exposure_and_stays_below_the_sum_of_weights():
    weights = {r.id: 1 for r in all_rules()}
    weights["SF01"] = 5
    previous = -1.0
    for exposure in ("0", "100", "1000", "10000", "100000", "1000000", "100000000"):
        score = _scores([("A", "SF01", exposure)], {"A": "100000"}, weights).scores()["A"]
        assert previous < score < 5
        previous = score
    everything = _scores([("A", r.id, "1000000000") for r in all_rules()], {"A": "1"}, weights).scores()["A"]
    assert everything < sum(weights.values())


def test_fewer_findings_but_more_at_stake_for_the_budget_ranks_higher():
    # like 001 (21 findings, 680k) against 0011 (15, 1.03M) on comparable budgets
    rows = [("001", "SF07", "32380.95")] * 21 + [("0011", "SF07", "68666.67")] * 15
    scores = _scores(rows, {"001": "1000000", "0011": "1000000"})
    assert scores.order() == ["0011", "001"]
    assert scores.scores()["0011"] > scores.scores()["001"]
    # and the exposure counts relative to the budget: the same money weighs more in a small unit
    small = _scores([("big", "SF07", "50000"), ("small", "SF07", "50000")], {"big": "5000000", "small": "500000"})
    assert small.order() == ["small", "big"]


def test_a_rule_of_weight_zero_contributes_nothing():
    weights = {"SF01": 0, "SF02": 5}
    scores = _scores([("A", "SF01", "900000"), ("A", "SF02", "1000"), ("B", "SF02", "2000")],
                     {"A": "1000000", "B": "1000000"}, weights)
    terms = scores.contributions()
    assert terms.loc["A", "SF01"] == 0 and scores.top_rule("A") == "SF02"
    assert scores.order() == ["B", "A"]  # A's 900k on a weight-0 rule does not lift it


def test_an_indicator_counts_its_weight_when_flagged_and_no_base_falls_back():
    indicator = next(r.id for r in all_rules() if is_indicator(r))
    assert indicator == "SF08"
    scores = _scores([("A", indicator, "0")], {"A": "0"}, {indicator: 2}, codes=["A", "B"])
    assert scores.scores()["A"] == pytest.approx(2) and scores.scores()["B"] == 0
    assert scores.top_rule("B") is None
    assert relative_exposure(Decimal("5"), Decimal("0")) == 1 and relative_exposure(Decimal("0"), Decimal("0")) == 0


def test_dismissed_findings_do_not_count():
    f = _findings([("A", "SF01", "50000")])
    f["status"] = "dismissed"
    scores = RiskScores.compute(f, ["A"], {"A": Decimal("100000")}, {})
    assert scores.scores()["A"] == 0


# ---- the overview ---------------------------------------------------------------------------------
@pytest.fixture()
def two_units(tmp_path):
    """Unit 001: many small rounded 会议费 payments on a large budget; 0011: fewer, larger ones on a
    small budget; unit 002 has no budget lines (its payments are its base)."""
    payments = ([pay(f"A{i}", unit_code="001", expense_type="会议费", amount=Decimal("10000.00"),
                     paid_on=dt.date(2024, 3, 1) + dt.timedelta(days=40 * i)) for i in range(6)]
                + [pay(f"B{i}", unit_code="0011", expense_type="会议费", amount=Decimal("30000.00"),
                       paid_on=dt.date(2024, 3, 2) + dt.timedelta(days=40 * i)) for i in range(3)]
                + [pay("C0", unit_code="002", amount=Decimal("5000.00"), paid_on=dt.date(2024, 5, 6))])
    budget = [{"unit_code": "001", "budget_id": "B001", "amount": Decimal("5000000.00"),
               "issued_on": dt.date(2024, 1, 10), "fiscal_year": 2024},
              {"unit_code": "0011", "budget_id": "B0011", "amount": Decimal("500000.00"),
               "issued_on": dt.date(2024, 1, 10), "fiscal_year": 2024},
              {"unit_code": "0011", "budget_id": "LATE", "amount": Decimal("9000000.00"),
               "issued_on": dt.date(2025, 1, 10), "fiscal_year": 2025}]  # after as_of: not in the base
    units = [{"unit_code": c, "unit_name": n} for c, n in (("001", "县教育局"), ("0011", "城关镇中心小学"),
                                                            ("002", "县卫生健康局"))]
    return make_db(tmp_path / "r.duckdb", units=units, payments=payments, budget=budget)


def test_the_overview_ranks_by_score_and_explains_it(two_units):
    from auditlib.outputs.charts import figure_png
    from auditlib.views.overview import Overview

    ov = Overview.open(str(two_units))
    assert ov.bases == {"001": Decimal("5000000.00"), "0011": Decimal("500000.00"), "002": Decimal("5000.00")}
    frame = ov.ranking_frame()
    assert list(frame.columns[:6]) == ["名次", "单位代码", "单位名称", "风险分值", "主要规则", "疑点条数"]
    assert list(frame["单位代码"]) == ["0011", "001", "002"]
    n = dict(zip(frame["单位代码"], frame["疑点条数"]))
    assert n["001"] > n["0011"]  # more findings, yet ranked below
    assert frame["主要规则"].iloc[0].startswith("SF07") and frame["主要规则"].iloc[2] == "—"
    assert ov.ranking_heading() == "风险排序（全县 3 个单位）"
    fig = ov.risk_figure()
    assert fig.axes[0].get_title() == "各单位风险分值构成（按规则）"
    assert figure_png(fig).startswith(b"\x89PNG")


def test_a_batch_of_some_units_says_so(two_units):
    from auditlib.views.overview import Overview

    ov = Overview.open(str(two_units))
    ov = Overview(findings=ov.findings, units=ov.units, params=ov.params, lang="zh", source="",
                  ran=frozenset({"001", "0011"}), bases=ov.bases)
    assert ov.ranking_heading() == "风险排序（本批次 2 个单位）"
    assert list(ov.ranking_frame()["单位代码"]) == ["0011", "001"]
