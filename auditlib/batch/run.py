"""``auditlib run``: one notebook per (unit, inspection), executed by papermill (CONTRACT §4–§5).

The run is planned and validated first (parameters, database, units, notebooks
and the parameters they accept): anything wrong there is an
:class:`~auditlib.errors.AuditlibError` and nothing starts (exit 2).  Then every
unit's findings are computed in one pass per inspection, each task gets its
slice, and the tasks run in local processes or on a Dask distributed scheduler.
A task never raises: :func:`execute_task` returns a :class:`TaskResult` with the
error, so one failed notebook never loses another's result.  The manifest is
rewritten (write then rename) after every task, so an interrupted run can be
finished with ``--resume``, which redoes only the tasks that are not ``ok``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import re
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditlib import __version__
from auditlib import auditlog
from auditlib.rules.catalogue import INSPECTIONS
from auditlib.db import connect, ingested_files
from auditlib.rules.engine import FINDING_COLUMNS, inspect, unit_names
from auditlib.errors import ParameterError, RunError
from auditlib.outputs.findings_csv import write_findings_csv
from auditlib.i18n import register, t
from auditlib.rules.params import load_params
from auditlib.batch.kernels import ENGINE, discard_kernel, reset_kernel, shutdown_kernels, warm_kernel
from auditlib.views.report import ROOT, save_task_evidence, task_evidence_path, total_amount, unit_slice

logger = logging.getLogger("auditlib")

NOTEBOOKS = ROOT / "notebooks"
KERNEL = "auditlib"
#: parameters every inspection notebook must declare in its ``parameters`` cell
NOTEBOOK_PARAMETERS = ("db", "unit", "params_file", "lang", "evidence", "run_id")
OVERVIEW_PARAMETERS = ("db", "params_file", "lang", "run_dir")
WORK = ".work"
LOCK = ".lock"

register({
    "run.exists": ("批次 {run_id} 已存在于 {path}：已完成的批次不会被覆盖；继续未完成的批次请加 --resume",
                   "run {run_id} already exists at {path}: a run is never overwritten; use --resume to finish it"),
    "run.resume_needs_id": ("--resume 需要 --run-id", "--resume needs --run-id"),
    "run.no_manifest": ("找不到批次 {run_id} 的 manifest.json：{path}", "no manifest.json for run {run_id}: {path}"),
    "run.bad_id": ("批次号只能包含字母、数字、下划线、点和连字符：{run_id!r}",
                   "a run id holds only letters, digits, '_', '.' and '-': {run_id!r}"),
    "run.unknown_unit": ("数据库中没有单位：{units}", "no such unit in the database: {units}"),
    "run.no_units": ("数据库中没有任何单位", "the database holds no units"),
    "run.unknown_inspection": ("未知检查 {name!r}；可选：{choices}", "unknown inspection {name!r}; choose from {choices}"),
    "run.no_notebook": ("找不到检查底稿模板 {path}", "notebook not found: {path}"),
    "run.notebook_params": ("{path} 的 parameters 单元缺少参数：{missing}",
                            "the parameters cell of {path} lacks: {missing}"),
    "run.changed": ("批次 {run_id} 开始后{what}已改变，不能续跑；请另起新批次",
                    "{what} changed since run {run_id} started; start a new run"),
    "run.changed.params": ("参数", "the parameters"),
    "run.changed.inputs": ("数据库中的输入文件", "the database's input files"),
    "run.progress": ("审计任务", "tasks"),
    "run.done": ("批次 {run_id}：任务 {ok}/{total} 成功，{failed} 失败；发现问题 {findings} 条。报告索引：{index}",
                 "run {run_id}: {ok}/{total} tasks ok, {failed} failed; {findings} findings. Index: {index}"),
    "run.nothing": ("批次 {run_id} 的任务均已完成，无需续跑", "every task of run {run_id} is already ok"),
    "run.busy": ("批次 {run_id} 正由另一个进程运行（{path}）；请等其结束后再续跑",
                 "run {run_id} is being run by another process ({path}); resume it when that one ends"),
    "run.worker_died": ("执行任务的进程意外退出", "the worker process running this task died"),
})

_SAFE_FOLDER = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,63}")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_RUN_ID = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,99}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def unit_folder(code: str) -> str:
    """The folder name of a unit: the code itself when safe everywhere, else ``~`` + its UTF-8 hex.

    Safe means ASCII letters, digits, ``_ . -``, not starting with ``.`` or ``-``, not ending
    with ``.``, and not a Windows device name.  Raw names never start with ``~``, so an encoded
    name cannot collide with a raw one.
    """
    code = str(code)
    if (_SAFE_FOLDER.fullmatch(code) and not code.endswith(".")
            and code.split(".")[0].upper() not in _RESERVED):
        return code
    return "~" + code.encode("utf-8").hex()


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs to run one task; plain data, picklable."""

    unit_code: str
    unit_name: str
    inspection: str
    folder: str
    notebook: str
    run_dir: str
    db: str
    params_file: str
    lang: str
    evidence: str
    run_id: str
    kernel: str = KERNEL
    cell_timeout: int = 600
    start_timeout: int = 120
    reuse_kernel: bool = True

    @property
    def out_dir(self) -> Path:
        return Path(self.run_dir) / self.folder


@dataclass
class TaskResult:
    """What became of one task (nbmake-style record; never an exception)."""

    unit_code: str
    inspection: str
    status: str  # ok | failed | skipped | pending
    seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    findings: int = 0
    amount: str = "0.00"


@dataclass(frozen=True)
class OverviewSpec:
    """The overview notebook of a run, sent to a worker once every task is done (its kernel is warm)."""

    run_dir: str
    db: str
    params_file: str
    lang: str
    notebooks: str
    kernel: str
    cell_timeout: int

    def execute(self) -> dict:
        return _run_overview(Path(self.run_dir), self.db, self.params_file, self.lang, Path(self.notebooks),
                             self.kernel, self.cell_timeout, reuse_kernel=True)


def _error_summary(exc: BaseException) -> tuple[str, str]:
    """A one-line summary and the full text of an exception from papermill, nbclient or us."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        summary = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        full = "\n".join(exc.traceback)
    else:
        summary = f"{type(exc).__name__}: {exc}"
        full = "".join(traceback.format_exception(exc))
    summary = _ANSI.sub("", summary).strip().splitlines()[0][:500] if summary.strip() else type(exc).__name__
    return summary, _ANSI.sub("", full)[-8000:]


def execute_task(spec: TaskSpec) -> TaskResult:
    """Run one notebook and leave its ipynb, html and xlsx; errors come back in the result.

    Every file is written under a temporary name and renamed, so no half-written file is
    ever visible under its final name.
    """
    import papermill as pm

    from auditlib.outputs.html_export import export_html, external_urls
    from auditlib.views.report import load_task_evidence
    from auditlib.outputs.workbook import write_workbook

    start = time.perf_counter()
    out = spec.out_dir
    result = TaskResult(spec.unit_code, spec.inspection, "failed")
    try:
        findings, evidence = load_task_evidence(spec.evidence)
        result.findings = len(findings)
        result.amount = f"{total_amount(findings):.2f}"
        out.mkdir(parents=True, exist_ok=True)
        final_nb = out / f"{spec.inspection}.ipynb"
        tmp_nb = out / f".{spec.inspection}.{os.getpid()}.part.ipynb"
        error = None
        try:
            km = warm_kernel(spec.kernel, spec.start_timeout) if spec.reuse_kernel else None
            pm.execute_notebook(
                spec.notebook, str(tmp_nb),
                parameters={"db": spec.db, "unit": spec.unit_code, "params_file": spec.params_file,
                            "lang": spec.lang, "evidence": spec.evidence, "run_id": spec.run_id},
                kernel_name=spec.kernel, progress_bar=False, log_output=False, cwd=str(out),
                request_save_on_cell_execute=False,  # written once at the end (then renamed)
                start_timeout=spec.start_timeout, execution_timeout=spec.cell_timeout,
                **({"km": km, "engine_name": ENGINE} if km is not None else {}))
            if km is not None:
                reset_kernel(km)
        except Exception as exc:  # cell error, cell timeout, dead or missing kernel
            error = exc
            discard_kernel(spec.kernel)  # its state is unknown: the next task gets a fresh one
        if tmp_nb.exists():
            os.replace(tmp_nb, final_nb)
        if final_nb.exists():
            page = export_html(final_nb, out / f"{spec.inspection}.html", lang=spec.lang)
            urls = external_urls(page.read_text(encoding="utf-8"))
            if urls:
                raise RunError(f"HTML 报告引用了外部地址 / the report references other hosts: {urls[:3]}",
                               reason="external url")
        if error is not None:
            result.error, result.traceback = _error_summary(error)
        else:
            from auditlib.rules.params import load_params

            params = load_params(spec.params_file or None)
            write_workbook(out / f"{spec.inspection}.xlsx", unit_code=spec.unit_code, unit_name=spec.unit_name,
                           inspection=spec.inspection, findings=findings, evidence=evidence, params=params,
                           run_id=spec.run_id, sources=ingested_files(spec.db), lang=spec.lang)
            result.status = "ok"
    except Exception as exc:  # anything else still comes back as a record
        result.error, result.traceback = _error_summary(exc)
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _software() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"auditlib": __version__, "python": platform.python_version()}
    for name in ("duckdb", "pandas", "papermill", "nbconvert", "xlsxwriter", "matplotlib", "distributed"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def write_json(path: Path, data: dict) -> None:
    """Write then rename: a reader never sees half a file."""
    tmp = path.with_name("." + path.name + ".part")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    tasks: list[dict]
    findings: int
    index: Path
    overview_ok: bool = True

    @property
    def failed(self) -> list[dict]:
        return [x for x in self.tasks if x["status"] != "ok"]

    @property
    def exit_code(self) -> int:
        return 0 if not self.failed and self.overview_ok else 1

    def describe(self, lang: str = "zh") -> str:
        ok = sum(1 for x in self.tasks if x["status"] == "ok")
        return t("run.done", lang, run_id=self.run_id, ok=ok, total=len(self.tasks),
                 failed=len(self.tasks) - ok, findings=self.findings, index=self.index)


def _check_notebook(path: Path, required, lang) -> None:
    import papermill as pm

    if not path.is_file():
        raise RunError(t("run.no_notebook", lang, path=path), reason="missing notebook", notebook=str(path))
    declared = pm.inspect_notebook(str(path))
    missing = [p for p in required if p not in declared]
    if missing:
        raise RunError(t("run.notebook_params", lang, path=path, missing=", ".join(missing)),
                       reason="notebook parameters", notebook=str(path), missing=missing)


def _select_units(db, units, lang) -> dict[str, str]:
    con = connect(db)
    try:
        all_units = unit_names(con)
    finally:
        con.close()
    if not all_units:
        raise ParameterError(t("run.no_units", lang), file=str(db), key="units", reason="no units")
    if not units:
        return all_units
    unknown = [u for u in units if str(u) not in all_units]
    if unknown:
        raise ParameterError(t("run.unknown_unit", lang, units=", ".join(map(str, unknown))), file="",
                             key="units", reason="unknown unit")
    return {str(u): all_units[str(u)] for u in dict.fromkeys(map(str, units))}


def _claim_run_dir(out: Path, run_id: str, numbered: bool, lang) -> Path:
    """Create the run folder ``out/run_id`` atomically; a timestamp id gets ``-2``, ``-3`` … when taken.

    ``mkdir`` either creates the folder or fails, so two runs started in the same second never
    share a folder, and an existing run is never written into.
    """
    out.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        candidate = run_id if n == 1 else f"{run_id}-{n}"
        try:
            (out / candidate).mkdir()
            return out / candidate
        except FileExistsError:
            if not numbered:
                raise RunError(t("run.exists", lang, run_id=run_id, path=out / run_id), reason="exists") from None
            n += 1


@contextlib.contextmanager
def _run_lock(run_dir: Path, run_id: str, lang):
    """Hold ``run_dir/.lock`` (an exclusive ``flock``) while this process works on the run.

    A second ``--resume`` of a run that is still going is refused instead of writing the same
    files twice.  The lock goes with the process, so a killed run never leaves it held.
    """
    if not run_dir.is_dir():
        yield
        return
    fh = open(run_dir / LOCK, "a+")
    try:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            pass
        except OSError:
            raise RunError(t("run.busy", lang, run_id=run_id, path=run_dir), reason="busy") from None
        yield
    finally:
        fh.close()


def _remove_stale_parts(run_dir: Path) -> None:
    """Delete the temporary files an interrupted run left (``*.part``; never a final name)."""
    for path in run_dir.rglob("*.part*"):
        if path.is_file() and ".part" in path.name:
            try:
                path.unlink()
            except OSError:
                pass


def run(db, params_file=None, units=None, inspections=None, out="outputs", run_id=None, resume=False,
        workers=None, scheduler=None, notebooks=None, kernel=KERNEL, cell_timeout=600, progress=True,
        lang=None, reuse_kernels=True) -> RunResult:
    """Run the inspection notebooks for ``units`` × ``inspections``.

    Parameters
    ----------
    db : path
        The audit database.
    params_file : path, optional
        Parameters YAML on top of ``params/default.yaml``.
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
        Folder of the notebook templates (``<inspection>.ipynb``, ``overview.ipynb``).
    kernel : str
        Jupyter kernel name the notebooks run on.
    cell_timeout : int
        Seconds one cell may run before its task fails.
    reuse_kernels : bool
        Keep one warm kernel per worker and reset it between notebooks (fast); False starts a
        fresh kernel for every notebook.

    Returns
    -------
    RunResult
        ``exit_code`` is 0 when every task is ok and 1 otherwise.

    Raises
    ------
    AuditlibError
        Bad parameters, database, units, notebooks or run folder; nothing has run.
    """
    with contextlib.ExitStack() as stack:
        return _run(stack, db, params_file, units, inspections, out, run_id, resume, workers, scheduler,
                    notebooks, kernel, cell_timeout, progress, lang, reuse_kernels)


def _run(stack, db, params_file, units, inspections, out, run_id, resume, workers, scheduler, notebooks,
         kernel, cell_timeout, progress, lang, reuse_kernels) -> RunResult:
    db = Path(db).resolve()
    # A read-only connection held for the whole run: DuckDB's shared lock keeps a writer (ingest)
    # out until the run ends, so every task reads the same data; a running ingest makes this fail.
    holder = connect(db)
    stack.callback(holder.close)
    params = load_params(params_file)
    lang = lang or params.lang
    params_file = str(Path(params_file).resolve()) if params_file else ""
    notebooks = Path(notebooks).resolve() if notebooks else NOTEBOOKS
    out = Path(out).resolve()

    names = list(inspections) if inspections else list(INSPECTIONS)
    for name in names:
        if name not in INSPECTIONS:
            raise ParameterError(t("run.unknown_inspection", lang, name=name, choices=", ".join(INSPECTIONS)),
                                 file="", key="inspections", reason="unknown inspection")
    selected = _select_units(db, units, lang)
    for name in names:
        _check_notebook(notebooks / f"{name}.ipynb", NOTEBOOK_PARAMETERS, lang)
    _check_notebook(notebooks / "overview.ipynb", OVERVIEW_PARAMETERS, lang)
    inputs = ingested_files(db)

    if resume:
        if not run_id:
            raise ParameterError(t("run.resume_needs_id", lang), file="", key="run_id", reason="missing")
    if run_id is not None and not _RUN_ID.fullmatch(str(run_id)):
        raise ParameterError(t("run.bad_id", lang, run_id=run_id), file="", key="run_id", reason="unsafe")
    fresh = run_id is None
    if fresh:  # a timestamp; the folder is claimed below with an atomic mkdir
        run_id = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / str(run_id)
    manifest_path = run_dir / "manifest.json"

    if resume:
        stack.enter_context(_run_lock(run_dir, str(run_id), lang))
        if not manifest_path.is_file():
            raise RunError(t("run.no_manifest", lang, run_id=run_id, path=manifest_path), reason="no manifest")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest["params"] != params.to_dict():
            raise RunError(t("run.changed", lang, run_id=run_id, what=t("run.changed.params", lang)),
                           reason="params changed")
        if manifest["inputs"] != inputs:
            raise RunError(t("run.changed", lang, run_id=run_id, what=t("run.changed.inputs", lang)),
                           reason="inputs changed")
        _remove_stale_parts(run_dir)
        selected = {x["unit_code"]: x["unit_name"] for x in manifest["tasks"]}
        names = list(dict.fromkeys(x["inspection"] for x in manifest["tasks"]))
        manifest.update(status="running", finished=None, resumed=[*manifest.get("resumed", []), _now()])
    else:
        run_dir = _claim_run_dir(out, str(run_id), numbered=fresh, lang=lang)
        run_id = run_dir.name
        stack.enter_context(_run_lock(run_dir, str(run_id), lang))
        manifest_path = run_dir / "manifest.json"
        manifest = {
            "run_id": str(run_id), "started": _now(), "finished": None, "status": "running",
            "as_of": params.as_of.isoformat(), "fiscal_year": params.fiscal_year, "lang": lang,
            "db": str(db), "params_file": params_file, "notebooks": str(notebooks),
            "params": params.to_dict(), "inputs": inputs, "software": _software(),
            "tasks": [{"unit_code": u, "unit_name": nm, "inspection": i, "folder": unit_folder(u),
                       "status": "pending", "seconds": None, "error": None, "findings": None, "amount": None,
                       "notebook": f"{unit_folder(u)}/{i}.ipynb", "html": f"{unit_folder(u)}/{i}.html",
                       "xlsx": f"{unit_folder(u)}/{i}.xlsx"}
                      for u, nm in selected.items() for i in names],
            "overview": None,
        }
    write_json(manifest_path, manifest)

    # every unit's findings in one pass per inspection; each task reads its slice
    work = run_dir / WORK
    all_findings = []
    for name in names:
        ins = inspect(db, name, params=params)
        for u in selected:
            f, ev = unit_slice(ins.findings, ins.evidence, u)
            save_task_evidence(task_evidence_path(work, unit_folder(u), name), f, ev)
            all_findings.append(f)

    todo = [x for x in manifest["tasks"] if x["status"] != "ok"]
    specs = [TaskSpec(unit_code=x["unit_code"], unit_name=x["unit_name"] or "", inspection=x["inspection"],
                      folder=x["folder"], notebook=str(notebooks / f"{x['inspection']}.ipynb"),
                      run_dir=str(run_dir), db=str(db), params_file=params_file, lang=lang,
                      evidence=str(task_evidence_path(work, x["folder"], x["inspection"])), run_id=str(run_id),
                      kernel=kernel, cell_timeout=int(cell_timeout), reuse_kernel=bool(reuse_kernels))
             for x in todo]
    by_key = {(x["unit_code"], x["inspection"]): x for x in manifest["tasks"]}

    def record(res: TaskResult) -> None:
        entry = by_key[(res.unit_code, res.inspection)]
        entry.update(status=res.status, seconds=res.seconds, error=res.error, traceback=res.traceback,
                     findings=res.findings, amount=res.amount)
        write_json(manifest_path, manifest)

    done: list[pd.DataFrame] = []

    def finish_tasks() -> OverviewSpec:
        """Every task is done: write findings.csv (tasks that are ok), then hand on the overview."""
        if not done:
            ok_keys = {(x["unit_code"], x["inspection"]) for x in manifest["tasks"] if x["status"] == "ok"}
            found = (pd.concat(all_findings, ignore_index=True) if all_findings
                     else pd.DataFrame(columns=FINDING_COLUMNS))
            keep = [(u, i) in ok_keys for u, i in zip(found["unit_code"], found["inspection"])]
            found = found[keep] if len(found) else found
            write_findings_csv(found, run_dir / "findings.csv", str(run_id))
            done.append(found)
        return OverviewSpec(str(run_dir), str(db), params_file, lang, str(notebooks), kernel, int(cell_timeout))

    overview = None
    if specs:
        overview = _execute(specs, record, workers=workers, scheduler=scheduler, progress=progress, lang=lang,
                            final=finish_tasks if reuse_kernels else None)
    else:
        logger.info(t("run.nothing", lang, run_id=run_id))
    finish_tasks()
    findings = done[0]

    manifest["overview"] = overview or _run_overview(run_dir, db, params_file, lang, notebooks, kernel, cell_timeout)
    manifest.update(status="finished", finished=_now())
    write_json(manifest_path, manifest)
    from auditlib.outputs.index_page import write_index

    index = write_index(run_dir, manifest, lang)
    shutil.rmtree(work, ignore_errors=True)
    auditlog.append(db, "run", [db] + ([params_file] if params_file else []),
                    {"status": "ok" if all(x["status"] == "ok" for x in manifest["tasks"]) else "failed",
                     "run_id": str(run_id), "tasks": len(manifest["tasks"]), "findings": int(len(findings)),
                     "out": str(run_dir)}, digests={x["file"]: x["sha256"] for x in inputs})
    return RunResult(run_id=str(run_id), run_dir=run_dir, tasks=manifest["tasks"], findings=int(len(findings)),
                     index=index, overview_ok=(manifest["overview"] or {}).get("status") == "ok")


def _execute(specs, record, *, workers, scheduler, progress, lang, final=None) -> dict | None:
    """Run ``specs`` locally or on Dask, calling ``record`` with each result as it comes.

    ``final``, when given, is called in this process once every task is done and returns an
    :class:`OverviewSpec`; local workers run it on a warm kernel and its result is returned
    (None when it was not run there: under Dask, or when no worker was left).
    """
    from tqdm import tqdm

    bar = tqdm(total=len(specs), desc=t("run.progress", lang), unit="nb", disable=not progress, file=sys.stderr)
    try:
        if scheduler:
            from distributed import Client, as_completed

            with Client(scheduler, set_as_default=False) as client:
                futures = {client.submit(execute_task, s, pure=False, key=f"auditlib-{s.run_id}-{i}"): s
                           for i, s in enumerate(specs)}
                for fut in as_completed(list(futures), loop=client.loop):
                    record(_collect(fut, futures[fut], lang))
                    bar.update()
        else:
            return _execute_local(specs, record, workers=workers, bar=bar, lang=lang, final=final)
    finally:
        bar.close()
    return None


def _worker_main(conn, parent_pid: int) -> None:
    """A local worker process: run the tasks it is sent one at a time and send back each result.

    It stops when told (``None``), when the run's pipe closes, or when the run's process is
    gone (a watchdog thread), so a killed run leaves no worker writing into its folder.
    """
    import threading

    def watchdog():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(3)  # the kernels follow: ipykernel exits when its parent changes

    threading.Thread(target=watchdog, name="auditlib-watchdog", daemon=True).start()
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg is None:
                break
            i, spec = msg
            result = spec.execute() if isinstance(spec, OverviewSpec) else execute_task(spec)
            try:
                conn.send((i, result))
            except OSError:
                break
    finally:
        shutdown_kernels()
        conn.close()


def _execute_local(specs, record, *, workers, bar, lang, final=None) -> dict | None:
    """Run ``specs`` on local worker processes, each given one task at a time.

    The run always knows which task each worker holds, so a worker that dies (killed, out of
    memory, a crash in native code) fails that task only: it is recorded with the worker's exit
    code, a fresh worker takes its place and the other tasks go on.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    queue = list(reversed(range(len(specs))))  # pop() gives the next task
    n = max(1, min(int(workers or os.cpu_count() or 1), len(specs)))
    slots: list[dict] = []

    def launch() -> dict:
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(there, os.getpid()), name="auditlib-worker")
        proc.start()
        there.close()
        slot = {"proc": proc, "conn": here, "task": None}
        slots.append(slot)
        return slot

    def retire(slot: dict) -> None:
        try:
            slot["conn"].send(None)
        except OSError:
            pass
        slot["conn"].close()
        slots.remove(slot)
        slot["proc"].join(timeout=30)
        if slot["proc"].is_alive():
            slot["proc"].terminate()

    def feed(slot: dict) -> None:
        """Give ``slot`` the next task, or retire it when there is none."""
        while queue:
            i = queue.pop()
            try:
                slot["conn"].send((i, specs[i]))
            except OSError:  # died while idle: the task was never started
                queue.append(i)
                slots.remove(slot)
                slot["proc"].join(timeout=5)
                slot = launch()
                continue
            slot["task"] = i
            return
        if final is None:
            retire(slot)  # else it stays, idle, for the final spec

    try:
        for _ in range(n):
            feed(launch())
        while slots:
            busy = [s for s in slots if s["task"] is not None]
            if not busy:
                break
            ready = set(wait([s["conn"] for s in busy] + [s["proc"].sentinel for s in busy]))
            for slot in busy:
                if slot["conn"] not in ready and slot["proc"].sentinel not in ready:
                    continue
                spec = specs[slot["task"]]
                try:
                    if not slot["conn"].poll():
                        raise EOFError
                    _, result = slot["conn"].recv()
                except (EOFError, OSError):
                    slot["proc"].join(timeout=10)
                    code = slot["proc"].exitcode
                    result = TaskResult(spec.unit_code, spec.inspection, "failed",
                                        error=f"{t('run.worker_died', lang)} (exit code {code})")
                    slot["conn"].close()
                    slots.remove(slot)
                    slot = launch() if queue else None
                record(result)
                bar.update()
                if slot is not None:
                    slot["task"] = None
                    feed(slot)
        idle = [s for s in slots if s["task"] is None and s["proc"].is_alive()]
        if final is not None and idle:
            slot = idle[0]
            try:
                slot["conn"].send((-1, final()))
                ready = wait([slot["conn"], slot["proc"].sentinel])
                if slot["conn"] in ready and slot["conn"].poll():
                    return slot["conn"].recv()[1]
            except (EOFError, OSError):  # the worker died: the caller runs it itself
                pass
        return None
    finally:
        for slot in list(slots):
            if slot["task"] is not None:  # interrupted: stop the workers
                slot["proc"].terminate()
            retire(slot)


def _collect(fut, spec: TaskSpec, lang) -> TaskResult:
    """A future's result; a worker that died becomes a failed record for its task."""
    try:
        return fut.result()
    except Exception as exc:
        summary, full = _error_summary(exc)
        return TaskResult(spec.unit_code, spec.inspection, "failed",
                          error=f"{t('run.worker_died', lang)}: {summary}", traceback=full)


def _run_overview(run_dir: Path, db, params_file, lang, notebooks: Path, kernel, cell_timeout,
                  reuse_kernel: bool = False) -> dict:
    """The county over this run: ``overview.ipynb`` and ``overview.html`` in the run folder.

    ``reuse_kernel`` runs it on this worker's warm kernel (a worker process does, once its
    tasks are done); otherwise a fresh kernel is started for it.
    """
    import papermill as pm

    from auditlib.outputs.html_export import export_html

    start = time.perf_counter()
    tmp = run_dir / ".overview.part.ipynb"
    final = run_dir / "overview.ipynb"
    entry = {"status": "failed", "notebook": "overview.ipynb", "html": "overview.html", "error": None}
    try:
        try:
            km = warm_kernel(kernel) if reuse_kernel else None
            pm.execute_notebook(str(notebooks / "overview.ipynb"), str(tmp),
                                parameters={"db": str(db), "params_file": params_file, "lang": lang,
                                            "run_dir": str(run_dir)},
                                kernel_name=kernel, progress_bar=False, cwd=str(run_dir),
                                execution_timeout=int(cell_timeout), request_save_on_cell_execute=False,
                                **({"km": km, "engine_name": ENGINE} if km is not None else {}))
            if km is not None:
                reset_kernel(km)
        except Exception:
            if reuse_kernel:
                discard_kernel(kernel)
            raise
        finally:
            if tmp.exists():
                os.replace(tmp, final)
        export_html(final, run_dir / "overview.html", lang=lang)
        entry["status"] = "ok"
    except Exception as exc:
        entry["error"], _ = _error_summary(exc)
        if final.exists():
            try:
                export_html(final, run_dir / "overview.html", lang=lang)
            except Exception:  # the error is already recorded
                pass
    entry["seconds"] = round(time.perf_counter() - start, 3)
    return entry


def read_run_findings(run_dir) -> pd.DataFrame:
    """A run's ``findings.csv`` as text columns, the spreadsheet quotes taken off again."""
    from auditlib.outputs.findings_csv import read_findings_csv

    return read_findings_csv(Path(run_dir) / "findings.csv")


__all__ = ["run", "execute_task", "unit_folder", "TaskSpec", "TaskResult", "RunResult"]
