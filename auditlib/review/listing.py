"""``auditlib review list``: the register as a spreadsheet-safe CSV, one row per finding with its
latest decision, or every decision (``--history``); columns as the register's fields."""
from __future__ import annotations

import os
from pathlib import Path

from auditlib.common.csvfile import write_csv
from auditlib.review.register import FIELDS, Decision, Register
from auditlib.review.statuses import Status


def select(register: Register, status: Status | str | None = None, history: bool = False) -> list[Decision]:
    """The decisions to list: each finding's latest (ordered by rule, unit, ref), or with
    ``history`` every decision of those findings in register order; ``status`` keeps the
    findings whose latest decision has it."""
    everything = register.decisions()
    latest = {d.finding_id: d for d in everything}
    if status is not None:
        wanted = status if isinstance(status, Status) else Status.from_word(str(status))
        latest = {k: d for k, d in latest.items() if d.status is wanted}
    if history:
        return [d for d in everything if d.finding_id in latest]
    return sorted(latest.values(), key=lambda d: (d.rule_id, d.unit_code, d.ref))


def write_list(decisions: list[Decision], out: str | os.PathLike) -> Path:
    """Write ``decisions`` as UTF-8 CSV with BOM, every text cell formula-safe; atomically."""
    return write_csv(out, FIELDS, ([d.to_dict()[f] for f in FIELDS] for d in decisions))
