"""Sniffing a CSV file for the fast ingest path (:mod:`auditlib.ingest.fast`).

One read of the file, in chunks (bounded memory), gives everything the fast path needs
(:func:`scan_csv`): the file's SHA-256, its physical lines, whether records and lines may not
pair up (a carriage return that is not part of CRLF), and its encoding, decided by the encoding
sniffer (:class:`~auditlib.ingest.encoding.EncodingSniffer`, the decision
:func:`~auditlib.ingest.readers.detect_encoding` makes).  The sniffer reads only as far as the
decision can still change: once a byte-order mark or a multi-byte UTF-8 sequence with no GBK
reading left settles on UTF-8, the rest of the file only has to be valid UTF-8, which DuckDB
checks as it reads (a line that is not is skipped, so the record count no longer matches the
lines and the file goes down the row path, which decides again).  :func:`csv_header` finds the
header; :func:`transcode` writes a GBK / Windows-1252 file as UTF-8 for DuckDB, line for line.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from auditlib.common.files import sha256_file_into
from auditlib.errors import InputError
from auditlib.ingest.encoding import GBK_FAMILY, EncodingChoice, EncodingSniffer
from auditlib.ingest.readers import is_blank

#: bytes read at a time
CHUNK = 1 << 24
#: encodings DuckDB reads directly (anything else is transcoded first)
UTF8 = ("utf-8", "utf-8-sig")


@dataclass(frozen=True)
class CsvScan:
    """What one read of a CSV file tells (see :func:`scan_csv`).

    ``choice`` is None when the encoding sniffer finds no clear encoding (the row path then
    decides and says why); ``lines`` counts physical lines (a last line without a line break
    included); ``simple`` is False when a carriage return is not part of CRLF.
    """

    sha256: str
    size: int
    lines: int
    simple: bool
    choice: EncodingChoice | None


def _settled(sniffer: EncodingSniffer) -> bool:
    """True once only the UTF-8 validity of the rest of the file can change the sniffer's choice:
    a byte-order mark, or multi-byte UTF-8 with no GBK reading left (see ``EncodingSniffer.choice``)."""
    if "utf-8" not in sniffer.decoders:
        return False
    return sniffer.bom or (not sniffer.ascii and not any(e in sniffer.decoders for e in GBK_FAMILY))


class _Scanner:
    """The per-chunk work of :func:`scan_csv`: lines, carriage returns, the encoding sniffer."""

    def __init__(self, name: str) -> None:
        self.sniffer = EncodingSniffer(name)
        self.settled = False
        self.lines = self.size = 0
        self.simple = True
        self.last = b""

    def __call__(self, buf: bytearray, n: int) -> None:
        """Take in the first ``n`` bytes of ``buf`` (the next chunk of the file)."""
        chunk = buf if n == len(buf) else buf[:n]
        self.size += n
        self.lines += chunk.count(b"\n")
        last = self.last
        if self.simple and (b"\r" in chunk or last.endswith(b"\r")):
            both = last + bytes(chunk)
            if (b"\n\r\n" in both or both.count(b"\r") != both.count(b"\r\n") + (1 if both.endswith(b"\r") else 0)
                    or (last.endswith(b"\r") and not chunk.startswith(b"\n"))):
                self.simple = False
        self.last = bytes(chunk[-2:])
        if not self.settled:
            self.sniffer.feed(chunk, False)
            self.settled = _settled(self.sniffer)


def scan_csv(path: str | Path, chunk_size: int = CHUNK) -> CsvScan:
    """SHA-256, physical lines, layout and encoding of a CSV file, in one read (see the module)."""
    path = Path(path)
    scan = _Scanner(path.name)
    # one buffer read into again and again: memory stays flat however large the file (the scan may
    # run in a thread of its own, whose freed chunks the allocator would not give back at once)
    sha = sha256_file_into(path, scan, chunk_size=chunk_size)
    lines, simple = scan.lines, scan.simple
    if scan.size and not scan.last.endswith(b"\n"):
        lines += 1
    if scan.last.endswith(b"\r"):
        simple = False
    if not scan.settled:
        scan.sniffer.feed(b"", True)
    try:
        choice = scan.sniffer.choice()
    except InputError:  # no clear choice: the row path reads the file and raises the error
        choice = None
    return CsvScan(sha, scan.size, lines, simple, choice)


def csv_header(path: str | Path, encoding: str, limit: int = 1 << 20) -> tuple[list, int] | None:
    """The header record of a CSV file (as :func:`read_csv` finds it) and the physical line it
    ends on; ``None`` when it is not within the first ``limit`` bytes."""
    with open(path, "rb") as fh:
        data = fh.read(limit)
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(data, False)
    except UnicodeDecodeError:
        return None
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


def transcode(path: str | Path, encoding: str, out: str | Path, chunk_size: int = CHUNK) -> bool:
    """Write the text of ``path`` (in ``encoding``) to ``out`` as UTF-8, in chunks; False (``out``
    incomplete) when the bytes do not decode.  GBK, GB18030 and single-byte encodings never use
    the bytes of CR or LF inside a character, so lines stay where they were."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with open(path, "rb") as src, open(out, "wb") as dst:
            while True:
                chunk = src.read(chunk_size)
                dst.write(decoder.decode(chunk, not chunk).encode("utf-8"))
                if not chunk:
                    break
    except UnicodeDecodeError:
        return False
    return True
