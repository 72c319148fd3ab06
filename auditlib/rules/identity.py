"""A finding's identity (CONTRACT §6): the same finding keeps its id across reruns, new data
and new years, as long as its rule, unit and evidence key (``ref``) are the same.

``finding_id`` = the first 12 hex digits of SHA-256 of the UTF-8 text
``<rule_id>|<unit_code>|<ref>``, so anyone can recompute it::

    >>> finding_id("SF06", "001", "payments:P0001")
    '1b6058e84a16'
"""
from __future__ import annotations

import hashlib

import pandas as pd

#: hex digits kept of the SHA-256
ID_LENGTH = 12


def finding_id(rule_id: str, unit_code: str, ref: str) -> str:
    """The id of the finding of ``rule_id`` about ``ref`` in ``unit_code``."""
    text = f"{rule_id}|{unit_code}|{ref}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def finding_ids(findings: pd.DataFrame) -> pd.Series:
    """``finding_id`` of every row of a findings frame (columns ``rule_id, unit_code, ref``)."""
    if not len(findings):
        return pd.Series([], index=findings.index, dtype=object)
    sha256 = hashlib.sha256  # finding_id's text and digest, inlined: this runs once per finding
    return pd.Series([sha256(f"{r}|{u}|{f}".encode("utf-8")).hexdigest()[:ID_LENGTH] for r, u, f in
                      zip(findings["rule_id"].tolist(), findings["unit_code"].tolist(), findings["ref"].tolist())],
                     index=findings.index, dtype=object)
