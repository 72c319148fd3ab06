"""Ingest against a plain DuckDB load of the same CSV files (issue 17), at several sizes.

For each size, ``bench/bigdata.py`` writes the county (``N`` voucher lines, payments and bank
lines a fifth of that each, ...), then two commands run, each alone in a fresh measuring
process (wall seconds, CPU seconds, peak RSS from ``getrusage(RUSAGE_CHILDREN)``):

- the plain load: one ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` per file with the columns
  and types of the table (CONTRACT §1; yes/no columns as text, since ``是``/``否`` are not DuckDB
  booleans; the date format of each file from its first row), no validation, rows that do not
  cast skipped (``ignore_errors``);
- ``auditlib ingest`` with every check it makes: the whole command, Python start-up included.

``ratio`` is ingest seconds / plain-load seconds; rows/s counts the data rows of all six files.

Run alone: ``python bench/bench_ingest.py --sizes 100000,1000000 [--work DIR]``;
:func:`measure_ingest` and :func:`markdown` are what ``run_bench.py`` calls.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from measure import measure  # noqa: E402  (bench/measure.py)

from auditlib.ingest.timing import read_steps  # noqa: E402

#: the ingest's steps in the order they run (auditlib.ingest.timing), and what each is
STEPS = (("scan", "SHA-256 and encoding check, waited for (read in a thread while the file before loads)"),
         ("transcode", "a GBK file copied to UTF-8"),
         ("stage", "DuckDB reads the CSV: every cell checked and typed in SQL, into a temporary table"),
         ("rows off the fast path", "rows SQL did not type (export forms, bad cells) parsed in Python"),
         ("duplicate keys", "keys met twice, or already in the table"),
         ("insert", "the staged rows copied into the table with file and line"),
         ("row path", "files read row by row (small or irregular)"),
         ("workbook", "XLSX files"),
         ("checks", "far dates, empty files, completeness (counts, gaps, balances)"),
         ("commit", "DuckDB writes the transaction"),
         ("reports", "ingest_report.json, rejects.csv, completeness.csv"))

#: the plain load: argv = database, then the CSV files
_PLAIN = r"""
import csv, json, re, sys
import duckdb
from auditlib.ingest import schema

def date_format(value):
    return "%Y%m%d" if re.fullmatch(r"[0-9]{8}", value or "") else "%Y-%m-%d"

con = duckdb.connect(sys.argv[1])
for name in sys.argv[2:]:
    table = schema.TABLES[schema.table_for_file(name.rsplit("/", 1)[-1].rsplit(".", 1)[0])]
    with open(name, encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header, first = next(rows), next(rows, [])
    types = {c.name: ("VARCHAR" if c.type == "bool" else schema.SQL_TYPES[c.type]) for c in table.columns}
    cols = {h: types.get(h, "VARCHAR") for h in header}
    dates = [first[i] for i, h in enumerate(header) if types.get(h) == "DATE" and i < len(first) and first[i]]
    spec = "{" + ", ".join(f"'{h}': '{t}'" for h, t in cols.items()) + "}"
    con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM read_csv('{name}', header = true, "
                f"auto_detect = false, columns = {spec}, dateformat = '{date_format(dates[0] if dates else '')}', "
                f"ignore_errors = true)")
con.close()
"""


def _data_rows(folder: Path) -> int:
    n = 0
    for path in sorted(folder.glob("*.csv")):
        with open(path, "rb") as fh:
            n += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1
    return n


def measure_one(data: Path, size: int, db: Path, work: Path) -> dict:
    """The plain DuckDB load and ``auditlib ingest`` of the CSV files in ``data`` (``size`` voucher
    lines); the ingested database stays at ``db``.

    Returns ``ledger_lines``, ``rows`` (data rows of all files), ``csv_mb``, ``plain_s`` /
    ``plain_cpu_s``, ``ingest_s`` / ``ingest_cpu_s`` / ``ingest_peak_mb`` (the whole command),
    ``rows_per_s`` (ingest), ``ratio`` (ingest seconds / plain-load seconds) and ``steps`` (the
    ingest's seconds per step, summed over the files: :func:`auditlib.ingest.timing.read_steps`).
    """
    data, db, work = Path(data), Path(db), Path(work)
    files = sorted(data.glob("*.csv"))
    rows = _data_rows(data)
    csv_mb = sum(p.stat().st_size for p in files) / 1e6
    plain_db = work / f"plain-{size}.duckdb"
    for p in work.glob(f"plain-{size}.duckdb*"):
        p.unlink()
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    plain = measure([sys.executable, "-c", _PLAIN, plain_db, *files], cwd=ROOT)
    # 1: some file over --max-reject-share (loaded all the same)
    # --verbose: the command also logs each step's seconds (auditlib.ingest.timing), a few lines a file
    ing = measure([BIN / "auditlib", "--verbose", "ingest", data, "--db", db], ok=(0, 1))
    for p in work.glob(f"plain-{size}.duckdb*"):
        p.unlink()
    return {"ledger_lines": size, "rows": rows, "csv_mb": round(csv_mb, 1),
            "plain_s": round(plain["seconds"], 2), "plain_cpu_s": round(plain["cpu_s"], 2),
            "ingest_s": round(ing["seconds"], 2), "ingest_cpu_s": round(ing["cpu_s"], 2),
            "ingest_peak_mb": round(ing["peak_mb"]), "rows_per_s": round(rows / ing["seconds"]),
            "ratio": round(ing["seconds"] / plain["seconds"], 2),
            "steps": {k: round(v, 2) for k, v in read_steps(ing["output"]).items()}}


def measure_ingest(work: Path, sizes: list[int]) -> list[dict]:
    """Per size (voucher lines): :func:`measure_one` on the county ``bench/bigdata.py`` writes."""
    import bigdata

    work = Path(work)
    out = []
    for size in sizes:
        data = work / f"ingest-data-{size}"
        if not (data / "ledger.csv").is_file():
            bigdata.generate(data, size)
        db = work / f"ingest-{size}" / "audit.duckdb"
        out.append(measure_one(data, size, db, work))
        shutil.rmtree(db.parent, ignore_errors=True)
    return out


def _n(x: int) -> str:
    return f"{x // 1_000_000}M" if x >= 1_000_000 and x % 1_000_000 == 0 else (
        f"{x // 1000}k" if x % 1000 == 0 else str(x))


def markdown(rows: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| voucher lines | rows (6 files) | CSV MB | plain DuckDB load s (CPU s) | `auditlib ingest` s (CPU s) "
             "| ingest / plain | ingest rows/s | ingest peak MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {_n(r['ledger_lines'])} | {r['rows']:,} | {r['csv_mb']:,.0f} | {r['plain_s']:.2f} "
                     f"({r['plain_cpu_s']:.2f}) | {r['ingest_s']:.2f} ({r['ingest_cpu_s']:.2f}) | {r['ratio']:.2f}× "
                     f"| {r['rows_per_s']:,} | {r['ingest_peak_mb']:,} |")
    return "\n".join(lines)


def steps_markdown(rows: list[dict]) -> str:
    """Where the ingest's time goes at each size: seconds per step (summed over the files), and what
    is left of the command's wall time (Python start-up, imports, the tables' setup)."""
    rows = [r for r in rows if r.get("steps")]
    if not rows:
        return ""
    lines = ["| step | " + " | ".join(f"{_n(r['ledger_lines'])} s (share)" for r in rows) + " | what it is |",
             "|---|" + "---:|" * len(rows) + "---|"]
    for name, what in STEPS:
        if any(name in r["steps"] for r in rows):
            cells = [f"{r['steps'].get(name, 0.0):.2f} ({r['steps'].get(name, 0.0) / r['ingest_s']:.0%})" for r in rows]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {what} |")
    rest = [max(0.0, r["ingest_s"] - sum(r["steps"].values())) for r in rows]
    lines.append("| the rest | " + " | ".join(f"{x:.2f} ({x / r['ingest_s']:.0%})" for x, r in zip(rest, rows))
                 + " | Python start-up and imports, the tables' setup, the audit log |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="voucher lines, comma-separated")
    ap.add_argument("--work", default=None, help="folder for the data and databases (default: a temporary one)")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    if a.work:
        Path(a.work).mkdir(parents=True, exist_ok=True)
        rows = measure_ingest(Path(a.work), sizes)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            rows = measure_ingest(Path(tmp), sizes)
    print(markdown(rows) + "\n\n" + steps_markdown(rows))


if __name__ == "__main__":
    main()
