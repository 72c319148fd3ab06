"""Charts for the reports: one function per rule that has a helpful picture.

Each chart is ``f(con, unit_code, params, lang) -> Figure | None`` (None when the
unit has nothing to draw) and is listed in :data:`CHARTS` by rule id.  Figures are
built with :class:`matplotlib.figure.Figure`, never ``pyplot``, so they are safe in
worker threads and leave no global state behind.

Chinese needs a CJK font: :func:`use_cjk_font` registers Noto Sans CJK SC shipped by
the ``mplfonts`` dependency, and :func:`figure_png` turns a missing-glyph warning
into an error, so a chart can never silently show boxes instead of characters.
"""
from __future__ import annotations

import importlib.util
import io
import warnings
from pathlib import Path

import pandas as pd
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

from auditlib.rules.benford import benford_test, expected_proportions
from auditlib.db import query
from auditlib.i18n import register

FONT_FILE = "NotoSansCJKsc-Regular.otf"

register({
    "chart.aging.title": ("未支出指标账龄", "Age of unspent appropriations"),
    "chart.aging.x": ("指标下达至截止日的年数", "years from issue to cut-off"),
    "chart.aging.y": ("未支出金额（万元）", "unspent (10k yuan)"),
    "chart.aging.carry": ("结转年限", "carry-over age"),
    "chart.aging.recover": ("收回年限", "recovery age"),
    "chart.recon.title": ("银行流水与账簿银行存款科目按月核对", "Bank statements against the books, by month"),
    "chart.recon.y": ("金额（万元）", "amount (10k yuan)"),
    "chart.recon.bank_in": ("银行收入", "bank inflow"),
    "chart.recon.book_in": ("账簿借方(1002/1011)", "books debit (1002/1011)"),
    "chart.recon.bank_out": ("银行支出", "bank outflow"),
    "chart.recon.book_out": ("账簿贷方(1002/1011)", "books credit (1002/1011)"),
    "chart.benford.title": ("支付金额首位数字分布（n={n}，MAD={mad:.4f}，{label}）",
                            "First digits of payments (n={n}, MAD={mad:.4f}, {label})"),
    "chart.benford.x": ("首位数字", "first digit"),
    "chart.benford.y": ("占比", "share"),
    "chart.benford.observed": ("实际", "observed"),
    "chart.benford.expected": ("本福特定律", "Benford's law"),
    "chart.progress.title": ("支出进度与序时进度", "Paid share against time progress"),
    "chart.progress.x": ("已支付比例", "paid share"),
    "chart.progress.time": ("序时进度 {p:.0%}", "time progress {p:.0%}"),
    "chart.progress.floor": ("允许滞后下限 {p:.0%}", "lowest allowed {p:.0%}"),
    "chart.days.title": ("中小企业款项验收至支付天数", "Days from acceptance to payment (SMEs)"),
    "chart.days.x": ("天数", "days"),
    "chart.days.y": ("笔数", "payments"),
    "chart.days.line": ("{d} 天", "{d} days"),
})

_FONT_NAME: str | None = None


def font_path() -> Path:
    """The CJK font file shipped by ``mplfonts`` (found without importing the package)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mplfonts is not installed: charts cannot render Chinese (pip install mplfonts)")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"CJK font missing: {path}")
    return path


def use_cjk_font() -> str:
    """Register Noto Sans CJK SC with matplotlib and make it the default sans-serif; return its name."""
    global _FONT_NAME
    if _FONT_NAME is None:
        path = font_path()
        font_manager.fontManager.addfont(str(path))
        _FONT_NAME = font_manager.FontProperties(fname=str(path)).get_name()
    rcParams["font.family"] = "sans-serif"
    if rcParams["font.sans-serif"][:1] != [_FONT_NAME]:
        rcParams["font.sans-serif"] = [_FONT_NAME, *[f for f in rcParams["font.sans-serif"] if f != _FONT_NAME]]
    rcParams["axes.unicode_minus"] = False
    return _FONT_NAME


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes; a glyph missing from the fonts raises instead of drawing a box."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"(?s).*Glyph .* missing from")
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _figure(width: float = 8, height: float = 3.6) -> tuple[Figure, object]:
    use_cjk_font()
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def _t(key: str, lang: str, **kw) -> str:
    from auditlib.i18n import t

    return t(key, lang, **kw)


def _wan(series) -> list[float]:
    """Amounts in 10k yuan (万元) for plotting; display only, never for sums."""
    return [float(v) / 10000 if v is not None and not pd.isna(v) else 0.0 for v in series]


# ---- IF01: aging of unspent appropriations --------------------------------------------------------
def aging(con, unit_code: str, params, lang: str) -> Figure | None:
    """Unspent amount of each budget line by its age at the cut-off, with the carry/recover lines."""
    p = params.for_unit(unit_code)["IF01"]
    df = query(con, """
        SELECT b.budget_id, ?::DATE - b.issued_on AS age_days,
               b.amount - COALESCE((SELECT SUM(y.amount) FROM payments y
                                    WHERE y.budget_id = b.budget_id AND y.paid_on <= ?::DATE), 0) AS unspent
        FROM budget b WHERE b.unit_code = ? AND b.issued_on <= ?::DATE""",
               [params.as_of, params.as_of, unit_code, params.as_of])
    df = df[df["unspent"].map(lambda v: v is not None and v > 0)]
    if df.empty:
        return None
    fig, ax = _figure()
    years = [d / 365 for d in df["age_days"]]
    ax.bar(years, _wan(df["unspent"]), width=0.08, color="#c0504d")
    for days, key, style in ((p["carry_days"], "chart.aging.carry", "--"), (p["recover_days"], "chart.aging.recover", ":")):
        ax.axvline(days / 365, color="#333333", linestyle=style, label=_t(key, lang))
    ax.set_title(_t("chart.aging.title", lang))
    ax.set_xlabel(_t("chart.aging.x", lang))
    ax.set_ylabel(_t("chart.aging.y", lang))
    ax.legend()
    return fig


# ---- SF02: bank-to-books reconciliation -------------------------------------------------------------
def reconciliation(con, unit_code: str, params, lang: str) -> Figure | None:
    """Monthly bank inflows/outflows beside the books' debits/credits on 1002/1011."""
    bank = query(con, """
        SELECT strftime(txn_date, '%Y-%m') AS month, SUM(COALESCE(inflow, 0)) AS inflow,
               SUM(COALESCE(outflow, 0)) AS outflow
        FROM bank_txns WHERE unit_code = ? AND txn_date <= ?::DATE GROUP BY 1""", [unit_code, params.as_of])
    books = query(con, """
        SELECT strftime(voucher_date, '%Y-%m') AS month, SUM(COALESCE(debit, 0)) AS debit,
               SUM(COALESCE(credit, 0)) AS credit
        FROM ledger WHERE unit_code = ? AND voucher_date <= ?::DATE
          AND (account_code LIKE '1002%' OR account_code LIKE '1011%') GROUP BY 1""", [unit_code, params.as_of])
    if bank.empty and books.empty:
        return None
    months = sorted(set(bank["month"]) | set(books["month"]))
    bank = bank.set_index("month").reindex(months)
    books = books.set_index("month").reindex(months)
    x = list(range(len(months)))
    use_cjk_font()
    fig = Figure(figsize=(9, 5))
    top, bottom = fig.subplots(2, 1, sharex=True)
    w = 0.4
    top.bar([i - w / 2 for i in x], _wan(bank["inflow"]), w, label=_t("chart.recon.bank_in", lang), color="#4f81bd")
    top.bar([i + w / 2 for i in x], _wan(books["debit"]), w, label=_t("chart.recon.book_in", lang), color="#9bbb59")
    bottom.bar([i - w / 2 for i in x], _wan(bank["outflow"]), w, label=_t("chart.recon.bank_out", lang), color="#c0504d")
    bottom.bar([i + w / 2 for i in x], _wan(books["credit"]), w, label=_t("chart.recon.book_out", lang), color="#f79646")
    for ax in (top, bottom):
        ax.set_ylabel(_t("chart.recon.y", lang))
        ax.legend(fontsize=8)
    bottom.set_xticks(x, months, rotation=60, fontsize=7)
    top.set_title(_t("chart.recon.title", lang))
    fig.tight_layout()
    return fig


# ---- SF08: first digits against Benford --------------------------------------------------------------
def benford(con, unit_code: str, params, lang: str) -> Figure | None:
    """Observed first-digit shares of the unit's payments (≥ 10) against Benford's law."""
    amounts = query(con, "SELECT amount FROM payments WHERE unit_code = ? AND amount >= 10",
                    [unit_code])["amount"]
    if amounts.empty:
        return None
    result = benford_test(amounts, digits=1)
    if result.n == 0:
        return None
    expected = expected_proportions(1)
    table = result.table.set_index("digit")
    digits = list(range(1, 10))
    fig, ax = _figure()
    ax.bar(digits, [float(table["observed"].get(d, 0.0)) for d in digits], color="#4f81bd",
           label=_t("chart.benford.observed", lang))
    ax.plot(digits, [expected[d] for d in digits], "o-", color="#c0504d", label=_t("chart.benford.expected", lang))
    ax.set_xticks(digits)
    ax.set_title(_t("chart.benford.title", lang, n=result.n, mad=result.mad, label=result.label(lang)))
    ax.set_xlabel(_t("chart.benford.x", lang))
    ax.set_ylabel(_t("chart.benford.y", lang))
    ax.legend()
    return fig


# ---- DP03: paid share against time progress ----------------------------------------------------------
def progress(con, unit_code: str, params, lang: str) -> Figure | None:
    """Paid share of each budget line of the year against time progress and the allowed gap."""
    p = params.for_unit(unit_code)["DP03"]
    df = query(con, """
        SELECT b.budget_id, COALESCE(b.project_name, b.budget_id) AS name, b.amount,
               COALESCE((SELECT SUM(y.amount) FROM payments y
                         WHERE y.budget_id = b.budget_id AND y.paid_on <= ?::DATE), 0) AS paid
        FROM budget b WHERE b.unit_code = ? AND b.fiscal_year = ? AND b.amount >= ?
        ORDER BY b.budget_id""", [params.as_of, unit_code, params.fiscal_year, p["min_amount"]])
    if df.empty:
        return None
    import datetime as dt

    start, end = dt.date(params.fiscal_year, 1, 1), dt.date(params.fiscal_year + 1, 1, 1)
    time_share = min(max((params.as_of - start).days + 1, 0), (end - start).days) / (end - start).days
    floor = max(time_share - float(p["gap"]), 0.0)
    shares = [float(paid / amount) if amount else 0.0 for paid, amount in zip(df["paid"], df["amount"])]
    df = df.assign(share=shares).head(30)
    fig, ax = _figure(8, max(2.5, 0.28 * len(df) + 1.2))
    colors = ["#c0504d" if s < floor else "#4f81bd" for s in df["share"]]
    ax.barh(range(len(df)), df["share"], color=colors)
    ax.set_yticks(range(len(df)), [str(n)[:14] for n in df["name"]], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(time_share, color="#333333", linestyle="--", label=_t("chart.progress.time", lang, p=time_share))
    ax.axvline(floor, color="#c0504d", linestyle=":", label=_t("chart.progress.floor", lang, p=floor))
    ax.set_xlim(0, max(1.0, max(df["share"]) * 1.05))
    ax.set_title(_t("chart.progress.title", lang))
    ax.set_xlabel(_t("chart.progress.x", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---- DP01: days to pay SMEs with the 30/60-day lines -------------------------------------------------
def days_to_pay(con, unit_code: str, params, lang: str) -> Figure | None:
    """Histogram of days from acceptance to payment for SME payments, with the statutory lines."""
    p = params.for_unit(unit_code)["DP01"]
    days = query(con, """
        SELECT paid_on - accepted_on AS days FROM payments
        WHERE unit_code = ? AND payee_is_sme AND accepted_on IS NOT NULL AND paid_on IS NOT NULL
          AND paid_on <= ?::DATE""", [unit_code, params.as_of])["days"]
    if days.empty:
        return None
    fig, ax = _figure()
    ax.hist(list(days), bins=min(40, max(5, len(days) // 3)), color="#4f81bd")
    for d, style in ((p["term_days_default"], "--"), (p["max_term_days"], ":")):
        ax.axvline(d, color="#c0504d", linestyle=style, label=_t("chart.days.line", lang, d=d))
    ax.set_title(_t("chart.days.title", lang))
    ax.set_xlabel(_t("chart.days.x", lang))
    ax.set_ylabel(_t("chart.days.y", lang))
    ax.legend()
    return fig


def draw(db, rule_id: str, unit_code: str, params, lang: str) -> Figure | None:
    """The chart of ``rule_id`` for one unit, read from the database ``db``; None when the rule
    has no chart or the unit nothing to draw.  Reports and the explore panel both call this."""
    from auditlib.db import connect

    chart = CHARTS.get(rule_id)
    if chart is None:
        return None
    con = connect(db)
    try:
        return chart(con, unit_code, params, lang)
    finally:
        con.close()


#: rule id → chart function
CHARTS = {
    "IF01": aging,
    "SF02": reconciliation,
    "SF08": benford,
    "DP03": progress,
    "DP01": days_to_pay,
}
