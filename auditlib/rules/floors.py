"""Reporting floors (e.g. published "payments over £500"), found from a histogram of amounts.

Two questions, both answered from counts on the grid 1, 1.25, 2, 2.5, 4, 5, 8 × 10^e, so a
histogram on that grid is all they need: built in Python for a list of amounts (:func:`histogram`)
or in SQL for every unit at once (:func:`unit_histograms`), exactly (whole cents, integer
arithmetic).

- :func:`floor_of`, the Benford report's note: a round threshold T (1, 2, 2.5 or 5 times a power of
  ten) is a floor when at least ``min_share`` of the positive amounts lie in [T, 2T), that octave
  holds at least ``min_ratio`` times as many as the octave below, [T/2, T), and not clearly fewer
  (at least 80 %) than the octave above, [2T, 4T).  Under Benford's law (scale invariance)
  neighbouring octaves hold about the same number, so a step of that size where the amounts peak
  means amounts below T were cut off, mostly or wholly; the steepest step wins.
- :func:`reporting_floor`, SF08's coverage check (:func:`benford_not_applicable`): the amounts
  stop below a level they pile up above, as published data cut at a floor do.  Benford's law
  does not fit such data, so SF08 is 未检查 for the unit, with the floor stated (CONTRACT §3).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

#: the grid's edges within a decade, times 4 (1, 1.25, 2, 2.5, 4, 5, 8)
_EDGES4 = (4, 5, 8, 10, 16, 20, 32)
_EDGES = tuple(Decimal(e) / 4 for e in _EDGES4)

# a candidate T by its grid index k, and the grid (decade shift, index) of T/2, 2T and 4T
_CANDIDATES = (  # (multiple, k, T/2, 2T, 4T)
    (Decimal(1), 0, (-1, 5), (0, 2), (0, 4)),
    (Decimal(2), 2, (0, 0), (0, 4), (0, 6)),
    (Decimal("2.5"), 3, (0, 1), (0, 5), (1, 0)),
    (Decimal(5), 5, (0, 3), (1, 0), (1, 2)),
)


@dataclass(frozen=True)
class Floor:
    """A reporting floor: many amounts just above ``threshold``, few just below."""

    threshold: Decimal
    #: share of the positive amounts in [threshold, 2 x threshold)
    share_above: float
    #: share of the positive amounts in [threshold / 2, threshold)
    share_below: float
    #: share of the positive amounts below threshold
    share_under: float

    @property
    def distorts_first_digit(self) -> bool:
        """A floor at a power of ten cuts whole decades and leaves first digits alone; any other cuts
        the digits below its own out of the first decade above it."""
        return self.threshold.normalize().as_tuple().digits != (1,)


#: a histogram: (decade exponent e, grid index k) → how many amounts lie in [edge_k, edge_k+1) × 10^e
Histogram = dict[tuple[int, int], int]


def histogram(amounts: Iterable[Decimal]) -> Histogram:
    """The grid histogram of the positive ``amounts`` (Decimal)."""
    out: Histogram = {}
    for v in amounts:
        if v <= 0:
            continue
        e = v.adjusted()
        k = bisect.bisect_right(_EDGES, v.scaleb(-e)) - 1
        out[(e, k)] = out.get((e, k), 0) + 1
    return out


def floor_of(hist: Histogram, min_share: float = 0.03, min_ratio: float = 4.0):
    """The reporting floor of the amounts ``hist`` counts, or None."""
    keys = sorted(k for k, c in hist.items() if c)
    if not keys:
        return None
    cum = [0]
    for key in keys:
        cum.append(cum[-1] + hist[key])
    n = cum[-1]

    def below(e: int, k: int) -> int:  # amounts < edge k of decade e
        return cum[bisect.bisect_left(keys, (e, k))]

    best = None
    for e in range(keys[0][0] - 1, keys[-1][0] + 2):
        for m, k, half, double, quad in _CANDIDATES:
            at = below(e, k)
            above = below(e + double[0], double[1]) - at
            under = at - below(e + half[0], half[1])
            upper = below(e + quad[0], quad[1]) - below(e + double[0], double[1])
            if above < min_share * n or above < min_ratio * under or above < 0.8 * upper:
                continue
            ratio = above / under if under else math.inf
            if best is None or ratio > best[0]:
                best = (ratio, Floor(m.scaleb(e).normalize(), above / n, under / n, at / n))
    return best[1] if best else None


def _bins_from(e: int, k: int):
    """The grid's bins from (e, k) upwards."""
    while True:
        yield e, k
        e, k = (e, k + 1) if k + 1 < len(_EDGES4) else (e + 1, 0)


def reporting_floor(hist: Histogram, max_under: float = 0.005, min_first: float = 0.2, upto: float = 0.9,
                    min_spread: int = 4, above: Decimal = Decimal(10)) -> Floor | None:
    """Where the amounts ``hist`` counts are cut off below, as published data are ("payments over
    £500"), or None.

    The floor L is the highest grid edge above ``above`` with at most ``max_under`` of the
    amounts below it.  It is a cut when the amounts pile up right above it (at least
    ``min_first`` of them in its first octave, [L, 2L) to the grid; amounts that follow Benford's
    law over a few decades put well under that in any one octave) and run on above it without a
    gap to the ``upto`` quantile (every grid bin from L up to it holds some), which lies at least
    ``min_spread`` times L.  Amounts clustered on a few leading digits, the skew Benford's test is
    meant to flag, are no cut: at several scales they leave empty bins between the clusters, at
    one scale they fill a narrow band.
    """
    n = sum(hist.values())
    if not n:
        return None
    floor = under = None
    seen = 0
    for key in sorted(hist):  # the highest edge with at most max_under of the amounts below it
        if seen > max_under * n:
            break
        floor, under = key, seen
        seen += hist[key]
    t = _EDGES[floor[1]].scaleb(floor[0])
    if t <= above:
        return None
    first = 0
    for key in _bins_from(*floor):  # the first octave
        if _EDGES[key[1]].scaleb(key[0]) >= 2 * t:
            break
        first += hist.get(key, 0)
    if first < min_first * n:
        return None
    seen, top = under, t
    for key in _bins_from(*floor):  # no gap up to the upto quantile
        if seen >= upto * n:
            break
        if not hist.get(key):
            return None
        seen += hist[key]
        top = _EDGES[key[1]].scaleb(key[0])
    if top < min_spread * t:  # a narrow band (every amount 5,0xx) is a skew, not a cut
        return None
    half = t / 2
    below_half = sum(c for (e, k), c in hist.items() if _EDGES[k].scaleb(e) < half)
    return Floor(t.normalize(), first / n, (under - below_half) / n, under / n)


def unit_histograms(con, relation: str, params: list | None = None) -> dict[str, Histogram]:
    """Per unit, the grid histogram of the amounts of ``relation`` (SQL with columns ``unit_code``
    and ``amount``, a DECIMAL with at most two places); one query for all units."""
    rows = con.execute(f"""
        WITH a AS (SELECT CAST(unit_code AS VARCHAR) AS unit_code, CAST(CAST(amount AS DECIMAL(38, 2)) * 100 AS HUGEINT) AS c
                   FROM ({relation}) WHERE amount > 0),
             b AS (SELECT unit_code, c, length(CAST(c AS VARCHAR)) AS d FROM a),
             g AS (SELECT unit_code, d, 4 * c AS c4, CAST(pow(10, d - 1) AS HUGEINT) AS p FROM b)
        SELECT unit_code, d - 3 AS e,
               CASE {" ".join(f"WHEN c4 >= {edge} * p THEN {k}" for k, edge in reversed(list(enumerate(_EDGES4))))}
               END AS k, count(*) AS n
        FROM g GROUP BY ALL""", params or []).fetchall()
    out: dict[str, Histogram] = {}
    for unit, e, k, n in rows:
        out.setdefault(unit, {})[(int(e), int(k))] = int(n)
    return out


def benford_not_applicable(con, units, params) -> dict[str, tuple[str, str]]:
    """Units whose payments (none after the cut-off) have a reporting floor above 10 that distorts the
    first digits, with why Benford's law does not fit them (zh, en): SF08's coverage check."""
    from auditlib.i18n import in_currency

    units = [str(u) for u in units]
    if not units:
        return {}
    hists = unit_histograms(con, "SELECT unit_code, amount FROM payments "
                                 "WHERE (paid_on IS NULL OR paid_on <= ?::DATE) AND list_contains(?, unit_code)",
                            [params.as_of, units])
    currency = getattr(params, "currency", "元")
    out = {}
    for unit in units:
        floor = reporting_floor(hists.get(unit, {}))
        if floor is None or floor.threshold <= 10 or not floor.distorts_first_digit:
            continue  # SF08 tests amounts >= 10 only; a power of ten leaves first digits alone
        t_ = f"{floor.threshold:,f}"
        out[unit] = (in_currency(f"金额有报告下限 {t_} 元（低于下限的金额占 {floor.share_under:.1%}），首位数字分布不适用本福特定律", currency),
                     in_currency(f"the amounts have a reporting floor at {t_} yuan ({floor.share_under:.1%} below it); "
                                 "Benford's law does not fit their first digits", currency))
    return out
