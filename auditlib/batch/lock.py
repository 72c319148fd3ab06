"""The run lock, and the temporary files an interrupted run left behind."""
from __future__ import annotations

import contextlib
from pathlib import Path

from auditlib.common.files import remove_parts
from auditlib.errors import RunError
from auditlib.i18n import register, t

#: the lock file in a run folder
LOCK = ".lock"

register({
    "run.busy": ("批次 {run_id} 正由另一个进程运行（{path}）；请等其结束后再续跑",
                 "run {run_id} is being run by another process ({path}); resume it when that one ends"),
})


@contextlib.contextmanager
def run_lock(run_dir: Path, run_id: str, lang):
    """Hold ``run_dir/.lock`` (an exclusive ``flock``) while this process works on the run.

    A second ``--resume`` of a run that is still going is refused instead of writing the same
    files twice.  The lock goes with the process, so a killed run never leaves it held.
    """
    if not run_dir.is_dir():
        yield
        return
    fh = open(run_dir / LOCK, "a+")
    try:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            pass
        except OSError:
            raise RunError(t("run.busy", lang, run_id=run_id, path=run_dir), reason="busy") from None
        yield
    finally:
        fh.close()


def remove_stale_parts(run_dir: Path) -> int:
    """Delete the temporary files an interrupted run left (never a final name); their count."""
    return remove_parts(run_dir)
