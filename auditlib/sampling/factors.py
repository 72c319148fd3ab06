"""The statistical factors of audit sampling, computed (never looked up in a rounded table).

* :func:`poisson_factor` — the Poisson (gamma) upper confidence factor for ``k`` misstatements, the
  "confidence factor" (可信赖系数) of the AICPA Audit Guide *Audit Sampling*'s monetary-unit tables:
  the rate λ with P(Gamma(k + 1, 1) ≤ λ) = confidence.  At 95 %: 3.00, 4.75, 6.30, 7.76, 9.16 for
  k = 0…4, as the guide prints them to two places; ``k`` may be fractional (expected taintings).
* :func:`attribute_size` — the attribute-sampling table's sample size (binomial): the least n whose
  chance of showing at most the expected deviations, were the rate the tolerable one, is at most
  1 − confidence (95 %, tolerable 5 %, none expected: 59).
* :func:`normal_quantile` — the standard normal quantile (``statistics.NormalDist``).

Floats are used here only, for factors; money stays ``Decimal`` elsewhere.
"""
from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-15
_ITMAX = 10_000


def regularized_gamma(a: float, x: float) -> float:
    """P(a, x), the regularized lower incomplete gamma function (a > 0, x ≥ 0)."""
    if x <= 0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # the series converges fast
        term = total = 1.0 / a
        ap = a
        for _ in range(_ITMAX):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(1.0, total * math.exp(log_front))
    # the continued fraction for Q(a, x) (modified Lentz)
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, _ITMAX):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def poisson_factor(k: float, confidence: float) -> float:
    """The Poisson upper confidence factor for ``k`` misstatements at ``confidence``.

    With ``k = 0`` it is exactly ``ln(1 / (1 − confidence))``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if k < 0:
        raise ValueError(f"k must be ≥ 0, got {k!r}")
    if k == 0:
        return math.log(1 / (1 - confidence))
    a = k + 1
    lo, hi = 0.0, max(1.0, a)
    while regularized_gamma(a, hi) < confidence:
        hi *= 2
    for _ in range(200):  # bisection to full double precision
        mid = (lo + hi) / 2
        if regularized_gamma(a, mid) < confidence:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return hi


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p)."""
    if k >= n:
        return 1.0
    if p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp
                                 + (n - i) * lq) for i in range(k + 1)))


def attribute_size(confidence: float, tolerable_rate: float, expected_rate: float = 0.0,
                   limit: int = 100_000) -> int | None:
    """The attribute-sampling sample size: the least n with P(X ≤ ⌈n × expected_rate⌉ | n,
    tolerable_rate) ≤ 1 − confidence, as the AICPA guide's Table A-1 and A-2 count the expected
    deviations; None when no n up to ``limit`` suffices."""
    risk = 1 - confidence
    for n in range(1, limit + 1):
        if binomial_cdf(math.ceil(n * expected_rate - 1e-9), n, tolerable_rate) <= risk:
            return n
    return None


def normal_quantile(p: float) -> float:
    """The standard normal quantile of ``p``."""
    return NormalDist().inv_cdf(p)
