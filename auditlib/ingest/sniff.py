"""Sniffing a CSV file for the fast ingest path (:mod:`auditlib.ingest.fast`).

Before DuckDB reads a CSV file, the fast path needs to know, in bounded memory, that
the whole file is UTF-8 (as :func:`~auditlib.ingest.readers.detect_encoding` would
decide), how many physical lines it has and whether records and lines pair up
(:func:`csv_layout`), and where its header is (:func:`csv_header`).  Anything unusual
sends the file down the row path instead.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from auditlib.ingest.readers import is_blank, plausibility, plausible_count


def csv_layout(path: str | Path, chunk_size: int = 1 << 24) -> dict | None:
    """What the fast ingest path needs to know about a CSV file, read in chunks (bounded memory).

    Returns ``{"encoding", "lines", "simple"}`` when :func:`detect_encoding` would call the whole
    file ``utf-8`` or ``utf-8-sig`` (the same decision, reached chunk by chunk), else ``None``.
    ``lines`` is the number of physical lines; ``simple`` is False when the file holds an empty
    line or a carriage return that is not part of CRLF (then records and lines may not pair up).
    """
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
                    w, p = plausible_count(gtext)
                    counts[2] += w
                    counts[3] += p
                except UnicodeDecodeError:
                    gbk = None
                if gbk is not None:
                    w, p = plausible_count(text)
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
        if plausibility(counts[2], counts[3]) > plausibility(counts[0], counts[1]):
            return None
    return {"encoding": "utf-8-sig" if bom else "utf-8", "lines": lines, "simple": simple}


def csv_header(path: str | Path, encoding: str, limit: int = 1 << 20) -> tuple[list, int] | None:
    """The header record of a CSV file (as :func:`read_csv` finds it) and the physical line it
    ends on; ``None`` when it is not within the first ``limit`` bytes."""
    with open(path, "rb") as fh:
        data = fh.read(limit)
    text = codecs.getincrementaldecoder(encoding)("strict").decode(data, False)
    complete = text.rfind("\n")
    if complete < 0:
        return None
    reader = csv.reader(io.StringIO(text[:complete + 1], newline=""))
    try:
        for record in reader:
            if is_blank(record):
                continue
            return list(record), reader.line_num
    except csv.Error:
        return None
    return None
