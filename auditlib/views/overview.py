"""What ``notebooks/overview.ipynb`` shows: the county over one run.

Units ranked by findings, totals per rule and a units × rules heat map.  Under
``auditlib run`` it reads the run's ``findings.csv`` (``run_dir``) with each finding's status
and change, and the run's ``resolved.csv`` when it compared with a baseline; opened by hand
it computes every unit's findings from the database (statuses from the register beside it).
Totals split by status as CONTRACT §6 says: 排除 findings are counted in no total.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from auditlib.batch.compare import RESOLVED
from auditlib.rules.catalogue import INSPECTIONS, all_rules
from auditlib.db import connect, run_connection
from auditlib.rules.engine import inspect, unit_names
from auditlib.i18n import register, t
from auditlib.rules.params import Params, load_params
from auditlib.outputs import verification as vf
from auditlib.outputs.formats import inspection_label, money, shown_path, total_amount
from auditlib.outputs.totals import dedup_exposure, interest_total
from auditlib.review.statuses import Status
from auditlib.views.html import back_link, escape, show, table
from auditlib.views.ranking import RiskScores, unit_bases
from auditlib.workspace import default_db

#: the overview's link to its run's index: both sit in the run's folder
INDEX_FROM_OVERVIEW = "index.html"

register({
    "ov.back": ("返回批次索引", "Back to the run index"),
    "ov.title_county": ("全县总览", "County overview"),
    "ov.title_batch": ("本批次总览", "Overview of this run"),
    "ov.source_run": ("批次 {run_id}（{path}）", "run {run_id} ({path})"),
    "ov.source_run_id": ("批次 {run_id}", "run {run_id}"),
    "ov.source_db": ("数据库 {path}（即时计算）", "database {path} (computed now)"),
    "ov.totals": ("合计：{units} 个单位，发现疑点 {n} 条，涉及金额 {amount} 元", "Total: {units} units, {n} leads, "
                  "amount {amount} yuan"),
    "ov.totals_extra": ("；涉及资金（去重） {dedup} 元；逾期利息 {interest} 元（另计，不计入合计）",
                        "; de-duplicated {dedup} yuan; late-payment interest {interest} yuan (apart, in no total)"),
    "ov.ranking": ("单位排名", "Units ranked"),
    "ov.per_rule": ("各规则合计", "Totals per rule"),
    "ov.heatmap": ("单位 × 规则 疑点条数", "Leads per unit and rule"),
    "ov.col.rank": ("名次", "Rank"),
    "ov.col.unit": ("单位代码", "Unit"),
    "ov.col.name": ("单位名称", "Name"),
    "ov.col.n": ("疑点条数", "Leads"),
    "ov.col.high": ("高风险", "High"),
    "ov.col.amount": ("金额(元)", "Amount (yuan)"),
    "ov.col.untested": ("未检查单位（缺少数据）", "Units not tested (input missing)"),
    "ov.col.rule": ("规则", "Rule"),
    "ov.col.title": ("名称", "Title"),
    "ov.col.inspection": ("检查", "Inspection"),
    "ov.col.units": ("涉及单位", "Units"),
    "ov.axis.rule": ("规则", "rule"),
    "ov.axis.unit": ("单位", "unit"),
    "ov.verify": ("核实与整改跟踪", "Verification and follow-up"),
    "ov.col.status": ("核实结论", "Status"),
    "ov.col.count": ("条数", "Findings"),
    "ov.col.money": ("金额(元)", "Amount (yuan)"),
    "ov.col.new": ("新增", "new"),
    "ov.col.persisting": ("仍存在", "persisting"),
    "ov.col.resolved": ("已消除", "resolved"),
    "ov.col.unrectified": ("上次已确认、本次仍存在（未整改）", "confirmed last time, still there"),
    "ov.note": ("属实按认定金额（未填则按涉及金额）计；排除的疑点不计入任何合计。",
                "Confirmed findings count at their confirmed amount (else their exposure); dismissed ones "
                "count in no total."),
    "ov.summary_status": ("  核实：待核实 {open} / {open_amount}；属实 {confirmed} / {confirmed_amount}；"
                          "已整改 {rectified} / {rectified_amount}；排除 {dismissed}（不计入合计）",
                          "  verified: open {open} / {open_amount}; confirmed {confirmed} / {confirmed_amount}; "
                          "rectified {rectified} / {rectified_amount}; dismissed {dismissed} (in no total)"),
    "ov.summary_changes": ("  对比上次：新增 {new}，仍存在 {persisting}，已消除 {resolved}；上次已确认、本次仍存在（未整改）{unrectified}",
                           "  against the baseline: new {new}, persisting {persisting}, resolved {resolved}; "
                           "confirmed last time and still there {unrectified}"),
})


@dataclass
class Overview:
    findings: pd.DataFrame  # rule_id, unit_code, amount (Decimal or None), severity, inspection; status, change
    units: dict[str, str]
    params: Params
    lang: str
    source: str
    #: with a baseline, the run's ``resolved.csv`` (the baseline's findings that are gone); else None
    resolved: pd.DataFrame | None = None
    #: the units the run covered (from its manifest); None when every unit of the database was inspected
    ran: frozenset[str] | None = None
    #: each unit's base for the risk score (budget, else the year's payments:
    #: :func:`auditlib.views.ranking.unit_bases`); None: 0 for every unit
    bases: dict[str, Decimal] | None = None
    #: whether the overview belongs to a run (its page sits beside the run's ``index.html``)
    in_run: bool = False
    #: the database (for the rules not tested per unit, CONTRACT §3); None: not known
    db: Path | None = None

    @classmethod
    def open(cls, db="", params_file="", lang="", run_dir="") -> "Overview":
        params = load_params(params_file or None)
        lang = lang or params.lang
        db = Path(db) if db else default_db()
        con = run_connection(db) if run_dir else connect(db)
        try:
            units = unit_names(con)
            bases = unit_bases(con, units, params.as_of, params.fiscal_year)
        finally:
            con.close()
        resolved = ran = None
        if run_dir:
            run_dir = Path(run_dir)
            from auditlib.batch.handoff import run_file
            from auditlib.outputs.findings_csv import read_findings_csv

            f = read_findings_csv(run_file(run_dir, "findings.csv"))  # unit codes as in the database
            f["amount"] = [Decimal(a) if a else None for a in f["amount"]]
            f = _with_confirmed_amounts(run_dir, f)
            shown = shown_path(run_dir)  # e.g. outputs/demo-…; just the run id outside the workspace
            source = (t("ov.source_run", lang, run_id=run_dir.name, path=shown) if shown != run_dir.name
                      else t("ov.source_run_id", lang, run_id=run_dir.name))
            ran = _units_run(run_dir)
            if run_file(run_dir, RESOLVED).is_file():
                resolved = read_findings_csv(run_file(run_dir, RESOLVED))
        else:
            f = pd.concat([inspect(db, name, params=params).findings for name in INSPECTIONS], ignore_index=True)
            from auditlib.views.report import with_register

            f = with_register(db, f)
            source = t("ov.source_db", lang, path=shown_path(db))
        return cls(findings=f, units=units, params=params, lang=lang, source=source, resolved=resolved,
                   ran=None if ran is None or set(units) <= ran else frozenset(ran), bases=bases,
                   in_run=bool(run_dir), db=db)

    def _t(self, key, **kw):
        return t(key, self.lang, **kw)

    @property
    def title(self) -> str:
        """全县总览 when every unit of the database was inspected, else 本批次总览."""
        return self._t("ov.title_county" if self.ran is None else "ov.title_batch")

    def header(self) -> None:
        """The link back to the run's index (under a run), the title and where the numbers come
        from; the totals follow in :meth:`summary`."""
        back = back_link(INDEX_FROM_OVERVIEW, self._t("ov.back")) if self.in_run else ""
        show(f"{back}<h1>{escape(self.title)}</h1><p class=\"source\">{escape(self.source)}</p>", page_title=self.title)

    # ---- verification (CONTRACT §6) ---------------------------------------------------------
    @property
    def verified(self) -> bool:
        return vf.has_status(self.findings)

    @property
    def compared(self) -> bool:
        return self.resolved is not None or vf.has_baseline(self.findings)

    @property
    def counted(self) -> pd.DataFrame:
        """The findings that count in totals (排除 ones left out)."""
        f = self.findings
        return f[[s is not Status.DISMISSED for s in vf.statuses(f)]] if len(f) else f

    def _resolved_of(self, unit_code: str | None = None) -> int:
        r = self.resolved
        if r is None or not len(r):
            return 0
        return len(r) if unit_code is None else int((r["unit_code"] == unit_code).sum())

    def change_counts(self, unit_code: str | None = None) -> dict[str, int]:
        f = self.findings if unit_code is None else self.findings[self.findings["unit_code"] == unit_code]
        counts = vf.change_counts(f)
        counts["resolved"] = self._resolved_of(unit_code)
        return counts

    def status_frame(self) -> pd.DataFrame:
        tallies = vf.split(self.findings)
        return pd.DataFrame([(s.label(self.lang), tallies[s].count, money(tallies[s].money)) for s in vf.STATUS_ORDER],
                            columns=[self._t("ov.col.status"), self._t("ov.col.count"), self._t("ov.col.money")])

    def verification_html(self) -> str:
        if not (self.verified or self.compared):
            return ""
        parts = [f"<h2>{escape(self._t('ov.verify'))}</h2>"]
        if self.verified:
            parts += [table(self.status_frame()), f"<p>{escape(self._t('ov.note'))}</p>"]
        if self.compared:
            counts = self.change_counts()
            keys = ("new", "persisting", "resolved", "unrectified")
            parts.append(table(pd.DataFrame([[counts[k] for k in keys]],
                                            columns=[self._t(f"ov.col.{k}") for k in keys])))
        return "".join(parts)

    def totals_text(self) -> str:
        f = self.counted
        return self._t("ov.totals", units=len(self.units), n=len(f), amount=money(total_amount(f)))

    def totals_line(self) -> str:
        """The header's totals line: :meth:`totals_text` (the nbval-checked summary's first line)
        with 涉及资金（去重） and 逾期利息 beside it (the interest never added in)."""
        f = self.counted
        return self.totals_text() + self._t("ov.totals_extra", dedup=money(dedup_exposure(f)),
                                            interest=money(interest_total(f)))

    def summary(self) -> None:
        """The totals line (with 涉及资金（去重） and 逾期利息 beside it) and, with the register or a
        baseline, the verification tables, shown once; the per-rule totals are :meth:`per_rule`'s
        table.  The output's plain text (:meth:`summary_text`) is what nbval checks."""
        show(f"<p class=\"totals\">{escape(self.totals_line())}</p>" + self.verification_html(),
             text=self.summary_text())

    def summary_text(self) -> str:
        """Plain-text totals per rule (as it always read, for a run without register and baseline;
        then a line per status and the changes)."""
        lines = [self.totals_text()]
        counted = self.counted
        for rule in all_rules():
            f = counted[counted["rule_id"] == rule.id]
            lines.append(f"  {rule.id}: {len(f)} / {money(total_amount(f))}")
        if self.verified:
            tallies = vf.split(self.findings)
            words = {}
            for s in vf.STATUS_ORDER:
                words[s.value] = tallies[s].count
                words[f"{s.value}_amount"] = money(tallies[s].money) or "0.00"
            lines.append(self._t("ov.summary_status", **words))
        if self.compared:
            lines.append(self._t("ov.summary_changes", **self.change_counts()))
        return "\n".join(lines)

    @property
    def ranked_units(self) -> list[str]:
        """The units this overview ranks: those the run covered (every unit of the database when
        it covered all of them, or when computed from the database)."""
        return [c for c in self.units if self.ran is None or c in self.ran]

    def risk_scores(self) -> RiskScores:
        """Each ranked unit's risk score and each rule's share of it (:mod:`auditlib.views.ranking`)."""
        return RiskScores.compute(self.counted, self.ranked_units, self.bases or {}, self.params.weights)

    def ranking_frame(self) -> pd.DataFrame:
        """Units by risk score, highest first (排除 findings left out), with the rule that weighs
        most, counts and amount; with the register, counts per status, and with a baseline,
        new / persisting / resolved / not rectified."""
        scores = self.risk_scores()
        score = scores.scores()
        codes = scores.order()
        rules = {r.id: r for r in all_rules()}
        rows = []
        for i, code in enumerate(codes):
            f = self.counted[self.counted["unit_code"] == code]
            top = scores.top_rule(code)
            rows.append((i + 1, code, self.units.get(code) or "", round(float(score[code]), 2),
                         f"{top} {rules[top].title(self.lang)}" if top else "—", len(f),
                         int((f["severity"] == "high").sum()), money(total_amount(f))))
        frame = pd.DataFrame(rows, columns=[self._t(k) for k in (
            "ov.col.rank", "ov.col.unit", "ov.col.name", "rank.col.score", "rank.col.top", "ov.col.n",
            "ov.col.high", "ov.col.amount")])
        if self.verified:
            per_unit = {c: vf.split(self.findings[self.findings["unit_code"] == c]) for c in codes}
            for s in vf.STATUS_ORDER:
                frame[s.label(self.lang)] = [per_unit[c][s].count for c in codes]
        if self.compared:
            per_unit = {c: self.change_counts(c) for c in codes}
            for k in ("new", "persisting", "resolved", "unrectified"):
                frame[self._t(f"ov.col.{k}")] = [per_unit[c][k] for c in codes]
        return frame

    def ranking_heading(self) -> str:
        """风险排序（本批次 N 个单位） for a run of some units, （全县 N 个单位） when every unit ran."""
        return self._t("rank.heading_county" if self.ran is None else "rank.heading_batch",
                       n=len(self.ranked_units))

    def risk_figure(self, top: int = 30):
        """The top units' scores as stacked horizontal bars, one segment per rule (its share of
        the score), highest score on top: a matplotlib Figure."""
        from matplotlib import colormaps
        from matplotlib.figure import Figure

        from auditlib.outputs.charts import use_cjk_font

        use_cjk_font()
        scores = self.risk_scores()
        codes = scores.order()[:top]
        shares = scores.contributions().reindex(index=codes).fillna(0.0)
        rules = [r for r in all_rules() if r.id in shares.columns and shares[r.id].sum() > 0]
        fig = Figure(figsize=(10, max(2.5, 0.4 * len(codes) + 1.2)))
        ax = fig.subplots()
        palette = [*colormaps["tab20"].colors, *colormaps["tab20b"].colors]  # 40 colours: one per rule
        left = [0.0] * len(codes)
        for i, rule in enumerate(rules):
            widths = list(shares[rule.id])
            ax.barh(range(len(codes)), widths, left=left, color=palette[i % len(palette)],
                    label=f"{rule.id} {rule.title(self.lang)}"[:18])
            left = [a + b for a, b in zip(left, widths)]
        for y, total in enumerate(left):
            ax.text(total, y, f" {total:.2f}", va="center", fontsize=8)
        ax.set_yticks(range(len(codes)), [f"{c} {self.units.get(c, '')}"[:16] for c in codes])
        ax.invert_yaxis()
        ax.set_title(self._t("rank.chart"))
        ax.set_xlabel(self._t("rank.axis.score"))
        if rules:  # under the chart in columns, never over the bars; the saved PNG is cropped to take it in
            fig.subplots_adjust(left=0.16, right=0.95)
            below = 0.65 / (fig.get_figheight() * (fig.subplotpars.top - fig.subplotpars.bottom))  # 0.65 in
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -below), ncol=4, fontsize=8, frameon=False)
        return fig

    def ranking(self, top: int = 30) -> None:
        """The ranking: heading, how the score is computed, the table and the stacked-bar chart."""
        from IPython.display import Image, display

        from auditlib.outputs.charts import figure_png

        show(f"<h2>{escape(self.ranking_heading())}</h2><p>{escape(self._t('rank.how'))}</p>"
             + table(self.ranking_frame().head(top)))
        display(Image(data=figure_png(self.risk_figure(top)), format="png", metadata={"alt": self._t("rank.chart")}))

    def per_rule_frame(self) -> pd.DataFrame:
        rows = []
        counted = self.counted
        for rule in all_rules():
            f = counted[counted["rule_id"] == rule.id]
            rows.append((rule.id, rule.title(self.lang), inspection_label(rule.inspection, self.lang), len(f),
                         f["unit_code"].nunique(), money(total_amount(f))))
        frame = pd.DataFrame(rows, columns=[self._t(k) for k in ("ov.col.rule", "ov.col.title", "ov.col.inspection",
                                                                 "ov.col.n", "ov.col.units", "ov.col.amount")])
        gaps = self.untested()
        if len(gaps):  # CONTRACT §3: the units a rule could not test are said, never counted as "no leads"
            frame[self._t("ov.col.untested")] = [
                "、".join(gaps.loc[gaps["rule_id"] == rule.id, "unit_code"].astype(str)) for rule in all_rules()]
        if self.verified:
            per_rule = [vf.split(self.findings[self.findings["rule_id"] == rule.id]) for rule in all_rules()]
            for s in vf.STATUS_ORDER:
                frame[s.label(self.lang)] = [p[s].count for p in per_rule]
        return frame

    def untested(self) -> pd.DataFrame:
        """The (unit, rule) pairs not tested for want of input (:func:`auditlib.rules.coverage.untested`),
        for the units of the overview; empty when the database cannot be read."""
        from auditlib.rules import coverage
        from auditlib.rules.engine import implemented_rules

        if getattr(self, "_untested", None) is None:
            units = [u for u in self.units if self.ran is None or u in self.ran]
            if self.db is None:
                self._untested = pd.DataFrame(columns=coverage.UNTESTED_COLUMNS)
            else:
                con = connect(self.db)
                try:
                    self._untested = coverage.untested(con, units, implemented_rules(), self.params)
                finally:
                    con.close()
        return self._untested

    def per_rule(self) -> None:
        show(f"<h2>{escape(self._t('ov.per_rule'))}</h2>" + table(self.per_rule_frame()))

    def heatmap_figure(self):
        """Units (rows, in ranking order) × rules (columns): counts, as a matplotlib Figure; each
        count is written in the colour that reads on its cell, the colour bar has whole numbers."""
        from matplotlib import colormaps
        from matplotlib.colors import PowerNorm
        from matplotlib.figure import Figure
        from matplotlib.ticker import FormatStrFormatter, MaxNLocator

        from auditlib.outputs.charts import text_colour, use_cjk_font

        use_cjk_font()
        codes = list(self.ranking_frame()[self._t("ov.col.unit")])[:40]
        rule_ids = [r.id for r in all_rules()]
        counts = (self.counted.groupby(["unit_code", "rule_id"]).size()
                  .reindex(pd.MultiIndex.from_product([codes, rule_ids]), fill_value=0)
                  .unstack().reindex(index=codes, columns=rule_ids))
        # room for the rotated rule ids under a few rows; the saved PNG is cropped to its content
        height = max(3.2, 0.3 * len(codes) + 1.8)
        fig = Figure(figsize=(9, height))
        # margins fixed in inches (unit names left, rotated rule ids and the axis title below), no
        # layout engine: figure_png then draws once and crops to what was drawn
        fig.subplots_adjust(left=1.7 / 9, right=1 - 0.1 / 9, bottom=1.0 / height, top=1 - 0.4 / height)
        ax = fig.subplots()
        values = counts.to_numpy()
        cmap = colormaps["Reds"]
        # a square-root scale: a single finding stands out from the empty cells beside a rule with dozens
        norm = PowerNorm(gamma=0.5, vmin=0, vmax=max(1, int(values.max()) if values.size else 1))
        im = ax.imshow(values, aspect="auto", cmap=cmap, norm=norm)
        ax.set_xticks(range(len(rule_ids)), rule_ids, rotation=90)
        ax.set_yticks(range(len(codes)), [f"{c} {self.units.get(c, '')}"[:16] for c in codes])
        for (i, j), v in pd.DataFrame(values).stack().items():
            if v:  # the count in black on a light cell, in white on a dark one
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color=text_colour(cmap(norm(v))))
        ax.set_title(self._t("ov.heatmap"))
        ax.set_xlabel(self._t("ov.axis.rule"))
        ax.set_ylabel(self._t("ov.axis.unit"))
        bar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        bar.locator = MaxNLocator(integer=True)  # counts: 0, 1, 2 … never 0.5
        bar.formatter = FormatStrFormatter("%d")
        bar.update_ticks()
        return fig

    def heatmap(self) -> None:
        from IPython.display import Image, display

        from auditlib.outputs.charts import figure_png

        show(f"<h2>{escape(self._t('ov.heatmap'))}</h2>")
        display(Image(data=figure_png(self.heatmap_figure()), format="png", metadata={"alt": self._t("ov.heatmap")}))


def _with_confirmed_amounts(run_dir: Path, findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` (a run's ``findings.csv``) with the 认定金额 of its 属实 findings, from the
    decisions the run read (:func:`auditlib.outputs.verification.run_decisions`), so the overview
    counts them as the index, the reports and the county deliverables do; unchanged when the run
    read no register or it is gone."""
    import json

    from auditlib.batch.handoff import run_file

    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return findings
    saved = run_file(run_dir, vf.RUN_DECISIONS)  # the run being made leaves them beside its findings.csv
    return vf.with_decisions(findings, vf.run_decisions(manifest, saved) if isinstance(manifest, dict) else None)


def _units_run(run_dir: Path) -> set[str] | None:
    """The units the run's manifest lists tasks for; None when it cannot be read."""
    import json

    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        return {str(x["unit_code"]) for x in manifest.get("tasks", []) if x.get("unit_code") is not None}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


__all__ = ["Overview"]
