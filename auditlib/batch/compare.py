"""Comparing runs (CONTRACT §6): ``--baseline RUN_DIR``, ``resolved.csv`` and ``auditlib diff``.

Findings are matched by ``finding_id`` only, so the baseline may be last month's run or last
year's run on last year's database.  A run's findings are read from its ``findings.csv``;
an older ``findings.csv`` without ``finding_id``, ``exposure`` or ``status`` gets the id
recomputed, the exposure from ``amount`` and the status ``open``.

A baseline finding counts as gone only where the later run looked: in a (unit, inspection)
whose task the later run finished (``ok`` in its manifest).  A finding of a unit or
inspection the later run did not cover is neither resolved nor persisting; it is left out.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditlib.common.csvfile import write_csv as write_table
from auditlib.errors import ParameterError
from auditlib.i18n import register, t
from auditlib.review.statuses import Change, Outcome, Status
from auditlib.rules.identity import finding_ids

#: columns of ``resolved.csv``
RESOLVED_COLUMNS = ["finding_id", "rule_id", "unit_code", "ref", "baseline_status", "baseline_exposure", "outcome"]
#: columns of ``auditlib diff``'s CSV
DIFF_COLUMNS = ["finding_id", "rule_id", "unit_code", "ref", "change", "exposure_a", "exposure_b",
                "status_a", "status_b"]
#: the file of a run folder listing the baseline's findings that are gone
RESOLVED = "resolved.csv"

register({
    "compare.no_run": ("{path} 不是批次文件夹（缺少 findings.csv）",
                       "{path} is not a run folder (no findings.csv)"),
})


@dataclass(frozen=True)
class RunFindings:
    """A finished run's findings as :func:`read_run` reads them.

    ``findings`` has text columns ``finding_id, inspection, rule_id, unit_code, ref, exposure,
    status`` (one row per finding_id); ``covered`` the (unit_code, inspection) the run finished,
    or None when the folder has no manifest (then it covers everything its findings show).
    """

    path: Path
    run_id: str
    findings: pd.DataFrame
    covered: frozenset | None

    def covers(self, unit_code: str, inspection: str) -> bool:
        return self.covered is None or (unit_code, inspection) in self.covered


def read_run(run_dir, lang: str = "zh") -> RunFindings:
    """The findings of the run in ``run_dir`` (its ``findings.csv`` and ``manifest.json``).

    Raises
    ------
    ParameterError
        ``run_dir`` holds no ``findings.csv`` (exit 2).
    """
    from auditlib.outputs.findings_csv import read_findings_csv

    path = Path(run_dir)
    csv_path = path / "findings.csv"
    if not csv_path.is_file():
        raise ParameterError(t("compare.no_run", lang, path=path), file=str(path), key="baseline",
                             reason="not a run")
    f = read_findings_csv(csv_path)
    if "finding_id" not in f.columns or (f["finding_id"] == "").any():
        ids = finding_ids(f) if len(f) else pd.Series([], dtype=object)
        f["finding_id"] = ids if "finding_id" not in f.columns else f["finding_id"].where(f["finding_id"] != "", ids)
    exposure = f["exposure"] if "exposure" in f.columns else pd.Series("", index=f.index, dtype=object)
    f["exposure"] = exposure.where(exposure != "", f["amount"] if "amount" in f.columns else "")
    if "status" not in f.columns:
        f["status"] = Status.OPEN.value
    f["status"] = f["status"].where(f["status"] != "", Status.OPEN.value)
    cols = ["finding_id", "inspection", "rule_id", "unit_code", "ref", "exposure", "status"]
    f = f[cols].drop_duplicates("finding_id").reset_index(drop=True)
    covered, run_id = None, path.name
    manifest = path / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        run_id = str(data.get("run_id") or run_id)
        covered = frozenset((str(x["unit_code"]), str(x["inspection"])) for x in data.get("tasks", [])
                            if x.get("status") == "ok")
    return RunFindings(path=path, run_id=run_id, findings=f, covered=covered)


def changes(ids: pd.Series, baseline: RunFindings | None) -> pd.Series:
    """``change`` of each finding id: ``new`` or ``persisting`` against ``baseline``; empty without one."""
    if baseline is None:
        return pd.Series("", index=ids.index, dtype=object)
    known = set(baseline.findings["finding_id"])
    return pd.Series([Change.PERSISTING.value if i in known else Change.NEW.value for i in ids],
                     index=ids.index, dtype=object)


def gone(baseline: RunFindings, current_ids, covered) -> pd.DataFrame:
    """The baseline's findings absent from ``current_ids`` in the (unit, inspection) of ``covered``."""
    b = baseline.findings
    current = set(current_ids)
    keep = [(fid not in current) and ((u, i) in covered)
            for fid, u, i in zip(b["finding_id"], b["unit_code"], b["inspection"])]
    return b[keep].reset_index(drop=True)


def resolved(baseline: RunFindings, current_ids, covered) -> pd.DataFrame:
    """``resolved.csv``'s rows: the baseline's findings gone where this run looked.

    ``outcome`` is ``rectified`` (整改到位，数据复核) when the baseline had the finding confirmed,
    else ``gone``.
    """
    g = gone(baseline, current_ids, covered)
    out = pd.DataFrame({
        "finding_id": g["finding_id"], "rule_id": g["rule_id"], "unit_code": g["unit_code"], "ref": g["ref"],
        "baseline_status": g["status"], "baseline_exposure": g["exposure"],
        "outcome": [Outcome.RECTIFIED.value if s == Status.CONFIRMED.value else Outcome.GONE.value
                    for s in g["status"]]}, columns=RESOLVED_COLUMNS)
    return _sorted(out)


def change_counts(findings: pd.DataFrame, baseline: RunFindings, covered) -> dict[tuple[str, str], dict]:
    """Per (unit_code, inspection) of ``covered``: ``{new, persisting, resolved}`` counts.

    ``findings`` is this run's frame with ``finding_id`` and ``change`` columns.
    """
    counts = {key: {Change.NEW.value: 0, Change.PERSISTING.value: 0, Change.RESOLVED.value: 0} for key in covered}
    for u, i, c in zip(findings["unit_code"], findings["inspection"], findings["change"]):
        if (u, i) in counts and c:
            counts[(u, i)][c] += 1
    g = gone(baseline, findings["finding_id"], covered)
    for u, i in zip(g["unit_code"], g["inspection"]):
        counts[(u, i)][Change.RESOLVED.value] += 1
    return counts


def diff(run_a, run_b, lang: str = "zh") -> pd.DataFrame:
    """``auditlib diff RUN_A RUN_B``: every finding of either run with its change from A to B.

    ``new``: in B only; ``persisting``: in both; ``resolved``: in A only, where B looked (a
    finding of A in a unit or inspection B did not finish is left out).
    """
    a, b = read_run(run_a, lang), read_run(run_b, lang)
    fa = a.findings.set_index("finding_id", drop=False)
    fb = b.findings.set_index("finding_id", drop=False)
    rows = []
    for fid, r in fb.iterrows():
        if fid in fa.index:
            ra = fa.loc[fid]
            rows.append((fid, r["rule_id"], r["unit_code"], r["ref"], Change.PERSISTING.value,
                         ra["exposure"], r["exposure"], ra["status"], r["status"]))
        else:
            rows.append((fid, r["rule_id"], r["unit_code"], r["ref"], Change.NEW.value, "", r["exposure"],
                         "", r["status"]))
    for fid, r in fa.iterrows():
        if fid not in fb.index and b.covers(r["unit_code"], r["inspection"]):
            rows.append((fid, r["rule_id"], r["unit_code"], r["ref"], Change.RESOLVED.value, r["exposure"], "",
                         r["status"], ""))
    return _sorted(pd.DataFrame(rows, columns=DIFF_COLUMNS))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["rule_id", "unit_code", "ref", "finding_id"], kind="stable").reset_index(drop=True)


#: columns holding money: written as numbers (exact text with two places), never quoted as text
MONEY_COLUMNS = ("baseline_exposure", "exposure_a", "exposure_b")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, columns: list[str]) -> Path:
    """``frame``'s ``columns`` through the one CSV writer (:func:`auditlib.common.csvfile.write_csv`)."""
    return write_table(path, columns, frame[columns].itertuples(index=False), money=MONEY_COLUMNS)


def write_resolved(frame: pd.DataFrame, run_dir) -> Path:
    """``resolved.csv`` in ``run_dir``."""
    return write_csv(frame, Path(run_dir) / RESOLVED, RESOLVED_COLUMNS)


def write_diff(run_a, run_b, out, lang: str = "zh") -> pd.DataFrame:
    """Write ``auditlib diff``'s CSV to ``out``; returns its rows."""
    frame = diff(run_a, run_b, lang)
    write_csv(frame, out, DIFF_COLUMNS)
    return frame


__all__ = ["RunFindings", "read_run", "changes", "gone", "resolved", "change_counts", "diff", "write_resolved",
           "write_diff", "write_csv", "RESOLVED", "RESOLVED_COLUMNS", "DIFF_COLUMNS"]
