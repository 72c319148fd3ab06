"""The cover (封面) of the evidence workbook: the elements of an 审计工作底稿.

《国家审计准则》 asks a working paper for seven elements; the cover carries each, labelled:

1. 审计（检查）项目名称 — ``project.name`` of the parameters (CONTRACT §2);
2. 审计（检查）事项名称 — the inspection and the unit (``小金库专项检查：县教育局（0011）``);
3. 审计过程和结论 — the rules run with the parameters applied (the table below) on the data
   sources listed (file, rows, SHA-256), and a conclusion in an auditor's words by status: 疑点
   before verification, 问题 only for what was verified 属实;
4. 审计人员姓名及编制日期并签名 — ``project.members``, the 编制人 and 核实人 names, dates and
   signature blanks;
5. 审核人员姓名、审核意见及审核日期并签名 — ``project.reviewer`` (复核人), the 审核意见 box, its
   date and signature blank;
6. 索引号及页码 — this paper's index number, the index of every paper of the workbook, and the
   page numbers every page prints in its header and footer;
7. 附件数量 — the 取证单 and evidence tables attached, counted.

Absent project values leave their cells blank (to fill in).  The 核实人 and 复核人 rows keep the
layout :mod:`auditlib.review.importer` reads back (label in column A, name in column B).
"""
from __future__ import annotations

import numbers
from decimal import Decimal

from auditlib.i18n import register
from auditlib.outputs import verification as vf
from auditlib.outputs import workpaper_index as wpi
from auditlib.outputs.formats import inspection_label, money, shown_path, table_label
from auditlib.outputs.xlsx_cells import DATE, NUMBER, PERCENT, Writer, is_missing, lines_needed, row_height
from auditlib.review import form
from auditlib.review.statuses import Status

register({
    "wb.title": ("审计工作底稿", "Audit working paper"),
    "wb.subtitle": ("{inspection}专项检查", "{inspection} inspection"),
    "cov.el.project": ("审计（检查）项目名称", "Audit project"),
    "cov.el.matter": ("审计（检查）事项名称", "Matter audited"),
    "cov.matter": ("{inspection}专项检查：{unit_name}（{unit_code}）", "{inspection} inspection: {unit_name} "
                   "({unit_code})"),
    "cov.team": ("检查组", "Team"),
    "cov.period": ("检查期间", "Period"),
    "wb.unit_code": form.COVER_UNIT,
    "wb.unit_name": ("被检查单位名称", "Unit name"),
    "wb.as_of": ("检查截止日", "Cut-off date"),
    "wb.fiscal_year": ("预算年度", "Fiscal year"),
    "wb.run_id": ("批次号", "Run id"),
    "wb.version": ("软件版本", "Software version"),
    "cov.el.process": ("审计过程", "Audit procedure"),
    "cov.process": ("运用 {n} 条检查规则（规则及本单位适用的参数见下表“检查参数”），对“数据来源”所列数据逐条分析；"
                    "每条疑点列于该规则的工作表（索引号见下表“底稿索引”），由检查人员逐条核实，核实结论填入工作表。",
                    "{n} rules were run (rules and the parameters applied: table “Parameters” below) on the data "
                    "listed under “Data sources”; each finding is listed on its rule's sheet (index below) and "
                    "verified one by one, the conclusion recorded on the sheet."),
    "cov.el.conclusion": ("审计结论", "Conclusion"),
    "cov.concl.none": ("运用上述规则未发现疑点。", "The rules found no leads."),
    "cov.concl.none_tested": ("已运行的规则未发现疑点。", "The rules that ran found no leads."),
    "cov.concl.untested": ("未检查（缺少所需数据，不能据此认为没有问题）：{rules}。",
                           "Not tested (input missing, no evidence either way): {rules}."),
    "cov.concl.found": ("发现疑点 {n} 条，涉及金额 {amount} 元", "{n} leads found, exposure {amount} yuan"),
    "cov.concl.split": ("发现疑点 {n} 条，其中：", "{n} leads found: "),
    "cov.concl.total": ("以上计入合计的金额 {amount} 元（属实按认定金额，排除的不计）。",
                        "Counted in totals: {amount} yuan (confirmed at the confirmed amount, dismissed left out). "),
    "cov.concl.open": ("待核实 {n} 条，涉及金额 {amount} 元", "{n} awaiting verification, {amount} yuan"),
    "cov.concl.confirmed": ("经核实属实的问题 {n} 条，金额 {amount} 元（见取证单）",
                            "{n} verified as problems, {amount} yuan (see the evidence certificates)"),
    "cov.concl.rectified": ("已整改 {n} 条，金额 {amount} 元", "{n} rectified, {amount} yuan"),
    "cov.concl.dismissed": ("经核实排除 {n} 条（不计入金额）", "{n} dismissed on verification (not counted)"),
    "cov.concl.caveat": ("疑点为数据分析结果，经核实属实并取得被检查单位确认后方为问题。",
                         "A lead comes from data analysis; it is a problem only once verified and confirmed by the "
                         "unit."),
    "cov.el.auditors": ("审计人员（检查人员）", "Auditors"),
    "wb.preparer": ("编制人", "Prepared by"),
    "wb.verifier": form.COVER_VERIFIER,
    "wb.reviewer": form.COVER_REVIEWER,
    "wb.date": ("日期", "Date"),
    "cov.sign": ("签名：", "Signature:"),
    "cov.el.opinion": ("审核意见", "Reviewer's opinion"),
    "cov.el.index": ("索引号", "Index number"),
    "cov.el.pages": ("页码", "Pages"),
    "cov.pages": ("每页页眉注明被检查单位、底稿名称和索引号，页脚注明“第 X 页 共 Y 页”。",
                  "Every page's header names the unit, the paper and its index number; its footer the page."),
    "cov.el.attachments": ("附件数量", "Attachments"),
    "cov.attachments": ("{n} 件（取证单 {certificates} 份，证据明细表 {details} 张）",
                        "{n} (evidence certificates: {certificates}; evidence tables: {details})"),
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
    "cov.papers": ("底稿索引", "Papers of this workbook"),
    "cov.pap.index": ("索引号", "Index"),
    "cov.pap.title": ("底稿名称", "Paper"),
    "cov.pap.sheet": ("工作表", "Sheet"),
})

#: column widths of the cover (portrait A4): label, value, date label, date, signature
_WIDTHS = {0: 20, 1: 22, 2: 12, 3: 14, 4: 12}
_VALUE_WIDTH = sum(_WIDTHS[c] for c in (1, 2, 3, 4))


def attachments(papers) -> tuple[int, int]:
    """(取证单 count, evidence table count) among ``papers`` (:class:`workpaper_index.Paper`)."""
    kinds = [p.kind for p, _, _ in papers]
    return kinds.count(wpi.Kind.CERTIFICATE), kinds.count(wpi.Kind.DETAIL)


def untested_sentence(untested, unit_code: str, rules, findings, lang: str = "zh") -> str:
    """The cover's sentence on the rules without findings that could not test the unit (CONTRACT §3
    未检查), each with its reason; "" when every rule ran."""
    from auditlib.i18n import t
    from auditlib.rules.coverage import reason

    found = set(findings["rule_id"].astype(str)) if len(findings) else set()
    items = [f"{r.id}（{why}）" if lang == "zh" else f"{r.id} ({why})"
             for r in rules if r.id not in found and (why := reason(untested, unit_code, r.id, lang))]
    if not items:
        return ""
    return t("cov.concl.untested", lang, rules=("、" if lang == "zh" else "; ").join(items))


def conclusion(findings, lang: str = "zh") -> str:
    """The cover's conclusion: 疑点 found, then by status (问题 only for 属实), and the caveat."""
    from auditlib.i18n import t

    n = len(findings)
    if not n:
        return t("cov.concl.none", lang)
    tallies = vf.split(findings)
    total = vf.counted_total(findings)
    sep = "；" if lang == "zh" else "; "
    end = "。" if lang == "zh" else ". "
    if tallies[Status.OPEN].count == n:  # nothing verified yet: 疑点 only
        return t("cov.concl.found", lang, n=n, amount=money(total.money or Decimal(0))) + end + \
            t("cov.concl.caveat", lang)
    parts = []
    for status, key in ((Status.OPEN, "cov.concl.open"), (Status.CONFIRMED, "cov.concl.confirmed"),
                        (Status.RECTIFIED, "cov.concl.rectified")):
        tally = tallies[status]
        if tally.count:
            parts.append(t(key, lang, n=tally.count, amount=money(tally.money or Decimal(0))))
    if tallies[Status.DISMISSED].count:
        parts.append(t("cov.concl.dismissed", lang, n=tallies[Status.DISMISSED].count))
    return (t("cov.concl.split", lang, n=n) + sep.join(parts) + end
            + t("cov.concl.total", lang, amount=money(total.money or Decimal(0))) + t("cov.concl.caveat", lang))


def write_cover(w: Writer, ctx: dict, papers: list) -> None:
    """The cover sheet.

    Parameters
    ----------
    w : Writer
    ctx : dict
        The workbook's context (unit, inspection, params, findings, rules, sources, run id).
    papers : list of (Paper, sheet name, title)
        Every paper of the workbook, the cover first.
    """
    lang = w.lang
    me, name, title = papers[0]
    unit_label = f"{ctx['unit_name']}（{ctx['unit_code']}）" if lang == "zh" else \
        f"{ctx['unit_name']} ({ctx['unit_code']})"
    ws = w.add_sheet(name, me, title, unit_label, portrait=True, reserved=True)
    project = ctx["params"].project or {}
    label, value = w.fmt(bold=True, border=1, bg_color="#F2F2F2", text_wrap=True), \
        w.fmt(border=1, text_wrap=True, align="left")
    ws.merge_range(0, 0, 0, 4, "", w.title())
    w.text(ws, 0, 0, w.t("wb.title"), w.title(), track=False)
    insp = inspection_label(ctx["inspection"], lang)
    sub = w.fmt(bold=True, font_size=12, align="center")
    ws.merge_range(1, 0, 1, 4, "", sub)
    w.text(ws, 1, 0, w.t("wb.subtitle", inspection=insp), sub, track=False)
    ws.set_row(0, 28)
    w.text(ws, 2, 3, w.t("cov.el.index"), w.fmt(bold=True, align="right"), track=False)
    w.text(ws, 2, 4, me.index, w.fmt(bold=True), track=False)

    def line(row, key, v, height_text=None):
        """A label in A and its value across B:E (wrapped, the row as high as the text)."""
        w.text(ws, row, 0, w.t(key), label, track=False)
        ws.merge_range(row, 1, row, 4, "", value)
        if isinstance(v, str) or v is None or is_missing(v):
            w.text(ws, row, 1, v, value, track=False)
            text = v or ""
        else:
            w.cell(ws, row, 1, v)
            text = ""
        n = max(lines_needed(height_text or text, _VALUE_WIDTH), lines_needed(w.t(key), _WIDTHS[0]))
        if n > 1:
            ws.set_row(row, row_height(n))
        return row + 1

    row = 4
    row = line(row, "cov.el.project", project.get("name", ""))
    row = line(row, "cov.el.matter", w.t("cov.matter", inspection=insp, unit_name=ctx["unit_name"],
                                         unit_code=ctx["unit_code"]))
    row = line(row, "cov.team", project.get("team", ""))
    row = line(row, "cov.period", project.get("period", ""))
    row = line(row, "wb.unit_code", ctx["unit_code"])
    row = line(row, "wb.unit_name", ctx["unit_name"])
    row = line(row, "wb.as_of", ctx["params"].as_of)
    row = line(row, "wb.fiscal_year", ctx["params"].fiscal_year)
    row = line(row, "wb.run_id", ctx["run_id"])
    row = line(row, "wb.version", f"auditlib {ctx['version']}")

    # 3. process and conclusion
    row = line(row, "cov.el.process", w.t("cov.process", n=len(ctx["rules"])))
    concluded = conclusion(ctx["findings"], lang)
    not_tested = untested_sentence(ctx.get("untested"), ctx["unit_code"], ctx.get("rules") or (), ctx["findings"], lang)
    if not_tested and not len(ctx["findings"]):  # never "the rules found no leads" over rules that could not run
        concluded = w.t("cov.concl.none_tested")
    row = line(row, "cov.el.conclusion", concluded + (" " if lang != "zh" else "") + not_tested if not_tested
               else concluded)

    # 4. and 5. auditors, preparer, verifier and reviewer (names are the ``by`` of imported decisions)
    members = project.get("members") or []
    row = line(row, "cov.el.auditors", ("、" if lang == "zh" else ", ").join(members))
    sign = w.fmt(bottom=1, font_color="#595959", valign="bottom")
    names = {"wb.preparer": "", "wb.verifier": "", "wb.reviewer": project.get("reviewer", "")}
    for who, preset in names.items():
        w.text(ws, row, 0, w.t(who), label)
        if preset:
            w.text(ws, row, 1, preset, w.editable(), track=False)
        else:
            ws.write_blank(row, 1, None, w.editable())
        w.text(ws, row, 2, w.t("wb.date"), label, track=False)
        ws.write_blank(row, 3, None, w.editable(num_format=DATE))
        w.text(ws, row, 4, w.t("cov.sign"), sign, track=False)
        ws.set_row(row, 26)
        row += 1
    w.text(ws, row, 0, w.t("cov.el.opinion"), label, track=False)
    ws.merge_range(row, 1, row, 4, "", w.editable(text_wrap=True, valign="top"))
    ws.set_row(row, 60)
    row += 1

    # 6. and 7. index number, pages, attachments
    row = line(row, "cov.el.index", me.index)
    row = line(row, "cov.el.pages", w.t("cov.pages"))
    certificates, details = attachments(papers)
    row = line(row, "cov.el.attachments", w.t("cov.attachments", n=certificates + details,
                                              certificates=certificates, details=details))

    row = _papers(w, ws, row + 1, papers)
    row = _sources(w, ws, row + 1, ctx)
    end = _parameters(w, ws, row + 1, ctx)
    w.fit_columns(ws, fixed=_WIDTHS)
    w.fit_rows(ws, _WIDTHS, range(row + 1, end))  # the parameters' rows (no merged cells there)
    ws.print_area(0, 0, ws.dim_rowmax or 0, 4)


def _table_head(w: Writer, ws, row: int, key: str, heads: list[str]) -> int:
    w.text(ws, row, 0, w.t(key), w.heading(), track=False)
    row += 1
    for c, text in enumerate(heads):
        w.text(ws, row, c, text, w.header(), track=False)
    return row + 1


def _papers(w: Writer, ws, row: int, papers) -> int:
    """底稿索引: every paper's index number, title and sheet."""
    row = _table_head(w, ws, row, "cov.papers", [w.t("cov.pap.index"), w.t("cov.pap.title"), "", "",
                                                 w.t("cov.pap.sheet")])
    ws.merge_range(row - 1, 1, row - 1, 3, "", w.header())
    w.text(ws, row - 1, 1, w.t("cov.pap.title"), w.header(), track=False)
    cell = w.fmt(border=1, text_wrap=True)
    for paper, name, title in papers:
        w.text(ws, row, 0, paper.index, cell, track=False)
        ws.merge_range(row, 1, row, 3, "", cell)
        w.text(ws, row, 1, title, cell, track=False)
        w.text(ws, row, 4, name, cell, track=False)
        n = max(lines_needed(title, _WIDTHS[1] + _WIDTHS[2] + _WIDTHS[3]), lines_needed(name, _WIDTHS[4]))
        if n > 1:
            ws.set_row(row, row_height(n))
        row += 1
    return row


def _sources(w: Writer, ws, row: int, ctx: dict) -> int:
    """数据来源: file, table, rows and SHA-256 of every input file."""
    heads = [w.t("wb.src.file"), w.t("wb.src.table"), w.t("wb.src.rows"), w.t("wb.src.sha256"), ""]
    row = _table_head(w, ws, row, "wb.sources", heads)
    ws.merge_range(row - 1, 3, row - 1, 4, "", w.header())
    w.text(ws, row - 1, 3, w.t("wb.src.sha256"), w.header(), track=False)
    value = w.fmt(border=1, text_wrap=True)
    if not ctx["sources"]:
        w.text(ws, row, 0, w.t("wb.no_sources"), value, track=False)
        return row + 1
    mono = w.fmt(border=1, font_name="Consolas", text_wrap=True)
    for src in ctx["sources"]:
        w.text(ws, row, 0, shown_path(src.get("file")) or src.get("file"), value, track=False)
        w.text(ws, row, 1, table_label(src.get("table"), w.lang), value, track=False)
        rows = src.get("rows")
        if isinstance(rows, numbers.Integral) and not isinstance(rows, bool):
            w.cell(ws, row, 2, rows)
        else:
            w.text(ws, row, 2, rows, value, track=False)
        ws.merge_range(row, 3, row, 4, "", mono)
        sha = src.get("sha256")
        w.text(ws, row, 3, sha, mono, track=False)
        ws.set_row(row, row_height(max(lines_needed(str(sha or ""), _WIDTHS[3] + _WIDTHS[4]),
                                       lines_needed(str(src.get("file") or ""), _WIDTHS[0]))))
        row += 1
    return row


def _parameters(w: Writer, ws, row: int, ctx: dict) -> int:
    """检查参数: every rule's parameters as applied to the unit, its own settings marked."""
    lang = w.lang
    heads = [w.t(k) for k in ("wb.par.rule", "wb.par.name", "wb.par.label", "wb.par.value", "wb.par.override")]
    row = _table_head(w, ws, row, "wb.params", heads)
    value = w.fmt(border=1, text_wrap=True)
    overrides = ctx["params"].units.get(ctx["unit_code"], {})
    for rule in ctx["rules"]:
        values = ctx["applied"].get(rule.id, {})
        names = [p.name for p in rule.params] + [n for n in values if n not in {p.name for p in rule.params}]
        title = f"{rule.id} {rule.title(lang)}"
        if not names:
            w.text(ws, row, 0, title, value, track=False)
            w.text(ws, row, 1, w.t("wb.par.none"), value, track=False)
            for c in (2, 3, 4):
                w.blank(ws, row, c, border=1)
            row += 1
            continue
        for name in names:
            w.text(ws, row, 0, title, value, track=False)
            w.text(ws, row, 1, name, value, track=False)
            try:
                prm = rule.param(name)
                w.text(ws, row, 2, prm.label(lang), value, track=False)
                ptype = prm.type
            except KeyError:
                w.blank(ws, row, 2, border=1)
                ptype = ""
            _param_value(w, ws, row, values.get(name), ptype)
            w.text(ws, row, 4, w.t("wb.yes") if name in overrides.get(rule.id, {}) else "", value, track=False)
            row += 1
    return row


def _param_value(w: Writer, ws, row: int, v, ptype: str) -> None:
    """A parameter's value by its type: money, a ratio as a percentage, whole numbers, words."""
    if isinstance(v, (list, tuple)):
        w.text(ws, row, 3, "、".join(map(str, v)), w.fmt(border=1, text_wrap=True), track=False)
    elif is_missing(v) or isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        w.cell(ws, row, 3, v)
    elif ptype == "money":
        w.money(ws, row, 3, v, border=1)
    elif ptype == "ratio":  # a share as a percentage: 0.015 -> 1.5%
        ws.write_number(row, 3, float(v), w.props(border=1, num_format=PERCENT))
    elif ptype in ("days", "count") or Decimal(v) == Decimal(v).to_integral():
        w.cell(ws, row, 3, int(v))
    else:
        ws.write_number(row, 3, float(v), w.props(border=1, num_format=NUMBER))


__all__ = ["attachments", "conclusion", "write_cover"]
