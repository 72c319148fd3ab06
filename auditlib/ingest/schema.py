"""The six input tables of CONTRACT §1: columns, types, aliases and keys.

This module is data only.  The ingest maps file headers onto these columns,
the database layout is derived from them, and the rules query them.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: column types; ``money`` is DECIMAL(18,2) in the database, never a float
TYPES = ("text", "money", "date", "bool", "int", "account_type")

#: DuckDB type of each column type
SQL_TYPES = {
    "text": "VARCHAR",
    "money": "DECIMAL(18,2)",
    "date": "DATE",
    "bool": "BOOLEAN",
    "int": "INTEGER",
    "account_type": "VARCHAR",
}

#: values of ``accounts.account_type`` and their Chinese names
ACCOUNT_TYPES = {
    "zero_balance": "零余额账户",
    "basic": "基本存款账户",
    "special": "专用存款账户",
    "other": "其他",
}

#: provenance columns every loaded row carries
PROVENANCE = (("_file", "VARCHAR"), ("_line", "INTEGER"), ("_extra", "VARCHAR"))


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    columns: tuple[Column, ...]
    #: columns that identify a row; a second row with the same key is rejected
    key: tuple[str, ...]
    #: columns whose value ``合计`` / ``本月合计`` / ``本年累计`` marks a subtotal row
    subtotal_columns: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


_UNIT = Column("unit_code", "text", True, ("单位编码", "单位代码", "预算单位编码"))

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "units",
            "单位",
            (
                _UNIT,
                Column("unit_name", "text", True, ("单位名称", "预算单位")),
                Column("supervisor_code", "text", False, ("主管部门编码",)),
            ),
            key=("unit_code",),
        ),
        Table(
            "accounts",
            "账户",
            (
                _UNIT,
                Column("account_no", "text", True, ("账号", "银行账号")),
                Column("account_name", "text", False, ("账户名称", "户名")),
                Column("bank_name", "text", False, ("开户银行", "开户行")),
                Column("account_type", "account_type", True, ("账户类型",)),
                Column("opened_on", "date", False, ("开户日期",)),
                Column("closed_on", "date", False, ("销户日期",)),
            ),
            key=("account_no",),
        ),
        Table(
            "budget",
            "指标",
            (
                _UNIT,
                Column("budget_id", "text", True, ("指标编号", "指标文号")),
                Column("project_code", "text", False, ("项目编码",)),
                Column("project_name", "text", False, ("项目名称",)),
                Column("fund_type", "text", False, ("资金性质",)),
                Column("is_special", "bool", False, ("是否专项",)),
                Column("amount", "money", True, ("指标金额", "金额")),
                Column("issued_on", "date", True, ("下达日期",)),
                Column("fiscal_year", "int", False, ("年度", "预算年度")),
            ),
            key=("budget_id",),
            subtotal_columns=("budget_id", "project_name", "issued_on"),
        ),
        Table(
            "payments",
            "支付",
            (
                _UNIT,
                Column("payment_id", "text", True, ("支付编号", "支付凭证号")),
                Column("budget_id", "text", False, ("指标编号",)),
                Column("payee_name", "text", True, ("收款人", "收款人名称", "收款单位")),
                Column("payee_account", "text", False, ("收款账号", "收款人账号")),
                Column("payee_is_sme", "bool", False, ("是否中小企业",)),
                Column("contract_id", "text", False, ("合同编号",)),
                Column("expense_type", "text", False, ("支出经济分类", "经济分类", "用途")),
                Column("amount", "money", True, ("支付金额", "金额")),
                Column("accepted_on", "date", False, ("验收日期", "发票日期")),
                Column("requested_on", "date", False, ("申请日期",)),
                Column("paid_on", "date", False, ("支付日期",)),
                Column("term_days", "int", False, ("付款期限", "约定付款期限")),
                Column("memo", "text", False, ("摘要", "备注")),
            ),
            key=("payment_id",),
            subtotal_columns=("payment_id", "paid_on", "memo"),
        ),
        Table(
            "ledger",
            "凭证",
            (
                _UNIT,
                Column("voucher_date", "date", True, ("凭证日期", "制单日期", "日期")),
                Column("voucher_no", "text", True, ("凭证号", "凭证字号", "凭证编号")),
                Column("line_no", "int", True, ("行号", "分录号", "分录序号")),
                Column("account_code", "text", True, ("科目编码", "科目代码")),
                Column("account_name", "text", False, ("科目名称",)),
                Column("summary", "text", False, ("摘要",)),
                Column("debit", "money", False, ("借方金额", "借方发生额", "借方")),
                Column("credit", "money", False, ("贷方金额", "贷方发生额", "贷方")),
                Column("counterparty", "text", False, ("往来单位", "对方单位", "辅助核算")),
                Column("project_code", "text", False, ("项目编码",)),
            ),
            key=("unit_code", "voucher_no", "line_no"),
            subtotal_columns=("voucher_date", "voucher_no", "summary"),
        ),
        Table(
            "bank_txns",
            "流水",
            (
                _UNIT,
                Column("account_no", "text", True, ("账号",)),
                Column("txn_id", "text", True, ("流水号", "交易流水号")),
                Column("txn_date", "date", True, ("交易日期",)),
                Column("inflow", "money", False, ("收入金额", "贷方发生额(银行)")),
                Column("outflow", "money", False, ("支出金额", "借方发生额(银行)")),
                Column("balance", "money", False, ("余额", "账户余额")),
                Column("counterparty_name", "text", False, ("对方户名",)),
                Column("counterparty_account", "text", False, ("对方账号",)),
                Column("memo", "text", False, ("摘要", "用途")),
            ),
            key=("account_no", "txn_id"),
            subtotal_columns=("txn_id", "txn_date", "memo"),
        ),
    )
}

#: Chinese file-name prefixes of each table (``支付明细.csv`` -> payments)
FILE_PREFIXES: dict[str, tuple[str, ...]] = {
    "units": ("units", "单位"),
    "accounts": ("accounts", "账户"),
    "budget": ("budget", "指标"),
    "payments": ("payments", "支付"),
    "ledger": ("ledger", "凭证"),
    "bank_txns": ("bank_txns", "流水"),
}

_SPACE = re.compile(r"\s+")


def normalize_header(text: str) -> str:
    """Header text as compared with names and aliases: NFKC (full-width to
    half-width), lower case, no white space."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(text))).lower()


def table_for_file(stem: str) -> str | None:
    """The table a data file belongs to by its name (without extension), or None.

    The longest matching prefix wins, so ``bank_txns_2024`` is never ``budget``.
    """
    name = normalize_header(stem)
    best: tuple[int, str] | None = None
    for table, prefixes in FILE_PREFIXES.items():
        for prefix in prefixes:
            p = normalize_header(prefix)
            if name.startswith(p) and (best is None or len(p) > best[0]):
                best = (len(p), table)
    return best[1] if best else None


def ddl(table: Table) -> str:
    """CREATE TABLE statement for one input table, with provenance columns."""
    cols = [f'"{c.name}" {SQL_TYPES[c.type]}' for c in table.columns]
    cols += [f"{name} {sqltype}" for name, sqltype in PROVENANCE]
    return f'CREATE TABLE IF NOT EXISTS {table.name} ({", ".join(cols)})'
