"""Drawing the sample, reproducibly: the same seed and population give the same sample on any
machine, any Python and any numpy version.

Randomness comes only from ``numpy.random.Generator(PCG64(seed))``'s bit generator, through its raw
64-bit outputs (:meth:`numpy.random.PCG64.random_raw`, whose stream numpy keeps fixed), turned into
whole numbers below a bound by rejection (no modulo bias).  Nothing else is random; the arithmetic is
on whole cents, so no rounding can move a selection.

* :func:`draw_mus` — monetary-unit sampling, systematic with a random start: the population's cents
  laid end to end (B cents in all), the random start s a whole cent below the interval B ÷ n, and the
  selections the cents ``s + ⌊k × B ÷ n⌋`` for k = 0 … n − 1; each selects the item holding that cent.
  An item of at least B ÷ n yuan (the top stratum) is always selected, maybe more than once.
* :func:`draw_random` — simple random sampling without replacement (a partial Fisher–Yates shuffle).
"""
from __future__ import annotations

import bisect
import secrets
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

_CENT = Decimal("0.01")


class Stream:
    """Whole numbers from ``Generator(PCG64(seed))``'s raw output."""

    def __init__(self, seed: int):
        self.generator = np.random.Generator(np.random.PCG64(seed))
        self._bits = self.generator.bit_generator

    def below(self, bound: int) -> int:
        """A uniform whole number in ``[0, bound)`` (any size of ``bound``)."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        words = max(1, ((bound - 1).bit_length() + 63) // 64)
        span = 1 << (64 * words)
        limit = span - span % bound  # reject the tail so every value is equally likely
        while True:
            value = 0
            for w in self._bits.random_raw(words):
                value = (value << 64) | int(w)
            if value < limit:
                return value % bound


def new_seed() -> int:
    """A seed for a draw the user gave none (recorded in plan.json, so the draw can be repeated)."""
    return secrets.randbelow(10**9)


def cents(amount: Decimal) -> int:
    """An exact amount in whole cents."""
    value = Decimal(amount)
    if value != value.quantize(_CENT):
        raise ValueError(f"amount {amount} has more than two decimals")
    return int(value * 100)


@dataclass(frozen=True)
class MusDraw:
    """The selections of a monetary-unit draw.

    Attributes
    ----------
    hits : tuple of int
        Per population item (in population order), how many selections fell in it.
    start_cents : int
        The random start, in cents from the beginning of the population.
    book_cents : int
        The book value in cents.
    n : int
        Selections.
    """

    hits: tuple[int, ...]
    start_cents: int
    book_cents: int
    n: int

    @property
    def interval(self) -> Decimal:
        """The sampling interval B ÷ n (yuan, exact to 10 decimals)."""
        return (Decimal(self.book_cents) / Decimal(self.n) / 100).quantize(Decimal("1e-10"))


def draw_mus(amounts: list[Decimal], n: int, seed: int) -> MusDraw:
    """Systematic monetary-unit selection with a random start over ``amounts`` (all > 0)."""
    sizes = [cents(a) for a in amounts]
    book = sum(sizes)
    ends, total = [], 0
    for size in sizes:
        total += size
        ends.append(total)
    stream = Stream(seed)
    start = stream.below(-(-book // n))  # a whole cent below the interval B / n
    hits = [0] * len(sizes)
    for k in range(n):
        unit = start + (k * book) // n
        hits[bisect.bisect_right(ends, unit)] += 1
    return MusDraw(tuple(hits), start, book, n)


def draw_random(count: int, n: int, seed: int) -> tuple[int, ...]:
    """``n`` distinct positions of ``range(count)``, without replacement, in ascending order."""
    n = min(n, count)
    stream = Stream(seed)
    pool = list(range(count))
    for i in range(n):  # partial Fisher-Yates: pool[:n] is the sample
        j = i + stream.below(count - i)
        pool[i], pool[j] = pool[j], pool[i]
    return tuple(sorted(pool[:n]))
