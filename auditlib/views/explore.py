"""The auditor's interactive panel (``notebooks/explore.ipynb``), built with ipywidgets.

Pick a unit, an inspection and a rule; every rule parameter gets a control made from
its declared type and range (:mod:`auditlib.rules.catalogue`), and the findings recount as a
control moves.  Choosing a finding shows its evidence row, the source rows behind it
(the rule's drill-down) and the rule's chart.  Two buttons hand the work on:
"export evidence workbook" writes the same workbook as the batch, and "save as
parameters" writes a YAML file that ``auditlib run --params`` accepts and that gives
exactly the findings on screen.

Each finding shows its status from the findings register (疑点登记簿, ``register.jsonl``
beside the database unless told otherwise); the buttons 属实 / 排除 / 已整改 / 待核实 record
the auditor's decision about the chosen finding in that register (with the 核实说明 and
认定金额 boxes, and the auditor's name, which is required), and a filter shows the findings of
one status.

Everything here is plain Python objects, so tests drive the panel by setting widget
values and clicking buttons, without a browser.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import yaml

from auditlib.rules.catalogue import INSPECTIONS, all_rules, get_rule, rules_for
from auditlib.db import connect, ingested_files
from auditlib.rules.engine import inspect, unit_names
from auditlib.rules.model import Param
from auditlib.i18n import register, t
from auditlib.rules.params import Params, load_params
from auditlib.outputs.formats import enum_label, money, shown_path, total_amount
from auditlib.review.apply import apply_register
from auditlib.review.register import Decision, Register
from auditlib.review.statuses import Status
from auditlib.views.html import escape, table
from auditlib.workspace import default_db, outputs_dir

ALL = "*"

register({
    "ex.title": ("交互式检查 — {db}", "Explore — {db}"),
    "ex.unit": ("被检查单位", "Unit"),
    "ex.inspection": ("检查事项", "Inspection"),
    "ex.rule": ("规则", "Rule"),
    "ex.all_rules": ("全部规则", "all rules"),
    "ex.as_of": ("检查截止日", "Cut-off"),
    "ex.finding": ("疑点", "Lead"),
    "ex.export": ("导出取证工作底稿", "Export evidence workbook"),
    "ex.save": ("保存为参数文件", "Save as parameters"),
    "ex.sample": ("抽样并导出样本工作簿", "Draw a sample and export its workbook"),
    "ex.sample_seed": ("抽样种子", "Sample seed"),
    "ex.sampled": ("已抽样（本单位的支付；方法与样本量按参数 sampling:）：{path}", "Sample drawn (this unit's payments; "
                   "method and size from the parameters' sampling:): {path}"),
    "ex.counts": ("{unit} {inspection}：发现疑点 {n} 条，涉及金额 {amount} 元（重算 {ms} 毫秒）",
                  "{unit} {inspection}: {n} leads, amount {amount} yuan (recounted in {ms} ms)"),
    "ex.none": ("当前参数下未发现疑点。", "No leads with these settings."),
    "ex.evidence": ("取证信息", "Evidence"),
    "ex.no_source": ("该疑点为单位层面的指标，无单行来源数据。", "A unit-level measure: no single source row."),
    "ex.exported": ("已导出：{path}", "Written: {path}"),
    "ex.saved": ("参数已保存：{path}（auditlib run --params {path}）",
                 "Parameters saved: {path} (auditlib run --params {path})"),
    "ex.failed": ("失败：{error}", "Failed: {error}"),
    "ex.col.rule": ("规则", "Rule"),
    "ex.col.title": ("名称", "Title"),
    "ex.col.n": ("条数", "Findings"),
    "ex.col.amount": ("金额(元)", "Amount (yuan)"),
    "ex.col.ref": ("对象", "Reference"),
    "ex.col.severity": ("风险", "Severity"),
    "ex.col.detail": ("说明", "Detail"),
    "ex.col.status": ("核实结论", "Status"),
    "ex.col.id": ("疑点编号", "Finding id"),
    "ex.status_filter": ("核实结论", "Status"),
    "ex.all_statuses": ("全部", "all"),
    "ex.by": ("核实人", "Verified by"),
    "ex.reason": ("核实说明", "Explanation"),
    "ex.amount": ("认定金额", "Confirmed amount"),
    "ex.decided": ("已登记：{id} {status}（{register}）", "Recorded: {id} {status} ({register})"),
    "ex.need_by": ("请填写核实人", "enter who verified (核实人)"),
    "ex.need_reason": ("排除须填写核实说明", "a dismissal needs an explanation"),
    "ex.need_finding": ("请先选择一条疑点", "choose a finding first"),
    "ex.bad_amount": ("认定金额不是金额：{text}", "the confirmed amount is not money: {text}"),
})


class Explorer:
    """One database, its units and the rules, as a widget panel.

    Parameters
    ----------
    db : path, optional
        The audit database; ``$AUDITLIB_DB`` or ``data/audit.duckdb`` when empty.
    params_file : path, optional
        A parameters YAML on top of ``params/default.yaml``: the starting values.
    lang : {'zh', 'en'}, optional
        Label language; the parameters' ``lang`` when empty.
    out_dir : path, optional
        Where exported workbooks and saved parameters go (``outputs/explore``).
    register : path, optional
        The findings register decisions are read from and written to; ``register.jsonl``
        beside the database when empty.
    """

    def __init__(self, db=None, params_file=None, lang=None, out_dir=None, register=None):
        import ipywidgets as w

        self.db = Path(db) if db else default_db()
        self.base = load_params(params_file or None)
        self.params_file = params_file or None
        self.lang = lang or self.base.lang
        self.out_dir = Path(out_dir) if out_dir else outputs_dir() / "explore"
        self.register = Register(register) if register else Register.beside(self.db)
        self.latest = self.register.latest()
        self.verified = None  # the findings of the unit and inspection on screen, with statuses
        con = connect(self.db)
        try:
            self.units = unit_names(con)
        finally:
            con.close()
        if not self.units:
            raise ValueError(f"{self.db}: no units")
        self.result = None
        self.last_seconds = 0.0
        self._building = True

        self.unit = w.Dropdown(description=self._t("ex.unit"),
                               options=[(f"{c} {n}", c) for c, n in self.units.items()], value=next(iter(self.units)))
        self.inspection = w.Dropdown(description=self._t("ex.inspection"),
                                     options=[(zh if self.lang == "zh" else en, k) for k, (zh, en) in INSPECTIONS.items()])
        self.as_of = w.DatePicker(description=self._t("ex.as_of"), value=self.base.as_of)
        self.rule = w.Dropdown(description=self._t("ex.rule"))
        # one control per rule parameter, made once so tuned values survive switching rules
        applied = self.base.for_unit(self.unit.value)
        self.controls: dict[str, dict[str, object]] = {
            r.id: {p.name: _control(r.id, p, applied[r.id][p.name], self.lang) for p in r.params} for r in all_rules()}
        self.param_box = w.VBox()
        self.summary = w.HTML()
        self.table = w.HTML()
        self.finding = w.Dropdown(description=self._t("ex.finding"), layout=w.Layout(width="60%"))
        self.drill = w.HTML()
        self.chart = w.Image(format="png", layout=w.Layout(display="none", max_width="900px"))
        self.export_button = w.Button(description=self._t("ex.export"), icon="file-excel-o")
        self.save_button = w.Button(description=self._t("ex.save"), icon="save")
        self.message = w.HTML()
        self.sample_seed = w.IntText(description=self._t("ex.sample_seed"), value=2024)
        self.sample_button = w.Button(description=self._t("ex.sample"), icon="random")
        self.status_filter = w.Dropdown(description=self._t("ex.status_filter"),
                                        options=[(self._t("ex.all_statuses"), ALL)]
                                        + [(s.label(self.lang), s.value) for s in Status], value=ALL)
        self.by = w.Text(description=self._t("ex.by"))
        self.reason = w.Textarea(description=self._t("ex.reason"), layout=w.Layout(width="60%"))
        self.amount = w.Text(description=self._t("ex.amount"), placeholder="0.00")
        self.decision_buttons = {s: w.Button(description=s.label(self.lang)) for s in
                                 (Status.CONFIRMED, Status.DISMISSED, Status.RECTIFIED, Status.OPEN)}
        self.decision_message = w.HTML()

        for widget in (self.unit, self.as_of, *[c for cs in self.controls.values() for c in cs.values()]):
            widget.observe(lambda change: self.refresh(), names="value")
        self.inspection.observe(lambda change: self._inspection_changed(), names="value")
        self.rule.observe(lambda change: self._rule_changed(), names="value")
        self.finding.observe(lambda change: self.show_finding(), names="value")
        self.export_button.on_click(lambda b: self._guard(self.export_workbook, "ex.exported"))
        self.save_button.on_click(lambda b: self._guard(self.save_params, "ex.saved"))
        self.sample_button.on_click(lambda b: self._guard(self.draw_sample, "ex.sampled"))
        self.status_filter.observe(lambda change: self._render_table(), names="value")
        for status, button in self.decision_buttons.items():
            button.on_click(lambda b, status=status: self._decide_clicked(status))

        self.panel = w.VBox([
            w.HTML(f"<h3>{escape(self._t('ex.title', db=self.db.name))}</h3>"),
            w.HBox([self.unit, self.inspection, self.as_of]),
            self.rule, self.param_box, self.summary, self.status_filter, self.table, self.finding,
            w.HBox([self.by, self.amount]), self.reason, w.HBox(list(self.decision_buttons.values())),
            self.decision_message, self.drill, self.chart,
            w.HBox([self.export_button, self.save_button]), w.HBox([self.sample_seed, self.sample_button]),
            self.message,
        ])
        self._building = False
        self._inspection_changed()

    @classmethod
    def open(cls, db="", params_file="", lang="", out_dir="", register="") -> "Explorer":
        """The panel from a notebook's parameters (empty strings mean the defaults)."""
        return cls(db or None, params_file or None, lang or None, out_dir or None, register or None)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.panel)

    # ---- state -----------------------------------------------------------------------------
    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    def rule_values(self) -> dict[str, dict]:
        """Every rule's parameter values as the controls hold them (exact Decimals for money and ratios)."""
        return {rid: {name: _value(get_rule(rid).param(name), c.value) for name, c in cs.items()}
                for rid, cs in self.controls.items()}

    def params(self) -> Params:
        """The parameters the findings on screen were computed with.

        The controls' values are the run-wide rule values; the starting file's overrides
        for the unit on screen are folded into them (the controls started from them), and
        other units' overrides are kept.
        """
        units = copy.deepcopy(self.base.units)
        units.pop(self.unit.value, None)
        return dataclasses.replace(self.base, as_of=self.as_of.value or self.base.as_of,
                                   rules=self.rule_values(), units=units, sources=())

    @property
    def findings(self) -> pd.DataFrame:
        """The findings on screen (the selected rule's, or every rule's of the inspection, of the
        status the filter shows), with their status columns (:func:`~auditlib.review.apply.apply_register`)."""
        f = self.verified
        if self.rule.value != ALL:
            f = f[f["rule_id"] == self.rule.value]
        if self.status_filter.value != ALL:
            f = f[f["status"] == self.status_filter.value]
        return f.reset_index(drop=True)

    # ---- reactions ---------------------------------------------------------------------------
    def _inspection_changed(self) -> None:
        rules = self._rules()
        self._building = True
        self.rule.options = [(self._t("ex.all_rules"), ALL)] + [(f"{r.id} {r.title(self.lang)}", r.id) for r in rules]
        self.rule.value = ALL
        self._building = False
        self._rule_changed()

    def _rule_changed(self) -> None:
        if self._building:
            return
        ids = [self.rule.value] if self.rule.value != ALL else [r.id for r in self._rules()]
        self.param_box.children = [c for rid in ids for c in self.controls[rid].values()]
        self.refresh()

    def _rules(self):
        """The rules of the inspection on screen."""
        return rules_for(self.inspection.value)

    def refresh(self) -> None:
        """Recount the findings for the unit on screen with the current controls."""
        if self._building:
            return
        start = time.perf_counter()
        self.result = inspect(self.db, self.inspection.value, self.unit.value, self.params())
        self.last_seconds = time.perf_counter() - start
        self.verified = apply_register(self.result.findings, self.latest)
        self._render_table()

    def _render_table(self) -> None:
        if self._building or self.verified is None:
            return
        f = self.findings
        zh, en = INSPECTIONS[self.inspection.value]
        self.summary.value = "<p><b>{}</b></p>".format(escape(self._t(
            "ex.counts", unit=f"{self.unit.value} {self.units[self.unit.value]}", inspection=zh if self.lang == "zh" else en,
            n=len(f), amount=money(total_amount(f)), ms=int(self.last_seconds * 1000))))
        all_f = self.result.findings
        counts = pd.DataFrame([(r.id, r.title(self.lang), int((all_f["rule_id"] == r.id).sum()),
                                money(total_amount(all_f[all_f["rule_id"] == r.id]))) for r in self._rules()],
                              columns=[self._t(k) for k in ("ex.col.rule", "ex.col.title", "ex.col.n", "ex.col.amount")])
        rows = pd.DataFrame({self._t("ex.col.rule"): f["rule_id"], self._t("ex.col.ref"): f["ref"],
                             self._t("ex.col.status"): [Status(s).label(self.lang) for s in f["status"]],
                             self._t("ex.col.id"): f["finding_id"],
                             self._t("ex.col.amount"): [money(a) for a in f["amount"]],
                             self._t("ex.col.severity"): [enum_label("severity", s, self.lang) for s in f["severity"]],
                             self._t("ex.col.detail"): f["detail"]})
        self.table.value = table(counts, na_rep="") + (table(rows.head(200), na_rep="") if len(f)
                                                   else f"<p>{escape(self._t('ex.none'))}</p>")
        options = [(f"{r} {ref} [{Status(s).label(self.lang)}]", i)
                   for i, (r, ref, s) in enumerate(zip(f["rule_id"], f["ref"], f["status"]))]
        chosen = getattr(self, "_keep", None)
        ids = list(f["finding_id"])
        self._building = True
        self.finding.options = options
        self.finding.value = ids.index(chosen) if chosen in ids else (0 if options else None)
        self._keep = None
        self._building = False
        self.show_finding()

    def evidence_row(self, index: int) -> pd.Series:
        """The evidence row of finding ``index`` of :attr:`findings`."""
        f = self.findings.iloc[index]
        ev = self.result.evidence[f["rule_id"]]
        return ev[ev["ref"] == f["ref"]].iloc[0]

    def drilldown(self, index: int):
        """The finding, its evidence row and the source rows behind it."""
        f = self.findings.iloc[index]
        ev = self.evidence_row(index)
        p = self.params()
        con = connect(self.db)
        try:
            rule = get_rule(f["rule_id"])
            sources = rule.source_rows(con, self.unit.value, f["ref"], ev, p.as_of, p.fiscal_year)
        finally:
            con.close()
        return f, ev, sources

    def chart_figure(self, rule_id: str):
        """The rule's chart for the unit on screen (None when the rule has none or no data)."""
        from auditlib.outputs.charts import draw

        return draw(self.db, rule_id, self.unit.value, self.params(), self.lang)

    def show_finding(self) -> None:
        """Show the chosen finding: its evidence row, the source rows behind it, the rule's chart."""
        if self._building:
            return
        from auditlib.outputs.charts import figure_png

        if self.finding.value is None:
            self.drill.value, self.chart.value = "", b""
            self.chart.layout.display = "none"
            return
        f, ev, sources = self.drilldown(self.finding.value)
        parts = [f"<h4>{escape(self._t('ex.evidence'))}：{escape(f['rule_id'])} {escape(f['ref'])}</h4>",
                 table(_evidence_shown(get_rule(f["rule_id"]), ev, self.lang), na_rep="")]
        for s in sources:
            parts.append(f"<h4>{escape(s.label(self.lang))}（{escape(s.table)}）</h4>" + table(s.rows, na_rep=""))
        if not sources:
            parts.append(f"<p>{escape(self._t('ex.no_source'))}</p>")
        self.drill.value = "".join(parts)
        fig = self.chart_figure(f["rule_id"])
        self.chart.value = figure_png(fig) if fig is not None else b""
        self.chart.layout.display = None if fig is not None else "none"

    # ---- verification ----------------------------------------------------------------------
    def status_of(self, finding_id: str) -> Status:
        """The status of a finding as the register holds it (``open`` when undecided)."""
        d = self.latest.get(finding_id)
        return d.status if d else Status.OPEN

    def decide(self, status: Status | str, reason: str | None = None, amount=None, by: str | None = None,
               index: int | None = None) -> Decision:
        """Record a decision about finding ``index`` of :attr:`findings` (the chosen one when None)
        in the register; the boxes give ``reason``, ``amount`` and ``by`` when they are None.

        Raises
        ------
        ValueError
            No finding chosen, no name, 排除 without a reason, or an amount that is not money.
        """
        status = Status(status)
        index = self.finding.value if index is None else index
        if index is None:
            raise ValueError(self._t("ex.need_finding"))
        by = (self.by.value if by is None else by).strip()
        reason = (self.reason.value if reason is None else reason).strip()
        text = str(self.amount.value if amount is None else amount).strip().replace(",", "")
        if not by:
            raise ValueError(self._t("ex.need_by"))
        if status is Status.DISMISSED and not reason:
            raise ValueError(self._t("ex.need_reason"))
        try:
            value = Decimal(text) if text else None
        except ArithmeticError:
            value = None
            text = text or "?"
        if text and (value is None or not value.is_finite() or value != value.quantize(Decimal("0.01"))):
            raise ValueError(self._t("ex.bad_amount", text=text))
        f = self.findings.iloc[index]
        decision = Decision(finding_id=f["finding_id"], rule_id=f["rule_id"], unit_code=f["unit_code"], ref=f["ref"],
                            status=status, reason=reason, amount=value, by=by, source="explore")
        self.register.append([decision])
        self.latest = self.register.latest()
        self.verified = apply_register(self.result.findings, self.latest)
        self._keep = decision.finding_id
        self._render_table()
        return decision

    def _decide_clicked(self, status: Status) -> None:
        try:
            d = self.decide(status)
        except Exception as exc:  # shown to the auditor, never lost in the kernel log
            self.decision_message.value = f"<p style='color:#b91c1c'>{escape(self._t('ex.failed', error=exc))}</p>"
            return
        self.reason.value, self.amount.value = "", ""
        self.decision_message.value = "<p>{}</p>".format(escape(self._t(
            "ex.decided", id=d.finding_id, status=d.status.label(self.lang), register=shown_path(self.register.path))))

    # ---- buttons -----------------------------------------------------------------------------
    def _guard(self, action, key) -> None:
        try:
            path = action()
            self.message.value = f"<p>{escape(self._t(key, path=shown_path(path)))}</p>"
        except Exception as exc:  # shown to the auditor, never lost in the kernel log
            self.message.value = f"<p style='color:#b91c1c'>{escape(self._t('ex.failed', error=exc))}</p>"

    def _stamp(self) -> str:
        return dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")

    def export_workbook(self, path=None) -> Path:
        """Write the evidence workbook of the unit and inspection on screen, as the batch does."""
        from auditlib.views.report import unit_slice
        from auditlib.batch.plan import unit_folder
        from auditlib.outputs.workbook import write_workbook

        unit = self.unit.value
        path = Path(path) if path else self.out_dir / f"{unit_folder(unit)}-{self.inspection.value}-{self._stamp()}.xlsx"
        findings, evidence = unit_slice(self.verified, self.result.evidence, unit)
        return write_workbook(path, unit_code=unit, unit_name=self.units[unit], inspection=self.inspection.value,
                              findings=findings, evidence=evidence, params=self.params(),
                              run_id=f"explore-{self._stamp()}", sources=ingested_files(self.db), lang=self.lang,
                              untested=getattr(self.result, "untested", None))

    def draw_sample(self, out=None) -> Path:
        """Draw an audit sample of the payments of the unit on screen (CONTRACT §7; method and sizes
        from the parameters' ``sampling:`` block, the seed box's seed) and write its workbook and
        plan.json into ``out`` (a new folder under ``outputs/explore``); returns the workbook."""
        from auditlib.batch.plan import unit_folder
        from auditlib.sampling.plan import SampleSettings, draw_sample
        from auditlib.sampling.population import Filters

        unit = self.unit.value
        out = Path(out) if out else self.out_dir / f"sample-{unit_folder(unit)}-{self._stamp()}"
        settings = SampleSettings(filters=Filters(units=(unit,)), seed=int(self.sample_seed.value))
        plan = draw_sample(self.db, settings, out, params_file=self.params_file, lang=self.lang)
        return Path(plan["paths"]["workbook"])

    def save_params(self, path=None) -> Path:
        """Write the current settings as a parameters YAML for ``auditlib run --params``."""
        path = Path(path) if path else self.out_dir / f"params-{self._stamp()}.yaml"
        data = self.params().to_dict()
        header = (f"# auditlib explore: {self.db}\n# unit {self.unit.value}, {self.inspection.value}, "
                  f"saved {dt.datetime.now().isoformat(timespec='seconds')}\n")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        tmp.replace(path)
        return path


def _evidence_shown(rule, ev: pd.Series, lang: str) -> pd.DataFrame:
    """One evidence row for reading: the rule's column labels, code values named in ``lang``."""
    row = ev.drop(labels=["unit_code"], errors="ignore")
    return pd.DataFrame([[enum_label(c, v, lang) for c, v in row.items()]],
                        columns=[rule.label(c, lang) for c in row.index])


def _control(rule_id: str, param: Param, value, lang: str):
    """An ipywidget for one rule parameter, from its type and range."""
    import ipywidgets as w

    label = f"{rule_id} {param.label(lang)}"
    style = {"description_width": "initial"}
    layout = w.Layout(width="480px")
    if param.type == "days":
        return w.IntSlider(value=int(value), min=int(param.min), max=int(param.max), step=1,
                           description=label, style=style, layout=layout, continuous_update=False)
    if param.type == "count":
        return w.BoundedIntText(value=int(value), min=int(param.min), max=int(param.max), step=1,
                                description=label, style=style, layout=layout)
    if param.type == "words":  # a tag list: one tag per literal word (CONTRACT §2 words)
        return w.TagsInput(value=list(value), allow_duplicates=False, description=label, style=style,
                           layout=layout)
    if param.type == "ratio":
        return w.BoundedFloatText(value=float(value), min=float(param.min), max=float(param.max), step=0.001,
                                  description=label, style=style, layout=layout)
    return w.BoundedFloatText(value=float(value), min=float(param.min), max=float(param.max), step=1000,
                              description=label, style=style, layout=layout)


def _value(param: Param, raw):
    """A control's value as the catalogue's type: int, an exact Decimal (money to the fen), or a
    tuple of literal words."""
    if param.type in ("days", "count"):
        return int(raw)
    if param.type == "words":  # the tags, each once; a list that must not be empty keeps its default
        words = tuple(dict.fromkeys(str(x).strip() for x in raw if str(x).strip()))
        return words if len(words) >= param.min else tuple(param.default)
    d = Decimal(repr(float(raw)))
    return d.quantize(Decimal("0.01")) if param.type == "money" else d.normalize()


__all__ = ["Explorer"]
