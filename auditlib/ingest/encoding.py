"""Choosing the text encoding of a CSV file, and saying how sure the choice is (issue 16).

A file may be UTF-8 (with or without BOM), GBK / GB18030 (Chinese exports) or a single-byte
Western encoding (Windows-1252, Latin-1: foreign open data).  Bytes often decode under several
of them: ``Pavel B\\xfcchler`` (Latin-1) is also valid GBK (``Pavel B點hler``), and Chinese GBK
text is always valid Latin-1 (``ÕªÒª`` for 摘要).  :func:`choose_encoding` decodes the bytes
under each candidate and, when the readings disagree, weighs the *plausibility* of each
reading's non-ASCII characters:

- a GBK reading is plausible when its non-ASCII characters are Chinese characters or
  punctuation, and implausible when a Chinese character touches a lower-case Latin letter or
  sits between two Latin letters (``B點hler``);
- a Western reading is plausible when an accented letter sits inside or at the edge of a Latin
  word (``Büchler``, ``Café``) or a lone sign stands on its own (``£``, ``°``, ``–``, a no-break
  space), and implausible for runs of three or more non-ASCII characters or accented letters
  with no Latin letter beside them (``ÕªÒª``);
- a UTF-8 reading of a file with multi-byte sequences is the strongest evidence there is
  (random Western or GBK bytes are almost never valid UTF-8), except short GBK text that happens
  to be valid UTF-8 (``摘要`` -> ``ժҪ``), which the Chinese plausibility decides.

The encoding is chosen only when the evidence is clear (:data:`CLEAR_SHARE`, :data:`CLEAR_MARGIN`);
otherwise :class:`~auditlib.errors.InputError` names the file and the candidate readings (with an
example of each) so the user sets ``encoding:`` in a mapping profile.  The choice, its confidence
and the candidates go to ``ingest_report.json``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from auditlib.errors import InputError

#: the families tried, in order; each entry the encodings reported for the family
GBK_FAMILY = ("gbk", "gb18030")
WESTERN_FAMILY = ("cp1252", "latin-1")
#: a reading is chosen when its plausible share is at least this ...
CLEAR_SHARE = 0.9
#: ... and exceeds every other disagreeing reading's share by at least this
CLEAR_MARGIN = 0.5

_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_CHINESE_PUNCT = re.compile("[\u3000-\u303f\uff00-\uffef¥·—“”‘’…、]")
#: signs that stand alone in Western text
_WESTERN_SIGNS = set("£€°½¼¾©®™–—‘’“”…•\u00a0§±×µ¢¥«»·")


@dataclass(frozen=True)
class EncodingChoice:
    """The encoding chosen for a file and why.

    ``confidence`` is 1.0 when only one reading exists (ASCII, a BOM, only one encoding decodes,
    or every reading gives the same text), else the plausible share of the chosen reading minus
    the best share of the others; ``candidates`` maps each encoding that decoded the bytes to its
    plausible share; ``evidence`` says how the choice was made.
    """

    encoding: str
    confidence: float
    evidence: str
    candidates: dict = field(default_factory=dict)

    def as_record(self) -> dict:
        return {"encoding": self.encoding, "encoding_confidence": round(self.confidence, 3),
                "encoding_evidence": self.evidence,
                "encoding_candidates": {k: round(v, 3) for k, v in self.candidates.items()}}


def _is_ascii_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_CN_GOOD = re.compile("[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef¥·—“”‘’…、]")


def _is_lower(ch: str) -> bool:
    return "a" <= ch <= "z"


def _cjk_edge_bad(run: str, before: str, after: str) -> tuple[bool, bool]:
    """Whether the first / last character of a non-ASCII run, read as Chinese, is a Chinese
    character touching a lower-case Latin letter or (a run of one) sitting between two letters."""
    first_bad = bool(_CJK.match(run[0])) and (
        _is_lower(before) or (len(run) == 1 and (_is_lower(after) or (_is_ascii_letter(before)
                                                                       and _is_ascii_letter(after)))))
    last_bad = len(run) > 1 and bool(_CJK.match(run[-1])) and _is_lower(after)
    return first_bad, last_bad


def _chinese_flags(run: str, before: str, after: str) -> list[bool]:
    """Plausible or not, per character of a short run of non-ASCII characters read as Chinese."""
    flags = [bool(_CN_GOOD.match(ch)) for ch in run]
    first_bad, last_bad = _cjk_edge_bad(run, before, after)
    if first_bad:
        flags[0] = False
    if last_bad:
        flags[-1] = False
    return flags


def _chinese_count(run: str, before: str, after: str) -> tuple[int, int]:
    """(plausible, implausible) characters of a run of non-ASCII characters read as Chinese."""
    good = len(_CN_GOOD.findall(run))
    first_bad, last_bad = _cjk_edge_bad(run, before, after)
    good -= first_bad + last_bad
    return good, len(run) - good


def _western_flags(run: str, before: str, after: str) -> list[bool]:
    """Plausible or not, per character of a run of non-ASCII characters read as Western text."""
    if len(run) > 2:
        return [False] * len(run)
    word_edge = _is_ascii_letter(before) or _is_ascii_letter(after)
    return [(word_edge and unicodedata.category(ch).startswith("L") and "LATIN" in unicodedata.name(ch, ""))
            or (len(run) == 1 and ch in _WESTERN_SIGNS) for ch in run]


def _runs(text: str):
    for m in _NON_ASCII.finditer(text):
        i, j = m.span()
        yield m.group(), (text[i - 1] if i else ""), (text[j] if j < len(text) else "")


# chinese_score counted with whole-text patterns (no Python loop per run); every pattern starts with
# a character class, so the regex engine skips ahead in C.  Per _cjk_edge_bad, a Chinese character
# is implausible when it starts a run right after a lower-case letter, or ends a run (of one or more
# characters, not already counted) right before one, or is a run of one between two capitals.
_CJK_SET = "\u3400-\u9fff\uf900-\ufaff"
_CN_GOOD_SET = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef¥·—“”‘’…、"
_NOT_CN_GOOD = re.compile(f"[^\\x00-\\x7f{_CN_GOOD_SET}]")
_LOWER_CJK = re.compile(f"[a-z][{_CJK_SET}]")
_CJK_LOWER = re.compile(f"[{_CJK_SET}](?=[a-z])")
_LOWER_CJK_LOWER = re.compile(f"[a-z][{_CJK_SET}](?=[a-z])")
_CAPITAL_CJK_CAPITAL = re.compile(f"[A-Z][{_CJK_SET}](?=[A-Z])")
_LONG_RUN = re.compile(r"[^\x00-\x7f]{3,}")
_SHORT_RUN = re.compile(r"[\x00-\x7f]([^\x00-\x7f]{1,2})(?![^\x00-\x7f])")
_SHORT_RUN_AT_START = re.compile(r"[^\x00-\x7f]{1,2}(?![^\x00-\x7f])")


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def chinese_score(text: str) -> tuple[int, int]:
    """(plausible, implausible) non-ASCII characters of a Chinese (GBK) reading: per run of
    non-ASCII characters as :func:`_chinese_count` counts them, summed over the text."""
    wide = _non_ascii(text)
    if not wide:
        return 0, 0
    good = wide - len(_NOT_CN_GOOD.findall(text))
    good -= len(_LOWER_CJK.findall(text))
    good -= len(_CJK_LOWER.findall(text)) - len(_LOWER_CJK_LOWER.findall(text))
    good -= len(_CAPITAL_CJK_CAPITAL.findall(text))
    return good, wide - good


def _short_run_flags(run: str, before: str, after: str) -> int:
    """Plausible characters of a run of one or two non-ASCII characters (see :func:`_western_flags`)."""
    if _is_ascii_letter(before) or _is_ascii_letter(after):
        return sum(_western_flags(run, before, after))
    return 1 if len(run) == 1 and run in _WESTERN_SIGNS else 0


def western_score(text: str) -> tuple[int, int]:
    """(plausible, implausible) non-ASCII characters of a single-byte Western reading: runs of
    three or more are implausible, the short ones are weighed by :func:`_western_flags`."""
    wide = _non_ascii(text)
    if not wide:
        return 0, 0
    good = 0
    n = len(text)
    m = _SHORT_RUN_AT_START.match(text)
    if m is not None:
        j = m.end()
        good += _short_run_flags(m.group(), "", text[j] if j < n else "")
    for m in _SHORT_RUN.finditer(text):
        i, j = m.span(1)
        good += _short_run_flags(m.group(1), text[i - 1], text[j] if j < n else "")
    return good, wide - good


def _chinese_score_per_run(text: str) -> tuple[int, int]:
    """:func:`chinese_score` run by run (the definition; the tests hold the two equal)."""
    good = bad = 0
    for run, b, a in _runs(text):
        g, n = _chinese_count(run, b, a)
        good += g
        bad += n
    return good, bad


def _western_score_per_run(text: str) -> tuple[int, int]:
    """:func:`western_score` run by run (the definition; the tests hold the two equal)."""
    good = bad = 0
    for run, b, a in _runs(text):
        flags = _western_flags(run, b, a)
        good += sum(flags)
        bad += len(flags) - sum(flags)
    return good, bad


def unicode_score(text: str) -> tuple[int, int]:
    """(plausible, implausible) non-ASCII characters of a UTF-8 reading, which may hold Chinese and
    Western text alike: a character is plausible when it is as Chinese or as Western text."""
    good = bad = 0
    for run, b, a in _runs(text):
        if len(run) > 2:  # never Western: as Chinese
            g, n = _chinese_count(run, b, a)
        else:
            flags = [c or w for c, w in zip(_chinese_flags(run, b, a), _western_flags(run, b, a))]
            g, n = sum(flags), len(flags) - sum(flags)
        good += g
        bad += n
    return good, bad


def _share(good: int, bad: int) -> float:
    return 1.0 if good + bad == 0 else good / (good + bad)


def _examples(text: str, limit: int = 2) -> list[str]:
    """Short snippets of ``text`` around its first non-ASCII characters (for the error message)."""
    out: list[str] = []
    for m in _NON_ASCII.finditer(text):
        lo, hi = max(m.start() - 12, 0), min(m.end() + 12, len(text))
        snippet = text[lo:hi].replace("\r", " ").replace("\n", " ").strip()
        if snippet not in out:
            out.append(snippet)
        if len(out) >= limit:
            break
    return out


#: every encoding tried, with the score of its reading
_SCORES = {"utf-8": unicode_score, "gbk": chinese_score, "gb18030": chinese_score,
           "cp1252": western_score, "latin-1": western_score}


class EncodingSniffer:
    """Decides the encoding of bytes fed in chunks (bounded memory): each candidate decoded
    incrementally and its reading scored; :meth:`choice` then decides as :func:`choose_encoding`."""

    def __init__(self, name: str = "") -> None:
        import codecs

        self.name = name
        self.started = False
        self.bom = False
        self.ascii = True
        self.decoders = {enc: codecs.getincrementaldecoder(enc)("strict") for enc in _SCORES}
        self.counts = {enc: [0, 0] for enc in _SCORES}
        self.examples: dict[str, list[str]] = {enc: [] for enc in _SCORES}

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if not self.started:
            self.started = True
            if chunk.startswith(b"\xef\xbb\xbf"):
                self.bom = True
                chunk = chunk[3:]
        if self.ascii and not chunk.isascii():
            self.ascii = False
        if self.ascii and not final:
            return
        texts: dict[str, str] = {}
        for enc in list(self.decoders):
            try:
                texts[enc] = self.decoders[enc].decode(chunk, final)
            except UnicodeDecodeError:
                del self.decoders[enc]
        # score only the readings that can still change the choice: every reading while a GBK one
        # is alive; without one, valid UTF-8 wins outright, and the Western reading matters only
        # when UTF-8 failed too
        gbk_alive = any(e in self.decoders for e in GBK_FAMILY)
        scored: dict = {}  # GBK and GB18030 mostly read a chunk the same: score that text once
        for enc, text in texts.items():
            if enc == "latin-1" and "cp1252" in self.decoders:
                continue  # latin-1 only matters when cp1252 cannot read the bytes
            if not gbk_alive and enc not in GBK_FAMILY and (enc == "utf-8" or "utf-8" in self.decoders):
                continue
            score = _SCORES[enc]
            same = scored.get(score)
            if same is not None and same[0] == text:
                good, bad = same[1]
            else:
                good, bad = score(text)
                scored[score] = (text, (good, bad))
            self.counts[enc][0] += good
            self.counts[enc][1] += bad
            if len(self.examples[enc]) < 2:
                self.examples[enc].extend(_examples(text, 2 - len(self.examples[enc])))

    def choice(self) -> EncodingChoice:
        """The decision once every chunk (the last with ``final=True``) has been fed."""
        if self.bom:
            if "utf-8" in self.decoders:
                return EncodingChoice("utf-8-sig", 1.0, "byte-order mark", {"utf-8-sig": 1.0})
        elif self.ascii:
            return EncodingChoice("utf-8", 1.0, "ASCII only (every candidate reads the same)", {"utf-8": 1.0})
        alive = [e for e in ("utf-8", "gbk", "gb18030", "cp1252", "latin-1") if e in self.decoders]
        gbk = next((e for e in GBK_FAMILY if e in alive), None)
        western = next((e for e in WESTERN_FAMILY if e in alive), None)
        if "utf-8" in alive and gbk is None:  # valid multi-byte UTF-8 and no GBK reading: nothing to weigh
            return EncodingChoice("utf-8", 1.0, "strict UTF-8 (multi-byte sequences)", {"utf-8": 1.0})
        shares = {e: _share(*self.counts[e]) for e in ("utf-8", gbk, western) if e is not None and e in alive}
        if "utf-8" in alive:
            # valid UTF-8 with multi-byte sequences: UTF-8, unless a GBK reading is more plausible
            # Chinese (short GBK text can be valid UTF-8: 摘要 -> 'ժҪ')
            if gbk is not None and shares[gbk] > shares["utf-8"]:
                return EncodingChoice(gbk, round(shares[gbk] - shares["utf-8"], 3),
                                      "valid UTF-8 and GBK; the GBK reading is the plausible Chinese", shares)
            return EncodingChoice("utf-8", 1.0 if gbk is None else shares["utf-8"],
                                  "strict UTF-8 (multi-byte sequences)", shares)
        if gbk is None:
            return EncodingChoice(western, shares[western], "not UTF-8 or GBK: the single-byte Western reading",
                                  shares)
        margin = abs(shares[gbk] - shares[western])
        best = gbk if shares[gbk] >= shares[western] else western
        if shares[best] >= CLEAR_SHARE and margin >= CLEAR_MARGIN:
            return EncodingChoice(best, round(margin, 3), "plausibility of the readings", shares)
        raise ambiguous_error(self.name, {e: self.examples[e] for e in shares}, shares)


def choose_encoding(data: bytes, name: str = "") -> EncodingChoice:
    """The encoding of CSV bytes (``utf-8-sig``, ``utf-8``, ``gbk``, ``gb18030``, ``cp1252`` or
    ``latin-1``) with its confidence and evidence.

    Raises
    ------
    InputError
        Several encodings decode the bytes into different text and no reading is clearly the
        plausible one; the message names the file and the candidates with an example of each.
    """
    sniffer = EncodingSniffer(name)
    sniffer.feed(data, final=True)
    return sniffer.choice()


def ambiguous_error(name: str, examples: dict[str, list[str]], shares: dict[str, float]) -> InputError:
    """The error for a file whose encoding the evidence does not settle (``examples``: per candidate
    encoding, snippets of its reading)."""
    readings = examples
    parts = []
    for enc, snippets in examples.items():
        shown = " | ".join(snippets) or "-"
        parts.append(f"{enc} ({shares.get(enc, 0):.0%} plausible): {shown}")
    listing = "; ".join(parts)
    names = ", ".join(readings)
    return InputError(
        f"{name}: 无法确定文件编码，候选 {names}；请在映射配置中设置 encoding（可按文件名设置）/ cannot tell the "
        f"encoding of the file; candidates {names}; set `encoding:` in a mapping profile (per file name if "
        f"needed): {listing}",
        file=name, line=None, column=None, reason="ambiguous encoding", candidates=list(readings))
