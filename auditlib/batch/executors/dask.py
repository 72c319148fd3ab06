"""Running tasks on a Dask distributed scheduler (``auditlib run --scheduler tcp://host:port``).

Each task is one future calling :func:`~auditlib.batch.tasks.execute_task` on a Dask worker
(its warm kernels are kept per worker thread); the workers must see the same database,
notebooks and run folder paths.  :meth:`DaskExecutor.warm` has each worker start its kernel
while the run plans and computes the findings; the overview runs on a worker's warm kernel too.
"""
from __future__ import annotations

from auditlib.batch.kernels import KernelCall, call
from auditlib.batch.tasks import TaskResult, TaskSpec, error_summary, execute_task, warm_worker


class DaskExecutor:
    """Tasks as futures on the scheduler at ``address``."""

    def __init__(self, address: str, lang: str):
        self.address, self.lang = address, lang
        self._client = None
        self._warming: list = []

    def _connect(self):
        if self._client is None:
            from distributed import Client

            self._client = Client(self.address, set_as_default=False)
        return self._client

    def warm(self, options, tasks: int | None = None) -> None:
        """One warm-up future per worker (:func:`~auditlib.batch.tasks.warm_worker`, on the thread
        that runs its tasks), so each worker's kernel starts before its first task."""
        import uuid

        if self._warming:  # already warming
            return
        client = self._connect()
        workers = list(client.scheduler_info().get("workers", {}))[: tasks or None]
        tag = uuid.uuid4().hex[:8]
        self._warming = [client.submit(warm_worker, options, pure=False, workers=[w], allow_other_workers=False,
                                       key=f"auditlib-warm-{tag}-{i}") for i, w in enumerate(workers)]

    def run(self, specs: list[TaskSpec], on_result) -> None:
        import uuid

        from distributed import as_completed

        client = self._connect()
        tag = uuid.uuid4().hex[:8]
        # a higher priority runs first: the order given
        futures = {client.submit(*((call, s) if isinstance(s, KernelCall) else (execute_task, s)), pure=False,
                                 key=f"auditlib-{tag}-{i}", priority=len(specs) - i): s
                   for i, s in enumerate(specs)}
        for fut in as_completed(list(futures), loop=client.loop):
            on_result(self._collect(fut, futures[fut]))

    def close(self, now: bool = False) -> None:
        """Let go of the scheduler (its workers keep running, their kernels warm)."""
        client, self._client = self._client, None
        if client is not None:
            if now:
                for fut in self._warming:
                    fut.cancel()
            self._warming = []
            client.close()

    def _collect(self, fut, spec: TaskSpec) -> TaskResult:
        """A future's result; a worker that died becomes a failed record for its task."""
        try:
            return fut.result()
        except Exception as exc:
            if isinstance(spec, KernelCall):
                return spec.outcome(error=f"{type(exc).__name__}: {exc}")
            summary, full = error_summary(exc)
            return TaskResult.worker_died(spec, self.lang, f": {summary}", full)
