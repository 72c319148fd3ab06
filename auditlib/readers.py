"""Reading one CSV or XLSX data file into a header and raw rows.

CSV cells are always strings (nothing is inferred); XLSX cells keep the Python
type openpyxl gives them (``datetime`` for date cells, ``int``/``float`` for
numbers).  Line numbers are the 1-based physical rows of the file, so the
header of a file that starts with it is line 1.
"""
from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Iterator, NamedTuple

from .errors import InputError

logger = logging.getLogger("auditlib")

#: encodings a CSV file may be in, as reported
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk", "gb18030")


class RawFile(NamedTuple):
    """A file's header cells, its ``(line_no, values)`` rows and its encoding (None for XLSX)."""

    header: list
    rows: Iterator[tuple[int, list]]
    encoding: str | None


def detect_encoding(data: bytes, name: str = "") -> str:
    """The encoding of CSV bytes: ``utf-8-sig``, ``utf-8``, ``gbk`` or ``gb18030``.

    UTF-8 (with or without BOM) is decoded strictly first; otherwise the bytes
    must decode strictly as GBK or GB18030, cross-checked with charset_normalizer
    restricted to those two encodings.  Anything else is an :class:`InputError`.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            data.decode("utf-8-sig")
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            # short GBK text can also be valid UTF-8 (摘要 -> 'ժҪ'): prefer GBK only
            # when it reads as more plausible Chinese than the UTF-8 reading
            try:
                gbk_text = data.decode("gbk")
            except UnicodeDecodeError:
                return "utf-8"
            if _plausibility(gbk_text) > _plausibility(text):
                return "gbk"
            return "utf-8"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data, cp_isolation=["gb18030", "gbk"]).best()
        guessed = best.encoding if best is not None else None
    except Exception:  # pragma: no cover - detector failure falls back to strict decoding
        guessed = None
    for enc in ("gbk", "gb18030"):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        if guessed is not None and guessed.replace("_", "").lower() not in ("gbk", "gb18030", "gb2312"):
            logger.warning("%s: charset_normalizer guessed %s, using %s", name, guessed, enc)
        return enc
    raise InputError(
        f"{name}: 无法识别文件编码 / cannot detect the encoding (not UTF-8, GBK or GB18030)",
        file=name, line=None, column=None, reason="unknown encoding",
    )


def _is_plausible(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF
            or ch in "¥·—“”‘’…、")


def _plausibility(text: str) -> float:
    """Share of the non-ASCII characters that are Chinese characters or punctuation."""
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return 1.0
    return sum(_is_plausible(ch) for ch in wide) / len(wide)


def _blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_csv(path: str | Path, encoding: str | None = None) -> RawFile:
    """Read a CSV file: every cell a string, encoding detected (or ``encoding``, checked strictly)."""
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read()
    if encoding is None:
        encoding = detect_encoding(data, path.name)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"{path.name}: 不是 {encoding} 编码 / not in the encoding {encoding}: {exc}",
                         file=path.name, line=None, column=None, reason=str(exc)) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list | None = None
    rows: list[tuple[int, list]] = []
    prev_end = 0
    try:
        for record in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if _blank(record):
                continue
            if header is None:
                header = list(record)
                continue
            rows.append((start, list(record)))
    except csv.Error as exc:
        raise InputError(
            f"{path.name}: 第 {reader.line_num} 行 CSV 格式错误 / bad CSV at line {reader.line_num}: {exc}",
            file=path.name, line=reader.line_num, column=None, reason=str(exc),
        ) from exc
    return RawFile(header or [], iter(rows), encoding)


def read_xlsx(path: str | Path) -> RawFile:
    """Read the first worksheet of an XLSX file; cells keep their Python types."""
    import openpyxl

    path = Path(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise InputError(
            f"{path.name}: 无法读取 XLSX / cannot read XLSX: {exc}",
            file=path.name, line=None, column=None, reason=str(exc),
        ) from exc
    try:
        ws = wb.worksheets[0]
        header: list | None = None
        rows: list[tuple[int, list]] = []
        for row in ws.iter_rows():
            cells = [c for c in row]
            line = next((getattr(c, "row", None) for c in cells if getattr(c, "row", None)), None)
            values = [getattr(c, "value", None) for c in cells]
            if line is None or _blank(values):
                continue
            if header is None:
                header = values
                continue
            rows.append((line, values))
    finally:
        wb.close()
    return RawFile(header or [], iter(rows), None)


def read_file(path: str | Path, encoding: str | None = None) -> RawFile:
    """Read a ``.csv`` or ``.xlsx`` file (``encoding`` of a CSV file: detected when None)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, encoding)
    if suffix == ".xlsx":
        return read_xlsx(path)
    raise InputError(
        f"{path.name}: 不支持的文件类型 / unsupported file type {suffix}",
        file=path.name, line=None, column=None, reason="unsupported file type",
    )


# ---- the fast CSV path of the ingest (see :func:`auditlib.ingest._load_csv_fast`) ---------------------

_PLAUSIBLE_RE = None


def _plausible_count(text: str) -> tuple[int, int]:
    """(non-ASCII characters, of which Chinese characters or punctuation) of ``text``."""
    import re

    global _PLAUSIBLE_RE
    if _PLAUSIBLE_RE is None:
        _PLAUSIBLE_RE = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef¥·—“”‘’…、]")
    wide = len(text) - len(text.encode("ascii", "ignore"))
    return wide, _PLAUSIBLE_RE.subn("", text)[1] if wide else 0


def csv_layout(path: str | Path, chunk_size: int = 1 << 24) -> dict | None:
    """What the fast ingest path needs to know about a CSV file, read in chunks (bounded memory).

    Returns ``{"encoding", "lines", "simple"}`` when :func:`detect_encoding` would call the whole
    file ``utf-8`` or ``utf-8-sig`` (the same decision, reached chunk by chunk), else ``None``.
    ``lines`` is the number of physical lines; ``simple`` is False when the file holds an empty
    line or a carriage return that is not part of CRLF (then records and lines may not pair up).
    """
    import codecs

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(3)
        bom = head == b"\xef\xbb\xbf"
        fh.seek(0)
        utf8 = codecs.getincrementaldecoder("utf-8-sig" if bom else "utf-8")("strict")
        gbk = None if bom else codecs.getincrementaldecoder("gbk")("strict")
        counts = [0, 0, 0, 0]  # utf-8 wide, utf-8 plausible, gbk wide, gbk plausible
        lines = 0
        simple = True
        last = b""
        size = 0
        while True:
            chunk = fh.read(chunk_size)
            final = not chunk
            try:
                text = utf8.decode(chunk, final)
            except UnicodeDecodeError:
                return None
            if gbk is not None:
                try:
                    gtext = gbk.decode(chunk, final)
                    w, p = _plausible_count(gtext)
                    counts[2] += w
                    counts[3] += p
                except UnicodeDecodeError:
                    gbk = None
                if gbk is not None:
                    w, p = _plausible_count(text)
                    counts[0] += w
                    counts[1] += p
            if final:
                break
            size += len(chunk)
            both = last + chunk
            lines += chunk.count(b"\n")
            if b"\n\n" in both or b"\n\r\n" in both or both.count(b"\r") != both.count(b"\r\n") + (
                    1 if both.endswith(b"\r") else 0) or (last.endswith(b"\r") and not chunk.startswith(b"\n")):
                simple = False
            last = chunk[-2:]
    if size and not last.endswith(b"\n"):
        lines += 1
    if last.endswith(b"\r"):
        simple = False
    if gbk is not None:  # valid as UTF-8 and as GBK: the more plausible Chinese reading wins
        def plaus(wide, good):
            return 1.0 if not wide else good / wide
        if plaus(counts[2], counts[3]) > plaus(counts[0], counts[1]):
            return None
    return {"encoding": "utf-8-sig" if bom else "utf-8", "lines": lines, "simple": simple}


def csv_header(path: str | Path, encoding: str, limit: int = 1 << 20) -> tuple[list, int] | None:
    """The header record of a CSV file (as :func:`read_csv` finds it) and the physical line it
    ends on; ``None`` when it is not within the first ``limit`` bytes."""
    import codecs

    with open(path, "rb") as fh:
        data = fh.read(limit)
    text = codecs.getincrementaldecoder(encoding)("strict").decode(data, False)
    complete = text.rfind("\n")
    if complete < 0:
        return None
    reader = csv.reader(io.StringIO(text[:complete + 1], newline=""))
    try:
        for record in reader:
            if _blank(record):
                continue
            return list(record), reader.line_num
    except csv.Error:
        return None
    return None
