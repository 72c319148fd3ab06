"""User-facing text in Chinese (default) and English.

Every message a person reads (CLI output, notebook labels, workbook and HTML
headings) is looked up here by key: ``t("ingest.done", "zh", files=3)``.
Modules register their own keys with :func:`register` so each keeps its text
next to the code that uses it.

Amounts are labelled in the display currency (the parameters' ``currency:``, 元 by default; a
label only, never a conversion): :func:`~auditlib.rules.params.load_params` sets it for the
process with :func:`set_currency`, and every message and column header passes through
:func:`in_currency`.
"""
from __future__ import annotations

import os
import re

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


#: the display currency of this process (:func:`set_currency`)
_currency = "元"


def set_currency(label: str | None) -> None:
    """Label amounts in ``label`` from now on (None or 元: the default, yuan)."""
    global _currency
    _currency = label or "元"


def in_currency(text: str, currency: str | None = None) -> str:
    """``text`` with the unit after its amounts set to ``currency`` (default: the display currency):
    ``涉及金额 1,000.00 元`` -> ``涉及金额 1,000.00 £``, ``amount 1,000.00 yuan`` -> ``amount 1,000.00 £``,
    ``金额(元)`` / ``Amount (yuan)`` -> ``金额(£)`` / ``Amount (£)``, ``（万元）`` -> ``（万£）``.  Only a
    unit right after a number or alone in brackets changes (never 元 inside a word such as 元旦);
    元 leaves the text as it is."""
    currency = currency or _currency
    if currency == "元":
        return text
    if text in ("元", "yuan"):  # the unit alone (a table's unit cell)
        return currency
    text = re.sub(r"(\d) (万)?(?:元|yuan(?![A-Za-z]))", lambda m: f"{m.group(1)} {m.group(2) or ''}{currency}", text)
    return re.sub(r"([(（])(万)?(?:元|yuan)([)）])",
                  lambda m: f"{m.group(1)}{m.group(2) or ''}{currency}{m.group(3)}", text)


def t(key: str, lang: str | None = None, **kw) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw``, its amounts in the display currency;
    the key itself when unknown."""
    lang = lang or default_lang()
    entry = _MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang, entry["zh"]).format(**kw)
    return in_currency(text) if _currency != "元" else text
