"""The options of one batch run, and the statuses its tasks end in.

:class:`RunOptions` is built once by :func:`auditlib.batch.run.run` (paths made absolute,
the workspace and its default parameters resolved) and handed down unchanged to the plan,
the executors and every task, so a worker runs exactly what the run decided.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from auditlib.errors import ParameterError

#: the Jupyter kernel the notebooks run on unless told otherwise
KERNEL = "auditlib"
LANGS = ("zh", "en")


class TaskStatus(str, Enum):
    """What became of a task (the ``status`` of its manifest record; the JSON holds the value)."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"


class RunStatus(str, Enum):
    """The ``status`` of a run's manifest."""

    RUNNING = "running"
    FINISHED = "finished"


@dataclass(frozen=True)
class RunOptions:
    """Everything a batch run was asked to do, resolved; plain data, picklable.

    Parameters
    ----------
    db : Path
        The audit database (absolute).
    params_file : str
        Parameters YAML laid over ``default_params`` (absolute), or ``""`` for none.
    units, inspections : tuple of str
        What to run; empty for all.
    out : Path
        Folder holding the runs (absolute); the run writes ``out/<run_id>/``.
    run_id : str or None
        None for a timestamp.
    resume : bool
        Finish the run ``run_id``, redoing only tasks that are not ok.
    workers : int or None
        Local worker processes (None: the CPU count).
    scheduler : str or None
        Dask scheduler address; local processes when None.
    notebooks : Path
        Folder of the notebook templates (absolute).
    kernel : str
        Jupyter kernel name.
    cell_timeout, start_timeout : int
        Seconds a cell may run, and a kernel may take to start.
    lang : str or None
        ``zh`` or ``en``; None for the parameters' ``lang``.
    progress : bool
        Show a progress bar.
    reuse_kernels : bool
        One warm kernel per worker, reset between notebooks.
    workspace : str
        The audit workspace the run resolved (``""`` outside any): tasks, kernels and Dask
        workers use the same one.
    default_params : str
        The defaults file every parameter file is laid over.
    register : str
        The findings register (疑点登记簿) whose decisions give the findings their statuses
        (absolute), or ``""`` for none (every finding 待核实).
    baseline : str
        An earlier run folder to compare with (absolute; CONTRACT §6), or ``""`` for none.
    """

    db: Path
    notebooks: Path
    params_file: str = ""
    units: tuple[str, ...] = ()
    inspections: tuple[str, ...] = ()
    out: Path = Path("outputs")
    run_id: str | None = None
    resume: bool = False
    workers: int | None = None
    scheduler: str | None = None
    kernel: str = KERNEL
    cell_timeout: int = 600
    start_timeout: int = 120
    lang: str | None = None
    progress: bool = True
    reuse_kernels: bool = True
    workspace: str = ""
    default_params: str = ""
    register: str = ""
    baseline: str = ""

    def __post_init__(self) -> None:
        def bad(key: str, why: str):
            return ParameterError(f"{key}: {why}", file="", key=key, reason="invalid option")

        for key in ("units", "inspections"):
            value = getattr(self, key)
            if isinstance(value, (str, bytes)) or not isinstance(value, tuple) \
                    or not all(isinstance(v, str) for v in value):
                raise bad(key, "a tuple of str")
        for key in ("cell_timeout", "start_timeout"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(key, "a whole number of seconds >= 1")
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise bad("workers", "a whole number >= 1")
        if not isinstance(self.kernel, str) or not self.kernel:
            raise bad("kernel", "a kernel name")
        if self.lang is not None and self.lang not in LANGS:
            raise bad("lang", f"one of {', '.join(LANGS)}")
        for key in ("db", "notebooks", "out"):
            if not isinstance(getattr(self, key), Path):
                raise bad(key, "a path")
        for key in ("register", "baseline"):
            if not isinstance(getattr(self, key), str):
                raise bad(key, "a path as text, or empty")

    @classmethod
    def resolve(cls, db, params_file=None, units=None, inspections=None, out="outputs", run_id=None,
                resume=False, workers=None, scheduler=None, notebooks=None, kernel=KERNEL, cell_timeout=600,
                progress=True, lang=None, reuse_kernels=True, register=None, baseline=None) -> "RunOptions":
        """The options of :func:`auditlib.batch.run.run`'s arguments: paths absolute, the workspace,
        its default parameters and notebook templates found once, here.

        ``register`` None means the default register (``register.jsonl`` beside the database)
        when that file exists, else none; ``baseline`` None means no comparison."""
        from auditlib.batch.kernels import kernel_for_run
        from auditlib.workspace import default_params_file, find_workspace, notebooks_dir

        workspace = find_workspace()
        if resume and run_id and (register is None or baseline is None):
            register, baseline = _recorded(Path(out).resolve() / str(run_id), register, baseline)
        return cls(
            db=Path(db).resolve(),
            params_file=str(Path(params_file).resolve()) if params_file else "",
            units=tuple(str(u) for u in units) if units else (),
            inspections=tuple(str(i) for i in inspections) if inspections else (),
            out=Path(out).resolve(),
            run_id=None if run_id is None else str(run_id),
            resume=bool(resume),
            workers=None if workers is None else int(workers),
            scheduler=scheduler or None,
            notebooks=Path(notebooks).resolve() if notebooks else notebooks_dir().resolve(),
            kernel=kernel_for_run(kernel) if kernel else kernel,
            cell_timeout=int(cell_timeout),
            lang=lang or None,
            progress=bool(progress),
            reuse_kernels=bool(reuse_kernels),
            workspace=str(workspace) if workspace else "",
            default_params=str(default_params_file()),
            register=register_path(db, register),
            baseline=str(Path(baseline).resolve()) if baseline else "",
        )

    def load_params(self):
        """The run's parameters: ``params_file`` laid over ``default_params``."""
        from auditlib.rules.params import load_params

        if self.default_params:
            return load_params(self.params_file or None, default=self.default_params)
        return load_params(self.params_file or None)

    def environment(self) -> dict[str, str | None]:
        """The environment tasks run in (None: unset): the run's workspace for kernels and workers."""
        from auditlib.workspace import ENV

        return {ENV: self.workspace or None}


def _recorded(run_dir: Path, register, baseline):
    """On ``--resume``: the register and baseline the run began with, where not given again."""
    import json

    try:
        data = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return register, baseline
    if register is None and data.get("register"):
        register = data["register"]["path"]
    if baseline is None and data.get("baseline"):
        baseline = data["baseline"]["path"]
    return register, baseline


def register_path(db, register=None) -> str:
    """The register a run reads (absolute): ``register`` when given, else the default one beside
    ``db`` when it exists, else ``""`` (none)."""
    from auditlib.review.register import Register

    if register:
        return str(Path(register).resolve())
    default = Register.beside(db).path
    return str(default) if default.is_file() else ""


def apply_environment(env: dict[str, str | None]) -> dict[str, str | None]:
    """Set ``env`` in this process (None unsets); returns the previous values to restore."""
    before = {k: os.environ.get(k) for k in env}
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return before
