"""``auditlib scan``: every rule over the database, no notebooks, into ``findings.csv``.

The rules run in two lanes at once and each rule's findings are written as findings.csv's rows
while the next rules run (:mod:`auditlib.outputs.findings_scan`); the file is the one the engine's findings
frame gives (:func:`auditlib.outputs.findings_csv.write_findings_csv`), byte for byte.

With ``timings`` (``auditlib scan --timings FILE``) it also writes a JSON file of where the time
went: each rule's own seconds (``rules``, rule id → seconds, slowest first; its query and the
making of its rows, wall seconds in its lane, so the two lanes' seconds overlap), the steps the rules
share (``shared``: ``setup``, ``coverage``, once for all the inspections; ``write``: the writing of
``findings.csv`` still left when the last rule is done, as it is written while the rules run), and
``total`` (the whole scan).  Wall seconds, measured in the process.
"""
from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from auditlib import auditlog
from auditlib.batch.plan import select_inspections, select_units
from auditlib.rules.catalogue import INSPECTIONS
from auditlib.db import connect
from auditlib.outputs.findings_scan import finding_cells_by_rule
from auditlib.rules.engine import implemented_rules
from auditlib.outputs.findings_csv import write_findings_chunks
from auditlib.rules.params import load_params
from auditlib.workspace import default_params_file


@dataclass(frozen=True)
class ScanResult:
    out: Path
    run_id: str
    counts: dict[str, int]
    #: each rule's own wall seconds, rule id → seconds, slowest first
    timings: dict[str, float] = field(default_factory=dict)

    def describe(self, lang: str = "zh") -> str:
        total = sum(self.counts.values())
        parts = ", ".join(f"{rule} {n}" for rule, n in sorted(self.counts.items()))
        if lang == "zh":
            return f"发现疑点 {total} 条（{parts or '无'}），已写入 {self.out}"
        return f"{total} findings ({parts or 'none'}) written to {self.out}"


def scan(db, params_file=None, units=None, inspections=None, out="findings.csv", run_id=None,
         lang=None, timings=None) -> ScanResult:
    """Run the rules of ``inspections`` (all when None) for ``units`` (all when None).

    Units and inspections are checked as a batch run checks them (:mod:`auditlib.batch.plan`): an
    unknown one is a :class:`~auditlib.errors.ParameterError` and nothing is written.  ``timings``,
    a path: where to write the JSON of each rule's seconds (see the module's docstring).
    """
    started = time.perf_counter()
    params = load_params(params_file, default=default_params_file())
    lang = lang or params.lang
    names = select_inspections(inspections, lang)
    if units:
        units = list(select_units(db, units, lang))
    run_id = run_id or "scan-" + dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    rule_seconds: dict[str, float] = {}
    shared: dict[str, float] = {}
    counts: dict[str, int] = {}
    # one engine run for all the inspections: units, macros and coverage once, not once per inspection;
    # each rule's findings are written while the next rule runs (the rules run in findings.csv's order)
    rule_ids = None if set(names) == set(INSPECTIONS) else [r.id for name in names for r in implemented_rules(name)]
    con = connect(db)
    writer = _Writer(out, run_id)
    try:
        # rules run over all units at once; with ``units`` the same findings as a one-unit run, filtered
        for part in finding_cells_by_rule(con, params, rule_ids, units, shared):
            rule_seconds[part.rule_id] = part.seconds
            if part.count:
                counts[part.rule_id] = part.count
                writer.put(part.cells)
        written = time.perf_counter()
        path = writer.finish()
        shared["write"] = time.perf_counter() - written  # what writing took beyond the rules' time
    except BaseException:
        writer.abort()
        raise
    finally:
        con.close()
    auditlog.append(db, "scan", [db] + ([params_file] if params_file else []),
                    {"status": "ok", "findings": int(sum(counts.values())), "out": str(path)})
    ranked = dict(sorted(rule_seconds.items(), key=lambda kv: (-kv[1], kv[0])))
    if timings:
        _write_timings(timings, ranked, shared, time.perf_counter() - started, run_id)
    return ScanResult(out=path, run_id=run_id, counts=dict(sorted(counts.items())), timings=ranked)


class _Writer:
    """findings.csv written in a thread of its own from the rules' cells as they come
    (:func:`auditlib.outputs.findings_csv.write_findings_chunks`): the database runs the next rule's
    query, which does not hold the interpreter, while the rows of the last one are joined and written."""

    _END, _ABORT = object(), object()

    def __init__(self, out, run_id: str):
        self._chunks: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._path = None
        self._thread = threading.Thread(target=self._run, args=(out, run_id), name="findings-csv", daemon=True)
        self._thread.start()

    def _run(self, out, run_id: str) -> None:
        try:
            self._path = write_findings_chunks(out, run_id, self._take())
        except BaseException as exc:  # handed to the scan by finish()
            self._error = exc

    def _take(self):
        while (item := self._chunks.get()) is not self._END:
            if item is self._ABORT:
                raise _Aborted()
            yield item

    def put(self, cells: dict) -> None:
        if self._error is not None:  # the file cannot be written: stop the scan now
            self.finish()
        self._chunks.put(cells)

    def finish(self) -> Path:
        self._chunks.put(self._END)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._path

    def abort(self) -> None:
        """Leave no file (the scan failed)."""
        self._chunks.put(self._ABORT)
        self._thread.join()


class _Aborted(Exception):
    """The scan failed before its findings were all written."""


def _write_timings(path, rules: dict[str, float], shared: dict[str, float], total: float, run_id: str) -> Path:
    """The JSON of :func:`scan`'s ``timings``; written then renamed, never half-visible."""
    path = Path(path)
    doc = {"run_id": run_id, "total": round(total, 3),
           "rules": {rule: round(seconds, 3) for rule, seconds in rules.items()},
           "shared": {step: round(seconds, 3) for step, seconds in shared.items()}}
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    part.replace(path)
    return path
