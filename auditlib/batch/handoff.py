"""The evidence handoff between the batch and a notebook.

A run computes every unit's findings in one pass per inspection, then leaves each task its
slice (findings and evidence frames) in ``<run>/.work/<unit folder>/<inspection>.pkl``.  The
notebook (:meth:`auditlib.views.report.Report.open`, parameter ``evidence``) and the task's
workbook read the same slice, so the report, the workbook and ``findings.csv`` show the same
rows.  The folder is run-internal and removed when the run ends.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd

from auditlib.common.files import atomic_write

#: the run-internal folder holding the handoff files
WORK = ".work"
#: under it, the run's files made while its tasks run, on the assumption that every task ends ok
#: (findings.csv, resolved.csv, the overview, the county deliverables); moved into the run folder
#: when the tasks have ended so, else dropped and made again: an interrupted run never shows them
STAGED = "final"


def staged_dir(run_dir) -> Path:
    """Where a running batch makes the run folder's files before they are final."""
    return Path(run_dir) / WORK / STAGED


def run_file(run_dir, name: str) -> Path:
    """The run's file ``name`` as its readers see it: the one being made while the batch runs
    (:func:`staged_dir`), else the run folder's own."""
    staged = staged_dir(run_dir) / name
    return staged if staged.is_file() else Path(run_dir) / name


def task_evidence_path(work_dir: Path, folder: str, inspection: str) -> Path:
    """Where ``auditlib run`` leaves a task's precomputed findings and evidence."""
    return Path(work_dir) / folder / f"{inspection}.pkl"


def save_task_evidence(path: Path, findings: pd.DataFrame, evidence: dict[str, pd.DataFrame],
                       resolved: pd.DataFrame | None = None, untested: pd.DataFrame | None = None) -> None:
    """Write a task's findings and evidence (run-internal, removed when the run ends).

    ``resolved``: with a baseline, the baseline's findings of this task that are gone (the task's
    rows of ``resolved.csv``, :data:`auditlib.batch.compare.RESOLVED_COLUMNS`; empty when none);
    None without a baseline.  The report shows their count and outcome.
    ``untested``: the task's rows of the run's rules not tested (:func:`auditlib.rules.coverage.untested`,
    as the engine found them), so neither the notebook nor the workbook computes them again; None
    when not known (they are then computed from the database).
    """
    with atomic_write(path, "wb") as fh:
        pickle.dump({"findings": findings, "evidence": evidence, "resolved": resolved, "untested": untested}, fh,
                    protocol=pickle.HIGHEST_PROTOCOL)


def load_task(path) -> dict:
    """Everything :func:`save_task_evidence` left, in one read: ``findings``, ``evidence``,
    ``resolved`` and ``untested`` (None when absent)."""
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    return {"findings": data["findings"], "evidence": data["evidence"], "resolved": data.get("resolved"),
            "untested": data.get("untested")}


def load_task_evidence(path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """A task's findings and evidence as :func:`save_task_evidence` left them."""
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    return data["findings"], data["evidence"]


def load_task_resolved(path) -> pd.DataFrame | None:
    """The task's resolved baseline findings as :func:`save_task_evidence` left them (None without
    a baseline)."""
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    return data.get("resolved")


def unit_slices(findings: pd.DataFrame, evidence: dict[str, pd.DataFrame], units) -> dict:
    """:func:`unit_slice` of each of ``units`` (``{unit: (findings, evidence)}``), every frame split
    in one pass rather than filtered once per unit (a run of many units stays linear)."""
    def split(frame: pd.DataFrame) -> dict:
        rows = frame.groupby("unit_code", sort=False).indices if len(frame) else {}
        return {u: frame.iloc[rows[u]].reset_index(drop=True) if u in rows else frame.iloc[:0].reset_index(drop=True)
                for u in units}

    found = split(findings)
    ev = {rid: split(e) for rid, e in evidence.items()}
    return {u: (found[u], {rid: parts[u] for rid, parts in ev.items()}) for u in units}


def unit_slice(findings: pd.DataFrame, evidence: dict[str, pd.DataFrame], unit: str):
    """One unit's rows of an all-units inspection."""
    f = findings[findings["unit_code"] == unit].reset_index(drop=True)
    ev = {rid: e[e["unit_code"] == unit].reset_index(drop=True) for rid, e in evidence.items()}
    return f, ev


__all__ = ["WORK", "task_evidence_path", "save_task_evidence", "load_task", "load_task_evidence", "load_task_resolved",
           "unit_slice", "unit_slices"]
