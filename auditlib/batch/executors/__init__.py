"""Where a run's tasks execute: one small interface, one module per executor.

An :class:`Executor` runs a list of :class:`~auditlib.batch.tasks.TaskSpec` and calls
``on_result`` in the run's process with each :class:`~auditlib.batch.tasks.TaskResult` as it
comes.  A task never raises (its errors come back as records), and a worker that dies
becomes a failed record for the task it held, so one failure never loses another result.

- :mod:`.local`: worker processes on this machine, with a watchdog (the default);
- :mod:`.dask`: a Dask distributed scheduler (``--scheduler``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from auditlib.batch.options import RunOptions

if TYPE_CHECKING:  # the run starts its workers before it imports pandas (which the tasks need)
    from auditlib.batch.tasks import TaskResult, TaskSpec

OnResult = Callable[["TaskResult"], None]


class Executor(Protocol):
    """Runs tasks; see the module docstring."""

    def run(self, specs: list[TaskSpec], on_result: OnResult) -> None:
        """Run ``specs`` (inspections, the overview, and :class:`~auditlib.batch.kernels.KernelCall`
        jobs, whose result is their outcome dict), calling ``on_result`` with each result in this
        process; the workers take them in the order given (as far as the executor can)."""
        ...


def executor_for(options: RunOptions) -> Executor:
    """The executor ``options`` ask for: Dask when a scheduler is given, else local processes."""
    if options.scheduler:
        from auditlib.batch.executors.dask import DaskExecutor

        return DaskExecutor(options.scheduler, options.lang)
    from auditlib.batch.executors.local import LocalExecutor

    return LocalExecutor(options.workers, options.lang)


__all__ = ["Executor", "OnResult", "executor_for"]
