"""Running tasks on worker processes of this machine (the default executor).

Each worker is a spawned process given one task at a time through a pipe, so the run always
knows which task each worker holds: a worker that dies (killed, out of memory, a crash in
native code) fails that task only; it is recorded with the worker's exit code, a fresh worker
takes its place and the other tasks go on.  A watchdog thread in each worker stops it when
the run's process is gone, so a killed run leaves no worker writing into its folder.  Once
every task is done, one idle worker runs the overview on its warm kernel.

:meth:`LocalExecutor.warm` starts the workers, and each its kernel, before the tasks are ready
(while the run computes the findings); :meth:`LocalExecutor.close` waits for them to be gone.
"""
from __future__ import annotations

import os
import signal
import sys
import time

from auditlib.batch.kernels import shutdown_kernels, skip_slow_imports
from auditlib.batch.tasks import TaskResult, TaskSpec, execute_task, warm_worker

#: the message index of a warm-up (no result is sent back)
WARM_UP = -2


def _worker_main(conn, parent_pid: int) -> None:
    """A local worker process: run the tasks it is sent one at a time and send back each result.

    It stops when told (``None``), when the run's pipe closes, or when the run's process is
    gone (a watchdog thread).
    """
    import threading

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
                warm_worker(spec)
                continue
            result = execute_task(spec)
            try:
                conn.send((i, result))
            except OSError:
                break
    finally:
        shutdown_kernels()
        conn.close()


class LocalExecutor:
    """Tasks on ``workers`` local processes (default: the CPU count, at most one per task)."""

    def __init__(self, workers: int | None, lang: str):
        self.workers, self.lang = workers, lang
        self._slots: list[dict] = []
        self._leaving: list = []  # processes told to stop, joined by close()

    def _count(self, specs: list[TaskSpec]) -> int:
        return max(1, min(int(self.workers or os.cpu_count() or 1), len(specs)))

    def _launch(self) -> dict:
        import multiprocessing as mp

        here, there = mp.get_context("spawn").Pipe()
        proc = mp.get_context("spawn").Process(target=_worker_main, args=(there, os.getpid()),
                                               name="auditlib-worker")
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

    def run(self, specs: list[TaskSpec], on_result, then=None, meanwhile=None) -> TaskResult | None:
        """See :class:`~auditlib.batch.executors.Executor`; ``meanwhile`` is called in this process
        while a worker runs the spec ``then`` gave."""
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
            idle = [s for s in slots if s["task"] is None and s is not slot]
            if then is None or idle:
                self._retire(slot)  # else it stays, idle, for the last spec

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
                        result = TaskResult.worker_died(spec, self.lang, f" (exit code {slot['proc'].exitcode})")
                        slot["conn"].close()
                        slots.remove(slot)
                        slot = self._launch() if queue else None
                    on_result(result)
                    if slot is not None:
                        slot["task"] = None
                        feed(slot)
            idle = [s for s in slots if s["task"] is None and s["proc"].is_alive()]
            if then is not None and idle:
                slot = idle[0]
                try:
                    slot["conn"].send((-1, then()))
                    slot["task"] = -1
                    if meanwhile is not None:
                        meanwhile()
                    ready = wait([slot["conn"], slot["proc"].sentinel])
                    if slot["conn"] in ready and slot["conn"].poll():
                        result = slot["conn"].recv()[1]
                        slot["task"] = None
                        return result
                except (EOFError, OSError):  # the worker died: the caller runs it itself
                    pass
                slot["task"] = None
            return None
        finally:
            for slot in list(slots):
                if slot["task"] is not None:  # interrupted: stop the workers
                    slot["proc"].terminate()
                self._retire(slot)
