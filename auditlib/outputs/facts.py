"""A finding's facts in words, for the 取证单: who, when, how much, to or from whom, and where in
the source data — never an internal ref such as ``accounts:6258…`` alone.

One sentence per evidence row, built from the columns the row has (CONTRACT §1 names):

* who: the inspected unit (name and code);
* when: the row's date (``paid_on``, ``txn_date``, ``voucher_date`` …);
* how much: its ``amount`` in yuan with separators;
* which account or payee: ``payee_name``, ``account_no``, ``counterparty`` …, and the
  identifiers a reader looks up (支付编号, 流水号, 凭证号, 合同编号) with the rule's own labels;
* what the rule saw: its ``detail`` sentence;
* where: ``来源：<file> 第 <line> 行`` from the ``_file`` and ``_line`` columns.
"""
from __future__ import annotations

import datetime as dt
import numbers
from decimal import Decimal

import numpy as np
import pandas as pd

from auditlib.i18n import register, t
from auditlib.outputs.formats import enum_label
from auditlib.outputs.xlsx_cells import is_missing
from auditlib.rules.model import Rule

register({
    "fact.paid": ("{date}，{unit}向{payee}支付{amount}", "On {date}, {unit} paid {payee} {amount}"),
    "fact.unpaid": ("{unit}应付{payee}款项{amount}，至检查截止日尚未支付",
                    "{unit} owed {payee} {amount}, unpaid at the cut-off date"),
    "fact.bank": ("{date}，{unit}银行账户 {account} {direction}{amount}", "On {date}, account {account} of {unit}: "
                  "{direction} {amount}"),
    "fact.ledger": ("{date}，{unit}凭证 {voucher} 第 {line} 行，科目 {account}，{side}{amount}",
                    "On {date}, voucher {voucher} line {line} of {unit}, account {account}: {side} {amount}"),
    "fact.budget": ("{unit}预算指标 {budget}{project}，金额{amount}", "Budget line {budget}{project} of {unit}, "
                    "{amount}"),
    "fact.account": ("{unit}银行账户 {account}{name}", "Bank account {account}{name} of {unit}"),
    "fact.balance": ("{unit}往来科目 {account} 对 {counterparty} 的余额{amount}",
                     "{unit}'s balance on account {account} with {counterparty}: {amount}"),
    "fact.unit": ("{unit}", "{unit}"),
    "fact.amount": ("{amount} 元", "{amount} yuan"),
    "fact.out": ("支出", "paid out"),
    "fact.in": ("收入", "received"),
    "fact.debit": ("借方", "debit"),
    "fact.credit": ("贷方", "credit"),
    "fact.source": ("来源：{file} 第 {line} 行", "source: {file}, line {line}"),
    "fact.source_file": ("来源：{file}", "source: {file}"),
    "fact.unknown_payee": ("（收款人未记载）", "(payee not recorded)"),
})

#: the row's date, the first present of these
_DATES = ("paid_on", "txn_date", "voucher_date", "accepted_on", "issued_on", "first_date", "balance_date",
          "requested_on", "last_line")
#: identifiers and descriptions shown in brackets after the lead clause, in this order
_EXTRAS = ("payment_id", "txn_id", "contract_id", "budget_id", "expense_type", "memo", "summary",
           "counterparty_name", "counterparty", "payee_account", "counterparty_account", "twin_ids", "other_unit",
           "accepted_on", "requested_on", "limit_days", "days_late", "interest", "lines", "first_date", "last_date")
#: columns the lead clause of each kind of ref already says
_LEAD_COLUMNS = {
    "payments": {"paid_on", "payee_name", "amount", "payment_amount"},
    "bank_txns": {"txn_date", "account_no", "direction", "amount", "txn_amount", "outflow", "inflow"},
    "ledger": {"voucher_date", "voucher_no", "line_no", "account_code", "account_name", "amount", "debit",
               "credit"},
    "budget": {"budget_id", "project_name", "budget_amount", "issued_on"},
    "accounts": {"account_no", "account_name"},
    "balances": {"account_code", "counterparty", "open_balance", "amount"},
}


def _present(row: dict, name: str) -> bool:
    return name in row and not is_missing(row[name]) and str(row[name]).strip() != ""


def date_text(value, lang: str = "zh") -> str:
    """A date in words: ``2024年9月2日`` (``2024-09-02`` in English)."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.isoformat()
    return str(value)


def money_text(value, lang: str = "zh") -> str:
    """Yuan with separators and two places: ``26,000.00 元``."""
    return t("fact.amount", lang, amount=f"{Decimal(str(value)):,.2f}")


def value_text(rule: Rule, column: str, value, lang: str = "zh") -> str:
    """One evidence value in words: money, dates, whole numbers, code values in ``lang``."""
    if isinstance(value, Decimal):
        return money_text(value, lang)
    if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
        return date_text(value, lang)
    if isinstance(value, (bool, np.bool_)):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if column in rule.percent:
            return f"{f * 100:.1f}%"
        return str(int(f)) if f.is_integer() else f"{f:g}"
    return str(enum_label(column, str(value), lang))


def _lead(rule: Rule, kind: str, row: dict, unit: str, lang: str) -> str:
    def v(name):
        return value_text(rule, name, row[name], lang) if _present(row, name) else ""

    date = next((v(c) for c in _DATES if _present(row, c)), "")
    amount = v("amount")
    if kind == "payments":
        payee = v("payee_name") or t("fact.unknown_payee", lang)
        if _present(row, "paid_on"):
            return t("fact.paid", lang, date=v("paid_on"), unit=unit, payee=payee, amount=amount)
        return t("fact.unpaid", lang, unit=unit, payee=payee, amount=amount)
    if kind == "bank_txns":
        out = str(row.get("direction", "")) == "out" or (_present(row, "outflow") and not _present(row, "inflow"))
        return t("fact.bank", lang, date=date, unit=unit, account=v("account_no"),
                 direction=t("fact.out" if out else "fact.in", lang), amount=amount)
    if kind == "ledger":
        side = "fact.credit" if _present(row, "credit") else "fact.debit"
        account = " ".join(x for x in (v("account_code"), v("account_name")) if x)
        return t("fact.ledger", lang, date=date, unit=unit, voucher=v("voucher_no"), line=v("line_no"),
                 account=account, side=t(side, lang), amount=amount)
    if kind == "budget":
        project = f"（{v('project_name')}）" if _present(row, "project_name") else ""
        if lang != "zh" and project:
            project = f" ({v('project_name')})"
        lead = t("fact.budget", lang, unit=unit, budget=v("budget_id"), project=project,
                 amount=v("budget_amount") or amount)
        return (f"{v('issued_on')}，{lead}" if lang == "zh" else f"{lead}, issued {v('issued_on')}") \
            if _present(row, "issued_on") else lead
    if kind == "accounts":
        names = "，".join(x for x in (v("account_name"), v("bank_name")) if x)
        name = (f"（{names}）" if lang == "zh" else f" ({names})") if names else ""
        return t("fact.account", lang, unit=unit, account=v("account_no") or row.get("ref", ""), name=name)
    if kind == "balances":
        return t("fact.balance", lang, unit=unit, account=v("account_code"), counterparty=v("counterparty"),
                 amount=v("open_balance") or amount)
    return t("fact.unit", lang, unit=unit)


def fact(rule: Rule, row: dict, unit: str, lang: str = "zh") -> str:
    """The facts of one evidence row in a sentence (see the module's note).

    Parameters
    ----------
    rule : Rule
        The rule whose evidence ``row`` is (its labels name the bracketed values).
    row : dict
        The evidence row: ``ref``, ``amount``, ``detail``, the rule's columns, ``_file`` and ``_line``.
    unit : str
        The inspected unit as the sentence names it (``县教育局（0011）``).
    """
    kind = str(row.get("ref", "")).split(":", 1)[0]
    said = _LEAD_COLUMNS.get(kind, set())
    parts = [_lead(rule, kind, row, unit, lang)]
    extras = [f"{rule.label(c, lang)}{'：' if lang == 'zh' else ': '}{value_text(rule, c, row[c], lang)}"
              for c in _EXTRAS if c not in said and _present(row, c)]
    sep = "；" if lang == "zh" else "; "
    if extras:
        parts[0] += (f"（{sep.join(extras)}）" if lang == "zh" else f" ({sep.join(extras)})")
    if _present(row, "detail"):
        parts.append(str(row["detail"]).strip())
    if _present(row, "_file"):
        line = str(row.get("_line", "")).strip()
        line = line[:-2] if line.endswith(".0") else line
        parts.append(t("fact.source", lang, file=row["_file"], line=line) if line.isdigit()
                     else t("fact.source_file", lang, file=row["_file"]))
    end = "。" if lang == "zh" else ". "
    return end.join(p.rstrip("。. ") for p in parts if p) + end.strip()


__all__ = ["date_text", "fact", "money_text", "value_text"]
