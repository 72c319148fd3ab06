"""Benford tests: digit extraction, Nigrini's thresholds, and the published answers on real data."""
from __future__ import annotations

import csv
import math
from decimal import Decimal

import pytest

from auditlib.rules.benford import benford_test, conformity, expected_proportions, leading_digits


@pytest.mark.parametrize(
    "value, digits, expected",
    [
        (Decimal("1234.50"), 1, 1), (Decimal("1234.50"), 2, 12), (Decimal("0.0503"), 2, 50),
        ("50.00", 2, 50), (Decimal("5E+1"), 2, 50), (9, 2, 90), (0.3, 1, 3), (-27.5, 1, 2),
        (0, 1, None), (None, 1, None), ("abc", 1, None),
    ],
)
def test_leading_digits(value, digits, expected):
    assert leading_digits(value, digits) == expected


@pytest.mark.parametrize(
    "mad, digits, label",
    [
        (0.006, 1, "close"), (0.00601, 1, "acceptable"), (0.012, 1, "acceptable"),
        (0.01201, 1, "marginal"), (0.015, 1, "marginal"), (0.01501, 1, "nonconformity"),
        (0.0012, 2, "close"), (0.0018, 2, "acceptable"), (0.0022, 2, "marginal"), (0.00221, 2, "nonconformity"),
    ],
)
def test_nigrini_conformity_limits(mad, digits, label):
    assert conformity(mad, digits) == label


def test_expected_proportions_sum_to_one():
    for digits in (1, 2):
        assert math.isclose(sum(expected_proportions(digits).values()), 1.0)


def test_benford_conforming_data_has_small_mad_and_skewed_data_fails():
    # a geometric sequence spreads its mantissas evenly in log scale: Benford by construction
    benford_like = [Decimal(str(round(10 * 1.001 ** k, 2))) for k in range(20000)]
    good = benford_test(benford_like, 1)
    assert good.conformity == "close" and good.n == 20000
    assert good.table["count"].sum() == good.n

    skewed = [Decimal("5000.00")] * 500 + benford_like[:1000]
    bad = benford_test(skewed, 1)
    assert bad.conformity == "nonconformity"
    assert int(bad.table.set_index("digit").loc[5, "count"]) >= 500


def test_min_amount_keeps_values_at_or_above_it():
    r = benford_test([Decimal("9.99"), Decimal("10.00"), Decimal("-50.00"), Decimal("25")], 1, min_amount=10)
    assert r.n == 2


def test_nigrini_corporate_payments_published_answers(external):
    path = external / "nigrini" / "corporate.payment.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        amounts = [Decimal(row["Amount"]) for row in csv.DictReader(fh)]
    first = benford_test(amounts, 1, min_amount=10)
    two = benford_test(amounts, 2, min_amount=10)
    assert first.n == two.n == 177_763
    assert round(first.mad, 5) == 0.01464 and first.conformity == "marginal"
    assert round(two.mad, 5) == 0.00243 and two.conformity == "nonconformity"
    positive = benford_test([a for a in amounts if a > 0], 2)
    assert positive.n == 185_083
    assert math.isclose(positive.mad, 0.002336614, abs_tol=5e-10)


def test_detect_floor_finds_a_cut_and_ignores_smooth_or_bell_shaped_data():
    from auditlib.rules.benford import benford_report, detect_floor

    benford_like = [Decimal(str(round(10 * 1.001 ** k, 2))) for k in range(20000)]
    assert detect_floor(benford_like).threshold == 10  # it starts at 10: a floor, but a power of ten
    assert not detect_floor(benford_like).distorts_first_digit
    assert benford_report(benford_like).floor is None  # and no lower than the test's own min_amount
    bell = [Decimal(60) + Decimal(k % 41 - 20) for k in range(5000)]  # peaked around 60, no cut
    assert detect_floor(bell) is None
    floored = [a for a in benford_like if a >= 500]
    floor = detect_floor(floored)
    assert floor is not None and floor.threshold == 500 and floor.distorts_first_digit
    report = benford_report(floored)
    assert any("报告下限" in n for n in report.observations("zh"))
    assert any("distorts the leading digits" in n for n in report.observations("en"))
    tens = detect_floor([a for a in benford_like if a >= 1000])
    assert tens is not None and tens.threshold == 1000 and not tens.distorts_first_digit
