"""The evidence workbook as a round-trip form (CONTRACT §6): the cells an auditor fills in, and
how they are found again when the workbook comes back.

:mod:`auditlib.outputs.workbook` writes these cells; :mod:`auditlib.review.importer` reads them.
Both take every word from here, so the two never drift apart.

Where things are, found by content (sheets may be renamed or reordered by the auditor):

* the unit: the cover row whose first cell is :data:`COVER_UNIT` (its value in the next cell);
* who decided: the cover rows :data:`COVER_VERIFIER` (核实人) and :data:`COVER_REVIEWER` (复核人);
* a rule sheet: a sheet whose first cell starts with the rule id (``SF06 会议费…``) and which has a
  header row holding :data:`REF_HEADER` and every header of :data:`FORM_COLUMNS`;
* per finding (each row below that header row, until a row with no 疑点编号): its ``ref`` under
  :data:`REF_HEADER`, and the four form cells under :data:`FORM_COLUMNS`.
"""
from __future__ import annotations

#: (zh, en) headers of the four form columns of every rule sheet, in order
FINDING_ID = ("疑点编号", "Finding id")
CONCLUSION = ("核实结论", "Conclusion")
EXPLANATION = ("核实说明", "Explanation")
CONFIRMED_AMOUNT = ("认定金额", "Confirmed amount")
FORM_COLUMNS = (FINDING_ID, CONCLUSION, EXPLANATION, CONFIRMED_AMOUNT)

#: (zh, en) header of the evidence column holding the finding's ``ref``
REF_HEADER = ("证据行", "Evidence row")

#: (zh, en) labels of cover rows (label in one cell, value in the cell to its right)
COVER_UNIT = ("被检查单位编码", "Unit code")
COVER_VERIFIER = ("核实人", "Verified by")
COVER_REVIEWER = ("复核人", "Reviewed by")

#: fill colour of the cells an auditor may edit (the rest of a protected sheet is locked)
EDITABLE_FILL = "#FFF2CC"


def header_words(pair: tuple[str, str]) -> tuple[str, str]:
    """Both languages' words of a header, for matching a cell in either."""
    return pair
