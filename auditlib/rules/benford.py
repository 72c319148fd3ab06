"""Benford's law tests on any amount column (Nigrini, *Benford's Law*, 2012).

First-digit and first-two-digit tests with the mean absolute deviation (MAD),
chi-square and Nigrini's conformity label.  Digits are taken from the exact
decimal text of each amount, so ``0.1 + 0.2`` style float noise never shifts a
digit.  SF08 uses the first-digit MAD.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable

import pandas as pd

from auditlib.rules.floors import Floor, floor_of, histogram

#: Nigrini's MAD limits: (close, acceptable, marginally acceptable); above is nonconformity
MAD_LIMITS = {
    1: (0.006, 0.012, 0.015),
    2: (0.0012, 0.0018, 0.0022),
}

CONFORMITY_LABELS = {
    "close": ("高度符合", "close conformity"),
    "acceptable": ("可接受的符合", "acceptable conformity"),
    "marginal": ("勉强可接受的符合", "marginally acceptable conformity"),
    "nonconformity": ("不符合", "nonconformity"),
}


@dataclass(frozen=True)
class BenfordResult:
    """One Benford test: the digit table and its summary statistics.

    ``table`` has one row per digit (or digit pair) with ``digit``, ``count``,
    ``observed`` and ``expected`` proportions and ``deviation`` (observed − expected).
    """

    digits: int
    n: int
    mad: float
    chi_square: float
    conformity: str
    table: pd.DataFrame

    def label(self, lang: str = "zh") -> str:
        zh, en = CONFORMITY_LABELS[self.conformity]
        return zh if lang == "zh" else en


def leading_digits(value, digits: int = 1) -> int | None:
    """The first ``digits`` significant digits of ``value`` as an int, or None for 0/empty/non-numbers.

    >>> leading_digits(Decimal("0.0503"), 2)
    50
    """
    if value is None:
        return None
    try:
        dec = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        return None
    if not dec.is_finite() or dec == 0:
        return None
    sig = "".join(map(str, dec.as_tuple().digits)).lstrip("0")
    sig = (sig + "0" * digits)[:digits]
    return int(sig)


def expected_proportions(digits: int = 1) -> dict[int, float]:
    """Benford's expected proportion of each leading digit (1–9) or digit pair (10–99)."""
    lo, hi = (1, 9) if digits == 1 else (10, 99)
    return {d: math.log10(1 + 1 / d) for d in range(lo, hi + 1)}


def conformity(mad: float, digits: int = 1) -> str:
    """Nigrini's conformity class for a MAD: close, acceptable, marginal or nonconformity."""
    close, acceptable, marginal = MAD_LIMITS[digits]
    if mad <= close:
        return "close"
    if mad <= acceptable:
        return "acceptable"
    if mad <= marginal:
        return "marginal"
    return "nonconformity"


def benford_test(amounts: Iterable, digits: int = 1, min_amount=None) -> BenfordResult:
    """Test the leading digits of ``amounts`` against Benford's law.

    Parameters
    ----------
    amounts : iterable of Decimal, int, float or str
        The values; zeros and empty values are left out, negatives count by their absolute value.
    digits : {1, 2}
        First-digit or first-two-digits test.
    min_amount : number, optional
        Keep only values >= this (Nigrini tests amounts >= 10, which leaves out negatives).
    """
    if digits not in MAD_LIMITS:
        raise ValueError(f"digits must be 1 or 2, not {digits!r}")
    floor = None if min_amount is None else Decimal(str(min_amount))
    counts: Counter[int] = Counter()
    for value in amounts:
        d = leading_digits(abs(_as_decimal(value)) if value is not None else None, digits)
        if d is None:
            continue
        if floor is not None and _as_decimal(value) < floor:
            continue
        counts[d] += 1
    return benford_counts(counts, digits)


def benford_counts(counts: dict[int, int], digits: int = 1) -> BenfordResult:
    """The Benford test of amounts whose leading ``digits`` are counted already (digit → count),
    e.g. by a query; :func:`benford_test` counts them itself and ends here."""
    counts = Counter({int(d): int(c) for d, c in counts.items()})
    expected = expected_proportions(digits)
    n = sum(counts.values())
    rows = []
    for d, exp in expected.items():
        obs = counts[d] / n if n else 0.0
        rows.append({"digit": d, "count": counts[d], "observed": obs, "expected": exp, "deviation": obs - exp})
    table = pd.DataFrame(rows)
    mad = float(table["deviation"].abs().mean()) if n else 0.0
    chi = float(sum(n * (r["observed"] - r["expected"]) ** 2 / r["expected"] for r in rows)) if n else 0.0
    return BenfordResult(digits=digits, n=n, mad=mad, chi_square=chi, conformity=conformity(mad, digits), table=table)


def _as_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


# ------------------------------------------------------------------ the report

def detect_floor(amounts: Iterable, min_share: float = 0.03, min_ratio: float = 4.0) -> Floor | None:
    """A reporting floor in ``amounts`` (e.g. published "payments over £500"), or None; the test is
    :func:`auditlib.rules.floors.floor_of`'s."""
    values = (abs(_as_decimal(v)) for v in amounts if v is not None and _as_decimal(v) > 0)
    return floor_of(histogram(values), min_share, min_ratio)


@dataclass(frozen=True)
class BenfordReport:
    """Benford tests of one set of amounts with what an auditor should know before reading them:
    first-digit and first-two-digits tests, the most frequent amounts (Nigrini's number
    duplication test), a reporting floor if any, and notes in Chinese and English."""

    first: BenfordResult
    first_two: BenfordResult
    #: ``amount``, ``count``, ``share`` of the most frequent amounts, most frequent first
    top_amounts: pd.DataFrame
    floor: Floor | None
    min_amount: Decimal | None
    #: (zh, en) observations
    notes: tuple[tuple[str, str], ...]

    def observations(self, lang: str = "zh") -> list[str]:
        return [zh if lang == "zh" else en for zh, en in self.notes]

    def describe(self, lang: str = "zh") -> str:
        zh = lang == "zh"
        lines = []
        for res in (self.first, self.first_two):
            name = ("首位数字" if res.digits == 1 else "首两位数字") if zh else (
                "first digit" if res.digits == 1 else "first two digits")
            lines.append(f"{name}: n = {res.n}, MAD = {res.mad:.5f}, chi² = {res.chi_square:.1f} ({res.label(lang)})")
        if len(self.top_amounts):
            head = "最常见金额" if zh else "most frequent amounts"
            lines.append(head + ": " + ", ".join(f"{a} × {c}" for a, c in
                                                 zip(self.top_amounts["amount"], self.top_amounts["count"])))
        lines.extend(self.observations(lang))
        return "\n".join(lines)


def _plain(d: Decimal) -> str:
    """A threshold as people write it: 500, 2.5, 0.5 (never 5E+2)."""
    text = format(d.normalize(), "f")
    return text


def benford_report(amounts: Iterable, min_amount=10, top: int = 10) -> BenfordReport:
    """The Benford report of ``amounts`` (tests on amounts >= ``min_amount``, as Nigrini does).

    Notes name a reporting floor that distorts the leading digits, too few amounts for the
    tests to mean much, and amounts repeated so often that they alone move the digit table.
    """
    values = [_as_decimal(v) for v in amounts if v is not None]
    first = benford_test(values, 1, min_amount=min_amount)
    two = benford_test(values, 2, min_amount=min_amount)
    counts = Counter(v for v in values if v != 0)
    total = sum(counts.values())
    top_rows = [{"amount": a, "count": c, "share": c / total} for a, c in counts.most_common(top)]
    top_amounts = pd.DataFrame(top_rows, columns=["amount", "count", "share"])
    floor = detect_floor(values)
    floor_min = None if min_amount is None else Decimal(str(min_amount))
    if floor is not None and floor_min is not None and floor.threshold <= floor_min:
        floor = None  # the tests leave out amounts below min_amount anyway
    notes: list[tuple[str, str]] = []
    if floor is not None:
        t, t2, half = (_plain(x) for x in (floor.threshold, floor.threshold * 2, floor.threshold / 2))
        d = leading_digits(floor.threshold, 1)
        low = "1" if d == 2 else f"1–{d - 1}"
        low_en = "1" if d == 2 else f"1-{d - 1}" 
        common_zh = (f"报告下限：{floor.share_above:.0%} 的金额在 {t}–{t2} 之间，紧邻其下的 {half}–{t} "
                     f"只有 {floor.share_below:.1%}，低于 {t} 的共 {floor.share_under:.1%}。数据看来主要只列出 {t} "
                     f"以上的支付（公开口径如“超过 {t} 的支付”），")
        common_en = (f"Reporting floor: {floor.share_above:.0%} of the amounts lie between {t} and {t2} but only "
                     f"{floor.share_below:.1%} between {half} and {t} ({floor.share_under:.1%} below {t}). The data "
                     f"appear to list mostly payments over {t} (a published reporting floor such as "
                     f"'payments over {t}'), ")
        if floor.distorts_first_digit:
            notes.append((
                common_zh + f"这个下限扭曲了首位数字：首位 {d}–9 被抬高、{low} 被压低，"
                            "偏离本福特分布主要由下限造成，不能据此认定舞弊。",
                common_en + f"and this floor distorts the leading digits: first digits {d}-9 are inflated and "
                            f"{low_en} depressed, so the deviation from Benford's law comes mostly from the floor "
                            "and is no sign of manipulation by itself."))
        else:
            notes.append((
                common_zh + "下限是 10 的整数次幂，本身不扭曲首位数字，但紧邻下限的金额分布仍需留意。",
                common_en + "the floor is a power of ten, which by itself leaves the first digits undistorted."))
    if first.n < 1000:
        notes.append((f"金额只有 {first.n} 笔（≥ {min_amount}），本福特检验需要较多数据（一般 1000 笔以上），结论仅供参考。",
                      f"Only {first.n} amounts (>= {min_amount}); Benford tests need many amounts (about 1,000 or "
                      "more), so read the result as a weak indicator."))
    if len(top_amounts) and top_amounts["share"].iloc[0] >= 0.01:
        a, c, s = top_amounts["amount"].iloc[0], top_amounts["count"].iloc[0], top_amounts["share"].iloc[0]
        notes.append((f"金额 {a} 出现 {c} 次（{s:.1%}），单独就能抬高首两位数字 {leading_digits(a, 2)} 的比例，"
                      "应先查明这类重复金额（常为固定费用或重复支付）。",
                      f"The amount {a} occurs {c} times ({s:.1%}) and alone inflates the first-two-digits "
                      f"combination {leading_digits(a, 2)}; explain such repeated amounts first (fixed fees or "
                      "duplicate payments)."))
    return BenfordReport(first=first, first_two=two, top_amounts=top_amounts, floor=floor,
                         min_amount=floor_min, notes=tuple(notes))


# ---- the unit-level screen of a rule (SF08) -----------------------------------------------------
def benford_screen(con, p_rel: str) -> pd.DataFrame:
    """Per unit (the query of SF08), first-digit MAD of payment amounts >= 10 above ``max_mad`` with at least
    ``min_count`` amounts.  The evidence holds the unit's digit table.

    The first digits are counted in the query (an amount >= 10 begins with its first digit; a value
    that is no finite number counts not, as in :func:`benford_test`), the test is
    :func:`benford_counts` of those counts."""
    counted = con.sql(f"""
        WITH {p_rel},
        d AS (
            SELECT y.unit_code, TRY_CAST(left(CAST(y.amount AS VARCHAR), 1) AS INTEGER) AS digit,
                   count(*) AS n, any_value(p.max_mad) AS max_mad, any_value(p.min_count) AS min_count
            FROM payments y JOIN p USING (unit_code)
            WHERE y.amount >= 10 AND (y.paid_on IS NULL OR y.paid_on <= p.as_of)
            GROUP BY ALL)
        SELECT unit_code, list(digit ORDER BY digit) FILTER (WHERE digit BETWEEN 1 AND 9),
               list(n ORDER BY digit) FILTER (WHERE digit BETWEEN 1 AND 9),
               any_value(max_mad), any_value(min_count)
        FROM d GROUP BY unit_code ORDER BY unit_code""").fetchall()
    rows = [(unit, dict(zip(digits or [], ns or [])), max_mad, min_count)
            for unit, digits, ns, max_mad, min_count in counted]
    out = []
    for unit, counts, max_mad, min_count in rows:
        result = benford_counts(counts, 1)
        if result.n >= min_count and Decimal(repr(result.mad)) > max_mad:
            out.append({"unit_code": unit, "ref": f"units:{unit}", "amount": None, "severity": "low",
                        "detail": f"首位数字 MAD {result.mad:.5f} > {_plain(Decimal(max_mad))}，n = {result.n}（{result.label('zh')}）",
                        "n": result.n, "mad": round(result.mad, 6), "chi_square": round(result.chi_square, 3),
                        "conformity": result.conformity,
                        **{f"digit_{d}": c for d, c in zip(result.table["digit"], result.table["count"])}})
    cols = ["unit_code", "ref", "amount", "severity", "detail", "n", "mad", "chi_square", "conformity"]
    return pd.DataFrame(out) if out else pd.DataFrame(columns=cols)
