"""auditlib: a Jupyter audit workbench for county finance special inspections."""
from __future__ import annotations

__version__ = "0.1.0"
