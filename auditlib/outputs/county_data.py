"""What the county deliverables of a run are built from (CONTRACT §4): one small typed input.

:class:`CountyInput` holds a run's findings (``findings.csv``, the register's decisions already
applied: ``status``, ``change``; plus each 属实 finding's 认定金额 and each decided finding's
核实说明 from the register the run read), the units and inspections of the run, the parameters
and the ``project:`` block (CONTRACT §2), the input files with their row counts and the tasks that
did not finish.  :func:`load_county_input` reads it from a run folder; tests build one directly.

The figures both deliverables show (per rule, per unit, per inspection, the county) come from
:func:`figures`, which only groups: the money is :func:`auditlib.outputs.verification.split` /
:func:`~auditlib.outputs.verification.counted_total` (the status totals of
:func:`auditlib.review.apply.status_totals`), and 涉及资金（去重） and 逾期利息 are
:mod:`auditlib.outputs.totals`, so both files agree with ``findings.csv`` and every other page.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from auditlib.i18n import register, t
from auditlib.outputs import verification as vf
from auditlib.outputs.formats import table_label
from auditlib.outputs.totals import dedup_exposure, interest_total
from auditlib.review.apply import TOTAL_COLUMNS
from auditlib.review.statuses import Status
from auditlib.rules.catalogue import INSPECTIONS, all_rules, get_rule
from auditlib.rules.model import Rule

#: file names of the deliverables in the run folder (CONTRACT §4)
FINDINGS_XLSX = "county-findings.xlsx"
REPORT_DOCX = "county-report.docx"

register({
    "cd.scope_county": ("全县 {n} 个单位", "all {n} units of the county"),
    "cd.scope_batch": ("本批次 {n} 个单位", "{n} units in this run"),
    "cd.scope_batch_of": ("本批次 {n} 个单位（数据库共 {total} 个单位）", "{n} units in this run (of {total})"),
})


@dataclass(frozen=True, eq=False)
class CountyInput:
    """Everything the county findings list and the county report show.

    Attributes
    ----------
    run_id : str
    lang : {"zh", "en"}
    findings : DataFrame
        ``findings.csv`` of the run as text columns (:func:`~auditlib.outputs.findings_csv.read_findings_csv`),
        optionally with ``confirmed_amount`` (认定金额) and ``status_reason`` (核实说明).
    units : dict
        The run's units, code → name, in run order (failed tasks' units included).
    inspections : tuple of str
        The inspections of the run, in catalogue order.
    as_of : str
        The cut-off date (ISO).
    fiscal_year : int or None
    project : dict
        The ``project:`` block (name, team, period, members, reviewer); empty when not given.
    rule_values : dict
        Each rule's run-wide parameter values (rule id → {name: value}).
    unit_values : dict
        Per-unit overrides (unit code → rule id → {name: value}).
    inputs : tuple of dict
        The input files: ``file``, ``table``, ``rows``.
    county_units : int or None
        How many units the database holds (None when unknown): the run covers the whole county
        only when this equals ``len(units)``.
    failed : tuple of dict
        Tasks not ok (``unit_code``, ``unit_name``, ``inspection``, ``status``, ``error``): their
        findings are not in ``findings``.
    register : dict or None
        The register the run read (``path``, ``sha256``, ``decisions``), None without one.
    baseline : str
        The run compared with (its id), empty without one.
    untested : tuple of dict
        The rules a task could not test (CONTRACT §3 未检查): ``unit_code``, ``inspection``,
        ``rule_id``, ``reason_zh``, ``reason_en``, from the manifest's task records.
    coverage_warnings : tuple of dict
        The run's coverage warnings ``{"zh", "en"}`` (dates vs fiscal year, chart of accounts).
    """

    run_id: str
    lang: str
    findings: pd.DataFrame
    units: dict[str, str]
    inspections: tuple[str, ...]
    as_of: str = ""
    fiscal_year: int | None = None
    project: dict = field(default_factory=dict)
    rule_values: dict = field(default_factory=dict)
    unit_values: dict = field(default_factory=dict)
    inputs: tuple[dict, ...] = ()
    county_units: int | None = None
    failed: tuple[dict, ...] = ()
    register: dict | None = None
    baseline: str = ""
    untested: tuple[dict, ...] = ()
    coverage_warnings: tuple[dict, ...] = ()

    @property
    def whole_county(self) -> bool:
        """Whether every unit of the database ran (only then may a page say 全县)."""
        return self.county_units is not None and self.county_units == len(self.units)

    def scope(self) -> str:
        """``全县 N 个单位`` when every unit ran, else ``本批次 N 个单位`` (with the database's count when known)."""
        n = len(self.units)
        if self.whole_county:
            return t("cd.scope_county", self.lang, n=n)
        if self.county_units:
            return t("cd.scope_batch_of", self.lang, n=n, total=self.county_units)
        return t("cd.scope_batch", self.lang, n=n)

    def unit_name(self, code: str) -> str:
        return self.units.get(str(code), "")


@dataclass(frozen=True)
class Figures:
    """The findings of one group: all of them (``n``, 排除 included), each status's count and
    money (:func:`auditlib.outputs.verification.split`), the total that counts
    (待核实 + 属实 + 已整改), 涉及资金（去重） and 逾期利息 (shown beside, never added)."""

    n: int
    split: dict[Status, vf.Tally]
    total: vf.Tally
    dedup: Decimal
    interest: Decimal

    @property
    def money(self) -> Decimal:
        """The counted total's money (0 when none)."""
        return self.total.money if self.total.money is not None else Decimal("0")

    def status_money(self, status: Status) -> Decimal:
        m = self.split[status].money
        return m if m is not None else Decimal("0")


#: the columns :func:`figures` and the ``by_*`` groupings read (the status totals', the evidence
#: row for 涉及资金（去重）, interest, the groups' keys)
FIGURE_COLUMNS = ("unit_code", "inspection", "rule_id", "ref", "interest", *TOTAL_COLUMNS)


def _narrow(findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` with only :data:`FIGURE_COLUMNS`: a run's findings carry every rule's evidence
    columns, and each subset taken of them (a mask, a status column assigned) copies them all."""
    return findings[[c for c in FIGURE_COLUMNS if c in findings.columns]]


def figures(findings: pd.DataFrame) -> Figures:
    """The :class:`Figures` of ``findings`` (any subset of a run's findings)."""
    findings = _narrow(findings)
    return Figures(n=len(findings), split=vf.split(findings), total=vf.counted_total(findings),
                   dedup=dedup_exposure(findings), interest=interest_total(findings))


def rule_of(rule_id: str) -> Rule | None:
    """The catalogue's rule ``rule_id``; None for a rule the catalogue no longer has."""
    try:
        return get_rule(str(rule_id))
    except KeyError:
        return None


def rule_order(rule_ids) -> list[str]:
    """``rule_ids`` in catalogue order, unknown ids after them in text order."""
    order = {r.id: i for i, r in enumerate(all_rules())}
    ids = list(dict.fromkeys(str(x) for x in rule_ids))
    return sorted(ids, key=lambda r: (order.get(r, len(order)), r))


def inspection_order(names) -> list[str]:
    """``names`` in catalogue order (沉淀资金, 小金库, 支付不及时), unknown ones after."""
    order = {n: i for i, n in enumerate(INSPECTIONS)}
    return sorted(dict.fromkeys(str(x) for x in names), key=lambda n: (order.get(n, len(order)), n))


def rule_title(rule_id: str, findings: pd.DataFrame | None = None, lang: str = "zh") -> str:
    """A rule's title in ``lang`` (the findings' ``title`` for a rule the catalogue lacks)."""
    rule = rule_of(rule_id)
    if rule is not None:
        return rule.title(lang)
    if findings is not None and "title" in findings.columns:
        mine = findings.loc[findings["rule_id"].astype(str) == str(rule_id), "title"]
        if len(mine):
            return str(mine.iloc[0])
    return str(rule_id)


def ordered(inp: CountyInput) -> pd.DataFrame:
    """The findings in reading order: unit (run order), inspection and rule (catalogue order), ref."""
    f = inp.findings
    if not len(f):
        return f
    units = {u: i for i, u in enumerate(inp.units)}
    insp = {n: i for i, n in enumerate(inspection_order(f["inspection"]))}
    rules = {r: i for i, r in enumerate(rule_order(f["rule_id"]))}
    key = pd.DataFrame({"u": [units.get(str(u), len(units)) for u in f["unit_code"]],
                        "uc": f["unit_code"].astype(str).to_numpy(),
                        "i": [insp[str(x)] for x in f["inspection"]],
                        "r": [rules[str(x)] for x in f["rule_id"]],
                        "ref": f["ref"].astype(str).to_numpy()}, index=f.index)
    return f.loc[key.sort_values(["u", "uc", "i", "r", "ref"], kind="stable").index]


def by_rule(inp: CountyInput, findings: pd.DataFrame | None = None) -> list[tuple[str, Figures]]:
    """(rule id, figures) of every rule with findings, in catalogue order."""
    f = _narrow(inp.findings if findings is None else findings)
    if not len(f):
        return []
    ids = f["rule_id"].astype(str)
    return [(r, figures(f[ids == r])) for r in rule_order(ids)]


def by_unit(inp: CountyInput, findings: pd.DataFrame | None = None) -> list[tuple[str, Figures]]:
    """(unit code, figures) of every unit of the run (units without findings too), in run order."""
    f = _narrow(inp.findings if findings is None else findings)
    codes = f["unit_code"].astype(str) if len(f) else pd.Series([], dtype=str)
    units = list(inp.units) + [u for u in dict.fromkeys(codes) if u not in inp.units]
    return [(u, figures(f[codes == u] if len(f) else f)) for u in units]


def by_inspection(inp: CountyInput, findings: pd.DataFrame | None = None) -> list[tuple[str, Figures]]:
    """(inspection, figures) of every inspection of the run (those without findings too), in
    catalogue order."""
    f = _narrow(inp.findings if findings is None else findings)
    names = inspection_order([*inp.inspections, *(inp.findings["inspection"] if len(inp.findings) else [])])
    col = f["inspection"].astype(str) if len(f) else pd.Series([], dtype=str)
    return [(n, figures(f[col == n] if len(f) else f)) for n in names]


# -- reading a run ---------------------------------------------------------------------------

def _project_of(manifest: dict) -> dict:
    """The ``project:`` block: the manifest's parameters, else the run's parameter files read again."""
    project = (manifest.get("params") or {}).get("project")
    if isinstance(project, dict):
        return project
    from auditlib.errors import AuditlibError
    from auditlib.rules.params import load_params

    try:
        kw = {"default": manifest["default_params"]} if manifest.get("default_params") else {}
        return dict(load_params(manifest.get("params_file") or None, **kw).project)
    except (AuditlibError, OSError, KeyError, ValueError):
        return {}


def _county_units(manifest: dict) -> int | None:
    """How many units the run's database holds; None when it cannot be read."""
    from auditlib.db import connect
    from auditlib.errors import AuditlibError
    from auditlib.rules.engine import unit_names

    db = manifest.get("db")
    if not db or not Path(db).is_file():
        return None
    try:
        con = connect(db)
    except AuditlibError:
        return None
    try:
        return len(unit_names(con))
    except Exception:  # noqa: BLE001 - a database without the tables: unknown, say 本批次
        return None
    finally:
        con.close()


def load_county_input(run_dir: str | os.PathLike, params=None, decisions: dict | None = None,
                      county_units: int | None = None, manifest: dict | None = None) -> CountyInput:
    """The :class:`CountyInput` of the run in ``run_dir`` (its ``manifest.json`` and ``findings.csv``).

    Parameters
    ----------
    run_dir : path
    params : Params, optional
        The run's parameters (for the ``project:`` block); read from the manifest's files when None.
    decisions : dict, optional
        ``finding_id`` → latest decision, as the run read them; from the manifest's register when None.
    county_units : int, optional
        How many units the database holds; read from the manifest's database when None.
    manifest : dict, optional
        The run's manifest as it reads (or will read) at the end; ``manifest.json`` when None.
    """
    from auditlib.outputs.findings_csv import CSV_COLUMNS, read_findings_csv

    run_dir = Path(run_dir)
    if manifest is None:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    path = run_dir / "findings.csv"
    findings = read_findings_csv(path) if path.is_file() else pd.DataFrame(columns=CSV_COLUMNS)
    if decisions is None:  # those the run read (beside the findings.csv of a run being made)
        decisions = vf.run_decisions(manifest, run_dir / vf.RUN_DECISIONS)
    findings = vf.with_decisions(findings, decisions)
    tasks = manifest.get("tasks") or []
    units: dict[str, str] = {}
    for x in tasks:
        units.setdefault(str(x["unit_code"]), x.get("unit_name") or "")
    lang = manifest.get("lang") or "zh"
    inputs = tuple({"file": x.get("file", ""), "table": x.get("table", ""),
                    "table_label": table_label(x.get("table"), lang),
                    "rows": x.get("rows")} for x in manifest.get("inputs") or [])
    settings = manifest.get("params") or {}
    units_over = {u: (v.get("rules") if isinstance(v, dict) and "rules" in v else v) or {}
                  for u, v in (settings.get("units") or {}).items()}
    baseline = manifest.get("baseline")
    return CountyInput(
        run_id=str(manifest.get("run_id") or run_dir.name), lang=lang, findings=findings, units=units,
        inspections=tuple(inspection_order(x["inspection"] for x in tasks)),
        as_of=str(manifest.get("as_of") or ""), fiscal_year=manifest.get("fiscal_year"),
        project=dict(params.project) if params is not None else _project_of(manifest),
        rule_values=settings.get("rules") or {}, unit_values=units_over, inputs=inputs,
        county_units=county_units if county_units is not None else _county_units(manifest),
        failed=tuple({k: x.get(k) for k in ("unit_code", "unit_name", "inspection", "status", "error")}
                     for x in tasks if x.get("status") != "ok"),
        register=manifest.get("register") if isinstance(manifest.get("register"), dict) else None,
        baseline=(baseline.get("run_id") or "") if isinstance(baseline, dict) else str(baseline or ""),
        untested=tuple({"unit_code": str(x["unit_code"]), "inspection": x["inspection"], **u}
                       for x in tasks if x.get("status") == "ok" for u in (x.get("untested") or [])
                       if isinstance(u, dict)),
        coverage_warnings=tuple(w for w in manifest.get("coverage_warnings") or [] if isinstance(w, dict)))


__all__ = ["FINDINGS_XLSX", "REPORT_DOCX", "CountyInput", "Figures", "figures", "rule_of", "rule_order",
           "inspection_order", "rule_title", "ordered", "by_rule", "by_unit", "by_inspection", "load_county_input"]
