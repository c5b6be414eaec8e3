# FlowForge resilience harness. Every target sets up what it needs first.
#   make experiment name=clickhouse-latency [step_seconds=8]
#   make test
PYTHON := .venv/bin/python
HARNESS := $(PYTHON) -m harness
name ?= clickhouse-latency
run ?= results/latest

.PHONY: setup experiment test unit integration report validate plan cleanup clean lint

setup:
	@scripts/setup.sh all

experiment: setup
	$(HARNESS) run $(name) $(if $(step_seconds),--step-seconds $(step_seconds)) $(if $(backend),--backend $(backend)) $(if $(offline),--offline)

test: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider

unit: setup
	$(PYTHON) -m pytest -q tests/unit

integration: setup
	$(PYTHON) -m pytest -q -m integration

report:
	$(HARNESS) report $(run)

validate: setup
	$(HARNESS) validate $(filter-out experiments/slos.yaml,$(wildcard experiments/*.yaml))

plan: setup
	$(HARNESS) plan $(name) $(if $(step_seconds),--step-seconds $(step_seconds))

cleanup:
	$(HARNESS) cleanup

clean:
	rm -rf .venv .tools build *.egg-info

lint: setup
	$(PYTHON) -m ruff check harness toxics locustfiles tests compose
