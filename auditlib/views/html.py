"""The one way the views write HTML: escape text, render a table, show markup in the notebook."""
from __future__ import annotations

import html

import pandas as pd

from auditlib.outputs.html_export import PAGE_TITLE_KEY


def escape(text) -> str:
    """``text`` (any value, as ``str``) with ``& < > " '`` escaped."""
    return html.escape(str(text), quote=True)


def table(df: pd.DataFrame, na_rep: str = "NaN") -> str:
    """``df`` as an escaped HTML table without its index (class ``auditlib``)."""
    return df.to_html(index=False, escape=True, border=0, classes="auditlib", na_rep=na_rep)



def show(markup: str, page_title: str | None = None) -> None:
    """Display ``markup`` as HTML in the notebook's output; ``page_title`` names the exported
    page (its browser tab) through the output's metadata."""
    from IPython.display import HTML, display

    display(HTML(markup), metadata={PAGE_TITLE_KEY: page_title} if page_title else None)
