"""A scan's findings as the rows of ``findings.csv``, rule by rule (``auditlib scan``).

The scan keeps no findings frame: each rule's findings become the text of their rows as soon as
the rule has run, and are written while the next rules run.  For a rule whose query is SQL (or
ends in SQL, :func:`auditlib.rules.model.sql_query`) and whose exposure and interest name evidence
columns, the database makes the text:

* money of a DECIMAL with at most two places as its text with two places (what ``str`` of the
  exact amount gives, and what :func:`~auditlib.rules.exposure.fen` rounds it to: nothing to round);
* the ``finding_id`` as :mod:`auditlib.rules.identity` defines it (SHA-256 of
  ``<rule_id>|<unit_code>|<ref>``, its first 12 hex digits);
* text neutralised (:func:`auditlib.common.cells.neutralise`) and quoted as :mod:`csv` quotes it,
  the whole row joined (:func:`_sql_lines`), when all its text columns are ``VARCHAR``;

so no ``Decimal``, no hash and no cell is made in Python per finding.  Money of any other type
gives cells (:func:`auditlib.outputs.findings_csv.finding_cells`, the same text), and every other
rule (a query in Python, an exposure function) goes through the findings frame as
:func:`~auditlib.rules.engine.inspect` builds it.  Every way gives the bytes
:func:`auditlib.outputs.findings_csv.write_findings_csv` writes for the engine's findings.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

import numpy as np
import pandas as pd

from auditlib.common.cells import FORMULA_START
from auditlib.common.csvfile import csv_cells, money_cells, text_cells
from auditlib.i18n import in_currency
from auditlib.outputs.findings_csv import finding_cells
from auditlib.outputs.verification import as_money
from auditlib.rules.engine import (fetch_columns, findings_columns, lean_frame, p_cte, prepare, rule_findings,
                                   rule_sql, setup_connection, skipped_units, tested_evidence, uniform_words)
from auditlib.db import frame, quote_ident
from auditlib.rules.exposure import money_series
from auditlib.rules.identity import ID_LENGTH
from auditlib.rules.laws import with_cited_basis
from auditlib.rules.model import Rule
from auditlib.rules.params import Params

#: a DECIMAL type the database writes as money text itself: at most two decimal places
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


@dataclass(frozen=True)
class RuleCells:
    """One rule's findings as findings.csv cells (:data:`~auditlib.outputs.findings_csv.FINDING_CELLS`,
    column → cells) or as its rows already written but for their run id (a list of text, each row
    ``<inspection>,...,<change>``), rows in findings.csv's order; ``seconds``: the rule's own wall
    seconds (its query and the making of its cells)."""

    rule_id: str
    inspection: str
    cells: dict | list
    seconds: float

    @property
    def count(self) -> int:
        return len(self.cells) if isinstance(self.cells, list) else len(self.cells["rule_id"])


def scan_order(rules: list[Rule]) -> list[Rule]:
    """``rules`` in findings.csv's order: by inspection, then rule id."""
    return sorted(rules, key=lambda r: (r.inspection, r.id))




def finding_cells_by_rule(con, params: Params, rule_ids=None, units=None, shared: dict | None = None,
                          lanes: int = 2) -> Iterator[RuleCells]:
    """Run the rules (those of ``rule_ids``, every rule when None) over every unit and give each
    rule's findings as cells, in findings.csv's order (:func:`scan_order`), only those of ``units``
    when given.  The rows are those of :func:`auditlib.rules.engine.inspect` (``keep_evidence=False``)
    and the cells those :func:`auditlib.outputs.findings_csv.write_findings_csv` writes for them.

    ``lanes``: with 2 the rules run in two threads, each on a cursor of its own (the database
    does not hold the interpreter while a query runs, so one lane's query runs while the other
    builds its cells or waits for its result): the :attr:`~auditlib.rules.model.Rule.heavy` rules in one, the others in the
    other, each lane in findings.csv's order; every rule's cells are the same as with one lane,
    and they are given in the same order.  ``shared``, a dict: where to put the seconds of the
    steps the rules share (``setup``, ``coverage``)."""
    run, all_units, resolved, gaps, steps = prepare(con, None, None, params, rule_ids)
    if shared is not None:
        shared.update(steps)
    keep = None if units is None else {str(u) for u in units}
    order = scan_order(run)
    for unit in all_units:  # every unit's parameters resolved now, not by two lanes at once
        resolved(unit)

    def cells_of(cur, rule):
        return _rule_cells(cur, rule, params, all_units, resolved, gaps, keep)

    heavy = [r for r in order if r.heavy]
    light = [r for r in order if not r.heavy]
    if lanes < 2 or not heavy or not light:
        for rule in order:
            yield cells_of(con, rule)
        return
    done: dict[str, RuleCells | BaseException] = {}
    ready = threading.Condition()
    stop = threading.Event()

    def lane(rules):
        cur = con.cursor()
        try:
            setup_connection(cur, all_units)
            for rule in rules:
                if stop.is_set():
                    return
                try:
                    part = cells_of(cur, rule)
                except BaseException as exc:  # handed to the reader, in its turn
                    part = exc
                with ready:
                    done[rule.id] = part
                    ready.notify_all()
                if isinstance(part, BaseException):
                    return
        except BaseException as exc:  # the cursor could not be set up: every rule of the lane fails
            with ready:
                for rule in rules:
                    done.setdefault(rule.id, exc)
                ready.notify_all()
        finally:
            cur.close()

    threads = [threading.Thread(target=lane, args=(rules,), name=f"rules-{i}", daemon=True)
               for i, rules in enumerate((heavy, light))]
    for thread in threads:
        thread.start()
    try:
        for rule in order:
            with ready:
                ready.wait_for(lambda: rule.id in done)
                part = done.pop(rule.id)
            if isinstance(part, BaseException):
                raise part
            yield part
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _rule_cells(con, rule: Rule, params: Params, all_units, resolved, gaps, keep) -> RuleCells:
    """One rule's :class:`RuleCells` (the rows of the units of ``keep``, all when None)."""
    started = time.perf_counter()
    p_rel = p_cte(rule, params, all_units, resolved)
    prepared = getattr(rule.query, "prepared", None)  # a query in Python ending in SQL (model.sql_query)
    if prepared is not None:
        with prepared(con, p_rel) as sql:
            cells = _sql_cells(con, rule, sql, params, gaps, ordered=False)
            if cells is None:
                cells = _frame_cells(rule, frame(con.sql(sql)), params, gaps)
    elif callable(rule.query):
        cells = _frame_cells(rule, rule.query(con, p_rel), params, gaps)
    else:
        words = uniform_words(rule, params, all_units, resolved)
        # ordered once, by the fetch (auditlib.rules.engine.fetch_columns)
        cells = _sql_cells(con, rule, rule_sql(rule, p_rel, words, ordered=False), params, gaps)
        if cells is None:
            sql = rule_sql(rule, p_rel, words)
            lean = findings_columns(rule, con.sql(sql).columns)
            cells = _frame_cells(rule, lean_frame(con, sql, lean) if lean else frame(con.sql(sql)), params, gaps)
    unit, ref, cells = cells
    rows = [i for i, u in enumerate(unit) if u in keep] if keep is not None else None
    order = _order(unit, ref, rows)
    if order is not None:
        cells = ([cells[i] for i in order] if isinstance(cells, list) else
                 {c: [v[i] for i in order] for c, v in cells.items()})
    return RuleCells(rule.id, rule.inspection, cells, time.perf_counter() - started)


def _order(unit: list, ref: list, rows: list[int] | None) -> list[int] | None:
    """The rows to keep (``rows``, all when None) in (unit, ref) order, stably (missing keys last,
    as pandas sorts them); None when that is every row as it is."""
    keys = rows if rows is not None else range(len(unit))
    u = np.array([unit[i] for i in keys] if rows is not None else unit, dtype=object)
    r = np.array([ref[i] for i in keys] if rows is not None else ref, dtype=object)
    if set(map(type, u)) <= {str} and set(map(type, r)) <= {str}:
        if len(u) < 2 or bool(np.all((u[1:] > u[:-1]) | ((u[1:] == u[:-1]) & (r[1:] >= r[:-1])))):
            return None if rows is None else list(rows)

    def key(i):
        a, b = u[i], r[i]
        return (type(a) is not str, a if type(a) is str else "", type(b) is not str, b if type(b) is str else "")
    return [keys[i] for i in sorted(range(len(u)), key=key)]


def _constant(value: str, n: int) -> list[str]:
    return text_cells([value])[:1] * n


def _sql_cells(con, rule: Rule, sql: str, params: Params, gaps, ordered: bool = True):
    """``(unit codes, refs, cells)`` of the rows of a rule's SQL, most cells computed by the
    database; None when the rule needs its findings frame (see the module's docstring).  The rows
    ordered by unit and ref (``ordered``), else in the order ``sql`` gives them."""
    exposure, interest = rule.exposure or "amount", rule.interest
    if callable(exposure) or callable(interest):
        return None
    rel = con.sql(sql)  # bound, not run
    types = dict(zip(rel.columns, (str(t) for t in rel.types)))
    if types.get("unit_code") != "VARCHAR" or types.get("ref") != "VARCHAR" or \
            any(c not in types for c in ("amount", "severity", "detail", exposure, interest or "amount")):
        return None
    skip = skipped_units(rule, gaps)
    if skip:  # a unit the rule could not test has no findings of it (a missing unit is no such unit)
        sql = (f"SELECT * FROM ({sql}) WHERE unit_code IS NULL OR unit_code NOT IN ("
               + ", ".join(_literal(str(u)) for u in sorted(skip)) + ")")
    fetch = {"unit_code": None, "ref": None, "severity": None, "detail": None}
    # NULL for a missing unit or ref: its text is the one the findings frame gives (see _missing_ids)
    fetch["_finding_id"] = f"left(sha256({_literal(rule.id + '|')} || unit_code || '|' || ref), 12)"
    money = {}  # cell column → (source column, whether the database makes its text)
    for col, source, missing in (("amount", "amount", ""), ("exposure", exposure, "0.00"),
                                 ("interest", interest, "")):
        if source is None:
            continue
        text = _money_text(source, types[source])
        money[col] = (source, text is not None)
        if text is not None:
            fetch["_" + col] = f"COALESCE({text}, '{missing}')"
        else:
            fetch.setdefault(source, None)
    if all(in_sql for _, in_sql in money.values()) and params.currency == "元" and \
            all(types[c] == "VARCHAR" for c in ("severity", "detail")):
        lines = _sql_lines(con, rule, sql, fetch, params, ordered)
        if lines is not None:
            return lines
    data = fetch_columns(con, sql, fetch, types, ordered=ordered)
    unit, ref = data["unit_code"], data["ref"]
    if None in data["_finding_id"]:
        data["_finding_id"] = _missing_ids(rule, unit, ref, data["_finding_id"])
    detail = data["detail"]
    if params.currency != "元":  # details name amounts in the display currency
        detail = [in_currency(d) if isinstance(d, str) else d for d in detail]
    n = len(unit)
    cells = {"inspection": _constant(rule.inspection, n), "rule_id": _constant(rule.id, n),
             "unit_code": text_cells(unit), "ref": text_cells(ref)}
    for col in ("amount", "exposure", "interest"):
        if col not in money:
            cells[col] = [""] * n
            continue
        source, in_sql = money[col]
        if in_sql:
            cells[col] = data["_" + col]
        elif col == "amount":
            cells[col] = money_cells(data[source])
        else:  # as the engine's exposures and interests, then as findings_csv writes them
            values = money_series(data[source], range(n), missing=Decimal("0.00") if col == "exposure" else None)
            cells[col] = money_cells(values.tolist(), parse=as_money)
    cells["severity"] = text_cells(data["severity"])
    cells["title"] = _constant(rule.title(params.lang), n)
    cells["detail"] = text_cells(detail)
    cells["finding_id"] = data["_finding_id"]  # hex digits: nothing to neutralise
    return unit, ref, {c: cells[c] for c in _CELL_ORDER}


def _sql_lines(con, rule: Rule, sql: str, fetch: dict, params: Params, ordered: bool):
    """``(unit codes, refs, lines)``: each finding's row of findings.csv as the database writes it
    (without its run id: ``<inspection>,...,open,``), when every cell is text the database can
    make: the text columns ``VARCHAR``, the money columns in ``fetch``; None when a row lacks its
    unit or ref (their finding id is the findings frame's, see :func:`_missing_ids`)."""
    def text(column):  # neutralise (auditlib.common.cells) and quote as csv does (QUOTE_MINIMAL)
        c = quote_ident(column)
        starts = " OR ".join(f"starts_with({c}, {_sql_text(ch)})" for ch in FORMULA_START)
        inert = f"(CASE WHEN {starts} THEN {_sql_text(chr(39))} || {c} ELSE {c} END)"
        special = " OR ".join(f"contains({inert}, {_sql_text(ch)})" for ch in _QUOTE_CHARS)
        quote = _sql_text('"')
        changed = (f"(CASE WHEN {special} THEN {quote} || replace({inert}, {quote}, {_sql_text(2 * chr(34))})"
                   f" || {quote} ELSE {inert} END)")
        # most text is written as it is: one regular expression tells which is not
        return f"(CASE WHEN {c} IS NULL THEN '' WHEN regexp_matches({c}, '{_CHANGED}') THEN {changed} ELSE {c} END)"

    def constant(value):
        return _sql_text(csv_cells(text_cells([value]))[0])

    def money(column):
        return fetch.get("_" + column, "''")

    parts = [constant(rule.inspection), constant(rule.id), text("unit_code"), text("ref"), money("amount"),
             text("severity"), constant(rule.title(params.lang)), text("detail"), fetch["_finding_id"],
             money("exposure"), money("interest"), "'open'", "''"]
    line = "concat(" + ", ',', ".join(parts) + ")"  # one string made, not one per part
    data = fetch_columns(con, f"SELECT unit_code, ref, {line} AS _line FROM ({sql})",
                         {"unit_code": None, "ref": None, "_line": None},
                         {"unit_code": "VARCHAR", "ref": "VARCHAR", "_line": "VARCHAR"}, ordered=ordered)
    unit, ref, lines = data["unit_code"], data["ref"], data["_line"]
    if None in unit or None in ref:
        return None
    return unit, ref, lines


def _sql_text(text: str) -> str:
    """``text`` as an SQL string literal: quotes doubled, control characters through ``chr``."""
    parts = []
    for ch in text:
        if ch in "\t\r\n":
            parts.append(f"' || chr({ord(ch)}) || '")
        else:
            parts.append(ch * 2 if ch == "'" else ch)
    return "('" + "".join(parts) + "')"


#: characters that make csv quote a cell (:mod:`auditlib.common.csvfile`)
_QUOTE_CHARS = (",", '"', "\r", "\n")


def _class(chars) -> str:
    """A regular expression character class of ``chars``."""
    return "[" + "".join({"\t": r"\t", "\r": r"\r", "\n": r"\n"}.get(ch, "\\" + ch) for ch in chars) + "]"


#: text that :func:`~auditlib.common.cells.neutralise` or csv's quoting changes
_CHANGED = "^" + _class(FORMULA_START) + "|" + _class(_QUOTE_CHARS)

#: the cells' columns in findings.csv's order
_CELL_ORDER = ("inspection", "rule_id", "unit_code", "ref", "amount", "severity", "title", "detail", "finding_id",
               "exposure", "interest")


def _missing_ids(rule: Rule, unit: list, ref: list, ids: list) -> list[str]:
    """``ids`` with those of the rows missing a unit or a ref computed as
    :func:`~auditlib.rules.identity.finding_ids` computes them from the findings frame, where a
    missing text is NaN in a column of text and None in a column of nothing else."""
    frame_values = pd.DataFrame({"unit_code": unit, "ref": ref})
    units, refs = frame_values["unit_code"].tolist(), frame_values["ref"].tolist()
    return [fid if fid is not None else
            hashlib.sha256(f"{rule.id}|{units[i]}|{refs[i]}".encode("utf-8")).hexdigest()[:ID_LENGTH]
            for i, fid in enumerate(ids)]


def _money_text(column: str, sql_type: str) -> str | None:
    """SQL giving the money text of ``column`` (NULL for NULL) when its type is a DECIMAL of at most
    two places; None otherwise (the value goes through Python)."""
    m = _DECIMAL.fullmatch(sql_type)
    if m is None or int(m.group(2)) > 2:
        return None
    value = quote_ident(column) if int(m.group(2)) == 2 else f"CAST({quote_ident(column)} AS DECIMAL(38,2))"
    return f"CAST({value} AS VARCHAR)"


def _frame_cells(rule: Rule, ev, params: Params, gaps):
    """``(unit codes, refs, cells)`` of a rule's evidence frame ``ev``, through its findings frame as
    ``inspect`` builds it."""
    ev = tested_evidence(rule, with_cited_basis(rule, ev), params, gaps)
    if not len(ev):
        return [], [], {c: [] for c in _CELL_ORDER}
    findings = rule_findings(rule, ev, params)
    return findings["unit_code"].tolist(), findings["ref"].tolist(), finding_cells(findings)


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"
