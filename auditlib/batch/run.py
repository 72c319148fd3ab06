"""``auditlib run``: one notebook per (unit, inspection), executed by papermill (CONTRACT §4–§5).

The run is planned and validated first (:mod:`.plan`): anything wrong is an
:class:`~auditlib.errors.AuditlibError` and nothing starts (exit 2).  Then every unit's
findings are computed in one pass per inspection and handed to its tasks (:mod:`.handoff`),
the tasks run on an executor (:mod:`.executors`: local processes or Dask), each result is
recorded in the manifest (:mod:`.manifest`) as it comes.  findings.csv, the overview (through
the same task code, :mod:`.tasks`, first in the workers' line) and the county deliverables are
made alongside the tasks, as they read when every task ends ok, and made again at the end from
the tasks that are ok when one is not.  An interrupted run is finished with ``--resume``.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditlib.batch.executors import executor_for
from auditlib.batch.kernels import skip_slow_imports
from auditlib.batch.manifest import Manifest
from auditlib.batch.options import KERNEL, RunOptions, TaskStatus, apply_environment
from auditlib.i18n import register, t

if TYPE_CHECKING:
    import pandas as pd

    from auditlib.batch.plan import Plan
    from auditlib.batch.tasks import TaskResult, TaskSpec

# pandas, DuckDB, the rules and papermill are imported once the run's workers are starting (they
# start their kernels meanwhile), not when this module is: see :func:`run_with`.


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
        executor = executor_for(options)
        if hasattr(executor, "warm"):  # the workers start, and start their kernels, while the run plans
            stack.callback(executor.close, True)  # stopped at once if the run stops before its tasks
            if not options.resume:  # (a resumed run's tasks are known once its manifest is read)
                executor.warm(options, _most_tasks(options))
        from auditlib.batch.plan import make_plan, open_run
        from auditlib.db import connect

        # A read-only connection held for the whole run: DuckDB's shared lock keeps a writer (ingest)
        # out until the run ends, so every task reads the same data; a running ingest makes this fail.
        holder = connect(options.db)
        stack.callback(holder.close)
        plan, manifest = open_run(make_plan(options), stack)
        if plan.decisions:  # a register's decisions live as long as the run: kept out of every later
            import gc       # garbage collection (100k of them made the run's collections 0.5 s slower)

            gc.freeze()
        return _execute(plan, manifest, executor)


def _most_tasks(options: RunOptions) -> int | None:
    """How many tasks the run can have at most when its units and inspections are named: their
    product and the overview; None when not named (the database is not read for it)."""
    if not options.units or not options.inspections:
        return None
    return len(set(options.units)) * len(set(options.inspections)) + 1


def _execute(plan: Plan, manifest: Manifest, executor) -> RunResult:
    from auditlib.batch.handoff import WORK, task_evidence_path
    from auditlib.batch.tasks import TaskSpec

    options, run_dir = plan.options, plan.run_dir
    work = run_dir / WORK
    specs = [TaskSpec.inspection(options, plan.run_id, run_dir, x,
                                 task_evidence_path(work, x["folder"], x["inspection"]))
             for x in manifest.todo()]
    if not specs and hasattr(executor, "close"):
        executor.close(True)
    elif hasattr(executor, "warm"):  # a resumed run's workers (a fresh run's are already starting)
        executor.warm(options, len(specs) + 1)  # and the overview
    try:
        all_findings = _hand_off(plan, work, manifest)
        return _run_tasks(plan, manifest, specs, executor, all_findings)
    finally:
        if hasattr(executor, "close"):
            executor.close()


def _run_tasks(plan: Plan, manifest: Manifest, specs: list[TaskSpec], executor, all_findings) -> RunResult:
    from auditlib import auditlog
    from auditlib.batch.handoff import WORK, staged_dir
    from auditlib.batch.tasks import TaskKind, TaskResult, TaskSpec

    options, run_dir = plan.options, plan.run_dir
    work = run_dir / WORK
    # Every task is assumed to end ok (the usual end): findings.csv is written now, and the overview
    # (on a worker, first in line: it is the longest task) and the county deliverables (on a worker's
    # kernel or in a thread of this process) are made alongside the tasks, not after them, all in the
    # staging folder (handoff.staged_dir): moved into the run folder when every task has ended ok,
    # else dropped and made again from the tasks that are ok.  A run killed midway shows none of them.
    assumed = manifest.ok_keys() | {(s.unit_code, s.name) for s in specs}
    staged = staged_dir(run_dir)
    findings = overview = county = None
    if specs:
        from tqdm import tqdm

        shutil.rmtree(staged, ignore_errors=True)  # a killed run's
        staged.mkdir(parents=True)
        findings = _write_findings(staged, plan.run_id, all_findings, assumed, plan.baseline)
        final = _assumed_manifest(manifest, assumed)
        if plan.decisions:  # what the overview and the county deliverables read of the register
            from auditlib.outputs.verification import save_run_decisions

            save_run_decisions(staged, plan.decisions, all_findings)
        # the county deliverables on a worker's warm kernel (matplotlib and the chart font loaded
        # there already), else in a thread here
        job = _county_job(plan, final, staged) if options.reuse_kernels else None
        early_county = _Background(_write_county_files, plan, final, staged) if job is None else None
        overview_spec = TaskSpec.overview(options, plan.run_id, run_dir, reuse_kernel=options.reuse_kernels,
                                          folder=str(staged.relative_to(run_dir)))
        box: list[TaskResult] = []
        county_box: list[dict] = []
        with tqdm(total=len(specs), desc=t("run.progress", plan.lang), unit="nb", disable=not options.progress,
                  file=sys.stderr) as bar:
            def on_result(result) -> None:
                if isinstance(result, dict):  # the county job's outcome
                    county_box.append(result)
                elif result.kind is TaskKind.OVERVIEW:
                    box.append(result)
                else:
                    manifest.record(result)
                    bar.update()

            executor.run([overview_spec, *([job] if job else []), *longest_first(specs, all_findings)], on_result)
        county = early_county.result() if early_county is not None else _county_record(county_box)
        overview = box[0] if box else None
    else:
        logger.info(t("run.nothing", plan.lang, run_id=plan.run_id))
    ok_keys = manifest.ok_keys()
    if ok_keys != assumed or not specs:  # not what was assumed (or nothing ran): made again from what is ok
        shutil.rmtree(staged, ignore_errors=True)
        findings = _write_findings(run_dir, plan.run_id, all_findings, ok_keys, plan.baseline)
        overview = county = None
    else:
        overview, county = _publish(staged, run_dir, overview, county)
    if overview is not None and _worker_died(overview, plan.lang):
        overview = None  # its worker died under it: run here instead
    if overview is None or county is None:
        overview, county = _finish_here(plan, manifest, overview, county)
    manifest.data["county"] = county
    manifest.finish(overview.overview_entry())
    from auditlib.outputs.index_page import write_index

    index = write_index(run_dir, manifest.data, plan.lang)
    shutil.rmtree(work, ignore_errors=True)
    all_ok = all(x["status"] == TaskStatus.OK for x in manifest.tasks)
    auditlog.append(options.db, "run", [options.db] + ([options.params_file] if options.params_file else []),
                    {"status": "ok" if all_ok else "failed", "run_id": plan.run_id, "tasks": len(manifest.tasks),
                     "findings": int(len(findings)), "out": str(run_dir)},
                    digests={x["file"]: x["sha256"] for x in plan.inputs})
    return RunResult(run_id=plan.run_id, run_dir=run_dir, tasks=manifest.tasks, findings=int(len(findings)),
                     index=index, overview_ok=overview.status == TaskStatus.OK, county_ok=not county["errors"])


def longest_first(specs: list[TaskSpec], all_findings: list[pd.DataFrame]) -> list[TaskSpec]:
    """``specs`` in the order the workers take them: the longest first, so the run does not end with
    one worker busy and the other idle.  A notebook's time grows with its inspection's rules (a
    heading, a table and maybe a chart each) and its findings (rows, evidence, workbook lines);
    ties keep the run's order."""
    from collections import Counter

    from auditlib.rules.engine import implemented_rules

    found = Counter()
    for f in all_findings:
        if len(f):
            found.update(zip(f["unit_code"].astype(str), f["inspection"].astype(str)))
    rules = {s.name: len(implemented_rules(s.name)) for s in specs}
    return sorted(specs, key=lambda s: -(rules[s.name] + 2 * found[(s.unit_code, s.name)]))


class _Background:
    """``fn(*args)`` in a thread of this process; :meth:`result` waits for its return value (None
    when it raised)."""

    def __init__(self, fn, *args):
        self._box: list = []
        self._thread = threading.Thread(target=lambda: self._box.append(fn(*args)), name="auditlib-county",
                                        daemon=True)
        self._thread.start()

    def result(self):
        self._thread.join()
        return self._box[0] if self._box else None


def _assumed_manifest(manifest: Manifest, ok: set) -> dict:
    """A copy of the manifest as it will read at the end when the tasks ``ok`` (unit, inspection)
    end ok and the others keep their status: what the county deliverables are built from."""
    data = _as_read(manifest)
    for x in data["tasks"]:
        if (x["unit_code"], x["inspection"]) in ok:
            x.update(status=TaskStatus.OK.value, error=None)
    return data


def _as_read(manifest: Manifest) -> dict:
    """A copy of the manifest as ``manifest.json`` reads back."""
    return json.loads(json.dumps(manifest.data, ensure_ascii=False, default=str))


def _publish(staged: Path, run_dir: Path, overview, county):
    """Move what was made in ``staged`` while the tasks ran into ``run_dir`` (findings.csv and
    resolved.csv always; the overview and the county deliverables when made there whole); returns
    (overview, county), None for one still to make."""
    from auditlib.batch.compare import RESOLVED
    from auditlib.batch.tasks import OVERVIEW

    if overview is not None and overview.status != TaskStatus.OK:
        overview = None
    names = ["findings.csv", RESOLVED]
    names += [f"{OVERVIEW}.ipynb", f"{OVERVIEW}.html"] if overview is not None else []
    names += [county[k] for k in ("xlsx", "docx") if county and county.get(k)]
    for name in names:
        if (staged / name).is_file():
            os.replace(staged / name, run_dir / name)
    return overview, county


def _county_job(plan: Plan, manifest: dict, into: Path):
    """:func:`auditlib.outputs.county.write_county` into ``into``, as a job for a worker's warm kernel
    (the register's decisions on the run's findings are there:
    :data:`~auditlib.outputs.verification.RUN_DECISIONS`)."""
    from auditlib.batch.kernels import KernelCall

    o = plan.options
    return KernelCall(o.kernel, "auditlib.outputs.county:write_county",
                      {"run_dir": str(into), "lang": plan.lang, "manifest": manifest},
                      timeout=o.cell_timeout, start_timeout=o.start_timeout)


def _county_record(outcomes: list[dict]) -> dict | None:
    """The county record the job on a kernel returned; None when it did not (then written here)."""
    if outcomes and outcomes[0]["error"] is None and isinstance(outcomes[0]["value"], dict):
        return outcomes[0]["value"]
    if outcomes:
        logger.debug("county deliverables on a kernel: %s", outcomes[0]["error"])
    return None


def _worker_died(result: TaskResult, lang: str) -> bool:
    return result.status != TaskStatus.OK and str(result.error or "").startswith(t("run.worker_died", lang))


def _finish_here(plan: Plan, manifest: Manifest, overview: TaskResult | None, county: dict | None):
    """The overview and the county deliverables not made alongside the tasks, made in this process:
    the overview on a fresh kernel while the county deliverables are written in this thread (the
    overview mostly waits on its kernel meanwhile)."""
    from auditlib.batch.tasks import TaskKind, TaskResult, TaskSpec

    if overview is None:
        spec = TaskSpec.overview(plan.options, plan.run_id, plan.run_dir, reuse_kernel=False)
        background = _Background(_in_process, spec)
    if county is None:
        county = _write_county(plan, manifest)
    if overview is None:
        overview = background.result() or TaskResult("", "", TaskStatus.FAILED, error="overview",
                                                      kind=TaskKind.OVERVIEW)
    return overview, county


def _write_county_files(plan: Plan, manifest: dict, into: Path | None = None) -> dict:
    """The county deliverables of the run whose manifest reads ``manifest``, from the findings.csv
    in ``into`` (the run folder when None), written there; a failure is logged and named in the
    record returned (``errors``), loses no other output, and makes the exit code 1."""
    from auditlib.outputs.county import write_county

    try:
        return write_county(into or plan.run_dir, params=plan.params, decisions=plan.decisions or {}, lang=plan.lang,
                            manifest=manifest)
    except Exception as exc:  # noqa: BLE001 - write_county reports its own failures; anything else too
        logger.error("county deliverables: %s", exc)
        return {"xlsx": None, "docx": None, "errors": [{"file": "", "error": f"{type(exc).__name__}: {exc}"}]}


def _write_county(plan: Plan, manifest: Manifest) -> dict:
    """The county deliverables, from findings.csv and the manifest once both are final; a failure
    is logged and recorded in the manifest (``county.errors``) and makes the exit code 1, and
    loses no other output."""
    county = _write_county_files(plan, _as_read(manifest))
    manifest.data["county"] = county
    manifest.save()
    return county


def _hand_off(plan: Plan, work: Path, manifest: Manifest) -> list[pd.DataFrame]:
    """Every unit's findings in one pass per inspection, with their statuses (the register) and
    changes (the baseline); each task's slice saved for it, and its counts put in the manifest."""
    import pandas as pd

    from auditlib.batch import compare
    from auditlib.batch.handoff import save_task_evidence, task_evidence_path, unit_slices
    from auditlib.batch.plan import unit_folder
    from auditlib.db import connect
    from auditlib.review.statuses import Status
    from auditlib.rules.coverage import UNTESTED_COLUMNS, data_warnings
    from auditlib.rules.engine import FINDING_COLUMNS, implemented_rules, inspect

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
    from auditlib.batch import compare
    from auditlib.review.apply import apply_register

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
    import pandas as pd

    from auditlib.batch import compare
    from auditlib.outputs.findings_csv import write_findings_csv
    from auditlib.rules.engine import FINDING_COLUMNS

    found = pd.concat(all_findings, ignore_index=True) if all_findings else pd.DataFrame(columns=FINDING_COLUMNS)
    keep = [(u, i) in ok_keys for u, i in zip(found["unit_code"], found["inspection"])]
    found = found[keep] if len(found) else found
    write_findings_csv(found, run_dir / "findings.csv", run_id)
    if baseline is not None:
        compare.write_resolved(compare.resolved(baseline, found["finding_id"], set(ok_keys)), run_dir)
    return found


def _in_process(spec: TaskSpec) -> TaskResult:
    """Run ``spec`` in this process, its environment restored afterwards."""
    from auditlib.batch.tasks import execute_task

    before = apply_environment(spec.options.environment())
    try:
        return execute_task(spec)
    finally:
        apply_environment(before)


def read_run_findings(run_dir) -> pd.DataFrame:
    """A run's ``findings.csv`` as text columns, the spreadsheet quotes taken off again."""
    from auditlib.outputs.findings_csv import read_findings_csv

    return read_findings_csv(Path(run_dir) / "findings.csv")


__all__ = ["run", "run_with", "read_run_findings", "longest_first", "RunResult", "RunOptions"]
