"""The audit log: one JSON line per command run, beside the database.

Each line records when (UTC), who (user@host), what command, which input
files (with their SHA-256) and the outcome, so a reviewer can tell exactly
which data a result came from.
"""
from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
import sys
from pathlib import Path

from auditlib.common.files import sha256_file

LOG_NAME = "audit-log.jsonl"


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # pragma: no cover - no user name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def append(db_path: str | os.PathLike, command: str | list | None, inputs: list, outcome: dict,
           digests: dict | None = None) -> Path:
    """Append one JSON line to ``audit-log.jsonl`` beside ``db_path``; return the log path.

    ``command`` is the command name (or argument list); ``None`` records ``sys.argv``.
    ``digests`` may give already computed SHA-256 digests by path string.
    """
    log = Path(db_path).resolve().parent / LOG_NAME
    digests = digests or {}
    entries = []
    for p in inputs:
        key = str(p)
        try:
            sha = digests.get(key) or sha256_file(p)
        except OSError:
            sha = None
        entries.append({"path": key, "sha256": sha})
    record = {
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "user": _who(),
        "command": command if command is not None else list(sys.argv),
        "argv": list(sys.argv),
        "db": str(Path(db_path).resolve()),
        "inputs": entries,
        "outcome": outcome,
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return log
