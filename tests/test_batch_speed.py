"""The batch's shortcuts keep its results: the hand-off splits per unit in one pass and carries the
engine's rules not tested, a chart's PNG takes in what ``bbox_inches="tight"`` does, and the kernels
and workers import only what they need (no kernels started here)."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from auditlib.batch.handoff import (load_task, load_task_evidence, save_task_evidence, unit_slice, unit_slices)
from auditlib.outputs import charts
from auditlib.rules.catalogue import INSPECTIONS
from auditlib.rules.coverage import UNTESTED_COLUMNS
from auditlib.rules.engine import inspect


@pytest.mark.parametrize("inspection", list(INSPECTIONS))
def test_unit_slices_are_the_slices_one_unit_at_a_time(sample_db, inspection):
    ins = inspect(sample_db, inspection)
    units = sorted(set(ins.findings["unit_code"])) + ["no-such-unit"]
    got = unit_slices(ins.findings, ins.evidence, units)
    assert list(got) == units
    for u in units:
        f, ev = unit_slice(ins.findings, ins.evidence, u)
        pd.testing.assert_frame_equal(got[u][0], f)
        assert list(got[u][1]) == list(ev)
        for rid in ev:
            pd.testing.assert_frame_equal(got[u][1][rid], ev[rid])
    assert len(got["no-such-unit"][0]) == 0 and list(got["no-such-unit"][0].columns) == list(ins.findings.columns)


def test_the_hand_off_carries_the_rules_not_tested(tmp_path):
    findings = pd.DataFrame({"unit_code": ["001"], "rule_id": ["DP01"], "ref": ["payments:P1"]})
    gaps = pd.DataFrame([("001", "DP01", "缺少 accepted_on", "missing accepted_on")], columns=UNTESTED_COLUMNS)
    path = tmp_path / "t.pkl"
    save_task_evidence(path, findings, {}, None, untested=gaps)
    task = load_task(path)
    pd.testing.assert_frame_equal(task["untested"], gaps)
    assert task["resolved"] is None
    pd.testing.assert_frame_equal(load_task_evidence(path)[0], findings)
    save_task_evidence(path, findings, {})  # not known: the notebook and the workbook compute them
    assert load_task(path)["untested"] is None


def test_a_report_shows_the_rules_not_tested_the_run_handed_it(sample_db, tmp_path):
    from auditlib.views.report import Report

    ins = inspect(sample_db, "delayed_payments")
    f, ev = unit_slice(ins.findings, ins.evidence, "002")
    rule = ins.findings["rule_id"].iloc[0] if len(ins.findings) else "DP01"
    gaps = pd.DataFrame([("002", "DP05", "交接的原因", "the handed-off reason")], columns=UNTESTED_COLUMNS)
    path = tmp_path / "e.pkl"
    save_task_evidence(path, f, ev, None, untested=gaps)
    report = Report.open(str(sample_db), "002", "delayed_payments", "", "zh", str(path), "r1")
    assert "交接的原因" in report.untested_text("DP05")
    assert report.untested_text(rule) == "" or rule == "DP05"
    computed = Report.open(str(sample_db), "002", "delayed_payments", "", "zh", "", "")
    assert "交接的原因" not in computed.untested_text("DP05")


def _tight(fig: Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _chart() -> Figure:
    charts.use_cjk_font()
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    ax.bar(["甲单位", "乙单位", "丙单位"], [3, 1, 2], label="未支出金额（万元）")
    ax.set_title("各单位沉淀资金")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside the axes: the tight box takes it in
    fig.tight_layout()
    return fig


def _size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(png)).size


@pytest.mark.parametrize("dpi", [100, 200])
def test_a_chart_png_is_cropped_like_a_tight_savefig(dpi):
    """Drawn once and cropped to its ink: the legend outside the figure is in, the box within a few
    pixels of the tight bounding box's (text's layout boxes are a little wider than its ink)."""
    got, tight = _size(charts.figure_png(_chart(), dpi=dpi)), _size(_tight(_chart(), dpi))
    assert all(abs(a - b) <= 4 * dpi // 100 for a, b in zip(got, tight)), (got, tight)


def test_a_chart_drawn_twice_gives_the_same_png():
    fig = _chart()
    assert charts.figure_png(fig) == charts.figure_png(fig) == charts.figure_png(_chart())


def test_a_chart_is_drawn_once_for_its_png():
    """Measured after its one drawing, not drawn again at the box's size (tight_layout done)."""
    fig = _chart()
    draws, draw = [], fig.draw
    fig.draw = lambda renderer: (draws.append(renderer), draw(renderer))[1]
    charts.figure_png(fig)
    assert len(draws) == 1


def test_a_chart_reaching_far_outside_its_figure_is_saved_whole():
    """Ink at the edge of the room drawn around the figure: saved with the tight bounding box."""
    fig = _chart()
    fig.text(-6.0, 0.5, "很远的说明")  # six figure widths to the left
    assert charts.figure_png(fig) == _tight(fig, 100)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_a_kernel_importing_the_views_never_imports_nbformat():
    got = _python("import sys, auditlib.views.report, auditlib.views.overview, auditlib.outputs.charts\n"
                  "print(sorted(m for m in ('nbformat', 'jsonschema', 'xlsxwriter') if m in sys.modules))")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "[]"


def test_the_batch_processes_skip_the_slow_optional_import_and_nbformat_still_validates():
    got = _python("from auditlib.batch.kernels import skip_slow_imports\n"
                  "skip_slow_imports()\n"
                  "import nbformat, sys\n"
                  "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
                  "nbformat.validate(nb)\n"
                  "try:\n"
                  "    import rfc3987_syntax\n"
                  "except ImportError:\n"
                  "    print('skipped')\n")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "skipped"


def test_the_run_starts_its_workers_before_it_imports_pandas():
    got = _python("import sys, auditlib.cli, auditlib.batch.run, auditlib.batch.executors.local, auditlib.batch.kernels\n"
                  "print(sorted(m for m in ('pandas', 'duckdb', 'papermill', 'matplotlib') if m in sys.modules))")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "[]"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_the_runs_process_forks_its_workers_with_their_modules_loaded_and_one_thread():
    """_preload imports what every worker needs without starting a thread, so the workers are
    forked copies (start_method); a process running threads spawns them instead."""
    got = _python("import os, sys\n"
                  "from auditlib.batch.kernels import skip_slow_imports\n"
                  "skip_slow_imports()\n"
                  "from auditlib.batch.executors.local import _preload, start_method\n"
                  "from types import SimpleNamespace\n"
                  "_preload(SimpleNamespace(lang='zh'))\n"
                  "print(start_method(), len(os.listdir('/proc/self/task')), 'papermill' in sys.modules, "
                  "'pandas' in sys.modules)\n"
                  "import threading\n"
                  "threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
                  "print(start_method())\n")
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["fork", "1", "True", "True", "spawn"]


def test_forked_workers_log_warnings_only_even_with_verbose(sample_db, tmp_path):
    """A forked worker inherits the run's logging: --verbose must not pour papermill's every kernel
    message out of the workers (a spawned worker never did)."""
    exe = Path(sys.executable).parent / "auditlib"
    got = subprocess.run([str(exe), "-v", "run", "--db", str(sample_db), "--out", str(tmp_path), "--units", "001",
                          "--inspections", "idle_funds", "--workers", "1", "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-2000:]
    assert "DEBUG papermill" not in got.stderr and "DEBUG traitlets" not in got.stderr
