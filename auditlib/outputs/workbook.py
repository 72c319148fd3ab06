"""The evidence workbook of one task (审计工作底稿/取证单): ``<unit_code>/<inspection>.xlsx``.

One workbook per unit and inspection, written with xlsxwriter; each sheet is one paper with an
index number (索引号, :mod:`auditlib.outputs.workpaper_index`) printed on it and in its page header,
and page numbers in its footer:

* ``封面`` (cover, :mod:`auditlib.outputs.workpaper_cover`): the elements of an 审计工作底稿 — project,
  matter, procedure and conclusion, auditors, reviewer and opinion, index and pages, attachments —
  fed from the parameters' ``project:`` block, with the index of every paper, the input files
  with their SHA-256 and the parameters applied per rule;
* ``汇总`` (summary): per rule its title, basis, number of 疑点 and, split by status, the counts and
  amounts of 待核实 and 属实 (认定金额 when given), 已整改, and 排除 (counted in no total);
* one sheet per rule, named by its id (``IF01`` ...): what was tested, its basis and parameters,
  the conclusion in words, and the findings with at most ten printed columns — evidence row,
  amount, severity, the rule's sentence, the source file and line — each with the round-trip form
  of CONTRACT §6 (:mod:`auditlib.review.form`): 疑点编号 (``finding_id``), 核实结论 (a list:
  待核实 / 属实 / 排除 / 已整改), 核实说明 and 认定金额, pre-filled from the register when the
  findings carry its decisions (:func:`auditlib.review.apply.apply_register`);
* after each rule sheet with findings, ``<id>-明细``: the rule's own evidence columns (payee, dates,
  account, ids …) row for row with the rule sheet (same 序号 and 证据行), in a landscape table
  printed one page wide when that keeps the text at 8 pt or more, else across pages at that size
  with the first columns repeated;
* one ``取证单-<id>`` per rule with 属实 or 已整改 findings (:mod:`auditlib.outputs.certificate`): the
  facts in words, the verification, basis and handling, and the blanks to sign; a workbook without
  any gets ``疑点核实清单`` (the open findings to verify) instead.

The workbook is a form: every sheet is protected (without a password) and only the cells an auditor
fills in are unlocked and highlighted (:data:`auditlib.review.form.EDITABLE_FILL`), so a careless
edit elsewhere is refused while columns can still be resized, filtered and sorted.  Cells are typed
on purpose and hostile text stays inert (:class:`auditlib.outputs.xlsx_cells.Writer`).  The file is
written whole or not at all (:func:`auditlib.common.files.atomic_write`): a half-written workbook is
never seen under the final name.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from auditlib.common.files import atomic_write
from auditlib.i18n import register, t
from auditlib.outputs import certificate as cert
from auditlib.outputs import verification as vf
from auditlib.outputs import workpaper_index as wpi
from auditlib.outputs.formats import ENUM_LABELS, enum_label, inspection_label, param_text
from auditlib.outputs.workpaper_cover import conclusion, write_cover
from auditlib.outputs.xlsx_cells import (MAX_CELL_CHARS, MIN_PRINT_SCALE, MONEY, PAGE_PX, Writer, display_width,
                                         is_missing, lines_needed, row_height)
from auditlib.review import form
from auditlib.review.statuses import Status
from auditlib.rules.catalogue import get_rule, rules_for
from auditlib.rules.coverage import no_findings_text, untested_text
from auditlib.rules.identity import finding_ids
from auditlib.rules.model import Rule
from auditlib.rules.params import Params

register({
    "wb.sheet.cover": ("封面", "Cover"),
    "wb.sheet.summary": ("汇总", "Summary"),
    "wb.sheet.detail": ("{rule_id}-明细", "{rule_id}-detail"),
    "wb.sheet.cert_of": ("取证单-{rule_id}", "Certificate-{rule_id}"),
    "wb.paper.summary": ("疑点汇总表", "Summary of findings"),
    "wb.paper.rule": ("{rule_id} {title}", "{rule_id} {title}"),
    "wb.paper.detail": ("证据明细：{rule_id} {title}", "Evidence in full: {rule_id} {title}"),
    "wb.paper.cert": ("审计（检查）取证单：{rule_id} {title}", "Evidence certificate: {rule_id} {title}"),
    "wb.paper.check": ("疑点核实清单", "Findings to verify"),
    "wb.index": ("索引号：{index}", "Index: {index}"),
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
    "wb.rule.penalty_basis": ("处理依据：{basis}", "Legal basis for handling: {basis}"),
    "wb.rule.advice": ("处理建议：{advice}", "Suggested handling: {advice}"),
    "wb.rule.params": ("参数：{params}", "Parameters: {params}"),
    "wb.rule.form": ("请在黄色单元格填写核实结论（待核实/属实/排除/已整改）、核实说明（排除须填写理由）和认定金额；"
                     "其余单元格受保护。各证据行的全部字段见“{detail}”工作表。",
                     "Fill in the yellow cells: conclusion (open / confirmed / dismissed / rectified), "
                     "explanation (required to dismiss) and confirmed amount; the rest is protected. Every "
                     "field of the evidence rows is on the sheet “{detail}”."),
    "wb.form.title": ("核实结论", "Conclusion"),
    "wb.form.bad_status": ("请从列表中选择：{words}", "Choose from the list: {words}"),
    "wb.form.bad_amount": ("认定金额须为金额（元）", "The confirmed amount must be money (yuan)"),
    "wb.none": ("未发现疑点。", "No leads."),
    "wb.no_params": ("无", "none"),
    "wb.col.no": ("序号", "No."),
    "wb.col.rule_id": ("规则编号", "Rule"),
    "wb.col.title": ("问题类型", "Issue"),
    "wb.col.lead_title": ("疑点类型", "Lead"),
    "wb.col.source": ("来源", "Source"),
    "wb.col.source_text": ("{file} 第 {line} 行", "{file}, line {line}"),
    "wb.col.finding_id": form.FINDING_ID,
    "wb.col.conclusion": form.CONCLUSION,
    "wb.col.explanation": form.EXPLANATION,
    "wb.col.confirmed_amount": form.CONFIRMED_AMOUNT,
})

#: evidence columns shown first, in this order; ``unit_code`` is on the cover and left out
_LEAD = ("ref", "amount", "severity", "detail")
_TAIL = ("_file", "_line")
_OMIT = ("unit_code",)
#: the evidence columns of a rule sheet (its other columns are on the ``-明细`` sheet)
_MAIN = ("ref", "amount", "severity", "detail")
#: columns the rule sheet shows in full and the detail sheet leaves out (one page less to print;
#: the 序号 and 证据行 of both sheets match)
_ON_RULE_SHEET = ("severity", "detail")
#: the rows above a rule sheet's table: title, basis, parameters, conclusion, note
_HEAD_ROW = 6

__all__ = ["MAX_CELL_CHARS", "write_workbook"]


def write_workbook(path, *, unit_code: str, unit_name: str, inspection: str,
                   findings: pd.DataFrame, evidence: dict[str, pd.DataFrame], params: Params,
                   run_id: str, sources: list[dict], lang: str = "zh", version: str | None = None,
                   untested: pd.DataFrame | None = None) -> Path:
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
        The run's parameters; the values applied to ``unit_code`` are shown, and its ``project``
        block fills the cover and the 取证单.
    run_id : str
    sources : list of dict
        The input files: ``{"file", "table", "rows", "sha256"}``.
    lang : {'zh', 'en'}
        Language of the labels.
    version : str, optional
        Software version shown on the cover; ``auditlib.__version__`` when omitted.
    untested : DataFrame, optional
        The rules not tested for want of input (``Inspection.untested``, CONTRACT §3): their sheet,
        the summary and the cover say 未检查 with the reason instead of 未发现疑点.

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
    rows = {rule.id: _unit_rows((evidence or {}).get(rule.id), unit_code) for rule in rules}
    with atomic_write(path, "wb") as fh:
        wb = xlsxwriter.Workbook(fh, {
            "in_memory": True,  # the parts zipped from memory: no temporary file per part
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "nan_inf_to_errors": False, "remove_timezone": True})
        try:
            w = Writer(wb, lang)
            ctx = {"unit_code": unit_code, "unit_name": str(unit_name or ""), "inspection": inspection,
                   "params": params, "applied": params.for_unit(unit_code), "run_id": str(run_id),
                   "sources": sources or [], "version": str(version), "findings": findings, "rules": rules,
                   "untested": untested}
            ctx["unit_label"] = (f"{ctx['unit_name']}（{unit_code}）" if lang == "zh"
                                 else f"{ctx['unit_name']} ({unit_code})")
            wb.set_properties({"title": f"{t('wb.title', lang)} {unit_code} {inspection}",
                               "subject": str(run_id), "comments": f"auditlib {version}"})
            plan = _plan(w, ctx, rows)
            write_cover(w, ctx, [p for p in plan.values()])
            _summary(w, ctx, plan[("summary", "")])
            for rule in rules:
                _rule_sheet(w, ctx, rule, rows[rule.id], plan)
                if ("detail", rule.id) in plan:
                    _detail_sheet(w, ctx, rule, rows[rule.id], plan[("detail", rule.id)])
            _certificate(w, ctx, plan, rows)
        finally:
            wb.close()
    return path


# --------------------------------------------------------------------------- the papers

def _plan(w: Writer, ctx: dict, rows: dict) -> dict[tuple[str, str], tuple]:
    """Every paper of the workbook in sheet order: ``(kind, rule id) -> (Paper, sheet name, title)``."""
    lang, unit = w.lang, ctx["unit_code"]
    prefix = wpi.prefix_of(ctx["inspection"], [r.id for r in ctx["rules"]])
    plan: dict[tuple[str, str], tuple] = {}

    def add(kind, rule_id, position, name, title):
        plan[(kind, rule_id)] = (wpi.paper(kind, unit, prefix, rule_id, position), w.reserve(name), title)

    insp = inspection_label(ctx["inspection"], lang)
    add(wpi.Kind.COVER, "", 0, w.t("wb.sheet.cover"), t("wb.title", lang) + " — " + t("wb.subtitle", lang,
                                                                                        inspection=insp))
    add(wpi.Kind.SUMMARY, "", 0, w.t("wb.sheet.summary"), w.t("wb.paper.summary"))
    for i, rule in enumerate(ctx["rules"], start=1):
        title = w.t("wb.paper.rule", rule_id=rule.id, title=rule.title(lang))
        add(wpi.Kind.RULE, rule.id, i, rule.id, title)
        ev = rows.get(rule.id)
        if ev is not None and len(ev):
            add(wpi.Kind.DETAIL, rule.id, i, w.t("wb.sheet.detail", rule_id=rule.id),
                w.t("wb.paper.detail", rule_id=rule.id, title=rule.title(lang)))
    problems = cert.problems_by_rule(ctx)
    ctx["problems"] = problems
    positions = {r.id: i for i, r in enumerate(ctx["rules"], start=1)}
    for rule in ctx["rules"]:
        if rule.id in problems:
            add(wpi.Kind.CERTIFICATE, rule.id, positions[rule.id], w.t("wb.sheet.cert_of", rule_id=rule.id),
                w.t("wb.paper.cert", rule_id=rule.id, title=rule.title(lang)))
    if not problems:
        add(wpi.Kind.CHECKLIST, "", 0, w.t("wb.sheet.checklist"), w.t("wb.paper.check"))
    return plan


def _certificate(w: Writer, ctx: dict, plan: dict, rows: dict) -> None:
    """One 取证单 per rule with 属实 or 已整改 findings; without any, the 疑点核实清单 instead."""
    problems = ctx["problems"]
    for rule in ctx["rules"]:
        if rule.id in problems:
            cert.write_certificate(w, ctx, plan[("certificate", rule.id)], rule, problems[rule.id],
                                   rows.get(rule.id))
    if not problems:
        cert.write_checklist(w, ctx, plan[("checklist", "")])


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



# --------------------------------------------------------------------------- sheets

def _summary(w: Writer, ctx: dict, planned) -> None:
    paper, name, title = planned
    ws = w.add_sheet(name, paper, title, ctx["unit_label"], reserved=True)
    lang = w.lang
    insp = inspection_label(ctx["inspection"], lang)
    w.text(ws, 0, 0, f"{ctx['unit_name']}（{ctx['unit_code']}） {w.t('wb.subtitle', inspection=insp)}"
           if lang == "zh" else f"{ctx['unit_name']} ({ctx['unit_code']}) {w.t('wb.subtitle', inspection=insp)}",
           w.heading(), track=False)
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
    cell, wrap = w.props(border=1), w.props(border=1, text_wrap=True)
    for rule in ctx["rules"]:
        mine = _of_rule(ctx, rule.id)
        n = len(mine)
        high = int((mine["severity"].astype(str) == "high").sum()) if n else 0
        tallies = vf.split(mine)
        w.text(ws, row, 0, rule.id, cell)
        w.text(ws, row, 1, rule.title(lang), wrap)
        w.text(ws, row, 2, rule.basis, wrap)
        not_tested = untested_text(ctx.get("untested"), ctx["unit_code"], rule.id, lang) if not n else ""
        if not_tested:  # 未检查（缺少 …）, never a 0 that reads as "no leads"
            w.text(ws, row, 3, not_tested, wrap)
            w.blank(ws, row, 4, border=1)
        else:
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
    money_cols = {c for c, key in enumerate(cols) if key.startswith("wb.sum.m.")}
    fixed = {0: 7, **{c: (13 if c in money_cols else 7) for c in range(3, len(cols))}}
    widths = w.fit_columns(ws, maximum=40, wrap={1: 12, 2: 16}, fixed=fixed)
    w.fit_rows(ws, widths, range(head, row + 1))
    _index_cell(w, ws, 0, len(cols) - 1, paper.index)
    _note_row(w, ws, 1, 0, len(cols) - 1, w.t("wb.sum.note"), w.fmt(italic=True, font_color="#595959",
                                                                        text_wrap=True), widths)


def _write_split(w: Writer, ws, row: int, col: int, split_cols, tallies: dict, bold: bool = False) -> None:
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


def _index_cell(w: Writer, ws, row: int, col: int, index: str) -> None:
    """The paper's index number, right-aligned at ``col`` of ``row``."""
    w.text(ws, row, col, w.t("wb.index", index=index), w.fmt(bold=True, align="right"), track=False)


def _note_row(w: Writer, ws, row: int, first: int, last: int, text: str, fmt, widths: dict[int, int]) -> None:
    """``text`` across columns ``first``..``last``, wrapped, the row as high as it needs."""
    if last > first:
        ws.merge_range(row, first, row, last, "", fmt)
    w.text(ws, row, first, text, fmt, track=False)
    width = sum(widths.get(c, 8) for c in range(first, last + 1))
    n = lines_needed(text, width)
    if n > 1:
        ws.set_row(row, row_height(n))


def _source_text(rec: dict, lang: str) -> str:
    """``payments.xlsx 第 39 行`` from a row's ``_file`` and ``_line``."""
    file = rec.get("_file")
    if is_missing(file) or not str(file).strip():
        return ""
    line = str(rec.get("_line", "")).strip()
    line = line[:-2] if line.endswith(".0") else line
    return t("wb.col.source_text", lang, file=file, line=line) if line.isdigit() else str(file)


def _value(w: Writer, ws, row: int, col: int, rule: Rule, name: str, v) -> None:
    """One evidence value: code values in the sheet's language, text wrapped, the rest typed."""
    if name in ENUM_LABELS and isinstance(v, str):  # code values in the sheet's language
        w.text(ws, row, col, enum_label(name, v, w.lang),
               w.props(border=1, align="center") if name == "severity" else w.props(border=1))
    elif isinstance(v, str):
        w.text(ws, row, col, v, w.props(border=1, text_wrap=True))
    else:
        w.cell(ws, row, col, v, percent=name in rule.percent)


def _rule_sheet(w: Writer, ctx: dict, rule: Rule, ev: pd.DataFrame | None, plan: dict) -> None:
    """A rule's paper: what was tested, the conclusion and the findings with the verification form."""
    paper, name, title = plan[("rule", rule.id)]
    ws = w.add_sheet(name, paper, title, ctx["unit_label"], reserved=True)
    lang = w.lang
    f = ctx["findings"]
    mine = _of_rule(ctx, rule.id)
    head = _HEAD_ROW
    intro = []
    if rule.basis:
        intro.append(w.t("wb.rule.basis", basis=rule.basis))
    if rule.penalty_basis:
        intro.append(w.t("wb.rule.penalty_basis", basis=rule.penalty_basis))
    if rule.advice(lang):
        intro.append(w.t("wb.rule.advice", advice=rule.advice(lang)))
    shown = param_text(rule, ctx["applied"].get(rule.id, {}), lang)
    intro.append(w.t("wb.rule.params", params=shown or w.t("wb.no_params")))
    if ev is None or not len(ev):
        w.text(ws, 0, 0, f"{rule.id} {rule.title(lang)}", w.heading(), track=False)
        widths = {0: 12, 1: 40, 2: 40}
        for c, width in widths.items():
            ws.set_column(c, c, width)
        _index_cell(w, ws, 0, 2, paper.index)
        _note_row(w, ws, 1, 0, 2, "\n".join(intro), w.fmt(text_wrap=True), widths)
        none = no_findings_text(ctx.get("untested"), ctx["unit_code"], rule.id, w.t("wb.none"), lang)
        w.text(ws, 3, 0, none, w.fmt(bold=True, font_color="#375623" if none == w.t("wb.none") else "#9C5700"),
               track=False)
        ws.freeze_panes(head, 0)
        return

    sources = "_file" in ev.columns
    cols = [c for c in _MAIN if c in ev.columns]
    form_keys = ("wb.col.finding_id", "wb.col.conclusion", "wb.col.explanation", "wb.col.confirmed_amount")
    headers = ([w.t("wb.col.no")] + [_header_of(rule, c, lang) for c in cols]
               + ([w.t("wb.col.source")] if sources else []) + [w.t(k) for k in form_keys])
    for c, text in enumerate(headers):
        w.text(ws, head, c, text, w.header())
    ids = _evidence_ids(ev, rule.id, ctx["unit_code"])
    decided = _decisions(f, rule.id, mine)
    c_src = len(cols) + 1 if sources else None
    first_form = len(cols) + 1 + (1 if sources else 0)
    c_id, c_status, c_reason, c_amount = (first_form + i for i in range(4))
    for i, (rec, fid) in enumerate(zip(_records(ctx, rule.id, ev), ids)):
        row = head + 1 + i
        w.cell(ws, row, 0, i + 1)
        for c, name_ in enumerate(cols, start=1):
            _value(w, ws, row, c, rule, name_, rec.get(name_))
        if sources:
            w.text(ws, row, c_src, _source_text(rec, lang), w.props(border=1, text_wrap=True))
        w.text(ws, row, c_id, fid, w.props(border=1, font_name="Consolas"))
        status, reason, amount = decided.get(fid, (None, "", None))
        if status is None:
            ws.write_blank(row, c_status, None, w.editable())
        else:
            w.text(ws, row, c_status, status.label(lang), w.editable())
        w.text(ws, row, c_reason, reason, w.editable(text_wrap=True), track=False)
        if amount is None:
            ws.write_blank(row, c_amount, None, w.editable(num_format=MONEY))
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
    wrap = {1: 12, c_id - 1: 10, c_reason: 12}  # 证据行, 来源 (or 情况说明), 核实说明 wrap
    if "detail" in cols:
        wrap[1 + cols.index("detail")] = 16
    widths = w.fit_columns(ws, minimum={c_id: 14, c_status: 9, c_reason: 20, c_amount: 13}, maximum=40, wrap=wrap)
    w.fit_rows(ws, widths, range(head, last + 1))

    # the rows above the table: title and index, what was tested, the conclusion, the note
    lastc = len(headers) - 1
    ws.merge_range(0, 0, 0, lastc - 2, "", w.heading())
    w.text(ws, 0, 0, f"{rule.id} {rule.title(lang)}", w.heading(), track=False)  # the importer's anchor
    ws.merge_range(0, lastc - 1, 0, lastc, "", w.fmt(bold=True, align="right"))
    _index_cell(w, ws, 0, lastc - 1, paper.index)
    check = rule.check(lang)
    _note_row(w, ws, 1, 0, lastc, check, w.fmt(text_wrap=True), widths)
    _note_row(w, ws, 2, 0, lastc, "\n".join(intro), w.fmt(text_wrap=True), widths)
    _note_row(w, ws, 3, 0, lastc, conclusion(mine, lang) if len(mine) else "",
              w.fmt(bold=True, font_color="#C00000", text_wrap=True), widths)
    detail = plan.get(("detail", rule.id))
    _note_row(w, ws, 4, 0, lastc, w.t("wb.rule.form", detail=detail[1] if detail else ""),
              w.fmt(italic=True, font_color="#595959", text_wrap=True), widths)


def _detail_sheet(w: Writer, ctx: dict, rule: Rule, ev: pd.DataFrame, planned) -> None:
    """``<id>-明细``: every evidence column of the rule's findings but the severity and the rule's
    sentence (both on the rule sheet), the source as ``<file> 第 <line> 行``; no form (that is on
    the rule sheet).

    Printed landscape one page wide when the text stays at 8 pt or more; else at
    :data:`MIN_PRINT_SCALE` across pages, the 序号 and 证据行 columns repeated on each.
    """
    paper, name, title = planned
    ws = w.add_sheet(name, paper, title, ctx["unit_label"], fit=False, reserved=True)
    lang = w.lang
    cols = [c for c in _evidence_columns(ev) if c not in _ON_RULE_SHEET and c not in _TAIL]
    sources = "_file" in ev.columns
    head = 2
    headers = [w.t("wb.col.no")] + [_header_of(rule, c, lang) for c in cols] + \
        ([w.t("wb.col.source")] if sources else [])
    for c, text in enumerate(headers):  # headers wrap: two lines of them set no width
        w.text(ws, head, c, text, w.header(), track=False)
        w._track(ws, c, max(4, (display_width(text) + 1) // 2))
    records = _records(ctx, rule.id, ev)
    for i, rec in enumerate(records):
        row = head + 1 + i
        w.cell(ws, row, 0, i + 1)
        for c, name_ in enumerate(cols, start=1):
            _value(w, ws, row, c, rule, name_, rec.get(name_))
        if sources:
            w.text(ws, row, len(cols) + 1, _source_text(rec, lang), w.props(border=1, text_wrap=True))
    last = head + len(ev)
    ws.freeze_panes(head + 1, 2)
    ws.autofilter(head, 0, last, len(headers) - 1)
    ws.repeat_rows(head)
    text_cols = {c: 10 for c, name_ in enumerate(cols, start=1)
                 if any(isinstance(rec.get(name_), str) for rec in records)}
    if sources:
        text_cols[len(cols) + 1] = 10
    widths = w.fit_columns(ws, maximum=36, wrap=text_cols)
    w.fit_rows(ws, widths, range(head, last + 1))
    if w.printed_px(widths) * MIN_PRINT_SCALE <= PAGE_PX["landscape"]:
        ws.fit_to_pages(1, 0)
    else:  # too wide for one page at 8 pt: across pages at that size, the first columns repeated
        ws.set_print_scale(int(MIN_PRINT_SCALE * 100))
        ws.repeat_columns(0, 1)
        ws.print_across()
    ws.print_area(0, 0, last, len(headers) - 1)
    # A1 does not begin with a rule id: the importer takes only the rule sheet for the rule's form
    w.text(ws, 0, 0, title, w.heading(), track=False)
    w.text(ws, 1, 0, w.t("wb.index", index=paper.index), w.fmt(bold=True), track=False)


def _of_rule(ctx: dict, rule_id: str) -> pd.DataFrame:
    """The workbook's findings of one rule (in their order, with their index), the findings split
    by rule once for the summary and every rule sheet."""
    f = ctx["findings"]
    if not len(f):
        return f
    groups = ctx.get("by_rule")
    if groups is None:
        groups = ctx["by_rule"] = {str(k): g for k, g in f.groupby(f["rule_id"].astype(str), sort=False)}
    got = groups.get(rule_id)
    return got if got is not None else f.iloc[0:0]


def _records(ctx: dict, rule_id: str, ev: pd.DataFrame) -> list[dict]:
    """The rule's evidence rows as records, made once for its rule sheet and its detail sheet."""
    memo = ctx.setdefault("records", {})
    if rule_id not in memo:
        memo[rule_id] = ev.to_dict("records")
    return memo[rule_id]


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


def _decisions(findings: pd.DataFrame, rule_id: str, mine: pd.DataFrame | None = None) -> dict[str, tuple]:
    """``finding_id`` -> (Status or None, 核实说明, 认定金额) of the rule's findings the register
    decided (nothing for a findings frame without the register's columns); ``mine``: the rule's
    rows of ``findings`` when the caller has them."""
    if not len(findings) or not ({"status", "status_reason", "confirmed_amount"} & set(findings.columns)):
        return {}
    if mine is None:
        mine = findings[findings["rule_id"].astype(str) == rule_id]
    ids = mine["finding_id"] if "finding_id" in mine.columns else finding_ids(mine)
    out = {}
    for fid, status, reason, amount in zip(ids, vf.statuses(mine), vf.reasons(mine), vf.confirmed_amounts(mine)):
        if status is not Status.OPEN or reason or amount is not None:
            out[str(fid)] = (None if status is Status.OPEN else status, reason, amount)
    return out


