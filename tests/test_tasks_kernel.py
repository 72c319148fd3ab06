"""The worker side of a task: a warm kernel is settled once before its first notebook."""
from __future__ import annotations

import gc

import auditlib.batch.tasks as tasks


def test_a_warm_kernel_is_settled_once_per_kernel(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "execute", lambda km, code: calls.append((km, code)))

    class Kernel:
        pass

    a, b = Kernel(), Kernel()
    assert tasks._settled(a) is a and tasks._settled(a) is a and tasks._settled(b) is b
    assert [km for km, _ in calls] == [a, b]


def test_settling_moves_what_the_start_up_made_out_of_the_collectors_way():
    """What the kernel runs: its objects so far leave the collector's watch (a collection then walks
    only what later notebooks make), and the code leaves no name behind in the namespace."""
    namespace: dict = {}
    before = gc.get_freeze_count()
    try:
        exec(tasks._SETTLE, namespace)
        assert gc.get_freeze_count() > before
        assert set(namespace) <= {"__builtins__"}
    finally:
        gc.unfreeze()
