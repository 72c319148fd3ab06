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

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from auditlib.rules.catalogue import INSPECTIONS, get_rule
from auditlib.batch.handoff import load_task, unit_slice
from auditlib.db import connect, run_connection
from auditlib.rules.engine import FINDING_COLUMNS, implemented_rules, inspect, unit_names
from auditlib.rules import coverage, exclusions
from auditlib.errors import ParameterError
from auditlib.i18n import register, t
from auditlib.rules.params import Params, load_params
from auditlib.outputs import verification as vf
from auditlib.outputs.totals import dedup_exposure, interest_total
from auditlib.outputs.formats import (enum_label, inspection_label, money, param_text, param_value,
                                      shown_path, total_amount)
from auditlib.review.statuses import Change, Outcome, Status
from auditlib.views.html import back_link, escape, show, table
from auditlib.workspace import default_db

#: rows of a findings table shown in a report; the workbook holds them all
MAX_ROWS = 20
#: findings of a rule whose source rows a report looks up (those without a source line of their own)
MAX_SOURCE_LOOKUPS = 200
#: a report's link to its run's index: reports sit in ``<run>/<unit folder>/``
INDEX_FROM_REPORT = "../index.html"

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
    "rep.page_title": ("{unit_name}（{unit_code}）{inspection}专项检查", "{unit_name} ({unit_code}) {inspection}"),
    "rep.none": ("未发现疑点。", "No leads."),
    "rep.untested_head": ("未检查的规则（缺少所需数据，不能据此认为没有问题）",
                          "Rules not tested (their input is missing: no finding is no evidence here)"),
    "rep.concl_untested": ("未检查：{rule_id} {title}（{reason}）", "Not tested: {rule_id} {title} ({reason})"),
    "rep.data_warnings": ("数据覆盖提示", "Coverage warnings"),
    "rep.concl_none_tested": ("已运行的规则未发现{inspection}方面的疑点；以下规则未检查，不能据此认为没有问题。",
                              "The rules that ran found no {inspection} leads; the rules below were not tested, "
                              "which is no evidence either way."),
    "rep.note": ("说明", "Note"),
    "rep.too_few": ("样本不足（{n} 笔，少于 {minimum} 笔），不作判断。",
                    "Too few to judge ({n} amounts, fewer than {minimum}): no judgement made."),
    "rep.found": ("发现疑点 {n} 条，涉及金额 {amount} 元。", "{n} leads, amount {amount} yuan."),
    "rep.found_noamount": ("发现疑点 {n} 条。", "{n} leads."),
    "rep.more": ("仅显示前 {shown} 条，共 {n} 条；完整证据见工作底稿（xlsx）。",
                 "Showing {shown} of {n}; the evidence workbook (xlsx) holds them all."),
    "rep.summary_head": ("{unit_code} {inspection}：发现疑点 {n} 条，涉及金额 {amount} 元",
                         "{unit_code} {inspection}: {n} leads, amount {amount} yuan"),
    "rep.conclusion": ("检查结论", "Conclusion"),
    "rep.summary": ("各规则疑点汇总", "Leads per rule"),
    "rep.total_row": ("合计", "Total"),
    "rep.back": ("返回批次索引", "Back to the run index"),
    "rep.source_rows": ("{label} {n} 行：{where}", "{label}, {n} rows: {where}"),
    "rep.totals": ("合计：发现疑点 {n} 条，涉及金额 {amount} 元；涉及资金（去重） {dedup} 元",
                   "Total: {n} leads, amount {amount} yuan; de-duplicated {dedup} yuan"),
    "rep.interest": ("；逾期利息 {interest} 元（另计，不计入合计）",
                     "; late-payment interest {interest} yuan (apart, in no total)"),
    "rep.concl_none": ("本次检查未发现{inspection}方面的疑点。",
                       "This inspection found no {inspection} leads."),
    "rep.concl_some": ("本次检查共发现{inspection}方面疑点 {n} 条，涉及金额 {amount} 元，其中高风险 {high} 条。"
                       "以上为疑点，须经核实并取得被检查单位确认后方可定性。",
                       "This inspection found {n} {inspection} leads, amount {amount} yuan, {high} of high "
                       "severity. These are leads: each needs checking and the unit's confirmation."),
    "rep.concl_verified": ("本次检查共发现{inspection}方面疑点 {n} 条（不含排除），其中：经核实属实的问题 {confirmed} 条，"
                           "金额 {confirmed_amount} 元；已整改 {rectified} 条，金额 {rectified_amount} 元；"
                           "待核实疑点 {open} 条，涉及金额 {open_amount} 元。另排除 {dismissed} 条，不计入合计。",
                           "This inspection found {n} {inspection} leads (dismissed ones aside): {confirmed} "
                           "confirmed, {confirmed_amount} yuan; {rectified} rectified, {rectified_amount} yuan; "
                           "{open} still open, {open_amount} yuan. {dismissed} dismissed, counted in no total."),
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
    "col.finding_id": ("疑点编号", "Finding id"),
    "col.status": ("核实结论", "Status"),
    "col.change": ("对比上次", "Against baseline"),
    "col.reason": ("核实说明", "Explanation"),
    "col.confirmed": ("认定金额(元)", "Confirmed (yuan)"),
    "col.by": ("核实人", "Decided by"),
    "col.count": ("条数", "Findings"),
    "col.money": ("金额(元)", "Amount (yuan)"),
    "col.outcome": ("结果", "Outcome"),
    "col.rule": ("规则", "Rule"),
    "col.title": ("名称", "Title"),
    "rep.found_split": ("发现疑点 {n} 条：待核实 {open} 条，金额 {open_amount} 元；属实 {confirmed} 条，"
                        "金额 {confirmed_amount} 元；已整改 {rectified} 条，金额 {rectified_amount} 元。",
                        "{n} leads: {open} open, {open_amount} yuan; {confirmed} confirmed, {confirmed_amount} "
                        "yuan; {rectified} rectified, {rectified_amount} yuan."),
    "rep.dismissed": ("排除 {n} 条（不计入合计）", "{n} dismissed (counted in no total)"),
    "rep.verify": ("核实与整改跟踪", "Verification and follow-up"),
    "rep.verify_note": ("属实按认定金额（未填则按涉及金额）计；排除的疑点列明理由，不计入任何合计。",
                        "Confirmed findings count at their confirmed amount (else their exposure); dismissed "
                        "ones are listed with their reason and counted in no total."),
    "rep.changes": ("与上次检查对比", "Against the baseline run"),
    "rep.ch.new": ("新增", "new"),
    "rep.ch.persisting": ("仍存在", "persisting"),
    "rep.ch.resolved": ("已消除", "resolved"),
    "rep.ch.unrectified": ("上次已确认、本次仍存在（未整改）", "confirmed last time, still there (not rectified)"),
    "rep.resolved_list": ("已消除的疑点 {n} 条", "{n} resolved findings"),
    "rep.summary_status": ("  核实：待核实 {open} / {open_amount}；属实 {confirmed} / {confirmed_amount}；"
                           "已整改 {rectified} / {rectified_amount}；排除 {dismissed}（不计入合计）",
                           "  verified: open {open} / {open_amount}; confirmed {confirmed} / {confirmed_amount}; "
                           "rectified {rectified} / {rectified_amount}; dismissed {dismissed} (in no total)"),
    "rep.summary_changes": ("  对比上次：新增 {new}，仍存在 {persisting}，已消除 {resolved}；上次已确认、本次仍存在（未整改）{unrectified}",
                            "  against the baseline: new {new}, persisting {persisting}, resolved {resolved}; "
                            "confirmed last time and still there {unrectified}"),
})

#: tables and their date column, for the "data covered" table
_COVERAGE = (("units", None), ("accounts", "opened_on"), ("budget", "issued_on"),
             ("payments", "paid_on"), ("ledger", "voucher_date"), ("bank_txns", "txn_date"))


#: the exclusions table (CONTRACT §3: exclusion is never silent)
register({
    "rep.excl_head": ("已排除的支付（不参与 {rules}）", "Payments left out of {rules}"),
    "rep.excl_field": ("排除依据", "Excluded by"),
    "rep.excl_word": ("字样", "Word"),
    "rep.excl_rules": ("适用规则", "Rules"),
    "rep.excl_count": ("笔数", "Payments"),
    "rep.excl_amount": ("金额(元)", "Amount (yuan)"),
    "rep.excl_note": ("一笔支付含两个字样时在每个字样下各计一次。",
                      "A payment holding two words is counted under each."),
    "rep.excl.exclude_payees": ("收款人", "payee"),
    "rep.excl.exclude_expense_types": ("支出类型", "expense type"),
})


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
    #: with a baseline run, its findings of this unit and inspection that are gone (the task's rows
    #: of ``resolved.csv``); None without a baseline
    resolved: pd.DataFrame | None = None

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
            The task's precomputed findings (set by ``auditlib run``, with their statuses and
            changes, and the baseline's findings that are gone); empty to compute here, with the
            statuses of the register beside the database when there is one.
        """
        if inspection not in INSPECTIONS:
            raise ParameterError(f"未知检查 / unknown inspection {inspection!r}", file="", key="inspection",
                                 reason="unknown inspection")
        params = _run_params(params_file, run_id) if evidence and run_id else load_params(params_file or None)
        lang = lang or params.lang
        db = Path(db) if db else default_db()
        # under auditlib run (which holds the database read-only for the whole run) one connection is
        # held while the report lives: DuckDB then shares its open database with every later connect
        holder = run_connection(db) if evidence else None
        units = _run_units(holder, db, run_id) if holder is not None and run_id else None
        if units is None:
            con = connect(db)
            try:
                units = unit_names(con)
            finally:
                con.close()
        unit = str(unit) if unit else next(iter(units), "")
        if unit not in units:
            raise ParameterError(t("rep.no_unit", lang, unit=unit), file="", key="unit", reason="unknown unit")
        resolved = gaps = None
        if evidence:
            task = load_task(evidence)
            findings, ev, resolved, gaps = task["findings"], task["evidence"], task["resolved"], task["untested"]
        else:
            ins = inspect(db, inspection, unit=unit, params=params)
            findings, ev = with_register(db, ins.findings), ins.evidence
        findings, ev = unit_slice(findings, ev, unit)
        if resolved is not None and "unit_code" in resolved.columns:
            resolved = resolved[resolved["unit_code"].astype(str) == unit].reset_index(drop=True)
        report = cls(db=db, unit_code=unit, unit_name=units[unit] or "", inspection=inspection, params=params,
                     lang=lang, findings=findings, evidence=ev, run_id=run_id, resolved=resolved)
        report._holder = holder
        if gaps is not None:  # the run's engine found them: the same rows, not computed again
            report._untested = gaps[gaps["unit_code"].astype(str) == unit].reset_index(drop=True)
        return report

    # ---- the database -----------------------------------------------------------------------
    @contextmanager
    def _connection(self):
        """A connection to the report's database, closed again after use: under a run a cursor of
        the one the report holds (the database stays open for the whole notebook), else a fresh one."""
        held = getattr(self, "_holder", None)
        con = connect(self.db) if held is None else held.cursor()
        try:
            yield con
        finally:
            con.close()

    @property
    def applied(self) -> dict:
        """The parameters applied to this unit (``Params.for_unit``), worked out once per report."""
        memo = self.__dict__.get("_applied")
        if memo is None or memo[0] is not self.params:
            memo = self.__dict__["_applied"] = (self.params, self.params.for_unit(self.unit_code))
        return memo[1]

    # ---- text -------------------------------------------------------------------------------
    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    @property
    def inspection_label(self) -> str:
        return inspection_label(self.inspection, self.lang)

    @property
    def rules(self):
        """The inspection's rules, in catalogue order: the notebook shows each with :meth:`rule`."""
        return implemented_rules(self.inspection)

    @property
    def untested(self) -> pd.DataFrame:
        """This unit's rules not tested for want of input (CONTRACT §3): ``unit_code, rule_id,
        reason_zh, reason_en`` (:func:`auditlib.rules.coverage.untested`), read from the database."""
        if getattr(self, "_untested", None) is None:
            with self._connection() as con:
                self._untested = coverage.untested(con, [self.unit_code], self.rules, self.params)
        return self._untested

    def untested_text(self, rule_id: str) -> str:
        """``未检查（缺少 accepted_on）`` when the rule could not test this unit; "" otherwise."""
        memo, key = self.__dict__.setdefault("_untested_texts", {}), (rule_id, self.lang, id(self.untested))
        if key not in memo:  # asked for by several cells: looked up once
            memo[key] = coverage.untested_text(self.untested, self.unit_code, rule_id, self.lang)
        return memo[key]

    def data_warnings(self) -> list[str]:
        """Run-level coverage warnings in the report's language (dates vs fiscal year and cut-off,
        a chart of accounts that is not the government one); empty when all is well.  Under a run
        they are read once per kernel for each inspection (the run holds the database unchanged)."""
        key = (self.run_id, str(self.db), self.inspection, self.params.fiscal_year, self.params.as_of)
        got = _RUN_WARNINGS.get(key) if self.run_id else None
        if got is None:
            with self._connection() as con:
                got = coverage.data_warnings(con, self.params.fiscal_year, self.params.as_of, self.rules)
            if self.run_id:
                if any(k[0] != self.run_id for k in _RUN_WARNINGS):  # another run's: forgotten
                    _RUN_WARNINGS.clear()
                _RUN_WARNINGS[key] = got
        return [w[0] if self.lang == "zh" else w[1] for w in got]

    def rule_findings(self, rule_id: str) -> pd.DataFrame:
        memo = self.__dict__.setdefault("_rule_findings", {})
        got = memo.get(rule_id)
        if got is None or got[0] is not self.findings:  # asked for by several cells: selected once
            got = memo[rule_id] = (self.findings, self.findings[self.findings["rule_id"] == rule_id])
        return got[1]

    # ---- cells ------------------------------------------------------------------------------
    def header(self) -> None:
        """Title, the settings in force, the data covered and, when the register or a baseline
        says anything, the verification state."""
        show(
            self.back_html() + f"<h1>{escape(self.title())}</h1>"
            f"<p class=\"totals\">{escape(self.totals_line())}</p>"
            f"<h2>{escape(self._t('rep.params'))}</h2>{table(self.settings_frame())}"
            f"<h2>{escape(self._t('rep.coverage'))}</h2>{table(self.coverage_frame())}"
            + self.untested_html() + self.exclusions_html() + self.verification_html(), page_title=self.page_title())

    def untested_html(self) -> str:
        """The coverage warnings and the rules not tested for this unit, with why; "" when none."""
        parts = []
        warnings = self.data_warnings()
        if warnings:
            parts.append(f"<h2>{escape(self._t('rep.data_warnings'))}</h2><ul class=\"warnings\">"
                         + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul>")
        rows = [f"<li>{escape(rule.id)} {escape(rule.title(self.lang))}：{escape(self.untested_text(rule.id))}</li>"
                for rule in self.rules if self.untested_text(rule.id)]
        if rows:
            parts.append(f"<h2>{escape(self._t('rep.untested_head'))}</h2><ul class=\"untested\">"
                         + "".join(rows) + "</ul>")
        return "".join(parts)

    # ---- exclusions (CONTRACT §3): what SF05, SF06, SF07 and SF13 left out, never silently -----
    def exclusions_frame(self) -> pd.DataFrame:
        """This unit's payments the exclusion lists leave out, per word: field, word, rules,
        count and amount (:func:`auditlib.rules.exclusions.excluded_payments`); empty when none
        or for an inspection without the payment rules that exclude."""
        if self.inspection != "slush_funds":
            return pd.DataFrame(columns=exclusions.COLUMNS)
        if getattr(self, "_exclusions", None) is None:
            with self._connection() as con:
                self._exclusions = exclusions.excluded_payments(con, self.params, [self.unit_code])
        return self._exclusions

    def exclusions_html(self) -> str:
        """A small table of the payments left out by the exclusion lists; "" when none."""
        df = self.exclusions_frame()
        if not len(df):
            return ""
        shown = pd.DataFrame({
            self._t("rep.excl_field"): [self._t(f"rep.excl.{f}") for f in df["field"]],
            self._t("rep.excl_word"): df["word"],
            self._t("rep.excl_rules"): df["rules"],
            self._t("rep.excl_count"): df["payments"].astype(int),
            self._t("rep.excl_amount"): [money(v) for v in df["amount"]],
        })
        rules = "/".join(exclusions.EXCLUDING_RULES)
        return (f"<h2>{escape(self._t('rep.excl_head', rules=rules))}</h2>"
                f"{table(shown, numeric=(self._t('rep.excl_count'), self._t('rep.excl_amount')))}"
                f"<p class=\"note\">{escape(self._t('rep.excl_note'))}</p>")

    # ---- verification (CONTRACT §6) ---------------------------------------------------------
    @property
    def verified(self) -> bool:
        """Whether the register decided any of these findings (asked by every cell: worked out once)."""
        memo = self.__dict__.get("_verified")
        if memo is None or memo[0] is not self.findings:
            memo = self.__dict__["_verified"] = (self.findings, vf.has_status(self.findings))
        return memo[1]

    @property
    def compared(self) -> bool:
        """Whether the findings were compared with a baseline run."""
        return self.resolved is not None or vf.has_baseline(self.findings)

    def status_frame(self) -> pd.DataFrame:
        """Count and money per status; 排除 without money (counted in no total)."""
        tallies = vf.split(self.findings)
        return pd.DataFrame(
            [(s.label(self.lang), tallies[s].count, money(tallies[s].money)) for s in vf.STATUS_ORDER],
            columns=[self._t("col.status"), self._t("col.count"), self._t("col.money")])

    def change_counts(self) -> dict[str, int]:
        """新增 / 仍存在 / 已消除 and 上次已确认、本次仍存在（未整改） of this unit and inspection."""
        counts = vf.change_counts(self.findings)
        counts["resolved"] = 0 if self.resolved is None else len(self.resolved)
        return counts

    def change_frame(self) -> pd.DataFrame:
        counts = self.change_counts()
        keys = ("new", "persisting", "resolved", "unrectified")
        return pd.DataFrame([[counts[k] for k in keys]], columns=[self._t(f"rep.ch.{k}") for k in keys])

    def resolved_frame(self) -> pd.DataFrame:
        """The baseline's findings that are gone, with what became of them."""
        r = self.resolved if self.resolved is not None else pd.DataFrame()
        cols = [self._t("col.finding_id"), self._t("col.rule"), self._t("col.ref"), self._t("col.status"),
                self._t("col.money"), self._t("col.outcome")]
        if not len(r):
            return pd.DataFrame(columns=cols)

        def outcome(v):
            try:
                return Outcome(str(v)).label(self.lang)
            except ValueError:
                return str(v)
        return pd.DataFrame({
            cols[0]: r.get("finding_id", ""), cols[1]: r.get("rule_id", ""), cols[2]: r.get("ref", ""),
            cols[3]: [vf.status_of(s).label(self.lang) for s in r.get("baseline_status", [""] * len(r))],
            cols[4]: [money(vf.as_money(a)) for a in r.get("baseline_exposure", [None] * len(r))],
            cols[5]: [outcome(o) for o in r.get("outcome", [""] * len(r))]})

    def verification_html(self) -> str:
        """The 核实与整改跟踪 section: statuses, and against a baseline the changes (empty markup
        for a run without register and baseline)."""
        if not (self.verified or self.compared):
            return ""
        parts = [f"<h2>{escape(self._t('rep.verify'))}</h2>"]
        if self.verified:
            parts += [table(self.status_frame()), f"<p>{escape(self._t('rep.verify_note'))}</p>"]
        if self.compared:
            parts += [f"<h3>{escape(self._t('rep.changes'))}</h3>", table(self.change_frame())]
            gone = self.resolved_frame()
            if len(gone):
                parts.append(f"<details><summary>{escape(self._t('rep.resolved_list', n=len(gone)))}</summary>"
                             f"{table(gone)}</details>")
        return "".join(parts)

    def back_html(self) -> str:
        """Under a run, the link back to its ``index.html`` (one folder up from ``<unit>/``);
        nothing for a notebook explored outside a run (there is no index to go back to)."""
        return back_link(INDEX_FROM_REPORT, self._t("rep.back")) if self.run_id else ""

    def page_title(self) -> str:
        """The browser tab's title: the unit and the inspection."""
        return self._t("rep.page_title", inspection=self.inspection_label, unit_name=self.unit_name,
                       unit_code=self.unit_code)

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
        rows.append((self._t("rep.db"), shown_path(self.db)))
        applied = self.applied
        for rule in self.rules:
            for prm in rule.params:
                label = prm.label(self.lang)
                rows.append((f"{rule.id} {label}", param_value(prm, applied[rule.id][prm.name], self.lang)))
        return pd.DataFrame(rows, columns=[self._t("rep.setting"), self._t("rep.value")])

    def coverage_frame(self) -> pd.DataFrame:
        """Rows and date range per table for this unit."""
        # one query for the six tables (one round trip instead of six): a row of each table's count and
        # date range side by side, each column of its own type
        sql = "SELECT * FROM " + ", ".join(
            "(SELECT count(*), " + (f"min({date_col}), max({date_col})" if date_col else "NULL, NULL")
            + f" FROM {tbl} WHERE unit_code = $unit) AS t{i}" for i, (tbl, date_col) in enumerate(_COVERAGE))
        with self._connection() as con:
            got = con.execute(sql, {"unit": self.unit_code}).fetchone()
        rows = []
        for i, (tbl, _) in enumerate(_COVERAGE):
            n, lo, hi = got[3 * i:3 * i + 3]
            rows.append((self._t(f"tbl.{tbl}"), n, lo.isoformat() if lo else "", hi.isoformat() if hi else ""))
        return pd.DataFrame(rows, columns=[self._t("rep.table"), self._t("rep.rows"),
                                           self._t("rep.from"), self._t("rep.to")])

    def summary_text(self) -> str:
        """Plain-text counts per rule: the cell nbval checks.

        Without a register and a baseline it reads as it always has; with them, 排除 findings
        leave the counts and a line per status (and the changes against the baseline) follows.
        """
        f = self.counted_findings()
        lines = [self._t("rep.summary_head", unit_code=self.unit_code, inspection=self.inspection_label,
                         n=len(f), amount=money(total_amount(f)))]
        for rule in self.rules:
            mine = f[f["rule_id"] == rule.id]
            untested = self.untested_text(rule.id) if not len(mine) else ""
            lines.append(f"  {rule.id}: {untested}" if untested else
                         f"  {rule.id}: {len(mine)} / {money(total_amount(mine))}")
        if self.verified:
            lines.append(self._t("rep.summary_status", **self._split_words()))
        if self.compared:
            lines.append(self._t("rep.summary_changes", **self.change_counts()))
        return "\n".join(lines)

    def totals_line(self) -> str:
        """The summary paragraph: count and 涉及金额 of the findings that count (排除 left out, 属实 at
        its 认定金额), 涉及资金（去重） beside it, and for 支付不及时 the 逾期利息, never added in."""
        f = self.counted_findings()
        text = self._t("rep.totals", n=len(f), amount=money(total_amount(f)), dedup=money(dedup_exposure(f)))
        if self.inspection == "delayed_payments":
            text += self._t("rep.interest", interest=money(interest_total(f)))
        return text

    def counted_findings(self, rule_id: str | None = None) -> pd.DataFrame:
        """The findings that count (排除 ones left out), of one rule or all."""
        f = self.findings if rule_id is None else self.rule_findings(rule_id)
        if not len(f) or "status" not in f.columns:  # nothing decided: none dismissed
            return f
        return f[[s is not Status.DISMISSED for s in vf.statuses(f)]]

    def _split_words(self, findings: pd.DataFrame | None = None) -> dict:
        tallies = vf.split(self.findings if findings is None else findings)
        words = {}
        for s in vf.STATUS_ORDER:
            words[s.value] = tallies[s].count
            words[f"{s.value}_amount"] = money(tallies[s].money) or "0.00"
        return words

    def summary_frame(self) -> pd.DataFrame:
        """Count and 涉及金额 per rule (排除 left out, 属实 at its 认定金额), with a total row."""
        f = self.counted_findings()
        rows = []
        for rule in self.rules:
            mine = f[f["rule_id"] == rule.id]
            untested = self.untested_text(rule.id) if not len(mine) else ""
            rows.append((rule.id, rule.title(self.lang), untested or len(mine),
                         "—" if untested else money(total_amount(mine)) or "0.00"))
        rows.append((self._t("rep.total_row"), "", len(f), money(total_amount(f)) or "0.00"))
        return pd.DataFrame(rows, columns=[self._t("col.rule"), self._t("col.title"), self._t("col.count"),
                                           self._t("col.money")])

    def summary_html(self) -> str:
        """:meth:`summary_frame` under its heading, the total row set apart."""
        head, sep, tail = table(self.summary_frame(), text=[self._t("col.rule")]).rpartition("<tr>")
        return f"<h2>{escape(self._t('rep.summary'))}</h2>" + head + '<tr class="total">' + tail

    def summary(self) -> None:
        """The counts per rule as a table; its plain text (:meth:`summary_text`) is what nbval
        checks and what a terminal prints."""
        show(self.summary_html(), text=self.summary_text())

    def rule(self, rule_id: str, chart: bool = True) -> None:
        """What the rule checks and on what basis, its findings, and its chart."""
        rule = get_rule(rule_id)
        f = self.rule_findings(rule_id)
        applied = self.applied.get(rule_id, {})
        prm_text = param_text(rule, applied, self.lang) or "—"
        parts = [f"<h2>{escape(rule.id)} {escape(rule.title(self.lang))}</h2>",
                 # the rule's body: print starts each rule on a new page (the template's CSS finds it)
                 f"<div class=\"auditlib-rule\" id=\"rule-{escape(rule.id)}\">",
                 f"<p><b>{escape(self._t('rep.checks'))}：</b>{escape(rule.check(self.lang))}</p>",
                 f"<p><b>{escape(self._t('rep.basis'))}：</b>{escape(rule.basis)}</p>",
                 f"<p><b>{escape(self._t('rep.rule_params'))}：</b>{escape(prm_text)}</p>"]
        note = self.note(rule)
        if note:  # the rule's remark about the run (SF12: years outside its holiday calendar)
            parts.append(f"<p class=\"note\"><b>{escape(self._t('rep.note'))}：</b>{escape(note)}</p>")
        if not len(f):
            few = self.too_few(rule)
            text = (self._t("rep.too_few", n=few[0], minimum=few[1]) if few
                    else coverage.no_findings_text(self.untested, self.unit_code, rule.id, self._t("rep.none"),
                                                   self.lang))
            parts.append(f"<p>{escape(text)}</p>")
        else:
            shown = self.findings_frame(rule_id)
            if self.verified:
                counted = self.counted_findings(rule_id)
                parts.append(f"<p>{escape(self._t('rep.found_split', n=len(counted), **self._split_words(f)))}</p>")
            else:
                amount = total_amount(f)
                key = ("rep.found" if any(a is not None and not pd.isna(a) for a in f["amount"])
                       else "rep.found_noamount")
                parts.append(f"<p>{escape(self._t(key, n=len(f), amount=money(amount)))}</p>")
            if len(shown):
                parts.append(table(shown.head(MAX_ROWS)))
            if len(shown) > MAX_ROWS:
                parts.append(f"<p>{escape(self._t('rep.more', shown=MAX_ROWS, n=len(shown)))}</p>")
            dismissed = self.dismissed_frame(rule_id) if "status" in f.columns else ()
            if len(dismissed):  # listed with their reason, collapsed, counted in no total
                parts.append(f"<details class=\"dismissed\"><summary>"
                             f"{escape(self._t('rep.dismissed', n=len(dismissed)))}</summary>"
                             f"{table(dismissed)}</details>")
        parts.append("</div>")
        show("".join(parts))
        if chart:
            self.chart(rule_id)

    def note(self, rule) -> str:
        """The rule's remark about this run in the report's language (``Rule.note``; SF12: years its
        holiday calendar does not cover, judged on Saturdays and Sundays only); "" when none."""
        if rule.note is None:
            return ""
        with self._connection() as con:
            got = rule.note(con, self.params)
        return "" if not got else (got[0] if self.lang == "zh" else got[1])

    def too_few(self, rule) -> tuple[int, int] | None:
        """``(n, minimum)`` when ``rule`` judges the unit's whole sample and it is below the rule's
        minimum (样本不足，不作判断); None otherwise."""
        if rule.sample is None:
            return None
        with self._connection() as con:
            return rule.too_few(con, self.unit_code, self.params)

    def findings_frame(self, rule_id: str) -> pd.DataFrame:
        """A rule's findings for display (排除 ones aside, see :meth:`dismissed_frame`): finding id,
        status, ref, amount, severity, detail, source row; the change against a baseline and the
        verification's explanation and 认定金额 when there are any."""
        frame, status = self._display(rule_id)
        if all(s is not Status.DISMISSED for s in status):
            return frame
        return frame[[s is not Status.DISMISSED for s in status]].reset_index(drop=True)

    def dismissed_frame(self, rule_id: str) -> pd.DataFrame:
        """A rule's 排除 findings with their reason (and who decided)."""
        f = self.rule_findings(rule_id)
        keep = [s is Status.DISMISSED for s in vf.statuses(f)]
        d = f[keep]
        by = d["decided_by"] if "decided_by" in d.columns else [""] * len(d)
        return pd.DataFrame({
            self._t("col.finding_id"): _ids(d), self._t("col.ref"): d["ref"].tolist(),
            self._t("col.amount"): [money(a) for a in d["amount"]],
            self._t("col.reason"): vf.reasons(d).tolist(), self._t("col.by"): [str(b or "") for b in by],
        })

    def _display(self, rule_id: str) -> tuple[pd.DataFrame, list]:
        ev = self.evidence.get(rule_id)
        f = self.rule_findings(rule_id)
        src = [""] * len(f)
        if ev is not None and len(ev) == len(f) and "_file" in ev.columns:
            src = [f"{a}:{b}" if a and not pd.isna(a) else "" for a, b in zip(ev["_file"], ev["_line"])]
        if not all(src):  # a finding about several rows (an account, a balance, a year): its source rows
            src = self._sources_of(rule_id, f, ev, src)
        status = list(vf.statuses(f))
        columns = {
            self._t("col.finding_id"): _ids(f),
            self._t("col.status"): [s.label(self.lang) for s in status],
        }
        if self.compared:
            columns[self._t("col.change")] = [c.label(self.lang) if isinstance(c, Change) else ""
                                              for c in vf.changes(f)]
        columns.update({
            self._t("col.ref"): f["ref"].tolist(),
            self._t("col.amount"): [money(a) for a in f["amount"]],
            self._t("col.severity"): [enum_label("severity", s, self.lang) for s in f["severity"]],
            self._t("col.detail"): f["detail"].tolist(),
            self._t("col.source"): src,
        })
        if self.verified:
            columns[self._t("col.confirmed")] = [money(a) for a in vf.confirmed_amounts(f)]
            columns[self._t("col.reason")] = vf.reasons(f).tolist()
        return pd.DataFrame(columns), status

    def _sources_of(self, rule_id: str, f: pd.DataFrame, ev: pd.DataFrame | None, src: list[str]) -> list[str]:
        """``src`` with each empty entry filled from the finding's source rows (the rule's
        drill-down): ``银行流水 3 行：bank_txns.csv:10、12、15``."""
        rule = get_rule(rule_id)
        evidence = ev.reset_index(drop=True) if ev is not None and len(ev) == len(f) else None
        with self._connection() as con:
            out = list(src)
            for i, ref in enumerate(f["ref"].tolist()[:MAX_SOURCE_LOOKUPS]):
                if out[i]:
                    continue
                try:
                    found = rule.source_rows(con, self.unit_code, ref, None if evidence is None else evidence.iloc[i],
                                             self.params.as_of, self.params.fiscal_year)
                except Exception:  # noqa: BLE001 - a source column is a help, never a reason to fail a report
                    found = []
                out[i] = "；".join(t for t in (_rows_text(s, self.lang) for s in found) if t)
            return out

    def chart(self, rule_id: str) -> None:
        """The rule's chart for this unit, when it has one and there is data to draw."""
        from auditlib.outputs import charts

        with self._connection() as con:
            fig = charts.draw(con, rule_id, self.unit_code, self.params, self.lang)
        if fig is not None:
            from IPython.display import Image, display

            alt = fig.axes[0].get_title() if fig.axes else rule_id
            display(Image(data=charts.figure_png(fig), format="png", metadata={"alt": alt}))

    def conclusion_text(self) -> str:
        counted = self.counted_findings()
        n = len(counted)
        untested = [self._t("rep.concl_untested", rule_id=rule.id, title=rule.title(self.lang),
                            reason=coverage.reason(self.untested, self.unit_code, rule.id, self.lang))
                    for rule in self.rules if self.untested_text(rule.id) and not len(self.counted_findings(rule.id))]
        if n == 0 and not len(self.findings):
            head = "rep.concl_none_tested" if untested else "rep.concl_none"
            return "\n".join([self._t(head, inspection=self.inspection_label), *untested])
        if self.verified:
            lines = [self._t("rep.concl_verified", inspection=self.inspection_label, n=n, **self._split_words())]
        else:
            high = int((self.findings["severity"] == "high").sum())
            lines = [self._t("rep.concl_some", inspection=self.inspection_label, n=n,
                             amount=money(total_amount(self.findings)), high=high)]
        for rule in self.rules:
            f = self.counted_findings(rule.id)
            if len(f):
                lines.append(self._t("rep.concl_rule", rule_id=rule.id, title=rule.title(self.lang), n=len(f),
                                     amount=money(total_amount(f))))
        return "\n".join(lines + untested)

    def conclusion(self) -> None:
        head, *rest = self.conclusion_text().split("\n")
        items = "".join(f"<li>{escape(x)}</li>" for x in rest)
        show(f"<h2>{escape(self._t('rep.conclusion'))}</h2><p>{escape(head)}</p>"
                      + (f"<ul>{items}</ul>" if items else ""))


#: under a run (``run_id`` set): the run's parameters and coverage warnings, read once per kernel
#: (a run's parameters and database do not change while it runs; CONTRACT §4)
_RUN_PARAMS: dict[tuple, Params] = {}
_RUN_WARNINGS: dict[tuple, list] = {}
_RUN_UNITS: dict[tuple, dict] = {}


def _run_units(con, db, run_id: str) -> dict[str, str]:
    """:func:`unit_names` of ``db`` read on ``con``, once per run in this kernel."""
    key = (run_id, str(db))
    if key not in _RUN_UNITS:
        _RUN_UNITS.clear()
        _RUN_UNITS[key] = unit_names(con)
    return _RUN_UNITS[key]


def _run_params(params_file: str, run_id: str) -> Params:
    """:func:`load_params` of ``params_file``, read once per run in this kernel."""
    import os

    from auditlib.workspace import ENV

    key = (run_id, params_file or "", os.environ.get(ENV, ""))
    if key not in _RUN_PARAMS:
        _RUN_PARAMS.clear()
        _RUN_PARAMS[key] = load_params(params_file or None)
    return _RUN_PARAMS[key]


def _rows_text(rows, lang: str, most: int = 5) -> str:
    """One table's source rows as a report's 来源 cell: ``银行流水 3 行：bank_txns.csv:10、12、15``
    (at most ``most`` line numbers per file, then 等)."""
    frame = rows.rows
    if not len(frame) or "_file" not in frame.columns:
        return ""
    parts = []
    for name, lines in frame.groupby(frame["_file"].fillna(""), sort=False)["_line"]:
        if not name:
            continue
        numbers = [str(x) for x in sorted(int(x) for x in lines if not pd.isna(x))]
        more = "、…" if len(numbers) > most else ""
        parts.append(f"{name}:{'、'.join(numbers[:most])}{more}")
    if not parts:
        return ""
    return t("rep.source_rows", lang, label=rows.label(lang), n=len(frame), where="；".join(parts))


def _ids(findings: pd.DataFrame) -> list[str]:
    """The findings' ``finding_id`` (computed when the frame has none)."""
    if "finding_id" in findings.columns:
        return [str(x) for x in findings["finding_id"]]
    from auditlib.rules.identity import finding_ids

    return list(finding_ids(findings))


def with_register(db, findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` with their statuses from the register beside ``db``, when there is one."""
    from auditlib.review.apply import apply_register
    from auditlib.review.register import Register

    register = Register.beside(db)
    if not register.path.is_file():
        return findings
    return apply_register(findings, register.latest())


__all__ = ["Report", "FINDING_COLUMNS"]
