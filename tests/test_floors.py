"""Reporting floors (rules/floors.py): the grid histogram in SQL and in Python agree exactly; a cut
like "payments over £500" makes SF08 未检查 with the floor stated, and a skew SF08 should flag does not."""
from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import duckdb
import pytest

from auditlib.rules.engine import inspect
from auditlib.rules.floors import floor_of, histogram, reporting_floor, unit_histograms
from auditlib.rules.params import load_params
from test_rules import make_db, pay

D = dt.date
CENT = Decimal("0.01")


def _benford(rng, n, lo_exp, hi_exp):
    """``n`` amounts log-uniform between 10**lo_exp and 10**hi_exp (Benford's law holds)."""
    return [Decimal(10 ** rng.uniform(lo_exp, hi_exp)).quantize(CENT) for _ in range(n)]


def _lognormal(rng, n, mode=300):
    """``n`` amounts as payments run: most of them small, a long tail of large ones."""
    return [Decimal(rng.lognormvariate(math.log(mode) + 1.0, 1.0)).quantize(CENT) for _ in range(n)]


def _skewed(rng, n):
    """Leading digits 4 and 5 only, at three scales: the skew SF08 exists to flag."""
    return [Decimal(rng.choice([4, 4, 4, 5]) * s + rng.randint(1, s - 1)).quantize(CENT)
            for s in (rng.choice([100, 1000, 10000]) for _ in range(n))]


@pytest.mark.parametrize("seed", range(12))
def test_sql_histogram_equals_python_on_every_edge(seed):
    rng = random.Random(seed)
    amounts = _benford(rng, rng.randint(1, 300), -2, 9)
    # exact grid edges and their neighbours: 1, 1.25, 2, 2.5, 4, 5, 8 x 10^e, one cent either side
    for e in range(-1, 8):
        for m in ("1", "1.25", "2", "2.5", "4", "5", "8"):
            edge = Decimal(m).scaleb(e).quantize(CENT)
            amounts += [edge, edge - CENT, edge + CENT]
    amounts += [Decimal("0.00"), Decimal("-5.00"), Decimal("9999999999999999.99")]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (unit_code VARCHAR, amount DECIMAL(18,2))")
    con.executemany("INSERT INTO t VALUES ('u', ?)", [[a] for a in amounts])
    assert unit_histograms(con, "SELECT * FROM t")["u"] == histogram(amounts)


def test_histogram_bins_are_half_open():
    assert histogram([Decimal("500.00"), Decimal("499.99"), Decimal("800.00"), Decimal("1000.00")]) == {
        (2, 5): 1, (2, 4): 1, (2, 6): 1, (3, 0): 1}


def test_a_published_floor_is_found_and_a_skew_is_not():
    rng = random.Random(7)
    above_500 = [a for a in _lognormal(rng, 4000) if a >= 500]  # published "payments over 500"
    floor = reporting_floor(histogram(above_500))
    assert floor is not None and floor.threshold == 500 and floor.share_under == 0
    assert floor.distorts_first_digit
    # the same payments without the cut, and Benford's law from 10 up: no pile above any level
    assert reporting_floor(histogram(_lognormal(rng, 4000))) is None
    assert reporting_floor(histogram(_benford(rng, 4000, 1, 6))) is None
    # digits 4 and 5 at three scales: empty bins between the clusters, so no floor (SF08 must judge it)
    assert reporting_floor(histogram(_skewed(rng, 400))) is None
    # a floor at or below SF08's own minimum of 10 does not matter
    assert reporting_floor(histogram([a for a in _benford(rng, 4000, 0, 5) if a >= 5])) is None
    # 1 % below the level is no longer a cut
    few_below = above_500 + [Decimal("120.00")] * math.ceil(0.01 * len(above_500))
    assert reporting_floor(histogram(few_below)) is None or reporting_floor(histogram(few_below)).threshold < 500


def test_floor_of_is_the_benford_reports_test():
    from auditlib.rules.benford import detect_floor

    rng = random.Random(3)
    amounts = [a for a in _benford(rng, 3000, 0, 6) if a >= 250]
    assert detect_floor(amounts) == floor_of(histogram(amounts))
    assert detect_floor(amounts).threshold == Decimal("250")


@pytest.fixture()
def floored(tmp_path):
    """Unit 001's payments are published over 500 only; unit 002's follow Benford's law from 10 up,
    with a skew on 4 and 5 SF08 flags."""
    rng = random.Random(11)
    cut = [a for a in _lognormal(rng, 2500) if a >= 500][:600]
    skew = _skewed(rng, 400)
    payments = ([pay(f"A{i}", unit_code="001", amount=a, paid_on=D(2024, 1 + i % 12, 10)) for i, a in enumerate(cut)]
                + [pay(f"B{i}", unit_code="002", amount=a, paid_on=D(2024, 1 + i % 12, 10)) for i, a in enumerate(skew)]
                # a payment after the cut-off is no evidence, nor part of the floor test
                + [pay("A-late", unit_code="001", amount=Decimal("12.00"), paid_on=D(2025, 1, 2))])
    units = [{"unit_code": "001", "unit_name": "县交通局"}, {"unit_code": "002", "unit_name": "县水利局"}]
    return make_db(tmp_path / "f.duckdb", units=units, payments=payments)


def test_sf08_on_a_cut_unit_is_untested_with_the_floor_stated(floored, tmp_path):
    result = inspect(str(floored), "slush_funds", rule_ids=["SF08"])
    gaps = result.untested
    reason = gaps.loc[(gaps.unit_code == "001") & (gaps.rule_id == "SF08"), "reason_zh"]
    assert len(reason) == 1 and "报告下限 500 元" in reason.iloc[0] and "不适用本福特定律" in reason.iloc[0]
    assert not ((gaps.unit_code == "002") & (gaps.rule_id == "SF08")).any()
    assert list(result.findings.loc[result.findings.rule_id == "SF08", "unit_code"]) == ["002"]
    # the reason speaks the parameters' currency
    params_file = tmp_path / "p.yaml"
    params_file.write_text("currency: £\n", encoding="utf-8")
    gaps = inspect(str(floored), "slush_funds", params=load_params(params_file), rule_ids=["SF08"]).untested
    assert "报告下限 500 £" in gaps.loc[gaps.unit_code == "001", "reason_zh"].iloc[0]


def test_a_narrow_band_is_a_skew_not_a_floor():
    band = [Decimal("5000.00") + i for i in range(300)]  # every amount starts with 5: SF08 must judge it
    assert reporting_floor(histogram(band)) is None
