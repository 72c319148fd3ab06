"""What an inspection notebook shows: the library side of ``notebooks/*.ipynb``.

A notebook stays a thin report: its ``parameters`` cell names the database,
the unit and the inspection settings; every other cell calls one method of
:class:`Report` (header, summary, conclusion) or, in one loop, :meth:`Report.rule`
for each of the inspection's rules.  Under ``auditlib run`` the findings come
precomputed for the task (``evidence``), so the notebook, the
workbook and ``findings.csv`` show the same rows; opened by hand in JupyterLab
the report computes them itself.

Paths reach the notebook as absolute parameters; an empty ``db`` means
``AUDITLIB_DB`` or the sample database ``data/audit.duckdb`` of the checkout,
so a notebook behaves the same under papermill, nbval and JupyterLab whatever
the working folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from auditlib.rules.catalogue import INSPECTIONS, get_rule
from auditlib.batch.handoff import load_task_evidence, unit_slice
from auditlib.db import connect
from auditlib.rules.engine import FINDING_COLUMNS, implemented_rules, inspect, unit_names
from auditlib.errors import ParameterError
from auditlib.i18n import register, t
from auditlib.rules.params import Params, load_params
from auditlib.outputs.formats import money, total_amount
from auditlib.views.html import escape, show, table
from auditlib.workspace import default_db

#: rows of a findings table shown in a report; the workbook holds them all
MAX_ROWS = 20

register({
    "rep.title": ("{inspection}专项检查报告 — {unit_name}（{unit_code}）",
                  "{inspection} inspection — {unit_name} ({unit_code})"),
    "rep.params": ("检查参数", "Parameters"),
    "rep.coverage": ("数据范围", "Data covered"),
    "rep.table": ("数据表", "Table"),
    "rep.rows": ("行数", "Rows"),
    "rep.from": ("起", "From"),
    "rep.to": ("止", "To"),
    "rep.setting": ("项目", "Setting"),
    "rep.value": ("取值", "Value"),
    "rep.as_of": ("检查截止日", "Cut-off date"),
    "rep.fiscal_year": ("预算年度", "Fiscal year"),
    "rep.unit": ("被检查单位", "Unit"),
    "rep.run_id": ("批次号", "Run id"),
    "rep.db": ("数据库", "Database"),
    "rep.basis": ("依据", "Basis"),
    "rep.checks": ("检查内容", "What it checks"),
    "rep.rule_params": ("参数", "Parameters"),
    "rep.none": ("未发现问题。", "No findings."),
    "rep.found": ("发现问题 {n} 条，涉及金额 {amount} 元。", "{n} findings, amount {amount} yuan."),
    "rep.found_noamount": ("发现问题 {n} 条。", "{n} findings."),
    "rep.more": ("仅显示前 {shown} 条，共 {n} 条；完整证据见工作底稿（xlsx）。",
                 "Showing {shown} of {n}; the evidence workbook (xlsx) holds them all."),
    "rep.summary_head": ("{unit_code} {inspection}：发现问题 {n} 条，金额 {amount} 元",
                         "{unit_code} {inspection}: {n} findings, amount {amount} yuan"),
    "rep.conclusion": ("检查结论", "Conclusion"),
    "rep.concl_none": ("本次检查未发现{inspection}方面的问题。",
                       "This inspection found no {inspection} issues."),
    "rep.concl_some": ("本次检查共发现{inspection}方面问题 {n} 条，涉及金额 {amount} 元，其中高风险 {high} 条。"
                       "以上为疑点，须经核实并取得被检查单位确认后方可定性。",
                       "This inspection found {n} {inspection} issues, amount {amount} yuan, {high} of high "
                       "severity. These are leads: each needs checking and the unit's confirmation."),
    "rep.concl_rule": ("{rule_id} {title}：{n} 条，{amount} 元", "{rule_id} {title}: {n}, {amount} yuan"),
    "rep.no_unit": ("数据库中没有单位 {unit!r}", "no unit {unit!r} in the database"),
    "rep.sev.high": ("高", "high"),
    "rep.sev.medium": ("中", "medium"),
    "rep.sev.low": ("低", "low"),
    "tbl.units": ("单位", "units"),
    "tbl.accounts": ("银行账户", "bank accounts"),
    "tbl.budget": ("预算指标", "budget lines"),
    "tbl.payments": ("支付", "payments"),
    "tbl.ledger": ("凭证分录", "ledger lines"),
    "tbl.bank_txns": ("银行流水", "bank lines"),
    "col.ref": ("证据行", "Evidence row"),
    "col.amount": ("金额(元)", "Amount (yuan)"),
    "col.severity": ("风险", "Severity"),
    "col.detail": ("说明", "Detail"),
    "col.source": ("来源", "Source"),
})

#: tables and their date column, for the "data covered" table
_COVERAGE = (("units", None), ("accounts", "opened_on"), ("budget", "issued_on"),
             ("payments", "paid_on"), ("ledger", "voucher_date"), ("bank_txns", "txn_date"))


@dataclass
class Report:
    """One unit's inspection, ready to be shown cell by cell."""

    db: Path
    unit_code: str
    unit_name: str
    inspection: str
    params: Params
    lang: str
    findings: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    run_id: str = ""

    @classmethod
    def open(cls, db="", unit="", inspection="idle_funds", params_file="", lang="", evidence="",
             run_id="") -> "Report":
        """Resolve the notebook's parameters and load (or compute) the findings.

        Parameters
        ----------
        db : str
            Absolute path of the audit database; empty for :func:`default_db`.
        unit : str
            Unit code; empty for the first unit of the database.
        inspection : str
            ``idle_funds``, ``slush_funds`` or ``delayed_payments``.
        params_file : str
            Parameters YAML on top of ``params/default.yaml``; empty for the defaults.
        lang : str
            ``zh`` or ``en``; empty for the parameters' ``lang``.
        evidence : str
            The task's precomputed findings (set by ``auditlib run``); empty to compute here.
        """
        if inspection not in INSPECTIONS:
            raise ParameterError(f"未知检查 / unknown inspection {inspection!r}", file="", key="inspection",
                                 reason="unknown inspection")
        params = load_params(params_file or None)
        lang = lang or params.lang
        db = Path(db) if db else default_db()
        con = connect(db)
        try:
            units = unit_names(con)
        finally:
            con.close()
        unit = str(unit) if unit else next(iter(units), "")
        if unit not in units:
            raise ParameterError(t("rep.no_unit", lang, unit=unit), file="", key="unit", reason="unknown unit")
        if evidence:
            findings, ev = load_task_evidence(evidence)
        else:
            ins = inspect(db, inspection, unit=unit, params=params)
            findings, ev = ins.findings, ins.evidence
        findings, ev = unit_slice(findings, ev, unit)
        return cls(db=db, unit_code=unit, unit_name=units[unit] or "", inspection=inspection, params=params,
                   lang=lang, findings=findings, evidence=ev, run_id=run_id)

    # ---- text -------------------------------------------------------------------------------
    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    @property
    def inspection_label(self) -> str:
        zh, en = INSPECTIONS[self.inspection]
        return zh if self.lang == "zh" else en

    @property
    def rules(self):
        """The inspection's rules, in catalogue order: the notebook shows each with :meth:`rule`."""
        return implemented_rules(self.inspection)

    def rule_findings(self, rule_id: str) -> pd.DataFrame:
        return self.findings[self.findings["rule_id"] == rule_id]

    # ---- cells ------------------------------------------------------------------------------
    def header(self) -> None:
        """Title, the settings in force and the data covered."""
        show(
            f"<h1>{escape(self.title())}</h1>"
            f"<h2>{escape(self._t('rep.params'))}</h2>{table(self.settings_frame())}"
            f"<h2>{escape(self._t('rep.coverage'))}</h2>{table(self.coverage_frame())}")

    def title(self) -> str:
        return self._t("rep.title", inspection=self.inspection_label, unit_name=self.unit_name,
                       unit_code=self.unit_code)

    def settings_frame(self) -> pd.DataFrame:
        """The parameters as a readable two-column table (not the injected cell's escapes)."""
        rows = [(self._t("rep.unit"), f"{self.unit_code} {self.unit_name}"),
                (self._t("rep.as_of"), self.params.as_of.isoformat()),
                (self._t("rep.fiscal_year"), str(self.params.fiscal_year))]
        if self.run_id:
            rows.append((self._t("rep.run_id"), self.run_id))
        rows.append((self._t("rep.db"), str(self.db)))
        applied = self.params.for_unit(self.unit_code)
        for rule in self.rules:
            for prm in rule.params:
                label = prm.zh if self.lang == "zh" else prm.en
                rows.append((f"{rule.id} {label}", str(applied[rule.id][prm.name])))
        return pd.DataFrame(rows, columns=[self._t("rep.setting"), self._t("rep.value")])

    def coverage_frame(self) -> pd.DataFrame:
        """Rows and date range per table for this unit."""
        con = connect(self.db)
        try:
            rows = []
            for tbl, date_col in _COVERAGE:
                if date_col:
                    n, lo, hi = con.execute(f"SELECT count(*), min({date_col}), max({date_col}) FROM {tbl} "
                                            "WHERE unit_code = ?", [self.unit_code]).fetchone()
                else:
                    (n,) = con.execute(f"SELECT count(*) FROM {tbl} WHERE unit_code = ?",
                                       [self.unit_code]).fetchone()
                    lo = hi = None
                rows.append((self._t(f"tbl.{tbl}"), n, lo.isoformat() if lo else "", hi.isoformat() if hi else ""))
        finally:
            con.close()
        return pd.DataFrame(rows, columns=[self._t("rep.table"), self._t("rep.rows"),
                                           self._t("rep.from"), self._t("rep.to")])

    def summary_text(self) -> str:
        """Plain-text counts per rule: the cell nbval checks."""
        lines = [self._t("rep.summary_head", unit_code=self.unit_code, inspection=self.inspection,
                         n=len(self.findings), amount=money(total_amount(self.findings)))]
        for rule in self.rules:
            f = self.rule_findings(rule.id)
            lines.append(f"  {rule.id}: {len(f)} / {money(total_amount(f))}")
        return "\n".join(lines)

    def summary(self) -> None:
        print(self.summary_text())

    def rule(self, rule_id: str, chart: bool = True) -> None:
        """What the rule checks and on what basis, its findings, and its chart."""
        rule = get_rule(rule_id)
        f = self.rule_findings(rule_id)
        applied = self.params.for_unit(self.unit_code).get(rule_id, {})
        prm_text = "；".join(f"{(p.zh if self.lang == 'zh' else p.en)} = {applied.get(p.name)}"
                            for p in rule.params) or "—"
        parts = [f"<h2>{escape(rule.id)} {escape(rule.title(self.lang))}</h2>",
                 f"<p><b>{escape(self._t('rep.checks'))}：</b>{escape(rule.check(self.lang))}</p>",
                 f"<p><b>{escape(self._t('rep.basis'))}：</b>{escape(rule.basis)}</p>",
                 f"<p><b>{escape(self._t('rep.rule_params'))}：</b>{escape(prm_text)}</p>"]
        amount = total_amount(f)
        if not len(f):
            parts.append(f"<p>{escape(self._t('rep.none'))}</p>")
        else:
            key = "rep.found" if any(a is not None and not pd.isna(a) for a in f["amount"]) else "rep.found_noamount"
            parts.append(f"<p>{escape(self._t(key, n=len(f), amount=money(amount)))}</p>")
            parts.append(table(self.findings_frame(rule_id).head(MAX_ROWS)))
            if len(f) > MAX_ROWS:
                parts.append(f"<p>{escape(self._t('rep.more', shown=MAX_ROWS, n=len(f)))}</p>")
        show("".join(parts))
        if chart:
            self.chart(rule_id)

    def findings_frame(self, rule_id: str) -> pd.DataFrame:
        """A rule's findings for display: ref, amount, severity, detail, source row."""
        ev = self.evidence.get(rule_id)
        f = self.rule_findings(rule_id)
        src = [""] * len(f)
        if ev is not None and len(ev) == len(f) and "_file" in ev.columns:
            src = [f"{a}:{b}" if a else "" for a, b in zip(ev["_file"], ev["_line"])]
        return pd.DataFrame({
            self._t("col.ref"): f["ref"].tolist(),
            self._t("col.amount"): [money(a) for a in f["amount"]],
            self._t("col.severity"): [self._t(f"rep.sev.{s}") if s in ("high", "medium", "low") else s
                                      for s in f["severity"]],
            self._t("col.detail"): f["detail"].tolist(),
            self._t("col.source"): src,
        })

    def chart(self, rule_id: str) -> None:
        """The rule's chart for this unit, when it has one and there is data to draw."""
        from auditlib.outputs import charts

        fig = charts.draw(self.db, rule_id, self.unit_code, self.params, self.lang)
        if fig is not None:
            from IPython.display import Image, display

            alt = fig.axes[0].get_title() if fig.axes else rule_id
            display(Image(data=charts.figure_png(fig), format="png", metadata={"alt": alt}))

    def conclusion_text(self) -> str:
        n = len(self.findings)
        if n == 0:
            return self._t("rep.concl_none", inspection=self.inspection_label)
        high = int((self.findings["severity"] == "high").sum())
        lines = [self._t("rep.concl_some", inspection=self.inspection_label, n=n,
                         amount=money(total_amount(self.findings)), high=high)]
        for rule in self.rules:
            f = self.rule_findings(rule.id)
            if len(f):
                lines.append(self._t("rep.concl_rule", rule_id=rule.id, title=rule.title(self.lang), n=len(f),
                                     amount=money(total_amount(f))))
        return "\n".join(lines)

    def conclusion(self) -> None:
        head, *rest = self.conclusion_text().split("\n")
        items = "".join(f"<li>{escape(x)}</li>" for x in rest)
        show(f"<h2>{escape(self._t('rep.conclusion'))}</h2><p>{escape(head)}</p>"
                      + (f"<ul>{items}</ul>" if items else ""))


__all__ = ["Report", "FINDING_COLUMNS"]
