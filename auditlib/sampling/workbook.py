"""``sample.xlsx``: the sampling plan and the sample as a form to fill in (CONTRACT §7).

Two sheets, written with the evidence workbook's typed-cell writer
(:class:`auditlib.outputs.xlsx_cells.Writer`: text from the data stays inert text, money exact to
the cent, every sheet protected without a password):

* 抽样方案 (plan): population, filters, book value, method, confidence, tolerable and expected
  misstatement, n, interval, random start, seed, the top stratum listed apart, and — once
  ``auditlib sample evaluate`` has read the filled sample — the evaluation;
* 样本 (sample): one row per sampled item with its source file and line, and the three input cells
  (unlocked, highlighted): 核实结论 (a list: 无差错 / 有差错 / 无法核实), 差错金额 and 说明.

The whole file is written through :func:`auditlib.common.files.atomic_write`; the evaluation
rewrites it from ``plan.json`` and the auditor's read-back inputs, so the inputs are kept.
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from auditlib.common.files import atomic_write
from auditlib.i18n import register
from auditlib.outputs.xlsx_cells import Writer
from auditlib.sampling import words
from auditlib.sampling.words import Conclusion

register({
    "smp.wb.plan": ("抽样方案", "Plan"),
    "smp.wb.sample": ("样本", "Sample"),
    "smp.wb.title": ("审计抽样方案", "Audit sampling plan"),
    "smp.wb.sample_title": ("审计抽样样本（请逐项核实并填写黄色单元格）",
                            "Audit sample (verify each item and fill in the yellow cells)"),
    "smp.wb.kind.payments": ("支付（payments）", "payments"),
    "smp.wb.kind.findings": ("批次疑点（findings）", "findings of a run"),
    "smp.wb.population": ("抽样总体", "Population"),
    "smp.wb.source": ("数据来源", "Source"),
    "smp.wb.filters": ("筛选条件", "Filters"),
    "smp.wb.none": ("（无）", "(none)"),
    "smp.wb.count": ("总体项目数", "Items in the population"),
    "smp.wb.book": ("账面金额（元）", "Book value (yuan)"),
    "smp.wb.apart": ("不参与抽样的项目（未支付或金额 ≤ 0）", "Items not sampled (unpaid or amount ≤ 0)"),
    "smp.wb.apart_value": ("{count} 项，合计 {amount} 元", "{count} items, {amount} yuan"),
    "smp.wb.method": ("抽样方法", "Method"),
    "smp.wb.confidence": ("可信赖程度", "Confidence"),
    "smp.wb.tolerable": ("可容忍错报（元）", "Tolerable misstatement (yuan)"),
    "smp.wb.expected": ("预计错报（元）", "Expected misstatement (yuan)"),
    "smp.wb.size_rule": ("样本量确定方法", "Sample size from"),
    "smp.wb.rule.poisson": ("泊松法（AICPA《审计抽样指南》）", "Poisson method (AICPA Audit Sampling guide)"),
    "smp.wb.rule.attribute": ("属性抽样表（二项分布）", "attribute-sampling table (binomial)"),
    "smp.wb.rule.fixed": ("指定样本量（--size）", "fixed (--size)"),
    "smp.wb.factor": ("可信赖系数", "Confidence factor"),
    "smp.wb.n": ("样本量 n（选取次数）", "Sample size n (selections)"),
    "smp.wb.interval": ("抽样间距（元）= 账面金额 ÷ n", "Sampling interval (yuan) = book value ÷ n"),
    "smp.wb.start": ("随机起点（元）", "Random start (yuan)"),
    "smp.wb.seed": ("随机种子", "Seed"),
    "smp.wb.rng": ("随机数发生器", "Random generator"),
    "smp.wb.top": ("高额层（≥ 抽样间距，全部抽取）", "Top stratum (≥ the interval, all taken)"),
    "smp.wb.items": ("样本项目数 / 金额（元）", "Items sampled / amount (yuan)"),
    "smp.wb.items_value": ("{count} 项，合计 {amount} 元", "{count} items, {amount} yuan"),
    "smp.wb.created": ("生成时间", "Created"),
    "smp.wb.inputs": ("输入文件 SHA-256", "Input files SHA-256"),
    "smp.wb.top_list": ("高额层项目（单独列示）", "Top stratum items (listed apart)"),
    "smp.wb.eval": ("抽样结果评价", "Evaluation"),
    "smp.wb.col.layer": ("分层", "Stratum"),
    "smp.wb.layer.top": ("高额层", "top"),
    "smp.wb.layer.rest": ("抽样层", "sampled"),
    "smp.wb.col.unit": ("单位编码", "Unit"),
    "smp.wb.col.date": ("支付日期", "Paid on"),
    "smp.wb.col.party.payments": ("收款人", "Payee"),
    "smp.wb.col.party.findings": ("疑点", "Finding"),
    "smp.wb.col.category.payments": ("支出类型", "Expense type"),
    "smp.wb.col.category.findings": ("规则", "Rule"),
    "smp.wb.col.memo.payments": ("摘要", "Memo"),
    "smp.wb.col.memo.findings": ("证据行", "Evidence row"),
    "smp.wb.col.hits": ("选中次数", "Selections"),
    "smp.wb.col.file": ("来源文件", "Source file"),
    "smp.wb.col.line": ("行号", "Line"),
    "smp.wb.bad_conclusion": ("请从列表中选择：{words}", "Choose from the list: {words}"),
    "smp.wb.bad_error": ("差错金额须为不小于 0 的金额", "The misstatement must be an amount ≥ 0"),
})


def write_workbook(plan: dict, path: str | os.PathLike, lang: str = "zh", filled: dict | None = None,
                   evaluation: dict | None = None) -> Path:
    """Write ``sample.xlsx`` for ``plan``.

    Parameters
    ----------
    plan : dict
        What ``plan.json`` holds.
    path : path-like
        The workbook to write (atomically).
    lang : {"zh", "en"}
        Labels.
    filled : dict, optional
        ``seq`` -> ``(conclusion word, misstatement, note)`` read back from the auditor's workbook,
        written into the input cells again.
    evaluation : dict, optional
        The evaluation (:mod:`auditlib.sampling.evaluate`), written onto the plan sheet.
    """
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        wb = xlsxwriter.Workbook(fh, {"strings_to_formulas": False, "strings_to_urls": False,
                                      "strings_to_numbers": False, "nan_inf_to_errors": False,
                                      "remove_timezone": True})
        try:
            w = Writer(wb, lang)
            wb.set_properties({"title": w.t("smp.wb.title"), "comments": f"seed {plan['seed']}"})
            _plan_sheet(w, plan, evaluation)
            _sample_sheet(w, plan, filled or {})
        finally:
            wb.close()
    return path


def _kv(w: Writer, ws, row: int, label: str, value) -> int:
    w.text(ws, row, 0, label, w.label(), track=False)
    if isinstance(value, str):
        w.text(ws, row, 1, value, w.fmt(border=1, text_wrap=True), track=False)
    else:
        w.cell(ws, row, 1, value)
    return row + 1


def _plan_sheet(w: Writer, plan: dict, evaluation: dict | None) -> None:
    ws = w.add_sheet(w.t("smp.wb.plan"))
    pop = plan["population"]
    w.text(ws, 0, 0, w.t("smp.wb.title"), w.title(), track=False)
    filters = {k: v for k, v in pop["filters"].items() if v not in (None, [], "")}
    ftext = "；".join(f"{k} = {', '.join(v) if isinstance(v, list) else v}" for k, v in filters.items())
    rows = [
        ("smp.wb.population", w.t(f"smp.wb.kind.{pop['kind']}")),
        ("smp.wb.source", plan.get("run") or plan.get("db") or ""),
        ("smp.wb.filters", ftext or w.t("smp.wb.none")),
        ("smp.wb.count", pop["count"]),
        ("smp.wb.book", Decimal(pop["book_value"])),
        ("smp.wb.apart", w.t("smp.wb.apart_value", count=pop["apart"]["count"], amount=f"{Decimal(pop['apart']['amount']):,.2f}")),
        ("smp.wb.method", w.t(f"smp.method.{plan['method']}")),
        ("smp.wb.confidence", f"{plan['confidence']:.2%}".replace(".00%", "%")),
        ("smp.wb.tolerable", Decimal(plan["tolerable"])),
        ("smp.wb.expected", Decimal(plan["expected"])),
        ("smp.wb.size_rule", w.t(f"smp.wb.rule.{plan['size_rule']}")),
        ("smp.wb.factor", round(plan["factor"], 4) if plan.get("factor") is not None else None),
        ("smp.wb.n", plan["n"]),
        ("smp.wb.interval", Decimal(plan["interval"]) if plan.get("interval") else None),
        ("smp.wb.start", Decimal(plan["random_start"]) if plan.get("random_start") else None),
        ("smp.wb.seed", str(plan["seed"])),
        ("smp.wb.rng", plan.get("rng", "")),
        ("smp.wb.top", w.t("smp.wb.items_value", count=plan["top_stratum"]["count"],
                           amount=f"{Decimal(plan['top_stratum']['amount']):,.2f}")),
        ("smp.wb.items", w.t("smp.wb.items_value", count=plan["sample_count"],
                             amount=f"{Decimal(plan['sample_amount']):,.2f}")),
        ("smp.wb.created", plan.get("created", "")),
    ]
    row = 2
    for key, value in rows:
        row = _kv(w, ws, row, w.t(key), value)
    if evaluation:
        row += 1
        w.text(ws, row, 0, w.t("smp.wb.eval"), w.heading(), track=False)
        row += 1
        for label, value in evaluation_rows(evaluation, w.lang):
            row = _kv(w, ws, row, label, value)
    if plan.get("inputs"):
        row += 1
    for item in plan.get("inputs") or []:
        row = _kv(w, ws, row, f"{w.t('smp.wb.inputs')}：{item.get('file')}", str(item.get("sha256") or ""))
    top = [s for s in plan["sample"] if s["top_stratum"]]
    if top:
        row += 1
        w.text(ws, row, 0, w.t("smp.wb.top_list"), w.heading(), track=False)
        row += 1
        heads = [words.SEQ, words.KEY, ("smp.wb.col.unit",), words.AMOUNT, ("smp.wb.col.hits",)]
        for c, h in enumerate(heads):
            w.text(ws, row, c, w.t(h[0]) if len(h) == 1 else (h[1] if w.lang == "en" else h[0]), w.header())
        for s in top:
            row += 1
            for c, v in enumerate([s["seq"], s["key"], s["unit_code"], Decimal(s["amount"]), s["hits"]]):
                w.cell(ws, row, c, v)
    widths = w.fit_columns(ws, fixed={0: 34, 1: 52, 2: 10, 3: 14, 4: 10})
    w.fit_rows(ws, widths, range(0, row + 1))


def evaluation_rows(ev: dict, lang: str) -> list[tuple[str, object]]:
    """(label, value) rows of an evaluation for the plan sheet (and the printed summary)."""
    from auditlib.i18n import t

    def m(x):
        return Decimal(x) if x is not None else None

    rows = [(t("smp.ev.errors", lang), ev["errors"]), (t("smp.ev.unverifiable", lang), ev.get("unverifiable", 0)),
            (t("smp.ev.sample_error", lang), m(ev.get("sample_misstatement")))]
    if ev["method"] == "mus":
        rows += [(t("smp.ev.basic", lang), m(ev["basic_precision"])),
                 (t("smp.ev.projected", lang), m(ev["projected_misstatement"])),
                 (t("smp.ev.incremental", lang), m(ev["incremental_allowance"])),
                 (t("smp.ev.uml", lang), m(ev["upper_misstatement_limit"]))]
    else:
        for kind in ("ratio", "difference"):
            est = ev[kind]
            rows += [(t(f"smp.ev.{kind}", lang), m(est["estimate"])),
                     (t(f"smp.ev.{kind}_ci", lang),
                      "—" if est["low"] is None else f"{Decimal(est['low']):,.2f} ～ {Decimal(est['high']):,.2f}")]
        rows += [(t("smp.ev.uml", lang), m(ev["upper_misstatement_limit"]))]
    rows += [(t("smp.ev.tolerable", lang), m(ev["tolerable"])),
             (t("smp.ev.conclusion", lang), t(f"smp.ev.conclusion.{ev['conclusion']}", lang,
                                              confidence=f"{ev['confidence']:.0%}")),
             (t("smp.ev.rule", lang), t(f"smp.ev.rule.{ev['method']}", lang))]
    return rows


def _sample_sheet(w: Writer, plan: dict, filled: dict) -> None:
    ws = w.add_sheet(w.t("smp.wb.sample"))
    kind = plan["population"]["kind"]
    lang = w.lang

    def h(pair):
        return pair[1] if lang == "en" else pair[0]

    heads = [h(words.SEQ), w.t("smp.wb.col.layer"), w.t("smp.wb.col.unit"), h(words.KEY), w.t("smp.wb.col.date"),
             w.t(f"smp.wb.col.party.{kind}"), w.t(f"smp.wb.col.category.{kind}"), w.t(f"smp.wb.col.memo.{kind}"),
             h(words.AMOUNT), w.t("smp.wb.col.hits"), w.t("smp.wb.col.file"), w.t("smp.wb.col.line"),
             h(words.CONCLUSION), h(words.ERROR), h(words.NOTE)]
    w.text(ws, 0, 0, w.t("smp.wb.sample_title"), w.heading(), track=False)
    head = 2
    for c, text in enumerate(heads):
        w.text(ws, head, c, text, w.header())
    c_conc, c_err, c_note = len(heads) - 3, len(heads) - 2, len(heads) - 1
    wrap = w.fmt(border=1, text_wrap=True)
    for r, s in enumerate(plan["sample"], start=head + 1):
        date = dt.date.fromisoformat(s["date"]) if s.get("date") else None
        layer = w.t("smp.wb.layer.top" if s["top_stratum"] else "smp.wb.layer.rest")
        values = [s["seq"], layer, s["unit_code"], s["key"], date, s["party"], s["category"], s["memo"],
                  Decimal(s["amount"]), s["hits"], s["source_file"], s["source_line"]]
        for c, v in enumerate(values):
            if isinstance(v, str):
                w.text(ws, r, c, v, wrap if c in (5, 7) else w.fmt(border=1))
            else:
                w.cell(ws, r, c, v)
        word, error, note = filled.get(s["seq"], (None, None, None))
        conc = Conclusion.from_word(word) if word else None
        w.text(ws, r, c_conc, conc.label(lang) if conc else (word or ""), w.editable())
        if error is None or error == "":
            ws.write_blank(r, c_err, None, w.editable(num_format="#,##0.00"))
        else:
            ws.write_number(r, c_err, float(Decimal(error)), w.editable(num_format="#,##0.00"))
        w.text(ws, r, c_note, note or "", w.editable(text_wrap=True))
    last = head + max(len(plan["sample"]), 1)
    labels = [c.label(lang) for c in Conclusion]
    ws.data_validation(head + 1, c_conc, last, c_conc, {
        "validate": "list", "source": labels, "error_type": "stop",
        "error_title": h(words.CONCLUSION), "error_message": w.t("smp.wb.bad_conclusion", words=" / ".join(labels))})
    ws.data_validation(head + 1, c_err, last, c_err, {
        "validate": "decimal", "criteria": ">=", "value": 0, "error_type": "stop",
        "error_title": h(words.ERROR), "error_message": w.t("smp.wb.bad_error")})
    ws.freeze_panes(head + 1, 4)
    ws.autofilter(head, 0, last, len(heads) - 1)
    ws.repeat_rows(head)
    widths = w.fit_columns(ws, minimum={c_conc: 10, c_err: 12, c_note: 20}, maximum=40,
                           wrap={5: 12, 7: 12, c_note: 16})
    w.fit_rows(ws, widths, range(head + 1, last + 1))
