"""The batch (CONTRACT §4–§5): one parameterized notebook per (unit, inspection), run by
papermill on warm kernels, on local worker processes or a Dask scheduler; ``scan`` runs the
rules without notebooks."""
