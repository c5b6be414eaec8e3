"""``make bench``: how much the harness costs and how far its numbers can be trusted.

Each measurement is one module with ``NAME``, ``measure(ctx) -> dict`` and
``rows(result)`` for the printed table; ``harness.bench.cli`` runs them side
by side in one process and writes ``results/bench/<UTC stamp>.json`` and
``results/bench/latest.json``. Costs are measured against a baseline taken
in the same run (this machine kind is noisy), never against a stored number.
Load goes to 127.0.0.1 only. Not a test: nothing here passes or fails.
"""
