"""User-facing text in Chinese (default) and English.

Every message a person reads (CLI output, notebook labels, workbook and HTML
headings) is looked up here by key: ``t("ingest.done", "zh", files=3)``.
Modules register their own keys with :func:`register` so each keeps its text
next to the code that uses it.
"""
from __future__ import annotations

import os

LANGS = ("zh", "en")

_MESSAGES: dict[str, dict[str, str]] = {}


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add messages: ``{key: (chinese, english)}``."""
    for key, (zh, en) in messages.items():
        _MESSAGES[key] = {"zh": zh, "en": en}


def default_lang() -> str:
    """``AUDITLIB_LANG`` if set to a known language, else ``zh``."""
    lang = os.environ.get("AUDITLIB_LANG", "zh")
    return lang if lang in LANGS else "zh"


def t(key: str, lang: str | None = None, **kw) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw``; the key itself when unknown."""
    lang = lang or default_lang()
    entry = _MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(lang, entry["zh"]).format(**kw)
