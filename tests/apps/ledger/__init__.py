"""Ledger: a second, differently built backend the harness runs as "your own stack" in tests.

Not FlowForge: other routes (/accounts), another port (8080), another name
for its Redis (``cache``), token auth on every route but /healthz, its own
seed and Locust user, all reached only through the harness's hooks
(``tests.apps.ledger.hooks``, ``tests.apps.ledger.load``).
"""
