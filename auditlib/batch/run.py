"""``auditlib run``: one notebook per (unit, inspection), executed by papermill (CONTRACT §4–§5).

The run is planned and validated first (:mod:`.plan`): anything wrong is an
:class:`~auditlib.errors.AuditlibError` and nothing starts (exit 2).  Then every unit's
findings are computed in one pass per inspection and handed to its tasks (:mod:`.handoff`),
the tasks run on an executor (:mod:`.executors`: local processes or Dask), each result is
recorded in the manifest (:mod:`.manifest`) as it comes, findings.csv is written from the
tasks that are ok, and the overview runs through the same task code (:mod:`.tasks`), on a
worker's warm kernel when one is left.  An interrupted run is finished with ``--resume``.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditlib import auditlog
from auditlib.batch import compare
from auditlib.batch.executors import executor_for
from auditlib.batch.kernels import skip_slow_imports
from auditlib.batch.handoff import WORK, save_task_evidence, task_evidence_path, unit_slices
from auditlib.batch.manifest import Manifest
from auditlib.batch.options import KERNEL, RunOptions, TaskStatus, apply_environment
from auditlib.batch.plan import NOTEBOOK_PARAMETERS, OVERVIEW_PARAMETERS, Plan, make_plan, open_run, unit_folder
from auditlib.batch.tasks import TaskResult, TaskSpec, execute_task
from auditlib.db import connect
from auditlib.i18n import register, t
from auditlib.review.apply import apply_register
from auditlib.review.statuses import Status
from auditlib.rules.coverage import UNTESTED_COLUMNS, data_warnings
from auditlib.rules.engine import FINDING_COLUMNS, implemented_rules, inspect

logger = logging.getLogger("auditlib")

register({
    "run.progress": ("审计任务", "tasks"),
    "run.done": ("批次 {run_id}：任务 {ok}/{total} 成功，{failed} 失败；发现疑点 {findings} 条。报告索引：{index}",
                 "run {run_id}: {ok}/{total} tasks ok, {failed} failed; {findings} leads. Index: {index}"),
    "run.nothing": ("批次 {run_id} 的任务均已完成，无需续跑", "every task of run {run_id} is already ok"),
})


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    tasks: list[dict]
    findings: int
    index: Path
    overview_ok: bool = True
    county_ok: bool = True  # county-findings.xlsx and county-report.docx written (CONTRACT §4)

    @property
    def failed(self) -> list[dict]:
        return [x for x in self.tasks if x["status"] != TaskStatus.OK]

    @property
    def exit_code(self) -> int:
        return 0 if not self.failed and self.overview_ok and self.county_ok else 1

    def describe(self, lang: str = "zh") -> str:
        ok = sum(1 for x in self.tasks if x["status"] == TaskStatus.OK)
        return t("run.done", lang, run_id=self.run_id, ok=ok, total=len(self.tasks),
                 failed=len(self.tasks) - ok, findings=self.findings, index=self.index)


def run(db, params_file=None, units=None, inspections=None, out="outputs", run_id=None, resume=False,
        workers=None, scheduler=None, notebooks=None, kernel=KERNEL, cell_timeout=600, progress=True,
        lang=None, reuse_kernels=True, register=None, baseline=None) -> RunResult:
    """Run the inspection notebooks for ``units`` × ``inspections``.

    Parameters
    ----------
    db : path
        The audit database.
    params_file : path, optional
        Parameters YAML on top of the workspace's ``params/default.yaml``.
    units, inspections : list of str, optional
        What to run; all when None.
    out : path
        Folder holding the runs; the run writes ``out/<run_id>/``.
    run_id : str, optional
        Defaults to a timestamp.  An existing run is never overwritten.
    resume : bool
        Finish the run ``run_id``, redoing only tasks that are not ``ok``.
    workers : int, optional
        Local worker processes (default: the CPU count).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:port``); local processes when None.
    notebooks : path, optional
        Folder of the notebook templates (``<inspection>.ipynb``, ``overview.ipynb``); default
        the workspace's (or the package's) ``notebooks/``.
    kernel : str
        Jupyter kernel name the notebooks run on.
    cell_timeout : int
        Seconds one cell may run before its task fails.
    reuse_kernels : bool
        Keep one warm kernel per worker and reset it between notebooks (fast); False starts a
        fresh kernel for every notebook.
    register : path, optional
        The findings register (疑点登记簿) giving each finding its status; default
        ``register.jsonl`` beside the database when it exists (CONTRACT §6).
    baseline : path, optional
        An earlier run folder: each finding is marked ``new`` or ``persisting`` against it, and
        ``resolved.csv`` lists its findings that are gone.

    Returns
    -------
    RunResult
        ``exit_code`` is 0 when every task is ok and 1 otherwise.

    Raises
    ------
    AuditlibError
        Bad parameters, database, units, notebooks or run folder; nothing has run.
    """
    options = RunOptions.resolve(db, params_file=params_file, units=units, inspections=inspections, out=out,
                                 run_id=run_id, resume=resume, workers=workers, scheduler=scheduler,
                                 notebooks=notebooks, kernel=kernel, cell_timeout=cell_timeout,
                                 progress=progress, lang=lang, reuse_kernels=reuse_kernels,
                                 register=register, baseline=baseline)
    return run_with(options)


def run_with(options: RunOptions) -> RunResult:
    """:func:`run` with its options resolved."""
    skip_slow_imports()
    with contextlib.ExitStack() as stack:
        # A read-only connection held for the whole run: DuckDB's shared lock keeps a writer (ingest)
        # out until the run ends, so every task reads the same data; a running ingest makes this fail.
        holder = connect(options.db)
        stack.callback(holder.close)
        executor = executor_for(options)
        if hasattr(executor, "warm"):  # the workers start, and start their kernels, while the run plans
            stack.callback(executor.close, True)  # stopped at once if the run stops before its tasks
            if not options.resume:  # (a resumed run's tasks are known once its manifest is read)
                executor.warm(options, _most_tasks(options, holder))
        plan, manifest = open_run(make_plan(options), stack)
        return _execute(plan, manifest, executor)


def _most_tasks(options: RunOptions, con) -> int | None:
    """How many tasks the run can have at most: its units (named, else the database's) × inspections;
    None when the database cannot say (planning then reports what is wrong with it)."""
    from auditlib.rules.catalogue import INSPECTIONS
    from auditlib.rules.engine import unit_names

    try:
        units = len(set(options.units)) if options.units else len(unit_names(con))
    except Exception:  # noqa: BLE001 - not a database of ours: make_plan says so
        return None
    return units * len(set(options.inspections or INSPECTIONS))


def _execute(plan: Plan, manifest: Manifest, executor) -> RunResult:
    options, run_dir = plan.options, plan.run_dir
    work = run_dir / WORK
    specs = [TaskSpec.inspection(options, plan.run_id, run_dir, x,
                                 task_evidence_path(work, x["folder"], x["inspection"]))
             for x in manifest.todo()]
    if not specs and hasattr(executor, "close"):
        executor.close(True)
    elif hasattr(executor, "warm"):  # a resumed run's workers (a fresh run's are already starting)
        executor.warm(options, len(specs))
    try:
        all_findings = _hand_off(plan, work, manifest)
        return _run_tasks(plan, manifest, specs, executor, all_findings)
    finally:
        if hasattr(executor, "close"):
            executor.close()


def _run_tasks(plan: Plan, manifest: Manifest, specs: list[TaskSpec], executor, all_findings) -> RunResult:
    options, run_dir = plan.options, plan.run_dir
    work = run_dir / WORK
    done: list[pd.DataFrame] = []
    county: list[dict] = []

    def write_county() -> None:
        """The county deliverables (once), while a worker runs the overview when it does."""
        if not county:
            county.append(_write_county(plan, manifest))

    def finish_tasks() -> TaskSpec:
        """Every task is done: write findings.csv (tasks that are ok), then hand on the overview."""
        if not done:
            done.append(_write_findings(run_dir, plan.run_id, all_findings, manifest.ok_keys(), plan.baseline))
        return TaskSpec.overview(options, plan.run_id, run_dir, reuse_kernel=True)

    overview = None
    if specs:
        from tqdm import tqdm

        # the county deliverables' modules (python-docx, matplotlib) imported while the tasks run,
        # not after them: this process mostly waits meanwhile
        threading.Thread(target=_import_county, name="auditlib-preload", daemon=True).start()

        with tqdm(total=len(specs), desc=t("run.progress", plan.lang), unit="nb", disable=not options.progress,
                  file=sys.stderr) as bar:
            def on_result(result: TaskResult) -> None:
                manifest.record(result)
                bar.update()

            # the county deliverables are written while a worker runs the overview (local processes)
            overview = executor.run(specs, on_result, then=finish_tasks if options.reuse_kernels else None,
                                    meanwhile=write_county)
    else:
        logger.info(t("run.nothing", plan.lang, run_id=plan.run_id))
    finish_tasks()
    findings = done[0]
    if overview is None:  # with fresh kernels, or no worker left: here, on a fresh kernel
        spec = TaskSpec.overview(options, plan.run_id, run_dir, reuse_kernel=False)
        if county:
            overview = _in_process(spec)
        else:  # the county deliverables meanwhile, in this thread: the overview mostly waits on its kernel
            box: list[TaskResult] = []
            thread = threading.Thread(target=lambda: box.append(_in_process(spec)), name="auditlib-overview")
            thread.start()
            try:
                write_county()
            finally:
                thread.join()
            overview = box[0] if box else TaskResult("", "", TaskStatus.FAILED, error="overview", kind=spec.kind)

    manifest.finish(overview.overview_entry())
    from auditlib.outputs.index_page import write_index

    write_county()  # before the index, which links them
    county = county[0]
    index = write_index(run_dir, manifest.data, plan.lang)
    shutil.rmtree(work, ignore_errors=True)
    all_ok = all(x["status"] == TaskStatus.OK for x in manifest.tasks)
    auditlog.append(options.db, "run", [options.db] + ([options.params_file] if options.params_file else []),
                    {"status": "ok" if all_ok else "failed", "run_id": plan.run_id, "tasks": len(manifest.tasks),
                     "findings": int(len(findings)), "out": str(run_dir)},
                    digests={x["file"]: x["sha256"] for x in plan.inputs})
    return RunResult(run_id=plan.run_id, run_dir=run_dir, tasks=manifest.tasks, findings=int(len(findings)),
                     index=index, overview_ok=overview.status == TaskStatus.OK, county_ok=not county["errors"])


def _import_county() -> None:
    from auditlib.outputs import county, county_charts, county_findings, county_report  # noqa: F401


def _write_county(plan: Plan, manifest: Manifest) -> dict:
    """The county deliverables, from findings.csv and the manifest once both are final; a failure
    is logged and recorded in the manifest (``county.errors``) and makes the exit code 1, and
    loses no other output."""
    from auditlib.outputs.county import write_county

    county = write_county(plan.run_dir, params=plan.params, decisions=plan.decisions or {}, lang=plan.lang)
    manifest.data["county"] = county
    manifest.save()
    return county


def _hand_off(plan: Plan, work: Path, manifest: Manifest) -> list[pd.DataFrame]:
    """Every unit's findings in one pass per inspection, with their statuses (the register) and
    changes (the baseline); each task's slice saved for it, and its counts put in the manifest."""
    all_findings, untested = [], {}
    for name in plan.inspections:
        ins = inspect(plan.options.db, name, params=plan.params)
        for u, rule_id, zh, en in ins.untested[UNTESTED_COLUMNS].itertuples(index=False):
            untested.setdefault((str(u), name), []).append({"rule_id": rule_id, "reason_zh": zh, "reason_en": en})
        found = verified(ins.findings, plan.decisions or {}, plan.baseline)
        gone = (compare.resolved(plan.baseline, found["finding_id"], {(u, name) for u in plan.units})
                if plan.baseline is not None else None)
        gaps = ins.untested[UNTESTED_COLUMNS]
        gaps = unit_slices(gaps.assign(unit_code=gaps["unit_code"].astype(str)), {}, list(plan.units))
        slices = unit_slices(found, ins.evidence, list(plan.units))
        for u in plan.units:
            f, ev = slices[u]
            mine = None if gone is None else gone[gone["unit_code"] == u].reset_index(drop=True)
            save_task_evidence(task_evidence_path(work, unit_folder(u), name), f, ev, mine, untested=gaps[u][0])
            all_findings.append(f)
    found = pd.concat(all_findings, ignore_index=True) if all_findings else verified(
        pd.DataFrame(columns=FINDING_COLUMNS), {}, plan.baseline)
    keys = [(x["unit_code"], x["inspection"]) for x in manifest.tasks]
    statuses = {k: {s.value: 0 for s in Status} for k in keys}
    for u, i, s in zip(found["unit_code"], found["inspection"], found["status"]):
        if (u, i) in statuses:
            statuses[(u, i)][s] += 1
    changes = compare.change_counts(found, plan.baseline, set(keys)) if plan.baseline is not None else None
    manifest.set_verification(statuses, changes)
    con = connect(plan.options.db)
    try:
        warnings = data_warnings(con, plan.params.fiscal_year, plan.params.as_of,
                                 [r for n in plan.inspections for r in implemented_rules(n)])
    finally:
        con.close()
    manifest.set_coverage(untested, warnings)
    return all_findings


def verified(findings: pd.DataFrame, decisions: dict, baseline) -> pd.DataFrame:
    """``findings`` with the status columns of their latest decisions and their ``change``
    against ``baseline`` (empty without one)."""
    out = apply_register(findings, decisions)
    out["change"] = compare.changes(out["finding_id"], baseline)
    if baseline is not None:  # what the baseline said of a persisting finding (上次已确认、本次仍存在)
        before = dict(zip(baseline.findings["finding_id"], baseline.findings["status"]))
        out["baseline_status"] = [before.get(i, "") for i in out["finding_id"]]
    return out


def _write_findings(run_dir: Path, run_id: str, all_findings: list[pd.DataFrame], ok_keys,
                    baseline=None) -> pd.DataFrame:
    """``findings.csv`` of the tasks that are ok (and, with a baseline, ``resolved.csv`` of the
    baseline's findings gone in those tasks); returns its rows."""
    from auditlib.outputs.findings_csv import write_findings_csv

    found = pd.concat(all_findings, ignore_index=True) if all_findings else pd.DataFrame(columns=FINDING_COLUMNS)
    keep = [(u, i) in ok_keys for u, i in zip(found["unit_code"], found["inspection"])]
    found = found[keep] if len(found) else found
    write_findings_csv(found, run_dir / "findings.csv", run_id)
    if baseline is not None:
        compare.write_resolved(compare.resolved(baseline, found["finding_id"], set(ok_keys)), run_dir)
    return found


def _in_process(spec: TaskSpec) -> TaskResult:
    """Run ``spec`` in this process, its environment restored afterwards."""
    before = apply_environment(spec.options.environment())
    try:
        return execute_task(spec)
    finally:
        apply_environment(before)


def read_run_findings(run_dir) -> pd.DataFrame:
    """A run's ``findings.csv`` as text columns, the spreadsheet quotes taken off again."""
    from auditlib.outputs.findings_csv import read_findings_csv

    return read_findings_csv(Path(run_dir) / "findings.csv")


__all__ = ["run", "run_with", "read_run_findings", "unit_folder", "execute_task", "TaskSpec", "TaskResult",
           "RunResult", "RunOptions", "NOTEBOOK_PARAMETERS", "OVERVIEW_PARAMETERS"]
