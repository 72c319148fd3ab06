"""What the XLSX readers learn from a workbook's XML parts themselves.

Which worksheet is read (the first ``<sheet>`` of ``xl/workbook.xml`` that is a worksheet, not a
chart sheet: the one openpyxl calls ``worksheets[0]``), and a streaming pass over that sheet's
XML (bounded memory) for what the fast reader does not give: the error cells (``#N/A``,
``#DIV/0!`` ...), which python-calamine reads as empty cells.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from typing import NamedTuple

_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_REL_RE = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_ATTR_RE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ERROR_CELL_RE = re.compile(rb"""<(?:\w+:)?c\b([^>]*?\bt\s*=\s*["']e["'][^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)""",
                            re.S)
_VALUE_RE = re.compile(rb"<(?:\w+:)?v\b[^>]*>([^<]*)</(?:\w+:)?v>")
_REF_RE = re.compile(r"([A-Za-z]+)([0-9]+)")
#: a cell marked as an error (t="e"), the quick test
_ERROR_MARK_RE = re.compile(rb"""t=["']e["']""")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>/]")


class SheetPart(NamedTuple):
    """The worksheet read: its name and its XML member in the zip."""

    name: str
    member: str


class SheetScan(NamedTuple):
    """What a pass over a sheet's XML found: ``errors``, ``{(row, col): "#N/A"}`` (1-based) of each
    error cell; ``complete`` is False when an error cell has no address (it cannot be placed)."""

    errors: dict
    complete: bool = True


def _attrs(raw: bytes) -> dict[str, str]:
    out = {}
    for m in _ATTR_RE.finditer(raw):
        key = m.group(1).decode("utf-8", "replace")
        out[key.split(":")[-1] if key.startswith("r:") or ":" not in key else key] = (
            (m.group(2) if m.group(2) is not None else m.group(3)).decode("utf-8", "replace"))
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def first_worksheet(zf: zipfile.ZipFile) -> SheetPart | None:
    """The first worksheet of the workbook in ``zf`` (None when there is none)."""
    try:
        workbook = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    targets = {}
    for m in _REL_RE.finditer(rels):
        a = _attrs(m.group(1))
        if a.get("Type", "").endswith("/worksheet") and "Id" in a and "Target" in a:
            targets[a["Id"]] = a["Target"]
    for m in _SHEET_RE.finditer(workbook):
        a = _attrs(m.group(1))
        target = targets.get(a.get("id", ""))
        if target is None:
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        return SheetPart(_unescape(a.get("name", "")), member)
    return None


def cell_index(ref: str) -> tuple[int, int]:
    """``"B7"`` -> ``(7, 2)``: 1-based row and column of a cell reference."""
    m = _REF_RE.fullmatch(ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _has_error_cells(zf: zipfile.ZipFile, member: str, chunk_size: int) -> bool:
    """Whether the sheet's XML marks any cell as an error (one quick pass, a few bytes kept
    between chunks)."""
    seam = b""
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(chunk_size)
            if not chunk:
                return False
            if _ERROR_MARK_RE.search(chunk) or _ERROR_MARK_RE.search(seam + chunk[:16]):
                return True
            seam = chunk[-16:]


def scan_sheet(zf: zipfile.ZipFile, member: str, chunk_size: int = 1 << 20) -> SheetScan:
    """The error cells of ``member``: a quick pass, and a second one placing them when there are any."""
    if not _has_error_cells(zf, member, chunk_size):
        return SheetScan({})
    errors: dict = {}
    complete = True
    tail = b""
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(chunk_size)
            buf = tail + chunk
            if not chunk:
                cut = len(buf)
            else:  # keep the last cell, else the last tag (either may be cut in two), for the next round
                starts = [m.start() for m in _CELL_START.finditer(buf, max(0, len(buf) - 65536))]
                cut = starts[-1] if starts else buf.rfind(b"<")
                if cut < 0:
                    cut = len(buf)
            done, tail = buf[:cut], buf[cut:]
            if _ERROR_MARK_RE.search(done):
                for m in _ERROR_CELL_RE.finditer(done):
                    a = _attrs(m.group(1))
                    v = _VALUE_RE.search(m.group(2) or b"")
                    text = _unescape(v.group(1).decode("utf-8", "replace")) if v else None
                    try:
                        errors[cell_index(a["r"])] = text
                    except (KeyError, ValueError):
                        complete = False
            if not chunk:
                break
    return SheetScan(errors, complete)
