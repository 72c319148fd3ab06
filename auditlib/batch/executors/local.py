"""Running tasks on worker processes of this machine (the default executor).

Each worker is a spawned process given one task at a time through a pipe, so the run always
knows which task each worker holds: a worker that dies (killed, out of memory, a crash in
native code) fails that task only; it is recorded with the worker's exit code, a fresh worker
takes its place and the other tasks go on.  A watchdog thread in each worker stops it when
the run's process is gone, so a killed run leaves no worker writing into its folder.  Once
every task is done, one idle worker runs the overview on its warm kernel.
"""
from __future__ import annotations

import os
import time

from auditlib.batch.kernels import shutdown_kernels
from auditlib.batch.tasks import TaskResult, TaskSpec, execute_task


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
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg is None:
                break
            i, spec = msg
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

    def run(self, specs: list[TaskSpec], on_result, then=None) -> TaskResult | None:
        import multiprocessing as mp
        from multiprocessing.connection import wait

        ctx = mp.get_context("spawn")
        queue = list(reversed(range(len(specs))))  # pop() gives the next task
        n = max(1, min(int(self.workers or os.cpu_count() or 1), len(specs)))
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
            if then is None:
                retire(slot)  # else it stays, idle, for the last spec

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
                        result = TaskResult.worker_died(spec, self.lang, f" (exit code {slot['proc'].exitcode})")
                        slot["conn"].close()
                        slots.remove(slot)
                        slot = launch() if queue else None
                    on_result(result)
                    if slot is not None:
                        slot["task"] = None
                        feed(slot)
            idle = [s for s in slots if s["task"] is None and s["proc"].is_alive()]
            if then is not None and idle:
                slot = idle[0]
                try:
                    slot["conn"].send((-1, then()))
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
