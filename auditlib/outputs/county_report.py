"""``county-report.docx``: the draft 检查情况报告 of a run for the bureau director (CONTRACT §4).

Built with python-docx (styles, tables and pictures through its API, never hand-written XML):

1. the project block (CONTRACT §2 ``project:``: name, team, period, members, reviewer; a blank
   line asks for what is not given);
2. scope: the units of the run (本批次 N 个单位, 全县 only when every unit of the database ran),
   the inspections, the cut-off date and the data sources with their row counts;
3. method: the rules run, with their parameters;
4. results: the totals with their status split, per unit, and per inspection a table by rule,
   with two charts (:mod:`auditlib.outputs.county_charts`);
5. the 问题 (属实 and 已整改 findings) apart from the 疑点 still to verify — an unverified finding
   is never called a 问题;
6. 整改（处理）建议 per rule (``rule.advice``, ``penalty_basis``, ``basis``);
7. an appendix listing every finding (landscape).

Every figure comes from :mod:`auditlib.outputs.county_data`, so the report agrees with
``findings.csv``, the index and ``county-findings.xlsx``.  Chinese text gets an East Asian font
(``w:eastAsia``): the official faces (仿宋 / 黑体 / 楷体 / 宋体) where they are installed — or where
fontconfig cannot tell (Windows) — else Noto Serif / Sans CJK SC (:class:`ReportFonts`).
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from auditlib.common.files import atomic_path
from auditlib.i18n import register, t
from auditlib.outputs import verification as vf
from auditlib.outputs.county_charts import rule_chart, unit_chart
from auditlib.outputs.county_data import (FINDINGS_XLSX, CountyInput, Figures, by_inspection, by_rule, by_unit, figures, ordered,
                                          rule_of, rule_title)
from auditlib.outputs.formats import inspection_label, money, param_text
from auditlib.review.statuses import Status

register({
    "cr.title": ("检查情况报告", "Inspection report"),
    "cr.draft": ("（初稿）", " (draft)"),
    "cr.advice.head": ("{i}. {title}（{rule}）。", "{i}. {title} ({rule}). "),
    "cr.subtitle": ("批次号：{run_id}　检查截止日：{as_of}", "Run {run_id} · cut-off {as_of}"),
    "cr.intro": ("根据{project}安排，{team}对{scope}开展了{inspections}专项检查。现将检查情况报告如下。",
                 "As part of {project}, {team} inspected {scope} for {inspections}. This is the report."),
    "cr.intro.project": ("工作", "the work plan"),
    "cr.intro.team": ("检查组", "the inspection team"),
    "cr.h.project": ("一、检查项目基本情况", "1. The inspection"),
    "cr.h.scope": ("二、检查范围", "2. Scope"),
    "cr.h.method": ("三、检查方法", "3. Method"),
    "cr.h.results": ("四、检查结果", "4. Results"),
    "cr.h.problems": ("五、经核实属实的问题", "5. Confirmed problems"),
    "cr.h.open": ("六、尚待核实的疑点", "6. Leads still to verify"),
    "cr.h.advice": ("七、整改（处理）建议", "7. Suggested handling"),
    "cr.h.appendix": ("附件：疑点及问题清单", "Appendix: list of findings"),
    "cr.p.name": ("项目名称", "Project"),
    "cr.p.team": ("检查组", "Team"),
    "cr.p.period": ("检查期间", "Period"),
    "cr.p.members": ("检查人员", "Members"),
    "cr.p.reviewer": ("复核人", "Reviewer"),
    "cr.p.as_of": ("数据截止日", "Cut-off date"),
    "cr.p.fiscal_year": ("预算年度", "Fiscal year"),
    "cr.p.run_id": ("批次号", "Run id"),
    "cr.p.date": ("报告生成日期", "Report date"),
    "cr.p.missing": ("（未填写）", "(not given)"),
    "cr.p.note": ("注：项目信息取自参数文件的 project 项（name、team、period、members、reviewer），未填写的请补充。",
                  "Note: these come from the parameters' project block (name, team, period, members, reviewer); "
                  "fill in what is missing."),
    "cr.scope.text": ("本次检查范围为{scope}，检查事项为{inspections}；数据截止日 {as_of}，预算年度 {fiscal_year} 年。",
                      "The run covers {scope}; inspections: {inspections}; cut-off {as_of}, "
                      "fiscal year {fiscal_year}."),
    "cr.scope.period": ("检查期间为{period}。", "Inspection period: {period}."),
    "cr.scope.units": ("被检查单位如下：", "The units inspected:"),
    "cr.scope.sources": ("检查使用的数据如下（共 {files} 个文件，{rows} 行）：",
                         "Data used ({files} files, {rows} rows):"),
    "cr.scope.no_sources": ("数据来源未记录。", "No data sources were recorded."),
    "cr.scope.untested": ("下列规则因缺少所需数据未检查，不能据此认为没有问题：{items}。",
                          "These rules were not tested for want of input, which is no evidence either way: {items}."),
    "cr.scope.warnings": ("数据覆盖提示：{items}", "Coverage warnings: {items}"),
    "cr.scope.failed": ("下列检查任务未完成，其结果未计入本报告：{tasks}。",
                        "These tasks did not finish; their results are not in this report: {tasks}."),
    "cr.method.text": ("检查组运用数据分析方法，按下列规则对被检查单位的预算指标、支付、会计凭证和银行流水数据逐条筛查。"
                       "筛查结果为疑点，须经核实并取得被检查单位确认后方可定性；核实属实的，方认定为问题。",
                       "The team screened the units' budget lines, payments, vouchers and bank lines with the rules "
                       "below. What they find are leads: only a lead verified and confirmed by the unit is a problem."),
    "cr.method.overrides": ("个别单位适用的特别设定：{items}。", "Set for single units: {items}."),
    "cr.method.none": ("无参数", "no parameters"),
    "cr.results.total": ("本次检查共发现疑点 {n} 条，涉及金额 {amount} 元；涉及资金（去重） {dedup} 元；逾期利息 {interest} 元"
                         "（另计，不计入合计）。",
                         "{n} leads in this run, amount {amount} yuan; de-duplicated {dedup} yuan; "
                         "late-payment interest "
                         "{interest} yuan (apart, in no total)."),
    "cr.results.split": ("其中：待核实 {open} 条，金额 {open_amount} 元；经核实属实 {confirmed} 条，金额 {confirmed_amount} 元；"
                         "已整改 {rectified} 条，金额 {rectified_amount} 元；已排除 {dismissed} 条，不计入合计。",
                         "Of these: {open} open, {open_amount} yuan; {confirmed} confirmed, {confirmed_amount} yuan; "
                         "{rectified} rectified, {rectified_amount} yuan; {dismissed} dismissed, in no total."),
    "cr.results.note": ("说明：涉及金额按各规则认定的涉及资金计算，属实的按认定金额（未填则按涉及金额）计；"
                        "涉及资金（去重）对同一证据只计一次；逾期利息另列，不计入合计。",
                        "Amounts are each rule's exposure, confirmed ones at the confirmed amount (else their "
                        "exposure); the de-duplicated amount counts each evidence row once; interest is apart."),
    "cr.h.overall": ("（一）总体情况", "Overall"),
    "cr.h.by_unit": ("（二）分单位情况", "By unit"),
    "cr.h.inspection": ("（{n}）{inspection}", "{inspection}"),
    "cr.insp.total": ("{inspection}：发现疑点 {n} 条，涉及金额 {amount} 元。", "{inspection}: {n} leads, {amount} yuan."),
    "cr.insp.interest": ("另有逾期利息 {interest} 元，不计入合计。", " Late-payment interest {interest} yuan, apart."),
    "cr.insp.none": ("{inspection}：本批次未发现疑点。", "{inspection}: no leads in this run."),
    "cr.insp.none_tested": ("{inspection}：已运行的规则本批次未发现疑点；{rules} 对部分单位未检查（见“检查范围”）。",
                            "{inspection}: the rules that ran found no leads; {rules} were not tested for some "
                            "units (see Scope)."),
    "cr.problems.text": ("经核实，属实问题 {confirmed} 条，认定金额 {confirmed_amount} 元；已整改 {rectified} 条，"
                         "金额 {rectified_amount} 元。明细如下：",
                         "Verified: {confirmed} confirmed, {confirmed_amount} yuan; {rectified} rectified, "
                         "{rectified_amount} yuan:"),
    "cr.problems.none": ("截至本报告生成时，尚无经核实属实的问题。", "No finding has been confirmed yet."),
    "cr.open.text": ("尚有 {n} 条疑点待核实，涉及金额 {amount} 元，分布如下。请检查组逐项核实，取得被检查单位确认后定性。",
                     "{n} leads, {amount} yuan, are still to verify:"),
    "cr.open.none": ("没有待核实的疑点。", "No lead is still open."),
    "cr.open.dismissed": ("另有 {n} 条疑点经核实予以排除（理由见附件），不计入合计。",
                          "{n} leads were dismissed (reasons in the appendix) and count in no total."),
    "cr.advice.confirmed": ("经核实属实的 {n} 条：", "{n} confirmed: "),
    "cr.advice.open": ("对待核实的 {n} 条疑点，经核实属实的：", "For the {n} open leads, once confirmed: "),
    "cr.advice.default": ("请被检查单位逐项核实说明，属实的依规整改。",
                          "The unit explains each; confirmed ones are put right as the rules require."),
    "cr.advice.penalty": ("处理依据：{text}", "Penalty basis: {text}"),
    "cr.advice.basis": ("检查依据：{text}", "Basis: {text}"),
    "cr.advice.none": ("本批次无需提出整改建议。", "Nothing to suggest for this run."),
    "cr.sign.team": ("检查组：{team}", "Team: {team}"),
    "cr.sign.reviewer": ("复核人：{reviewer}", "Reviewer: {reviewer}"),
    "cr.sign.date": ("{date}", "{date}"),
    "cr.appendix.none_tested": ("已运行的规则本批次未发现疑点；部分规则未检查（见“检查范围”）。",
                                "The rules that ran found no leads; some rules were not tested (see Scope)."),
    "cr.appendix.none": ("本批次未发现疑点。", "No findings in this run."),
    "cr.appendix.cut": ("共 {total} 条，此处列出 {n} 条（全部问题及金额较大的疑点）；完整清单见 {file}。",
                        "{total} findings; {n} listed here (every problem and the largest leads); all are in {file}."),
    "cr.chart.none": ("本批次无涉及金额，不作图。", "No amounts to draw."),
    "cr.c.seq": ("序号", "No."),
    "cr.c.rule": ("规则", "Rule"),
    "cr.c.title": ("检查内容", "What is checked"),
    "cr.c.params": ("参数", "Parameters"),
    "cr.c.unit_code": ("单位编码", "Unit code"),
    "cr.c.unit_name": ("单位名称", "Unit"),
    "cr.c.unit": ("单位", "Unit"),
    "cr.c.insp": ("检查事项", "Inspection"),
    "cr.c.table": ("数据表", "Table"),
    "cr.c.file": ("文件", "File"),
    "cr.c.rows": ("行数", "Rows"),
    "cr.c.status": ("核实状态", "Status"),
    "cr.c.count": ("条数", "Count"),
    "cr.c.amount": ("金额（元）", "Yuan"),
    "cr.c.n": ("疑点（条）", "Leads"),
    "cr.c.total": ("涉及金额（元）", "Amount (yuan)"),
    "cr.c.confirmed_m": ("属实（元）", "Confirmed (yuan)"),
    "cr.c.problems_m": ("其中属实、已整改（元）", "Confirmed or rectified (yuan)"),
    "cr.c.rectified_m": ("已整改（元）", "Rectified (yuan)"),
    "cr.c.dismissed_n": ("排除（条）", "Dismissed"),
    "cr.c.dedup": ("涉及资金（去重）（元）", "De-duplicated (yuan)"),
    "cr.c.interest": ("逾期利息（元）", "Interest (yuan)"),
    "cr.c.units": ("单位数", "Units"),
    "cr.c.detail": ("情况说明", "What was found"),
    "cr.c.exposure": ("涉及金额（元）", "Exposure (yuan)"),
    "cr.c.confirmed": ("认定金额（元）", "Confirmed (yuan)"),
    "cr.c.counted": ("计入金额（元）", "Counted (yuan)"),
    "cr.c.reason": ("核实说明", "Explanation"),
    "cr.c.sum": ("合计", "Total"),
    "cr.c.not_counted": ("不计入", "not counted"),
    "cr.page": ("第 {page} 页", "Page {page}"),
    "cr.list_sep": ("、", ", "),
})

_CM_A4 = (Cm(21.0), Cm(29.7))
#: findings the appendix lists at most (the rest are in county-findings.xlsx)
APPENDIX_ROWS = 1000
#: the width of a portrait page's text, centimetres (A4 less the margins set in ``_setup``)
_TEXT_WIDTH = 21.0 - 2.6 - 2.4
#: characters XML 1.0 cannot hold (python-docx refuses them): control characters from source data
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _safe(text) -> str:
    """``text`` as a Word document can hold it: a control character becomes U+FFFD."""
    return _NOT_XML.sub("\ufffd", "" if text is None else str(text))


@dataclass(frozen=True)
class ReportFonts:
    """East Asian font candidates per role, first installed one wins (:meth:`resolve`).

    The official faces of 党政机关公文 come first; the Noto CJK faces stand in where those are not
    installed (a Linux machine), so LibreOffice renders the Chinese in the intended style and
    Word or WPS on another machine substitute their own.
    """

    body: tuple[str, ...] = ("仿宋", "FangSong", "Noto Serif CJK SC")
    heading: tuple[str, ...] = ("黑体", "SimHei", "Noto Sans CJK SC")
    subheading: tuple[str, ...] = ("楷体", "KaiTi", "Noto Serif CJK SC")
    title: tuple[str, ...] = ("宋体", "SimSun", "Noto Serif CJK SC")
    #: digits and Latin text: Times New Roman, its metric twin, else the body's CJK face (narrow digits)
    latin: tuple[str, ...] = ("Times New Roman", "Liberation Serif", "Noto Serif CJK SC")

    def resolve(self) -> dict[str, str]:
        """Role → font name: the first candidate installed; the first of all when fontconfig is absent."""
        have = installed_fonts()
        return {role: _pick(getattr(self, role), have) for role in ("body", "heading", "subheading", "title", "latin")}


def _pick(candidates: tuple[str, ...], have: frozenset[str] | None) -> str:
    if have is None:
        return candidates[0]
    return next((c for c in candidates if c in have), candidates[-1])


@functools.lru_cache(maxsize=1)
def installed_fonts() -> frozenset[str] | None:
    """Font family names fontconfig knows (``fc-list``); None where there is no fontconfig."""
    fc = shutil.which("fc-list")
    if not fc:
        return None
    try:
        out = subprocess.run([fc, ":", "family"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(",") if name.strip())


def write_county_report(inp: CountyInput, path: str | os.PathLike, fonts: ReportFonts | None = None,
                        today: dt.date | None = None) -> Path:
    """Write ``county-report.docx`` for ``inp`` to ``path`` (whole or not at all); return the path.

    Parameters
    ----------
    inp : CountyInput
    path : path
    fonts : ReportFonts, optional
        The East Asian font candidates; :class:`ReportFonts` defaults when None.
    today : date, optional
        The report date (today when None).
    """
    path = Path(path)
    doc = _Report(inp, (fonts or ReportFonts()).resolve(), today or dt.date.today()).build()
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    return path


def _m(value) -> str:
    """Money as the report shows it (``1,234.50``; ``0.00`` for none)."""
    return money(value if value is not None else Decimal("0"))


class _Report:
    """One report being built."""

    def __init__(self, inp: CountyInput, fonts: dict[str, str], today: dt.date):
        self.inp, self.lang, self.fonts, self.today = inp, inp.lang, fonts, today
        self.doc = docx.Document()
        self._styles: dict = {}
        self.all = figures(inp.findings)

    def t(self, key: str, **kw) -> str:
        return t(key, self.lang, **kw)

    # -- building ---------------------------------------------------------------------------
    def build(self):
        self._setup()
        self._cover()
        self._project()
        self._scope()
        self._method()
        self._results()
        self._problems()
        self._open()
        self._advice()
        self._signature()
        self._appendix()
        return self.doc

    def _setup(self) -> None:
        doc, f = self.doc, self.fonts
        section = doc.sections[0]
        section.page_width, section.page_height = _CM_A4
        section.top_margin, section.bottom_margin = Cm(3.0), Cm(2.8)
        section.left_margin, section.right_margin = Cm(2.6), Cm(2.4)
        normal = doc.styles["Normal"]
        _font(normal, self.fonts["body"], 14, latin=self.fonts["latin"])
        normal.paragraph_format.line_spacing = 1.4
        normal.paragraph_format.space_after = Pt(0)
        body = doc.styles.add_style("ReportBody", WD_STYLE_TYPE.PARAGRAPH)
        body.base_style = normal
        body.paragraph_format.first_line_indent = Pt(28)
        for name, font, size, bold in (("Heading 1", f["heading"], 15, False),
                                       ("Heading 2", f["subheading"], 14, True)):
            style = doc.styles[name]
            _font(style, font, size, bold=bold, latin=self.fonts["latin"])
            style.paragraph_format.space_before = Pt(12)
            style.paragraph_format.space_after = Pt(6)
        title = doc.styles.add_style("ReportTitle", WD_STYLE_TYPE.PARAGRAPH)
        title.base_style = normal
        _font(title, f["title"], 22, bold=True, latin=self.fonts["latin"])
        title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.space_after = Pt(6)
        table_text = doc.styles.add_style("TableText", WD_STYLE_TYPE.PARAGRAPH)
        table_text.base_style = normal
        _font(table_text, self.fonts["body"], 10.5, latin=self.fonts["latin"])
        table_text.paragraph_format.line_spacing = 1.0
        table_text.paragraph_format.first_line_indent = Pt(0)
        small = doc.styles.add_style("TableSmall", WD_STYLE_TYPE.PARAGRAPH)
        small.base_style = table_text
        _font(small, self.fonts["body"], 9, latin=self.fonts["latin"])
        project = self.inp.project or {}
        props = doc.core_properties
        props.title = _safe(f"{project.get('name') or ''}{self.t('cr.title')}")[:255]
        props.subject = _safe(self.inp.run_id)[:255]
        props.author = _safe(project.get("team") or "")[:255]
        props.language = "zh-CN" if self.lang == "zh" else "en"
        self._footer(section)

    def _footer(self, section) -> None:
        """Centered page numbers (a PAGE field) in the footer."""
        p = section.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        before, _, after = self.t("cr.page", page="\0").partition("\0")
        p.add_run(before)
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        p._p.append(field)
        p.add_run(after)

    def style(self, name: str):
        """The document's style ``name``, looked up once (by name python-docx searches every style)."""
        if name not in self._styles:
            self._styles[name] = self.doc.styles[name]
        return self._styles[name]

    def para(self, text: str, style: str = "ReportBody", align=None):
        p = self.doc.add_paragraph(_safe(text), style=self.style(style))
        if align is not None:
            p.alignment = align
        return p

    def heading(self, text: str, level: int = 1):
        return self.doc.add_paragraph(text, self.style(f"Heading {level}"))  # as add_heading, its style looked up once

    def table(self, header: list[str] | None, rows: list[list[str]], numeric=frozenset(),
              widths: list[float] | None = None, style: str = "TableText", bold_last: bool = False,
              label_column: bool = False):
        """A bordered table: a bold header row repeated on every page (none when ``header`` is
        None); ``numeric`` columns right-aligned, text left-aligned; ``label_column``: the first
        column bold (a form)."""
        cols = len(header) if header is not None else len(rows[0])
        table = self.doc.add_table(rows=1 if header is not None else 0, cols=cols)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        style_id = self.style(style).style_id  # looked up once: by name it is slow on long tables
        if widths:  # on the grid (LibreOffice, WPS) and on every cell (Word)
            table.autofit = False
            for i, w in enumerate(widths):
                table.columns[i].width = Cm(w)
        sizes = [Cm(w) for w in widths] if widths else None
        if header is not None:
            for i, (cell, label) in enumerate(zip(table.rows[0].cells, header)):
                p = cell.paragraphs[0]
                p._p.style = style_id
                p.add_run(_safe(label)).bold = True
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                if sizes:
                    cell.width = sizes[i]
            _repeat_header(table.rows[0])
        for n, values in enumerate(rows):
            for i, (cell, value) in enumerate(zip(table.add_row().cells, values)):
                p = cell.paragraphs[0]
                p._p.style = style_id
                run = p.add_run(_safe(value))
                if (bold_last and n == len(rows) - 1) or (label_column and i == 0):
                    run.bold = True
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if i in numeric else WD_ALIGN_PARAGRAPH.LEFT
                if sizes:
                    cell.width = sizes[i]
        self.doc.add_paragraph("", style=self.style("TableText"))
        return table

    def picture(self, png: bytes | None, width_cm: float = 15.5) -> None:
        if png is None:
            return
        self.doc.add_picture(io.BytesIO(png), width=Cm(width_cm))
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    # -- the parts -------------------------------------------------------------------------
    def _project_value(self, key: str) -> str:
        value = (self.inp.project or {}).get(key)
        if isinstance(value, (list, tuple)):
            value = self.t("cr.list_sep").join(str(v) for v in value if str(v).strip())
        return str(value).strip() if value not in (None, "") else ""

    def _inspections_text(self) -> str:
        return self.t("cr.list_sep").join(inspection_label(n, self.lang) for n, _ in by_inspection(self.inp))

    def _cover(self) -> None:
        name = self._project_value("name")
        if name:
            self.para(name, style="ReportTitle")
        self.para(self.t("cr.title") + self.t("cr.draft"), style="ReportTitle")
        self.para(self.t("cr.subtitle", run_id=self.inp.run_id, as_of=self.inp.as_of), style="Normal",
                  align=WD_ALIGN_PARAGRAPH.CENTER)
        self.para(self.t("cr.intro", project=name or self.t("cr.intro.project"),
                         team=self._project_value("team") or self.t("cr.intro.team"), scope=self.inp.scope(),
                         inspections=self._inspections_text()))

    def _project(self) -> None:
        self.heading(self.t("cr.h.project"))
        missing = self.t("cr.p.missing")
        rows = [[self.t(f"cr.p.{k}"), self._project_value(k) or missing]
                for k in ("name", "team", "period", "members", "reviewer")]
        rows += [[self.t("cr.p.as_of"), self.inp.as_of], [self.t("cr.p.fiscal_year"), str(self.inp.fiscal_year or "")],
                 [self.t("cr.p.run_id"), self.inp.run_id], [self.t("cr.p.date"), self.today.isoformat()]]
        self.table(None, rows, widths=[4, 11.5], label_column=True)
        if any(r[1] == missing for r in rows):
            self.para(self.t("cr.p.note"), style="TableText")

    def _scope(self) -> None:
        inp = self.inp
        self.heading(self.t("cr.h.scope"))
        self.para(self.t("cr.scope.text", scope=inp.scope(), inspections=self._inspections_text(), as_of=inp.as_of,
                         fiscal_year=inp.fiscal_year or ""))
        if self._project_value("period"):
            self.para(self.t("cr.scope.period", period=self._project_value("period")))
        self.para(self.t("cr.scope.units"))
        self.table([self.t("cr.c.seq"), self.t("cr.c.unit_code"), self.t("cr.c.unit_name")],
                   [[str(i), code, name] for i, (code, name) in enumerate(inp.units.items(), start=1)],
                   widths=[1.5, 3.5, 10])
        if inp.inputs:
            total = sum(int(x["rows"]) for x in inp.inputs if isinstance(x.get("rows"), int))
            self.para(self.t("cr.scope.sources", files=len(inp.inputs), rows=f"{total:,}"))
            self.table([self.t("cr.c.table"), self.t("cr.c.file"), self.t("cr.c.rows")],
                       [[x.get("table_label") or x.get("table") or "", str(x.get("file") or ""),
                         f"{x['rows']:,}" if isinstance(x.get("rows"), int) else ""] for x in inp.inputs],
                       numeric={2}, widths=[3, 9.5, 3])
        else:
            self.para(self.t("cr.scope.no_sources"))
        key = "reason_zh" if self.lang == "zh" else "reason_en"
        if inp.untested:  # CONTRACT §3: 未检查 is said, never hidden behind "no leads"
            items = self.t("cr.list_sep").join(f"{x.get('unit_code')} {x.get('rule_id')}（{x.get(key, '')}）"
                                               if self.lang == "zh" else
                                               f"{x.get('unit_code')} {x.get('rule_id')} ({x.get(key, '')})"
                                               for x in inp.untested)
            self.para(self.t("cr.scope.untested", items=items))
        if inp.coverage_warnings:
            self.para(self.t("cr.scope.warnings", items=" ".join(
                str(w.get(self.lang if self.lang in ("zh", "en") else "zh", "")) for w in inp.coverage_warnings)))
        if inp.failed:
            tasks = self.t("cr.list_sep").join(
                f"{x.get('unit_code')} {x.get('unit_name') or ''}"
                f"{inspection_label(str(x.get('inspection')), self.lang)}"
                for x in inp.failed)
            self.para(self.t("cr.scope.failed", tasks=tasks))

    def _method(self) -> None:
        from auditlib.rules.catalogue import rules_for

        inp = self.inp
        self.heading(self.t("cr.h.method"))
        self.para(self.t("cr.method.text"))
        for name, _ in by_inspection(inp):
            rules = rules_for(name)
            if not rules:
                continue
            self.heading(inspection_label(name, self.lang), level=2)
            self.table([self.t("cr.c.rule"), self.t("cr.c.title"), self.t("cr.c.params")],
                       [[r.id, r.title(self.lang),
                         param_text(r, inp.rule_values.get(r.id) or r.defaults(), self.lang)
                         or self.t("cr.method.none")]
                        for r in rules], widths=[1.6, 6, 8])
        items = []
        for code, rules in (inp.unit_values or {}).items():
            for rule_id, values in (rules or {}).items():
                rule = rule_of(rule_id)
                if rule is not None and values:
                    items.append(f"{code} {rule_id} {param_text(rule, values, self.lang)}")
        if items:
            self.para(self.t("cr.method.overrides", items="；".join(items)))

    def _split_text(self, fig: Figures) -> str:
        s = fig.split
        return self.t("cr.results.split", open=s[Status.OPEN].count, open_amount=_m(s[Status.OPEN].money),
                      confirmed=s[Status.CONFIRMED].count, confirmed_amount=_m(s[Status.CONFIRMED].money),
                      rectified=s[Status.RECTIFIED].count, rectified_amount=_m(s[Status.RECTIFIED].money),
                      dismissed=s[Status.DISMISSED].count)

    def _results(self) -> None:
        inp, fig = self.inp, self.all
        self.heading(self.t("cr.h.results"))
        self.heading(self.t("cr.h.overall"), level=2)
        self.para(self.t("cr.results.total", n=fig.total.count, amount=_m(fig.money), dedup=_m(fig.dedup),
                         interest=_m(fig.interest)))
        self.para(self._split_text(fig))
        rows = [[s.label(self.lang), str(fig.split[s].count),
                 self.t("cr.c.not_counted") if s is Status.DISMISSED else _m(fig.split[s].money)]
                for s in vf.STATUS_ORDER]
        rows.append([self.t("cr.c.sum"), str(fig.total.count), _m(fig.money)])
        self.table([self.t("cr.c.status"), self.t("cr.c.count"), self.t("cr.c.amount")], rows, numeric={1, 2},
                   widths=[4, 3, 5], bold_last=True)
        self.para(self.t("cr.results.note"), style="TableText")
        chart = rule_chart(inp)
        if chart is None:
            self.para(self.t("cr.chart.none"))
        self.picture(chart)

        self.heading(self.t("cr.h.by_unit"), level=2)
        self._figures_table([(self.t("cr.c.unit_code"), 1.8), (self.t("cr.c.unit_name"), None)],
                            [([code, inp.unit_name(code)], f) for code, f in by_unit(inp)] + [
                                (["", self.t("cr.c.sum")], fig)], by_unit=True)
        self.picture(unit_chart(inp))

        numbers = "三四五六七八九十"
        for i, (name, sub) in enumerate(by_inspection(inp)):
            label = inspection_label(name, self.lang)
            self.heading(self.t("cr.h.inspection", n=numbers[i] if i < len(numbers) else str(i + 3),
                                inspection=label), level=2)
            mine = inp.findings[inp.findings["inspection"].astype(str) == name] if len(inp.findings) else inp.findings
            if not sub.n:
                gaps = sorted({x.get("rule_id") for x in inp.untested if x.get("inspection") == name})
                self.para(self.t("cr.insp.none_tested", inspection=label, rules="、".join(gaps)) if gaps
                          else self.t("cr.insp.none", inspection=label))
                continue
            self.para(self.t("cr.insp.total", inspection=label, n=sub.total.count, amount=_m(sub.money))
                      + (self.t("cr.insp.interest", interest=_m(sub.interest)) if sub.interest else ""))
            self._figures_table([(self.t("cr.c.rule"), 1.3), (self.t("cr.c.title"), None)],
                                [([r, rule_title(r, inp.findings, self.lang)], f) for r, f in by_rule(inp, mine)] + [
                                    (["", self.t("cr.c.sum")], sub)])

    def _figures_table(self, keys: list[tuple[str, float | None]], entries: list[tuple[list[str], Figures]],
                       by_unit: bool = False) -> None:
        """A result table: the ``keys`` columns (a width None takes what is left of the page), then
        疑点 (条), the money of 属实 and 已整改 and the count of 排除 when the run has such decisions,
        and 涉及金额; per unit (``by_unit``) 属实 and 已整改 together, 涉及资金（去重） and 逾期利息
        instead.  The last entry is the total row."""
        present = {s for s in vf.STATUS_ORDER if self.all.split[s].count}
        money_w = 2.7
        cols = [(self.t("cr.c.n"), 1.5, lambda f: str(f.total.count))]
        if by_unit:
            cols.append((self.t("cr.c.total"), money_w, lambda f: _m(f.money)))
            if present & set(vf.PROBLEMS):
                cols.append((self.t("cr.c.problems_m"), money_w, lambda f: _m(
                    f.status_money(Status.CONFIRMED) + f.status_money(Status.RECTIFIED))))
            cols.append((self.t("cr.c.dedup"), money_w, lambda f: _m(f.dedup)))
            if self.all.interest:
                cols.append((self.t("cr.c.interest"), 2.2, lambda f: _m(f.interest)))
        else:
            for status, key in ((Status.CONFIRMED, "confirmed_m"), (Status.RECTIFIED, "rectified_m")):
                if status in present:
                    cols.append((self.t(f"cr.c.{key}"), money_w, lambda f, s=status: _m(f.status_money(s))))
            if Status.DISMISSED in present:
                cols.append((self.t("cr.c.dismissed_n"), 1.4, lambda f: str(f.split[Status.DISMISSED].count)))
            cols.append((self.t("cr.c.total"), money_w, lambda f: _m(f.money)))
        fixed = sum(w for _, w in keys if w) + sum(w for _, w, _ in cols)
        widths = [w if w else max(_TEXT_WIDTH - fixed, 2.5) for _, w in keys] + [w for _, w, _ in cols]
        self.table([k for k, _ in keys] + [c for c, _, _ in cols],
                   [list(values) + [fn(f) for _, _, fn in cols] for values, f in entries],
                   numeric=set(range(len(keys), len(keys) + len(cols))), widths=widths, style="TableSmall",
                   bold_last=True)

    def _problems(self) -> None:
        inp, fig = self.inp, self.all
        self.heading(self.t("cr.h.problems"))
        f = ordered(inp)
        st = vf.statuses(f)
        keep = [s in vf.PROBLEMS for s in st]
        problems = f[keep] if len(f) else f
        if not len(problems):
            self.para(self.t("cr.problems.none"))
            return
        s = fig.split
        self.para(self.t("cr.problems.text", confirmed=s[Status.CONFIRMED].count,
                         confirmed_amount=_m(s[Status.CONFIRMED].money), rectified=s[Status.RECTIFIED].count,
                         rectified_amount=_m(s[Status.RECTIFIED].money)))
        counted = vf.counted(problems)
        rows = [[str(i), f"{r.unit_code} {inp.unit_name(r.unit_code)}",
                 f"{r.rule_id} {rule_title(r.rule_id, inp.findings, self.lang)}", str(r.detail),
                 status.label(self.lang), _m(c)]
                for i, (r, status, c) in enumerate(
                    zip(problems.itertuples(index=False), vf.statuses(problems), counted), start=1)]
        self.table([self.t("cr.c.seq"), self.t("cr.c.unit"), self.t("cr.c.title"), self.t("cr.c.detail"),
                    self.t("cr.c.status"), self.t("cr.c.counted")], rows, numeric={5},
                   widths=[1.0, 3.0, 3.6, 4.4, 1.6, 2.4], style="TableSmall")

    def _open(self) -> None:
        inp, fig = self.inp, self.all
        self.heading(self.t("cr.h.open"))
        f = inp.findings
        st = vf.statuses(f) if len(f) else []
        opened = f[[s is Status.OPEN for s in st]] if len(f) else f
        tally = fig.split[Status.OPEN]
        if not len(opened):
            self.para(self.t("cr.open.none"))
        else:
            self.para(self.t("cr.open.text", n=tally.count, amount=_m(tally.money)))
            rows = [[r, rule_title(r, inp.findings, self.lang),
                     str(opened.loc[opened["rule_id"].astype(str) == r, "unit_code"].nunique()), str(x.total.count),
                     _m(x.money)] for r, x in by_rule(inp, opened)]
            rows.append(["", self.t("cr.c.sum"), str(opened["unit_code"].nunique()), str(tally.count), _m(tally.money)])
            self.table([self.t("cr.c.rule"), self.t("cr.c.title"), self.t("cr.c.units"), self.t("cr.c.n"),
                        self.t("cr.c.total")], rows, numeric={2, 3, 4}, widths=[1.6, 7, 1.8, 1.8, 3.3],
                       bold_last=True)
        dismissed = fig.split[Status.DISMISSED].count
        if dismissed:
            self.para(self.t("cr.open.dismissed", n=dismissed))

    def _advice(self) -> None:
        inp = self.inp
        self.heading(self.t("cr.h.advice"))
        f = inp.findings
        rows = [(r, x) for r, x in by_rule(inp) if x.total.count]
        if not rows:
            self.para(self.t("cr.advice.none"))
            return
        for i, (rule_id, x) in enumerate(rows, start=1):
            rule = rule_of(rule_id)
            advice = (rule.advice(self.lang) if rule is not None else "") or self.t("cr.advice.default")
            problems = x.split[Status.CONFIRMED].count + x.split[Status.RECTIFIED].count
            lead = (self.t("cr.advice.confirmed", n=problems) if problems
                    else self.t("cr.advice.open", n=x.split[Status.OPEN].count))
            p = self.doc.add_paragraph(style=self.style("ReportBody"))
            head = self.t("cr.advice.head", i=i, title=rule_title(rule_id, f, self.lang), rule=rule_id)
            p.add_run(_safe(head)).bold = True
            p.add_run(_safe(lead + advice))
            if rule is not None and rule.penalty_basis:
                self.para(self.t("cr.advice.penalty", text=rule.penalty_basis))
            if rule is not None and rule.basis:
                self.para(self.t("cr.advice.basis", text=rule.basis))

    def _signature(self) -> None:
        self.para("")
        for key, value in (("cr.sign.team", self._project_value("team")),
                           ("cr.sign.reviewer", self._project_value("reviewer"))):
            self.para(self.t(key, **{key.split(".")[-1]: value or "__________"}), style="Normal",
                      align=WD_ALIGN_PARAGRAPH.RIGHT)
        date = (f"{self.today.year}年{self.today.month}月{self.today.day}日" if self.lang == "zh"
                else self.today.isoformat())
        self.para(self.t("cr.sign.date", date=date), style="Normal", align=WD_ALIGN_PARAGRAPH.RIGHT)

    def _appendix(self) -> None:
        inp = self.inp
        section = self.doc.add_section()
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = _CM_A4[1], _CM_A4[0]
        section.left_margin = section.right_margin = Cm(2.0)
        section.top_margin = section.bottom_margin = Cm(2.0)
        self.heading(self.t("cr.h.appendix"))
        f = ordered(inp)
        if not len(f):
            self.para(self.t("cr.appendix.none_tested" if inp.untested else "cr.appendix.none"))
            return
        if len(f) > APPENDIX_ROWS:
            f = _largest(f, APPENDIX_ROWS)
            self.para(self.t("cr.appendix.cut", total=len(inp.findings), n=len(f), file=FINDINGS_XLSX),
                      style="TableText")
        rows = []
        for i, (r, status, exp, intr, conf, reason) in enumerate(
                zip(f.itertuples(index=False), vf.statuses(f), vf.exposure(f), vf.interest(f),
                    vf.confirmed_amounts(f), vf.reasons(f)), start=1):
            rows.append([str(i), f"{r.unit_code} {inp.unit_name(r.unit_code)}",
                         inspection_label(str(r.inspection), self.lang),
                         f"{r.rule_id} {rule_title(r.rule_id, inp.findings, self.lang)}", str(r.detail),
                         status.label(self.lang), _m(exp), "" if intr is None else _m(intr),
                         "" if conf is None else _m(conf), reason])
        self.table([self.t("cr.c.seq"), self.t("cr.c.unit"), self.t("cr.c.insp"), self.t("cr.c.title"),
                    self.t("cr.c.detail"), self.t("cr.c.status"), self.t("cr.c.exposure"), self.t("cr.c.interest"),
                    self.t("cr.c.confirmed"), self.t("cr.c.reason")],
                   rows, numeric={6, 7, 8}, widths=[1.1, 3.0, 2.0, 4.2, 5.6, 1.5, 2.4, 1.8, 2.2, 2.0],
                   style="TableSmall")


def _largest(findings, n: int):
    """``n`` of ``findings`` kept in their order: every 问题 (属实, 已整改), then the largest amounts."""
    st, money_ = vf.statuses(findings), vf.counted(findings)
    rank = sorted(range(len(findings)), key=lambda i: (st.iloc[i] not in vf.PROBLEMS,
                                                       -(money_.iloc[i] or Decimal(0)), i))
    return findings.iloc[sorted(rank[:n])]


def _font(style, east_asian: str, size: float, bold: bool | None = None, latin: str = "Times New Roman") -> None:
    """Give ``style`` its fonts (Latin and East Asian, theme fonts cleared), size and colour."""
    style.font.name = latin
    style.font.size = Pt(size)
    style.font.color.rgb = RGBColor(0, 0, 0)
    if bold is not None:
        style.font.bold = bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:eastAsia"), east_asian)


def _repeat_header(row) -> None:
    """Repeat a table's first row on every page it runs over."""
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


__all__ = ["ReportFonts", "write_county_report", "installed_fonts"]
