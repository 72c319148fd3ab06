"""The defaults shipped with the package: ``params/`` and ``notebooks/`` of the repository.

A built wheel holds them here as ``auditlib/_shipped/params/`` and
``auditlib/_shipped/notebooks/`` (mapped from the top-level folders by pyproject.toml, no
second copy in git).  Read them through :func:`auditlib.workspace.shipped`, which also
finds them in an editable install of the checkout.
"""
