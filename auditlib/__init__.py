"""auditlib: a Jupyter audit workbench for county finance special inspections."""
from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name):
    # the public API, imported on first use so the command line starts fast
    if name in ("inspect", "Inspection"):
        from auditlib.rules import engine

        return getattr(engine, name)
    if name in ("load_params", "Params"):
        from auditlib.rules import params

        return getattr(params, name)
    raise AttributeError(f"module 'auditlib' has no attribute {name!r}")
