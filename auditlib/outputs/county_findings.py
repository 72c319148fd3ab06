"""``county-findings.xlsx``: the county list of findings (问题清单) for the bureau director (CONTRACT §4).

Four sheets, written with xlsxwriter:

* ``按问题性质汇总`` — per rule (grouped by inspection, with a subtotal per inspection and the
  county total): findings, and per status (待核实 / 属实 / 已整改 / 排除) the count and money,
  the counted total, 涉及资金（去重） and 逾期利息 (beside, never added);
* ``按单位汇总`` — the same per unit, with the counted money per inspection (a unit × inspection
  pivot);
* ``清单`` — one row per finding of the run: unit, inspection, rule, 疑点编号, evidence ref, what
  was found, status, 涉及金额, 逾期利息, 认定金额, 核实说明 (and, with a baseline, 对比上次), 依据 and
  处理建议; the last two are the same for every finding of a rule and are left out of the print area;
* ``依据与处理建议`` — per rule with findings its 依据, 处理依据 and 处理建议, printed once.

Every figure comes from :mod:`auditlib.outputs.county_data` (:func:`~auditlib.outputs.verification.split`
and :mod:`auditlib.outputs.totals`), so the sheets agree with ``findings.csv``.  Money is written
as exact numbers with ``#,##0.00``, unit codes and every other text with ``write_string`` (never a
formula: ``strings_to_formulas`` off, text that would start one neutralised with a leading ``'``).
Each sheet prints on A4 landscape, fitted to the page width, its header rows repeated, with text
no smaller than 8 pt; the header row is frozen and filtered.  The file is written whole or not at
all (:func:`auditlib.common.files.atomic_path`).
"""
from __future__ import annotations

import math
import os
import unicodedata
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from auditlib.common.cells import neutralise
from auditlib.common.files import atomic_path
from auditlib.i18n import register, t
from auditlib.outputs import verification as vf
from auditlib.outputs.county_data import (CountyInput, Figures, by_inspection, by_rule, by_unit, figures,
                                          ordered, rule_of, rule_title)
from auditlib.outputs.formats import inspection_label
from auditlib.review.statuses import Status

register({
    "cf.title": ("检查发现疑点及问题清单", "Findings of the inspection"),
    "cf.sheet.rules": ("按问题性质汇总", "By rule"),
    "cf.sheet.units": ("按单位汇总", "By unit"),
    "cf.sheet.list": ("清单", "List"),
    "cf.sheet.basis": ("依据与处理建议", "Basis and handling"),
    "cf.title.basis": ("检查依据与处理建议（按规则）", "Basis and suggested handling by rule"),
    "cf.penalty": ("处理依据", "Penalty basis"),
    "cf.title.rules": ("疑点及问题汇总表（按问题性质）", "Findings by rule"),
    "cf.title.units": ("疑点及问题汇总表（按单位）", "Findings by unit"),
    "cf.title.list": ("疑点及问题清单", "List of findings"),
    "cf.scope": ("检查范围：{scope}；检查截止日：{as_of}；批次号：{run_id}",
                 "Scope: {scope}; cut-off: {as_of}; run: {run_id}"),
    "cf.note": ("说明：数据分析发现的为疑点，须经核实并取得被检查单位确认后方可定性，核实为属实的才是问题。"
                "合计＝待核实＋属实＋已整改，属实按认定金额（未填则按涉及金额）计；排除的不计入合计；"
                "逾期利息另列，不计入合计。",
                "Note: data analysis finds leads; only a lead verified as confirmed is a problem. Total = open + "
                "confirmed + rectified, confirmed ones at the confirmed amount (else their exposure); dismissed "
                "ones count in no total; late-payment interest is shown apart, never added."),
    "cf.inspection": ("检查事项", "Inspection"),
    "cf.rule": ("规则编号", "Rule"),
    "cf.rule_title": ("检查内容", "What is checked"),
    "cf.unit_code": ("单位编码", "Unit code"),
    "cf.unit_name": ("单位名称", "Unit"),
    "cf.n": ("疑点(条)", "Findings"),
    "cf.n.open": ("待核实(条)", "Open"),
    "cf.m.open": ("待核实金额(元)", "Open (yuan)"),
    "cf.n.confirmed": ("属实(条)", "Confirmed"),
    "cf.m.confirmed": ("属实金额(元)", "Confirmed (yuan)"),
    "cf.n.rectified": ("已整改(条)", "Rectified"),
    "cf.m.rectified": ("已整改金额(元)", "Rectified (yuan)"),
    "cf.n.dismissed": ("排除(条)", "Dismissed"),
    "cf.n.total": ("合计(条)", "Counted"),
    "cf.m.total": ("合计金额(元)", "Total (yuan)"),
    "cf.dedup": ("涉及资金（去重）(元)", "De-duplicated (yuan)"),
    "cf.interest": ("逾期利息(元)", "Interest (yuan)"),
    "cf.m.inspection": ("{inspection}(元)", "{inspection} (yuan)"),
    "cf.subtotal": ("{inspection} 小计", "{inspection} subtotal"),
    "cf.total": ("合计", "Total"),
    "cf.seq": ("序号", "No."),
    "cf.rule_with_id": ("检查内容（规则编号）", "What is checked (rule)"),
    "cf.finding_id": ("疑点编号", "Finding id"),
    "cf.ref": ("证据", "Evidence"),
    "cf.detail": ("情况说明", "What was found"),
    "cf.status": ("核实状态", "Status"),
    "cf.exposure": ("涉及金额(元)", "Exposure (yuan)"),
    "cf.confirmed": ("认定金额(元)", "Confirmed amount (yuan)"),
    "cf.reason": ("核实说明", "Explanation"),
    "cf.basis": ("依据", "Basis"),
    "cf.advice": ("处理建议", "Suggested handling"),
    "cf.change": ("对比上次", "Against baseline"),
    "cf.none_tested": ("已运行的规则本批次未发现疑点；部分规则未检查（见检查情况报告“检查范围”）。",
                       "The rules that ran found no leads; some rules were not tested (see the report's Scope)."),
    "cf.none": ("本批次未发现疑点。", "No findings in this run."),
    "cf.failed": ("未完成的检查任务（其结果未列入本表）：{tasks}", "Tasks not finished (not in this list): {tasks}"),
    "cf.footer": ("第 &P 页，共 &N 页", "Page &P of &N"),
})

#: Excel's limit of characters in one cell
MAX_CELL_CHARS = 32767
_MONEY = "#,##0.00"
_COUNT = "0"
#: the font of every cell; 10 pt on screen, never below 8 pt printed (the page scale stays ≥ 80 %)
_FONT = {"zh": "宋体", "en": "Calibri"}
_SIZE = 10
#: a line of 10 pt text: its row height (points) and the column width units one half-width character takes
_LINE_HEIGHT = 13.5
_UNITS_PER_CHAR = 0.95
#: statuses whose count and money the summaries show, in order (排除: a count only)
_SPLIT = (Status.OPEN, Status.CONFIRMED, Status.RECTIFIED)


def write_county_findings(inp: CountyInput, path: str | os.PathLike) -> Path:
    """Write ``county-findings.xlsx`` for ``inp`` to ``path`` (whole or not at all); return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "nan_inf_to_errors": False})
        try:
            w = _Writer(wb, inp)
            wb.set_properties({"title": f"{_project_name(inp)}{w.t('cf.title')}".strip(),
                               "subject": inp.run_id, "comments": "auditlib"})
            _rules_sheet(w)
            _units_sheet(w)
            _list_sheet(w)
            _basis_sheet(w)
        finally:
            wb.close()
    return path


def _project_name(inp: CountyInput) -> str:
    name = inp.project.get("name") if isinstance(inp.project, dict) else None
    return f"{name} " if name else ""


class _Writer:
    """The workbook's formats and typed cells."""

    def __init__(self, wb: xlsxwriter.Workbook, inp: CountyInput):
        self.wb, self.inp, self.lang = wb, inp, inp.lang
        self._base = {"font_name": _FONT.get(inp.lang, "Calibri"), "font_size": _SIZE, "valign": "top"}
        self._cache: dict[tuple, object] = {}
        self._widths: dict[int, list[float]] = {}
        self._lines: dict[tuple[int, int], int] = {}

    def t(self, key: str, **kw) -> str:
        return t(key, self.lang, **kw)

    def fmt(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({**self._base, **props})
        return self._cache[key]

    def sheet(self, name: str, title: str, widths: list[float], span: int | None = None):
        """A sheet with its title, scope and note rows (across the first ``span`` columns, the
        printed ones; all by default) and the print setup; returns (sheet, header row)."""
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
        ws.set_footer("&L" + _footer_text(self.inp, title) + "&R" + self.t("cf.footer"))
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        self._widths[id(ws)] = list(widths)
        last = (span or len(widths)) - 1
        ws.merge_range(0, 0, 0, last, "", self.fmt(bold=True, font_size=14, align="center", valign="vcenter"))
        self.text(ws, 0, 0, f"{_project_name(self.inp)}{title}",
                  self.fmt(bold=True, font_size=14, align="center", valign="vcenter"))
        ws.set_row(0, 24)
        ws.merge_range(1, 0, 1, last, "", self.fmt())
        self.text(ws, 1, 0, self.t("cf.scope", scope=self.inp.scope(), as_of=self.inp.as_of, run_id=self.inp.run_id),
                  self.fmt())
        ws.merge_range(2, 0, 2, last, "", self.fmt(text_wrap=True))
        ws.write_string(2, 0, self.t("cf.note"), self.fmt(text_wrap=True))
        ws.set_row(2, _LINE_HEIGHT * math.ceil(
            _display_width(self.t("cf.note")) / (sum(widths[:last + 1]) / _UNITS_PER_CHAR - 4)) + 2)
        return ws, 3

    def header(self, ws, row: int, labels: list[str]) -> None:
        f = self.fmt(bold=True, border=1, bg_color="#D9E1F2", text_wrap=True, align="center", valign="vcenter")
        for col, label in enumerate(labels):
            head, unit = label.rpartition("(")[::2] if label.endswith(")") else (label, "")
            self.text(ws, row, col, f"{head}\n({unit}" if head and unit else label, f)
        ws.freeze_panes(row + 1, 0)
        ws.repeat_rows(row)

    def text(self, ws, row: int, col: int, value, fmt=None, fit: bool = True) -> None:
        """Text as a string cell, never a formula, a URL or a number; wrapped text makes its row
        tall enough (unless ``fit`` is false: a column left out of print)."""
        text = neutralise(value)
        if len(text) > MAX_CELL_CHARS:
            text = text[:MAX_CELL_CHARS - 1] + "…"
        fmt = fmt if fmt is not None else self.fmt(border=1, text_wrap=True)
        ws.write_string(row, col, text, fmt)
        if fmt.text_wrap and fit:
            self._fit(ws, row, col, text)

    def _fit(self, ws, row: int, col: int, text: str) -> None:
        """Make ``row`` tall enough for the wrapped ``text`` in ``col`` (spreadsheets do not grow a
        written row by themselves when they print)."""
        widths = self._widths.get(id(ws), [])
        if col >= len(widths) or not text:
            return
        per_line = max(1, int(widths[col] / _UNITS_PER_CHAR) - 1)
        lines = sum(max(1, math.ceil(_display_width(part) / per_line)) for part in text.split("\n"))
        key = (id(ws), row)
        if lines > self._lines.get(key, 1):
            self._lines[key] = lines
            ws.set_row(row, _LINE_HEIGHT * lines + 2)

    def money(self, ws, row: int, col: int, value: Decimal | None, bold: bool = False) -> None:
        """An exact amount as a number with two places; blank for None."""
        f = self.fmt(border=1, num_format=_MONEY, bold=bold)
        if value is None:
            ws.write_blank(row, col, None, f)
        else:
            ws.write_number(row, col, float(value), f)

    def count(self, ws, row: int, col: int, n: int, bold: bool = False) -> None:
        ws.write_number(row, col, int(n), self.fmt(border=1, num_format=_COUNT, bold=bold))

    def figures(self, ws, row: int, col: int, fig: Figures, bold: bool = False) -> int:
        """The status split of one row from ``col``: 疑点, per status count (and money), 排除, total,
        去重, interest; returns the next column."""
        self.count(ws, row, col, fig.n, bold)
        col += 1
        for status in _SPLIT:
            self.count(ws, row, col, fig.split[status].count, bold)
            self.money(ws, row, col + 1, fig.status_money(status), bold)
            col += 2
        self.count(ws, row, col, fig.split[Status.DISMISSED].count, bold)
        self.count(ws, row, col + 1, fig.total.count, bold)
        self.money(ws, row, col + 2, fig.money, bold)
        self.money(ws, row, col + 3, fig.dedup, bold)
        self.money(ws, row, col + 4, fig.interest, bold)
        return col + 5

    def figure_labels(self) -> list[str]:
        labels = [self.t("cf.n")]
        for status in _SPLIT:
            labels += [self.t(f"cf.n.{status.value}"), self.t(f"cf.m.{status.value}")]
        return labels + [self.t("cf.n.dismissed"), self.t("cf.n.total"), self.t("cf.m.total"), self.t("cf.dedup"),
                         self.t("cf.interest")]

    def tail(self, ws, row: int, last_col: int) -> None:
        """Lines under a table: the tasks that did not finish."""
        if self.inp.failed:
            tasks = "；".join(f"{x.get('unit_code')} {x.get('unit_name') or ''} "
                             f"{inspection_label(str(x.get('inspection')), self.lang)}" for x in self.inp.failed)
            ws.merge_range(row + 1, 0, row + 1, last_col, "", self.fmt(text_wrap=True))
            self.text(ws, row + 1, 0, self.t("cf.failed", tasks=tasks), self.fmt())


def _display_width(text: str) -> int:
    """Half-width character cells a text takes: East Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _footer_text(inp: CountyInput, title: str) -> str:
    """The title in a page footer, ``&`` escaped (a control code in headers and footers)."""
    return f"{_project_name(inp)}{title}".replace("&", "&&")[:200]


#: widths of the figure columns (疑点, 3 × (count, money), 排除, 合计 count and money, 去重, interest)
_FIGURE_WIDTHS = [5, 5, 9.5, 5, 9.5, 5, 9.5, 5, 5, 9.5, 9.5, 8]


def _rules_sheet(w: _Writer) -> None:
    inp = w.inp
    widths = [6, 4.5, 16, *_FIGURE_WIDTHS]
    ws, head = w.sheet(w.t("cf.sheet.rules"), w.t("cf.title.rules"), widths)
    w.header(ws, head, [w.t("cf.inspection"), w.t("cf.rule"), w.t("cf.rule_title"), *w.figure_labels()])
    row = head + 1
    f = inp.findings
    bold = w.fmt(border=1, bold=True, text_wrap=True, bg_color="#F2F2F2")
    for name, sub in by_inspection(inp):
        mine = f[f["inspection"].astype(str) == name] if len(f) else f
        for rule_id, fig in by_rule(inp, mine):
            w.text(ws, row, 0, inspection_label(name, inp.lang))
            w.text(ws, row, 1, rule_id)
            w.text(ws, row, 2, rule_title(rule_id, f, inp.lang))
            w.figures(ws, row, 3, fig)
            row += 1
        w.text(ws, row, 0, "", bold)
        w.text(ws, row, 1, "", bold)
        w.text(ws, row, 2, w.t("cf.subtotal", inspection=inspection_label(name, inp.lang)), bold)
        w.figures(ws, row, 3, sub, bold=True)
        row += 1
    for col in range(3):
        w.text(ws, row, col, w.t("cf.total") if col == 2 else "", bold)
    w.figures(ws, row, 3, figures(f), bold=True)
    ws.autofilter(head, 0, row - 1, len(widths) - 1)
    w.tail(ws, row + 1, len(widths) - 1)


def _units_sheet(w: _Writer) -> None:
    inp = w.inp
    f = inp.findings
    names = [n for n, _ in by_inspection(inp)]
    widths = [5, 8, *_FIGURE_WIDTHS, *([9] * len(names))]
    ws, head = w.sheet(w.t("cf.sheet.units"), w.t("cf.title.units"), widths)
    w.header(ws, head, [w.t("cf.unit_code"), w.t("cf.unit_name"), *w.figure_labels(),
                        *(w.t("cf.m.inspection", inspection=inspection_label(n, inp.lang)) for n in names)])
    row = head + 1
    codes = f["unit_code"].astype(str) if len(f) else None
    for code, fig in by_unit(inp):
        w.text(ws, row, 0, code)
        w.text(ws, row, 1, inp.unit_name(code))
        col = w.figures(ws, row, 2, fig)
        mine = f[codes == code] if codes is not None else f
        for i, (_, sub) in enumerate(by_inspection(inp, mine)):
            w.money(ws, row, col + i, sub.money)
        row += 1
    bold = w.fmt(border=1, bold=True, text_wrap=True, bg_color="#F2F2F2")
    w.text(ws, row, 0, "", bold)
    w.text(ws, row, 1, w.t("cf.total"), bold)
    col = w.figures(ws, row, 2, figures(f), bold=True)
    for i, (_, sub) in enumerate(by_inspection(inp)):
        w.money(ws, row, col + i, sub.money, bold=True)
    ws.autofilter(head, 0, row - 1, len(widths) - 1)
    w.tail(ws, row + 1, len(widths) - 1)


def _list_sheet(w: _Writer) -> None:
    inp = w.inp
    f = ordered(inp)
    baseline = vf.has_baseline(f)
    labels = [w.t("cf.seq"), w.t("cf.unit_code"), w.t("cf.unit_name"), w.t("cf.inspection"),
              w.t("cf.rule_with_id"), w.t("cf.finding_id"), w.t("cf.ref"), w.t("cf.detail"), w.t("cf.status"),
              w.t("cf.exposure"), w.t("cf.interest"), w.t("cf.confirmed"), w.t("cf.reason")] + (
        [w.t("cf.change")] if baseline else [])
    printed = len(labels)
    labels += [w.t("cf.basis"), w.t("cf.advice")]
    # the printed columns ≈ 120 width units: A4 landscape at ≥ 80 % (10 pt text prints ≥ 8 pt); the rule
    # id shares its title's cell; 依据 and 处理建议 (the same for every finding of a rule) are left out
    # of print: the sheet 依据与处理建议 prints them once per rule
    widths = [3.5, 5, 8, 5.5, 14, 12.5, 12, 17, 5, 10.5, 8, 10, 9] + ([4.5] if baseline else []) + [40, 40]
    ws, head = w.sheet(w.t("cf.sheet.list"), w.t("cf.title.list"), widths, span=printed)
    w.header(ws, head, labels)
    row = head + 1
    statuses, exposure, interest = vf.statuses(f), vf.exposure(f), vf.interest(f)
    confirmed, reasons, changes = vf.confirmed_amounts(f), vf.reasons(f), vf.changes(f)
    for i, (rec, status, exp, intr, conf, reason, change) in enumerate(
            zip(f.itertuples(index=False), statuses, exposure, interest, confirmed, reasons, changes), start=1):
        rule = rule_of(rec.rule_id)
        w.count(ws, row, 0, i)
        w.text(ws, row, 1, rec.unit_code)
        w.text(ws, row, 2, inp.unit_name(rec.unit_code))
        w.text(ws, row, 3, inspection_label(str(rec.inspection), inp.lang))
        w.text(ws, row, 4, f"{rec.rule_id} {rule.title(inp.lang) if rule is not None else rec.title}")
        w.text(ws, row, 5, getattr(rec, "finding_id", ""))
        w.text(ws, row, 6, rec.ref)
        w.text(ws, row, 7, rec.detail)
        w.text(ws, row, 8, status.label(inp.lang))
        w.money(ws, row, 9, exp)
        w.money(ws, row, 10, intr)
        w.money(ws, row, 11, conf)
        w.text(ws, row, 12, reason)
        if baseline:
            w.text(ws, row, 13, change.label(inp.lang) if change is not None else "")
        w.text(ws, row, printed, rule.basis if rule is not None else "", fit=False)
        w.text(ws, row, printed + 1, rule.advice(inp.lang) if rule is not None else "", fit=False)
        row += 1
    if not len(f):
        ws.merge_range(row, 0, row, len(widths) - 1, "", w.fmt())
        w.text(ws, row, 0, w.t("cf.none_tested" if getattr(inp, "untested", ()) else "cf.none"), w.fmt())
        row += 1
    ws.autofilter(head, 0, max(row - 1, head), len(widths) - 1)
    ws.print_area(0, 0, max(row, head + 1), printed - 1)
    w.tail(ws, row, printed - 1)


def _basis_sheet(w: _Writer) -> None:
    """依据与处理建议: per rule with findings its basis, 处理依据 and 处理建议, printed once."""
    inp = w.inp
    widths = [6, 16, 38, 28, 38]
    ws, head = w.sheet(w.t("cf.sheet.basis"), w.t("cf.title.basis"), widths)
    w.header(ws, head, [w.t("cf.rule"), w.t("cf.rule_title"), w.t("cf.basis"), w.t("cf.penalty"), w.t("cf.advice")])
    row = head + 1
    for rule_id, _ in by_rule(inp):
        rule = rule_of(rule_id)
        w.text(ws, row, 0, rule_id)
        w.text(ws, row, 1, rule_title(rule_id, inp.findings, inp.lang))
        w.text(ws, row, 2, rule.basis if rule is not None else "")
        w.text(ws, row, 3, rule.penalty_basis if rule is not None else "")
        w.text(ws, row, 4, rule.advice(inp.lang) if rule is not None else "")
        row += 1
    ws.autofilter(head, 0, max(row - 1, head), len(widths) - 1)


__all__ = ["write_county_findings", "MAX_CELL_CHARS"]
