"""The rule model: everything about one rule of CONTRACT §3, in one object.

A :class:`Rule` carries its id and inspection, its titles, legal basis and the sentence
saying what it checks, its parameters (:class:`Param`, with type, default and allowed
range), the one query that finds its cases (see :mod:`auditlib.rules.engine` for the
convention), the zh/en labels of its evidence columns, its chart (or none), how the
source rows behind one of its findings are found (drill-down) and what a finding puts
at stake (``exposure``).  Workbook, report, explore and the charts read all of these
from the rule, so adding a rule means its module (one per inspection) and a planted
case in the synthetic county, nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Mapping

import pandas as pd

from auditlib.i18n import in_currency
from auditlib.rules.exposure import money_series

#: parameter types: money (yuan, Decimal), days (int), count (int), ratio (Decimal), words (a
#: tuple of literal words, CONTRACT §2; ``min``/``max`` bound the number of words)
PARAM_TYPES = ("money", "days", "count", "ratio", "words")

#: labels (zh, en) of the columns every rule's evidence has; a rule labels the others itself
COMMON_COLUMNS: Mapping[str, tuple[str, str]] = {
    "unit_code": ("单位编码", "Unit code"),
    "ref": ("证据行", "Evidence row"),
    "amount": ("金额(元)", "Amount (yuan)"),
    "severity": ("风险", "Severity"),
    "detail": ("情况说明", "Detail"),
    "_file": ("来源文件", "Source file"),
    "_line": ("来源行号", "Source line"),
    # the basis in force on the finding's evidence date, for a rule whose basis has versions
    "basis": ("依据", "Basis"),
    "penalty_basis": ("处理依据", "Penalty basis"),
}

#: the label of an ``exposure`` column a rule's evidence carries (what the finding puts at stake)
EXPOSURE_LABEL = ("涉及金额(元)", "Exposure (yuan)")


@dataclass(frozen=True)
class Param:
    """One rule parameter: its type (one of :data:`PARAM_TYPES`), default, range and labels.

    For a ``words`` parameter the default is a tuple of literal words and ``min``/``max`` bound how
    many words it holds (``min`` 0 only for the exclusion lists of CONTRACT §3)."""

    name: str
    type: str
    default: Decimal | int | tuple[str, ...]
    min: Decimal | int
    max: Decimal | int
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        """The parameter's name in ``lang``, its amounts in the display currency."""
        return in_currency(self.zh if lang == "zh" else self.en)


def money(name, default, zh, en, hi=10**10) -> Param:
    """A money parameter in yuan, 0 to ``hi``."""
    return Param(name, "money", Decimal(default), Decimal(0), Decimal(hi), zh, en)


def days(name, default, zh, en, hi=3650) -> Param:
    """A number of days, 0 to ``hi``."""
    return Param(name, "days", default, 0, hi, zh, en)


def ratio(name, default, zh, en, lo="0", hi="1") -> Param:
    """A ratio (exact Decimal), ``lo`` to ``hi``."""
    return Param(name, "ratio", Decimal(default), Decimal(lo), Decimal(hi), zh, en)


def count(name, default, zh, en, lo=1, hi=10**9) -> Param:
    """A whole count, ``lo`` to ``hi``."""
    return Param(name, "count", default, lo, hi, zh, en)


def words(name, default, zh, en, empty=False, hi=500) -> Param:
    """A list of literal words (CONTRACT §2 ``words``): a text holds the list when it contains one of
    them.  At least one word unless ``empty`` (the exclusion lists of CONTRACT §3), at most ``hi``.
    Words are literal: a regex metacharacter in a parameter file must be escaped with a backslash
    (:func:`auditlib.rules.params.parse_word`)."""
    return Param(name, "words", tuple(default), 0 if empty else 1, hi, zh, en)


def sql_query(prepared: Callable) -> Callable:
    """A rule query in Python (``Rule.query``) whose rows a final SQL statement gives.

    ``prepared(con, p_rel)`` is a context manager: it does what the statement needs (temporary
    tables, say) and gives the statement's text, in the order the evidence is listed, and undoes
    it on exit.  The query returns the statement's rows as a frame (:func:`auditlib.db.frame`);
    ``query.prepared`` lets ``auditlib scan`` read those rows column-wise instead
    (:mod:`auditlib.outputs.findings_scan`)."""
    from functools import wraps

    @wraps(prepared)
    def query(con, p_rel: str) -> pd.DataFrame:
        from auditlib.db import frame

        with prepared(con, p_rel) as sql:
            return frame(con.sql(sql))
    query.prepared = prepared
    return query


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule and everything about it.

    Attributes
    ----------
    id, inspection : str
        The rule id (``IF01`` ...) and its inspection (a key of ``INSPECTIONS``).
    title_zh, title_en, basis : str
        Titles and legal basis (依据): law and article, each citation checked against the
        published text.
    penalty_basis : str
        处理依据: the provision under which a confirmed problem is dealt with (e.g. an article of
        《财政违法行为处罚处分条例》); empty when none applies.
    advice_zh, advice_en : str
        处理建议: the suggested handling of a confirmed problem, a template sentence (e.g.
        收回结余资金、补记入账、支付逾期利息).
    basis_versions : tuple of BasisVersion
        For a rule whose law was revised with new article numbers: its basis and penalty basis
        per law version, oldest first (:class:`auditlib.rules.laws.BasisVersion`).  A finding
        cites the version in force on its evidence date (:meth:`basis_for`; the engine adds
        ``basis`` and ``penalty_basis`` to the evidence); ``basis`` and ``penalty_basis`` above
        then summarise every version for the catalogue.
    needs : tuple of str
        The input columns the rule cannot test a unit without, as ``table.column``; an entry
        ``a.x|a.y`` is met by either column.  A column absent or empty (no value in the unit's
        rows) leaves the rule **not tested** for that unit (CONTRACT §3, 未检查;
        :mod:`auditlib.rules.coverage`).
    accounts : tuple of str
        Account-code prefixes the rule reads ledger lines on (SF02 1002/1011): a unit whose ledger
        has no line on any of them is not tested either (an enterprise chart of accounts, say).
    applies : callable, optional
        A check on the data beyond ``needs``: ``f(con, units, params) -> {unit_code: (zh, en)}``,
        the units the rule's method does not fit, with why; they are **not tested** either (SF08
        on amounts with a reporting floor, :func:`auditlib.rules.floors.benford_not_applicable`).
    params : tuple of Param
    query : str or callable, optional
        One DuckDB SELECT reading the tables and the parameter relation ``p``, or a
        function ``f(con, p_relation_sql) -> DataFrame`` for rules SQL alone cannot express.
        A rule without a query is catalogued but not run.
    check_zh, check_en : str
        What the rule checks, in a sentence, for reports and workbooks.
    columns : mapping of str to (zh, en)
        Labels of the rule's own evidence columns; those of :data:`COMMON_COLUMNS` need none.
    percent : tuple of str
        Evidence columns holding shares, shown as percentages.
    chart : callable, optional
        ``f(con, unit_code, params, lang) -> Figure | None``: the rule's picture of one unit
        (None when the unit has nothing to draw).  Built with the helpers of
        :mod:`auditlib.rules.plotting`; the caller registers the CJK font
        (:func:`auditlib.outputs.charts.draw`).
    drilldown : callable, optional
        ``f(con, unit_code, ref, evidence, as_of, fiscal_year) -> list[SourceRows]``: the source
        rows behind one finding.  None means the generic lookup by ref kind
        (:func:`auditlib.rules.sources.source_rows`).
    exposure : str or callable, optional
        What each finding puts at stake (CONTRACT §3 "Amounts"): the name of an evidence
        column, or ``f(evidence) -> Series``.  None means the finding's ``amount``.  Values
        are exact yuan rounded half up to the fen; a missing one puts 0 at stake (IF02
        without a known balance).  The engine adds it to the findings frame (``exposure``).
    interest : str or callable, optional
        The late-payment interest (逾期利息) of each finding, declared like ``exposure``
        (DP01, DP02); shown beside the exposure, never added to it.  None: no interest.
    uses : tuple of (rule id, parameter name)
        Parameters of another rule this rule's query reads, resolved per unit like its own and
        put in ``p`` under the parameter's name (SF10 reads SF04's cash ``words``; a county that
        tunes SF04's words tunes both).
    note : callable, optional
        ``f(con, params) -> (zh, en) | None``: a remark about the whole run of the rule that
        reports and the manifest show beside its findings (SF12: years its holiday calendar
        does not cover, judged on Saturdays and Sundays only); None when there is nothing to say.
    heavy : bool
        The rule holds much memory while it runs (large joins or groupings over a whole table):
        ``auditlib scan`` runs such rules one after another, never two at once.
    sample : callable, optional
        For an indicator judged on a unit's whole sample (SF08): ``f(con, unit_code, params) ->
        (n, minimum)``, the unit's sample size and the least it judges.  Below the minimum the
        rule makes no judgement, and reports and charts say so (样本不足，不作判断).
    """

    id: str
    inspection: str
    title_zh: str
    title_en: str
    basis: str
    params: tuple[Param, ...] = ()
    query: str | Callable | None = None
    check_zh: str = ""
    check_en: str = ""
    columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    percent: tuple[str, ...] = ()
    chart: Callable | None = None
    drilldown: Callable | None = None
    exposure: str | Callable | None = None
    interest: str | Callable | None = None
    sample: Callable | None = None
    uses: tuple[tuple[str, str], ...] = ()
    note: Callable | None = None
    penalty_basis: str = ""
    advice_zh: str = ""
    advice_en: str = ""
    basis_versions: tuple = ()
    needs: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    applies: Callable | None = None
    heavy: bool = False

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def check(self, lang: str = "zh") -> str:
        return in_currency(self.check_zh if lang == "zh" else self.check_en)

    def advice(self, lang: str = "zh") -> str:
        """处理建议 in ``lang`` (empty when the rule gives none)."""
        return in_currency(self.advice_zh if lang == "zh" else self.advice_en)

    def basis_for(self, day=None) -> tuple[str, str]:
        """``(basis, penalty_basis)`` for a finding whose evidence is dated ``day`` (CONTRACT §3):
        the version of :attr:`basis_versions` in force that day (the latest for None, the earliest
        before them all); the rule's own ``basis`` and ``penalty_basis`` when it lists no versions."""
        if not self.basis_versions:
            return self.basis, self.penalty_basis
        from auditlib.rules.laws import version_on

        version = version_on(self.basis_versions, day)
        return version.basis, version.penalty_basis

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    # ---- evidence columns -------------------------------------------------------------------
    def labels(self, column: str) -> tuple[str, str] | None:
        """The (zh, en) labels of an evidence column: the rule's own, else the common ones."""
        return self.columns.get(column) or COMMON_COLUMNS.get(column)

    def label(self, column: str, lang: str = "zh") -> str:
        """An evidence column's header in ``lang``; its raw name when the rule labels it not."""
        labels = self.labels(column)
        return in_currency(labels[0] if lang == "zh" else labels[1]) if labels else str(column)

    def unlabelled(self, columns) -> list[str]:
        """The columns of ``columns`` the rule has no zh/en label for."""
        return [c for c in columns if not self.labels(c)]

    def too_few(self, con, unit_code: str, params) -> tuple[int, int] | None:
        """``(n, minimum)`` when the unit's sample is below the rule's minimum (no judgement is
        made); None when the rule declares no sample or the sample suffices."""
        if self.sample is None:
            return None
        n, minimum = self.sample(con, unit_code, params)
        return (int(n), int(minimum)) if n < minimum else None

    # ---- drill-down and exposure ------------------------------------------------------------
    def source_rows(self, con, unit_code: str, ref: str, evidence: pd.Series | None = None, as_of=None,
                    fiscal_year: int | None = None) -> list:
        """The source rows behind the finding ``ref``: the rule's own drill-down, else the generic one."""
        from auditlib.rules.sources import source_rows

        lookup = self.drilldown or source_rows
        return lookup(con, unit_code, ref, evidence, as_of, fiscal_year)

    def exposures(self, evidence: pd.DataFrame) -> pd.Series:
        """What each finding of ``evidence`` puts at stake (Decimal yuan, never missing, 0 when
        unknown); its ``amount`` unless the rule declares otherwise."""
        values = self._declared(self.exposure or "amount", evidence)
        return money_series(values, evidence.index, missing=Decimal("0.00"))

    def interests(self, evidence: pd.DataFrame) -> pd.Series:
        """The late-payment interest of each finding of ``evidence`` (Decimal yuan); None for a
        rule that declares none."""
        if self.interest is None:
            return pd.Series([None] * len(evidence), index=evidence.index, dtype=object)
        return money_series(self._declared(self.interest, evidence), evidence.index, missing=None)

    @staticmethod
    def _declared(how: str | Callable, evidence: pd.DataFrame):
        """The values a declaration gives: an evidence column by name, or a function's result."""
        return evidence[how] if isinstance(how, str) else how(evidence)
