"""``notebooks/sampling.ipynb``: parameterized like the others, checked by nbval on the sample county,
rendered to reviewer HTML, and never a batch inspection."""
from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest

from auditlib.rules.catalogue import INSPECTIONS
from auditlib.workspace import notebooks_dir

NOTEBOOK = notebooks_dir() / "sampling.ipynb"

pytestmark = pytest.mark.batch


def test_sampling_notebook_is_a_thin_parameterized_report_and_not_an_inspection():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata.kernelspec.name == "auditlib"
    first = nb.cells[0]
    assert first.metadata.get("tags") == ["parameters"]
    for param in ("db", "unit", "params_file", "lang", "seed", "out"):
        assert f'\n{param} = ""' in "\n" + first.source, param
    checked = [c for c in nb.cells if c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert len(checked) == 1 and checked[0].outputs
    for cell in nb.cells:
        assert cell.cell_type == "code" and len(cell.source.splitlines()) <= 10
        if cell is not checked[0]:
            assert not cell.get("outputs")
    assert "sampling" not in INSPECTIONS


def test_nbval_runs_the_sampling_notebook(sample_db, tmp_path):
    env = {**os.environ, "AUDITLIB_DB": str(sample_db)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", str(NOTEBOOK)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    total = sum(c.cell_type == "code" for c in nbformat.read(NOTEBOOK, as_version=4).cells)
    assert f"{total} passed" in proc.stdout


def test_executed_with_out_it_writes_the_workbook_and_renders_to_html(sample_db, tmp_path):
    from nbclient import NotebookClient

    from auditlib.outputs.html_export import export_html, external_urls

    nb = nbformat.read(NOTEBOOK, as_version=4)
    out = tmp_path / "sample-0011"
    nb.cells[0].source += f'\ndb = {str(sample_db)!r}\nunit = "0011"\nout = {str(out)!r}\nexpense_types = ""\n'
    NotebookClient(nb, kernel_name="auditlib", timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert (out / "sample.xlsx").is_file() and (out / "plan.json").is_file()
    html = export_html(nb, tmp_path / "sampling.html").read_text(encoding="utf-8")
    assert "审计抽样：0011" in html and "高额层" in html and "<img" in html
    assert not external_urls(html)
