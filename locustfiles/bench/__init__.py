"""Locustfiles of ``make bench`` (harness.bench), each run with plain ``locust -f`` in its own process."""
