"""The rule engine: one DuckDB query per rule over all units at once.

Each rule's query reads the six tables and a relation ``p`` holding that rule's
resolved parameters per unit (``unit_code``, one column per parameter, ``as_of``,
``fiscal_year``), so per-unit overrides cost no extra query.  A query returns one
row per finding: ``unit_code, ref, amount, severity, detail`` followed by the
evidence columns an auditor checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pandas as pd

from .benford import benford_test
from .catalogue import RULES, Rule
from .db import connect, frame
from .params import Params, load_params

FINDING_COLUMNS = ["inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail"]

#: SQL of each implemented rule, keyed by rule id (see module docstring for the convention)
QUERIES: dict[str, str] = {
    "IF01": """
        WITH spent AS (
            SELECT b.budget_id, COALESCE(SUM(pay.amount), 0) AS paid
            FROM budget b JOIN p USING (unit_code)
            LEFT JOIN payments pay ON pay.budget_id = b.budget_id AND pay.paid_on <= p.as_of
            GROUP BY b.budget_id)
        SELECT b.unit_code, 'budget:' || b.budget_id AS ref, b.amount - s.paid AS amount,
               CASE WHEN p.as_of - b.issued_on > p.recover_days THEN 'high' ELSE 'medium' END AS severity,
               printf('指标 %s 下达 %d 天，未支出 %s 元', b.budget_id, p.as_of - b.issued_on,
                      (b.amount - s.paid)::VARCHAR) AS detail,
               b.budget_id, b.project_name, b.issued_on, b.amount AS budget_amount, s.paid,
               b.amount - s.paid AS unspent, p.as_of - b.issued_on AS age_days, b._file, b._line
        FROM budget b JOIN p USING (unit_code) JOIN spent s USING (budget_id)
        WHERE b.issued_on <= p.as_of AND b.amount - s.paid >= p.min_amount
          AND p.as_of - b.issued_on > p.carry_days""",
    "IF02": """
        WITH ranked AS (
            SELECT t.unit_code, t.account_no, t.balance, t.txn_date,
                   row_number() OVER (PARTITION BY t.unit_code, t.account_no
                                      ORDER BY t.txn_date DESC, t._file DESC, t._line DESC) AS rn
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.txn_date <= p.as_of AND t.balance IS NOT NULL),
        lastout AS (
            SELECT t.unit_code, t.account_no, max(t.txn_date) AS last_outflow
            FROM bank_txns t JOIN p USING (unit_code)
            WHERE t.outflow > 0 AND t.txn_date <= p.as_of GROUP BY ALL)
        SELECT a.unit_code, 'accounts:' || a.account_no AS ref, r.balance AS amount, 'medium' AS severity,
               printf('账户 %s 余额 %s 元，%s', a.account_no, r.balance::VARCHAR,
                      CASE WHEN o.last_outflow IS NULL THEN '无支出记录'
                           ELSE printf('%d 天无支出', p.as_of - o.last_outflow) END) AS detail,
               a.account_no, a.account_name, a.bank_name, a.account_type, r.txn_date AS balance_date,
               r.balance, o.last_outflow, p.as_of - o.last_outflow AS days_since_outflow, a._file, a._line
        FROM accounts a JOIN p USING (unit_code)
        JOIN ranked r ON r.unit_code = a.unit_code AND r.account_no = a.account_no AND r.rn = 1
        LEFT JOIN lastout o ON o.unit_code = a.unit_code AND o.account_no = a.account_no
        WHERE a.account_type <> 'zero_balance' AND (a.closed_on IS NULL OR a.closed_on > p.as_of)
          AND r.balance >= p.min_balance
          AND (o.last_outflow IS NULL OR p.as_of - o.last_outflow > p.dormant_days)""",
    "IF03": """
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('支付给本单位账户 %s（%s）', COALESCE(y.payee_account, ''), y.payee_name) AS detail,
               y.payment_id, y.payee_name, y.payee_account, u.unit_name, y.amount AS payment_amount,
               y.paid_on, y.memo, y._file, y._line
        FROM payments y JOIN p USING (unit_code) LEFT JOIN units u ON u.unit_code = y.unit_code
        WHERE y.payee_account IN (SELECT a.account_no FROM accounts a WHERE a.unit_code = y.unit_code)
           OR norm_name(y.payee_name) = norm_name(u.unit_name)""",
    "IF04": """
        WITH l AS (
            SELECT l.unit_code, left(l.account_code, 4) AS acct, trim(l.counterparty) AS counterparty,
                   l.voucher_date, COALESCE(l.debit, 0) AS debit, COALESCE(l.credit, 0) AS credit
            FROM ledger l JOIN p USING (unit_code)
            WHERE l.voucher_date <= p.as_of AND left(l.account_code, 4) IN ('1214', '1218', '2307')
              AND COALESCE(trim(l.counterparty), '') <> ''),
        g AS (
            SELECT unit_code, acct, counterparty,
                   SUM(CASE WHEN acct LIKE '1%' THEN debit - credit ELSE credit - debit END) AS balance,
                   max(voucher_date) AS last_line, count(*) AS lines
            FROM l GROUP BY ALL)
        SELECT g.unit_code, 'balances:' || g.acct || '/' || g.counterparty AS ref, g.balance AS amount,
               'medium' AS severity,
               printf('%s 往来 %s 余额 %s 元，%d 天无发生额', g.acct, g.counterparty, g.balance::VARCHAR,
                      p.as_of - g.last_line) AS detail,
               g.acct AS account_code, g.counterparty, g.balance AS open_balance, g.last_line,
               p.as_of - g.last_line AS days_idle, g.lines
        FROM g JOIN p USING (unit_code)
        WHERE g.balance >= p.min_amount AND p.as_of - g.last_line > p.stale_days""",
    "SF01": """
        WITH t AS (SELECT t.* FROM bank_txns t JOIN p USING (unit_code) WHERE t.txn_date <= p.as_of),
        bad AS (
            SELECT t.*, CASE WHEN a.account_no IS NULL THEN 'unregistered' ELSE 'after_closure' END AS reason,
                   a.closed_on
            FROM t LEFT JOIN accounts a ON a.unit_code = t.unit_code AND a.account_no = t.account_no
            WHERE a.account_no IS NULL OR (a.closed_on IS NOT NULL AND t.txn_date > a.closed_on))
        SELECT unit_code, 'accounts:' || account_no AS ref,
               SUM(COALESCE(inflow, 0) + COALESCE(outflow, 0)) AS amount, 'high' AS severity,
               printf('%s：%d 笔收支 %s 至 %s',
                      CASE WHEN any_value(reason) = 'unregistered' THEN '账户未在财政登记'
                           ELSE '销户后仍有收支' END,
                      count(*), min(txn_date)::VARCHAR, max(txn_date)::VARCHAR) AS detail,
               account_no, any_value(reason) AS reason, any_value(closed_on) AS closed_on,
               count(*) AS lines, SUM(COALESCE(inflow, 0)) AS inflow, SUM(COALESCE(outflow, 0)) AS outflow,
               min(txn_date) AS first_date, max(txn_date) AS last_date
        FROM bad GROUP BY unit_code, account_no""",
    "SF05": """
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p."limit" AS lim, p.window_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of AND y.amount < p.limit),
        pairs AS (
            SELECT a.payment_id AS anchor, b.payment_id, b.amount, a.lim
            FROM y a JOIN y b ON a.unit_code = b.unit_code AND a.payee_key = b.payee_key
             AND b.paid_on BETWEEN a.paid_on AND a.paid_on + a.window_days),
        windows AS (
            SELECT anchor, SUM(amount) AS total FROM pairs GROUP BY anchor
            HAVING count(*) >= 2 AND SUM(amount) >= max(lim)),
        hits AS (
            SELECT pairs.payment_id, max(windows.total) AS window_total, count(*) AS windows
            FROM pairs JOIN windows USING (anchor) GROUP BY pairs.payment_id)
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('向 %s 分笔支付，窗口合计 %s 元 ≥ 限额 %s 元', y.payee_name, h.window_total::VARCHAR,
                      y.lim::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.amount AS payment_amount, y.paid_on, h.window_total,
               y.expense_type, y.memo, y._file, y._line
        FROM y JOIN hits h USING (payment_id)""",
    "SF06": """
        WITH y AS (
            SELECT y.*, norm_name(y.payee_name) AS payee_key, p.window_days
            FROM payments y JOIN p USING (unit_code) WHERE y.paid_on IS NOT NULL AND y.paid_on <= p.as_of),
        dup AS (
            SELECT a.payment_id, count(*) AS twins, string_agg(b.payment_id, ',' ORDER BY b.payment_id) AS twin_ids
            FROM y a JOIN y b ON a.unit_code = b.unit_code AND a.payee_key = b.payee_key
             AND a.amount = b.amount AND a.payment_id <> b.payment_id
             AND abs(a.paid_on - b.paid_on) <= a.window_days
            GROUP BY a.payment_id)
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'high' AS severity,
               printf('向 %s 重复支付 %s 元（另见 %s）', y.payee_name, y.amount::VARCHAR, d.twin_ids) AS detail,
               y.payment_id, y.payee_name, y.amount AS payment_amount, y.paid_on, d.twin_ids,
               y.memo, y._file, y._line
        FROM y JOIN dup d USING (payment_id)""",
    "SF09": """
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'high' AS severity,
               printf('支付给其他预算单位 %s', COALESCE(un.unit_code, ac.unit_code)) AS detail,
               y.payment_id, y.payee_name, y.payee_account, COALESCE(un.unit_code, ac.unit_code) AS other_unit,
               y.amount AS payment_amount, y.paid_on, y.memo, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        LEFT JOIN (SELECT unit_code, norm_name(unit_name) AS key FROM units) un
               ON un.key = norm_name(y.payee_name) AND un.unit_code <> y.unit_code
        LEFT JOIN accounts ac ON ac.account_no = y.payee_account AND ac.unit_code <> y.unit_code
        WHERE un.unit_code IS NOT NULL OR ac.unit_code IS NOT NULL""",
    "DP03": """
        WITH b AS (
            SELECT b.*, p.min_amount, p.gap, p.as_of,
                   make_date(p.fiscal_year + 1, 1, 1) - make_date(p.fiscal_year, 1, 1) AS year_days,
                   CASE WHEN p.as_of >= make_date(p.fiscal_year, 12, 31)
                             THEN make_date(p.fiscal_year + 1, 1, 1) - make_date(p.fiscal_year, 1, 1)
                        WHEN p.as_of < make_date(p.fiscal_year, 1, 1) THEN 0
                        ELSE dayofyear(p.as_of) END AS elapsed,
                   (SELECT COALESCE(SUM(y.amount), 0) FROM payments y
                     WHERE y.budget_id = b.budget_id AND y.paid_on <= p.as_of) AS paid
            FROM budget b JOIN p USING (unit_code)
            WHERE b.fiscal_year = p.fiscal_year AND b.amount >= p.min_amount)
        SELECT unit_code, 'budget:' || budget_id AS ref, amount - paid AS amount, 'medium' AS severity,
               printf('支出进度 %.1f%%，序时进度 %.1f%%', 100.0 * paid / amount, 100.0 * elapsed / year_days) AS detail,
               budget_id, project_name, amount AS budget_amount, paid,
               round(paid / amount, 4)::DOUBLE AS paid_share, round(elapsed / year_days, 4)::DOUBLE AS time_progress,
               _file, _line
        FROM b WHERE paid * year_days < amount * (elapsed - gap * year_days)""",
    "DP05": """
        WITH y AS (
            SELECT y.unit_code, y.amount, y.paid_on, p.max_share
            FROM payments y JOIN p USING (unit_code)
            WHERE p.as_of >= make_date(p.fiscal_year, 12, 31) AND year(y.paid_on) = p.fiscal_year
              AND y.paid_on <= p.as_of),
        s AS (
            SELECT unit_code, SUM(amount) AS total,
                   SUM(CASE WHEN month(paid_on) = 12 THEN amount ELSE 0 END) AS december,
                   any_value(max_share) AS max_share
            FROM y GROUP BY unit_code)
        SELECT unit_code, 'units:' || unit_code AS ref, december AS amount, 'medium' AS severity,
               printf('12月支出 %s 元，占全年 %.1f%%', december::VARCHAR, 100.0 * december / total) AS detail,
               total AS year_total, december, round(december / total, 4)::DOUBLE AS december_share
        FROM s WHERE total > 0 AND december > max_share * total""",
    "SF03": """
        SELECT l.unit_code, 'ledger:' || l.voucher_no || '#' || l.line_no AS ref, l.credit AS amount,
               'high' AS severity,
               printf('%s 贷方 %s 元，摘要“%s”', l.account_code, l.credit::VARCHAR, l.summary) AS detail,
               l.voucher_date, l.voucher_no, l.line_no, l.account_code, l.account_name, l.summary,
               l.credit, l.counterparty, l._file, l._line
        FROM ledger l JOIN p USING (unit_code)
        WHERE l.voucher_date <= p.as_of
          AND (l.account_code LIKE '2305%' OR l.account_code LIKE '2307%')
          AND l.credit >= p.min_amount
          AND regexp_matches(COALESCE(l.summary, ''),
              '租金|房租|出租|罚款|罚没|处置|变卖|拍卖|废品|回扣|返利|返还|赞助|管理费|利息')""",
    "SF04": """
        SELECT t.unit_code, 'bank_txns:' || t.txn_id AS ref, t.outflow AS amount, 'medium' AS severity,
               printf('账户 %s 提现 %s 元，摘要“%s”', t.account_no, t.outflow::VARCHAR, t.memo) AS detail,
               t.account_no, t.txn_id, t.txn_date, t.outflow, t.memo, t._file, t._line
        FROM bank_txns t JOIN p USING (unit_code)
        WHERE t.txn_date <= p.as_of AND t.outflow >= p.min_amount
          AND regexp_matches(COALESCE(t.memo, ''), '现金|取现|提现|备用金')""",
    "SF07": """
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'medium' AS severity,
               printf('%s %s 元为 %s 元整数倍', COALESCE(y.expense_type, ''), y.amount::VARCHAR,
                      p.round_unit::VARCHAR) AS detail,
               y.payment_id, y.payee_name, y.expense_type, y.memo, y.amount AS payment_amount, y.paid_on,
               y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE regexp_matches(COALESCE(y.expense_type, '') || ' ' || COALESCE(y.memo, ''), '会议|培训|劳务|咨询')
          AND y.amount >= p.min_amount AND p.round_unit > 0 AND y.amount % p.round_unit = 0""",
    "DP01": """
        WITH t AS (
            SELECT y.*, p.daily_rate,
                   CASE WHEN y.term_days > 0 THEN LEAST(y.term_days, p.max_term_days)
                        ELSE p.term_days_default END AS limit_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.payee_is_sme AND y.accepted_on IS NOT NULL AND y.paid_on IS NOT NULL
              AND y.paid_on <= p.as_of)
        SELECT unit_code, 'payments:' || payment_id AS ref, amount, 'high' AS severity,
               printf('验收后 %d 天支付，超期 %d 天', paid_on - accepted_on,
                      paid_on - accepted_on - limit_days) AS detail,
               payment_id, payee_name, contract_id, accepted_on, paid_on, term_days, limit_days,
               paid_on - accepted_on - limit_days AS days_late,
               CAST(amount * daily_rate * (paid_on - accepted_on - limit_days) AS DECIMAL(18,2)) AS interest,
               _file, _line
        FROM t WHERE paid_on - accepted_on - limit_days > 0""",
    "DP02": """
        WITH t AS (
            SELECT y.*, p.daily_rate, p.as_of,
                   CASE WHEN y.term_days > 0 THEN LEAST(y.term_days, p.max_term_days)
                        ELSE p.term_days_default END AS limit_days
            FROM payments y JOIN p USING (unit_code)
            WHERE y.payee_is_sme AND y.accepted_on <= p.as_of
              AND (y.paid_on IS NULL OR y.paid_on > p.as_of))
        SELECT unit_code, 'payments:' || payment_id AS ref, amount, 'high' AS severity,
               printf('验收后 %d 天仍未支付，超期 %d 天', as_of - accepted_on,
                      as_of - accepted_on - limit_days) AS detail,
               payment_id, payee_name, contract_id, accepted_on, term_days, limit_days,
               as_of - accepted_on - limit_days AS days_late,
               CAST(amount * daily_rate * (as_of - accepted_on - limit_days) AS DECIMAL(18,2)) AS interest,
               _file, _line
        FROM t WHERE as_of - accepted_on > limit_days""",
    "DP04": """
        SELECT y.unit_code, 'payments:' || y.payment_id AS ref, y.amount, 'low' AS severity,
               printf('申请后 %d 天支付', y.paid_on - y.requested_on) AS detail,
               y.payment_id, y.payee_name, y.requested_on, y.paid_on,
               y.paid_on - y.requested_on AS processing_days, y._file, y._line
        FROM payments y JOIN p USING (unit_code)
        WHERE y.paid_on <= p.as_of AND y.paid_on - y.requested_on > p.max_days""",
}


def _sf02_unbooked_bank_lines(con, p_rel: str) -> pd.DataFrame:
    """SF02: bank lines with no ledger line on 1002/1011 of the same amount and direction within
    ``window_days``; matching is one-to-one, nearest date first (ties: earlier bank line, then
    earlier ledger line)."""
    bank = frame(con.sql(f"""
        WITH {p_rel}
        SELECT t.unit_code, t.account_no, t.txn_id, t.txn_date,
               CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN 'in' ELSE 'out' END AS direction,
               CASE WHEN COALESCE(t.inflow, 0) <> 0 THEN t.inflow ELSE t.outflow END AS txn_amount,
               t.counterparty_name, t.memo, t._file, t._line, p.window_days
        FROM bank_txns t JOIN p USING (unit_code)
        WHERE t.txn_date <= p.as_of AND (COALESCE(t.inflow, 0) <> 0 OR COALESCE(t.outflow, 0) <> 0)
        ORDER BY t.unit_code, t.txn_date, t.txn_id"""))
    pairs = con.sql(f"""
        WITH {p_rel},
        t AS (SELECT t.unit_code, t.txn_id, t.account_no, t.txn_date, p.window_days,
                     COALESCE(t.inflow, 0) AS inflow, COALESCE(t.outflow, 0) AS outflow
              FROM bank_txns t JOIN p USING (unit_code) WHERE t.txn_date <= p.as_of),
        l AS (SELECT l.unit_code, l.voucher_no, l.line_no, l.voucher_date,
                     COALESCE(l.debit, 0) AS debit, COALESCE(l.credit, 0) AS credit
              FROM ledger l WHERE l.account_code LIKE '1002%' OR l.account_code LIKE '1011%')
        SELECT t.unit_code, t.account_no, t.txn_id, l.voucher_no, l.line_no, abs(t.txn_date - l.voucher_date) AS gap
        FROM t JOIN l ON l.unit_code = t.unit_code
         AND ((t.inflow <> 0 AND l.debit = t.inflow) OR (t.inflow = 0 AND t.outflow <> 0 AND l.credit = t.outflow))
         AND abs(t.txn_date - l.voucher_date) <= t.window_days
        ORDER BY gap, t.txn_date, t.txn_id, l.voucher_date, l.voucher_no, l.line_no""").fetchall()
    used_bank, used_ledger = set(), set()
    for unit, account, txn_id, voucher_no, line_no, _gap in pairs:
        b, l = (unit, account, txn_id), (unit, voucher_no, line_no)
        if b not in used_bank and l not in used_ledger:
            used_bank.add(b)
            used_ledger.add(l)
    keep = [(u, a, t) not in used_bank for u, a, t in zip(bank["unit_code"], bank["account_no"], bank["txn_id"])]
    ev = bank[pd.Series(keep, index=bank.index, dtype=bool)].reset_index(drop=True)
    ev.insert(1, "ref", "bank_txns:" + ev["txn_id"].astype(str))
    ev.insert(2, "amount", ev["txn_amount"])
    ev.insert(3, "severity", "high")
    ev.insert(4, "detail", [f"{'收入' if d == 'in' else '支出'} {a} 元，账内 {w} 天内无对应记录"
                            for d, a, w in zip(ev["direction"], ev["txn_amount"], ev["window_days"])])
    return ev


def _sf08_benford(con, p_rel: str) -> pd.DataFrame:
    """SF08: per unit, first-digit MAD of payment amounts >= 10 above ``max_mad`` with at least
    ``min_count`` amounts.  The evidence holds the unit's digit table."""
    rows = con.sql(f"""
        WITH {p_rel}
        SELECT y.unit_code, list(y.amount) AS amounts, any_value(p.max_mad) AS max_mad,
               any_value(p.min_count) AS min_count
        FROM payments y JOIN p USING (unit_code) WHERE y.amount >= 10
        GROUP BY y.unit_code ORDER BY y.unit_code""").fetchall()
    out = []
    for unit, amounts, max_mad, min_count in rows:
        result = benford_test(amounts, 1, min_amount=10)
        if result.n >= min_count and Decimal(repr(result.mad)) > max_mad:
            out.append({"unit_code": unit, "ref": f"units:{unit}", "amount": None, "severity": "low",
                        "detail": f"首位数字 MAD {result.mad:.5f} > {max_mad}，n = {result.n}（{result.label('zh')}）",
                        "n": result.n, "mad": round(result.mad, 6), "chi_square": round(result.chi_square, 3),
                        "conformity": result.conformity,
                        **{f"digit_{d}": c for d, c in zip(result.table["digit"], result.table["count"])}})
    cols = ["unit_code", "ref", "amount", "severity", "detail", "n", "mad", "chi_square", "conformity"]
    return pd.DataFrame(out) if out else pd.DataFrame(columns=cols)


QUERIES["SF02"] = _sf02_unbooked_bank_lines
QUERIES["SF08"] = _sf08_benford


@dataclass
class Inspection:
    """Findings of one inspection run: a findings frame and the evidence per rule."""

    findings: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: Params | None = None


_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "


def _install_macros(con) -> None:
    """``norm_name(x)``: names compared after full-width to half-width and without spaces."""
    full, half = _FULL.replace("'", "''"), _HALF.replace("'", "''")
    con.execute(f"CREATE OR REPLACE TEMP MACRO norm_name(x) AS "
                f"regexp_replace(translate(COALESCE(x, ''), '{full}', '{half}'), '\\s+', '', 'g')")


def implemented_rules(inspection: str | None = None) -> list[Rule]:
    """Rules that have a query, optionally of one inspection, in catalogue order."""
    return [r for r in RULES if r.id in QUERIES and (inspection is None or r.inspection == inspection)]


def _param_relation(rule: Rule, params: Params, units: list[str]) -> str:
    """SQL text of the ``p`` relation: one row per unit with its resolved parameters."""
    names = [prm.name for prm in rule.params]
    cols = ["unit_code", *names, "as_of", "fiscal_year"]
    rows = []
    for unit in units:
        values = params.for_unit(unit)[rule.id]
        cells = [_literal(unit)]
        for prm in rule.params:
            v = values[prm.name]
            cells.append(f"CAST('{v}' AS DECIMAL(18,6))" if isinstance(v, Decimal) else str(int(v)))
        cells += [f"DATE '{params.as_of.isoformat()}'", str(params.fiscal_year)]
        rows.append(f"({', '.join(cells)})")
    if not rows:
        rows = ["(" + ", ".join(["NULL"] * len(cols)) + ")"]
    quoted = ", ".join(f'"{c}"' for c in cols)
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) AS v({quoted}) WHERE unit_code IS NOT NULL)"


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def inspect(db, inspection: str | None = None, unit: str | None = None,
            params: Params | None = None) -> Inspection:
    """Run the rules of ``inspection`` (all when None) for every unit or one.

    Parameters
    ----------
    db : path or duckdb connection
        The audit database written by ``auditlib ingest``.
    inspection : {'idle_funds', 'slush_funds', 'delayed_payments'}, optional
    unit : str, optional
        One unit code; the same findings as an all-units run, filtered.
    params : Params, optional
        Resolved parameters; ``params/default.yaml`` when omitted.
    """
    params = params or load_params()
    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = connect(db) if own else db
    try:
        _install_macros(con)
        units = [u for (u,) in con.execute(
            "SELECT DISTINCT unit_code FROM (SELECT unit_code FROM units UNION ALL SELECT unit_code FROM payments "
            "UNION ALL SELECT unit_code FROM ledger UNION ALL SELECT unit_code FROM bank_txns "
            "UNION ALL SELECT unit_code FROM budget) WHERE unit_code IS NOT NULL ORDER BY 1").fetchall()]
        if unit is not None:
            units = [u for u in units if u == str(unit)]
        frames, evidence = [], {}
        for rule in implemented_rules(inspection):
            p_rel = f"p AS {_param_relation(rule, params, units)}"
            query = QUERIES[rule.id]
            if callable(query):
                ev = query(con, p_rel)
            else:
                query = query.strip()
                if query[:4].upper() == "WITH":  # join our CTE to the query's own
                    sql = f"WITH {p_rel}, {query[4:]} ORDER BY 1, 2"
                else:
                    sql = f"WITH {p_rel} {query} ORDER BY 1, 2"
                ev = frame(con.sql(sql))
            evidence[rule.id] = ev
            if len(ev):
                f = ev[["unit_code", "ref", "amount", "severity", "detail"]].copy()
                f.insert(0, "rule_id", rule.id)
                f.insert(0, "inspection", rule.inspection)
                f["title"] = rule.title(params.lang)
                frames.append(f[FINDING_COLUMNS])
        findings = (pd.concat(frames, ignore_index=True) if frames
                    else pd.DataFrame(columns=FINDING_COLUMNS))
        return Inspection(findings=findings, evidence=evidence, params=params)
    finally:
        if own:
            con.close()
