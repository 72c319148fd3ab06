"""The rule engine: one DuckDB query per rule over all units at once.

Each rule's query reads the six tables and a relation ``p`` holding that rule's
resolved parameters per unit (``unit_code``, one column per parameter, ``as_of``,
``fiscal_year``), so per-unit overrides cost no extra query.  A query returns one
row per finding: ``unit_code, ref, amount, severity, detail`` followed by the
evidence columns an auditor checks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pandas as pd

from .catalogue import RULES, RULES_BY_ID, Rule
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


@dataclass
class Inspection:
    """Findings of one inspection run: a findings frame and the evidence per rule."""

    findings: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: Params | None = None


def implemented_rules(inspection: str | None = None) -> list[Rule]:
    """Rules that have a query, optionally of one inspection, in catalogue order."""
    return [r for r in RULES if r.id in QUERIES and (inspection is None or r.inspection == inspection)]


def _param_relation(con, rule: Rule, params: Params, units: list[str]) -> str:
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
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) AS v({', '.join(cols)}) WHERE unit_code IS NOT NULL)"


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
        units = [u for (u,) in con.execute(
            "SELECT DISTINCT unit_code FROM (SELECT unit_code FROM units UNION ALL SELECT unit_code FROM payments "
            "UNION ALL SELECT unit_code FROM ledger UNION ALL SELECT unit_code FROM bank_txns "
            "UNION ALL SELECT unit_code FROM budget) WHERE unit_code IS NOT NULL ORDER BY 1").fetchall()]
        if unit is not None:
            units = [u for u in units if u == str(unit)]
        frames, evidence = [], {}
        for rule in implemented_rules(inspection):
            query = QUERIES[rule.id].strip()
            p_rel = f"p AS {_param_relation(con, rule, params, units)}"
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
