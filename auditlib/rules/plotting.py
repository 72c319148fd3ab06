"""Helpers shared by the rules' charts: a figure, amounts in 万元, labels, a legend clear of the
data and percent axes.

matplotlib is imported inside the functions, so importing the rules (the CLI does at
start-up) never loads it.  Figures are :class:`matplotlib.figure.Figure`, never
``pyplot``, so they are safe in worker threads and leave no global state behind.  The
CJK font is registered by the caller (:func:`auditlib.outputs.charts.draw`).  Charts call no
``tight_layout``: :func:`auditlib.outputs.charts.figure_png` crops to the tight box, which takes in
what lies outside the axes, and a layout pass would only lay every text out once more.
"""
from __future__ import annotations

import pandas as pd

from auditlib.i18n import t


def figure(width: float = 8, height: float = 3.6, rows: int = 1, sharex: bool = False):
    """A new figure and its axes (one, or ``rows`` stacked)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    axes = fig.subplots(rows, 1, sharex=sharex) if rows > 1 else fig.subplots()
    for ax in fig.axes:
        # the title sits on the axes: no chart has tick labels on top, where matplotlib would lift
        # it to; placing it "auto" measures every tick label of the y axis once more per drawing
        ax.set_title("", y=1.0)
    return fig, axes


def wan(series) -> list[float]:
    """Amounts in 10k yuan (万元) for plotting; display only, never for sums."""
    return [float(v) / 10000 if v is not None and not pd.isna(v) else 0.0 for v in series]


def label(key: str, lang: str, **kw) -> str:
    """A chart's text (registered with :func:`auditlib.i18n.register` by the rule's module)."""
    return t(key, lang, **kw)


def legend_outside(ax, fontsize: int = 8):
    """The axes' legend to the right of the plot, clear of the data (a saved chart's tight
    bounding box takes it in)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                     fontsize=fontsize, frameon=True, framealpha=0.9)


def percent_axis(axis, lo: float = 0.0, hi: float = 1.0) -> None:
    """A share axis (``ax.xaxis`` or ``ax.yaxis``) shown in percent: ``0.25`` reads ``25%``; its
    limits ``lo``..``hi`` are shares (0–100 % by default)."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    setter = axis.axes.set_xlim if axis is axis.axes.xaxis else axis.axes.set_ylim
    setter(lo, hi)
