"""SF02's one-to-one matching of bank lines to the books (the query of a rule SQL alone cannot express).

It takes the connection and the ``p`` parameter relation (see :mod:`auditlib.rules.engine`) and
returns the evidence frame, one row per finding, like a rule's SQL does.
"""
from __future__ import annotations

import pandas as pd

from auditlib.db import frame


def unbooked_bank_lines(con, p_rel: str) -> pd.DataFrame:
    """Bank lines with no ledger line on 1002/1011 of the same amount and direction within
    ``window_days``; matching is one-to-one, nearest date first (ties: earlier bank line, then
    earlier ledger line).

    The candidate pairs are found in SQL.  A pair whose bank line and ledger line have no other
    candidate is matched whatever the order (the greedy pass would reach it with both free), so
    only the pairs that compete for a line go through the greedy pass in Python; the unmatched
    bank lines are then selected in SQL.  Same result as running the greedy pass over every pair.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sf02_pairs AS
        WITH {p_rel},
        t AS (SELECT t.unit_code, t.txn_id, t.account_no, t.txn_date, p.window_days,
                     COALESCE(t.inflow, 0) AS inflow, COALESCE(t.outflow, 0) AS outflow
              FROM bank_txns t JOIN p USING (unit_code) WHERE t.txn_date <= p.as_of),
        l AS (SELECT l.unit_code, l.voucher_no, l.line_no, l.voucher_date,
                     COALESCE(l.debit, 0) AS debit, COALESCE(l.credit, 0) AS credit
              FROM ledger l JOIN p USING (unit_code)
              WHERE l.voucher_date <= p.as_of AND (l.account_code LIKE '1002%' OR l.account_code LIKE '1011%')),
        pairs AS (  -- inflow <-> debit, outflow <-> credit: two equi-joins on (unit, amount)
            SELECT t.unit_code, t.account_no, t.txn_id, t.txn_date, l.voucher_no, l.line_no, l.voucher_date,
                   abs(t.txn_date - l.voucher_date) AS gap
            FROM t JOIN l ON l.unit_code = t.unit_code AND l.debit = t.inflow
            WHERE t.inflow <> 0 AND abs(t.txn_date - l.voucher_date) <= t.window_days
            UNION ALL
            SELECT t.unit_code, t.account_no, t.txn_id, t.txn_date, l.voucher_no, l.line_no, l.voucher_date,
                   abs(t.txn_date - l.voucher_date) AS gap
            FROM t JOIN l ON l.unit_code = t.unit_code AND l.credit = t.outflow
            WHERE t.inflow = 0 AND t.outflow <> 0 AND abs(t.txn_date - l.voucher_date) <= t.window_days)
        SELECT *, count(*) OVER (PARTITION BY unit_code, account_no, txn_id) AS nb,
                  count(*) OVER (PARTITION BY unit_code, voucher_no, line_no) AS nl
        FROM pairs""")
    try:
        contested = con.execute("""
            SELECT unit_code, account_no, txn_id, voucher_no, line_no FROM _sf02_pairs WHERE nb > 1 OR nl > 1
            ORDER BY gap, txn_date, txn_id, voucher_date, voucher_no, line_no""").fetchall()
        used_bank, used_ledger = set(), set()
        for unit, account, txn_id, voucher_no, line_no in contested:
            b, l = (unit, account, txn_id), (unit, voucher_no, line_no)
            if b not in used_bank and l not in used_ledger:
                used_bank.add(b)
                used_ledger.add(l)
        con.execute("CREATE OR REPLACE TEMP TABLE _sf02_matched AS "
                    "SELECT unit_code, account_no, txn_id FROM _sf02_pairs WHERE nb = 1 AND nl = 1 LIMIT 0")
        if used_bank:
            con.executemany("INSERT INTO _sf02_matched VALUES (?, ?, ?)", [list(b) for b in used_bank])
        bank = frame(con.sql(f"""
            WITH {p_rel},
            matched AS (SELECT unit_code, account_no, txn_id FROM _sf02_pairs WHERE nb = 1 AND nl = 1
                        UNION ALL SELECT unit_code, account_no, txn_id FROM _sf02_matched)
            SELECT t.unit_code, t.account_no, t.txn_id, t.txn_date,
                   CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN 'in' ELSE 'out' END AS direction,
                   CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN t.inflow ELSE t.outflow END AS txn_amount,
                   t.counterparty_name, t.memo, t._file, t._line, p.window_days
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.txn_date <= p.as_of AND (COALESCE(t.inflow, 0) <> 0 OR COALESCE(t.outflow, 0) <> 0)
              AND NOT EXISTS (SELECT 1 FROM matched m WHERE m.unit_code = t.unit_code
                              AND m.account_no = t.account_no AND m.txn_id = t.txn_id)
            ORDER BY t.unit_code, t.txn_date, t.txn_id"""))
    finally:
        con.execute("DROP TABLE IF EXISTS _sf02_pairs")
        con.execute("DROP TABLE IF EXISTS _sf02_matched")
    ev = bank.reset_index(drop=True)
    ev.insert(1, "ref", "bank_txns:" + ev["txn_id"].astype(str))
    ev.insert(2, "amount", ev["txn_amount"])
    ev.insert(3, "severity", "high")
    ev.insert(4, "detail", [f"{'收入' if d == 'in' else '支出'} {a} 元，账内 {w} 天内无对应记录"
                            for d, a, w in zip(ev["direction"], ev["txn_amount"], ev["window_days"])])
    return ev
