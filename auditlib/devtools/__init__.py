"""Developers' tools that are not part of an audit (re-recording the notebooks' checked outputs)."""
