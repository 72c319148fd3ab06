"""What ``notebooks/overview.ipynb`` shows: the county over one run.

Units ranked by findings, totals per rule and a units × rules heat map.  Under
``auditlib run`` it reads the run's ``findings.csv`` (``run_dir``); opened by hand
it computes every unit's findings from the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from auditlib.rules.catalogue import INSPECTIONS, all_rules
from auditlib.db import connect
from auditlib.rules.engine import inspect, unit_names
from auditlib.i18n import register, t
from auditlib.rules.params import Params, load_params
from auditlib.outputs.formats import money
from auditlib.views.html import escape, show, table
from auditlib.workspace import default_db

register({
    "ov.title": ("专项检查总览", "Inspection overview"),
    "ov.source_run": ("批次 {run_id}（{path}）", "run {run_id} ({path})"),
    "ov.source_db": ("数据库 {path}（即时计算）", "database {path} (computed now)"),
    "ov.totals": ("合计：{units} 个单位，发现问题 {n} 条，涉及金额 {amount} 元", "Total: {units} units, {n} findings, "
                  "amount {amount} yuan"),
    "ov.ranking": ("单位排名", "Units ranked"),
    "ov.per_rule": ("各规则合计", "Totals per rule"),
    "ov.heatmap": ("单位 × 规则 问题条数", "Findings per unit and rule"),
    "ov.col.rank": ("名次", "Rank"),
    "ov.col.unit": ("单位代码", "Unit"),
    "ov.col.name": ("单位名称", "Name"),
    "ov.col.n": ("问题条数", "Findings"),
    "ov.col.high": ("高风险", "High"),
    "ov.col.amount": ("金额(元)", "Amount (yuan)"),
    "ov.col.rule": ("规则", "Rule"),
    "ov.col.title": ("名称", "Title"),
    "ov.col.inspection": ("检查", "Inspection"),
    "ov.col.units": ("涉及单位", "Units"),
    "ov.axis.rule": ("规则", "rule"),
    "ov.axis.unit": ("单位", "unit"),
})


@dataclass
class Overview:
    findings: pd.DataFrame  # rule_id, unit_code, amount (Decimal or None), severity, inspection
    units: dict[str, str]
    params: Params
    lang: str
    source: str

    @classmethod
    def open(cls, db="", params_file="", lang="", run_dir="") -> "Overview":
        params = load_params(params_file or None)
        lang = lang or params.lang
        db = Path(db) if db else default_db()
        con = connect(db)
        try:
            units = unit_names(con)
        finally:
            con.close()
        if run_dir:
            run_dir = Path(run_dir)
            from auditlib.outputs.findings_csv import read_findings_csv

            f = read_findings_csv(run_dir / "findings.csv")  # unit codes as in the database
            f["amount"] = [Decimal(a) if a else None for a in f["amount"]]
            source = t("ov.source_run", lang, run_id=run_dir.name, path=run_dir)
        else:
            f = pd.concat([inspect(db, name, params=params).findings for name in INSPECTIONS], ignore_index=True)
            source = t("ov.source_db", lang, path=db)
        return cls(findings=f, units=units, params=params, lang=lang, source=source)

    def _t(self, key, **kw):
        return t(key, self.lang, **kw)

    def header(self) -> None:
        show(f"<h1>{escape(self._t('ov.title'))}</h1><p>{escape(self.source)}</p>"
              f"<p>{escape(self.totals_text())}</p>")

    def totals_text(self) -> str:
        f = self.findings
        return self._t("ov.totals", units=len(self.units), n=len(f), amount=money(_sum(f["amount"])))

    def summary(self) -> None:
        """Plain-text totals per rule: the cell nbval checks."""
        lines = [self.totals_text()]
        for rule in all_rules():
            f = self.findings[self.findings["rule_id"] == rule.id]
            lines.append(f"  {rule.id}: {len(f)} / {money(_sum(f['amount']))}")
        print("\n".join(lines))

    def ranking_frame(self) -> pd.DataFrame:
        rows = []
        for code, name in self.units.items():
            f = self.findings[self.findings["unit_code"] == code]
            rows.append((code, name or "", len(f), int((f["severity"] == "high").sum()), _sum(f["amount"])))
        rows.sort(key=lambda r: (-r[2], -r[4], r[0]))
        return pd.DataFrame([(i + 1, c, nm, n, h, money(a)) for i, (c, nm, n, h, a) in enumerate(rows)],
                            columns=[self._t(k) for k in ("ov.col.rank", "ov.col.unit", "ov.col.name", "ov.col.n",
                                                          "ov.col.high", "ov.col.amount")])

    def ranking(self, top: int = 30) -> None:
        show(f"<h2>{escape(self._t('ov.ranking'))}</h2>" + table(self.ranking_frame().head(top)))

    def per_rule_frame(self) -> pd.DataFrame:
        rows = []
        for rule in all_rules():
            f = self.findings[self.findings["rule_id"] == rule.id]
            zh, en = INSPECTIONS[rule.inspection]
            rows.append((rule.id, rule.title(self.lang), zh if self.lang == "zh" else en, len(f),
                         f["unit_code"].nunique(), money(_sum(f["amount"]))))
        return pd.DataFrame(rows, columns=[self._t(k) for k in ("ov.col.rule", "ov.col.title", "ov.col.inspection",
                                                                "ov.col.n", "ov.col.units", "ov.col.amount")])

    def per_rule(self) -> None:
        show(f"<h2>{escape(self._t('ov.per_rule'))}</h2>" + table(self.per_rule_frame()))

    def heatmap_figure(self):
        """Units (rows, most findings first) × rules (columns): counts, as a matplotlib Figure."""
        from matplotlib.figure import Figure

        from auditlib.outputs.charts import use_cjk_font

        use_cjk_font()
        codes = list(self.ranking_frame()[self._t("ov.col.unit")])[:40]
        rule_ids = [r.id for r in all_rules()]
        counts = (self.findings.groupby(["unit_code", "rule_id"]).size()
                  .reindex(pd.MultiIndex.from_product([codes, rule_ids]), fill_value=0)
                  .unstack().reindex(index=codes, columns=rule_ids))
        fig = Figure(figsize=(9, max(2.5, 0.3 * len(codes) + 1.2)))
        ax = fig.subplots()
        im = ax.imshow(counts.to_numpy(), aspect="auto", cmap="Reds")
        ax.set_xticks(range(len(rule_ids)), rule_ids, rotation=90)
        ax.set_yticks(range(len(codes)), [f"{c} {self.units.get(c, '')}"[:16] for c in codes])
        for (i, j), v in pd.DataFrame(counts.to_numpy()).stack().items():
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
        ax.set_title(self._t("ov.heatmap"))
        ax.set_xlabel(self._t("ov.axis.rule"))
        ax.set_ylabel(self._t("ov.axis.unit"))
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        return fig

    def heatmap(self) -> None:
        from IPython.display import Image, display

        from auditlib.outputs.charts import figure_png

        show(f"<h2>{escape(self._t('ov.heatmap'))}</h2>")
        display(Image(data=figure_png(self.heatmap_figure()), format="png", metadata={"alt": self._t("ov.heatmap")}))


def _sum(values) -> Decimal:
    return sum((Decimal(v) for v in values if v is not None and not (isinstance(v, float) and pd.isna(v))
                and v != ""), Decimal(0))


__all__ = ["Overview"]
