"""The findings register (CONTRACT §6): append-only JSONL, whole lines under a lock, two writers
at once both land, a torn last line set aside, an unfinished batch rolled back, fast reading."""
from __future__ import annotations

import json
import logging
import multiprocessing
import time
from decimal import Decimal

import pytest

from auditlib.errors import ReviewError
from auditlib.review.register import FIELDS, Decision, Register, now_iso
from auditlib.review.statuses import Status
from auditlib.rules.identity import finding_id


def _decision(i: int = 0, status: Status = Status.CONFIRMED, **kw) -> Decision:
    rule, unit, ref = kw.pop("rule", "SF06"), kw.pop("unit", "001"), kw.pop("ref", f"payments:P{i:05d}")
    base = dict(finding_id=finding_id(rule, unit, ref), rule_id=rule, unit_code=unit, ref=ref,
                status=status, reason="核实无误" if status != Status.OPEN else "", by="张三",
                source="cli")
    base.update(kw)
    return Decision(**base)


def test_one_line_per_decision_with_the_contract_fields(tmp_path):
    reg = Register(tmp_path / "register.jsonl")
    assert reg.append([_decision(1, amount=Decimal("1234.5")), _decision(2, Status.DISMISSED)]) == 2
    lines = reg.path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    first = json.loads(lines[0])
    assert tuple(first) == FIELDS
    assert first["amount"] == "1234.50" and first["status"] == "confirmed"
    assert json.loads(lines[1])["amount"] is None
    # at: local time ISO with its zone
    assert first["at"][:4].isdigit() and ("+" in first["at"][19:] or "-" in first["at"][19:]
                                          or first["at"].endswith("Z"))
    back = reg.decisions()
    assert back[0].amount == Decimal("1234.50") and back[0].status is Status.CONFIRMED
    assert back[1].status is Status.DISMISSED and back[1].reason == "核实无误"


def test_now_iso_has_a_zone():
    from datetime import datetime
    assert datetime.fromisoformat(now_iso()).tzinfo is not None


def test_beside_the_database(tmp_path):
    assert Register.beside(tmp_path / "audit.duckdb").path == (tmp_path / "register.jsonl").resolve()


def test_latest_decision_wins_and_nothing_is_rewritten(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    reg.append([_decision(1, Status.CONFIRMED)])
    before = reg.path.read_bytes()
    reg.append([_decision(1, Status.RECTIFIED, reason="已退回")])
    after = reg.path.read_bytes()
    assert after.startswith(before)  # only growing
    assert len(reg.decisions()) == 2
    assert reg.latest()[_decision(1).finding_id].status is Status.RECTIFIED


def test_a_bad_decision_in_a_batch_records_none(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    reg.append([_decision(0)])
    before = reg.path.read_bytes()
    bad = [_decision(1), _decision(2, Status.DISMISSED, reason=""), _decision(3, by="")]
    with pytest.raises(ReviewError) as err:
        reg.append(bad)
    assert "dismissed without a reason" in str(err.value) and "no decider" in str(err.value)
    with pytest.raises(ReviewError, match="two decimals"):
        reg.append([_decision(4, amount=Decimal("1.005"))])
    with pytest.raises(ReviewError, match="longer than"):
        reg.append([_decision(5, reason="x" * 5_000_000)])
    assert reg.path.read_bytes() == before


def test_hostile_text_stays_one_inert_line(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    reason = '=HYPERLINK("http://evil","x")\n<script>alert(1)</script>\u2028next\r\n'
    reg.append([_decision(1, reason=reason), _decision(2)])
    assert reg.path.read_bytes().count(b"\n") == 2
    got = reg.decisions()
    assert [d.reason for d in got] == [reason, "核实无误"]


def test_fingerprint(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    assert reg.fingerprint() == {"path": str(reg.path), "sha256": None, "decisions": 0}
    reg.append([_decision(1), _decision(2)])
    import hashlib
    fp = reg.fingerprint()
    assert fp["decisions"] == 2
    assert fp["sha256"] == hashlib.sha256(reg.path.read_bytes()).hexdigest()


# -- crashes ------------------------------------------------------------------------------------

def test_torn_last_line_is_set_aside_and_never_read(tmp_path, caplog):
    reg = Register(tmp_path / "r.jsonl")
    reg.append([_decision(1), _decision(2)])
    good = reg.path.read_bytes()
    torn = _decision(3).to_line()[:-20]  # a crash mid-write: no newline, not JSON
    with open(reg.path, "ab") as fh:
        fh.write(torn)
    with caplog.at_level(logging.WARNING, logger="auditlib"):
        got = reg.decisions()
    assert [d.ref for d in got] == ["payments:P00001", "payments:P00002"]
    assert "torn" in caplog.text and "rejected" in caplog.text
    assert reg.path.read_bytes() == good
    assert reg.rejected_path.read_bytes() == torn + b"\n"
    # the next append starts on a fresh line
    reg.append([_decision(4)])
    assert [d.ref for d in reg.decisions()] == ["payments:P00001", "payments:P00002", "payments:P00004"]


def test_torn_line_that_happens_to_be_json_is_still_set_aside(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    reg.append([_decision(1)])
    with open(reg.path, "ab") as fh:
        fh.write(_decision(2).to_line()[:-1])  # whole object, but the line never ended
    reg.append([_decision(3)])
    assert [d.ref for d in reg.decisions()] == ["payments:P00001", "payments:P00003"]
    assert b"P00002" in reg.rejected_path.read_bytes()


def test_only_a_torn_line(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    reg.path.write_bytes(b'{"finding_id": "abc')
    assert reg.decisions() == []
    assert reg.path.read_bytes() == b""


def test_unfinished_batch_is_rolled_back_whole(tmp_path, caplog):
    """A writer killed after part of its batch landed (whole lines included) leaves its intent in
    the lock file; the next reader sets the whole partial batch aside."""
    reg = Register(tmp_path / "r.jsonl")
    reg.append([_decision(1)])
    good = reg.path.read_bytes()
    partial = _decision(2).to_line() + _decision(3).to_line()[:10]
    reg.lock_path.write_text(str(len(good)))
    with open(reg.path, "ab") as fh:
        fh.write(partial)
    with caplog.at_level(logging.WARNING, logger="auditlib"):
        assert [d.ref for d in reg.decisions()] == ["payments:P00001"]
    assert "did not finish" in caplog.text
    assert reg.path.read_bytes() == good
    assert reg.rejected_path.read_bytes().startswith(partial)
    assert reg.lock_path.read_text() == ""


def test_a_bad_line_in_the_middle_is_skipped_not_rewritten(tmp_path, caplog):
    reg = Register(tmp_path / "r.jsonl")
    reg.append([_decision(1)])
    with open(reg.path, "ab") as fh:
        fh.write(b'{"finding_id": "x", "status": "maybe"}\n')
    reg.append([_decision(2)])
    size = reg.path.stat().st_size
    with caplog.at_level(logging.WARNING, logger="auditlib"):
        assert [d.ref for d in reg.decisions()] == ["payments:P00001", "payments:P00002"]
    assert "line 2" in caplog.text
    assert reg.path.stat().st_size == size


# -- two writers ---------------------------------------------------------------------------------

def _writer(path: str, who: int, n: int, start) -> None:
    start.wait()
    reg = Register(path)
    for i in range(n):
        reg.append([_decision(who * 10_000 + i, by=f"writer{who}"),
                    _decision(who * 10_000 + i, Status.RECTIFIED, reason="整改",
                              by=f"writer{who}")])


def test_two_writer_processes_at_once_both_land(tmp_path):
    path = str(tmp_path / "r.jsonl")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(path, who, 200, start)) for who in (1, 2)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    got = Register(path).decisions()
    assert len(got) == 800
    for who in (1, 2):
        mine = [d for d in got if d.by == f"writer{who}"]
        assert len(mine) == 400
        # each batch landed whole and in order: confirmed then rectified, per finding
        assert [d.status for d in mine] == [Status.CONFIRMED, Status.RECTIFIED] * 200
    assert not Register(path).rejected_path.exists()


# -- speed (a sanity bound only; `make bench` measures) ------------------------------------------

def test_reading_100k_decisions(tmp_path):
    reg = Register(tmp_path / "r.jsonl")
    batch = [_decision(i, amount=Decimal("10.00") if i % 3 else None) for i in range(100_000)]
    reg.append(batch)
    t0 = time.perf_counter()
    latest = reg.latest()
    seconds = time.perf_counter() - t0
    assert len(latest) == 100_000
    assert seconds < 5, seconds
