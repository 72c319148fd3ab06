"""What ``notebooks/sampling.ipynb`` shows: the plan, the draw, the population's and the sample's
distribution, and the top stratum (CONTRACT §7) — the notebook stays a thin report, one call a cell.

The notebook is not one of the batch's inspections; it is opened by hand (``make lab``) or executed
with papermill/nbclient and exported to HTML like the others
(:func:`auditlib.outputs.html_export.export_html`).  Empty parameters mean: the database of
:func:`auditlib.workspace.default_db`, the first unit, the parameters' ``sampling:`` defaults and
seed 2024 (a fixed seed, so the page reads the same every time).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from auditlib.db import connect
from auditlib.i18n import register, t
from auditlib.rules.engine import unit_names
from auditlib.rules.params import load_params
from auditlib.sampling.plan import SampleSettings, build_plan, draw_sample
from auditlib.sampling.population import Filters
from auditlib.views.html import escape, show, table
from auditlib.workspace import default_db

register({
    "sv.title": ("审计抽样：{unit}", "Audit sampling: {unit}"),
    "sv.summary": ("{method}：总体 {count} 笔支付，账面金额 {book} 元；可信赖程度 {confidence}，可容忍错报 {tolerable} 元，"
                   "预计错报 {expected} 元；样本量 n = {n}{interval}；抽中 {items} 个项目，合计 {amount} 元{top}；随机种子 {seed}。",
                   "{method}: {count} payments, book value {book} yuan; confidence {confidence}, tolerable {tolerable} "
                   "yuan, expected {expected} yuan; n = {n}{interval}; {items} items drawn, {amount} yuan{top}; seed {seed}."),
    "sv.interval": ("，抽样间距 {interval} 元，随机起点 {start} 元", ", interval {interval} yuan, random start {start} yuan"),
    "sv.top": ("，其中高额层 {count} 项 {amount} 元", ", top stratum {count} items, {amount} yuan"),
    "sv.plan": ("抽样方案", "Plan"),
    "sv.dist": ("总体与样本的金额分布", "Amounts of the population and of the sample"),
    "sv.population": ("总体", "Population"),
    "sv.sample": ("样本", "Sample"),
    "sv.amount_axis": ("支付金额（元，对数刻度）", "Payment amount (yuan, log scale)"),
    "sv.count_axis": ("笔数", "Payments"),
    "sv.top_title": ("高额层（≥ 抽样间距，全部抽取）", "Top stratum (≥ the interval, all taken)"),
    "sv.no_top": ("没有金额达到抽样间距的项目。", "No item reaches the interval."),
    "sv.sample_title": ("样本清单（前 {n} 项；全部见 sample.xlsx）", "The sample (first {n}; all in sample.xlsx)"),
    "sv.exported": ("已写出 {path}", "Written: {path}"),
    "sv.col.seq": ("序号", "No."), "sv.col.key": ("支付编号", "Payment"), "sv.col.date": ("支付日期", "Paid on"),
    "sv.col.party": ("收款人", "Payee"), "sv.col.category": ("支出类型", "Expense type"),
    "sv.col.amount": ("金额（元）", "Amount (yuan)"), "sv.col.hits": ("选中次数", "Selections"),
    "sv.col.source": ("来源", "Source"),
})

DEFAULT_SEED = 2024
MAX_ROWS = 20


@dataclass
class SamplingReport:
    """The sample of one unit's payments, drawn when opened."""

    plan: dict
    population: pd.DataFrame
    unit: str
    lang: str
    db: Path
    settings: SampleSettings
    params_file: str | None

    @classmethod
    def open(cls, db="", unit="", params_file="", lang="", seed="", method="", tolerable="",
             expense_types="") -> "SamplingReport":
        from auditlib.sampling.population import from_payments

        params = load_params(params_file or None)
        lang = lang or params.lang
        db = Path(db) if db else default_db()
        if not unit:
            con = connect(db)
            try:
                unit = next(iter(unit_names(con)))
            finally:
                con.close()
        filters = Filters(units=(str(unit),), expense_types=tuple(x for x in str(expense_types).split(",") if x))
        settings = SampleSettings(method=method or None, filters=filters, seed=int(seed) if seed else DEFAULT_SEED,
                                  tolerable=Decimal(tolerable) if tolerable else None)
        pop = from_payments(db, filters, lang)
        plan = build_plan(db, settings, params.sampling, lang, population=pop)
        return cls(plan, pop.items, str(unit), lang, db, settings, params_file or None)

    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    def summary_text(self) -> str:
        p = self.plan
        interval = (self._t("sv.interval", interval=f"{Decimal(p['interval']):,.2f}",
                            start=f"{Decimal(p['random_start']):,.2f}") if p.get("interval") else "")
        top = (self._t("sv.top", count=p["top_stratum"]["count"], amount=f"{Decimal(p['top_stratum']['amount']):,.2f}")
               if p["top_stratum"]["count"] else "")
        return self._t("sv.summary", method=t(f"smp.method.{p['method']}", self.lang), count=p["population"]["count"],
                       book=f"{Decimal(p['population']['book_value']):,.2f}", confidence=f"{p['confidence']:.0%}",
                       tolerable=f"{Decimal(p['tolerable']):,.2f}", expected=f"{Decimal(p['expected']):,.2f}",
                       n=p["n"], interval=interval, items=p["sample_count"],
                       amount=f"{Decimal(p['sample_amount']):,.2f}", top=top, seed=p["seed"])

    def header(self) -> None:
        title = self._t("sv.title", unit=self.unit)
        show(f"<h1>{escape(title)}</h1>", page_title=title, text=title)

    def summary(self) -> None:
        text = self.summary_text()
        show(f"<p>{escape(text)}</p>", text=text)

    def _frame(self, rows) -> pd.DataFrame:
        return pd.DataFrame([{self._t("sv.col.seq"): s["seq"], self._t("sv.col.key"): s["key"],
                              self._t("sv.col.date"): s["date"] or "", self._t("sv.col.party"): s["party"],
                              self._t("sv.col.category"): s["category"],
                              self._t("sv.col.amount"): f"{Decimal(s['amount']):,.2f}",
                              self._t("sv.col.hits"): s["hits"],
                              self._t("sv.col.source"): f"{s['source_file']}:{s['source_line']}"} for s in rows])

    def top_stratum(self) -> None:
        top = [s for s in self.plan["sample"] if s["top_stratum"]]
        head = f"<h2>{escape(self._t('sv.top_title'))}</h2>"
        if not top:
            show(head + f"<p>{escape(self._t('sv.no_top'))}</p>")
            return
        show(head + table(self._frame(top), numeric=(self._t("sv.col.amount"), self._t("sv.col.hits"))))

    def sample_table(self) -> None:
        rows = self.plan["sample"][:MAX_ROWS]
        show(f"<h2>{escape(self._t('sv.sample_title', n=len(rows)))}</h2>"
             + table(self._frame(rows), numeric=(self._t("sv.col.amount"), self._t("sv.col.hits"))))

    def distribution_figure(self):
        """Histograms of the population's and the sample's amounts (log scale), the interval marked."""
        import numpy as np
        from matplotlib.figure import Figure

        from auditlib.outputs.charts import use_cjk_font

        use_cjk_font()
        amounts = np.array([float(a) for a in self.population["amount"]])
        sampled = np.array([float(s["amount"]) for s in self.plan["sample"]])
        fig = Figure(figsize=(8, 3.6))
        ax = fig.add_subplot()
        low, high = max(amounts.min(), 0.01), amounts.max()
        bins = np.logspace(np.log10(low), np.log10(high * 1.0001), 25)
        ax.hist(amounts, bins=bins, color="#B4C7E7", label=self._t("sv.population"))
        ax.hist(sampled, bins=bins, color="#C00000", alpha=0.75, label=self._t("sv.sample"))
        if self.plan.get("interval"):
            ax.axvline(float(self.plan["interval"]), color="black", linestyle="--",
                       label=self._t("smp.wb.interval").split("=")[0].strip())
        ax.set_xscale("log")
        ax.set_xlabel(self._t("sv.amount_axis"))
        ax.set_ylabel(self._t("sv.count_axis"))
        ax.set_title(self._t("sv.dist"))
        ax.legend()
        fig.tight_layout()
        return fig

    def distribution(self) -> None:
        from IPython.display import Image, display

        from auditlib.outputs.charts import figure_png

        display(Image(figure_png(self.distribution_figure())))

    def export(self, out: str) -> None:
        """Write sample.xlsx and plan.json into ``out`` (and the audit log) — the same draw as shown."""
        if not out:
            return
        plan = draw_sample(self.db, self.settings, out, params_file=self.params_file, lang=self.lang)
        text = self._t("sv.exported", path=plan["paths"]["workbook"])
        show(f"<p>{escape(text)}</p>", text=text)
