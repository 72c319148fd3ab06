"""The words of the sample workbook's form, shared by its writer and its reader (as
:mod:`auditlib.review.form` is for the evidence workbook), so the two never drift apart.

The sample sheet is found by content: the sheet whose header row holds every header of
:data:`READ_COLUMNS` (Chinese or English); sheets may be renamed or reordered.
"""
from __future__ import annotations

from enum import Enum

#: (zh, en) headers the reader looks for on the sample sheet
SEQ = ("样本序号", "No.")
KEY = ("编号", "Item id")
AMOUNT = ("账面金额", "Book amount")
CONCLUSION = ("核实结论", "Conclusion")
ERROR = ("差错金额", "Misstatement")
NOTE = ("说明", "Note")
READ_COLUMNS = (SEQ, KEY, AMOUNT, CONCLUSION, ERROR, NOTE)
#: the input columns (unlocked, highlighted)
INPUT_COLUMNS = (CONCLUSION, ERROR, NOTE)


class Conclusion(Enum):
    """What the auditor found for one sampled item."""

    NO_ERROR = "no_error"
    ERROR = "error"
    UNVERIFIABLE = "unverifiable"

    def label(self, lang: str | None = "zh") -> str:
        zh, en = _LABELS[self]
        return en if lang == "en" else zh

    @classmethod
    def from_word(cls, word: str) -> "Conclusion | None":
        """The conclusion a cell's word names (Chinese, English or the value), else None."""
        text = str(word).strip().lower()
        for c in cls:
            if text in (c.value, _LABELS[c][0], _LABELS[c][1].lower()):
                return c
        return None


_LABELS = {Conclusion.NO_ERROR: ("无差错", "No misstatement"),
           Conclusion.ERROR: ("有差错", "Misstatement"),
           Conclusion.UNVERIFIABLE: ("无法核实", "Cannot verify")}
