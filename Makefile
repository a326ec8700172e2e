# Customer-care conversations pipeline. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
JARS := .jars/.complete

LAKE ?= datalake
MASTER ?= local[*]
CONF_ENV ?= local
ORDERS ?= 1000
SEED ?= 1
BENCH_ORDERS ?= 125000
RUNS ?= 3
RETAIN_HOURS ?= 168
LAST ?= 10
SUBMIT = ./spark-submit.sh $(1) --lake "$(LAKE)" --master "$(MASTER)" --conf-env $(CONF_ENV)

.PHONY: help setup run-local bronze silver gold full-refresh optimize sql status generate test bench clean-lake

help:  ## list the targets
	@grep -E '^[a-z -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'
	@echo "  variables: LAKE=$(LAKE) MASTER=$(MASTER) CONF_ENV=$(CONF_ENV) ORDERS=$(ORDERS) SEED=$(SEED)"

setup: $(INSTALLED) $(JARS)  ## virtual environment, pinned packages and Delta jars (once)

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

$(JARS): scripts/delta-jars.pom.xml scripts/fetch_jars.sh $(INSTALLED)
	./scripts/fetch_jars.sh

run-local: setup  ## bronze, silver and gold in one Spark application (local mode) on LAKE
	$(call SUBMIT,all)

bronze silver gold: setup  ## run one job on LAKE
	$(call SUBMIT,$@)

full-refresh: setup  ## rebuild silver and gold from bronze (same result as the incremental runs)
	$(call SUBMIT,silver) --full-refresh
	$(call SUBMIT,gold) --full-refresh

optimize: setup  ## compact small files (Z-order by order_id) and vacuum files older than RETAIN_HOURS
	$(call SUBMIT,optimize) --retain-hours $(RETAIN_HOURS)

sql: setup  ## ad-hoc Spark SQL: make sql Q="SELECT ..." (no Q: interactive shell)
	$(call SUBMIT,sql) $(if $(Q),--execute "$(Q)")

status: setup  ## the last LAST runs (default 10) and every table's Delta version, rows and last update
	$(call SUBMIT,status) --runs $(LAST)

generate: setup  ## synthetic landing data: make generate ORDERS=N [SEED=s] [LAKE=...]
	$(PY) -m pipeline.generator --lake "$(LAKE)" --orders $(ORDERS) --seed $(SEED)

test: setup  ## the whole test suite
	$(PY) -m pytest

bench: setup  ## benchmark the three jobs on ~1M generated messages
	$(PY) bench/run.py --orders $(BENCH_ORDERS) --runs $(RUNS)

clean-lake:  ## delete the tables, checkpoints and generated files under datalake/ (keeps the sample)
	rm -rf datalake/bronze datalake/silver datalake/gold datalake/quarantine datalake/_meta datalake/_checkpoints
	find datalake/landing -type f ! -name 'sample-*' -delete
