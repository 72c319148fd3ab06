"""The one way the views write HTML: escape text, render a table, show markup in the notebook."""
from __future__ import annotations

import html

import pandas as pd


def escape(text) -> str:
    """``text`` (any value, as ``str``) with ``& < > " '`` escaped."""
    return html.escape(str(text), quote=True)


def table(df: pd.DataFrame, na_rep: str = "NaN") -> str:
    """``df`` as an escaped HTML table without its index (class ``auditlib``)."""
    return df.to_html(index=False, escape=True, border=0, classes="auditlib", na_rep=na_rep)


def show(markup: str) -> None:
    """Display ``markup`` as HTML in the notebook's output."""
    from IPython.display import HTML, display

    display(HTML(markup))
