"""The built wheel works outside the checkout: a fresh venv, ``auditlib init ws``, then from
``ws`` synth, ingest and run, with the package's own defaults, notebooks and kernel."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(args, cwd, env, timeout=900):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A venv outside the checkout with the wheel installed (dependencies seen from the project's venv)."""
    base = tmp_path_factory.mktemp("wheel")
    wheels = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", wheels], ROOT, os.environ.copy())
    wheel = next(wheels.glob("auditlib-*.whl"))
    target = base / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    bin_dir = target / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    # the heavy dependencies: the project's venv site-packages, read after the fresh venv's own
    (site / "_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel], base,
         os.environ.copy())
    return python, bin_dir, site


def test_wheel_installs_and_runs_from_a_fresh_workspace(fresh_venv, tmp_path):
    python, bin_dir, site = fresh_venv
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDITLIB_", "JUPYTER_", "PYTHON"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    # the dependencies' data files (nbconvert's templates, and a kernelspec "auditlib" of the
    # project's interpreter that the run must not use) live in the project's venv
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = _run([python, "-c", "import auditlib, auditlib.workspace as w; print(auditlib.__file__); "
                                "print(w.shipped('params')); print(w.shipped('notebooks'))"], tmp_path, env)
    module, params, notebooks = where.stdout.split()
    for path in (module, params, notebooks):
        assert Path(path).is_relative_to(site), path  # the wheel's own files, not the checkout's
    assert (Path(params) / "default.yaml").is_file() and (Path(params) / "mappings").is_dir()
    assert sorted(p.name for p in Path(notebooks).glob("*.ipynb"))
    templates = Path(module).parent / "outputs" / "templates"
    assert (templates / "index.html.j2").is_file()
    assert (templates / "nbconvert" / "auditlib_report" / "conf.json").is_file()

    auditlib = bin_dir / "auditlib"
    _run([auditlib, "init", "ws"], tmp_path, env)
    ws = tmp_path / "ws"
    assert (ws / "params" / "default.yaml").is_file() and (ws / "README.md").is_file()
    _run([auditlib, "synth", "data"], ws, env)
    _run([auditlib, "ingest", "data", "--db", "data/audit.duckdb"], ws, env)
    con = duckdb.connect(str(ws / "data" / "audit.duckdb"), read_only=True)
    try:
        units = [r[0] for r in con.execute("SELECT unit_code FROM units ORDER BY unit_code LIMIT 2").fetchall()]
    finally:
        con.close()
    assert len(units) == 2
    _run([auditlib, "run", "--db", "data/audit.duckdb", "--units", ",".join(units), "--run-id", "w1",
          "--no-progress", "--workers", "2"], ws, env)
    run_dir = ws / "outputs" / "w1"
    assert (run_dir / "index.html").is_file()
    assert len(list(run_dir.rglob("*.html"))) >= 2 * 3 + 1  # three inspections a unit, the index
    assert list(run_dir.rglob("*.xlsx"))
    with open(run_dir / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["unit_code"] for r in rows} <= set(units)
    kernels = _run([python, "-c", "from auditlib.batch.kernels import kernel_for_run, _runs_this_python as r; "
                                  "k = kernel_for_run(); print(k, r(k))"], ws, env).stdout.split()
    assert kernels[1] == "True", kernels
