"""Locust side of the harness: users, datastore probes, the step-ramp shape, the per-step recorder.

``locust -f locustfiles/flowforge.py`` runs on its own (default ramp, no probes
unless FF_* addresses are set); the harness runs the same file with a load
plan from the engine.
"""
