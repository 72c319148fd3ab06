"""Audit sampling (审计抽样, CONTRACT §7): reproducible record and monetary-unit samples to vouch
against documents, and their evaluation.

``population`` (what is sampled) · ``factors`` (Poisson, binomial and normal factors) · ``size``
(how many) · ``draw`` (the reproducible draw) · ``plan`` (``auditlib sample``: plan.json, the audit
log) · ``words`` (the form's words) · ``workbook`` (sample.xlsx) · ``readback`` (the filled workbook,
all or nothing) · ``evaluate`` (``auditlib sample evaluate``).
"""
