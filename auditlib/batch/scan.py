"""``auditlib scan``: every rule over the database, no notebooks, into ``findings.csv``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditlib import auditlog
from auditlib.batch.plan import select_inspections, select_units
from auditlib.rules.engine import inspect
from auditlib.outputs.findings_csv import write_findings_csv
from auditlib.rules.params import load_params
from auditlib.workspace import default_params_file


@dataclass(frozen=True)
class ScanResult:
    out: Path
    run_id: str
    counts: dict[str, int]

    def describe(self, lang: str = "zh") -> str:
        total = sum(self.counts.values())
        parts = ", ".join(f"{rule} {n}" for rule, n in sorted(self.counts.items()))
        if lang == "zh":
            return f"发现疑点 {total} 条（{parts or '无'}），已写入 {self.out}"
        return f"{total} findings ({parts or 'none'}) written to {self.out}"


def scan(db, params_file=None, units=None, inspections=None, out="findings.csv", run_id=None,
         lang=None) -> ScanResult:
    """Run the rules of ``inspections`` (all when None) for ``units`` (all when None).

    Units and inspections are checked as a batch run checks them (:mod:`auditlib.batch.plan`): an
    unknown one is a :class:`~auditlib.errors.ParameterError` and nothing is written.
    """
    params = load_params(params_file, default=default_params_file())
    lang = lang or params.lang
    names = select_inspections(inspections, lang)
    if units:
        units = list(select_units(db, units, lang))
    run_id = run_id or "scan-" + dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    frames = [inspect(db, name, params=params).findings for name in names]
    findings = pd.concat(frames, ignore_index=True)
    if units:  # rules run over all units at once; the same findings as a one-unit run, filtered
        findings = findings[findings["unit_code"].isin(units)]
    path = write_findings_csv(findings, out, run_id)
    counts = findings.groupby("rule_id").size().to_dict() if len(findings) else {}
    auditlog.append(db, "scan", [db] + ([params_file] if params_file else []),
                    {"status": "ok", "findings": int(len(findings)), "out": str(path)})
    return ScanResult(out=path, run_id=run_id, counts={k: int(v) for k, v in counts.items()})
