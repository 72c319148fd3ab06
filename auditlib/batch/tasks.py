"""One task of a run: execute one notebook and leave its artifacts; never raise.

The inspection notebooks (one per unit and inspection: ipynb, html, xlsx) and the run's
overview notebook (ipynb, html) run through the same :func:`execute_task`; an error of any
kind comes back in the :class:`TaskResult` (nbmake / ploomber style), so one failed notebook
never loses another's result.  Every file is written under a temporary name and renamed
(:mod:`auditlib.common.files`), so no half-written file is ever visible under its final name.
"""
from __future__ import annotations

import re
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


from auditlib.batch.handoff import load_task
from auditlib.batch.kernels import (ENGINE, discard_kernel, execute, fresh_kernel_manager_class, reset_kernel,
                                    skip_slow_imports, start_kernel, warm_kernel)
from auditlib.batch.options import RunOptions, TaskStatus, apply_environment
from auditlib.common.files import atomic_path, write_text
from auditlib.errors import RunError
from auditlib.outputs.formats import total_amount
from auditlib.i18n import register, t

register({"run.worker_died": ("执行任务的进程意外退出", "the worker process running this task died")})

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: the overview's notebook and page in the run folder
OVERVIEW = "overview"


class TaskKind(str, Enum):
    """An inspection notebook of one unit, or the run's overview."""

    INSPECTION = "inspection"
    OVERVIEW = "overview"


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs to run one notebook; plain data, picklable.

    ``folder`` is the task's folder under the run folder (``""`` for the overview, which
    writes into the run folder itself); ``name`` the file stem of its artifacts.
    """

    options: RunOptions
    run_id: str
    run_dir: str
    kind: TaskKind
    name: str
    notebook: str
    folder: str = ""
    unit_code: str = ""
    unit_name: str = ""
    evidence: str = ""
    reuse_kernel: bool = True

    @classmethod
    def inspection(cls, options: RunOptions, run_id: str, run_dir, entry: dict, evidence) -> "TaskSpec":
        """The task of a manifest record (``unit_code``, ``unit_name``, ``inspection``, ``folder``)."""
        return cls(options=options, run_id=str(run_id), run_dir=str(run_dir), kind=TaskKind.INSPECTION,
                   name=entry["inspection"], notebook=str(options.notebooks / f"{entry['inspection']}.ipynb"),
                   folder=entry["folder"], unit_code=entry["unit_code"], unit_name=entry["unit_name"] or "",
                   evidence=str(evidence), reuse_kernel=options.reuse_kernels)

    @classmethod
    def overview(cls, options: RunOptions, run_id: str, run_dir, reuse_kernel: bool, folder: str = "") -> "TaskSpec":
        """The overview of the run; ``reuse_kernel`` runs it on the worker's warm kernel; ``folder``:
        where under the run folder it leaves its notebook and page (the run folder itself when empty)."""
        return cls(options=options, run_id=str(run_id), run_dir=str(run_dir), kind=TaskKind.OVERVIEW,
                   name=OVERVIEW, notebook=str(options.notebooks / f"{OVERVIEW}.ipynb"),
                   reuse_kernel=reuse_kernel, folder=folder)

    @property
    def inspection_name(self) -> str:
        return self.name if self.kind is TaskKind.INSPECTION else ""

    @property
    def out_dir(self) -> Path:
        return Path(self.run_dir) / self.folder if self.folder else Path(self.run_dir)

    @property
    def parameters(self) -> dict:
        """The values papermill injects into the notebook's ``parameters`` cell."""
        o = self.options
        if self.kind is TaskKind.OVERVIEW:
            return {"db": str(o.db), "params_file": o.params_file, "lang": o.lang, "run_dir": self.run_dir}
        return {"db": str(o.db), "unit": self.unit_code, "params_file": o.params_file, "lang": o.lang,
                "evidence": self.evidence, "run_id": self.run_id}


@dataclass
class TaskResult:
    """What became of one task (a record, never an exception)."""

    unit_code: str
    inspection: str
    status: TaskStatus = TaskStatus.FAILED
    seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    findings: int = 0
    amount: str = "0.00"
    kind: TaskKind = field(default=TaskKind.INSPECTION)

    @classmethod
    def worker_died(cls, spec: TaskSpec, lang: str, detail: str, traceback: str | None = None) -> "TaskResult":
        """The failure of ``spec`` whose worker died (``detail``: its exit code or error)."""
        return cls(spec.unit_code, spec.inspection_name, TaskStatus.FAILED,
                   error=f"{t('run.worker_died', lang)}{detail}", traceback=traceback, kind=spec.kind)

    def manifest_entry(self) -> dict:
        """The fields of the task's manifest record."""
        return {"status": self.status.value, "seconds": self.seconds, "error": self.error,
                "traceback": self.traceback, "findings": self.findings, "amount": self.amount}

    def overview_entry(self) -> dict:
        """The manifest's ``overview`` record."""
        return {"status": self.status.value, "notebook": f"{OVERVIEW}.ipynb", "html": f"{OVERVIEW}.html",
                "error": self.error, "seconds": self.seconds}


def error_summary(exc: BaseException) -> tuple[str, str]:
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
    """Run one notebook and leave its artifacts; errors come back in the result.

    An inspection leaves ``<name>.ipynb``, ``.html`` and, when it ran clean, ``.xlsx`` in its
    unit folder; the overview leaves ``overview.ipynb`` and ``overview.html`` in the run folder.
    A notebook that failed still leaves its ipynb and html (showing the error).
    """
    skip_slow_imports()  # before nbformat (a no-op once imported)
    from auditlib.outputs.html_export import external_urls, render_html

    start = time.perf_counter()
    result = TaskResult(spec.unit_code, spec.inspection_name, TaskStatus.FAILED, kind=spec.kind)
    apply_environment(spec.options.environment())  # kernels started from here inherit it
    try:
        findings = evidence = gaps = None
        if spec.kind is TaskKind.INSPECTION:
            task = load_task(spec.evidence)
            findings, evidence, gaps = task["findings"], task["evidence"], task["untested"]
            result.findings = len(findings)
            result.amount = f"{total_amount(findings):.2f}"
        out = spec.out_dir
        out.mkdir(parents=True, exist_ok=True)
        final_nb = out / f"{spec.name}.ipynb"
        error, executed = _run_notebook(spec, final_nb)
        if executed is not None or final_nb.exists():
            try:  # the executed notebook as papermill left it in memory, else as it wrote it
                page = render_html(executed if executed is not None else final_nb, spec.options.lang,
                                   default_title=spec.name)
                write_text(out / f"{spec.name}.html", page)
            except Exception:
                if error is None:
                    raise
            else:
                urls = external_urls(page)
                if urls and error is None:
                    raise RunError(f"HTML 报告引用了外部地址 / the report references other hosts: {urls[:3]}",
                                   reason="external url")
        if error is not None:
            result.error, result.traceback = error_summary(error)
        else:
            if spec.kind is TaskKind.INSPECTION:
                _write_workbook(spec, findings, evidence, gaps)
            result.status = TaskStatus.OK
    except Exception as exc:  # anything else still comes back as a record
        result.error, result.traceback = error_summary(exc)
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def warm_worker(options: RunOptions) -> None:
    """Ready this worker for a run with ``options`` before its first task: start the kernel (it
    imports the report modules as it starts) and, meanwhile, import what the worker itself writes
    with (papermill, the HTML exporter, the workbook).  Never raises: a kernel that fails to start
    is started again, and its error reported, by the first task."""
    apply_environment(options.environment())
    try:
        if options.reuse_kernels:
            start_kernel(options.kernel)
            _KERNEL_WORKSPACE[(threading.get_ident(), options.kernel)] = options.workspace
        import_worker_modules(options.lang)
        if options.reuse_kernels:
            _settled(warm_kernel(options.kernel, options.start_timeout))
    except Exception:  # noqa: BLE001 - the first task starts it again and reports the error
        discard_kernel(options.kernel)


def import_worker_modules(lang: str | None) -> None:
    """Import what a worker writes a task's files with (papermill, the workbook writer) and build
    its HTML exporter for ``lang``."""
    import papermill  # noqa: F401

    from auditlib.outputs import workbook  # noqa: F401
    from auditlib.outputs.html_export import exporter

    exporter(lang or "zh")


#: the workspace each of this process's warm kernels was started in, by (thread, kernel name)
_KERNEL_WORKSPACE: dict[tuple[int, str], str] = {}


def _kernel(spec: TaskSpec):
    """This worker's warm kernel for ``spec`` (None when the task wants a fresh one).

    A warm kernel started for another workspace (a Dask worker serving two runs) is replaced,
    so the kernel always sees the run's workspace.
    """
    if not spec.reuse_kernel:
        return None
    o = spec.options
    key = (threading.get_ident(), o.kernel)
    if _KERNEL_WORKSPACE.get(key, o.workspace) != o.workspace:
        discard_kernel(o.kernel)
    km = _settled(warm_kernel(o.kernel, o.start_timeout))
    _KERNEL_WORKSPACE[key] = o.workspace
    return km


#: run once on a warm kernel before its first notebook: what its start-up imported (pandas, DuckDB,
#: matplotlib, the report modules) leaves the garbage collector's watch, so the collection IPython's
#: reset makes after every notebook, and the collector's own full passes, walk only what notebooks
#: made (~0.05 s a notebook less)
_SETTLE = "import gc as _gc; _gc.collect(); _gc.freeze(); del _gc"


def _settled(km):
    """``km`` once :data:`_SETTLE` ran on it (done once per kernel)."""
    if not getattr(km, "_auditlib_settled", False):
        execute(km, _SETTLE)
        km._auditlib_settled = True
    return km


def _execute_notebook(spec: TaskSpec, final_nb: Path) -> BaseException | None:
    """Execute the notebook into ``final_nb`` (written once at the end, then renamed).

    Returns the error (a cell error, a cell timeout, a dead or missing kernel) or None; the
    executed notebook is kept either way when papermill wrote one.
    """
    return _run_notebook(spec, final_nb)[0]


def _run_notebook(spec: TaskSpec, final_nb: Path) -> tuple[BaseException | None, object]:
    """:func:`_execute_notebook`, and the executed notebook (the ``NotebookNode`` papermill wrote)
    when it ran clean, else None."""
    import papermill as pm

    o = spec.options
    error = executed = None
    try:
        with atomic_path(final_nb) as tmp, warnings.catch_warnings():
            # the temporary name ends in .part, not .ipynb
            warnings.filterwarnings("ignore", message=r"The specified (output )?file .* does not end in")
            try:
                km = _kernel(spec)
                executed = pm.execute_notebook(
                    spec.notebook, str(tmp), parameters=spec.parameters,
                    kernel_name=o.kernel, progress_bar=False, log_output=False, cwd=str(spec.out_dir),
                    request_save_on_cell_execute=False,  # written once at the end (then renamed)
                    start_timeout=o.start_timeout, execution_timeout=o.cell_timeout,
                    **({"km": km, "engine_name": ENGINE} if km is not None
                       else {"kernel_manager_class": fresh_kernel_manager_class()}))
                if km is not None:
                    reset_kernel(km)
            except Exception as exc:
                error = exc
                discard_kernel(o.kernel)  # its state is unknown: the next task gets a fresh one
                if not tmp.exists():
                    raise
    except Exception as exc:
        if error is None:  # the notebook could not be written
            error = exc
    return error, (executed if error is None else None)


def _write_workbook(spec: TaskSpec, findings, evidence, gaps=None) -> None:
    """The task's workbook; ``gaps``: the rules its unit's data could not test (CONTRACT §3 未检查)
    as the run's engine found them (handed off with the evidence), computed here when None."""
    from auditlib.db import connect
    from auditlib.outputs.workbook import write_workbook

    o = spec.options
    params, sources = _run_inputs(spec)
    if gaps is None:
        from auditlib.rules.coverage import untested
        from auditlib.rules.engine import implemented_rules

        con = connect(o.db)
        try:
            gaps = untested(con, [spec.unit_code], implemented_rules(spec.name), params)
        finally:
            con.close()
    write_workbook(spec.out_dir / f"{spec.name}.xlsx", unit_code=spec.unit_code, unit_name=spec.unit_name,
                   inspection=spec.name, findings=findings, evidence=evidence, params=params,
                   run_id=spec.run_id, sources=sources, lang=o.lang, untested=gaps)


#: the parameters and input files of the run a worker last served, by (run folder, run id)
_RUN_INPUTS: dict[tuple[str, str], tuple] = {}


def _run_inputs(spec: TaskSpec) -> tuple:
    """The run's parameters and ingested files, read once per worker and run: neither changes while
    the run holds the database (CONTRACT §4 records them in the manifest at its start)."""
    from auditlib.db import ingested_files

    key = (spec.run_dir, spec.run_id)
    if key not in _RUN_INPUTS:
        _RUN_INPUTS.clear()
        _RUN_INPUTS[key] = (spec.options.load_params(), ingested_files(spec.options.db))
    return _RUN_INPUTS[key]


__all__ = ["TaskKind", "TaskSpec", "TaskResult", "execute_task", "error_summary", "warm_worker", "import_worker_modules"]
