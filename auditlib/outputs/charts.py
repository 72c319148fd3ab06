"""Drawing the rules' charts for reports and the explore panel: the font and the PNG.

Each rule carries its own chart (``Rule.chart``, ``f(con, unit_code, params, lang) ->
Figure | None``, built in its inspection's module with :mod:`auditlib.rules.plotting`);
:func:`draw` registers the font and calls it.  Figures are built with
:class:`matplotlib.figure.Figure`, never ``pyplot``, so they are safe in worker threads and
leave no global state behind.

Chinese needs a CJK font: :func:`use_cjk_font` registers Noto Sans CJK SC shipped by
the ``mplfonts`` dependency, and :func:`figure_png` turns a missing-glyph warning
into an error, so a chart can never silently show boxes instead of characters.
"""
from __future__ import annotations

import importlib.util
import io
import warnings
from pathlib import Path

import duckdb
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

from auditlib.db import connect
from auditlib.rules.catalogue import get_rule

FONT_FILE = "NotoSansCJKsc-Regular.otf"

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


def luminance(rgba) -> float:
    """The relative luminance (WCAG) of a matplotlib colour, 0 black … 1 white."""
    from matplotlib.colors import to_rgb

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(rgba))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour(background) -> str:
    """Black or white, whichever reads better on ``background`` (higher WCAG contrast)."""
    lum = luminance(background)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def draw(db, rule_id: str, unit_code: str, params, lang: str) -> Figure | None:
    """The chart of ``rule_id`` for one unit, read from ``db`` (a path or an open connection);
    None when the rule has no chart or the unit nothing to draw.  Reports and the explore panel
    both call this."""
    try:
        chart = get_rule(rule_id).chart
    except KeyError:
        return None
    if chart is None:
        return None
    use_cjk_font()
    if isinstance(db, duckdb.DuckDBPyConnection):
        return chart(db, unit_code, params, lang)
    con = connect(db)
    try:
        return chart(con, unit_code, params, lang)
    finally:
        con.close()
