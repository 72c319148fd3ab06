"""The source rows behind one finding, found from its ``ref``: the generic drill-down.

Every finding names what it is about in ``ref`` (CONTRACT §4): ``payments:ID``,
``budget:ID``, ``ledger:VOUCHER#LINE``, ``bank_txns:ID``, ``accounts:NO``,
``balances:ACCOUNT/COUNTERPARTY`` or ``units:CODE``.  :func:`source_rows` turns a ref
into the rows an auditor checks by its kind: the payment, the budget line and the
payments made against it, the whole voucher, the bank line, the account and its
statement lines, the ledger lines of an open balance.  A rule that knows more (SF06's
twin payments, DP05's December payments) gives its own drill-down (``Rule.drilldown``),
built with :func:`fetch`; :meth:`auditlib.rules.model.Rule.source_rows` picks the rule's
own or this one.  Each frame keeps the ``_file`` and ``_line`` of the source file the
row came from.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from auditlib.db import query

#: most rows shown for one finding (an account's whole statement can be long)
MAX_ROWS = 500


@dataclass(frozen=True)
class SourceRows:
    """One table's rows behind a finding: ``label`` says how they relate to it."""

    table: str
    label_zh: str
    label_en: str
    rows: pd.DataFrame

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


def source_rows(con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                fiscal_year: int | None = None) -> list[SourceRows]:
    """The rows of the input tables behind the finding ``ref`` of ``unit_code``.

    Parameters
    ----------
    con : duckdb connection
    unit_code : str
    ref : str
        The finding's reference (``kind:key``).
    evidence : Series, optional
        The finding's evidence row (from :func:`auditlib.rules.engine.inspect`); the generic
        lookup does not need it, a rule's own drill-down may.
    as_of, fiscal_year : optional
        Cut-off and year, for a rule's own drill-down; the generic lookup does not need them.
    """
    kind, _, key = str(ref).partition(":")
    out: list[SourceRows] = []

    def add(table, zh, en, sql, args):
        out.extend(fetch(con, table, zh, en, sql, args))

    if kind == "payments":
        add("payments", "支付记录", "the payment",
            "SELECT * FROM payments WHERE unit_code = ? AND payment_id = ?", [unit_code, key])
    elif kind == "budget":
        add("budget", "预算指标", "the budget line",
            "SELECT * FROM budget WHERE unit_code = ? AND budget_id = ?", [unit_code, key])
        add("payments", "以该指标支付的款项", "payments made against it",
            "SELECT * FROM payments WHERE unit_code = ? AND budget_id = ? ORDER BY paid_on, payment_id",
            [unit_code, key])
    elif kind == "ledger":
        voucher, _, line = key.rpartition("#")
        add("ledger", "凭证行", "the voucher line",
            "SELECT * FROM ledger WHERE unit_code = ? AND voucher_no = ? AND line_no::VARCHAR = ?",
            [unit_code, voucher, line])
        add("ledger", "整张凭证", "the whole voucher",
            "SELECT * FROM ledger WHERE unit_code = ? AND voucher_no = ? ORDER BY line_no", [unit_code, voucher])
    elif kind == "bank_txns":
        add("bank_txns", "银行流水", "the bank line",
            "SELECT * FROM bank_txns WHERE unit_code = ? AND txn_id = ?", [unit_code, key])
    elif kind == "accounts":
        add("accounts", "账户登记", "the registered account",
            "SELECT * FROM accounts WHERE unit_code = ? AND account_no = ?", [unit_code, key])
        add("bank_txns", "该账户的银行流水", "the account's statement lines",
            "SELECT * FROM bank_txns WHERE unit_code = ? AND account_no = ? ORDER BY txn_date, txn_id",
            [unit_code, key])
    elif kind == "balances":
        account, _, counterparty = key.partition("/")
        add("ledger", "该往来款的全部凭证行", "every ledger line of the open balance",
            "SELECT * FROM ledger WHERE unit_code = ? AND left(account_code, 4) = ? AND trim(counterparty) = ? "
            "ORDER BY voucher_date, voucher_no, line_no", [unit_code, account, counterparty])
    return out


def fetch(con, table: str, zh: str, en: str, sql: str, args: list) -> list[SourceRows]:
    """The rows of ``sql`` (at most :data:`MAX_ROWS`) labelled for the auditor; none when empty."""
    rows = query(con, sql + f" LIMIT {MAX_ROWS}", args)
    return [SourceRows(table, zh, en, rows)] if len(rows) else []
