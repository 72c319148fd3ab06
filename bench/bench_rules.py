"""Where the rules spend their time: ``auditlib scan`` over one database, with each rule's own seconds.

``measure_rules(db, work)`` runs ``auditlib scan --timings`` in a fresh measuring process and returns
its wall seconds, CPU seconds and peak RSS, the number of findings, and the JSON the scan wrote
(each rule's own seconds, the shared steps: ``setup``, ``coverage``, ``write``).  ``markdown(result)``
renders it, the rules slowest first.  Standalone::

    .venv/bin/python bench/bench_rules.py DB [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import measure  # noqa: E402  (bench/measure.py)

def measure_rules(db: Path, work: Path) -> dict:
    """Run every rule over ``db`` (``auditlib scan``) in a child process; files go to ``work``.

    Returns
    -------
    dict
        ``seconds`` (wall), ``cpu_s`` (user + system), ``peak_mb`` (peak RSS of the scan),
        ``findings`` (rows of findings.csv), ``rules`` (rule id → its own seconds, slowest first),
        ``shared`` (step → seconds: ``setup``, ``coverage``, ``write``) and ``total`` (the scan's own
        measure of itself).
    """
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    out, timings = work / "findings.csv", work / "rule-timings.json"
    cmd = [BIN / "auditlib", "scan", "--db", db, "--out", out, "--timings", timings]
    res = measure(cmd)
    with open(out, encoding="utf-8-sig") as f:
        findings = sum(1 for _ in f) - 1
    doc = json.loads(timings.read_text(encoding="utf-8"))
    return {"seconds": res["seconds"], "cpu_s": res["cpu_s"], "peak_mb": res["peak_mb"],
            "findings": findings, "rules": doc["rules"], "shared": doc["shared"], "total": doc["total"]}


def markdown(result: dict) -> str:
    """The measure as Markdown: a summary line, then every rule and shared step by seconds, slowest first."""
    rules = sorted(result["rules"].items(), key=lambda kv: (-kv[1], kv[0]))
    rule_sum = sum(s for _, s in rules)
    lines = [f"`auditlib scan`: {result['seconds']:.1f} s wall, {result['cpu_s']:.1f} s CPU, "
             f"peak {result['peak_mb']:,.0f} MB, {result['findings']:,} findings; "
             f"the {len(rules)} rules' own seconds add up to {rule_sum:.1f} s (they run in two lanes at once, "
             f"so the sum can exceed the wall time), shared steps "
             + ", ".join(f"{k} {v:.1f} s" for k, v in result["shared"].items()) + ".",
             "",
             "| rule | seconds | share of the rules |",
             "|---|---:|---:|"]
    for rule, seconds in rules:
        share = seconds / rule_sum if rule_sum else 0.0
        lines.append(f"| {rule} | {seconds:.2f} | {share:.0%} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path, help="an ingested database")
    ap.add_argument("--work", type=Path, default=None, help="folder for findings.csv and the timings JSON")
    a = ap.parse_args(argv)
    if a.work is None:
        with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
            print(markdown(measure_rules(a.db, Path(tmp))))
    else:
        print(markdown(measure_rules(a.db, a.work)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
