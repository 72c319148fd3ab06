"""Running tasks on a Dask distributed scheduler (``auditlib run --scheduler tcp://host:port``).

Each task is one future calling :func:`~auditlib.batch.tasks.execute_task` on a Dask worker
(its warm kernels are kept per worker thread); the workers must see the same database,
notebooks and run folder paths.  The overview is left to the run's process.
"""
from __future__ import annotations

from auditlib.batch.tasks import TaskResult, TaskSpec, error_summary, execute_task


class DaskExecutor:
    """Tasks as futures on the scheduler at ``address``."""

    def __init__(self, address: str, lang: str):
        self.address, self.lang = address, lang

    def run(self, specs: list[TaskSpec], on_result, then=None) -> TaskResult | None:
        from distributed import Client, as_completed

        with Client(self.address, set_as_default=False) as client:
            futures = {client.submit(execute_task, s, pure=False, key=f"auditlib-{s.run_id}-{i}"): s
                       for i, s in enumerate(specs)}
            for fut in as_completed(list(futures), loop=client.loop):
                on_result(self._collect(fut, futures[fut]))
        return None

    def _collect(self, fut, spec: TaskSpec) -> TaskResult:
        """A future's result; a worker that died becomes a failed record for its task."""
        try:
            return fut.result()
        except Exception as exc:
            summary, full = error_summary(exc)
            return TaskResult.worker_died(spec, self.lang, f": {summary}", full)
