"""The county report's charts: the counted money per rule and per unit, split by status.

Bars are stacked 待核实 / 属实 / 已整改 (排除 counts in no total and is not drawn), in 万元, from
the same :class:`~auditlib.outputs.county_data.Figures` the tables show.  Figures are built with
:class:`matplotlib.figure.Figure` (no pyplot), the CJK font registered by
:func:`auditlib.outputs.charts.use_cjk_font` and turned into PNG by
:func:`~auditlib.outputs.charts.figure_png` (a missing glyph is an error, never a box).
"""
from __future__ import annotations

from decimal import Decimal

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from auditlib.i18n import register, t
from auditlib.outputs.charts import figure_png, use_cjk_font
from auditlib.outputs.county_data import CountyInput, Figures, by_rule, by_unit, rule_title
from auditlib.review.statuses import Status

register({
    "cc.by_rule": ("各检查内容涉及金额（按核实状态）", "Amount by rule and status"),
    "cc.by_unit": ("各单位涉及金额（按核实状态，前 {n} 个）", "Amount by unit and status (top {n})"),
    "cc.axis": ("涉及金额（万元）", "Amount (10,000 yuan)"),
})

#: statuses drawn, bottom to top, with their colours (colour-blind safe, print legibly in grey)
_STACK = ((Status.OPEN, "#8FB3D9"), (Status.CONFIRMED, "#C0392B"), (Status.RECTIFIED, "#4D9A6A"))
_TEN_THOUSAND = Decimal(10000)
#: units drawn at most
TOP_UNITS = 15


def _short(text: str, n: int = 18) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _stacked(labels: list[str], rows: list[Figures], title: str, lang: str) -> Figure:
    """A horizontal bar per label, stacked by status, first label on top."""
    use_cjk_font()
    height = 1.3 + 0.3 * len(labels)
    fig = Figure(figsize=(6.1, height))  # drawn at the width the report prints it (15.5 cm): text stays 8 pt
    ax = fig.add_subplot()
    y = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for status, colour in _STACK:
        values = [float(r.status_money(status) / _TEN_THOUSAND) for r in rows]
        ax.barh(y, values, left=left, color=colour, label=status.label(lang), height=0.6)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(t("cc.axis", lang), fontsize=9)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlim(0, max(left + [0.0]) * 1.05 or 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left", pad=22)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(_STACK), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def rule_chart(inp: CountyInput) -> bytes | None:
    """PNG of the counted money per rule by status; None when the run has no money to draw."""
    rows = by_rule(inp)
    if not rows or not any(f.money for _, f in rows):
        return None
    labels = [_short(f"{r} {rule_title(r, inp.findings, inp.lang)}") for r, _ in rows]
    return figure_png(_stacked(labels, [f for _, f in rows], t("cc.by_rule", inp.lang), inp.lang), dpi=200)


def unit_chart(inp: CountyInput) -> bytes | None:
    """PNG of the counted money of the units (the largest :data:`TOP_UNITS`) by status; None
    when there is nothing to draw or only one unit."""
    rows = sorted([(u, f) for u, f in by_unit(inp) if f.money], key=lambda x: (-x[1].money, x[0]))[:TOP_UNITS]
    if len(rows) < 2:
        return None
    labels = [_short(f"{u} {inp.unit_name(u)}") for u, _ in rows]
    return figure_png(_stacked(labels, [f for _, f in rows], t("cc.by_unit", inp.lang, n=len(rows)), inp.lang),
                      dpi=200)


__all__ = ["rule_chart", "unit_chart", "TOP_UNITS"]
