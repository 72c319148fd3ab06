"""The worker side of a task: a warm kernel is settled once before its first notebook."""
from __future__ import annotations

import gc

import pytest

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


def _db(tmp_path):
    import duckdb

    path = tmp_path / "a.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    return path


def test_a_run_connection_keeps_the_database_open_only_where_the_environment_says(tmp_path, monkeypatch):
    """A local run's kernel (KEEP_OPEN_ENV set) opens the database once and hands out cursors of it;
    any other process gets a connection of its own, which leaves nothing open once closed."""
    import duckdb

    from auditlib import db as dbmod

    path = _db(tmp_path)
    monkeypatch.setattr(dbmod, "_KEPT", {})
    monkeypatch.delenv(dbmod.KEEP_OPEN_ENV, raising=False)
    con = dbmod.run_connection(path)
    assert con.execute("SELECT x FROM t").fetchone() == (1,)
    con.close()
    assert dbmod._KEPT == {}
    duckdb.connect(str(path)).close()  # nothing left open: a writer gets in

    monkeypatch.setenv(dbmod.KEEP_OPEN_ENV, "1")
    first, second = dbmod.run_connection(path), dbmod.run_connection(tmp_path / "." / "a.duckdb")
    assert first.execute("SELECT x FROM t").fetchone() == second.execute("SELECT x FROM t").fetchone() == (1,)
    first.close()
    second.close()
    assert list(dbmod._KEPT) == [str(path.resolve())]  # one connection, whatever the spelling of the path
    try:
        with pytest.raises(duckdb.Error):  # still open read-only in this process
            duckdb.connect(str(path))
    finally:
        dbmod._KEPT.pop(str(path.resolve())).close()
