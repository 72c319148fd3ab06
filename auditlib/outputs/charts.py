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
import math
import warnings
from pathlib import Path

import duckdb
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

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


#: room drawn around a figure, in inches (left, bottom, right, top), for what sits outside it (tick
#: labels, a legend right of the axes); a chart whose tight bounding box does not fit in it is saved the
#: slow way
_ROOM = (3.0, 2.0, 4.0, 2.0)


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, cropped to its tight bounding box (what ``bbox_inches="tight"``
    keeps, to a pixel); a glyph missing from the fonts raises instead of drawing a box.

    A figure without a layout engine (or laid out once by ``tight_layout``) is drawn once, with room
    around it, and cropped to the box measured after that drawing with the same renderer, its text
    already laid out.  ``bbox_inches="tight"`` measures on a fresh renderer and then draws at the
    box's size on another, so each text is laid out twice more.  A figure whose box does not fit in
    that room, or with a layout engine (constrained layout), is saved with ``bbox_inches="tight"``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"(?s).*Glyph .* missing from")
        engine = fig.get_layout_engine()
        if engine is None or isinstance(engine, PlaceHolderLayoutEngine):  # laid out already, if at all
            png = _drawn_once(fig, dpi)
            if png is not None:
                return png
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        return buf.getvalue()


def _drawn_once(fig: Figure, dpi: int) -> bytes | None:
    """The figure drawn once on a canvas with :data:`_ROOM` around it and cropped to its tight
    bounding box, measured after the drawing with the same renderer (its text laid out already);
    None when that box does not fit in the room."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave
    from matplotlib.transforms import Bbox

    pad_inches = rcParams["savefig.pad_inches"]
    if not isinstance(pad_inches, (int, float)):  # "layout": a layout engine's padding
        return None
    left, bottom, right, top = _ROOM
    width_px = round(fig.get_figwidth() * dpi) + round((left + right) * dpi)
    height_px = round(fig.get_figheight() * dpi) + round((bottom + top) * dpi)
    # half a pixel over, so the canvas's truncation to whole pixels lands on these sizes
    room = Bbox.from_bounds(-left, -bottom, (width_px + 0.5) / dpi, (height_px + 0.5) / dpi)
    canvas = FigureCanvasAgg(fig)  # kept, so its renderer outlives savefig
    own_dpi, fig.dpi = fig.dpi, dpi
    engine = fig.get_layout_engine()
    if engine is not None and not (rcParams["figure.autolayout"] or rcParams["figure.constrained_layout.use"]):
        fig.set_layout_engine(None)  # tight_layout's placeholder: savefig would draw once more for it
    try:
        raw = io.BytesIO()
        fig.savefig(raw, format="rgba", dpi=dpi, bbox_inches=room)
        renderer = getattr(canvas, "renderer", None)  # the one savefig drew with
        box = None if renderer is None else fig.get_tightbbox(renderer).padded(pad_inches)
    finally:
        fig.dpi = own_dpi
        if engine is not None and fig.get_layout_engine() is None:
            fig.set_layout_engine(engine)
    if box is None or len(raw.getbuffer()) != width_px * height_px * 4:
        return None
    c0, c1 = math.floor((box.x0 + left) * dpi), math.ceil((box.x1 + left) * dpi)
    r0, r1 = math.floor((room.y1 - box.y1) * dpi), math.ceil((room.y1 - box.y0) * dpi)
    if c0 < 0 or r0 < 0 or c1 > width_px or r1 > height_px:
        return None
    pixels = np.frombuffer(raw.getbuffer(), dtype=np.uint8).reshape(height_px, width_px, 4)
    out = io.BytesIO()
    imsave(out, pixels[r0:r1, c0:c1], format="png", dpi=dpi, pil_kwargs={"compress_level": 3})  # as small, faster
    return out.getvalue()


def warm_up() -> None:
    """Load the chart font and draw one small figure with it, so a kernel started ahead of its
    notebooks has paid for both before its first chart (:mod:`auditlib.batch.kernels`).  Never
    raises: a chart that cannot be drawn says so when a notebook draws it."""
    try:
        use_cjk_font()
        fig = Figure(figsize=(1, 1))
        ax = fig.add_subplot()
        ax.set_title("检查 0")
        ax.plot([0, 1], [0, 1])
        figure_png(fig)
    except Exception:  # noqa: BLE001 - only a warm-up
        pass


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
