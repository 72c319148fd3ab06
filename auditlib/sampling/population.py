"""The population to sample (CONTRACT §7): the payments of the chosen units, or a run's findings.

Items are sorted deterministically (unit code, item key, source file, source line, compared as
text by code point) before anything is drawn, so the same data give the same order on any machine.
The book value is the exact sum of the eligible items' amounts: a payment is eligible when it is
paid (``paid_on`` set) with amount > 0, a finding when its amount > 0; the other items of the
population are listed apart (:attr:`Population.apart`) and never sampled.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from auditlib.db import connect, ingested_files, query
from auditlib.common.files import sha256_file
from auditlib.errors import SamplingError
from auditlib.i18n import register, t

register({
    "smp.empty": ("抽样总体为空：{filters} 下没有金额大于 0 的已支付项目（另有 {apart} 项不参与抽样）",
                  "the population is empty: no paid item with an amount above 0 under {filters} "
                  "({apart} other items are not sampled)"),
    "smp.no_filters": ("所选范围", "the chosen scope"),
    "smp.no_findings": ("批次文件夹 {run} 中没有 findings.csv", "no findings.csv in the run folder {run}"),
    "smp.bad_population": ("抽样总体须为 payments（支付）或 findings（疑点）；现为 {value}",
                           "the population must be payments or findings; got {value}"),
    "smp.need_run": ("以疑点为总体时须用 --run 指定批次文件夹", "a findings population needs --run RUN_DIR"),
    "smp.bad_min": ("--min-amount 须为金额；现为 {value}", "--min-amount must be an amount; got {value}"),
    "smp.bad_dates": ("--from {start} 晚于 --to {end}", "--from {start} is after --to {end}"),
})

#: the columns every population has, in this order
COLUMNS = ("key", "unit_code", "date", "party", "category", "memo", "amount", "source_file", "source_line")


@dataclass(frozen=True)
class Filters:
    """What narrows the population (all optional)."""

    units: tuple[str, ...] = ()
    expense_types: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    min_amount: Decimal | None = None
    rules: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"units": list(self.units), "expense_types": list(self.expense_types),
                "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "min_amount": str(self.min_amount) if self.min_amount is not None else None,
                "rules": list(self.rules)}

    def describe(self) -> str:
        parts = [f"{k}={', '.join(v) if isinstance(v, list) else v}" for k, v in self.to_dict().items()
                 if v not in (None, [], "")]
        return ", ".join(parts)


@dataclass(frozen=True)
class Population:
    """Eligible items (sorted, :data:`COLUMNS`), the items listed apart, and where they came from."""

    kind: str
    items: pd.DataFrame
    apart: pd.DataFrame
    filters: Filters
    inputs: tuple[dict, ...] = ()
    source: str = ""
    book_value: Decimal = field(default=Decimal("0"))

    @property
    def count(self) -> int:
        return len(self.items)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in the one deterministic order: unit, key, file, line (as text, by code point)."""
    if df.empty:
        return df.reset_index(drop=True)
    order = sorted(range(len(df)), key=lambda i: (str(df["unit_code"].iat[i]), str(df["key"].iat[i]),
                                                  str(df["source_file"].iat[i]), int(df["source_line"].iat[i] or 0)))
    return df.iloc[order].reset_index(drop=True)


def _split(kind: str, df: pd.DataFrame, eligible: pd.Series, filters: Filters, inputs, source,
           lang) -> Population:
    items = _sorted(df[eligible.values].copy())
    apart = _sorted(df[~eligible.values].copy())
    if items.empty:
        raise SamplingError(t("smp.empty", lang, filters=filters.describe() or t("smp.no_filters", lang),
                              apart=len(apart)), key="population", reason="empty")
    book = sum((Decimal(a) for a in items["amount"]), Decimal("0"))
    return Population(kind, items, apart, filters, tuple(inputs), str(source), book)


def check_filters(filters: Filters, lang: str | None = None) -> None:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise SamplingError(t("smp.bad_dates", lang, start=filters.date_from, end=filters.date_to),
                            key="from", reason="after to")


def from_payments(db: str | os.PathLike, filters: Filters, lang: str | None = None) -> Population:
    """The payments of the chosen units (all units without ``filters.units``)."""
    check_filters(filters, lang)
    where, args = [], []
    if filters.units:
        where.append(f"unit_code IN ({', '.join('?' for _ in filters.units)})")
        args += list(filters.units)
    if filters.expense_types:
        where.append(f"expense_type IN ({', '.join('?' for _ in filters.expense_types)})")
        args += list(filters.expense_types)
    if filters.date_from:
        where.append("paid_on >= ?")
        args.append(filters.date_from)
    if filters.date_to:
        where.append("paid_on <= ?")
        args.append(filters.date_to)
    if filters.min_amount is not None:
        where.append("amount >= ?")
        args.append(filters.min_amount)
    sql = ("SELECT payment_id AS key, unit_code, paid_on AS date, payee_name AS party, expense_type AS category, "
           "memo, amount, _file AS source_file, _line AS source_line FROM payments"
           + (" WHERE " + " AND ".join(where) if where else ""))
    con = connect(db)
    try:
        df = query(con, sql, args or None)
    finally:
        con.close()
    df["amount"] = [Decimal(a) if a is not None else None for a in df["amount"]]
    df["date"] = [d if d is not None and not pd.isna(d) else None for d in df["date"]]
    eligible = pd.Series([a is not None and a > 0 and d is not None for a, d in zip(df["amount"], df["date"])])
    inputs = [{"file": f["file"], "table": f["table"], "sha256": f["sha256"]} for f in ingested_files(db)]
    return _split("payments", df[list(COLUMNS)], eligible, filters, inputs, Path(db), lang)


def _money(text) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def from_findings(run_dir: str | os.PathLike, filters: Filters, db: str | os.PathLike | None = None,
                  lang: str | None = None) -> Population:
    """The findings of a run (``RUN_DIR/findings.csv``), optionally of some rules and units."""
    from auditlib.outputs.findings_csv import read_findings_csv

    check_filters(filters, lang)
    path = Path(run_dir) / "findings.csv"
    if not path.is_file():
        raise SamplingError(t("smp.no_findings", lang, run=run_dir), key="run", reason="no findings.csv")
    f = read_findings_csv(path)
    f["source_line"] = range(2, len(f) + 2)
    if filters.units:
        f = f[f["unit_code"].isin(filters.units)]
    if filters.rules:
        f = f[f["rule_id"].isin(filters.rules)]
    amounts = [_money(a) for a in f["amount"]]
    if filters.min_amount is not None:
        keep = [a is not None and a >= filters.min_amount for a in amounts]
        f = f[keep]
        amounts = [a for a, k in zip(amounts, keep) if k]
    key = f["finding_id"] if "finding_id" in f.columns else f["ref"]
    df = pd.DataFrame({"key": list(key), "unit_code": list(f["unit_code"]), "date": [None] * len(f),
                       "party": list(f["title"]), "category": list(f["rule_id"]), "memo": list(f["ref"]),
                       "amount": amounts, "source_file": ["findings.csv"] * len(f),
                       "source_line": list(f["source_line"])})
    eligible = pd.Series([a is not None and a > 0 for a in amounts], dtype=bool)
    inputs = [{"file": str(path), "table": "findings", "sha256": sha256_file(path)}]
    if db is not None and Path(db).exists():
        inputs += [{"file": x["file"], "table": x["table"], "sha256": x["sha256"]} for x in ingested_files(db)]
    return _split("findings", df, eligible, filters, inputs, path, lang)
