"""FlowForge resilience harness: chaos (Toxiproxy) plus load (Locust) in step ramps."""
