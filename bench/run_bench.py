"""``make bench``: the batch against the naive papermill loop, and ingest + rules at scale.

Public tools only: wall time from ``time.perf_counter``, peak memory from
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a fresh measuring process that runs
exactly one command (so the figure is that command's own peak), ``subprocess`` for the rest.

Part A runs, on the sample county (``auditlib sample --units 8 --seed 2024``, ingested), the same
(unit, inspection) tasks twice: a shell loop of ``papermill`` then ``jupyter nbconvert --to html``
per notebook (the naive way; it has no workbook writer, so it leaves ipynb + html only), and
``auditlib run`` (ipynb + html + xlsx per task, plus findings.csv, overview, index and manifest).

Part B generates a large county with ``bench/bigdata.py`` (10M voucher lines <-> 2M payments <->
2M bank lines, scaled down in proportion) and measures ``auditlib ingest`` and ``auditlib scan``
(every rule) at each size.

``--quick`` (tiny sizes, 2 units, one inspection) is what ``tests/test_bench.py`` runs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

INSPECTIONS = ("idle_funds", "slush_funds", "delayed_payments")

#: runs one command, then reports its wall time and peak RSS (the only child of this process)
_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
s = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": s, "maxrss_kb": ru.ru_maxrss, "user": ru.ru_utime, "sys": ru.ru_stime,
                  "rc": p.returncode, "tail": p.stdout.decode("utf-8", "replace")[-3000:]}))
"""



def _rule_count() -> int:
    """How many rules the catalogue holds (what `auditlib scan` runs)."""
    from auditlib.rules.catalogue import all_rules

    return len(all_rules())

def measure(cmd: list[str], env=None) -> dict:
    """Run ``cmd`` in a fresh measuring process: seconds, peak RSS (KB), CPU times, exit code."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, cmd)], capture_output=True, text=True,
                         env=env, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise SystemExit(f"command failed ({res['rc']}): {' '.join(map(str, cmd))}\n{res['tail']}")
    return res


def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    import duckdb

    return {"cores": os.cpu_count(), "usable_cores": affinity, "cpu": model or platform.processor(),
            "memory_gb": round(mem_kb / 1024 / 1024, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "os": platform.platform()}


# ---- part A: naive loop against auditlib run ------------------------------------------------------

def naive_script(tasks, db: Path, out: Path) -> str:
    """The shell loop a user would write: papermill, then nbconvert, per notebook."""
    lines = ["set -e"]
    for unit, ins in tasks:
        nb_out = out / unit / f"{ins}.ipynb"
        lines.append(f"mkdir -p '{nb_out.parent}'")
        lines.append(f"'{BIN}/papermill' '{ROOT}/notebooks/{ins}.ipynb' '{nb_out}' -k auditlib "
                     f"-p db '{db}' -r unit '{unit}' -p run_id naive --cwd '{nb_out.parent}' "
                     "--no-progress-bar --log-level ERROR")
        lines.append(f"'{BIN}/jupyter' nbconvert --to html '{nb_out}' --log-level ERROR")
    return "\n".join(lines) + "\n"


def artifacts(folder: Path, tasks) -> dict[str, int]:
    return {ext: sum((folder / u / f"{i}.{ext}").is_file() for u, i in tasks) for ext in ("ipynb", "html", "xlsx")}


def part_a(work: Path, n_units: int, inspections, workers: int, pairs: int = 3) -> dict:
    data, db = work / "sample", work / "sample.duckdb"
    subprocess.run([BIN / "auditlib", "sample", data, "--units", "8", "--seed", "2024"], check=True,
                   capture_output=True)
    subprocess.run([BIN / "auditlib", "ingest", data, "--db", db], check=True, capture_output=True)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    units = [u for (u,) in con.execute("SELECT unit_code FROM units ORDER BY 1").fetchall()][:n_units]
    con.close()
    tasks = [(u, i) for u in units for i in inspections]

    script = work / "naive.sh"
    naive_out = work / "naive"
    script.write_text(naive_script(tasks, db, naive_out), encoding="utf-8")
    naive = measure(["bash", script])
    naive["artifacts"] = artifacts(naive_out, tasks)

    batch = measure([BIN / "auditlib", "run", "--db", db, "--units", ",".join(units),
                     "--inspections", ",".join(inspections), "--out", work / "runs", "--run-id", "bench",
                     "--workers", str(workers), "--no-progress"])
    run_dir = work / "runs" / "bench"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    folders = {x["unit_code"]: x["folder"] for x in manifest["tasks"]}
    batch["artifacts"] = artifacts(run_dir, [(folders[u], i) for u, i in tasks])
    batch["ok"] = sum(x["status"] == "ok" for x in manifest["tasks"])
    batch["task_seconds"] = sorted(x["seconds"] for x in manifest["tasks"] if x["seconds"] is not None)
    batch["overview_seconds"] = (manifest.get("overview") or {}).get("seconds")
    n = len(tasks)
    register = work / "register.jsonl"
    write_register(register, REGISTER_DECISIONS, manifest_findings(run_dir))
    # with and without the register in alternating pairs: one run each is too noisy for a 5% target
    ratios, plain_s, with_s = [], [], []
    for k in range(pairs):
        args = [BIN / "auditlib", "run", "--db", db, "--units", ",".join(units), "--inspections",
                ",".join(inspections), "--out", work / "runs", "--workers", str(workers), "--no-progress"]
        plain = measure(args + ["--run-id", f"bench-plain-{k}"])
        with_register = measure(args + ["--run-id", f"bench-register-{k}", "--register", register])
        plain_s.append(plain["seconds"])
        with_s.append(with_register["seconds"])
        ratios.append(with_register["seconds"] / plain["seconds"])
    with_register["decisions"] = REGISTER_DECISIONS
    with_register["seconds"] = statistics.median(with_s)
    with_register["plain_seconds"] = statistics.median(plain_s)
    with_register["pairs"] = pairs
    with_register["slowdown"] = statistics.median(ratios) - 1
    return {"units": units, "inspections": list(inspections), "tasks": n, "workers": workers,
            "naive": naive, "batch": batch, "register": with_register,
            "naive_per_nb": naive["seconds"] / n, "batch_per_nb": batch["seconds"] / n,
            "ratio": naive["seconds"] / batch["seconds"]}


# ---- part A': a run reading a register of 100k decisions ------------------------------------------

#: alternating pairs (without, with the register) whose median ratio is reported
REGISTER_PAIRS = 3
#: decisions in the register of the measured run
REGISTER_DECISIONS = 100_000


def manifest_findings(run_dir: Path) -> list[tuple[str, str, str]]:
    """(rule_id, unit_code, ref) of a run's findings."""
    import csv

    with open(run_dir / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        return [(r["rule_id"], r["unit_code"], r["ref"]) for r in csv.DictReader(fh)]


def write_register(path: Path, n: int, findings) -> None:
    """A register of ``n`` decisions: each real finding decided, the rest about findings of other units."""
    from decimal import Decimal

    from auditlib.review.register import Decision, Register
    from auditlib.review.statuses import Status
    from auditlib.rules.identity import finding_id

    statuses = (Status.CONFIRMED, Status.DISMISSED, Status.RECTIFIED, Status.OPEN)
    keys = list(findings) + [("SF06", f"9{i % 997:03d}", f"payments:ZF{i:011d}") for i in range(n - len(findings))]
    path.unlink(missing_ok=True)
    Register(path).append([Decision(finding_id(*k), *k, status=statuses[i % 4], reason="核实说明" * 4,
                                    amount=Decimal("100.00") if i % 2 else None, by="基准测试", source="cli")
                           for i, k in enumerate(keys[:n])])


# ---- part B: ingest and rules at scale ---------------------------------------------------------------

def part_b(work: Path, sizes: list[int], keep: bool) -> list[dict]:
    import bigdata

    rows = []
    for n in sizes:
        d = work / f"big-{n}"
        db = work / f"big-{n}.duckdb"
        shutil.rmtree(d, ignore_errors=True)
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
        t = time.perf_counter()
        counts = bigdata.generate(d, n)
        gen_s = time.perf_counter() - t
        csv_mb = sum(p.stat().st_size for p in d.iterdir()) / 1e6
        total = sum(counts.values())
        ing = measure([BIN / "auditlib", "ingest", d, "--db", db])
        scan = measure([BIN / "auditlib", "scan", "--db", db, "--out", work / f"findings-{n}.csv"])
        findings = sum(1 for _ in open(work / f"findings-{n}.csv", encoding="utf-8-sig")) - 1
        rule_rows = counts["ledger"] + counts["payments"] + counts["bank_txns"]
        rows.append({"ledger": counts["ledger"], "payments": counts["payments"], "bank_txns": counts["bank_txns"],
                     "units": counts["units"], "rows": total, "csv_mb": csv_mb, "generate_s": gen_s,
                     "ingest_s": ing["seconds"], "ingest_rows_s": total / ing["seconds"],
                     "ingest_peak_mb": ing["maxrss_kb"] / 1024, "ingest_cpu_s": ing["user"] + ing["sys"],
                     "rules_s": scan["seconds"], "rules_rows_s": rule_rows / scan["seconds"],
                     "rules_peak_mb": scan["maxrss_kb"] / 1024, "rules_cpu_s": scan["user"] + scan["sys"],
                     "findings": findings, "db_mb": db.stat().st_size / 1e6})
        print(f"  {n:>10,} voucher lines: ingest {ing['seconds']:.1f} s, rules {scan['seconds']:.1f} s", flush=True)
        if not keep:
            shutil.rmtree(d, ignore_errors=True)
            db.unlink(missing_ok=True)
    return rows


# ---- report -------------------------------------------------------------------------------------------

def _fmt_n(n: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % (div // 10) == 0:
            v = n / div
            return f"{v:g}{suffix}"
    return f"{n:,}"


def render(m: dict, a: dict | None, b: list[dict] | None, quick: bool, started: str, elapsed: float) -> str:
    out = ["# auditlib benchmark" + (" (quick)" if quick else ""), "",
           f"Written by `bench/run_bench.py{' --quick' if quick else ''}` on {started}, in {elapsed:.0f} s.", "",
           "## Machine", "",
           f"- cores: {m['cores']} ({m['usable_cores']} usable), {m['cpu']}",
           f"- memory: {m['memory_gb']} GB",
           f"- Python {m['python']}, DuckDB {m['duckdb']}, {m['os']}", ""]
    if a is not None:
        n, nv, bt = a["tasks"], a["naive"], a["batch"]
        out += ["## A. Batch against the naive papermill loop", "",
                f"Sample county (`auditlib sample --units 8 --seed 2024`, ingested); units "
                f"{', '.join(a['units'])}; inspections {', '.join(a['inspections'])}: {n} notebooks. "
                f"The naive loop is `papermill` then `jupyter nbconvert --to html` per notebook in a shell loop; "
                f"it has no workbook writer, so it leaves ipynb + html and no xlsx. `auditlib run --workers "
                f"{a['workers']}` leaves ipynb + html + xlsx per notebook, plus findings.csv, the overview "
                f"notebook, index.html and manifest.json, all inside its time.", "",
                "| path | wall s | s / notebook | ipynb | html | xlsx | peak MB (largest process) |",
                "|---|---:|---:|---:|---:|---:|---:|",
                f"| naive loop (papermill + nbconvert) | {nv['seconds']:.1f} | {a['naive_per_nb']:.2f} | "
                f"{nv['artifacts']['ipynb']} | {nv['artifacts']['html']} | {nv['artifacts']['xlsx']} (none written) | "
                f"{nv['maxrss_kb'] / 1024:.0f} |",
                f"| `auditlib run` | {bt['seconds']:.1f} | {a['batch_per_nb']:.2f} | {bt['artifacts']['ipynb']} | "
                f"{bt['artifacts']['html']} | {bt['artifacts']['xlsx']} | {bt['maxrss_kb'] / 1024:.0f} |", "",
                f"**Ratio: the batch is {a['ratio']:.1f}× faster than the naive loop** "
                f"({a['batch_per_nb']:.2f} s against {a['naive_per_nb']:.2f} s per notebook; "
                f"{bt['ok']}/{n} tasks ok).", "",
                f"Per task inside the batch (worker seconds, ipynb+html+xlsx): median "
                f"{bt['task_seconds'][len(bt['task_seconds']) // 2] if bt['task_seconds'] else 0:.2f} s, "
                f"max {max(bt['task_seconds'] or [0]):.2f} s; overview notebook {bt['overview_seconds'] or 0:.1f} s.", ""]
        rg = a.get("register")
        if rg:
            out += [f"The same run reading a findings register of {rg['decisions']:,} decisions "
                    f"(`auditlib run --register`), in {rg.get('pairs', 1)} alternating pairs with and without it: "
                    f"median {rg['seconds']:.1f} s against {rg.get('plain_seconds', bt['seconds']):.1f} s without one; "
                    f"median ratio of the pairs {rg['slowdown'] * 100:+.1f}%.", ""]
    if b is not None:
        out += ["## B. Ingest and all rules at scale", "",
                "`bench/bigdata.py` writes UTF-8 CSV (payments and bank lines one fifth of the voucher lines each, "
                "one unit per 5,000 voucher lines, ~0.1% of rows in export forms such as `1,234.50` and "
                "`2024/3/5`, one subtotal row, one bad date at ≥ 250k lines). Each command runs alone in a "
                "measuring process: wall seconds, and peak RSS from `getrusage(RUSAGE_CHILDREN).ru_maxrss`. "
                "Ingest rows/s counts the rows of all six tables read from CSV; rules = `auditlib scan` "
                f"(all {_rule_count()} rules, all units, findings.csv written), rows/s counts voucher lines + payments + "
                "bank lines.", "",
                "| voucher lines | payments | bank lines | units | CSV MB | ingest s | ingest rows/s | "
                "ingest peak MB | rules s | rules rows/s | rules peak MB | findings | DB MB |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in b:
            out.append(f"| {_fmt_n(r['ledger'])} | {_fmt_n(r['payments'])} | {_fmt_n(r['bank_txns'])} | "
                       f"{r['units']:,} | {r['csv_mb']:.0f} | {r['ingest_s']:.1f} | {r['ingest_rows_s']:,.0f} | "
                       f"{r['ingest_peak_mb']:,.0f} | {r['rules_s']:.1f} | {r['rules_rows_s']:,.0f} | "
                       f"{r['rules_peak_mb']:,.0f} | {r['findings']:,} | {r['db_mb']:.0f} |")
        out.append("")
    if not quick:
        out += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
        if a is not None:
            out.append(f"| batch ≥ 5× faster than the naive loop | {a['ratio']:.1f}× | "
                       f"{'yes' if a['ratio'] >= 5 else 'no'} |")
            out.append(f"| ≤ 1 s per notebook with all artifacts | {a['batch_per_nb']:.2f} s | "
                       f"{'yes' if a['batch_per_nb'] <= 1 else 'no'} |")
            if a.get("register"):
                out.append(f"| a run with a 100k-decision register ≤ 5% slower | "
                           f"{a['register']['slowdown'] * 100:+.1f}% | "
                           f"{'yes' if a['register']['slowdown'] <= 0.05 else 'no'} |")
        big = [r for r in (b or []) if r["ledger"] >= 10_000_000]
        if big:
            r = big[-1]
            out.append(f"| all rules over 10M/2M/2M ≤ 60 s | {r['rules_s']:.1f} s | {'yes' if r['rules_s'] <= 60 else 'no'} |")
            out.append(f"| … with ≤ 4 GB peak memory | {r['rules_peak_mb'] / 1024:.2f} GB | "
                       f"{'yes' if r['rules_peak_mb'] <= 4096 else 'no'} |")
        if b:
            worst = min(r["ingest_rows_s"] for r in b)
            out.append(f"| ingest ≥ 200k rows/s from CSV | {worst:,.0f} rows/s (slowest size) | "
                       f"{'yes' if worst >= 200_000 else 'no'} |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="auditlib benchmark (make bench)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, 2 units, one inspection (the test suite)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"), help="results file (Markdown)")
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one, removed)")
    ap.add_argument("--sizes", default=None, help="voucher lines per scale step, e.g. 100000,1000000,10000000")
    ap.add_argument("--units", type=int, default=None, help="units of the sample county in part A (max 8)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--skip-a", action="store_true")
    ap.add_argument("--skip-b", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the generated data and databases")
    a = ap.parse_args(argv)

    sizes = ([int(float(s)) for s in a.sizes.split(",")] if a.sizes
             else [2_000, 10_000] if a.quick else [100_000, 1_000_000, 10_000_000])
    n_units = a.units or (2 if a.quick else 8)
    inspections = ("slush_funds",) if a.quick else INSPECTIONS
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="auditlib-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env_started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    m = machine()
    print(f"machine: {m['cores']} cores, {m['memory_gb']} GB; work in {work}", flush=True)
    try:
        res_a = None if a.skip_a else part_a(work, n_units, inspections, a.workers, 1 if a.quick else REGISTER_PAIRS)
        if res_a:
            print(f"  naive {res_a['naive']['seconds']:.1f} s, batch {res_a['batch']['seconds']:.1f} s "
                  f"for {res_a['tasks']} notebooks: {res_a['ratio']:.1f}x", flush=True)
            print(f"  with a register of {res_a['register']['decisions']:,} decisions: "
                  f"{res_a['register']['seconds']:.1f} s without one {res_a['batch']['seconds']:.1f} s "
                  f"({res_a['register']['slowdown'] * 100:+.1f}%)", flush=True)
        res_b = None if a.skip_b else part_b(work, sizes, a.keep)
    finally:
        if not a.work and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = render(m, res_a, res_b, a.quick, env_started, time.perf_counter() - t0)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    (out.with_suffix(".json")).write_text(json.dumps({"machine": m, "a": res_a, "b": res_b}, indent=1, default=str),
                                          encoding="utf-8")
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
