"""Completeness checks run after loading: internal consistency of the inputs.

Each check returns human-readable warnings (Chinese / English in one line);
they do not stop the ingest but are printed and kept in the report.
:func:`far_date_warnings` adds its warnings to the files they are about.
"""
from __future__ import annotations

import duckdb

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


def unbalanced_vouchers(con) -> list[str]:
    """Vouchers (unit_code, voucher_no) whose total debit differs from total credit."""
    if not _has(con, "ledger"):
        return []
    rows = con.execute(
        """
        SELECT unit_code, voucher_no, sum(coalesce(debit, 0)) AS d, sum(coalesce(credit, 0)) AS c
        FROM ledger GROUP BY unit_code, voucher_no HAVING sum(coalesce(debit, 0)) <> sum(coalesce(credit, 0))
        ORDER BY unit_code, voucher_no
        """
    ).fetchall()
    return [
        f"凭证借贷不平 / unbalanced voucher: unit {u} voucher {v}: debit {d} <> credit {c}"
        for u, v, d, c in rows
    ]


def unknown_budget_ids(con) -> list[str]:
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
        f"支付的指标编号不在指标表中 / payment {pid} ({f}:{ln}) names unknown budget_id {bid}"
        for pid, bid, f, ln in rows
    ]


def broken_balances(con) -> list[str]:
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
        f"银行流水余额不连续 / broken running balance: account {acct} txn {tid} ({f}:{ln}): "
        f"{prev} + {inf} - {out} <> {bal}"
        for acct, tid, f, ln, prev, inf, out, bal in rows
    ]


def completeness_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """All completeness warnings of the loaded tables."""
    return unbalanced_vouchers(con) + unknown_budget_ids(con) + broken_balances(con)


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
