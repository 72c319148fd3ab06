"""Verification (核实) and follow-up (整改) of findings: statuses, the append-only findings
register (疑点登记簿), decisions read back from returned evidence workbooks, and their
application to a run's findings (CONTRACT §6)."""
