"""Where an ingest's time goes: each step of each file timed and logged at DEBUG level
(``auditlib --verbose ingest``), one line per step, read by the benchmark (``bench/bench_ingest.py``).
"""
from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator

logger = logging.getLogger("auditlib")

#: the line :func:`step` logs; :func:`read_steps` reads it back
_LINE = "ingest step: {file} | {step} | {seconds:.3f} s"
_PATTERN = re.compile(r"ingest step: (?P<file>.*) \| (?P<step>[a-z ]+) \| (?P<seconds>\d+\.\d+) s")


@contextlib.contextmanager
def step(file: str, name: str) -> Iterator[None]:
    """Time the block as step ``name`` of ``file`` (``*`` for the steps over every file)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        logger.debug(_LINE.format(file=file, step=name, seconds=time.perf_counter() - start))


def read_steps(text: str) -> dict[str, float]:
    """Seconds per step name, summed over the files, from the log ``text`` of an ingest."""
    out: dict[str, float] = {}
    for m in _PATTERN.finditer(text):
        out[m["step"]] = out.get(m["step"], 0.0) + float(m["seconds"])
    return out


__all__ = ["read_steps", "step"]
