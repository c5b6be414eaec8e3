# FlowForge resilience harness. Every target sets up what it needs first.
#   make experiment name=clickhouse-latency [step_seconds=8] [workers=2] [args="--observe --web"]
#   make gameday [users=25] [args="--script datastore-brownout --control-port 8090"]
#   make test
#   make bench [only=generator_ratio,fidelity] [quick=1]
PYTHON := .venv/bin/python
HARNESS := $(PYTHON) -m harness
name ?= clickhouse-latency
run ?= results/latest

.PHONY: setup experiment experiment-run test unit integration report validate plan cleanup clean lint bench gameday

setup:
	@scripts/setup.sh all

# make exits 2 whenever a recipe fails, and its "Error N" line would be the last word; so the
# harness runs in experiment-run, which keeps its exit code, and experiment ends with the harness's
# own line saying what that code means (make's status stays non-zero on failure: 2). For the
# harness's own code (1 vs 3), call .venv/bin/harness run directly.
EXPERIMENT_EXIT := .tools/experiment.exit

experiment: experiment-run
	$(call harness_exit_line,$(strip $(file <$(EXPERIMENT_EXIT))))

experiment-run: setup
	@rm -f $(EXPERIMENT_EXIT); $(HARNESS) run $(name) $(if $(step_seconds),--step-seconds $(step_seconds)) $(if $(backend),--backend $(backend)) $(if $(offline),--offline) $(if $(workers),--workers $(workers)) $(args); echo $$? > $(EXPERIMENT_EXIT)

# $(1): the harness's exit code. Expanded only once experiment-run has finished (none under make -n).
harness_exit_line = $(if $(1),$(if $(filter 0,$(1)),@echo "harness: $(call harness_meaning,$(1))",$(error harness: $(call harness_meaning,$(1)))))
harness_meaning = $(shell $(PYTHON) -c 'from harness.cli import exit_meaning; print(exit_meaning($(1)))')

# A game day: stack, steady load and the control page (its URL printed); Ctrl-C ends it, reverting every
# fault. Faults from the page or another terminal: harness fault add clickhouse latency latency_ms=200.
gameday: setup
	$(HARNESS) gameday $(if $(users),--users $(users)) $(if $(backend),--backend $(backend)) $(if $(offline),--offline) $(if $(workers),--workers $(workers)) $(args)

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

# Not a test: measures what the harness costs and how far its numbers hold
# (results/bench/<UTC stamp>.json and latest.json). Takes ~33 minutes (soak alone ~12: only=soak); quick=1 ~8.
bench: setup
	@scripts/setup.sh bench
	$(PYTHON) -m harness.bench $(if $(only),--only $(only)) $(if $(quick),--quick)
