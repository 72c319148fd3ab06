"""The package list (everything else is in pyproject.toml).

Besides every ``auditlib*`` package of the tree, the wheel holds
``auditlib._shipped.params`` and ``auditlib._shipped.notebooks``: the repository's
top-level ``params/`` and ``notebooks/`` folders, mapped by ``[tool.setuptools.package-dir]``
in pyproject.toml (they have no ``__init__.py``: they are data, read through
:func:`auditlib.workspace.shipped`).
"""
from setuptools import find_packages, setup

SHIPPED = ["auditlib._shipped.params", "auditlib._shipped.notebooks"]

setup(packages=find_packages(include=["auditlib", "auditlib.*"]) + SHIPPED)
