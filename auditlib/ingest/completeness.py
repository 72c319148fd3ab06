"""Completeness checks run after loading: internal consistency of the inputs.

Each check returns :class:`Issue` objects (a kind, the file and line of the row, and a
human-readable message, Chinese / English in one line); they do not stop the ingest.  The ingest
counts them by kind, prints the count and the first :data:`EXAMPLES` of each kind, writes the full
list to ``completeness.csv`` beside the database and the counts per file to ``ingest_report.json``
(a 300,000-row file with unknown budget ids is one line of output, not 300,000).
:func:`far_date_warnings` adds its warnings to the files they are about.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb

from auditlib.i18n import register

#: examples printed per kind of warning (the rest are in completeness.csv)
EXAMPLES = 5
COMPLETENESS_NAME = "completeness.csv"

register({
    "completeness.unbalanced_voucher": ("凭证借贷不平", "unbalanced vouchers"),
    "completeness.unknown_budget_id": ("支付的指标编号不在指标表中", "payments naming an unknown budget_id"),
    "completeness.broken_balance": ("银行流水余额不连续", "bank lines breaking the running balance"),
    "completeness.summary": ("{label}：{n} 条，例如：", "{label}: {n}, e.g.:"),
    "completeness.more": ("……另有 {n} 条，全部见 {path}", "... {n} more, all in {path}"),
})


@dataclass(frozen=True)
class Issue:
    """One completeness warning: its ``kind`` (an i18n key suffix), the row's file and line."""

    kind: str
    file: str | None
    line: int | None
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else "-"


def count_by_kind(issues: list[Issue]) -> Counter:
    return Counter(i.kind for i in issues)


def counts_by_file(issues: list[Issue]) -> dict[str, dict[str, int]]:
    """``{file: {kind: count}}`` of the issues (for ``ingest_report.json``)."""
    out: dict[str, Counter] = {}
    for i in issues:
        if i.file:
            out.setdefault(i.file, Counter())[i.kind] += 1
    return {f: dict(c) for f, c in out.items()}


def summary_lines(issues: list[Issue], lang: str, path: str | None = None) -> list[str]:
    """Per kind: the count, then the first :data:`EXAMPLES` examples with file:line, then how many
    more there are and where the full list is."""
    from auditlib.i18n import t

    lines: list[str] = []
    for kind, n in count_by_kind(issues).items():
        lines.append(t("completeness.summary", lang, label=t(f"completeness.{kind}", lang), n=n))
        examples = [i for i in issues if i.kind == kind][:EXAMPLES]
        lines.extend(f"    {i.where}  {i.message}" for i in examples)
        if n > len(examples):
            lines.append("    " + t("completeness.more", lang, n=n - len(examples), path=path or COMPLETENESS_NAME))
    return lines

#: transaction dates more than this many years before or after the data's fiscal year are loaded
#: with a warning (typos such as 2042 or 1924 for 2024)
FAR_YEARS = 5
#: (table, date column) of the transaction dates whose year makes the fiscal year of the data
TRANSACTION_DATES = (("budget", "issued_on"), ("payments", "accepted_on"), ("payments", "requested_on"),
                     ("payments", "paid_on"), ("ledger", "voucher_date"), ("bank_txns", "txn_date"))


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()[0] > 0


def unbalanced_vouchers(con) -> list[Issue]:
    """Vouchers (unit_code, voucher_no) whose total debit differs from total credit (file and line:
    the voucher's first line)."""
    if not _has(con, "ledger"):
        return []
    # the sums first (one pass, two aggregates), the first line only of the few unbalanced vouchers
    rows = con.execute(
        """
        WITH u AS (
            SELECT unit_code, voucher_no, sum(coalesce(debit, 0)) AS d, sum(coalesce(credit, 0)) AS c
            FROM ledger GROUP BY unit_code, voucher_no HAVING sum(coalesce(debit, 0)) <> sum(coalesce(credit, 0))
        )
        SELECT u.unit_code, u.voucher_no, any_value(u.d), any_value(u.c), arg_min(l._file, l._line), min(l._line)
        FROM u JOIN ledger l ON l.unit_code IS NOT DISTINCT FROM u.unit_code
                            AND l.voucher_no IS NOT DISTINCT FROM u.voucher_no
        GROUP BY u.unit_code, u.voucher_no
        ORDER BY u.unit_code, u.voucher_no
        """
    ).fetchall()
    return [
        Issue("unbalanced_voucher", f, ln,
              f"凭证借贷不平 / unbalanced voucher: unit {u} voucher {v}: debit {d} <> credit {c}")
        for u, v, d, c, f, ln in rows
    ]


def unknown_budget_ids(con) -> list[Issue]:
    """Payments whose non-empty budget_id is not in the budget table."""
    if not (_has(con, "payments") and _has(con, "budget")):
        return []
    rows = con.execute(
        """
        SELECT p.payment_id, p.budget_id, p._file, p._line FROM payments p
        WHERE p.budget_id IS NOT NULL AND trim(p.budget_id) <> ''
          AND NOT EXISTS (SELECT 1 FROM budget b WHERE b.budget_id = p.budget_id)
        ORDER BY p._file, p._line
        """
    ).fetchall()
    return [
        Issue("unknown_budget_id", f, ln,
              f"支付的指标编号不在指标表中 / payment {pid} ({f}:{ln}) names unknown budget_id {bid}")
        for pid, bid, f, ln in rows
    ]


def broken_balances(con) -> list[Issue]:
    """Bank lines whose balance is not previous balance + inflow - outflow (per account)."""
    if not _has(con, "bank_txns"):
        return []
    rows = con.execute(
        """
        WITH b AS (
            SELECT account_no, txn_id, txn_date, _file, _line, balance,
                   coalesce(inflow, 0) AS inflow, coalesce(outflow, 0) AS outflow,
                   lag(balance) OVER (PARTITION BY account_no ORDER BY txn_date, _file, _line) AS prev
            FROM bank_txns WHERE balance IS NOT NULL
        )
        SELECT account_no, txn_id, _file, _line, prev, inflow, outflow, balance FROM b
        WHERE prev IS NOT NULL AND prev + inflow - outflow <> balance
        ORDER BY account_no, txn_date, _file, _line
        """
    ).fetchall()
    return [
        Issue("broken_balance", f, ln,
              f"银行流水余额不连续 / broken running balance: account {acct} txn {tid} ({f}:{ln}): "
              f"{prev} + {inf} - {out} <> {bal}")
        for acct, tid, f, ln, prev, inf, out, bal in rows
    ]


def completeness_issues(con: duckdb.DuckDBPyConnection) -> list[Issue]:
    """All completeness warnings of the loaded tables, as :class:`Issue` objects."""
    return unbalanced_vouchers(con) + unknown_budget_ids(con) + broken_balances(con)


def completeness_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """All completeness warnings of the loaded tables (their messages)."""
    return [i.message for i in completeness_issues(con)]


def write_completeness(path, issues: list[Issue]) -> None:
    """``completeness.csv``: every completeness warning (kind, file, line, message)."""
    from auditlib.common.csvfile import write_csv

    write_csv(path, ["kind", "file", "line", "message"],
              ([i.kind, i.file or "", "" if i.line is None else i.line, i.message] for i in issues))


def far_date_warnings(con: duckdb.DuckDBPyConnection, files: list) -> None:
    """Warn (per file, in its ``warnings``) about transaction dates far outside the fiscal year
    of the data: the most common year of all transaction dates in the database.

    ``files`` are the :class:`~auditlib.ingest.report.FileReport` of the files just loaded.
    """
    if not files:
        return
    union = " UNION ALL ".join(f'SELECT year("{c}") AS y FROM {t} WHERE "{c}" IS NOT NULL'
                               for t, c in TRANSACTION_DATES)
    row = con.execute(f"SELECT y FROM ({union}) GROUP BY y ORDER BY count(*) DESC, y DESC LIMIT 1").fetchone()
    if row is None:
        return
    fy = int(row[0])
    lo, hi = fy - FAR_YEARS, fy + FAR_YEARS
    for f in files:
        for table, col in TRANSACTION_DATES:
            if table != f.table:
                continue
            n, line, value = con.execute(
                f'SELECT count(*), min(_line), arg_min("{col}", _line) FROM {table} '
                f'WHERE _file = ? AND (year("{col}") < ? OR year("{col}") > ?)', [f.file, lo, hi]).fetchone()
            if n:
                f.warnings.append(
                    f"{f.file}: {col} 列有 {n} 个日期远离会计年度 {fy}（早于 {lo} 年或晚于 {hi} 年），首个在第 {line} 行："
                    f"{value} / {n} date(s) in column {col} far outside the fiscal year {fy} (before {lo} or after "
                    f"{hi}), first at line {line}: {value}")
