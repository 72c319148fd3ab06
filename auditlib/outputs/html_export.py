"""Reviewer HTML: an executed notebook as a self-contained page with no code.

The stock nbconvert templates load require.js, MathJax, Mermaid and the widget
manager from CDNs; a report read on an air-gapped government network must not.
``templates/nbconvert/auditlib_report`` extends JupyterLab's template with those
blocks removed, the page language set (``zh-CN`` or ``en``) and a CJK font stack.
Images are already inline (``data:`` URIs) in the notebook outputs.  The page is the
template's markup as it renders (:func:`_exporter_class`: the stock exporter's BeautifulSoup
re-parse, three quarters of the export's time, is left out; what it added is written in).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from html import unescape
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
        # optimistic_validation: the notebook is validated once, after the preprocessors, not after
        # each of the twelve (most of them disabled); the page is the same
        exp = _exporter_class()(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)],
                                exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                                embed_images=True, optimistic_validation=True)
        exp.language_code = PAGE_LANG.get(lang, "zh-CN")
        _EXPORTERS[lang] = exp
    return exp


#: nbconvert's default text for an image without one
NO_ALT = "No description has been provided for this image"


def _exporter_class():
    """JupyterLab's HTML exporter without its last pass: the stock exporter parses the whole page
    with BeautifulSoup to give images without one an ``alt`` text and cells a ``tabindex``, and
    prints the page again from the parse (three quarters of a report's export).  Here
    :func:`_as_parsed` writes both into the template's markup and resolves the text's character
    references as that parse does; the page holds the same elements, attributes and text (only the
    markup's spelling differs: attribute order, ``<br>`` for ``<br/>``, blank lines)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node up to its BeautifulSoup pass
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            got = _as_parsed(page)
            if got is None:  # a character reference inside a tag: the stock exporter's way
                return super().from_notebook_node(nb, resources, **kw)
            page, missing_alt = got
            if missing_alt:
                self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
            return page, resources

    return ReportExporter


#: a tag, a comment or a doctype, or a whole ``<script>`` or ``<style>`` element (its content is not text)
_MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<[a-zA-Z/!?][^>]*>", re.S | re.I)
#: a character reference other than the three the page's text keeps (``&amp; &lt; &gt;``)
_OTHER_REF = re.compile(r"&(?!amp;|lt;|gt;)")
#: where an ``<img>`` tag without an ``alt`` attribute ends its attributes
_IMG_NO_ALT = re.compile(r"^<img\b(?![^>]*\balt\s*=)[^>]*?(?=\s*/?>)", re.I)
#: where an output's or a shown input's ``<div>`` (class ``jp-OutputArea-output`` or
#: ``jp-Cell-inputWrapper``) ends its attributes
_FOCUSABLE_DIV = re.compile(r'^<div\b(?=[^>]*\bclass="(?:[^"]*\s)?(?:jp-OutputArea-output|jp-Cell-inputWrapper)'
                            r'(?:\s[^"]*)?")[^>]*?(?=\s*/?>)')


def _as_parsed(page: str) -> tuple[str, int] | None:
    """The page as the stock exporter's BeautifulSoup pass leaves it, but for the markup's spelling,
    and how many images had no ``alt``: in the body, every image without one gets nbconvert's
    ``alt`` text and every output (and input shown) ``tabindex="0"``; the text's character
    references are resolved (``&#27785;`` → 沉, ``&quot;`` → ``"``) and then only ``& < >``
    escaped; the content of scripts and styles stays as it is.  None when a tag holds another
    character reference (its attribute would be printed another way): the caller then takes the
    stock exporter's way."""
    body = page.find("<body")
    if body < 0:
        return page, 0
    parts, at, missing_alt = [page[:body]], body, 0
    for m in _MARKUP.finditer(page, body):
        parts.append(_text_as_parsed(page[at:m.start()]))
        tag = m.group(0)
        if m.group(1) is None:
            if "&" in tag and _OTHER_REF.search(tag):
                return None
            if tag[1:4].lower() == "img":
                tag, n = _IMG_NO_ALT.subn(lambda t: f'{t.group(0)} alt="{NO_ALT}"', tag)
                missing_alt += n
            elif tag.startswith("<div"):
                tag = _FOCUSABLE_DIV.sub(lambda t: f'{t.group(0)} tabindex="0"', tag)
        parts.append(tag)
        at = m.end()
    parts.append(_text_as_parsed(page[at:]))
    return "".join(parts), missing_alt


def _text_as_parsed(text: str) -> str:
    if "&" not in text and "<" not in text and ">" not in text:
        return text
    return unescape(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    out = Path(out_path)
    return write_text(out, render_html(notebook, lang, title, default_title=out.stem))


def render_html(notebook: "str | os.PathLike | nbformat.NotebookNode", lang: str = "zh", title: str | None = None,
                default_title: str | None = None) -> str:
    """The page :func:`export_html` writes, as text; ``default_title`` is the title of a
    notebook given as a node without one (a path's file name otherwise)."""
    import nbformat

    node = isinstance(notebook, nbformat.NotebookNode)
    nb = notebook if node else nbformat.read(notebook, as_version=4)
    name = title or nb.metadata.get("title") or page_title(nb)
    if not name:
        name = (default_title or "Notebook") if node else Path(notebook).stem
    body, _ = exporter(lang).from_notebook_node(nb, resources={"metadata": {"name": name}})
    return body


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
    """Every URL the page would request from another host (``src``, ``href``, ``url()``, ``@import`` …).

    A reference never spans ``<`` or ``>`` and always holds ``//``, so only the stretches between
    two of those brackets that hold ``//`` are searched (the same matches as searching the whole
    page, in the same order); a stretch seen before (the template's stylesheet, the same on every
    page) is not searched again.
    """
    urls: list[str] = []
    at = html.find("//")
    while at != -1:
        start = max(html.rfind("<", 0, at), html.rfind(">", 0, at)) + 1
        ends = [e for e in (html.find("<", at), html.find(">", at)) if e != -1]
        end = min(ends) if ends else len(html)
        urls += _stretch_urls(html[start:end])
        at = html.find("//", end)
    return urls


#: the URLs found in stretches of pages already searched (the template's parts recur on every page)
_STRETCHES: dict[str, tuple[str, ...]] = {}


def _stretch_urls(stretch: str) -> tuple[str, ...]:
    got = _STRETCHES.get(stretch)
    if got is None:
        got = tuple(m.group("url") for m in _REF.finditer(stretch))
        if len(_STRETCHES) >= 64:
            _STRETCHES.clear()
        _STRETCHES[stretch] = got
    return got
