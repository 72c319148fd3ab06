"""Warm Jupyter kernels for the batch: start once per worker, reuse for every notebook.

Starting a kernel and importing pandas, DuckDB and matplotlib costs more than running a
report, and so does connecting a fresh client to a running kernel (0.2–0.4 s: papermill
would do it for every notebook and never close it).  Each worker (a process, or a thread
under Dask) keeps one kernel per kernel name with one connected client:

- :func:`start_kernel` starts it (it imports the report modules as it starts) without waiting,
  so a worker can start it early; :func:`warm_kernel` returns it ready (started if needed);
- papermill runs each notebook through the :data:`ENGINE` engine, which hands that client
  to the notebook client instead of connecting a new one;
- :func:`reset_kernel` forgets the last notebook's variables (modules stay imported);
- after any error :func:`discard_kernel` shuts it down, so the next task gets a fresh one;
- a :class:`KernelCall` runs one function of auditlib on the warm kernel (the county deliverables).

The kernels talk over local IPC sockets (Unix domain sockets in a private temporary folder) where
the platform has them, so ipykernel has no reason to warn "Kernel is running over TCP without
encryption"; elsewhere (Windows) they use TCP on localhost and that one line is dropped from the
kernel's stderr (:func:`transport`).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass

ENGINE = "auditlib-warm"
#: the project's kernel (``make venv`` installs it; the notebooks name it in their metadata)
PROJECT_KERNEL = "auditlib"
#: ipykernel's own kernel, which jupyter_client runs on the running interpreter
NATIVE_KERNEL = "python3"
_WARM: dict[tuple[int, str], object] = {}
#: what a warm kernel runs as it starts, before it reports ready (IPython's ``exec_lines``): the
#: modules the notebooks import, and the chart font loaded; the names are deleted again, so the
#: first notebook sees the same empty namespace as the next ones
_STARTUP = ("import auditlib.views.report, auditlib.views.overview, auditlib.outputs.charts; "
            "auditlib.outputs.charts.warm_up(); del auditlib")


#: optional modules whose import costs more than a notebook: jsonschema (under nbformat) compiles a
#: grammar for its ``iri`` format checks when ``rfc3987_syntax`` is installed (~1–2 s per process);
#: a notebook's schema has no such format, so the batch's processes go without it
_SKIPPED_IMPORTS = ("rfc3987_syntax",)


def skip_slow_imports() -> None:
    """Keep this process from importing :data:`_SKIPPED_IMPORTS` (an ImportError, which their
    importers expect for an optional module); call before nbformat is first imported."""
    for name in _SKIPPED_IMPORTS:
        sys.modules.setdefault(name, None)


def start_kernel(name: str):
    """Start this worker's kernel ``name`` unless it runs, without waiting for it: it imports the
    report modules as it starts (:data:`_STARTUP`); :func:`warm_kernel` then waits for it."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    key = (threading.get_ident(), name)
    km = _WARM.get(key)
    if km is not None:
        if run_sync(km.is_alive)():
            return km
        discard_kernel(name)
    km = AsyncKernelManager(kernel_name=name, transport=transport())
    # no SQLite input history: a batch kernel's cells are in its notebooks, and IPython's history
    # thread writes every cell to ~/.ipython (3-6% of a kernel's CPU in a batch)
    startup = [f"--IPKernelApp.exec_lines={_STARTUP}", "--HistoryManager.enabled=False"]
    if km.transport == "ipc":  # short private paths: a socket path may not exceed ~100 bytes
        km._auditlib_ipc_dir = tempfile.mkdtemp(prefix="auditlib-")
        km.ip = os.path.join(km._auditlib_ipc_dir, "k")
        run_sync(km.start_kernel)(extra_arguments=startup)
    else:
        run_sync(km.start_kernel)(stderr=subprocess.PIPE, extra_arguments=startup)
        _forward_stderr(km)
    _WARM[key] = km
    _register_engine()  # (imports papermill: after the kernel is on its way)
    if len(_WARM) == 1:
        import atexit
        from multiprocessing import util

        atexit.register(shutdown_kernels)
        util.Finalize(None, shutdown_kernels, exitpriority=10)
    return km


def warm_kernel(name: str, start_timeout: int = 120):
    """This worker's running kernel ``name`` (an ``AsyncKernelManager``), started if needed, once
    it is ready with its client connected."""
    km = start_kernel(name)
    try:
        client(km, start_timeout)
    except Exception:
        discard_kernel(name)
        raise
    return km


def fresh_kernel_manager_class():
    """The kernel manager papermill starts a fresh kernel with (``--fresh-kernels``): on IPC
    sockets in a private folder where the platform has them, like the warm kernels."""
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            if transport() == "ipc":
                folder = tempfile.mkdtemp(prefix="auditlib-")
                self.transport, self.ip = "ipc", os.path.join(folder, "k")
                weakref.finalize(self, shutil.rmtree, folder, True)

    return IpcKernelManager


#: the line ipykernel logs at start on TCP (dropped from its stderr where IPC is not available)
TCP_WARNING = "Kernel is running over TCP without encryption"


def transport() -> str:
    """``ipc`` where ZeroMQ has IPC sockets (Linux, macOS), else ``tcp``."""
    import zmq

    return "ipc" if os.name == "posix" and zmq.has("ipc") else "tcp"


def _forward_stderr(km) -> None:
    """Copy the kernel's stderr to ours, except the :data:`TCP_WARNING` line."""
    stream = getattr(getattr(km, "provisioner", None), "process", None)
    stream = getattr(stream, "stderr", None)
    if stream is None:
        return

    def forward():
        for line in iter(stream.readline, b""):
            text = line.decode("utf-8", "replace")
            if TCP_WARNING not in text:
                sys.stderr.write(text)

    threading.Thread(target=forward, name="kernel-stderr", daemon=True).start()


def client(km, timeout: int = 60):
    """The one connected client of the warm kernel ``km`` (made on first use)."""
    kc = getattr(km, "_auditlib_client", None)
    if kc is None:
        from jupyter_core.utils import run_sync

        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=timeout)
        except Exception:
            kc.stop_channels()
            raise
        km._auditlib_client = kc
    return kc


def execute(km, code: str, timeout: int = 60) -> None:
    """Run ``code`` on the warm kernel ``km``; a kernel-side error raises RuntimeError."""
    from jupyter_core.utils import run_sync

    reply = run_sync(client(km, timeout).execute_interactive)(
        code, timeout=timeout, store_history=False, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"kernel: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")


def reset_kernel(km) -> None:
    """Forget the last notebook's variables; keep imported modules warm.

    No explicit ``gc.collect()``: it costs ~50 ms a notebook and the kernel's own collector
    frees the figures' reference cycles soon enough.
    """
    execute(km, "get_ipython().reset(new_session=False)")


@dataclass(frozen=True)
class KernelCall:
    """A function called on this worker's warm kernel, where the report modules, matplotlib and its
    chart font are loaded already (the run's county deliverables: :func:`auditlib.outputs.county.write_county`).

    Plain data, picklable: ``function`` is ``"package.module:name"``, ``kwargs`` JSON-able; calling
    the object returns the function's JSON-able result.  A kernel-side error raises RuntimeError
    (the kernel is then discarded, like after a failed notebook).
    """

    kernel: str
    function: str
    kwargs: dict
    timeout: int = 600
    start_timeout: int = 120

    def __call__(self):
        import json

        module, _, name = self.function.partition(":")
        folder = tempfile.mkdtemp(prefix="auditlib-")
        out = os.path.join(folder, "result.json")
        code = (f"import importlib as _i, json as _j\n"
                f"with open({out!r}, 'w', encoding='utf-8') as _f:\n"
                f"    _j.dump(getattr(_i.import_module({module!r}), {name!r})(**_j.loads({json.dumps(self.kwargs)!r})), _f)\n"
                f"del _i, _j, _f")
        try:
            km = warm_kernel(self.kernel, self.start_timeout)
            try:
                execute(km, code, timeout=self.timeout)
                reset_kernel(km)
            except Exception:
                discard_kernel(self.kernel)
                raise
            with open(out, encoding="utf-8") as fh:
                return json.load(fh)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def outcome(self, value=None, error: str | None = None) -> dict:
        """What became of the call: ``{"call", "value", "error"}`` (error None when it returned)."""
        return {"call": self.function, "value": value, "error": error}


def call(job: KernelCall) -> dict:
    """Run ``job``; its :meth:`~KernelCall.outcome`, never an exception."""
    try:
        return job.outcome(value=job())
    except Exception as exc:  # noqa: BLE001 - a record, like a task's
        return job.outcome(error=f"{type(exc).__name__}: {exc}")


def discard_kernel(name: str) -> None:
    """Shut down this worker's kernel ``name`` (its state is unknown after an error)."""
    km = _WARM.pop((threading.get_ident(), name), None)
    if km is not None:
        _stop(km)


def shutdown_kernels() -> None:
    """Shut down every warm kernel of this process (at exit)."""
    while _WARM:
        _, km = _WARM.popitem()
        _stop(km)


def _stop(km) -> None:
    from jupyter_core.utils import run_sync

    kc = getattr(km, "_auditlib_client", None)
    if kc is not None:
        km._auditlib_client = None
        try:
            kc.stop_channels()
        except Exception:  # already closed
            pass
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # already dead
        pass
    ipc_dir = getattr(km, "_auditlib_ipc_dir", None)
    if ipc_dir:
        shutil.rmtree(ipc_dir, ignore_errors=True)


_registered = False


def _register_engine() -> None:
    """Register :data:`ENGINE` with papermill: its NBClient engine, given the warm client."""
    global _registered
    if _registered:
        return
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class _WarmClient(PapermillNotebookClient):
        def __init__(self, nb_man, km=None, **kw):
            super().__init__(nb_man, km=km, **kw)
            self.kc = client(km, int(kw.get("startup_timeout") or 60))

    class WarmKernelEngine(NBClientEngine):
        """papermill's nbclient engine (same arguments), reusing the warm kernel's connected client."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logging.getLogger("papermill"),
                                 log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            return _WarmClient(nb_man, **final).execute()

    papermill_engines.register(ENGINE, WarmKernelEngine)
    _registered = True


def kernel_for_run(name: str = PROJECT_KERNEL) -> str:
    """The kernel a run uses for ``name``: a kernel of the running interpreter.

    Another kernel name is returned as given.  The project's kernel (:data:`PROJECT_KERNEL`)
    is kept when its kernelspec runs this interpreter; when it is missing or points at another
    interpreter (an installed wheel in a fresh venv, a kernelspec left by another checkout), a
    kernelspec of this interpreter is installed into ``sys.prefix`` under that name, or, if that
    cannot be written or is shadowed by another, ipykernel's :data:`NATIVE_KERNEL` is used.  So
    the notebooks always run the code of the ``auditlib`` that runs the batch.
    """
    if name != PROJECT_KERNEL or _runs_this_python(name):
        return name
    try:
        from ipykernel.kernelspec import install

        install(kernel_name=name, display_name="auditlib (Python 3)", prefix=sys.prefix)
    except (ImportError, OSError) as exc:  # a read-only prefix
        logging.getLogger(__name__).info("cannot install kernelspec %s into %s: %s", name, sys.prefix, exc)
    if _runs_this_python(name):
        return name
    return NATIVE_KERNEL


def _runs_this_python(name: str) -> bool:
    """Whether kernelspec ``name`` exists and starts the running interpreter."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(name).argv
    except NoSuchKernel:
        return False
    if not argv:
        return False
    major, minor = sys.version_info[:2]
    if argv[0] in ("python", f"python{major}", f"python{major}.{minor}"):
        return True  # jupyter_client starts these as sys.executable
    return os.path.abspath(argv[0]) == os.path.abspath(sys.executable)
