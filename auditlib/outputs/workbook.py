"""The evidence workbook of one task (审计工作底稿/取证单): ``<unit_code>/<inspection>.xlsx``.

One workbook per unit and inspection, written with xlsxwriter:

* ``封面`` (cover): the unit, the inspection, the cut-off date, the run id, every input file with
  its SHA-256, the parameters applied per rule, the software version, and the preparer's, the
  verifier's (核实人) and the reviewer's (复核人) name cells;
* ``汇总`` (summary): per rule its title, basis, number of 疑点 and, split by status, the counts and
  amounts of 待核实 and 属实 (认定金额 when given), 已整改, and 排除 (counted in no total);
* one sheet per rule, named by its id (``IF01`` ...): the evidence rows, each with the round-trip
  form of CONTRACT §6 (:mod:`auditlib.review.form`): 疑点编号 (``finding_id``), 核实结论 (a list:
  待核实 / 属实 / 排除 / 已整改), 核实说明 and 认定金额, pre-filled from the register when the
  findings carry its decisions (:func:`auditlib.review.apply.apply_register`);
* ``取证单`` (evidence certificate): the 属实 and 已整改 findings, a box for the unit's opinion and
  the signature and seal blanks; a workbook without any gets ``疑点核实清单`` (the open findings to
  verify) instead.

The workbook is a form: every sheet is protected (without a password) and only the cells an auditor
fills in are unlocked and highlighted (:data:`auditlib.review.form.EDITABLE_FILL`), so a careless
edit elsewhere is refused while columns can still be resized, filtered and sorted.

Every cell is typed on purpose: money (``Decimal``) as a number with two places, dates as Excel
dates, whole numbers as numbers and everything else as text written with ``write_string``, so
text such as ``=HYPERLINK(...)`` or ``http://...`` from the source data stays inert text and unit
codes and account numbers keep their leading zeros; text over Excel's 32,767 characters a cell is
cut with a marker saying so.  The file is written whole or not at all
(:func:`auditlib.common.files.atomic_write`): a half-written workbook is never seen under the final name.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import unicodedata
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from auditlib.rules.catalogue import get_rule, rules_for
from auditlib.rules.identity import finding_ids
from auditlib.rules.model import COMMON_COLUMNS, Rule
from auditlib.i18n import register, t
from auditlib.rules.params import Params
from auditlib.common.cells import starts_formula
from auditlib.common.files import atomic_write
from auditlib.outputs import verification as vf
from auditlib.outputs.formats import ENUM_LABELS, enum_label, inspection_label, param_text
from auditlib.review import form
from auditlib.review.statuses import Status

register({
    "wb.sheet.cover": ("封面", "Cover"),
    "wb.sheet.summary": ("汇总", "Summary"),
    "wb.sheet.certificate": ("取证单", "Certificate"),
    "wb.sheet.checklist": ("疑点核实清单", "Findings to verify"),
    "wb.title": ("审计工作底稿", "Audit working paper"),
    "wb.subtitle": ("{inspection}专项检查", "{inspection} inspection"),
    "wb.unit_code": form.COVER_UNIT,
    "wb.unit_name": ("被检查单位名称", "Unit name"),
    "wb.inspection": ("检查事项", "Inspection"),
    "wb.as_of": ("检查截止日", "Cut-off date"),
    "wb.fiscal_year": ("预算年度", "Fiscal year"),
    "wb.run_id": ("批次号", "Run id"),
    "wb.version": ("软件版本", "Software version"),
    "wb.sources": ("数据来源", "Data sources"),
    "wb.src.file": ("文件", "File"),
    "wb.src.table": ("数据表", "Table"),
    "wb.src.rows": ("行数", "Rows"),
    "wb.src.sha256": ("SHA-256 校验值", "SHA-256"),
    "wb.no_sources": ("（未提供）", "(none given)"),
    "wb.params": ("检查参数（本单位实际适用）", "Parameters applied to this unit"),
    "wb.par.rule": ("规则", "Rule"),
    "wb.par.name": ("参数", "Parameter"),
    "wb.par.label": ("含义", "Meaning"),
    "wb.par.value": ("取值", "Value"),
    "wb.par.override": ("本单位特别设定", "Set for this unit"),
    "wb.par.none": ("（无参数）", "(no parameters)"),
    "wb.yes": ("是", "yes"),
    "wb.no": ("否", "no"),
    "wb.preparer": ("编制人", "Prepared by"),
    "wb.verifier": form.COVER_VERIFIER,
    "wb.reviewer": form.COVER_REVIEWER,
    "wb.date": ("日期", "Date"),
    "wb.sum.rule": ("规则编号", "Rule"),
    "wb.sum.title": ("检查内容", "What is checked"),
    "wb.sum.basis": ("依据", "Basis"),
    "wb.sum.count": ("疑点(条)", "Findings"),
    "wb.sum.high": ("其中高风险(条)", "of which high"),
    "wb.sum.n.open": ("待核实(条)", "Open"),
    "wb.sum.m.open": ("待核实金额(元)", "Open (yuan)"),
    "wb.sum.n.confirmed": ("属实(条)", "Confirmed"),
    "wb.sum.m.confirmed": ("属实金额(元)", "Confirmed (yuan)"),
    "wb.sum.n.rectified": ("已整改(条)", "Rectified"),
    "wb.sum.m.rectified": ("已整改金额(元)", "Rectified (yuan)"),
    "wb.sum.n.dismissed": ("排除(条)", "Dismissed"),
    "wb.sum.total": ("合计", "Total"),
    "wb.sum.note": ("以上为数据分析发现的疑点，须经核实并取得被检查单位确认后方可定性。"
                    "属实、已整改按认定金额（未填则按涉及金额）计；排除的疑点不计入任何合计。",
                    "These are leads found by data analysis; each needs checking and the unit's "
                    "confirmation before it is a finding. Confirmed and rectified ones count at the "
                    "confirmed amount (else their exposure); dismissed ones count in no total."),
    "wb.rule.basis": ("依据：{basis}", "Basis: {basis}"),
    "wb.rule.params": ("参数：{params}", "Parameters: {params}"),
    "wb.rule.found": ("发现疑点 {n} 条，涉及金额 {amount} 元。", "{n} findings, amount {amount} yuan."),
    "wb.rule.found_noamount": ("发现疑点 {n} 条。", "{n} findings."),
    "wb.rule.form": ("请在黄色单元格填写核实结论（待核实/属实/排除/已整改）、核实说明（排除须填写理由）和认定金额；"
                     "其余单元格受保护。", "Fill in the yellow cells: conclusion (open / confirmed / dismissed / "
                     "rectified), explanation (required to dismiss) and confirmed amount; the rest is protected."),
    "wb.form.title": ("核实结论", "Conclusion"),
    "wb.form.bad_status": ("请从列表中选择：{words}", "Choose from the list: {words}"),
    "wb.form.bad_amount": ("认定金额须为金额（元）", "The confirmed amount must be money (yuan)"),
    "wb.none": ("未发现疑点。", "No leads."),
    "wb.no_params": ("无", "none"),
    "wb.cert.title": ("审计取证单", "Audit evidence certificate"),
    "wb.cert.unit": ("被检查单位：{unit_name}（{unit_code}）", "Unit: {unit_name} ({unit_code})"),
    "wb.cert.inspection": ("检查事项：{inspection}　检查截止日：{as_of}　批次号：{run_id}",
                           "Inspection: {inspection}   Cut-off: {as_of}   Run id: {run_id}"),
    "wb.cert.matters": ("审计（检查）发现的问题及事实：", "Matters found:"),
    "wb.cert.total": ("合计 {n} 条", "Total {n}"),
    "wb.cert.status": ("核实结论", "Conclusion"),
    "wb.cert.confirmed_amount": ("认定金额(元)", "Confirmed amount (yuan)"),
    "wb.cert.explanation": ("核实说明", "Explanation"),
    "wb.check.title": ("疑点核实清单", "Findings to verify"),
    "wb.check.note": ("本单位本事项尚无核实属实的问题，故不出具取证单。以下疑点待核实，核实结论请填在各规则工作表的黄色单元格中。",
                      "No finding of this unit and inspection has been confirmed yet, so there is no evidence "
                      "certificate. The findings below await verification: record the conclusions in the yellow "
                      "cells of each rule's sheet."),
    "wb.check.none": ("没有待核实的疑点。", "No findings await verification."),
    "wb.cert.opinion": ("被检查单位意见：", "Opinion of the inspected unit:"),
    "wb.cert.unit_head": ("被检查单位负责人（签名）：", "Head of the inspected unit (signature):"),
    "wb.cert.seal": ("被检查单位（盖章）：", "Inspected unit (seal):"),
    "wb.cert.auditors": ("审计人员（签名）：", "Auditors (signature):"),
    "wb.cert.reviewer": ("复核人（签名）：", "Reviewer (signature):"),
    "wb.col.no": ("序号", "No."),
    "wb.col.rule_id": ("规则编号", "Rule"),
    "wb.col.title": ("问题类型", "Issue"),
    "wb.col.lead_title": ("疑点类型", "Lead"),
    "wb.col.finding_id": form.FINDING_ID,
    "wb.col.conclusion": form.CONCLUSION,
    "wb.col.explanation": form.EXPLANATION,
    "wb.col.confirmed_amount": form.CONFIRMED_AMOUNT,
    "wb.sev.high": ("高", "high"),
    "wb.sev.medium": ("中", "medium"),
    "wb.sev.low": ("低", "low"),
    "wb.footer": ("第 &P 页 共 &N 页", "Page &P of &N"),
    "wb.truncated": ("…（超出 Excel 单元格上限，已截断；全文 {n} 字）",
                     "… (cut at Excel's cell limit; {n} characters in all)"),
})

#: evidence columns shown first, in this order; ``unit_code`` is on the cover and left out
_LEAD = ("ref", "amount", "severity", "detail")
_TAIL = ("_file", "_line")
_OMIT = ("unit_code",)

_MONEY = "#,##0.00"
#: a share as a percentage (0.015 -> 1.5%), and any other number (at most four decimals)
_PERCENT = "0.0##%"
_NUMBER = "#,##0.####"
_DATE = "yyyy-mm-dd"
_DATETIME = "yyyy-mm-dd hh:mm:ss"
_MAX_WIDTH = 60
_MIN_WIDTH = 6
_BAD_SHEET_CHARS = set('[]:*?/\\')
#: Excel's limit of characters in one cell
MAX_CELL_CHARS = 32767
#: what a protected sheet still lets the auditor do (xlsxwriter's ``protect`` options)
_PROTECTION = {"format_columns": True, "format_rows": True, "autofilter": True, "sort": True,
               "select_locked_cells": True, "select_unlocked_cells": True}


def write_workbook(path, *, unit_code: str, unit_name: str, inspection: str,
                   findings: pd.DataFrame, evidence: dict[str, pd.DataFrame], params: Params,
                   run_id: str, sources: list[dict], lang: str = "zh", version: str | None = None) -> Path:
    """Write the evidence workbook of one unit and inspection.

    Parameters
    ----------
    path : str or path-like
        The ``.xlsx`` file to write; its folder is created.  The workbook is written to
        ``<path>.part`` and renamed, so the final name never holds a half-written file.
    unit_code, unit_name : str
        The inspected unit.
    inspection : str
        One of :data:`auditlib.rules.catalogue.INSPECTIONS`.
    findings : DataFrame
        The engine's findings frame (``inspection, rule_id, unit_code, ref, amount, severity,
        title, detail``); rows of other units or inspections are left out.
    evidence : dict of str to DataFrame
        Evidence rows per rule id, as :func:`auditlib.rules.engine.inspect` returns them; rows of
        other units are left out.
    params : Params
        The run's parameters; the values applied to ``unit_code`` are shown.
    run_id : str
    sources : list of dict
        The input files: ``{"file", "table", "rows", "sha256"}``.
    lang : {'zh', 'en'}
        Language of the labels.
    version : str, optional
        Software version shown on the cover; ``auditlib.__version__`` when omitted.

    Returns
    -------
    Path
        The workbook written.
    """
    if version is None:
        from auditlib import __version__ as version
    path = Path(path)
    unit_code = str(unit_code)
    findings = _select(findings, unit_code, inspection)
    rules = _rules_of(inspection, findings, evidence)
    applied = params.for_unit(unit_code)
    with atomic_write(path, "wb") as fh:
        wb = xlsxwriter.Workbook(fh, {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "nan_inf_to_errors": False, "remove_timezone": True})
        try:
            w = _Writer(wb, lang)
            ctx = {"unit_code": unit_code, "unit_name": str(unit_name or ""), "inspection": inspection,
                   "params": params, "applied": applied, "run_id": str(run_id), "sources": sources or [],
                   "version": str(version), "findings": findings, "rules": rules}
            wb.set_properties({"title": f"{t('wb.title', lang)} {unit_code} {inspection}",
                               "subject": str(run_id), "comments": f"auditlib {version}"})
            _cover(w, ctx)
            _summary(w, ctx)
            for rule in rules:
                ev = evidence.get(rule.id)
                _rule_sheet(w, ctx, rule, _unit_rows(ev, unit_code))
            _certificate(w, ctx)
        finally:
            wb.close()
    return path


# --------------------------------------------------------------------------- selecting rows

def _select(findings: pd.DataFrame | None, unit_code: str, inspection: str) -> pd.DataFrame:
    """The findings of this unit and inspection (all of them when those columns are absent)."""
    if findings is None:
        return pd.DataFrame(columns=["inspection", "rule_id", "unit_code", "ref", "amount", "severity",
                                     "title", "detail"])
    f = findings
    if "unit_code" in f.columns and len(f):
        f = f[f["unit_code"].astype(str) == unit_code]
    if "inspection" in f.columns and len(f):
        f = f[f["inspection"].astype(str) == inspection]
    return f.reset_index(drop=True)


def _unit_rows(ev: pd.DataFrame | None, unit_code: str) -> pd.DataFrame | None:
    if ev is None or "unit_code" not in ev.columns or not len(ev):
        return ev
    return ev[ev["unit_code"].astype(str) == unit_code].reset_index(drop=True)


def _rules_of(inspection: str, findings: pd.DataFrame, evidence: dict) -> list[Rule]:
    """The catalogue's rules of ``inspection``, then rule ids the catalogue does not know."""
    rules = rules_for(inspection)
    known = {r.id for r in rules}
    extra = list(findings["rule_id"].astype(str)) if "rule_id" in findings.columns else []
    extra += [str(k) for k in (evidence or {}) if not _catalogued(str(k))]
    for rid in extra:
        if rid not in known:
            known.add(rid)
            rules.append(Rule(rid, inspection, rid, rid, ""))
    return rules


def _catalogued(rule_id: str) -> bool:
    try:
        get_rule(rule_id)
    except KeyError:
        return False
    return True


# --------------------------------------------------------------------------- cell writing

def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(isinstance(value, np.datetime64) and np.isnat(value))


def _display_width(text: str) -> int:
    """Columns a text takes: East-Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class _Writer:
    """Formats of one workbook and typed cell writing with column-width tracking."""

    def __init__(self, wb: xlsxwriter.Workbook, lang: str):
        self.wb, self.lang = wb, lang
        base = {"font_name": "宋体" if lang == "zh" else "Calibri", "font_size": 10, "valign": "top"}
        self._base = base
        self._cache: dict[tuple, object] = {}
        self._props_of: dict[int, dict] = {}
        self.used_names: set[str] = set()
        self.widths: dict[int, dict[int, int]] = {}

    def t(self, key: str, **kw) -> str:
        return t(key, self.lang, **kw)

    def fmt(self, **props):
        """The format with these properties (on top of the base font), created once."""
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            f = self.wb.add_format({**self._base, **props})
            self._cache[key] = f
            self._props_of[id(f)] = props
        return self._cache[key]

    props = fmt

    # named formats
    def title(self):
        return self.fmt(bold=True, font_size=16, align="center", valign="vcenter")

    def heading(self):
        return self.fmt(bold=True, font_size=11)

    def header(self):
        return self.fmt(bold=True, border=1, bg_color="#D9E1F2", text_wrap=True, align="center",
                        valign="vcenter")

    def label(self):
        return self.fmt(bold=True, border=1, bg_color="#F2F2F2")

    def editable(self, **props):
        """A cell the auditor fills in: unlocked on the protected sheet, highlighted."""
        return self.fmt(border=1, locked=False, bg_color=form.EDITABLE_FILL, **props)

    def add_sheet(self, name: str):
        ws = self.wb.add_worksheet(self._sheet_name(name))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_footer("&C" + self.t("wb.footer"))
        ws.protect("", _PROTECTION)  # no password: a guard against careless edits, not a lock
        self.widths[id(ws)] = {}
        return ws

    def _sheet_name(self, name: str) -> str:
        clean = "".join("_" if ch in _BAD_SHEET_CHARS else ch for ch in str(name)).strip("'") or "Sheet"
        clean = clean[:31]
        candidate, i = clean, 2
        while candidate.lower() in self.used_names:
            suffix = f"_{i}"
            candidate = clean[:31 - len(suffix)] + suffix
            i += 1
        self.used_names.add(candidate.lower())
        return candidate

    def _track(self, ws, col: int, width: int) -> None:
        w = self.widths[id(ws)]
        w[col] = max(w.get(col, 0), width)

    def text(self, ws, row: int, col: int, value, fmt=None, track: bool = True) -> None:
        """Text, always as a string cell (never a formula, number or link)."""
        value = "" if _is_missing(value) else str(value)
        if len(value) > MAX_CELL_CHARS:  # Excel keeps no more: cut it, and say so in the cell
            marker = self.t("wb.truncated", n=len(value))
            value = value[:MAX_CELL_CHARS - len(marker)] + marker
        if starts_formula(value):  # Excel's quote prefix shows it as text, even when retyped
            fmt = self._quoted(fmt)
        ws.write_string(row, col, value, fmt)
        if track:
            self._track(ws, col, max((_display_width(line) for line in value.split("\n")), default=0))

    def _quoted(self, fmt):
        """The same format with Excel's quote prefix (text that looks like a formula stays text)."""
        props = dict(self._props_of.get(id(fmt), {})) if fmt is not None else {}
        props["quote_prefix"] = True
        return self.fmt(**props)

    def cell(self, ws, row: int, col: int, value, percent: bool = False, border: bool = True) -> None:
        """One value by its type: money, date, number or text (a float as a percentage when ``percent``)."""
        b = {"border": 1} if border else {}
        if _is_missing(value):
            ws.write_blank(row, col, None, self.props(**b))
        elif isinstance(value, (bool, np.bool_)):
            self.text(ws, row, col, self.t("wb.yes" if value else "wb.no"), self.props(**b))
        elif isinstance(value, Decimal):
            if not value.is_finite():
                self.text(ws, row, col, str(value), self.props(**b))
                return
            num_format = _MONEY if value.as_tuple().exponent >= -2 else "#,##0.00##"
            ws.write_number(row, col, float(value), self.props(num_format=num_format, **b))
            self._track(ws, col, len(f"{value:,.2f}") + 1)
        elif isinstance(value, (dt.datetime, pd.Timestamp, np.datetime64)):
            value = pd.Timestamp(value)
            if value.tzinfo is not None:
                value = value.tz_convert(None)
            value = value.to_pydatetime()
            timed = value.time() != dt.time(0)
            ws.write_datetime(row, col, value, self.props(num_format=_DATETIME if timed else _DATE, **b))
            self._track(ws, col, 19 if timed else 10)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, value, self.props(num_format=_DATE, **b))
            self._track(ws, col, 10)
        elif isinstance(value, numbers.Integral):
            value = int(value)
            if abs(value) > 2 ** 53:  # not exact in a double: keep the digits as text
                self.text(ws, row, col, str(value), self.props(**b))
                return
            ws.write_number(row, col, value, self.props(num_format="0", **b))
            self._track(ws, col, len(str(value)))
        elif isinstance(value, numbers.Real):
            value = float(value)
            if not math.isfinite(value):
                self.text(ws, row, col, str(value), self.props(**b))
                return
            if percent:
                ws.write_number(row, col, value, self.props(num_format="0.00%", **b))
                self._track(ws, col, 8)
            else:
                ws.write_number(row, col, value, self.props(num_format=_NUMBER, **b))
                self._track(ws, col, len(f"{value:,.4f}"))
        else:
            self.text(ws, row, col, value, self.props(**b))

    def money(self, ws, row: int, col: int, value, **props) -> None:
        if _is_missing(value):
            ws.write_blank(row, col, None, self.props(**props))
            return
        value = Decimal(value)
        ws.write_number(row, col, float(value), self.props(num_format=_MONEY, **props))
        self._track(ws, col, len(f"{value:,.2f}") + 1)

    def blank(self, ws, row: int, col: int, **props) -> None:
        ws.write_blank(row, col, None, self.props(**props))

    def fit_columns(self, ws, minimum: dict[int, int] | None = None, maximum: int = _MAX_WIDTH) -> None:
        """Column widths from the widest cell, between ``_MIN_WIDTH`` and ``maximum``."""
        widths = dict(self.widths[id(ws)])
        for col, w in (minimum or {}).items():
            widths[col] = max(widths.get(col, 0), w)
        for col, w in widths.items():
            ws.set_column(col, col, min(max(w + 2, _MIN_WIDTH), maximum))


def _amount_total(values) -> Decimal | None:
    present = [Decimal(v) for v in values if not _is_missing(v)]
    return sum(present, Decimal(0)) if present else None


def _fmt_amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _inspection_label(inspection: str, lang: str) -> str:
    return inspection_label(inspection, lang)


# --------------------------------------------------------------------------- sheets

def _cover(w: _Writer, ctx: dict) -> None:
    ws = w.add_sheet(w.t("wb.sheet.cover"))
    ws.set_portrait()
    lang = w.lang
    label, value = w.label(), w.props(border=1)
    ws.merge_range(0, 0, 0, 4, "", w.title())
    w.text(ws, 0, 0, w.t("wb.title"), w.title(), track=False)
    insp = _inspection_label(ctx["inspection"], lang)
    ws.merge_range(1, 0, 1, 4, "", w.fmt(bold=True, font_size=12, align="center"))
    w.text(ws, 1, 0, w.t("wb.subtitle", inspection=insp), w.fmt(bold=True, font_size=12, align="center"),
           track=False)
    ws.set_row(0, 28)

    row = 3
    info = [("wb.unit_code", ctx["unit_code"]), ("wb.unit_name", ctx["unit_name"]),
            ("wb.inspection", insp),
            ("wb.as_of", ctx["params"].as_of), ("wb.fiscal_year", ctx["params"].fiscal_year),
            ("wb.run_id", ctx["run_id"]), ("wb.version", f"auditlib {ctx['version']}")]
    for key, v in info:
        w.text(ws, row, 0, w.t(key), label)
        ws.merge_range(row, 1, row, 4, "", value)
        if isinstance(v, str):
            w.text(ws, row, 1, v, w.props(border=1, align="left"), track=False)
        else:
            w.cell(ws, row, 1, v)
        row += 1

    # data sources
    row += 1
    w.text(ws, row, 0, w.t("wb.sources"), w.heading(), track=False)
    row += 1
    heads = ["wb.src.file", "wb.src.table", "wb.src.rows", "wb.src.sha256"]
    for c, key in enumerate(heads):
        w.text(ws, row, c, w.t(key), w.header())
    row += 1
    if not ctx["sources"]:
        w.text(ws, row, 0, w.t("wb.no_sources"), value)
        row += 1
    for src in ctx["sources"]:
        w.text(ws, row, 0, src.get("file"), value)
        w.text(ws, row, 1, src.get("table"), value)
        rows = src.get("rows")
        if isinstance(rows, numbers.Integral) and not isinstance(rows, bool):
            w.cell(ws, row, 2, rows)
        else:
            w.text(ws, row, 2, rows, value)
        w.text(ws, row, 3, src.get("sha256"), w.props(border=1, font_name="Consolas"))
        row += 1

    # parameters applied
    row += 1
    w.text(ws, row, 0, w.t("wb.params"), w.heading(), track=False)
    row += 1
    for c, key in enumerate(["wb.par.rule", "wb.par.name", "wb.par.label", "wb.par.value", "wb.par.override"]):
        w.text(ws, row, c, w.t(key), w.header())
    row += 1
    overrides = ctx["params"].units.get(ctx["unit_code"], {})
    for rule in ctx["rules"]:
        values = ctx["applied"].get(rule.id, {})
        names = [p.name for p in rule.params] + [n for n in values if n not in {p.name for p in rule.params}]
        if not names:
            w.text(ws, row, 0, f"{rule.id} {rule.title(lang)}", value)
            w.text(ws, row, 1, w.t("wb.par.none"), value)
            for c in (2, 3, 4):
                w.blank(ws, row, c, border=1)
            row += 1
            continue
        for name in names:
            w.text(ws, row, 0, f"{rule.id} {rule.title(lang)}", value)
            w.text(ws, row, 1, name, value)
            try:
                prm = rule.param(name)
                w.text(ws, row, 2, prm.zh if lang == "zh" else prm.en, value)
                ptype = prm.type
            except KeyError:
                w.blank(ws, row, 2, border=1)
                ptype = ""
            v = values.get(name)
            if _is_missing(v) or isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
                w.cell(ws, row, 3, v)
            elif ptype == "money":
                w.money(ws, row, 3, v, border=1)
            elif ptype == "ratio":  # a share as a percentage: 0.015 -> 1.5%
                ws.write_number(row, 3, float(v), w.props(border=1, num_format=_PERCENT))
                w._track(ws, 3, 8)
            elif ptype in ("days", "count") or Decimal(v) == Decimal(v).to_integral():
                w.cell(ws, row, 3, int(v))
            else:
                ws.write_number(row, 3, float(v), w.props(border=1, num_format=_NUMBER))
                w._track(ws, 3, 12)
            w.text(ws, row, 4, w.t("wb.yes") if name in overrides.get(rule.id, {}) else "", value)
            row += 1

    # preparer, verifier and reviewer: their names are the ``by`` of the decisions read back
    row += 1
    for who in ("wb.preparer", "wb.verifier", "wb.reviewer"):
        w.text(ws, row, 0, w.t(who), label)
        ws.write_blank(row, 1, None, w.editable())
        w.text(ws, row, 2, w.t("wb.date"), label)
        ws.write_blank(row, 3, None, w.editable(num_format=_DATE))
        ws.set_row(row, 24)
        row += 1

    w.fit_columns(ws, minimum={0: 16, 1: 16, 3: 16}, maximum=70)
    ws.set_column(4, 4, 16)


def _summary(w: _Writer, ctx: dict) -> None:
    ws = w.add_sheet(w.t("wb.sheet.summary"))
    lang, f = w.lang, ctx["findings"]
    insp = _inspection_label(ctx["inspection"], lang)
    w.text(ws, 0, 0, f"{ctx['unit_name']}（{ctx['unit_code']}） {w.t('wb.subtitle', inspection=insp)}"
           if lang == "zh" else f"{ctx['unit_name']} ({ctx['unit_code']}) {w.t('wb.subtitle', inspection=insp)}",
           w.heading(), track=False)
    w.text(ws, 1, 0, w.t("wb.sum.note"), w.fmt(italic=True, font_color="#595959"), track=False)
    head = 3
    split_cols = [(Status.OPEN, True), (Status.CONFIRMED, True), (Status.RECTIFIED, True), (Status.DISMISSED, False)]
    cols = ["wb.sum.rule", "wb.sum.title", "wb.sum.basis", "wb.sum.count", "wb.sum.high"]
    for status, with_money in split_cols:
        cols.append(f"wb.sum.n.{status.value}")
        if with_money:
            cols.append(f"wb.sum.m.{status.value}")
    for c, key in enumerate(cols):
        w.text(ws, head, c, w.t(key), w.header())
    row = head + 1
    total_n = total_high = 0
    totals: dict[Status, vf.Tally] = {s: vf.Tally() for s, _ in split_cols}
    cell = w.props(border=1)
    for rule in ctx["rules"]:
        mine = f[f["rule_id"].astype(str) == rule.id] if len(f) else f
        n = len(mine)
        high = int((mine["severity"].astype(str) == "high").sum()) if n else 0
        tallies = vf.split(mine)
        w.text(ws, row, 0, rule.id, cell)
        w.text(ws, row, 1, rule.title(lang), cell)
        w.text(ws, row, 2, rule.basis, cell)
        w.cell(ws, row, 3, n)
        w.cell(ws, row, 4, high)
        _write_split(w, ws, row, 5, split_cols, tallies)
        total_n += n
        total_high += high
        totals = {s: _add(totals[s], tallies[s]) for s in totals}
        row += 1
    bold = w.props(border=1, bold=True)
    w.text(ws, row, 0, w.t("wb.sum.total"), bold)
    w.blank(ws, row, 1, border=1, bold=True)
    w.blank(ws, row, 2, border=1, bold=True)
    ws.write_number(row, 3, total_n, w.props(border=1, bold=True, num_format="0"))
    ws.write_number(row, 4, total_high, w.props(border=1, bold=True, num_format="0"))
    _write_split(w, ws, row, 5, split_cols, totals, bold=True)
    ws.freeze_panes(head + 1, 0)
    ws.autofilter(head, 0, row - 1, len(cols) - 1)
    ws.repeat_rows(head)
    w.fit_columns(ws, minimum={c: 10 for c in range(3, len(cols))})


def _write_split(w: _Writer, ws, row: int, col: int, split_cols, tallies: dict, bold: bool = False) -> None:
    """Count (and money, but never for 排除) of each status, from column ``col`` on."""
    for status, with_money in split_cols:
        tally = tallies[status]
        ws.write_number(row, col, tally.count, w.props(border=1, bold=bold, num_format="0"))
        w._track(ws, col, len(str(tally.count)))
        col += 1
        if with_money:
            w.money(ws, row, col, tally.money, border=1, bold=bold)
            col += 1


def _add(a: vf.Tally, b: vf.Tally) -> vf.Tally:
    money = a.money if b.money is None else (b.money if a.money is None else a.money + b.money)
    return vf.Tally(a.count + b.count, money)


def _evidence_columns(ev: pd.DataFrame) -> list[str]:
    cols = [c for c in ev.columns if c not in _OMIT]
    lead = [c for c in _LEAD if c in cols]
    tail = [c for c in _TAIL if c in cols]
    return lead + [c for c in cols if c not in lead and c not in tail] + tail


def _common_label(name: str, lang: str) -> str:
    """The header of a column every rule's evidence has (the certificate's columns)."""
    zh, en = COMMON_COLUMNS[name]
    return zh if lang == "zh" else en


def _rule_sheet(w: _Writer, ctx: dict, rule: Rule, ev: pd.DataFrame | None) -> None:
    ws = w.add_sheet(rule.id)
    lang = w.lang
    w.text(ws, 0, 0, f"{rule.id} {rule.title(lang)}", w.heading(), track=False)
    if rule.basis:
        w.text(ws, 1, 0, w.t("wb.rule.basis", basis=rule.basis), track=False)
    shown = param_text(rule, ctx["applied"].get(rule.id, {}), lang)
    w.text(ws, 2, 0, w.t("wb.rule.params", params=shown or w.t("wb.no_params")), track=False)
    head = 5
    if ev is None or not len(ev):
        w.text(ws, 3, 0, w.t("wb.none"), w.fmt(bold=True, font_color="#375623"), track=False)
        ws.freeze_panes(head, 0)
        ws.set_column(0, 0, 12)
        return
    amount = _amount_total(ev["amount"]) if "amount" in ev.columns else None
    found = (w.t("wb.rule.found", n=len(ev), amount=_fmt_amount(amount)) if amount is not None
             else w.t("wb.rule.found_noamount", n=len(ev)))
    w.text(ws, 3, 0, found, w.fmt(bold=True, font_color="#C00000"), track=False)

    w.text(ws, 4, 0, w.t("wb.rule.form"), w.fmt(italic=True, font_color="#595959"), track=False)

    cols = _evidence_columns(ev)
    form_keys = ("wb.col.finding_id", "wb.col.conclusion", "wb.col.explanation", "wb.col.confirmed_amount")
    headers = [w.t("wb.col.no")] + [_header_of(rule, c, lang) for c in cols] + [w.t(k) for k in form_keys]
    for c, text in enumerate(headers):
        w.text(ws, head, c, text, w.header())
    ids = _evidence_ids(ev, rule.id, ctx["unit_code"])
    decided = _decisions(ctx["findings"], rule.id)
    c_id, c_status, c_reason, c_amount = (len(cols) + 1 + i for i in range(4))
    for i, (rec, fid) in enumerate(zip(ev[cols].itertuples(index=False, name=None), ids)):
        row = head + 1 + i
        w.cell(ws, row, 0, i + 1)
        for c, (name, v) in enumerate(zip(cols, rec), start=1):
            if name in ENUM_LABELS and isinstance(v, str):  # code values in the sheet's language
                w.text(ws, row, c, enum_label(name, v, lang),
                       w.props(border=1, align="center") if name == "severity" else w.props(border=1))
            elif name in ("detail", "memo", "summary") and isinstance(v, str):
                w.text(ws, row, c, v, w.props(border=1, text_wrap=True))
            else:
                w.cell(ws, row, c, v, percent=name in rule.percent)
        w.text(ws, row, c_id, fid, w.props(border=1, font_name="Consolas"))
        status, reason, amount = decided.get(fid, (None, "", None))
        if status is None:
            ws.write_blank(row, c_status, None, w.editable())
        else:
            w.text(ws, row, c_status, status.label(lang), w.editable())
        w.text(ws, row, c_reason, reason, w.editable(text_wrap=True), track=False)
        if amount is None:
            ws.write_blank(row, c_amount, None, w.editable(num_format=_MONEY))
        else:
            w.money(ws, row, c_amount, amount, border=1, locked=False, bg_color=form.EDITABLE_FILL)
    last = head + len(ev)
    words = [s.label(lang) for s in (Status.OPEN, Status.CONFIRMED, Status.DISMISSED, Status.RECTIFIED)]
    ws.data_validation(head + 1, c_status, last, c_status, {
        "validate": "list", "source": words, "error_type": "stop",
        "error_title": w.t("wb.form.title"), "error_message": w.t("wb.form.bad_status", words=" / ".join(words))})
    ws.data_validation(head + 1, c_amount, last, c_amount, {
        "validate": "decimal", "criteria": ">=", "value": 0, "error_type": "stop",
        "error_title": w.t("wb.col.confirmed_amount"), "error_message": w.t("wb.form.bad_amount")})
    ws.freeze_panes(head + 1, 2)
    ws.autofilter(head, 0, last, len(headers) - 1)
    ws.repeat_rows(head)
    w.fit_columns(ws, minimum={c_id: 14, c_status: 10, c_reason: 30, c_amount: 14})


def _header_of(rule: Rule, column: str, lang: str) -> str:
    """An evidence column's header; the ``ref`` column's is the one the importer looks for."""
    if column == "ref":
        zh, en = form.REF_HEADER
        return zh if lang == "zh" else en
    return rule.label(column, lang)


def _evidence_ids(ev: pd.DataFrame, rule_id: str, unit_code: str) -> list[str]:
    """The ``finding_id`` of each evidence row: from its rule, its unit and its ``ref``."""
    if "ref" not in ev.columns:
        return [""] * len(ev)
    keys = pd.DataFrame({"rule_id": rule_id,
                         "unit_code": ev["unit_code"].astype(str) if "unit_code" in ev.columns else unit_code,
                         "ref": ev["ref"].astype(str)}, index=ev.index)
    return list(finding_ids(keys))


def _decisions(findings: pd.DataFrame, rule_id: str) -> dict[str, tuple]:
    """``finding_id`` -> (Status or None, 核实说明, 认定金额) of the rule's findings the register
    decided (nothing for a findings frame without the register's columns)."""
    if not len(findings) or not ({"status", "status_reason", "confirmed_amount"} & set(findings.columns)):
        return {}
    mine = findings[findings["rule_id"].astype(str) == rule_id]
    ids = mine["finding_id"] if "finding_id" in mine.columns else finding_ids(mine)
    out = {}
    for fid, status, reason, amount in zip(ids, vf.statuses(mine), vf.reasons(mine), vf.confirmed_amounts(mine)):
        if status is not Status.OPEN or reason or amount is not None:
            out[str(fid)] = (None if status is Status.OPEN else status, reason, amount)
    return out


def _certificate(w: _Writer, ctx: dict) -> None:
    """The 取证单 of the 属实 and 已整改 findings; without any, the 疑点核实清单 instead."""
    f = ctx["findings"]
    problems = f[[s in vf.PROBLEMS for s in vf.statuses(f)]] if len(f) else f
    if len(problems):
        _evidence_certificate(w, ctx, problems)
    else:
        _checklist(w, ctx)


def _ordered(ctx: dict, f: pd.DataFrame) -> pd.DataFrame:
    """Findings in the order of the rule sheets, then by evidence row."""
    if not len(f):
        return f
    order = {r.id: i for i, r in enumerate(ctx["rules"])}
    return f.assign(_o=f["rule_id"].astype(str).map(order)).sort_values(["_o", "ref"], kind="stable")


def _paper_heading(w: _Writer, ws, ctx: dict, title_key: str, last_col: int) -> None:
    """The title row, the unit and the inspection line of a one-page paper (取证单, 疑点核实清单)."""
    ws.merge_range(0, 0, 0, last_col, "", w.title())
    w.text(ws, 0, 0, w.t(title_key), w.title(), track=False)
    ws.set_row(0, 28)
    insp = _inspection_label(ctx["inspection"], w.lang)
    w.text(ws, 1, 0, w.t("wb.cert.unit", unit_name=ctx["unit_name"], unit_code=ctx["unit_code"]), track=False)
    w.text(ws, 2, 0, w.t("wb.cert.inspection", inspection=insp, as_of=ctx["params"].as_of.isoformat(),
                         run_id=ctx["run_id"]), track=False)


def _checklist(w: _Writer, ctx: dict) -> None:
    """疑点核实清单: the open findings to verify, a plain list (the form cells are on the rule sheets)."""
    ws = w.add_sheet(w.t("wb.sheet.checklist"))
    lang, f = w.lang, ctx["findings"]
    open_ = _ordered(ctx, f[[s is Status.OPEN for s in vf.statuses(f)]] if len(f) else f)
    last_col = 6
    _paper_heading(w, ws, ctx, "wb.check.title", last_col)
    w.text(ws, 3, 0, w.t("wb.check.note"), w.fmt(italic=True, font_color="#595959"), track=False)
    head = 5
    heads = [w.t("wb.col.no"), w.t("wb.col.finding_id"), w.t("wb.col.rule_id"), w.t("wb.col.lead_title"),
             _common_label("ref", lang), w.t("wb.sum.m.open"), _common_label("detail", lang)]
    for c, text in enumerate(heads):
        w.text(ws, head, c, text, w.header())
    titles = {r.id: r.title(lang) for r in ctx["rules"]}
    ids = open_["finding_id"] if "finding_id" in open_.columns else finding_ids(open_)
    cell = w.props(border=1)
    row = head + 1
    for i, (rec, fid, exp) in enumerate(zip(open_.itertuples(index=False), ids, vf.exposure(open_))):
        w.cell(ws, row, 0, i + 1)
        w.text(ws, row, 1, fid, w.props(border=1, font_name="Consolas"))
        w.text(ws, row, 2, rec.rule_id, cell)
        w.text(ws, row, 3, titles.get(str(rec.rule_id), getattr(rec, "title", "")), cell)
        w.text(ws, row, 4, rec.ref, cell)
        w.money(ws, row, 5, exp, border=1)
        w.text(ws, row, 6, rec.detail, w.props(border=1, text_wrap=True))
        row += 1
    if not len(open_):
        ws.merge_range(row, 0, row, last_col, "", cell)
        w.text(ws, row, 0, w.t("wb.check.none"), cell, track=False)
        row += 1
    bold = w.props(border=1, bold=True)
    w.text(ws, row, 0, w.t("wb.sum.total"), bold, track=False)
    w.text(ws, row, 1, w.t("wb.cert.total", n=len(open_)), bold, track=False)
    for c in (2, 3, 4, 6):
        w.blank(ws, row, c, border=1, bold=True)
    w.money(ws, row, 5, vf.split(open_)[Status.OPEN].money, border=1, bold=True)
    ws.freeze_panes(head + 1, 0)
    if len(open_):
        ws.autofilter(head, 0, row - 1, last_col)
    ws.repeat_rows(head)
    ws.print_area(0, 0, row, last_col)
    w.fit_columns(ws, minimum={0: 6, 1: 14, 2: 10, 3: 20, 4: 18, 5: 14, 6: 40})


def _evidence_certificate(w: _Writer, ctx: dict, problems: pd.DataFrame) -> None:
    """取证单: the 属实 and 已整改 findings with their conclusion, 认定金额 and 核实说明."""
    ws = w.add_sheet(w.t("wb.sheet.certificate"))
    lang = w.lang
    # No., rule, issue, evidence row, amount, confirmed amount, conclusion, detail, explanation
    last_col = 8
    _paper_heading(w, ws, ctx, "wb.cert.title", last_col)
    w.text(ws, 4, 0, w.t("wb.cert.matters"), w.heading(), track=False)
    head = 5
    heads = [w.t("wb.col.no"), w.t("wb.col.rule_id"), w.t("wb.col.title"), _common_label("ref", lang),
             _common_label("amount", lang), w.t("wb.cert.confirmed_amount"), w.t("wb.cert.status"),
             _common_label("detail", lang), w.t("wb.cert.explanation")]
    for c, text in enumerate(heads):
        w.text(ws, head, c, text, w.header())
    rows = _ordered(ctx, problems)
    titles = {r.id: r.title(lang) for r in ctx["rules"]}
    row = head + 1
    cell = w.props(border=1)
    extra = zip(vf.statuses(rows), vf.confirmed_amounts(rows), vf.reasons(rows))
    for i, (rec, (status, confirmed, reason)) in enumerate(zip(rows.itertuples(index=False), extra)):
        w.cell(ws, row, 0, i + 1)
        w.text(ws, row, 1, rec.rule_id, cell)
        w.text(ws, row, 2, titles.get(str(rec.rule_id), getattr(rec, "title", "")), cell)
        w.text(ws, row, 3, rec.ref, cell)
        w.money(ws, row, 4, rec.amount, border=1)
        w.money(ws, row, 5, confirmed, border=1)
        w.text(ws, row, 6, status.label(lang), cell)
        w.text(ws, row, 7, rec.detail, w.props(border=1, text_wrap=True))
        w.text(ws, row, 8, reason, w.props(border=1, text_wrap=True), track=False)
        row += 1
    bold = w.props(border=1, bold=True)
    w.text(ws, row, 0, w.t("wb.sum.total"), bold, track=False)
    w.text(ws, row, 1, w.t("wb.cert.total", n=len(rows)), bold, track=False)
    for c in (2, 3, 6, 7, 8):
        w.blank(ws, row, c, border=1, bold=True)
    w.money(ws, row, 4, _amount_total(rows["amount"]), border=1, bold=True)
    counted = [m for m in vf.counted(rows) if m is not None]
    w.money(ws, row, 5, sum(counted, Decimal(0)) if counted else None, border=1, bold=True)
    row += 2

    # the unit's opinion: a bordered box
    w.text(ws, row, 0, w.t("wb.cert.opinion"), w.heading(), track=False)
    row += 1
    ws.merge_range(row, 0, row + 5, last_col, "", w.props(border=2, valign="top", text_wrap=True))
    row += 7

    # signatures, seal and dates
    line = w.props(bottom=1)
    for key in ("wb.cert.unit_head", "wb.cert.seal", "wb.cert.auditors", "wb.cert.reviewer"):
        ws.merge_range(row, 0, row, 1, "", w.props(bold=True))
        w.text(ws, row, 0, w.t(key), w.props(bold=True), track=False)
        ws.merge_range(row, 2, row, 3, "", line)
        w.text(ws, row, 4, w.t("wb.date") + ("：" if lang == "zh" else ":"), w.props(bold=True, align="right"),
               track=False)
        w.blank(ws, row, 5, bottom=1)
        ws.set_row(row, 30)
        row += 2

    ws.freeze_panes(head + 1, 0)
    ws.repeat_rows(head)
    ws.print_area(0, 0, row, last_col)
    w.fit_columns(ws, minimum={0: 6, 1: 10, 2: 20, 3: 18, 4: 14, 5: 14, 6: 8, 7: 40, 8: 24})
