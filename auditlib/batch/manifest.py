"""A run's ``manifest.json`` (CONTRACT §5): what the run is, and what became of each task.

It is rewritten whole (write then rename) after every task, so an interrupted run can be
finished with ``--resume``, which redoes only the tasks that are not ``ok``.
"""
from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import dataclass
from pathlib import Path

from auditlib import __version__
from auditlib.batch.options import RunOptions, RunStatus, TaskStatus
from auditlib.common.files import write_json

NAME = "manifest.json"


def now() -> str:
    """The current local time, ISO 8601 to the second."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def software() -> dict:
    """Versions of auditlib, Python and the libraries a run depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"auditlib": __version__, "python": platform.python_version()}
    for name in ("duckdb", "pandas", "papermill", "nbconvert", "xlsxwriter", "matplotlib", "distributed",
                 "chinese-calendar"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def task_record(unit_code: str, unit_name: str, inspection: str, folder: str) -> dict:
    """A task's manifest record before it has run."""
    return {"unit_code": unit_code, "unit_name": unit_name, "inspection": inspection, "folder": folder,
            "status": TaskStatus.PENDING.value, "seconds": None, "error": None, "findings": None, "amount": None,
            "notebook": f"{folder}/{inspection}.ipynb", "html": f"{folder}/{inspection}.html",
            "xlsx": f"{folder}/{inspection}.xlsx"}


@dataclass
class Manifest:
    """The manifest of the run in ``run_dir``; ``data`` is the JSON document."""

    path: Path
    data: dict

    @classmethod
    def new(cls, run_dir: Path, run_id: str, options: RunOptions, params, inputs: list[dict],
            tasks: list[dict], register: dict | None = None, baseline: dict | None = None,
            notes: dict | None = None) -> "Manifest":
        """The manifest of a fresh run (``options`` resolved: ``lang`` set).

        ``register`` is the fingerprint ``{path, sha256, decisions}`` of the findings register
        the run read (None without one); ``baseline`` ``{path, run_id}`` of the run compared with;
        ``notes`` the rules' run-level remarks, rule id → (zh, en) (SF12: years outside its holiday
        calendar), stored as ``rule_notes`` ``{rule id: {"zh": …, "en": …}}``.
        """
        data = {
            "run_id": str(run_id), "started": now(), "finished": None, "status": RunStatus.RUNNING.value,
            "as_of": params.as_of.isoformat(), "fiscal_year": params.fiscal_year, "lang": options.lang,
            "db": str(options.db), "params_file": options.params_file, "notebooks": str(options.notebooks),
            "workspace": options.workspace, "default_params": options.default_params,
            "params": params.to_dict(), "inputs": inputs, "software": software(),
            "register": register, "baseline": baseline,
            "rule_notes": {r: {"zh": zh, "en": en} for r, (zh, en) in (notes or {}).items()},
            "tasks": tasks, "overview": None,
        }
        return cls(Path(run_dir) / NAME, data)

    @classmethod
    def load(cls, run_dir: Path) -> "Manifest":
        path = Path(run_dir) / NAME
        return cls(path, json.loads(path.read_text(encoding="utf-8")))

    @property
    def tasks(self) -> list[dict]:
        return self.data["tasks"]

    def todo(self) -> list[dict]:
        """The task records not ``ok``: what this run (or resume) executes."""
        return [x for x in self.tasks if x["status"] != TaskStatus.OK]

    def ok_keys(self) -> set[tuple[str, str]]:
        """(unit_code, inspection) of the tasks that are ok."""
        return {(x["unit_code"], x["inspection"]) for x in self.tasks if x["status"] == TaskStatus.OK}

    def resumed(self) -> None:
        """Mark the run running again (``--resume``)."""
        self.data.update(status=RunStatus.RUNNING.value, finished=None,
                         resumed=[*self.data.get("resumed", []), now()])

    def record(self, result) -> None:
        """Store a task's :class:`~auditlib.batch.tasks.TaskResult` and save."""
        entry = next(x for x in self.tasks
                     if x["unit_code"] == result.unit_code and x["inspection"] == result.inspection)
        entry.update(result.manifest_entry())
        self.save()

    def set_verification(self, statuses: dict, changes: dict | None) -> None:
        """Store per task its ``statuses`` ``{status: count}`` and, with a baseline, its
        ``changes`` ``{new, persisting, resolved}``; both keyed by (unit_code, inspection)."""
        for x in self.tasks:
            key = (x["unit_code"], x["inspection"])
            x["statuses"] = statuses.get(key)
            if changes is not None:
                x["changes"] = changes.get(key)
        self.save()

    def set_coverage(self, untested: dict, warnings: list) -> None:
        """Store per task the rules it could not test (CONTRACT §3 未检查), ``untested``
        ``{(unit_code, inspection): [{"rule_id", "reason_zh", "reason_en"}, …]}``, and the run's
        coverage warnings ``[{"zh", "en"}, …]`` (:func:`auditlib.rules.coverage.data_warnings`)."""
        for x in self.tasks:
            x["untested"] = untested.get((x["unit_code"], x["inspection"]), [])
        self.data["coverage_warnings"] = [{"zh": zh, "en": en} for zh, en in warnings]
        self.save()

    def finish(self, overview: dict) -> None:
        """Store the overview's record, mark the run finished and save."""
        self.data["overview"] = overview
        self.data.update(status=RunStatus.FINISHED.value, finished=now())
        self.save()

    def save(self) -> None:
        write_json(self.path, self.data)
