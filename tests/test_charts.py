"""Charts: Chinese renders with the shipped CJK font, and each chart draws the unit's own data."""
from __future__ import annotations

import warnings

import pytest
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

from auditlib.outputs import charts
from auditlib.rules.catalogue import all_rules
from auditlib.rules.delayed_payments import days_to_pay, progress
from auditlib.rules.idle_funds import aging
from auditlib.rules.slush_funds import benford_chart
from auditlib.rules.benford import benford_test
from auditlib.db import connect, query
from auditlib.rules.params import load_params

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def con(sample_db):
    c = connect(sample_db)
    yield c
    c.close()


@pytest.fixture(scope="module")
def params():
    return load_params()


@pytest.fixture(autouse=True)
def cjk_font():
    """A rule's chart is drawn after the font is registered (charts.draw does it)."""
    charts.use_cjk_font()


def test_cjk_font_comes_from_the_dependency_and_renders_chinese():
    name = charts.use_cjk_font()
    assert charts.font_path().name == charts.FONT_FILE
    assert rcParams["font.sans-serif"][0] == name
    found = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert found == str(charts.font_path())
    fig = Figure()
    fig.subplots().set_title("沉淀资金 小金库 支付不及时")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert charts.figure_png(fig).startswith(PNG)


def test_missing_glyph_is_an_error_not_a_box():
    fig = Figure()
    ax = fig.subplots()
    ax.set_title("未支出", fontfamily="DejaVu Sans")  # a font without CJK glyphs
    with pytest.raises(UserWarning, match="missing from"):
        charts.figure_png(fig)


@pytest.mark.parametrize("rule_id", sorted(r.id for r in all_rules() if r.chart is not None))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_renders_for_a_unit_with_data(con, params, rule_id, lang):
    fig = charts.draw(con, rule_id, "001", params, lang)
    assert isinstance(fig, Figure)
    assert charts.figure_png(fig).startswith(PNG)
    title = fig.axes[0].get_title()
    assert title
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in title)
    assert has_cjk == (lang == "zh")


def test_days_to_pay_counts_every_paid_sme_payment_and_draws_the_legal_lines(con, params):
    fig = days_to_pay(con, "001", params, "zh")
    ax = fig.axes[0]
    n = query(con, """SELECT count(*) AS n FROM payments WHERE unit_code = '001' AND payee_is_sme
                      AND accepted_on IS NOT NULL AND paid_on IS NOT NULL AND paid_on <= ?::DATE""",
              [params.as_of])["n"][0]
    assert n > 0
    assert sum(p.get_height() for p in ax.patches) == n
    # issue 14: one line per payment term that applies (the contract's, capped; else the default)
    dp01 = params.for_unit("001")["DP01"]
    terms = query(con, """SELECT CASE WHEN term_days > 0 THEN LEAST(term_days, ?) ELSE ? END AS d, count(*) AS n
                          FROM payments WHERE unit_code = '001' AND payee_is_sme AND accepted_on IS NOT NULL
                          AND paid_on IS NOT NULL AND paid_on <= ?::DATE GROUP BY 1 ORDER BY 1""",
                  [dp01["max_term_days"], dp01["term_days_default"], params.as_of])
    lines = [line.get_xdata()[0] for line in ax.get_lines()]
    assert lines == list(terms["d"]) and len(lines) >= 2  # the sample has 30-day and contract terms
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert legend == [f"付款期限 {d} 天（{n} 笔）" for d, n in zip(terms["d"], terms["n"])]


def test_days_to_pay_is_none_for_a_unit_without_sme_payments(con, params):
    codes = query(con, """SELECT unit_code FROM units WHERE unit_code NOT IN
                          (SELECT unit_code FROM payments WHERE payee_is_sme AND paid_on IS NOT NULL
                           AND accepted_on IS NOT NULL)""")["unit_code"]
    if codes.empty:
        pytest.skip("every sample unit pays SMEs")
    assert days_to_pay(con, codes[0], params, "zh") is None


def test_benford_chart_shows_the_units_shares_and_mad(con, params):
    amounts = query(con, "SELECT amount FROM payments WHERE unit_code = '001' AND amount >= 10 "  # the cut-off too
                         "AND (paid_on IS NULL OR paid_on <= ?::DATE)", [params.as_of])["amount"]
    result = benford_test(amounts)
    fig = benford_chart(con, "001", params, "en")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 9
    assert sum(heights) == pytest.approx(1.0)
    # issue 14: below min_count (300) the chart makes no judgement and says so (was: the MAD verdict)
    assert result.n < 300
    assert f"n={result.n}" in ax.get_title() and "too few to judge" in ax.get_title()
    assert f"{result.mad:.4f}" not in ax.get_title() and "conformity" not in ax.get_title()
    zh = benford_chart(con, "001", params, "zh").axes[0].get_title()
    assert "样本不足，不作判断" in zh and "MAD" not in zh


def test_benford_chart_shows_the_mad_once_the_sample_suffices(con, params):
    import dataclasses

    amounts = query(con, "SELECT amount FROM payments WHERE unit_code = '001' AND amount >= 10 "  # the cut-off too
                         "AND (paid_on IS NULL OR paid_on <= ?::DATE)", [params.as_of])["amount"]
    result = benford_test(amounts)
    enough = dataclasses.replace(params, rules={**params.rules, "SF08": {**params.rules["SF08"], "min_count": 10}})
    title = benford_chart(con, "001", enough, "en").axes[0].get_title()
    assert f"n={result.n}" in title and f"{result.mad:.4f}" in title


def test_aging_draws_one_bar_per_unspent_budget_line(con, params):
    unspent = query(con, """
        SELECT count(*) AS n FROM budget b WHERE b.unit_code = '001' AND b.issued_on <= ?::DATE
          AND b.amount > COALESCE((SELECT SUM(amount) FROM payments y WHERE y.budget_id = b.budget_id
                                   AND y.paid_on <= ?::DATE), 0)""", [params.as_of, params.as_of])["n"][0]
    fig = aging(con, "001", params, "zh")
    assert len(fig.axes[0].patches) == unspent


def test_progress_marks_lines_below_the_floor_red(con, params):
    from auditlib.rules.engine import inspect

    fig = progress(con, "001", params, "zh")
    red = sum(1 for p in fig.axes[0].patches if p.get_facecolor()[:3] == pytest.approx((0.7529, 0.3137, 0.3020), abs=1e-3))
    found = inspect(con, "delayed_payments", "001", params).findings
    assert red == (found["rule_id"] == "DP03").sum()


def _legend_clear_of_the_plot(ax) -> bool:
    """Whether the axes' legend lies wholly outside the plotting area (so it hides no data)."""
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    plot = ax.get_window_extent()
    return box.x0 >= plot.x1 or box.x1 <= plot.x0 or box.y0 >= plot.y1 or box.y1 <= plot.y0


@pytest.mark.parametrize("rule_id", sorted(r.id for r in all_rules() if r.chart is not None))
def test_every_legend_is_clear_of_the_data(con, params, rule_id):
    fig = charts.draw(con, rule_id, "001", params, "zh")
    for ax in fig.axes:
        if ax.get_legend() is not None:
            assert _legend_clear_of_the_plot(ax), rule_id


def test_share_axes_read_in_percent(con, params):
    """DP03's paid share runs 0–100 % (not 0–1), SF08's shares are percent too."""
    ax = progress(con, "001", params, "zh").axes[0]
    ax.figure.canvas.draw()
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= 1.0
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "0%" in labels and "100%" in labels, labels
    ax = benford_chart(con, "001", params, "zh").axes[0]
    ax.figure.canvas.draw()
    assert all(t.get_text().endswith("%") for t in ax.get_yticklabels() if t.get_text())


def test_benford_chart_marks_too_few_inside_the_plot(con, params):
    ax = benford_chart(con, "001", params, "zh").axes[0]
    assert "样本不足，不作判断" in [t.get_text() for t in ax.texts]


def test_text_colour_follows_the_cell():
    assert charts.text_colour("#67000d") == "white"  # the darkest red of the heat map
    assert charts.text_colour("#fff5f0") == "black"
    assert charts.text_colour("black") == "white" and charts.text_colour("white") == "black"
    assert charts.luminance("white") == pytest.approx(1.0) and charts.luminance("black") == pytest.approx(0.0)


def test_heat_map_is_readable(sample_db):
    """Issue 14: each count reads on its cell (white on dark, black on light) and the colour bar
    shows whole numbers only (no 0.5, 1.5)."""
    from auditlib.views.overview import Overview

    ov = Overview.open(str(sample_db))
    fig = ov.heatmap_figure()
    ax, bar = fig.axes[0], fig.axes[1]
    fig.canvas.draw()
    image = ax.get_images()[0]
    values = image.get_array()
    assert values.max() >= 2
    for text in ax.texts:
        x, y = text.get_position()
        v = values[int(round(y)), int(round(x))]
        assert text.get_text() == str(int(v))
        assert text.get_color() == charts.text_colour(image.cmap(image.norm(v)))
    colours = {t.get_color() for t in ax.texts}
    assert colours == {"black", "white"}  # the largest count sits on the darkest cell
    ticks = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
    assert ticks and all(t.isdigit() for t in ticks), ticks
    assert all(float(v).is_integer() for v in bar.get_yticks())
