"""``bench/run_bench.py --quick`` runs end to end and writes its tables (it asserts that it ran,
not how fast): the benchmark of ``make bench`` cannot rot unnoticed."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditlib.rules.catalogue import all_rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.batch
@pytest.mark.slow
def test_bench_quick_runs_and_writes_the_tables(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run_bench.py"), "--quick", "--out", str(out),
                           "--work", str(tmp_path / "work")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "## Machine" in text and "cores:" in text and "memory:" in text
    assert "## A. Batch against the naive papermill loop" in text
    assert "| naive loop (papermill + nbconvert) |" in text and "| `auditlib run` |" in text
    assert "## B. Ingest and all rules at scale" in text
    assert "## A2. Batch sizes and Dask" in text and "## A3. Where a notebook's time goes" in text
    assert "plain DuckDB load" in text and "| rule | seconds |" in text
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    a = data["a"]
    assert a["tasks"] == 2 and a["batch"]["ok"] == 2
    assert a["batch"]["artifacts"] == {"ipynb": 2, "html": 2, "xlsx": 2}
    assert a["naive"]["artifacts"]["ipynb"] == 2 and a["naive"]["artifacts"]["html"] == 2
    assert a["ratio"] > 0
    assert [r["ledger_lines"] for r in data["b"]] == [2_000, 10_000]
    for r in data["b"]:
        assert r["rows_per_s"] > 0 and r["plain_s"] > 0 and r["ratio"] > 0
        assert r["rules_peak_mb"] > 0 and r["findings"] > 0 and len(r["scan"]["rules"]) == len(all_rules())
    assert data["a2"]["local"][0]["ok"] == data["a2"]["local"][0]["notebooks"]
    assert set(data["profile"]["steps"]) >= {"execution", "charts", "html", "workbook"}


def test_two_runs_put_each_targets_figures_side_by_side():
    """--previous: the earlier run's figure beside this run's, target by target (RESULTS.json as written)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run_bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    now = json.loads((ROOT / "bench" / "RESULTS.json").read_text(encoding="utf-8"))
    before = json.loads(json.dumps(now))
    before["a"]["batch_per_nb"] = 9.99
    args = [now[k] for k in ("a", "a2", "b", "xlsx", "projection")]
    text = run_bench.render(now["machine"], now["a"], now["a2"], now["profile"], now["b"], now["xlsx"], False,
                            "today", 1.0, before)
    table = text[text.index("## Two runs"):]
    rows = run_bench.target_rows(*args)
    assert len(rows) >= 10
    for target, measured, _ in rows:
        line = next(x for x in table.splitlines() if x.startswith(f"| {target} |"))
        expected = "9.99 s" if target.startswith("≤ 0.35 s a notebook") else measured
        assert line == f"| {target} | {expected} | {measured} |"
