"""FlowForge reference backend: the service experiments put load and faults on.

A small FastAPI app that reads widget configs from Redis, live values from
Materialize (PostgreSQL locally) and history from ClickHouse, pushes dashboard
updates over WebSocket, and times every datastore call per tier so the
harness can compare what the service saw with what its own probes saw.
"""
