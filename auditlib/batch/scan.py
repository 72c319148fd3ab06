"""``auditlib scan``: every rule over the database, no notebooks, into ``findings.csv``.

With ``timings`` (``auditlib scan --timings FILE``) it also writes a JSON file of where the time
went: each rule's own seconds (``rules``, rule id → seconds, slowest first; its query and the
building of its findings, :attr:`auditlib.rules.engine.Inspection.timings`), the steps the rules
share (``shared``: ``setup``, ``coverage``, once for all the inspections; ``write`` the CSV), and
``total`` (the whole scan).  Wall seconds, measured in the process.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from auditlib import auditlog
from auditlib.batch.plan import select_inspections, select_units
from auditlib.rules.catalogue import INSPECTIONS
from auditlib.rules.engine import implemented_rules, inspect
from auditlib.outputs.findings_csv import write_findings_csv
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
    # one engine run for all the inspections: units, macros and coverage once, not once per inspection
    # (the rows are ordered when written, so the same findings.csv as one run per inspection)
    rule_ids = None if set(names) == set(INSPECTIONS) else [r.id for name in names for r in implemented_rules(name)]
    result = inspect(db, None, params=params, rule_ids=rule_ids, keep_evidence=False)  # findings only: less memory
    findings = result.findings
    rule_seconds.update(result.timings)
    shared.update(result.shared_timings)
    if units:  # rules run over all units at once; the same findings as a one-unit run, filtered
        findings = findings[findings["unit_code"].isin(units)]
    written = time.perf_counter()
    path = write_findings_csv(findings, out, run_id)
    shared["write"] = time.perf_counter() - written
    counts = findings.groupby("rule_id").size().to_dict() if len(findings) else {}
    auditlog.append(db, "scan", [db] + ([params_file] if params_file else []),
                    {"status": "ok", "findings": int(len(findings)), "out": str(path)})
    ranked = dict(sorted(rule_seconds.items(), key=lambda kv: (-kv[1], kv[0])))
    if timings:
        _write_timings(timings, ranked, shared, time.perf_counter() - started, run_id)
    return ScanResult(out=path, run_id=run_id, counts={k: int(v) for k, v in counts.items()}, timings=ranked)


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
