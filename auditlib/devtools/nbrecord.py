"""Re-record the shipped notebooks' checked outputs (``make record-notebooks``).

nbval compares the output of the cells marked ``# NBVAL_CHECK_OUTPUT`` with the
output stored in the repository.  This executes each notebook on the sample
county of ``make demo`` (8 units, seed 2024) and keeps only those outputs; every
other cell is stored empty so the notebooks stay small and diff cleanly.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

from auditlib.workspace import notebooks_dir

CHECK = "# NBVAL_CHECK_OUTPUT"


def record(db: str | os.PathLike, names: list[str] | None = None, kernel: str = "auditlib") -> list[Path]:
    """Execute ``notebooks/<name>.ipynb`` on ``db`` and store the checked cells' outputs."""
    from nbclient import NotebookClient

    notebooks = notebooks_dir()
    paths = [notebooks / f"{n}.ipynb" for n in names] if names else sorted(notebooks.glob("*.ipynb"))
    old = os.environ.get("AUDITLIB_DB")
    os.environ["AUDITLIB_DB"] = str(Path(db).resolve())
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            executed = nbformat.read(path, as_version=4)
            with tempfile.TemporaryDirectory() as tmp:
                NotebookClient(executed, kernel_name=kernel, timeout=600, resources={"metadata": {"path": tmp}}
                               ).execute()
            for cell, done in zip(nb.cells, executed.cells):
                if cell.cell_type != "code":
                    continue
                checked = cell.source.startswith(CHECK)
                # nbval skips a reference cell that has outputs but no execution count
                cell.execution_count = done.execution_count if checked else None
                # the summary: its printed or displayed output (text/plain and text/html, both compared)
                cell.outputs = [o for o in done.outputs
                                if o.get("output_type") in ("stream", "display_data")] if checked else []
            nbformat.write(nb, path)
    finally:
        if old is None:
            os.environ.pop("AUDITLIB_DB", None)
        else:
            os.environ["AUDITLIB_DB"] = old
    return paths


if __name__ == "__main__":
    for p in record(sys.argv[1] if len(sys.argv) > 1 else "data/audit.duckdb", sys.argv[2:] or None):
        print(p)
