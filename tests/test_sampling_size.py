"""Audit sampling's statistics against published answers (CONTRACT §7).

Sources, each checked against the numbers below:

* AICPA Audit Guide *Audit Sampling* (2017), Appendix C, Table C-1 "Monetary Unit Sample Size
  Determination Tables" (5 % and 10 % risk of incorrect acceptance), as transcribed in the test suite
  of the R package jfa (``tests/testthat/test-validation-appendix-c.R``, retrieved from
  https://onlinelibrary.wiley.com/doi/pdf/10.1002/9781119448617.app3).
* The same guide's Appendix A, Table A-1 "Statistical Sample Sizes for Tests of Controls — 5 Percent
  Risk of Overreliance" (5 % tolerable deviation rate column), same transcription
  (``test-validation-appendix-a.R``).
* The guide's confidence factors for monetary-unit sample evaluation (number of overstatements 0–5,
  risk of incorrect acceptance 5 %, 10 %, 20 %), as reprinted in the textbook exhibit "PPS
  Confidence Factors for Sample Evaluation" (source: AICPA): 3.00 4.75 6.30 7.76 9.16 10.52 at 5 %;
  the guide rounds them up to two places.
* The textbook problem "Upper Limit on Misstatements Calculation: Monetary Unit Sampling" (auditor
  Jordan Thomas, accounts receivable: risk of incorrect acceptance 5 %, tolerable $65,000, n = 100,
  interval $12,300; misstatements 15,000→12,500, 10,000→4,000, 3,000→2,000), whose published basic
  allowance for sampling risk is 12,300 × 3.00 = $36,900.  The projected misstatement and incremental
  allowance below are worked by hand from the guide's formula with the table's factors.
"""
from __future__ import annotations

import math
from decimal import Decimal

import pytest

from auditlib.errors import SamplingError
from auditlib.sampling.evaluate import evaluate_mus, evaluate_random
from auditlib.sampling.factors import attribute_size, poisson_factor
from auditlib.sampling.size import mus_size

B = Decimal("1000000")
TOLERABLE = ("0.5", "0.3", "0.1", "0.08", "0.06", "0.05", "0.04", "0.03", "0.02", "0.01", "0.005")
#: (risk of incorrect acceptance, expected ÷ tolerable) -> Table C-1's row
TABLE_C1 = {
    (0.05, 0.0): [6, 10, 30, 38, 50, 60, 75, 100, 150, 300, 600],
    (0.05, 0.1): [8, 13, 37, 46, 62, 74, 92, 123, 184, 368, 736],
    (0.05, 0.2): [10, 16, 47, 58, 78, 93, 116, 155, 232, 463, 925],
    (0.05, 0.5): [24, 39, 116, 145, 193, 231, 289, 385, 577, 1154, 2308],
    (0.10, 0.0): [5, 8, 24, 29, 39, 47, 58, 77, 116, 231, 461],
    (0.10, 0.2): [7, 12, 35, 43, 57, 69, 86, 114, 171, 341, 682],
    (0.10, 0.5): [16, 27, 80, 100, 134, 160, 200, 267, 400, 799, 1597],
}


@pytest.mark.parametrize("risk,ratio", sorted(TABLE_C1))
def test_mus_sample_sizes_are_table_c1(risk, ratio):
    got = [mus_size(B, B * Decimal(tm), B * Decimal(tm) * Decimal(str(ratio)), 1 - risk).n for tm in TOLERABLE]
    assert got == TABLE_C1[(risk, ratio)]


def test_zero_expected_size_is_the_closed_form():
    for book, tol, c in [(Decimal("4321622.95"), Decimal("216081.15"), 0.95), (Decimal("987654.32"), Decimal("12345"), 0.9),
                         (Decimal("100"), Decimal("100"), 0.5)]:
        assert mus_size(book, tol, Decimal(0), c).n == math.ceil(float(book) * math.log(1 / (1 - c)) / float(tol))


PUBLISHED_FACTORS = {0.95: [3.00, 4.75, 6.30, 7.76, 9.16, 10.52],
                     0.90: [2.31, 3.89, 5.33, 6.69, 8.00, 9.28],
                     0.80: [1.61, 3.00, 4.28, 5.52, 6.73, 7.91]}


@pytest.mark.parametrize("confidence", sorted(PUBLISHED_FACTORS))
def test_confidence_factors_round_up_to_the_published_table(confidence):
    got = [math.ceil(round(poisson_factor(k, confidence) * 100, 6)) / 100 for k in range(6)]
    assert got == PUBLISHED_FACTORS[confidence]
    assert poisson_factor(0, confidence) == pytest.approx(math.log(1 / (1 - confidence)), rel=1e-15)


def test_attribute_sample_sizes_are_table_a1():
    got = [attribute_size(0.95, 0.05, e / 100) for e in (0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)]
    assert got == [59, 93, 93, 93, 93, 124, 124, 153, 181]


def test_stringer_bound_of_the_published_worked_example():
    book, n = Decimal("1230000"), 100  # interval 12,300
    items = [(Decimal("15000"), Decimal("2500")), (Decimal("10000"), Decimal("6000")),
             (Decimal("3000"), Decimal("1000"))] + [(Decimal("500"), Decimal("0"))] * 97
    ev = evaluate_mus(book, n, 0.95, items)
    # 15,000 ≥ the interval: its 2,500 counts as found; 0.6 and 1/3 are projected over 12,300
    assert ev["top_stratum_misstatement"] == "2500"
    assert Decimal(ev["projected_misstatement"]) == Decimal("13980.00")  # 2,500 + 7,380 + 4,100
    # the published basic allowance, 12,300 × 3.00 = 36,900 (the guide's factor rounded up from 2.9957)
    assert Decimal(ev["basic_precision"]) == Decimal("36847.51")  # 12,300 × ln 20
    assert float(ev["basic_precision"]) == pytest.approx(36900, rel=0.002)
    # by hand with the table: (4.75 − 3.00 − 1) × 7,380 + (6.30 − 4.75 − 1) × 4,100 = 5,535 + 2,255
    assert float(ev["incremental_allowance"]) == pytest.approx(7790, rel=0.002)
    assert float(ev["upper_misstatement_limit"]) == pytest.approx(36900 + 13980 + 7790, rel=0.002)
    assert Decimal(ev["upper_misstatement_limit"]) == (Decimal(ev["basic_precision"]) + Decimal(ev["projected_misstatement"])
                                                       + Decimal(ev["incremental_allowance"]))


def test_mus_without_misstatement_is_basic_precision():
    book, n = Decimal("4321622.95"), 60
    ev = evaluate_mus(book, n, 0.95, [(Decimal("100.00"), Decimal("0"))] * 60)
    want = (Decimal(repr(float(book) * math.log(20) / n))).quantize(Decimal("0.01"))
    assert Decimal(ev["upper_misstatement_limit"]) == Decimal(ev["basic_precision"]) == want
    assert ev["projected_misstatement"] == "0.00" and ev["incremental_allowance"] == "0.00"


def test_random_ratio_and_difference_estimates_worked_by_hand():
    # N = 4 items, B = 1,000; sampled 100 (misstated 10) and 300 (clean); z(95 %) = 1.959964
    ev = evaluate_random(Decimal("1000"), 4, 0.95, [(Decimal("100"), Decimal("10")), (Decimal("300"), Decimal("0"))])
    assert ev["ratio"]["estimate"] == "25.00"            # 10 / 400 × 1,000
    assert ev["difference"]["estimate"] == "20.00"       # 4 × 5
    # SE = N √((1 − n/N)/n) s: difference s = 7.0711 -> 14.142; ratio s(e − R b) = 10.607 -> 21.213
    assert (ev["difference"]["low"], ev["difference"]["high"]) == ("-7.72", "47.72")
    assert (ev["ratio"]["low"], ev["ratio"]["high"]) == ("-16.58", "66.58")
    assert ev["upper_misstatement_limit"] == "66.58"


@pytest.mark.parametrize("tolerable,expected,confidence,key", [
    ("0", "0", 0.95, "tolerable"), ("-100", "0", 0.95, "tolerable"), ("abc", "0", 0.95, "tolerable"),
    ("1000", "-1", 0.95, "expected"), ("1000", "1000", 0.95, "expected"),
    ("1000", "0", 0.0, "confidence"), ("1000", "0", 1.0, "confidence"), ("1000", "0", 1.5, "confidence"),
    ("1000", "0", -0.2, "confidence")])
def test_bad_settings_are_refused_by_name(tolerable, expected, confidence, key):
    with pytest.raises(SamplingError) as err:
        mus_size(B, tolerable, expected, confidence)
    assert err.value.key == key
