"""The 审计（检查）取证单 of the evidence workbook, one per confirmed matter, and the 疑点核实清单.

A matter is a rule with findings verified 属实 or 已整改 (CONTRACT §6): its 取证单 states the
facts of each such finding in words (:func:`auditlib.outputs.facts.fact`: who, when, how much, to
or from whom, the source file and line), the verification (结论, 认定金额, 核实说明), the rule's
依据, 处理依据 and 处理建议 when it has them, and the blanks a 取证单 needs on paper: 证据提供单位,
附件页数, the inspected unit's opinion, and the signatures, seal and dates of the 检查人员, the
复核人 and the unit's head.

A workbook without any confirmed matter gets the 疑点核实清单 instead: the open findings to verify
(the conclusions go into the rule sheets' form cells).
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from auditlib.i18n import register
from auditlib.outputs import verification as vf
from auditlib.outputs.facts import fact
from auditlib.outputs.formats import inspection_label, money
from auditlib.outputs.xlsx_cells import Writer, lines_needed, row_height
from auditlib.rules.identity import finding_ids
from auditlib.rules.model import COMMON_COLUMNS, Rule
from auditlib.review.statuses import Status

register({
    "wb.sheet.certificate": ("取证单", "Certificate"),
    "wb.sheet.checklist": ("疑点核实清单", "Findings to verify"),
    "wb.cert.title": ("审计（检查）取证单", "Audit (inspection) evidence certificate"),
    "cert.index": ("索引号：{index}", "Index: {index}"),
    "cert.project": ("项目名称", "Project"),
    "cert.unit": ("被检查单位", "Inspected unit"),
    "cert.matter": ("检查事项", "Matter"),
    "cert.matter_text": ("{inspection}专项检查 — {rule_id} {title}", "{inspection} inspection — {rule_id} {title}"),
    "cert.facts": ("审计（检查）事项摘要", "Facts"),
    "cert.summary": ("经检查并核实，{unit}存在下列情况，共 {n} 笔，涉及金额 {exposure} 元{confirmed}：",
                     "Inspected and verified: {unit}, {n} items, exposure {exposure} yuan{confirmed}:"),
    "cert.summary_confirmed": ("，认定金额 {amount} 元", ", confirmed amount {amount} yuan"),
    "cert.item": ("（{i}）", "({i}) "),
    "cert.verdict": ("核实结论：{status}", "Conclusion: {status}"),
    "cert.verdict_amount": ("认定金额 {amount} 元", "confirmed amount {amount} yuan"),
    "cert.verdict_reason": ("核实说明：{reason}", "explanation: {reason}"),
    "cert.finding_id": ("疑点编号 {fid}", "finding {fid}"),
    "cert.basis": ("依据", "Basis"),
    "cert.penalty_basis": ("处理依据", "Legal basis for handling"),
    "cert.advice": ("处理建议", "Suggested handling"),
    "cert.provider": ("证据提供单位", "Evidence provided by"),
    "cert.provider_text": ("{unit}（盖章）", "{unit} (seal)"),
    "cert.attached": ("附件页数", "Pages attached"),
    "cert.attached_text": ("共　　页", "____ pages"),
    "wb.cert.opinion": ("被检查单位意见：", "Opinion of the inspected unit:"),
    "cert.opinion_hint": ("（请被检查单位对以上事实签署意见，如：情况属实）",
                          "(the inspected unit states its opinion of the facts above, e.g. “the facts are true”)"),
    "cert.auditors": ("检查人员（签名）：", "Inspectors (signature):"),
    "wb.cert.reviewer": ("复核人（签名）：", "Reviewer (signature):"),
    "wb.cert.unit_head": ("被检查单位负责人（签名）：", "Head of the inspected unit (signature):"),
    "wb.cert.seal": ("被检查单位（盖章）：", "Inspected unit (seal):"),
    "cert.date": ("日期：　　年　　月　　日", "Date: ________"),
    "wb.check.title": ("疑点核实清单", "Findings to verify"),
    "wb.check.unit": ("被检查单位：{unit_name}（{unit_code}）", "Unit: {unit_name} ({unit_code})"),
    "wb.check.inspection": ("检查事项：{inspection}　检查截止日：{as_of}　批次号：{run_id}",
                            "Inspection: {inspection}   Cut-off: {as_of}   Run id: {run_id}"),
    "wb.check.note": ("本单位本事项尚无核实属实的问题，故不出具取证单。以下疑点待核实，核实结论请填在各规则工作表的黄色单元格中。",
                      "No finding of this unit and inspection has been confirmed yet, so there is no evidence "
                      "certificate. The findings below await verification: record the conclusions in the yellow "
                      "cells of each rule's sheet."),
    "wb.check.none": ("没有待核实的疑点。", "No findings await verification."),
    "wb.check.total": ("合计 {n} 条", "Total {n}"),
})

#: column widths of a 取证单 (portrait A4): label, then five columns of text
_WIDTHS = {0: 16, 1: 16, 2: 12, 3: 14, 4: 10, 5: 12}
_TEXT_WIDTH = sum(w for c, w in _WIDTHS.items() if c)


def problems_by_rule(ctx: dict) -> dict[str, pd.DataFrame]:
    """The 属实 and 已整改 findings of each rule that has any, in the rules' order."""
    f = ctx["findings"]
    if not len(f):
        return {}
    problems = f[[s in vf.PROBLEMS for s in vf.statuses(f)]]
    out = {}
    for rule in ctx["rules"]:
        mine = problems[problems["rule_id"].astype(str) == rule.id]
        if len(mine):
            out[rule.id] = mine.sort_values("ref", kind="stable")
    return out


def _unit_label(ctx: dict, lang: str) -> str:
    return f"{ctx['unit_name']}（{ctx['unit_code']}）" if lang == "zh" else f"{ctx['unit_name']} ({ctx['unit_code']})"


def write_certificate(w: Writer, ctx: dict, planned, rule: Rule, problems: pd.DataFrame,
                      evidence: pd.DataFrame | None) -> None:
    """The 取证单 of one rule's confirmed findings.

    Parameters
    ----------
    planned : (Paper, sheet name, title)
        This paper of the workbook's plan.
    problems : DataFrame
        The rule's 属实 and 已整改 findings.
    evidence : DataFrame or None
        The rule's evidence rows of the unit (their facts, by ``ref``).
    """
    lang = w.lang
    paper, name, title = planned
    unit = _unit_label(ctx, lang)
    ws = w.add_sheet(name, paper, title, unit, portrait=True, reserved=True)
    label = w.fmt(bold=True, border=1, bg_color="#F2F2F2", text_wrap=True, valign="vcenter")
    value = w.fmt(border=1, text_wrap=True, align="left", valign="top")
    last = max(_WIDTHS)
    ws.merge_range(0, 0, 0, last, "", w.title())
    w.text(ws, 0, 0, w.t("wb.cert.title"), w.title(), track=False)
    ws.set_row(0, 30)
    ws.merge_range(1, 3, 1, last, "", w.fmt(align="right"))
    w.text(ws, 1, 3, w.t("cert.index", index=paper.index), w.fmt(align="right"), track=False)

    def line(row, key, text, min_lines=1, fmt=None):
        w.text(ws, row, 0, w.t(key), label, track=False)
        ws.merge_range(row, 1, row, last, "", fmt or value)
        w.text(ws, row, 1, text, fmt or value, track=False)
        ws.set_row(row, row_height(max(min_lines, lines_needed(text or "", _TEXT_WIDTH),
                                       lines_needed(w.t(key), _WIDTHS[0]))))
        return row + 1

    project = ctx["params"].project or {}
    row = 2
    row = line(row, "cert.project", project.get("name", ""))
    row = line(row, "cert.unit", unit)
    row = line(row, "cert.matter", w.t("cert.matter_text", inspection=inspection_label(ctx["inspection"], lang),
                                       rule_id=rule.id, title=rule.title(lang)))

    # the facts: a summary sentence, then one numbered paragraph per finding
    exposures = [e for e in vf.exposure(problems) if e is not None]
    counted = [c for c in vf.counted(problems) if c is not None]
    confirmed = vf.confirmed_amounts(problems)
    conf_text = w.t("cert.summary_confirmed", amount=money(sum(counted, Decimal(0)))) \
        if any(c is not None for c in confirmed) else ""
    summary = w.t("cert.summary", unit=unit, n=len(problems), exposure=money(sum(exposures, Decimal(0))),
                  confirmed=conf_text)
    start = row
    paragraphs = [summary]
    rows_of = _evidence_by_ref(evidence)
    ids = problems["finding_id"] if "finding_id" in problems.columns else finding_ids(problems)
    sep = "；" if lang == "zh" else "; "
    for i, (rec, fid, status, amount, reason) in enumerate(zip(
            problems.to_dict("records"), ids, vf.statuses(problems), confirmed, vf.reasons(problems)), start=1):
        ev = rows_of.get(str(rec.get("ref")))
        if ev is None:  # no evidence row at hand: the finding's own sentence
            ev = {"detail": rec.get("detail", "")}
        said = fact(rule, ev, unit, lang)
        verdict = [w.t("cert.verdict", status=status.label(lang))]
        if amount is not None:
            verdict.append(w.t("cert.verdict_amount", amount=money(amount)))
        if reason:
            verdict.append(w.t("cert.verdict_reason", reason=reason))
        verdict.append(w.t("cert.finding_id", fid=fid))
        paragraphs.append(f"{w.t('cert.item', i=i)}{said}{sep.join(verdict)}{'。' if lang == 'zh' else '.'}")
    for text in paragraphs:
        ws.merge_range(row, 1, row, last, "", value)
        w.text(ws, row, 1, text, value, track=False)
        ws.set_row(row, row_height(lines_needed(text, _TEXT_WIDTH)))
        row += 1
    ws.merge_range(start, 0, row - 1, 0, "", label)
    w.text(ws, start, 0, w.t("cert.facts"), label, track=False)

    row = line(row, "cert.basis", rule.basis)
    if rule.penalty_basis:
        row = line(row, "cert.penalty_basis", rule.penalty_basis)
    if rule.advice(lang):
        row = line(row, "cert.advice", rule.advice(lang))
    row = line(row, "cert.provider", w.t("cert.provider_text", unit=unit), min_lines=2)
    row = line(row, "cert.attached", w.t("cert.attached_text"))

    # the unit's opinion: a box
    box = w.fmt(border=1, text_wrap=True, valign="top", font_color="#808080")
    w.text(ws, row, 0, w.t("wb.cert.opinion"), label, track=False)
    ws.merge_range(row, 1, row, last, "", box)
    w.text(ws, row, 1, w.t("cert.opinion_hint"), box, track=False)
    ws.set_row(row, 90)
    row += 2

    # signatures, seal and dates
    bold, blank = w.fmt(bold=True, valign="bottom"), w.fmt(bottom=1, valign="bottom")
    for key in ("cert.auditors", "wb.cert.reviewer", "wb.cert.unit_head", "wb.cert.seal"):
        ws.merge_range(row, 0, row, 1, "", bold)
        w.text(ws, row, 0, w.t(key), bold, track=False)
        ws.merge_range(row, 2, row, 3, "", blank)
        ws.merge_range(row, 4, row, last, "", bold)
        w.text(ws, row, 4, w.t("cert.date"), bold, track=False)
        ws.set_row(row, 30)
        row += 1
    ws.print_area(0, 0, row - 1, last)
    w.fit_columns(ws, fixed=_WIDTHS)


def _evidence_by_ref(evidence: pd.DataFrame | None) -> dict[str, dict]:
    """Evidence rows by ``ref`` (the first row of a ref)."""
    if evidence is None or not len(evidence) or "ref" not in evidence.columns:
        return {}
    out: dict[str, dict] = {}
    for rec in evidence.to_dict("records"):
        out.setdefault(str(rec["ref"]), rec)
    return out


def _common_label(name: str, lang: str) -> str:
    zh, en = COMMON_COLUMNS[name]
    return zh if lang == "zh" else en


def write_checklist(w: Writer, ctx: dict, planned) -> None:
    """疑点核实清单: the open findings to verify, a plain list (the form cells are on the rule sheets)."""
    lang, f = w.lang, ctx["findings"]
    paper, name, title = planned
    ws = w.add_sheet(name, paper, title, _unit_label(ctx, lang), reserved=True)
    open_ = f[[s is Status.OPEN for s in vf.statuses(f)]] if len(f) else f
    if len(open_):
        order = {r.id: i for i, r in enumerate(ctx["rules"])}
        open_ = open_.assign(_o=open_["rule_id"].astype(str).map(order)).sort_values(["_o", "ref"], kind="stable")
    last_col = 6
    ws.merge_range(0, 0, 0, last_col, "", w.title())
    w.text(ws, 0, 0, w.t("wb.check.title"), w.title(), track=False)
    ws.set_row(0, 28)
    insp = inspection_label(ctx["inspection"], lang)
    w.text(ws, 1, 0, w.t("wb.check.unit", unit_name=ctx["unit_name"], unit_code=ctx["unit_code"]), track=False)
    w.text(ws, 1, 5, w.t("cert.index", index=paper.index), w.fmt(bold=True), track=False)
    w.text(ws, 2, 0, w.t("wb.check.inspection", inspection=insp, as_of=ctx["params"].as_of.isoformat(),
                         run_id=ctx["run_id"]), track=False)
    note = w.fmt(italic=True, font_color="#595959", text_wrap=True)
    ws.merge_range(3, 0, 3, last_col, "", note)
    w.text(ws, 3, 0, w.t("wb.check.note"), note, track=False)
    ws.set_row(3, row_height(2))
    head = 5
    heads = [w.t("wb.col.no"), w.t("wb.col.finding_id"), w.t("wb.col.rule_id"), w.t("wb.col.lead_title"),
             _common_label("ref", lang), w.t("wb.sum.m.open"), _common_label("detail", lang)]
    for c, text in enumerate(heads):
        w.text(ws, head, c, text, w.header())
    titles = {r.id: r.title(lang) for r in ctx["rules"]}
    ids = open_["finding_id"] if "finding_id" in open_.columns else finding_ids(open_)
    cell, wrap = w.props(border=1), w.props(border=1, text_wrap=True)
    row = head + 1
    for i, (rec, fid, exp) in enumerate(zip(open_.itertuples(index=False), ids, vf.exposure(open_))):
        w.cell(ws, row, 0, i + 1)
        w.text(ws, row, 1, fid, w.props(border=1, font_name="Consolas"))
        w.text(ws, row, 2, rec.rule_id, cell)
        w.text(ws, row, 3, titles.get(str(rec.rule_id), getattr(rec, "title", "")), wrap)
        w.text(ws, row, 4, rec.ref, wrap)
        w.money(ws, row, 5, exp, border=1)
        w.text(ws, row, 6, rec.detail, wrap)
        row += 1
    if not len(open_):
        ws.merge_range(row, 0, row, last_col, "", cell)
        w.text(ws, row, 0, w.t("wb.check.none"), cell, track=False)
        row += 1
    bold = w.props(border=1, bold=True)
    w.text(ws, row, 0, w.t("wb.sum.total"), bold, track=False)
    w.text(ws, row, 1, w.t("wb.check.total", n=len(open_)), bold, track=False)
    for c in (2, 3, 4, 6):
        w.blank(ws, row, c, border=1, bold=True)
    w.money(ws, row, 5, vf.split(open_)[Status.OPEN].money, border=1, bold=True)
    ws.freeze_panes(head + 1, 0)
    if len(open_):
        ws.autofilter(head, 0, row - 1, last_col)
    ws.repeat_rows(head)
    ws.print_area(0, 0, row, last_col)
    widths = w.fit_columns(ws, minimum={0: 5, 1: 14, 2: 7, 3: 16, 4: 16, 5: 13, 6: 30}, maximum=40,
                           wrap={3: 12, 4: 14, 6: 20})
    w.fit_rows(ws, widths, range(head, row + 1))


__all__ = ["problems_by_rule", "write_certificate", "write_checklist"]
