"""The rules (CONTRACT §3): what is tested, and how.

Each rule is one :class:`~auditlib.rules.model.Rule` that owns its query, titles, basis,
parameters, evidence labels, chart, drill-down and exposure; the rules of one inspection
live in one module (``idle_funds``, ``slush_funds``, ``delayed_payments``), the registry in
``catalogue``, and ``engine`` runs them over the database.
"""
