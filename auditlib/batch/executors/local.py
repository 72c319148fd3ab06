"""Running tasks on worker processes of this machine (the default executor).

Each worker is a process (forked while the run's process is single-threaded, else spawned:
:func:`start_method`) given one task at a time through a pipe, so the run always
knows which task each worker holds: a worker that dies (killed, out of memory, a crash in
native code) fails that task only; it is recorded with the worker's exit code, a fresh worker
takes its place and the other tasks go on.  A watchdog thread in each worker stops it when
the run's process is gone, so a killed run leaves no worker writing into its folder.  A worker
with no task left stops at once, while the others finish.

:meth:`LocalExecutor.warm` starts the workers, and each its kernel, before the tasks are ready
(while the run computes the findings); :meth:`LocalExecutor.close` waits for them to be gone.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from auditlib.batch.kernels import KernelCall, call, shutdown_kernels, skip_slow_imports, start_kernel
from auditlib.batch.options import apply_environment

if TYPE_CHECKING:
    from auditlib.batch.tasks import TaskSpec

#: the message index of a warm-up (no result is sent back)
WARM_UP = -2


def _worker_main(conn, parent_pid: int) -> None:
    """A local worker process: run the tasks it is sent one at a time and send back each result.

    It stops when told (``None``), when the run's pipe closes, or when the run's process is
    gone (a watchdog thread).
    """
    import logging
    import threading

    # a forked worker has the run's logging (its level DEBUG with --verbose): it logs what a spawned
    # one does, warnings and errors, never papermill's every kernel message
    logging.getLogger().setLevel(logging.WARNING)

    def watchdog():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(3)  # the kernels follow: ipykernel exits when its parent changes

    threading.Thread(target=watchdog, name="auditlib-watchdog", daemon=True).start()
    if hasattr(signal, "SIGTERM"):  # terminated (a run stopped early): still shut the kernel down
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    skip_slow_imports()
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg is None:
                break
            i, spec = msg
            if i == WARM_UP:
                _warm_up(spec)
                continue
            if isinstance(spec, KernelCall):
                result = call(spec)
            else:
                from auditlib.batch.tasks import execute_task

                result = execute_task(spec)
            try:
                conn.send((i, result))
            except OSError:
                break
    finally:
        shutdown_kernels()
        conn.close()
    # done: skip the interpreter's teardown of pandas, papermill, nbconvert ... (a few tenths of a
    # second the run would wait for); the kernel is shut down and every file written is closed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def start_method() -> str:
    """How to start a worker: ``"fork"`` on Linux from a process that runs one thread (the run's
    process before it opens the database or imports numpy: nothing a thread holds can be caught
    half-way in the copy), so a worker starts with the modules imported already; else ``"spawn"``
    (a fresh interpreter that imports them itself)."""
    if sys.platform.startswith("linux"):
        try:
            if len(os.listdir("/proc/self/task")) == 1:
                return "fork"
        except OSError:
            pass
    return "spawn"


def _preload(options) -> None:
    """Import in the run's process, before it forks its workers, what every worker imports
    (papermill, the kernel client, pandas and the workbook writer, the HTML exporter built): each
    worker is then a copy that has it already.  numpy's BLAS is kept to one thread (unless the
    environment says otherwise), as it would otherwise start a pool of threads on import and the
    workers would be spawned after all (:func:`start_method`); the batch runs one worker per core."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import jupyter_client.manager  # noqa: F401

    from auditlib.batch.tasks import import_worker_modules

    import_worker_modules(options.lang)


def _warm_up(options) -> None:
    """Start the kernel first (it imports the report modules in its own process meanwhile), then
    import what the tasks need here (pandas, papermill ...): :func:`~auditlib.batch.tasks.warm_worker`."""
    from auditlib.db import KEEP_OPEN_ENV  # (imported by the preload already: the run forks after it)

    # the kernels of this worker end with the run (which holds the database read-only meanwhile):
    # they may keep the database open from one notebook to the next (auditlib.db.run_connection)
    os.environ[KEEP_OPEN_ENV] = "1"
    if options.reuse_kernels:
        apply_environment(options.environment())  # the kernel inherits it
        try:
            start_kernel(options.kernel)
        except Exception:  # noqa: BLE001 - warm_worker (and else the first task) starts it again and says why
            pass
    from auditlib.batch.tasks import warm_worker

    warm_worker(options)


class LocalExecutor:
    """Tasks on ``workers`` local processes (default: the CPU count, at most one per task)."""

    def __init__(self, workers: int | None, lang: str):
        self.workers, self.lang = workers, lang
        self._slots: list[dict] = []
        self._leaving: list = []  # processes told to stop, joined by close()

    def _count(self, specs: list["TaskSpec"]) -> int:
        return max(1, min(int(self.workers or os.cpu_count() or 1), len(specs)))

    def _launch(self) -> dict:
        import multiprocessing as mp

        context = mp.get_context(start_method())
        here, there = context.Pipe()
        proc = context.Process(target=_worker_main, args=(there, os.getpid()), name="auditlib-worker")
        proc.start()
        there.close()
        slot = {"proc": proc, "conn": here, "task": None}
        self._slots.append(slot)
        return slot

    def warm(self, options, tasks: int | None = None) -> None:
        """Start the workers a run of ``tasks`` tasks (unknown: None) will need, each warming up for
        ``options`` (:func:`warm_worker`: its kernel started) while this process goes on planning
        and computing the findings; :meth:`run` then gives them the tasks."""
        count = max(1, int(self.workers or os.cpu_count() or 1))
        if tasks is not None:
            count = min(count, max(1, tasks))
        if count > len(self._slots) and start_method() == "fork":
            _preload(options)  # once here, not once in every worker
        for _ in range(count - len(self._slots)):
            slot = self._launch()
            try:
                slot["conn"].send((WARM_UP, options))
            except OSError:  # died at once: run() finds it gone
                pass

    def _retire(self, slot: dict) -> None:
        """Tell ``slot``'s worker to stop (it shuts its kernel down); :meth:`close` waits for it."""
        try:
            slot["conn"].send(None)
        except OSError:
            pass
        slot["conn"].close()
        if slot in self._slots:
            self._slots.remove(slot)
        self._leaving.append(slot["proc"])

    def close(self, now: bool = False) -> None:
        """Stop every worker and wait for them to be gone; a worker still busy (or, ``now``, any
        worker: the run stopped before its tasks) is terminated."""
        for slot in list(self._slots):
            if now or slot["task"] is not None:
                slot["proc"].terminate()
            self._retire(slot)
        while self._leaving:
            proc = self._leaving.pop()
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)

    def run(self, specs: list["TaskSpec"], on_result) -> None:
        """See :class:`~auditlib.batch.executors.Executor`: the tasks are taken in the order given."""
        from multiprocessing.connection import wait

        queue = list(reversed(range(len(specs))))  # pop() gives the next task
        n = self._count(specs)
        slots = self._slots

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
                    slot = self._launch()
                    continue
                slot["task"] = i
                return
            self._retire(slot)  # nothing left for it: it stops (its kernel too) while the others finish

        try:
            for slot in slots[n:]:  # started for more tasks than there are
                self._retire(slot)
            while len(slots) < n:
                self._launch()
            for slot in list(slots):
                feed(slot)
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
                        detail = f" (exit code {slot['proc'].exitcode})"
                        if isinstance(spec, KernelCall):
                            result = spec.outcome(error=f"worker died{detail}")
                        else:
                            from auditlib.batch.tasks import TaskResult

                            result = TaskResult.worker_died(spec, self.lang, detail)
                        slot["conn"].close()
                        slots.remove(slot)
                        slot = self._launch() if queue else None
                    if slot is not None:  # its next task first: recording this one (a manifest save) can wait
                        slot["task"] = None
                        feed(slot)
                    on_result(result)
        finally:
            for slot in list(slots):
                if slot["task"] is not None:  # interrupted: stop the workers
                    slot["proc"].terminate()
                self._retire(slot)
