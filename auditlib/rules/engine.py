"""The rule engine: one DuckDB query per rule over all units at once.

Each rule's query reads the six tables and a relation ``p`` holding that rule's
resolved parameters per unit (``unit_code``, one column per parameter, ``as_of``,
``fiscal_year``), so per-unit overrides cost no extra query.  A query returns one
row per finding: ``unit_code, ref, amount, severity, detail`` followed by the
evidence columns an auditor checks.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pandas as pd

from auditlib.i18n import in_currency
from auditlib.rules.catalogue import all_rules, get_rule
from auditlib.rules.coverage import UNTESTED_COLUMNS, untested
from auditlib.db import connect, frame, quote_ident
from auditlib.rules.exposure import FEN_QUOTIENT_MACRO
from auditlib.rules.identity import finding_ids
from auditlib.rules.laws import EVIDENCE_DATES, with_cited_basis
from auditlib.rules.model import Rule
from auditlib.rules.params import Params, load_params

#: columns of the findings frame; ``finding_id`` is CONTRACT §6's identity (:mod:`auditlib.rules.identity`),
#: ``exposure`` and ``interest`` what the finding puts at stake and its late-payment interest, as its
#: rule declares them (CONTRACT §3 "Amounts"; exact Decimal yuan, interest None for most rules)
FINDING_COLUMNS = ["inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail", "finding_id",
                   "exposure", "interest"]


@dataclass
class Inspection:
    """Findings of one inspection run: a findings frame and the evidence per rule."""

    findings: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: Params | None = None
    #: the (unit, rule) pairs not tested for want of input (CONTRACT §3 未检查):
    #: ``unit_code, rule_id, reason_zh, reason_en`` (:func:`auditlib.rules.coverage.untested`)
    untested: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNTESTED_COLUMNS))
    #: each rule's own wall seconds (its query and the building of its findings), rule id → seconds,
    #: in the order the rules ran
    timings: dict[str, float] = field(default_factory=dict)
    #: the seconds of the steps the rules share (``setup``: macros and units; ``coverage``: the
    #: 未检查 queries), step → seconds
    shared_timings: dict[str, float] = field(default_factory=dict)


_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "


def _install_macros(con) -> None:
    """``norm_name(x)``: names compared after full-width to half-width and without spaces;
    ``fen_quotient(n, d)``: an exact quotient rounded half up to the fen (:mod:`auditlib.rules.exposure`);
    ``holds_word(x, words)``: ``x`` contains one of the literal ``words``."""
    full, half = _FULL.replace("'", "''"), _HALF.replace("'", "''")
    # most names hold neither white space nor full-width forms: those are returned as they are
    # without the (slow) translate, the same result as translating them
    con.execute(f"CREATE OR REPLACE TEMP MACRO norm_name(x) AS "
                f"CASE WHEN NOT regexp_matches(COALESCE(x, ''), '[\\s\\x{{3000}}\\x{{FF01}}-\\x{{FF5E}}]') "
                f"THEN COALESCE(x, '') "
                f"ELSE regexp_replace(translate(COALESCE(x, ''), '{full}', '{half}'), '\\s+', '', 'g') END")
    con.execute(FEN_QUOTIENT_MACRO)
    # ``holds_word(text, words)``: the text contains one of the literal words of a ``words``
    # parameter (CONTRACT §2); false for an empty list or a missing text
    con.execute("CREATE OR REPLACE TEMP MACRO holds_word(x, words) AS "
                "COALESCE(list_bool_or(list_transform(words, lambda w: contains(COALESCE(x, ''), w))), false)")


def implemented_rules(inspection: str | None = None) -> list[Rule]:
    """Rules that have a query, optionally of one inspection, in catalogue order."""
    return [r for r in all_rules() if r.query is not None and (inspection is None or r.inspection == inspection)]


#: the temporary table holding the units of an :func:`inspect` run (one column ``unit_code``)
UNITS_TABLE = "_rule_units"


def _resolver(params: Params):
    """``params.for_unit`` for many units at the cost of a few: every unit without overrides resolves
    to the same parameters, so those are resolved once (the result is only read)."""
    cache: dict[str | None, dict] = {}

    def resolved(unit: str) -> dict:
        key = str(unit) if str(unit) in params.units else None
        if key not in cache:
            cache[key] = params.for_unit(unit)
        return cache[key]
    return resolved


def _param_relation(rule: Rule, params: Params, units: list[str], resolved=None) -> str:
    """SQL text of the ``p`` relation: one row per unit with its resolved parameters.

    The units sharing one set of values (every unit without overrides, usually all) are read from
    :data:`UNITS_TABLE`, so the text stays short however many units the run has; each other unit
    is one row of literals."""
    resolved = resolved or _resolver(params)
    own = list(rule.params)
    borrowed = [(other, get_rule(other).param(name)) for other, name in rule.uses]  # Rule.uses
    names = [prm.name for prm in own] + [prm.name for _, prm in borrowed]
    cols = ["unit_code", *names, "as_of", "fiscal_year"]
    quoted = ", ".join(f'"{c}"' for c in cols)
    groups: dict[tuple[str, ...], list[str]] = {}
    known: dict[int, tuple] = {}  # id → (resolved dict, kept alive so its id stays its own; its cells)
    for unit in units:
        # a rule the parameters do not know (one installed after they were loaded) runs on its defaults
        resolved_unit = resolved(unit)
        if id(resolved_unit) in known:
            groups[known[id(resolved_unit)][1]].append(str(unit))
            continue
        values = resolved_unit.get(rule.id) or rule.defaults()
        cells = []
        for prm in own:  # a value the parameters lack (a hand-made Params) is the rule's default
            cells.append(_cell(values.get(prm.name, prm.default)))
        for other, prm in borrowed:
            cells.append(_cell((resolved_unit.get(other) or {}).get(prm.name, prm.default)))
        cells += [f"DATE '{params.as_of.isoformat()}'", f"CAST({int(params.fiscal_year)} AS INTEGER)"]
        known[id(resolved_unit)] = (resolved_unit, tuple(cells))
        groups.setdefault(tuple(cells), []).append(str(unit))
    if not groups:  # no unit: one typed row of NULLs (untyped ones leave e.g. dayofyear(as_of) ambiguous)
        types = ["VARCHAR", *("DECIMAL(18,6)" if isinstance(prm.default, Decimal) else
                              "VARCHAR[]" if prm.type == "words" else "INTEGER"
                              for prm in [*own, *(prm for _, prm in borrowed)]),
                 "DATE", "INTEGER"]
        row = "(" + ", ".join(f"CAST(NULL AS {t})" for t in types) + ")"
        return f"(SELECT * FROM (VALUES {row}) AS v({quoted}) WHERE unit_code IS NOT NULL)"
    common = max(groups, key=lambda cells: len(groups[cells]))  # the largest group, first on a tie
    others = [(unit, cells) for cells, members in groups.items() if cells != common for unit in members]
    select = ", ".join(f'{cell} AS "{name}"' for cell, name in zip(common, cols[1:]))
    parts = [f"SELECT u.unit_code, {select} FROM {UNITS_TABLE} u"]
    if others:
        parts[0] += " WHERE u.unit_code NOT IN (" + ", ".join(_literal(u) for u, _ in others) + ")"
        rows = ", ".join("(" + ", ".join([_literal(u), *cells]) + ")" for u, cells in others)
        parts.append(f"SELECT * FROM (VALUES {rows}) AS v({quoted})")
    return "(" + " UNION ALL ".join(parts) + ")"


def p_cte(rule: Rule, params: Params, units: list[str], resolved=None) -> str:
    """The ``p AS (...)`` common table expression of ``rule`` (:func:`_param_relation`)."""
    return f"p AS {_param_relation(rule, params, units, resolved)}"


def findings_columns(rule: Rule, columns) -> list[str] | None:
    """The evidence columns a rule's findings are built from (the finding's own, the columns its
    exposure and interest name, the dates its cited basis is chosen by); None when a declaration
    is a function, which may read any column."""
    wanted = ["unit_code", "ref", "amount", "severity", "detail"]
    for how in (rule.exposure or "amount", rule.interest):
        if callable(how):
            return None
        if how is not None:
            wanted.append(how)
    if rule.basis_versions:
        wanted += [c for c in EVIDENCE_DATES if c in columns]
    return list(dict.fromkeys(wanted))


def lean_frame(con, sql: str, columns: list[str]) -> pd.DataFrame:
    """The ``columns`` of the rows of ``sql``, ordered by the first two, as :func:`auditlib.db.frame`
    gives them (DECIMAL as exact ``Decimal``, NULL as None) but fetched column-wise: DECIMAL
    columns travel as their exact text and become ``Decimal`` here."""
    return pd.DataFrame(fetch_columns(con, sql, {c: None for c in columns}), columns=columns)


def fetch_columns(con, sql: str, columns: dict[str, str | None], types: dict[str, str] | None = None,
                  ordered: bool = True) -> dict[str, list]:
    """Columns of the rows of ``sql``, ordered by the first two (in the order ``sql`` gives them
    when not ``ordered``), as Python lists.

    ``columns`` maps each name to fetch to an SQL expression over the rows of ``sql`` (None: the
    column itself, DECIMAL as exact ``Decimal``, NULL as None, as :func:`auditlib.db.frame` gives
    it).  Fetched column-wise: DECIMAL columns travel as their exact text.  ``types``: the SQL
    types of the columns of ``sql`` (name → type text), when the caller has them."""
    if types is None:
        rel = con.sql(sql)  # bound, not run
        types = dict(zip(rel.columns, (str(t) for t in rel.types)))
    decimal = {c for c, how in columns.items() if how is None and types.get(c, "").startswith("DECIMAL")}
    select = ", ".join(f"{how} AS {quote_ident(c)}" if how is not None else
                       f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" if c in decimal else quote_ident(c)
                       for c, how in columns.items())
    arrays = con.sql(f"SELECT {select} FROM ({sql})" + (" ORDER BY 1, 2" if ordered else "")).fetchnumpy()
    data = {}
    for c in columns:
        values = arrays[c].tolist()  # Python objects; NULL (masked) as None
        data[c] = [None if v is None else Decimal(v) for v in values] if c in decimal else values
    return data


def _cell(value) -> str:
    """One parameter value as SQL: money and ratios exact decimals, a word list a ``VARCHAR[]``
    of literal words (matched with ``holds_word``), days and counts integers."""
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS DECIMAL(18,6))"
    if isinstance(value, (tuple, list)):
        return "CAST([" + ", ".join(_literal(w) for w in value) + "] AS VARCHAR[])"
    return f"CAST({int(value)} AS INTEGER)"


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def unit_names(con) -> dict[str, str]:
    """Every unit the data mention, code → name, in code order.

    A unit is one of the ``units`` table or any unit code in the data tables: an export of
    one table (a payments file mapped with a profile, say) is inspected too, its name
    empty when no ``units`` row gives one.  The rules, the batch, the reports and the
    explore panel all take their units from here.
    """
    return dict(con.execute(
        "SELECT c.unit_code, COALESCE(any_value(u.unit_name), '') FROM ("
        "SELECT unit_code FROM units UNION SELECT unit_code FROM payments UNION SELECT unit_code FROM ledger "
        "UNION SELECT unit_code FROM bank_txns UNION SELECT unit_code FROM budget "
        "UNION SELECT unit_code FROM accounts) c LEFT JOIN units u USING (unit_code) "
        "WHERE c.unit_code IS NOT NULL GROUP BY c.unit_code ORDER BY c.unit_code").fetchall())


def rule_notes(db, params: Params | None = None, inspection: str | None = None) -> dict[str, tuple[str, str]]:
    """The run-level remarks of the rules (``Rule.note``), rule id → (zh, en), only rules with one:
    e.g. SF12's years outside its holiday calendar, judged on Saturdays and Sundays only.  The
    manifest records them and reports show them beside the rule's findings."""
    params = params or load_params()
    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = connect(db) if own else db
    try:
        out = {}
        for rule in implemented_rules(inspection):
            note = rule.note(con, params) if rule.note is not None else None
            if note:
                out[rule.id] = tuple(note)
        return out
    finally:
        if own:
            con.close()


def prepare(con, inspection: str | None, unit: str | None, params: Params, rule_ids=None):
    """What every rule of a run shares: macros, units, the units table and the coverage.

    Returns ``(rules, units, resolved, gaps, shared)``: the rules to run (catalogue order), the unit
    codes, the parameter resolver, the 未检查 frame (:func:`auditlib.rules.coverage.untested`) and
    the seconds of ``setup`` and ``coverage``."""
    shared, started = {}, time.perf_counter()
    _install_macros(con)
    units = list(unit_names(con))
    if unit is not None:
        units = [u for u in units if u == str(unit)]
    wanted = None if rule_ids is None else set(rule_ids)
    run = [r for r in implemented_rules(inspection) if wanted is None or r.id in wanted]
    setup_connection(con, units, macros=False)
    resolved = _resolver(params)
    shared["setup"] = time.perf_counter() - started
    started = time.perf_counter()
    gaps = untested(con, units, run, params)  # CONTRACT §3: a rule without its input is not tested
    shared["coverage"] = time.perf_counter() - started
    return run, units, resolved, gaps, shared


def uniform_words(rule: Rule, params: Params, units: list[str], resolved=None) -> dict[str, tuple[str, ...]]:
    """The ``words`` parameters of ``rule`` (its own and those it uses) that hold one list for every
    unit of ``units``, name → words."""
    resolved = resolved or _resolver(params)
    own = [prm for prm in rule.params if prm.type == "words"]
    borrowed = [(other, prm) for other, prm in ((o, get_rule(o).param(n)) for o, n in rule.uses)
                if prm.type == "words"]
    if not own and not borrowed:
        return {}
    values: dict[str, set] = {}
    seen: dict[int, dict] = {}  # each resolved dict once (one for most units), kept alive for its id
    for unit in units:
        resolved_unit = resolved(unit)
        if id(resolved_unit) in seen:
            continue
        seen[id(resolved_unit)] = resolved_unit
        mine = resolved_unit.get(rule.id) or rule.defaults()
        for prm in own:
            values.setdefault(prm.name, set()).add(tuple(mine.get(prm.name, prm.default)))
        for other, prm in borrowed:
            values.setdefault(prm.name, set()).add(tuple((resolved_unit.get(other) or {}).get(prm.name, prm.default)))
    return {name: next(iter(lists)) for name, lists in values.items() if len(lists) == 1}


#: ``holds_word(<column>, p.<parameter>)`` in a rule's SQL
_HOLDS_WORD = re.compile(r"holds_word\(\s*([A-Za-z_][\w.]*)\s*,\s*p\.(\w+)\s*\)")


def _inline_words(sql: str, words: dict[str, tuple[str, ...]]) -> str:
    """``sql`` with each ``holds_word(column, p.name)`` of a parameter every unit shares (``words``)
    spelt out as its ``contains`` tests: the same truth value as the macro's (false for no words),
    without a lambda per row."""
    def spelt(match):
        listed = words.get(match.group(2))
        if listed is None:
            return match.group(0)
        if not listed:
            return "false"
        text = f"COALESCE({match.group(1)}, '')"
        return "(" + " OR ".join(f"contains({text}, {_literal(w)})" for w in listed) + ")"
    return _HOLDS_WORD.sub(spelt, sql)


def setup_connection(con, units: list[str], macros: bool = True) -> None:
    """What a connection needs to run the rules (its own: temporary objects are per connection):
    the macros and :data:`UNITS_TABLE` holding ``units``."""
    if macros:
        _install_macros(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {UNITS_TABLE} AS "
                f"SELECT CAST(unnest(?) AS VARCHAR) AS unit_code", [[str(u) for u in units]])


def rule_sql(rule: Rule, p_rel: str, words: dict[str, tuple[str, ...]] | None = None, ordered: bool = True) -> str:
    """The SQL of a rule whose query is SQL, with the ``p`` relation ``p_rel`` and its rows ordered
    by unit and ref (unless not ``ordered``: for a caller that orders them itself); ``words``
    (:func:`uniform_words`): the word lists every unit shares, tested without the ``holds_word`` macro."""
    query = rule.query.strip()
    if words:
        query = _inline_words(query, words)
    order = " ORDER BY 1, 2" if ordered else ""
    if query[:4].upper() == "WITH":  # join our CTE to the query's own
        return f"WITH {p_rel}, {query[4:]}{order}"
    return f"WITH {p_rel} {query}{order}"


def skipped_units(rule: Rule, gaps: pd.DataFrame) -> set:
    """The units ``rule`` could not test (their findings are dropped: only 未检查 is reported)."""
    return set(gaps.loc[gaps["rule_id"] == rule.id, "unit_code"])


def tested_evidence(rule: Rule, ev: pd.DataFrame, params: Params, gaps: pd.DataFrame) -> pd.DataFrame:
    """``ev`` with its details in the display currency and without the units the rule could not test."""
    if params.currency != "元" and len(ev):  # details name amounts in the display currency
        ev["detail"] = ev["detail"].map(lambda d: in_currency(d) if isinstance(d, str) else d)
    skip = skipped_units(rule, gaps)
    if skip and len(ev):  # a unit the rule could not test has no findings of it, only 未检查
        ev = ev[~ev["unit_code"].astype(str).isin(skip)].reset_index(drop=True)
    return ev


def rule_findings(rule: Rule, ev: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The findings frame (:data:`FINDING_COLUMNS`) of a rule's evidence ``ev``."""
    f = ev[["unit_code", "ref", "amount", "severity", "detail"]].copy()
    f.insert(0, "rule_id", rule.id)
    f.insert(0, "inspection", rule.inspection)
    f["title"] = rule.title(params.lang)
    f["finding_id"] = finding_ids(f)
    f["exposure"] = rule.exposures(ev).values
    f["interest"] = rule.interests(ev).values
    return f[FINDING_COLUMNS]


def inspect(db, inspection: str | None = None, unit: str | None = None,
            params: Params | None = None, rule_ids=None, keep_evidence: bool = True) -> Inspection:
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
    rule_ids : iterable of str, optional
        Only these rules (of ``inspection``); every rule when omitted.
    keep_evidence : bool
        Keep each rule's evidence frame (``Inspection.evidence``); False leaves it empty and frees
        each frame once its findings are built (``auditlib scan``: less memory).
    """
    params = params or load_params()
    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = connect(db) if own else db
    try:
        run, units, resolved, gaps, shared = prepare(con, inspection, unit, params, rule_ids)
        timings, frames, evidence = {}, [], {}
        for rule in run:
            started = time.perf_counter()
            p_rel = p_cte(rule, params, units, resolved)
            query = rule.query
            if callable(query):
                ev = query(con, p_rel)
            else:
                words = uniform_words(rule, params, units, resolved)
                sql = rule_sql(rule, p_rel, words)
                lean = None if keep_evidence else findings_columns(rule, con.sql(sql).columns)
                if lean:  # only what the findings are built from: less to compute and to fetch (ordered there)
                    ev = lean_frame(con, rule_sql(rule, p_rel, words, ordered=False), lean)
                else:
                    ev = frame(con.sql(sql))
            ev = with_cited_basis(rule, ev)  # the basis version in force on each finding's date
            ev = tested_evidence(rule, ev, params, gaps)
            if keep_evidence:
                evidence[rule.id] = ev
            if len(ev):
                frames.append(rule_findings(rule, ev, params))
            ev = None  # freed before the next rule's query unless kept
            timings[rule.id] = time.perf_counter() - started
        findings = (pd.concat(frames, ignore_index=True) if frames
                    else pd.DataFrame(columns=FINDING_COLUMNS))
        return Inspection(findings=findings, evidence=evidence, params=params, untested=gaps, timings=timings,
                          shared_timings=shared)
    finally:
        if own:
            con.close()
        else:  # the caller's connection: leave it as it was
            try:
                con.execute(f"DROP TABLE IF EXISTS {UNITS_TABLE}")
            except duckdb.Error:  # never hide the error that ended the run
                pass
