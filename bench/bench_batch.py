"""Batch speed: where one notebook's time goes, and ``auditlib run`` timed at several sizes.

- :func:`profile_notebook` runs one unit's inspection notebooks through the batch's own task
  code, step by step, in this process and its warm kernel, and times each step: kernel start
  (once per worker), notebook execution (cells and kernel round-trips, charts apart), charts
  (drawn and turned into PNG, in the kernel), HTML export, workbook, and I/O (the hand-off
  read and the notebook written);
- :func:`time_batch` times one ``auditlib run`` in a fresh measuring process (wall and CPU
  seconds, per notebook), locally or on a Dask scheduler;
- :func:`dask_cluster` is a Dask scheduler with two single-threaded worker processes on loopback;
- :func:`markdown` renders either result (or a list of them) as a Markdown table.

Standalone::

    python bench/bench_batch.py WORK [--db DB] [--units 6,8] [--dask] [--workers 2]

makes the sample county under ``WORK`` when no ``--db`` is given, prints the profile and the
batch timings.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import measure  # noqa: E402  (bench/measure.py)

#: the steps of one notebook, in the order they happen
STEPS = ("execution", "charts", "html", "workbook", "io")
STEP_LABELS = {"kernel_start": "kernel start and imports (once per worker)",
               "execution": "notebook execution (cells, kernel round-trips; charts apart)",
               "charts": "charts (drawn, PNG), in the kernel", "html": "HTML export",
               "workbook": "workbook (xlsx)", "io": "I/O (hand-off read, ipynb written)"}

#: run in the kernel: time spent in the chart functions, summed per process
_CHART_TIMER = r"""
import auditlib.outputs.charts as _c
if not hasattr(_c, "_bench_seconds"):
    _c._bench_seconds = [0.0]
    def _timed(f, c=_c):
        import time
        def g(*a, **k):
            s = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                c._bench_seconds[0] += time.perf_counter() - s
        return g
    _c.draw, _c.figure_png = _timed(_c.draw), _timed(_c.figure_png)
    del _timed
del _c
"""


def sample_db(work: Path, units: int = 8, seed: int = 2024) -> Path:
    """The synthetic county with ``units`` units (at least 8), ingested under ``work``."""
    data, db = work / f"county{units}", work / f"county{units}.duckdb"
    if not db.exists():
        subprocess.run([BIN / "auditlib", "synth", data, "--units", str(units), "--seed", str(seed)], check=True,
                       capture_output=True)
        subprocess.run([BIN / "auditlib", "ingest", data, "--db", db], check=True, capture_output=True)
    return db


def unit_codes(db: Path) -> list[str]:
    """The database's unit codes, in order."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return [u for (u,) in con.execute("SELECT unit_code FROM units ORDER BY 1").fetchall()]
    finally:
        con.close()


def _kernel_seconds(km, expression: str) -> float:
    from jupyter_core.utils import run_sync

    from auditlib.batch.kernels import client

    reply = run_sync(client(km).execute_interactive)("", user_expressions={"x": expression}, store_history=False,
                                                    output_hook=lambda msg: None)
    data = reply["content"]["user_expressions"]["x"]["data"]["text/plain"]
    return float(data)


def profile_notebook(db: Path, work: Path, unit: str | None = None) -> dict:
    """One unit's inspection notebooks (one per inspection) run through the batch's task code,
    step by step, each step timed.

    Parameters
    ----------
    db : path
        An ingested database (the sample county).
    work : path
        A scratch folder (the notebooks and their artifacts are written under it).
    unit : str, optional
        The unit; the database's first when None.

    Returns
    -------
    dict
        ``kernel_start`` (seconds, once per worker), ``steps`` (per notebook, averaged over the
        inspections: ``{step: {"seconds", "share"}}`` for :data:`STEPS`), ``per_notebook`` (their
        sum), ``cells`` (seconds per notebook cell, averaged), ``cpu`` (CPU seconds per notebook:
        the kernel's, and the worker's while executing, exporting and writing the workbook),
        ``notebooks`` and ``unit``.
    """
    from auditlib.batch.handoff import load_task, save_task_evidence, task_evidence_path, unit_slice
    from auditlib.batch.kernels import discard_kernel, execute, skip_slow_imports, start_kernel, warm_kernel
    from auditlib.batch.options import RunOptions, apply_environment
    from auditlib.batch.plan import unit_folder
    from auditlib.batch.run import verified
    from auditlib.batch.tasks import TaskSpec, _execute_notebook, _write_workbook
    from auditlib.rules.catalogue import INSPECTIONS
    from auditlib.rules.coverage import UNTESTED_COLUMNS
    from auditlib.rules.engine import inspect, unit_names

    skip_slow_imports()
    import nbformat

    from auditlib.outputs.html_export import export_html, external_urls

    db, work = Path(db).resolve(), Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    run_dir = work / f"profile-{os.getpid()}"
    options = RunOptions.resolve(db, out=work, workers=1, progress=False)
    params = options.load_params()
    options = RunOptions.resolve(db, out=work, workers=1, progress=False, lang=options.lang or params.lang)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    names = unit_names(con)
    con.close()
    unit = unit or next(iter(names))
    specs = []
    for name in INSPECTIONS:
        ins = inspect(db, name, params=params)
        f, ev = unit_slice(verified(ins.findings, {}, None), ins.evidence, unit)
        gaps = ins.untested[UNTESTED_COLUMNS]
        path = task_evidence_path(run_dir / ".work", unit_folder(unit), name)
        save_task_evidence(path, f, ev, None, untested=gaps[gaps["unit_code"].astype(str) == unit])
        entry = {"inspection": name, "folder": unit_folder(unit), "unit_code": unit, "unit_name": names[unit]}
        specs.append(TaskSpec.inspection(options, "profile", run_dir, entry, path))

    holder = duckdb.connect(str(db), read_only=True)  # as the run holds it
    apply_environment(options.environment())
    started = time.perf_counter()
    km = start_kernel(options.kernel)
    warm_kernel(options.kernel, options.start_timeout)
    kernel_start = time.perf_counter() - started
    execute(km, _CHART_TIMER)
    # one notebook first, untimed: the worker's own imports and the exporter's templates, as a warm worker has
    warm_dir = run_dir / "warm"
    warm_dir.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        spec.out_dir.mkdir(parents=True, exist_ok=True)
    error = _execute_notebook(specs[0], warm_dir / "warm.ipynb")
    if error is not None:
        raise RuntimeError(f"{specs[0].name}: {error}")
    export_html(warm_dir / "warm.ipynb", warm_dir / "warm.html", lang=options.lang)
    _write_workbook(specs[0], *(lambda x: (x["findings"], x["evidence"], x["untested"]))(load_task(specs[0].evidence)))

    totals = {step: 0.0 for step in STEPS}
    cpu = {"kernel": 0.0, "worker_execution": 0.0, "html": 0.0, "workbook": 0.0}
    kernel_cpu = "__import__('time').process_time()"
    cells: dict[str, float] = {}
    try:
        for spec in specs:
            spec.out_dir.mkdir(parents=True, exist_ok=True)
            s = time.perf_counter()
            task = load_task(spec.evidence)
            totals["io"] += time.perf_counter() - s
            nb_path = spec.out_dir / f"{spec.name}.ipynb"
            charts_before = _kernel_seconds(km, "__import__('auditlib.outputs.charts').outputs.charts._bench_seconds[0]")
            k0 = _kernel_seconds(km, kernel_cpu)
            s, c = time.perf_counter(), time.process_time()
            error = _execute_notebook(spec, nb_path)
            executed = time.perf_counter() - s
            cpu["worker_execution"] += time.process_time() - c
            cpu["kernel"] += _kernel_seconds(km, kernel_cpu) - k0
            if error is not None:
                raise RuntimeError(f"{spec.name}: {error}")
            charts = _kernel_seconds(km, "__import__('auditlib.outputs.charts').outputs.charts._bench_seconds[0]")
            charts -= charts_before
            nb = nbformat.read(nb_path, as_version=4)
            s = time.perf_counter()
            nbformat.write(nb, str(nb_path))  # what papermill's write costs, inside the execution's time
            written = time.perf_counter() - s
            totals["io"] += written
            totals["charts"] += charts
            totals["execution"] += executed - charts - written
            for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
                key = "parameters" if i == 0 else (cell.source.strip().splitlines() or [""])[-1][:40]
                cells[key] = cells.get(key, 0.0) + float((cell.metadata.get("papermill") or {}).get("duration") or 0)
            s, c = time.perf_counter(), time.process_time()
            page = export_html(nb_path, spec.out_dir / f"{spec.name}.html", lang=options.lang)
            external_urls(page.read_text(encoding="utf-8"))
            totals["html"] += time.perf_counter() - s
            cpu["html"] += time.process_time() - c
            s, c = time.perf_counter(), time.process_time()
            _write_workbook(spec, task["findings"], task["evidence"], task["untested"])
            totals["workbook"] += time.perf_counter() - s
            cpu["workbook"] += time.process_time() - c
    finally:
        discard_kernel(options.kernel)
        holder.close()
    n = len(specs)
    per = {k: v / n for k, v in totals.items()}
    total = sum(per.values())
    return {"unit": unit, "notebooks": n, "kernel_start": round(kernel_start, 3),
            "steps": {k: {"seconds": round(v, 4), "share": round(v / total, 3) if total else 0.0}
                      for k, v in per.items()},
            "per_notebook": round(total, 4), "cells": {k: round(v / n, 4) for k, v in cells.items()},
            "cpu": {k: round(v / n, 4) for k, v in cpu.items()}}


def time_batch(db: Path, out: Path, units, workers: int = 2, scheduler: str | None = None,
               run_id: str | None = None) -> dict:
    """One ``auditlib run`` over ``units`` (a count: the database's first units; or a list of
    codes), all inspections, timed in a fresh measuring process.

    Returns
    -------
    dict
        ``units``, ``notebooks``, ``workers``, ``scheduler``, ``seconds`` (wall), ``cpu`` (user +
        sys of the run and every process it started), ``per_notebook`` (wall / notebooks),
        ``ok`` (tasks ok), ``overview`` (its seconds) and ``task_seconds`` (sorted).
    """
    from auditlib.rules.catalogue import INSPECTIONS

    codes = unit_codes(Path(db))
    chosen = codes[:int(units)] if isinstance(units, int) else [str(u) for u in units]
    run_id = run_id or f"bench-{len(chosen)}u-{'dask' if scheduler else 'local'}-{time.strftime('%H%M%S')}"
    cmd = [BIN / "auditlib", "run", "--db", db, "--units", ",".join(chosen), "--out", out, "--run-id", run_id,
           "--workers", str(workers), "--no-progress"] + (["--scheduler", scheduler] if scheduler else [])
    res = measure(cmd, ok=(0, 1))
    manifest = json.loads((Path(out) / run_id / "manifest.json").read_text(encoding="utf-8"))
    n = len(chosen) * len(INSPECTIONS)
    return {"units": len(chosen), "notebooks": n, "workers": workers, "scheduler": scheduler,
            "seconds": round(res["seconds"], 2), "cpu": round(res["cpu_s"], 2), "peak_mb": round(res["peak_mb"]),
            "per_notebook": round(res["seconds"] / n, 3), "cpu_per_notebook": round(res["cpu_s"] / n, 3),
            "ok": sum(x["status"] == "ok" for x in manifest["tasks"]),
            "overview": (manifest.get("overview") or {}).get("seconds"),
            "task_seconds": sorted(x["seconds"] for x in manifest["tasks"] if x["seconds"] is not None)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(work: Path, workers: int = 2, logs: Path | None = None):
    """A Dask scheduler and ``workers`` single-threaded worker processes on loopback; yields its
    address and stops them all on exit.  ``logs``: a folder for their output (default: dropped).
    The tests use it too (``tests/test_run.py``)."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    if logs is not None:
        Path(logs).mkdir(parents=True, exist_ok=True)

    def out(name):
        return open(Path(logs) / f"{name}.log", "w") if logs is not None else subprocess.DEVNULL

    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               "--no-dashboard"], stdout=out("scheduler"), stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)]
    for i in range(workers):
        procs.append(subprocess.Popen([BIN / "dask", "worker", address, "--nthreads", "1", "--nworkers", "1",
                                       "--no-dashboard", "--name", f"w{i}", "--local-directory", str(work)],
                                      stdout=out(f"worker{i}"), stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True))
    try:
        from distributed import Client

        deadline = time.time() + 90
        while True:
            try:
                with Client(address, timeout=5) as c:
                    c.wait_for_workers(workers, timeout=60)
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(1)
        yield address
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def markdown(result) -> str:
    """A profile (:func:`profile_notebook`) or batch timings (:func:`time_batch`, one or a list)
    as Markdown."""
    if isinstance(result, dict) and "steps" in result:
        lines = [f"Per-notebook breakdown (unit {result['unit']}, {result['notebooks']} notebooks, one per "
                 f"inspection, on a warm worker):", "", "| step | s / notebook | share |", "|---|---:|---:|"]
        for step, v in result["steps"].items():
            lines.append(f"| {STEP_LABELS[step]} | {v['seconds']:.3f} | {v['share']:.0%} |")
        lines.append(f"| **total** | **{result['per_notebook']:.3f}** | 100% |")
        lines += ["", f"Kernel start and imports, once per worker (before its first notebook, overlapping the "
                      f"rules): {result['kernel_start']:.2f} s.", "",
                  "Cells (s / notebook): " + "; ".join(f"`{k}` {v:.3f}" for k, v in result["cells"].items()),
                  "", "CPU s / notebook: " + "; ".join(f"{k} {v:.3f}" for k, v in result.get("cpu", {}).items())]
        return "\n".join(lines)
    rows = result if isinstance(result, list) else [result]
    lines = ["| units | notebooks | executor | wall s | s / notebook | CPU s | CPU s / notebook | ok |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        where = "Dask (loopback)" if r.get("scheduler") else f"local, {r['workers']} workers"
        lines.append(f"| {r['units']} | {r['notebooks']} | {where} | {r['seconds']:.1f} | {r['per_notebook']:.2f} | "
                     f"{r['cpu']:.1f} | {r['cpu_per_notebook']:.2f} | {r['ok']}/{r['notebooks']} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--units", default="6,8", help="batch sizes to time, comma-separated (e.g. 6,8,200)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", action="store_true", help="also time the 8-unit batch on a loopback Dask cluster")
    ap.add_argument("--no-profile", action="store_true")
    a = ap.parse_args(argv)
    work = a.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    db = a.db.resolve() if a.db else sample_db(work, 8)
    if not a.no_profile:
        print(markdown(profile_notebook(db, work / "profile")))
        print()
    timings = []
    for size in (int(x) for x in a.units.split(",") if x.strip()):
        sized = db if size <= len(unit_codes(db)) else sample_db(work, size)
        timings.append(time_batch(sized, work / "runs", size, a.workers))
    if a.dask:
        with dask_cluster(work / "dask", a.workers) as address:
            timings.append(time_batch(db, work / "runs", 8, a.workers, scheduler=address))
    print(markdown(timings))


if __name__ == "__main__":
    main()
