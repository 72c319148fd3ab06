"""The words of verification (CONTRACT §6): a finding's status, a finding's change against a
baseline run, and what became of a baseline finding that is gone."""
from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A finding's status: its latest decision in the register (``open`` when there is none)."""

    OPEN = "open"            # 待核实: a 疑点 nobody has verified yet
    CONFIRMED = "confirmed"  # 属实: verified, a 问题
    DISMISSED = "dismissed"  # 排除: verified, not a problem (a reason is required)
    RECTIFIED = "rectified"  # 已整改: confirmed earlier, since put right

    def label(self, lang: str = "zh") -> str:
        """The word shown to a reader (and offered in the workbook's 核实结论 list)."""
        return STATUS_LABELS[self][0 if lang == "zh" else 1]

    @classmethod
    def from_word(cls, word: str) -> "Status | None":
        """The status a workbook cell or a command line names (Chinese word, English word or
        value, any case, surrounding blanks ignored); None for a word that names none."""
        text = str(word).strip()
        for status, (zh, en) in STATUS_LABELS.items():
            if text in (zh, status.value) or text.lower() in (en.lower(), status.value):
                return status
        return None


#: (zh, en) words of each status
STATUS_LABELS = {
    Status.OPEN: ("待核实", "open"),
    Status.CONFIRMED: ("属实", "confirmed"),
    Status.DISMISSED: ("排除", "dismissed"),
    Status.RECTIFIED: ("已整改", "rectified"),
}


class Change(str, Enum):
    """A finding against a baseline run (``auditlib run --baseline``, ``auditlib diff``)."""

    NEW = "new"                # 新增
    PERSISTING = "persisting"  # 仍存在
    RESOLVED = "resolved"      # 已消除 (only in diff and resolved.csv)

    def label(self, lang: str = "zh") -> str:
        return CHANGE_LABELS[self][0 if lang == "zh" else 1]


CHANGE_LABELS = {
    Change.NEW: ("新增", "new"),
    Change.PERSISTING: ("仍存在", "persisting"),
    Change.RESOLVED: ("已消除", "resolved"),
}


class Outcome(str, Enum):
    """What became of a baseline finding that is gone (``resolved.csv``)."""

    RECTIFIED = "rectified"  # 整改到位，数据复核: it was confirmed and the data no longer show it
    GONE = "gone"            # 已消除: it was not confirmed

    def label(self, lang: str = "zh") -> str:
        return {"rectified": ("整改到位，数据复核", "rectified (re-tested by data)"),
                "gone": ("已消除", "gone")}[self.value][0 if lang == "zh" else 1]
