"""A synthetic county with planted cases and their answers (``auditlib synth``): for the demo,
the tests and the benchmark, never imported by the runtime path."""
