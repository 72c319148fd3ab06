"""Reviewer HTML: an executed notebook as a self-contained page with no code.

The stock nbconvert templates load require.js, MathJax, Mermaid and the widget
manager from CDNs; a report read on an air-gapped government network must not.
``templates/nbconvert/auditlib_report`` extends JupyterLab's template with those
blocks removed, the page language set (``zh-CN`` or ``en``) and a CJK font stack.
Images are already inline (``data:`` URIs) in the notebook outputs.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from auditlib.common.files import write_text

if TYPE_CHECKING:  # nbformat is imported when a page is written: a kernel importing the views never needs it
    import nbformat

TEMPLATES = Path(__file__).resolve().parent / "templates" / "nbconvert"
TEMPLATE = "auditlib_report"
PAGE_LANG = {"zh": "zh-CN", "en": "en"}

_EXPORTERS: dict[str, object] = {}

#: attributes and CSS constructs through which a page makes a request
_REF = re.compile(
    r"""(?ix)
    (?:\b(?:src|href|srcset|action|poster|data|formaction|background|manifest|xlink:href)\s*=\s*["']?\s*
     |url\(\s*["']?\s*
     |@import\s+["']?\s*)
    (?P<url>(?:[a-z][a-z0-9+.-]*:)?//[^\s"'()<>]+)""")


def exporter(lang: str = "zh"):
    """This process's HTML exporter for ``lang`` (built once: template loading is slow)."""
    exp = _EXPORTERS.get(lang)
    if exp is None:
        from nbconvert import HTMLExporter

        exp = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)],
                           exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                           embed_images=True)
        exp.language_code = PAGE_LANG.get(lang, "zh-CN")
        _EXPORTERS[lang] = exp
    return exp


def export_html(notebook: "str | os.PathLike | nbformat.NotebookNode", out_path: str | os.PathLike,
                lang: str = "zh", title: str | None = None) -> Path:
    """Render ``notebook`` to ``out_path`` (written whole or not at all); return the path.

    Parameters
    ----------
    notebook : path or NotebookNode
        An executed notebook.
    out_path : path
        The HTML file to write.
    lang : {'zh', 'en'}
        Page language (``<html lang>``).
    title : str, optional
        Page title; the notebook's ``metadata.title``, else the title a view gave its page
        (:func:`page_title`), else the file name.
    """
    import nbformat

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    out = Path(out_path)
    name = title or nb.metadata.get("title") or page_title(nb) or (out.stem if isinstance(notebook, nbformat.NotebookNode)
                                                  else Path(notebook).stem)
    body, _ = exporter(lang).from_notebook_node(nb, resources={"metadata": {"name": name}})
    return write_text(out, body)


#: the output metadata key under which a view names its page (``auditlib.views.html.show``)
PAGE_TITLE_KEY = "auditlib_page_title"


def page_title(nb: "nbformat.NotebookNode") -> str | None:
    """The first page title a view left in an output's metadata (e.g. 县教育局 小金库专项检查)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            title = (output.get("metadata") or {}).get(PAGE_TITLE_KEY)
            if isinstance(title, str) and title.strip():
                return title.strip()
    return None


def external_urls(html: str) -> list[str]:
    """Every URL the page would request from another host (``src``, ``href``, ``url()``, ``@import`` …)."""
    return [m.group("url") for m in _REF.finditer(html)]
