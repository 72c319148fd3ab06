"""Where the workbench finds its files: the defaults shipped in the package, and the
audit workspace the user works in.

An *audit workspace* is a folder holding ``params/default.yaml`` (the parameters to
edit), ``params/mappings/``, ``notebooks/``, ``data/`` and ``outputs/``;
``auditlib init DIR`` creates one, and this checkout is one.  Commands find the
workspace as git finds a repository: ``$AUDITLIB_WORKSPACE`` if set, else the
nearest folder at or above the current directory that holds ``params/default.yaml``.
Outside any workspace the package's shipped defaults are used.

The package carries ``params/`` and ``notebooks/`` of the repository as package
resources (``auditlib._shipped.params`` / ``auditlib._shipped.notebooks``, mapped onto
the top-level folders by ``pyproject.toml``): no second copy is kept in git.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: environment variable naming the workspace (a run sets it for its kernels and workers)
ENV = "AUDITLIB_WORKSPACE"
PARAMS = "params"
NOTEBOOKS = "notebooks"
DEFAULT_PARAMS = "default.yaml"
MAPPINGS = "mappings"


def shipped(name: str) -> Path:
    """The folder ``name`` (``params`` or ``notebooks``) as shipped in the package."""
    return Path(str(resources.files(f"auditlib._shipped.{name}")))


def find_workspace(start: str | os.PathLike | None = None) -> Path | None:
    """The audit workspace: ``$AUDITLIB_WORKSPACE``, else the nearest folder at or above
    ``start`` (default: the current directory) holding ``params/default.yaml``; None if none."""
    env = os.environ.get(ENV)
    if env and start is None:
        return Path(env).resolve()
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS / DEFAULT_PARAMS).is_file():
            return folder
    return None


def params_dir() -> Path:
    """``params/`` of the workspace, else the shipped one."""
    ws = find_workspace()
    if ws is not None and (ws / PARAMS / DEFAULT_PARAMS).is_file():
        return ws / PARAMS
    return shipped(PARAMS)


def default_params_file() -> Path:
    """The run-wide defaults every parameter file is laid over."""
    return params_dir() / DEFAULT_PARAMS


def profiles_dirs() -> list[Path]:
    """Folders searched for ``--mapping NAME``: the workspace's ``params/mappings/`` first,
    then the shipped profiles."""
    dirs = [params_dir() / MAPPINGS, shipped(PARAMS) / MAPPINGS]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def notebooks_dir() -> Path:
    """The inspection notebook templates: the workspace's ``notebooks/``, else the shipped ones."""
    ws = find_workspace()
    if ws is not None and (ws / NOTEBOOKS).is_dir():
        return ws / NOTEBOOKS
    return shipped(NOTEBOOKS)


def root() -> Path:
    """The workspace folder, else the current directory (where data/ and outputs/ go)."""
    return find_workspace() or Path(os.getcwd()).resolve()


def default_db() -> Path:
    """``$AUDITLIB_DB`` if set, else ``data/audit.duckdb`` of the workspace."""
    env = os.environ.get("AUDITLIB_DB")
    return Path(env) if env else root() / "data" / "audit.duckdb"


def outputs_dir() -> Path:
    """``outputs/`` of the workspace."""
    return root() / "outputs"
