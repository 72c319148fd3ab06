"""The findings register (疑点登记簿, CONTRACT §6): one append-only JSONL file of decisions.

Each line is one decision, a JSON object with the fields ``finding_id, rule_id, unit_code,
ref, status, reason, amount, by, at, source`` (``amount`` is 认定金额 as text with two
decimals, or null).  A finding's status is its latest decision; nothing is ever rewritten.

Promises kept here:

* **Whole lines, all or nothing.** :meth:`Register.append` writes a batch of decisions with a
  single ``write`` under an exclusive lock (``fcntl.flock`` on the sidecar ``<register>.lock``),
  then flushes and fsyncs.  Before writing it notes the file's length in the lock file (an
  intent); after the fsync it clears it.  A writer killed in between leaves an intent behind,
  and the next reader or writer moves everything past that length (the partial batch) to
  ``<register>.rejected`` and truncates the register back to it.
* **Two writers at once both land**: the lock serialises them.
* **A torn last line** (no trailing newline, whoever wrote it) is moved to
  ``<register>.rejected`` with a logged warning, never read as a decision; every earlier line
  stays readable, and the next append starts on a fresh line.
* A line that is not a decision (bad JSON, unknown status ...) in the middle of the file is
  skipped with a warning; it is left where it is (the file is never rewritten).
"""
from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Iterator

from auditlib.errors import ReviewError
from auditlib.review.statuses import Status

logger = logging.getLogger("auditlib")

#: default file name, beside the database
REGISTER_NAME = "register.jsonl"

#: the fields of a register line, in order (CONTRACT §6); also the columns of ``review list``
FIELDS = ("finding_id", "rule_id", "unit_code", "ref", "status", "reason", "amount", "by", "at",
          "source")

#: longest text accepted in a decision's ``reason`` (核实说明) or ``by``, in characters
MAX_TEXT = 2000

_CENT = Decimal("0.01")


def now_iso() -> str:
    """Local time with its zone, to the second (``2025-03-01T14:05:09+08:00``)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def format_amount(amount: Decimal | None) -> str | None:
    """认定金额 as register text: two decimals (``"1234.50"``), or None."""
    if amount is None:
        return None
    return str(amount.quantize(_CENT))


def parse_amount(text) -> Decimal | None:
    """Register text back to an exact Decimal (None for null/empty)."""
    if text is None or text == "":
        return None
    return Decimal(str(text))


@dataclass(frozen=True)
class Decision:
    """One auditor's decision about one finding (one line of the register).

    Attributes
    ----------
    finding_id, rule_id, unit_code, ref : str
        Which finding (``finding_id`` as :func:`auditlib.rules.identity.finding_id`).
    status : Status
        The finding's status from now on.
    reason : str
        核实说明 (required for ``dismissed``).
    amount : Decimal or None
        认定金额, when the confirmed amount differs from the rule's.
    by : str
        Who decided (核实人, with 复核人 when the workbook names one).
    at : str
        When, ISO local time with zone; :meth:`Register.append` stamps it when empty.
    source : str
        ``<workbook file name>!<sheet>!<cell>``, ``cli`` or ``explore``.
    """

    finding_id: str
    rule_id: str
    unit_code: str
    ref: str
    status: Status
    reason: str = ""
    amount: Decimal | None = None
    by: str = ""
    at: str = ""
    source: str = ""

    def problems(self) -> list[str]:
        """What makes this decision unfit to record (empty when it is fine)."""
        out = []
        for name in ("finding_id", "rule_id", "unit_code", "ref"):
            if not str(getattr(self, name) or "").strip():
                out.append(f"{name} is empty")
        if not isinstance(self.status, Status):
            out.append(f"status {self.status!r} is not a Status")
        if self.status == Status.DISMISSED and not self.reason.strip():
            out.append("dismissed without a reason")
        if not self.by.strip():
            out.append("no decider (by)")
        for name in ("reason", "by"):
            if len(getattr(self, name)) > MAX_TEXT:
                out.append(f"{name} longer than {MAX_TEXT} characters")
        if self.amount is not None:
            if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
                out.append(f"amount {self.amount!r} is not money")
            elif self.amount != self.amount.quantize(_CENT):
                out.append(f"amount {self.amount} has more than two decimals")
        for name in FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    out.append(f"{name} is not valid text")
        return out

    def to_dict(self) -> dict:
        """The register line's fields, in :data:`FIELDS` order (amount as text or None)."""
        return {"finding_id": self.finding_id, "rule_id": self.rule_id,
                "unit_code": self.unit_code, "ref": self.ref, "status": self.status.value,
                "reason": self.reason, "amount": format_amount(self.amount), "by": self.by,
                "at": self.at, "source": self.source}

    def to_line(self) -> bytes:
        """One register line, UTF-8, ending in a newline (newlines inside text are escaped)."""
        return (json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
                ).encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> "Decision":
        """A decision from a register line's fields (raises ValueError/KeyError/TypeError when
        it is not one)."""
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return cls(finding_id=str(data["finding_id"]), rule_id=str(data["rule_id"]),
                   unit_code=str(data["unit_code"]), ref=str(data["ref"]),
                   status=Status(data["status"]), reason=str(data.get("reason") or ""),
                   amount=parse_amount(data.get("amount")), by=str(data.get("by") or ""),
                   at=str(data.get("at") or ""), source=str(data.get("source") or ""))

    def same_decision(self, other: "Decision | None") -> bool:
        """Whether ``other`` decides the same (status, reason, amount), whoever and whenever."""
        return (other is not None and self.finding_id == other.finding_id
                and self.status == other.status and self.reason == other.reason
                and self.amount == other.amount)


class Register:
    """The append-only register file at ``path`` (it need not exist yet)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Register({str(self.path)!r})"

    # -- where ------------------------------------------------------------------------------
    @classmethod
    def beside(cls, db: str | os.PathLike) -> "Register":
        """The default register: ``register.jsonl`` in the database's folder."""
        return cls(Path(db).resolve().parent / REGISTER_NAME)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def rejected_path(self) -> Path:
        return self.path.with_name(self.path.name + ".rejected")

    # -- writing ----------------------------------------------------------------------------
    def append(self, decisions: Iterable[Decision]) -> int:
        """Record ``decisions`` (all of them or none); the number recorded.

        A decision with an empty ``at`` is stamped with the local time now.  Every decision is
        checked first (:meth:`Decision.problems`); any problem raises :class:`ReviewError` and
        nothing is written.
        """
        stamp = now_iso()
        batch = [d if d.at else _with_at(d, stamp) for d in decisions]
        problems = [f"{d.finding_id}: {p}" for d in batch for p in d.problems()]
        if problems:
            raise ReviewError("; ".join(problems), file=str(self.path), problems=problems)
        if not batch:
            return 0
        data = b"".join(d.to_line() for d in batch)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked() as lock:
            self._repair(lock)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                start = os.fstat(fd).st_size
                _write_intent(lock, start)
                view = memoryview(data)
                while view:  # os.write may write less than asked; keep going until all is out
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            _write_intent(lock, None)
        return len(batch)

    # -- reading ----------------------------------------------------------------------------
    def decisions(self) -> list[Decision]:
        """Every decision in file order (a torn or unfinished tail set aside first, with a
        warning; lines that are not decisions skipped with a warning)."""
        return self._read()[1]

    def latest(self) -> dict[str, Decision]:
        """``finding_id`` -> its latest decision."""
        return {d.finding_id: d for d in self.decisions()}

    def fingerprint(self) -> dict:
        """``{"path", "sha256", "decisions"}`` of the register as it is now (for the manifest);
        a missing file has ``sha256`` None and 0 decisions."""
        data, decisions = self._read()
        if data is None:
            return {"path": str(self.path), "sha256": None, "decisions": 0}
        return {"path": str(self.path), "sha256": hashlib.sha256(data).hexdigest(),
                "decisions": len(decisions)}

    def _read(self) -> tuple[bytes | None, list[Decision]]:
        if not self.path.exists():
            return None, []
        with self._locked(optional=True) as lock:
            if lock is not None:
                self._repair(lock)
            data = self.path.read_bytes()
        return data, _parse(data, self.path)

    # -- locking and repair -----------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, optional: bool = False) -> Iterator:
        """Hold the exclusive lock (yield the open lock file); with ``optional``, yield None
        when the lock file cannot be opened (a read-only folder: read without repairing)."""
        try:
            fh = open(self.lock_path, "a+b")
        except OSError:
            if not optional:
                raise
            yield None
            return
        with fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _repair(self, lock) -> None:
        """Under the lock: set aside an unfinished batch (intent left by a killed writer) or a
        torn last line, so that the file ends with a whole line."""
        if not self.path.exists():
            _write_intent(lock, None)
            return
        size = self.path.stat().st_size
        intent = _read_intent(lock)
        cut = None
        if intent is not None and intent < size:
            cut, why = intent, "an append that did not finish"
        elif size:
            with open(self.path, "rb") as fh:
                fh.seek(size - 1)
                torn_tail = fh.read(1) != b"\n"
            if torn_tail:
                cut, why = _last_newline(self.path, size) + 1, "a torn last line"
        if cut is not None:
            with open(self.path, "r+b") as fh:
                fh.seek(cut)
                torn = fh.read()
                with open(self.rejected_path, "ab") as rej:
                    rej.write(torn if torn.endswith(b"\n") else torn + b"\n")
                    rej.flush()
                    os.fsync(rej.fileno())
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
            logger.warning("register %s: %s (%d bytes) set aside to %s; every earlier decision "
                           "is kept", self.path, why, len(torn), self.rejected_path)
        if intent is not None:
            _write_intent(lock, None)


def _with_at(decision: Decision, at: str) -> Decision:
    return replace(decision, at=at)


def _write_intent(lock, start: int | None) -> None:
    """Note (or clear) the length the register had before an append began."""
    lock.seek(0)
    lock.truncate(0)
    if start is not None:
        lock.write(str(start).encode())
    lock.flush()
    os.fsync(lock.fileno())


def _read_intent(lock) -> int | None:
    lock.seek(0)
    text = lock.read().strip()
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _last_newline(path: Path, size: int) -> int:
    """Offset of the last newline of a file (-1 when none), read backwards in chunks."""
    with open(path, "rb") as fh:
        end = size
        while end > 0:
            start = max(0, end - (1 << 20))
            fh.seek(start)
            chunk = fh.read(end - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                return start + nl
            end = start
    return -1


_STATUS = {s.value: s for s in Status}
_new = object.__new__


_KEYS = frozenset(FIELDS)
_TEXT_FIELDS = tuple(f for f in FIELDS if f not in ("status", "amount"))
_setattr = object.__setattr__


def _fast_decision(o: dict) -> Decision:
    """:meth:`Decision.from_dict` without the dataclass ``__init__``, reusing the parsed dict
    (reading 100k decisions must take well under a second); raises the same errors for a
    line that is not a decision."""
    if o.keys() != _KEYS:
        return Decision.from_dict(o)  # a field missing or extra: the careful way
    o["status"] = _STATUS[o["status"]]
    amount = o["amount"]
    if amount is not None:
        o["amount"] = Decimal(amount) if amount != "" else None
    for name in _TEXT_FIELDS:
        if type(o[name]) is not str:
            o[name] = "" if o[name] is None else str(o[name])
    d = _new(Decision)
    _setattr(d, "__dict__", o)
    return d


def _parse(data: bytes, path: Path) -> list[Decision]:
    """The decisions of a register's bytes (split on newlines only: text never holds a raw
    newline, and other line separators inside text are not line ends)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:  # a torn tail that could not be set aside (read-only folder): never a decision
        logger.warning("register %s: torn last line ignored", path)
        lines.pop()
    collecting = gc.isenabled()
    gc.disable()  # 100k new objects, none cyclic: the collector would only slow the reading down
    try:
        try:  # fast path: every line one JSON object
            objects = json.loads(b"[" + b",".join(lines) + b"]")
            if len(objects) != len(lines) or not all(type(o) is dict for o in objects):
                raise ValueError("not one object per line")
            return [_fast_decision(o) for o in objects]
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return list(_parse_lines(lines, path))
    finally:
        if collecting:
            gc.enable()


def _parse_lines(lines: list[bytes], path: Path) -> Iterator[Decision]:
    """Line by line, skipping (with a warning) every line that is not a decision."""
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
            if type(o) is not dict:
                raise TypeError("not an object")
            yield _fast_decision(o)
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            logger.warning("register %s line %d is not a decision (%s); skipped", path, no, exc)
