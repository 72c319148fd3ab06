"""Writing a file whole or not at all, and fingerprinting files.

Every output of the workbench (findings.csv, workbooks, HTML, the manifest, the index)
is written through :func:`atomic_write`: to a temporary name in the same folder, flushed
and fsynced, then renamed over the final name.  A process killed at any moment leaves
either the old file or the new one, never half of one, and the temporary files of a
killed process are recognised by their suffix (:data:`PART_SUFFIX`).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import IO, Callable, Iterator

#: temporary files are ``.<name>.<pid>.part`` beside their target
PART_SUFFIX = ".part"


def part_name(path: str | os.PathLike) -> Path:
    """The temporary name :func:`atomic_write` uses for ``path`` in this process."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}{PART_SUFFIX}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path`` through; on success it is fsynced and
    renamed over ``path``, on any error it is removed and ``path`` is left as it was.

    For writers that want a file name (papermill, nbformat, xlsxwriter ...).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """Open ``path`` for writing so that it appears whole or not at all.

    Parameters
    ----------
    path : path-like
        The final name.
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline
        As for :func:`open` (text mode only).
    """
    binary = "b" in mode
    with atomic_path(path) as tmp:
        with open(tmp, mode, **({} if binary else {"encoding": encoding, "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, data) -> Path:
    """Write ``data`` as indented UTF-8 JSON (Chinese kept readable), atomically."""
    return write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def remove_parts(folder: str | os.PathLike) -> int:
    """Remove the temporary files a killed writer left anywhere under ``folder``; their count."""
    n = 0
    for p in Path(folder).rglob(f"*{PART_SUFFIX}"):
        if p.is_file():
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n


def sha256_file(path: str | os.PathLike, each: Callable[[bytes], None] | None = None,
                chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read (never written) in chunks; ``each`` (if given) is called
    with every chunk, so one read of the file can serve other purposes too."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
            if each is not None:
                each(chunk)
    return digest.hexdigest()


def sha256_file_into(path: str | os.PathLike, each: Callable[[bytearray, int], None],
                     chunk_size: int = 1 << 20) -> str:
    """:func:`sha256_file` reading into one buffer again and again (memory flat however large the
    file, in any thread): ``each(buffer, n)`` is called with the buffer of every chunk and its
    length, the buffer being valid only during the call."""
    digest = hashlib.sha256()
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    with open(path, "rb") as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
            each(buf, n)
    return digest.hexdigest()
