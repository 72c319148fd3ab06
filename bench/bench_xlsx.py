"""XLSX ingest at scale (issue 17): a payments workbook as a treasury system exports it.

``make_payments_xlsx`` writes a workbook like a 一体化系统 payments export: a title row merged
across the columns, Chinese headers, unit and budget codes as text (``0012``), amounts as
numbers, date cells, a yes/no column and a memo; a small ``budget.csv`` beside it holds the
budget ids the payments name.  ``measure_xlsx`` times, each in a fresh
measuring process (wall seconds, peak RSS of that one process, CPU user+sys):

- ``auditlib ingest`` of the workbook into a new database;
- openpyxl in read-only mode reading every cell (the old reader alone, for reference);
- python-calamine reading every cell (the new reader alone, for reference).

Run standalone: ``python bench/bench_xlsx.py [--rows N] [--work DIR]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from measure import measure  # noqa: E402  (bench/measure.py)

HEADER = ["单位编码", "支付编号", "指标编号", "收款人", "收款账号", "是否中小企业", "合同编号", "支出经济分类",
          "支付金额", "验收日期", "申请日期", "支付日期", "付款期限", "摘要"]
_PAYEES = ["某某建设工程有限公司", "县第一印刷厂", "某某信息技术有限公司", "县人民医院", "某某物业管理有限公司",
           "张三", "某某会务服务中心", "某某劳务派遣有限公司", "县供电公司", "某某办公用品商行"]
_BUDGETS = 5000
_TYPES = ["办公费", "印刷费", "会议费", "培训费", "劳务费", "委托业务费", "公务接待费", "维修（护）费", "专用材料费",
          "其他商品和服务支出"]

_OPENPYXL_ALONE = r"""
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
n = 0
for row in wb.worksheets[0].iter_rows(values_only=True):
    n += 1
wb.close()
print(n)
"""

_CALAMINE_ALONE = r"""
import sys
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_path(sys.argv[1])
n = 0
for row in wb.get_sheet_by_index(0).iter_rows():
    n += 1
wb.close()
print(n)
"""


def make_payments_xlsx(path, rows: int = 300_000) -> Path:
    """Write ``rows`` payments to ``path`` (xlsxwriter, constant memory); returns the path.

    Row 1 is a title merged over the columns, row 2 the header, data from row 3.
    """
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("支付明细")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money_fmt = wb.add_format({"num_format": "#,##0.00"})
    ws.merge_range(0, 0, 0, len(HEADER) - 1, "某县财政国库集中支付明细（2024年度）")
    ws.write_row(1, 0, HEADER)
    base = dt.date(2024, 1, 1)
    for i in range(rows):
        r = i + 2
        unit = f"{i % 97 + 1:04d}"
        accepted = base + dt.timedelta(days=i % 300)
        requested = accepted + dt.timedelta(days=i % 17)
        ws.write_string(r, 0, unit)
        ws.write_string(r, 1, f"ZF{2024}{i:08d}")
        ws.write_string(r, 2, f"ZB{2024}{i % _BUDGETS:06d}")
        ws.write_string(r, 3, _PAYEES[i % len(_PAYEES)])
        ws.write_string(r, 4, f"62220212{i % 100000:011d}")
        ws.write_string(r, 5, "是" if i % 3 == 0 else "否")
        ws.write_string(r, 6, f"HT-{i % 20000:06d}")
        ws.write_string(r, 7, _TYPES[i % len(_TYPES)])
        ws.write_number(r, 8, (i * 7919 % 10_000_000) / 100, money_fmt)
        ws.write_datetime(r, 9, dt.datetime.combine(accepted, dt.time()), date_fmt)
        ws.write_datetime(r, 10, dt.datetime.combine(requested, dt.time()), date_fmt)
        if i % 11:
            ws.write_datetime(r, 11, dt.datetime.combine(requested + dt.timedelta(days=i % 45), dt.time()),
                              date_fmt)
        ws.write_number(r, 12, 30 + i % 3 * 30)
        ws.write_string(r, 13, f"{_TYPES[i % len(_TYPES)]} 第{i % 12 + 1}期")
    wb.close()
    return path


def write_budget_csv(path) -> Path:
    """The budget appropriations the payments draw on (so the ingest's completeness check finds
    every budget id, as with a real county's exports)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("unit_code,budget_id,amount,issued_on\n")
        for i in range(_BUDGETS):
            fh.write(f"{i % 97 + 1:04d},ZB2024{i:06d},1000000.00,2024-01-01\n")
    return path


def measure_xlsx(work: Path, rows: int) -> dict:
    """Generate a ``rows``-row payments workbook under ``work`` and time its ingest and both readers.

    Returns ``{"rows", "file_mb", "ingest": {...}, "openpyxl": {...}, "calamine": {...}}``, each
    ``{"seconds", "peak_mb", "cpu_s", "rc"}``; ``ingest`` also ``rows_loaded``.
    """
    work = Path(work)
    data = work / f"xlsx{rows}"
    data.mkdir(parents=True, exist_ok=True)
    book = make_payments_xlsx(data / "payments.xlsx", rows)
    write_budget_csv(data / "budget.csv")
    db = work / f"xlsx{rows}.duckdb"
    for p in work.glob(f"xlsx{rows}.duckdb*"):
        p.unlink()
    result: dict = {"rows": rows, "file_mb": round(book.stat().st_size / 2**20, 1)}
    runs = {"ingest": [str(BIN / "auditlib"), "ingest", str(data), "--db", str(db)],
            "openpyxl": [sys.executable, "-c", _OPENPYXL_ALONE, str(book)],
            "calamine": [sys.executable, "-c", _CALAMINE_ALONE, str(book)]}
    for name, cmd in runs.items():
        m = measure(cmd, ok=(0, 1, 2))
        result[name] = {"seconds": round(m["seconds"], 2), "peak_mb": round(m["peak_mb"]),
                        "cpu_s": round(m["cpu_s"], 2), "rc": m["rc"]}
        if m["rc"]:
            result[name]["tail"] = m["tail"]
    if result["ingest"]["rc"] == 0:
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        try:
            result["ingest"]["rows_loaded"] = con.execute("SELECT count(*) FROM payments").fetchone()[0]
        finally:
            con.close()
    return result


def markdown(result: dict) -> str:
    """The result of :func:`measure_xlsx` as a Markdown section."""
    lines = [f"### XLSX ingest: {result['rows']:,} payment rows ({result['file_mb']} MB workbook)", "",
             "| what | wall s | peak MB | CPU s | rows/s |", "|---|---:|---:|---:|---:|"]
    labels = {"ingest": "`auditlib ingest`", "openpyxl": "openpyxl read-only alone (reference)",
              "calamine": "python-calamine alone (reference)"}
    for key, label in labels.items():
        m = result.get(key)
        if not m:
            continue
        rate = f"{result['rows'] / m['seconds']:,.0f}" if m["seconds"] else ""
        status = "" if m["rc"] == 0 else f" (exit {m['rc']})"
        lines.append(f"| {label}{status} | {m['seconds']:.2f} | {m['peak_mb']} | {m['cpu_s']:.2f} | {rate} |")
    if "rows_loaded" in result.get("ingest", {}):
        lines += ["", f"Rows loaded: {result['ingest']['rows_loaded']:,} of {result['rows']:,}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args(argv)
    if args.work is not None:
        print(markdown(measure_xlsx(args.work, args.rows)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as tmp:
        print(markdown(measure_xlsx(Path(tmp), args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
