"""How many to draw (CONTRACT §7): the monetary-unit sample size by the Poisson method of the AICPA
Audit Guide *Audit Sampling*, and the attribute-sampling size for a simple random sample.

Monetary-unit sampling (``mus``), book value B, tolerable misstatement T, expected misstatement E,
confidence c:

* E = 0: n = ⌈B × ln(1 ÷ (1 − c)) ÷ T⌉ (the factor ln 20 ≈ 3.0 at 95 %);
* E > 0: the least n whose Poisson (gamma) upper limit, with the expected taintings n × E ÷ B
  taken as found, stays within T: ``poisson_factor(n × E ÷ B, c) × B ÷ n ≤ T``.  This is how the
  guide's Table C-1 ("Monetary Unit Sample Size Determination Tables") is computed in its editions
  since 2008 (T. R. Stewart, *Technical Notes on the AICPA Audit Guide Audit Sampling*, 2012); it
  replaced the older editions' "expansion factor" approximation, n = B × RF ÷ (T − E × EF), which is
  not implemented.  Known answers from Table C-1 are in ``tests/test_sampling_size.py``.

Simple random sampling (``random``): the attribute-sampling table's size (Tables A-1/A-2 of the same
guide) with tolerable rate T ÷ B and expected rate E ÷ B (:func:`auditlib.sampling.factors.attribute_size`).

``--size`` fixes n instead.  Every bad setting raises :class:`~auditlib.errors.SamplingError`
naming the option.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from auditlib.errors import SamplingError
from auditlib.i18n import register, t
from auditlib.sampling.factors import attribute_size, poisson_factor

register({
    "smp.bad_confidence": ("可信赖程度 --confidence 须在 0 与 1 之间（不含两端），如 0.95；现为 {value}",
                           "--confidence must lie strictly between 0 and 1, e.g. 0.95; got {value}"),
    "smp.bad_tolerable": ("可容忍错报 --tolerable 须为正数金额（元）；现为 {value}",
                          "--tolerable must be a positive amount (yuan); got {value}"),
    "smp.bad_expected": ("预计错报 --expected 须为不小于 0 的金额（元）；现为 {value}",
                         "--expected must be an amount ≥ 0 (yuan); got {value}"),
    "smp.expected_too_big": ("预计错报 {expected} 不小于可容忍错报 {tolerable}：无论样本多大都无法得出结论，请降低预计错报或提高可容忍错报",
                             "expected misstatement {expected} is not below the tolerable {tolerable}: no sample "
                             "size can conclude; lower --expected or raise --tolerable"),
    "smp.bad_size": ("样本量 --size 须为正整数；现为 {value}", "--size must be a positive whole number; got {value}"),
    "smp.no_size": ("按所给参数找不到合适的样本量（可容忍错报过小）", "no sample size fits these settings (tolerable too small)"),
})

_MAX_N = 1_000_000


@dataclass(frozen=True)
class SizeResult:
    """A sample size and how it was found.

    Attributes
    ----------
    n : int
        Selections to draw (MUS) or items (random).
    rule : str
        ``fixed`` (``--size``), ``poisson`` (MUS) or ``attribute`` (random).
    factor : float or None
        The confidence factor used (MUS): ln(1/(1−c)), or the factor at the expected taintings.
    """

    n: int
    rule: str
    factor: float | None = None


def check_confidence(confidence, lang: str | None = None) -> float:
    """``confidence`` as a float in (0, 1), else :class:`SamplingError`."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(confidence, bool) or not (0 < value < 1):
        raise SamplingError(t("smp.bad_confidence", lang, value=confidence), key="confidence",
                            reason="out of range")
    return value


def check_money(value, key: str, positive: bool, lang: str | None = None) -> Decimal:
    """A tolerable (``positive``) or expected misstatement as exact yuan, else :class:`SamplingError`."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except Exception:  # noqa: BLE001 - any unreadable amount is the same error
        amount = Decimal("NaN")
    ok = amount.is_finite() and (amount > 0 if positive else amount >= 0) and amount == amount.quantize(Decimal("0.01"))
    if isinstance(value, bool) or not ok:
        raise SamplingError(t("smp.bad_tolerable" if positive else "smp.bad_expected", lang, value=value),
                            key=key, reason="not a positive amount" if positive else "negative")
    return amount.quantize(Decimal("0.01"))


def check_size(size, lang: str | None = None) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise SamplingError(t("smp.bad_size", lang, value=size), key="size", reason="not a positive integer")
    return size


def _checked(confidence, tolerable, expected, lang) -> tuple[float, Decimal, Decimal]:
    """The settings both sizes read, checked: a confidence in (0, 1), a positive tolerable and an
    expected misstatement below it."""
    confidence = check_confidence(confidence, lang)
    tolerable = check_money(tolerable, "tolerable", True, lang)
    expected = check_money(expected, "expected", False, lang)
    if expected >= tolerable:
        raise SamplingError(t("smp.expected_too_big", lang, expected=expected, tolerable=tolerable),
                            key="expected", reason="not below tolerable")
    return confidence, tolerable, expected


def mus_size(book_value: Decimal, tolerable: Decimal, expected: Decimal, confidence: float,
             lang: str | None = None) -> SizeResult:
    """The monetary-unit sample size (selections), as the module docstring says."""
    confidence, tolerable, expected = _checked(confidence, tolerable, expected, lang)
    factor0 = math.log(1 / (1 - confidence))
    if expected == 0:
        return SizeResult(max(1, math.ceil(float(book_value) * factor0 / float(tolerable))), "poisson", factor0)
    b, tol, exp = float(book_value), float(tolerable), float(expected)

    def fits(n: int) -> bool:  # the upper limit falls as n grows, so the least n is found by halving
        return poisson_factor(n * exp / b, confidence) * b / n <= tol

    lo = max(1, math.ceil(b * factor0 / tol))  # no smaller n can do
    hi = lo
    while not fits(hi):
        lo, hi = hi + 1, hi * 2
        if hi > _MAX_N:
            raise SamplingError(t("smp.no_size", lang), key="tolerable", reason="no size")
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid + 1
    return SizeResult(hi, "poisson", poisson_factor(hi * exp / b, confidence))


def random_size(book_value: Decimal, tolerable: Decimal, expected: Decimal, confidence: float,
                population_count: int, lang: str | None = None) -> SizeResult:
    """The attribute-sampling size with rates T ÷ B and E ÷ B, at most the population's count."""
    confidence, tolerable, expected = _checked(confidence, tolerable, expected, lang)
    rate_t = min(1.0, float(tolerable / book_value))
    rate_e = float(expected / book_value)
    n = attribute_size(confidence, rate_t, rate_e, limit=population_count)
    return SizeResult(population_count if n is None else n, "attribute", None)
