"""SF02's one-to-one matching of bank lines to the books (the query of a rule SQL alone cannot express).

It takes the connection and the ``p`` parameter relation (see :mod:`auditlib.rules.engine`) and
returns the evidence frame, one row per finding, like a rule's SQL does (in bank-line order: unit,
date, transaction id).
"""
from __future__ import annotations

from contextlib import contextmanager

from auditlib.rules.model import sql_query


@sql_query
@contextmanager
def unbooked_bank_lines(con, p_rel: str):
    """Bank lines with no ledger line on 1002/1011 of the same amount and direction within
    ``window_days``; matching is one-to-one, nearest date first (ties: earlier bank line, then
    earlier ledger line).

    The candidate pairs are found in SQL.  A pair whose bank line and ledger line have no other
    candidate is matched whatever the order (the greedy pass would reach it with both free), so
    only the pairs that compete for a line go through the greedy pass in Python; the unmatched
    bank lines are then selected in SQL (the statement :func:`~auditlib.rules.model.sql_query` runs).
    Same result as running the greedy pass over every pair.

    For speed and memory the pairs hold only row ids and a hash of each line's key (bank line:
    unit, account, txn_id; ledger line: unit, voucher_no, line_no); one join on (unit, side,
    amount) finds them, each ledger line standing once for its debit and once for its credit.
    A key counted with more than one pair makes its pairs contested.  Two keys sharing a hash
    can only make an uncontested pair look contested, and the greedy pass matches such a pair
    all the same, so the result is exact.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sf02_pairs AS
        WITH {p_rel},
        t AS (SELECT t.rowid AS bank_row, t.unit_code, t.txn_date, p.window_days,
                     hash(t.unit_code, t.account_no, t.txn_id) AS hb,
                     CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN 'd' ELSE 'c' END AS side,
                     CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN t.inflow ELSE t.outflow END AS amount
              FROM bank_txns t JOIN p USING (unit_code)
              WHERE t.txn_date <= p.as_of AND (COALESCE(t.inflow, 0) <> 0 OR COALESCE(t.outflow, 0) <> 0)),
        l AS (SELECT l.rowid AS ledger_row, l.unit_code, l.voucher_date,
                     hash(l.unit_code, l.voucher_no, l.line_no) AS hl, s.side,
                     CASE s.side WHEN 'd' THEN l.debit ELSE l.credit END AS amount
              FROM ledger l JOIN p USING (unit_code), (VALUES ('d'), ('c')) AS s(side)
              WHERE l.voucher_date <= p.as_of AND (l.account_code LIKE '1002%' OR l.account_code LIKE '1011%')
                AND COALESCE(CASE s.side WHEN 'd' THEN l.debit ELSE l.credit END, 0) <> 0),
        pairs AS MATERIALIZED (
            SELECT t.bank_row, l.ledger_row, t.hb, l.hl, abs(t.txn_date - l.voucher_date) AS gap
            FROM t JOIN l ON l.unit_code = t.unit_code AND l.side = t.side AND l.amount = t.amount
            WHERE abs(t.txn_date - l.voucher_date) <= t.window_days),
        mb AS (SELECT hb FROM pairs GROUP BY hb HAVING count(*) > 1),
        ml AS (SELECT hl FROM pairs GROUP BY hl HAVING count(*) > 1)
        SELECT bank_row, ledger_row, gap, (hb IN (SELECT hb FROM mb) OR hl IN (SELECT hl FROM ml)) AS contested
        FROM pairs""")
    try:
        contested = con.execute("""
            SELECT t.unit_code, t.account_no, t.txn_id, l.unit_code, l.voucher_no, l.line_no
            FROM _sf02_pairs x JOIN bank_txns t ON t.rowid = x.bank_row JOIN ledger l ON l.rowid = x.ledger_row
            WHERE x.contested
            ORDER BY x.gap, t.txn_date, t.txn_id, l.voucher_date, l.voucher_no, l.line_no""").fetchall()
        used_bank, used_ledger = set(), set()
        for unit, account, txn_id, lunit, voucher_no, line_no in contested:
            b, l = (unit, account, txn_id), (lunit, voucher_no, line_no)
            if b not in used_bank and l not in used_ledger:
                used_bank.add(b)
                used_ledger.add(l)
        con.execute("CREATE OR REPLACE TEMP TABLE _sf02_matched (unit_code VARCHAR, account_no VARCHAR, txn_id VARCHAR)")
        if used_bank:
            con.executemany("INSERT INTO _sf02_matched VALUES (?, ?, ?)", [list(b) for b in used_bank])
        if _keys_unique(con, p_rel):
            # no two bank lines share a key: a line is matched by key exactly when it is the line of
            # an uncontested pair (its key all there: a missing part equals nothing) or its key was
            # matched in the greedy pass; row ids, not keys, are compared for the first
            unmatched = """NOT (t.account_no IS NOT NULL AND t.txn_id IS NOT NULL
                             AND t.rowid IN (SELECT bank_row FROM _sf02_pairs WHERE NOT contested))
                  AND NOT EXISTS (SELECT 1 FROM _sf02_matched m WHERE m.unit_code = t.unit_code
                                  AND m.account_no = t.account_no AND m.txn_id = t.txn_id)"""
        else:
            unmatched = """NOT EXISTS (SELECT 1 FROM matched m WHERE m.unit_code = t.unit_code
                                  AND m.account_no = t.account_no AND m.txn_id = t.txn_id)"""
        yield f"""
            WITH {p_rel},
            matched AS (SELECT t.unit_code, t.account_no, t.txn_id FROM bank_txns t
                        WHERE t.rowid IN (SELECT bank_row FROM _sf02_pairs WHERE NOT contested)
                        UNION ALL SELECT unit_code, account_no, txn_id FROM _sf02_matched),
            b AS (
                SELECT t.unit_code, t.account_no, t.txn_id, t.txn_date,
                       CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN 'in' ELSE 'out' END AS direction,
                       CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN t.inflow ELSE t.outflow END AS txn_amount,
                       t.counterparty_name, t.memo, t._file, t._line, p.window_days
                FROM bank_txns t JOIN p USING (unit_code)
                WHERE t.txn_date <= p.as_of AND (COALESCE(t.inflow, 0) <> 0 OR COALESCE(t.outflow, 0) <> 0)
                  AND {unmatched})
            SELECT unit_code, 'bank_txns:' || COALESCE(txn_id, 'None') AS ref, txn_amount AS amount,
                   'high' AS severity,
                   printf('%s %s 元，账内 %s 天内无对应记录', CASE WHEN direction = 'in' THEN '收入' ELSE '支出' END,
                          COALESCE(CAST(txn_amount AS VARCHAR), 'None'), COALESCE(CAST(window_days AS VARCHAR), 'None'))
                       AS detail,
                   account_no, txn_id, txn_date, direction, txn_amount, counterparty_name, memo, _file, _line,
                   window_days
            FROM b ORDER BY unit_code, txn_date, txn_id"""
    finally:
        con.execute("DROP TABLE IF EXISTS _sf02_pairs")
        con.execute("DROP TABLE IF EXISTS _sf02_matched")


def _keys_unique(con, p_rel: str) -> bool:
    """Whether no two of the bank lines SF02 reads share a key (unit, account, txn_id): no two share
    its hash (two keys sharing a hash only send the caller the longer way)."""
    return not con.execute(f"""
        WITH {p_rel}
        SELECT hash(t.unit_code, t.account_no, t.txn_id) AS hb FROM bank_txns t JOIN p USING (unit_code)
        WHERE t.txn_date <= p.as_of AND (COALESCE(t.inflow, 0) <> 0 OR COALESCE(t.outflow, 0) <> 0)
        GROUP BY hb HAVING count(*) > 1 LIMIT 1""").fetchall()
