"""What the rules could test (CONTRACT §3 "not tested"): per (unit, rule), tested or 未检查 with why.

A rule declares the input columns it cannot do without (``Rule.needs``, ``table.column``) and the
account-code prefixes it reads ledger lines on (``Rule.accounts``).  For a unit whose rows hold no
value of a needed column (the column was never mapped, or the unit has no rows in that table), or
whose ledger has no line on any account code the rules read (an enterprise chart of accounts, or no
ledger), a rule with ``accounts``
is **not tested**: every output says 未检查 with the reason, never "no leads".  One set-based query
per table answers it for all units at once.

:func:`data_warnings` adds the run-level coverage warnings: the data's dates against
``fiscal_year`` and ``as_of``, and a chart of accounts none of whose codes the rules need appear.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from auditlib.db import quote_ident
from auditlib.i18n import register, t
from auditlib.ingest.schema import TABLES
from auditlib.rules.catalogue import all_rules

register({
    "cov.missing": ("缺少 {columns}", "no {columns}"),
    "cov.no_rows": ("无{table}数据", "no {table} rows"),
    "cov.no_accounts": ("凭证中无政府会计科目 {accounts}", "no ledger line on the government accounts {accounts}"),
    "cov.untested": ("未检查（{reason}）", "Not tested ({reason})"),
    "cov.untested_n": ("{n} 条规则未检查", "{n} rules not tested"),
    "cov.warn.no_year": ("数据中没有 {fiscal_year} 年度的记录（数据日期 {lo} 至 {hi}），请核对检查年度参数 fiscal_year。",
                         "No row of the data is dated in fiscal year {fiscal_year} (the data run from {lo} to {hi}); "
                         "check the fiscal_year parameter."),
    "cov.warn.partial": ("数据只覆盖 {fiscal_year} 年度的 {lo} 至 {hi}，不是全年：DP03、DP05、DP07 按全年计算的结果只供参考。",
                         "The data cover only {lo} to {hi} of fiscal year {fiscal_year}, not the whole year: "
                         "DP03, DP05 and DP07, which judge the whole year, are indicative only."),
    "cov.warn.after": ("数据最早日期 {lo} 晚于检查截止日 {as_of}，截止日后的记录不作为证据。",
                       "The earliest date of the data, {lo}, is after the cut-off {as_of}; rows after the cut-off "
                       "are no evidence."),
    "cov.warn.chart": ("凭证中没有规则所需的政府会计科目（{accounts}），科目表可能不是政府会计制度科目表："
                       "依赖科目的规则未检查。",
                       "The ledger holds none of the government chart's account codes the rules need ({accounts}); "
                       "it may use another chart of accounts, so the rules that read accounts were not tested."),
})

#: columns of :func:`untested`
UNTESTED_COLUMNS = ["unit_code", "rule_id", "reason_zh", "reason_en"]

#: (table, date column) the data's date range is read from
_DATED = (("payments", "paid_on"), ("ledger", "voucher_date"), ("bank_txns", "txn_date"), ("budget", "issued_on"))


def _columns(con, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}


def _present(con, units: list[str], rules) -> dict[tuple[str, str], set[str]]:
    """(table, column) → the units holding at least one value of it; one query per table."""
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        for need in rule.needs:
            for alt in need.split("|"):
                table, column = alt.split(".", 1)
                wanted.setdefault(table, set()).add(column)
    out: dict[tuple[str, str], set[str]] = {}
    for table, cols in wanted.items():
        have = _columns(con, table)
        real = sorted(c for c in cols if c in have)
        for c in cols - set(real):
            out[(table, c)] = set()
        if not real or "unit_code" not in have:
            for c in real:
                out[(table, c)] = set()
            continue
        select = ", ".join(f"count({quote_ident(c)}) > 0" for c in real)
        rows = con.execute(f"SELECT unit_code, {select} FROM {quote_ident(table)} GROUP BY unit_code").fetchall()
        for i, c in enumerate(real):
            out[(table, c)] = {str(r[0]) for r in rows if r[i + 1]}
        out[(table, "*")] = {str(r[0]) for r in rows}  # units with any row of the table
    return out


def _with_accounts(con, rules) -> dict[str, set[str]]:
    """Account prefix → the units whose ledger has a line on it (one query)."""
    prefixes = sorted({a for rule in all_rules() for a in rule.accounts})
    if not any(rule.accounts for rule in rules) or "account_code" not in _columns(con, "ledger"):
        return {a: set() for a in prefixes}
    select = ", ".join(f"bool_or(starts_with(CAST(account_code AS VARCHAR), '{a}'))" for a in prefixes)
    rows = con.execute(f"SELECT unit_code, {select} FROM ledger GROUP BY unit_code").fetchall()
    return {a: {str(r[0]) for r in rows if r[i + 1]} for i, a in enumerate(prefixes)}


def _column_text(need: str) -> str:
    """``payments.accepted_on`` as a reader knows it: the bare column (``accepted_on``), alternatives
    joined with ``/``."""
    return "/".join(alt.split(".", 1)[1] for alt in need.split("|"))


def untested(con, units, rules, params=None) -> pd.DataFrame:
    """The (unit, rule) pairs a rule could not test, with the reason in zh and en.

    Parameters
    ----------
    con : duckdb connection
    units : iterable of str
        The unit codes inspected.
    rules : iterable of Rule
        The rules run.
    params : Params, optional
        The run's parameters, for the rules' checks on the data (``Rule.applies``: SF08 on
        amounts with a reporting floor); those checks are skipped without them.

    Returns
    -------
    DataFrame
        :data:`UNTESTED_COLUMNS`, one row per (unit, rule) not tested, in unit then rule order.
    """
    units, rules = [str(u) for u in units], list(rules)
    present = _present(con, units, rules)
    accounts = _with_accounts(con, rules)
    misfits = {rule.id: rule.applies(con, units, params) for rule in rules
               if rule.applies is not None and params is not None}
    rows = []
    for unit in units:
        for rule in rules:
            missing = [need for need in rule.needs
                       if not any(unit in present.get(tuple(alt.split(".", 1)), set()) for alt in need.split("|"))]
            reasons = []
            # a table the unit has no row of is said as such, its other missing columns by name
            empty = sorted({alt.split(".", 1)[0] for m in missing for alt in m.split("|")
                            if unit not in present.get((alt.split(".", 1)[0], "*"), set())})
            for table in empty:
                label = TABLES[table].zh if table in TABLES else table
                reasons.append((t("cov.no_rows", "zh", table=label), t("cov.no_rows", "en", table=table)))
            missing = [m for m in missing if not all(alt.split(".", 1)[0] in empty for alt in m.split("|"))]
            if missing:
                cols = "、".join(_column_text(m) for m in missing)
                reasons.append((t("cov.missing", "zh", columns=cols),
                                t("cov.missing", "en", columns=", ".join(_column_text(m) for m in missing))))
            # a unit whose ledger has no line on any account the rules read (not the government chart,
            # or no ledger): the rule's accounts cannot be told apart from "none of these lines"
            if rule.accounts and not any(unit in units_on for units_on in accounts.values()):
                reasons.append((t("cov.no_accounts", "zh", accounts="/".join(rule.accounts)),
                                t("cov.no_accounts", "en", accounts="/".join(rule.accounts))))
            if not reasons and unit in misfits.get(rule.id, {}):  # the data do not fit the method
                reasons.append(misfits[rule.id][unit])
            if reasons:
                rows.append((unit, rule.id, "；".join(r[0] for r in reasons), "; ".join(r[1] for r in reasons)))
    return pd.DataFrame(rows, columns=UNTESTED_COLUMNS)


def reason(untested_frame: pd.DataFrame | None, unit_code: str, rule_id: str, lang: str = "zh") -> str:
    """Why ``rule_id`` was not tested for ``unit_code`` in ``lang``; "" when it was tested."""
    if untested_frame is None or not len(untested_frame):
        return ""
    hit = untested_frame[(untested_frame["unit_code"].astype(str) == str(unit_code))
                         & (untested_frame["rule_id"] == rule_id)]
    if not len(hit):
        return ""
    return str(hit.iloc[0]["reason_zh" if lang == "zh" else "reason_en"])


def untested_text(untested_frame: pd.DataFrame | None, unit_code: str, rule_id: str, lang: str = "zh") -> str:
    """``未检查（缺少 accepted_on）`` for a rule not tested for the unit; "" when it was tested."""
    why = reason(untested_frame, unit_code, rule_id, lang)
    return t("cov.untested", lang, reason=why) if why else ""


def no_findings_text(untested_frame: pd.DataFrame | None, unit_code: str, rule_id: str, none_text: str,
                     lang: str = "zh") -> str:
    """What a rule without findings says for a unit: 未检查 with the reason when it could not run,
    else ``none_text`` (未发现疑点).  Every output routes its "no leads" wording through here."""
    return untested_text(untested_frame, unit_code, rule_id, lang) or none_text


def data_warnings(con, fiscal_year: int, as_of: dt.date, rules=()) -> list[tuple[str, str]]:
    """Run-level coverage warnings (zh, en): no row in ``fiscal_year``, a partial year, data all after
    ``as_of``, and a ledger without any account code the rules need.  Empty when all is well."""
    out = []
    lo = hi = None
    in_year = 0
    for table, col in _DATED:
        if col not in _columns(con, table):
            continue
        a, b, n = con.execute(f"SELECT min({col}), max({col}), count(*) FILTER (WHERE year({col}) = ?) "
                              f"FROM {table}", [int(fiscal_year)]).fetchone()
        if a is not None:
            lo = a if lo is None or a < lo else lo
            hi = b if hi is None or b > hi else hi
        in_year += int(n or 0)
    if lo is not None:
        words = {"fiscal_year": fiscal_year, "lo": lo.isoformat(), "hi": hi.isoformat(), "as_of": as_of.isoformat()}
        if in_year == 0:
            out.append(tuple(t("cov.warn.no_year", lang, **words) for lang in ("zh", "en")))
        else:
            start, end = dt.date(fiscal_year, 1, 1), min(dt.date(fiscal_year, 12, 31), as_of)
            first, last = max(lo, start), min(hi, dt.date(fiscal_year, 12, 31))
            if (first - start).days > 31 or (end - last).days > 31:
                words.update(lo=first.isoformat(), hi=last.isoformat())
                out.append(tuple(t("cov.warn.partial", lang, **words) for lang in ("zh", "en")))
        if lo > as_of:
            out.append(tuple(t("cov.warn.after", lang, **words) for lang in ("zh", "en")))
    prefixes = sorted({a for rule in rules for a in rule.accounts})
    if prefixes and "account_code" in _columns(con, "ledger"):
        n, hits = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE " +
            " OR ".join(f"starts_with(CAST(account_code AS VARCHAR), '{a}')" for a in prefixes) +
            ") FROM ledger").fetchone()
        if n and not hits:
            out.append(tuple(t("cov.warn.chart", lang, accounts="/".join(prefixes)) for lang in ("zh", "en")))
    return out
