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

from auditlib.errors import InputError
from auditlib.ingest.encoding import EncodingSniffer
from auditlib.ingest.readers import is_blank


def csv_layout(path: str | Path, chunk_size: int = 1 << 24) -> dict | None:
    """What the fast ingest path needs to know about a CSV file, read in chunks (bounded memory).

    Returns ``{"encoding", "choice", "lines", "simple"}`` when the encoding sniffer
    (:class:`~auditlib.ingest.encoding.EncodingSniffer`, the decision
    :func:`~auditlib.ingest.readers.detect_encoding` makes, reached chunk by chunk) calls the whole
    file ``utf-8`` or ``utf-8-sig``, else ``None``.  ``choice`` is its
    :class:`~auditlib.ingest.encoding.EncodingChoice`; ``lines`` the number of physical lines;
    ``simple`` is False when the file holds an empty line or a carriage return that is not part
    of CRLF (then records and lines may not pair up).
    """
    path = Path(path)
    sniffer = EncodingSniffer(path.name)
    with open(path, "rb") as fh:
        lines = 0
        simple = True
        last = b""
        size = 0
        while True:
            chunk = fh.read(chunk_size)
            final = not chunk
            sniffer.feed(chunk, final)
            if "utf-8" not in sniffer.decoders:
                return None
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
    try:
        choice = sniffer.choice()
    except InputError:  # pragma: no cover - valid UTF-8 is never ambiguous
        return None
    if choice.encoding not in ("utf-8", "utf-8-sig"):
        return None
    return {"encoding": choice.encoding, "choice": choice, "lines": lines, "simple": simple}


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
