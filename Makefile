# Customer-care conversations pipeline. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
JARS := .jars/.complete
S3_JARS := .jars-s3/.complete
CLASS_ARCHIVE := .cds/spark.jsa
AIRFLOW_VENV := .airflow-venv
AIRFLOW_INSTALLED := $(AIRFLOW_VENV)/.installed
# The separate Spark Connect client (no JVM, not the server's pyspark) the serve tests connect with.
CONNECT_CLIENT_VENV := .connect-client-venv
CONNECT_CLIENT := $(CONNECT_CLIENT_VENV)/.installed

LAKE ?= datalake
MASTER ?= local[*]
# Empty: spark-submit.sh picks conf/local.toml for local[*] masters, conf/cluster.toml for others.
CONF_ENV ?=
ORDERS ?= 1000
SEED ?= 1
SIZE ?= 1M
FRESH_SIZE ?= 2.5M
RUNS ?= 3
HISTORY_SIZES ?= 1M,20M
RETAIN_HOURS ?= 168
LAST ?= 10
INTERVAL ?= 1s
THRIFT_PORT ?= 10000
CONNECT_PORT ?= 15002
SERVE_PID ?= logs/serve.pid
# more options of spark-submit.sh serve, e.g. SERVE_OPTS="--allow-writes --bind 0.0.0.0"
SERVE_OPTS ?=
IMAGE ?= customer-care-pipeline
AIRFLOW_IMAGE ?= customer-care-airflow
# Empty: the Dockerfile's default (debian:bookworm-slim); `make container-base` makes a local one.
BASE_IMAGE ?=
# docker when a Docker engine answers, else podman (whose builds need the host's network here).
CONTAINER ?= $(shell docker info >/dev/null 2>&1 && echo docker || echo podman)
# docker compose with a Docker engine, else podman-compose (from PyPI, in the venv).
COMPOSE ?= $(shell docker info >/dev/null 2>&1 && echo docker compose || echo $(VENV)/bin/podman-compose)
STEPS := $(shell awk '$$2 == "step" {print $$1}' conf/jobs.txt)  # conf/jobs.txt: the one list of jobs and steps
SUBMIT = ./spark-submit.sh $(1) --lake "$(LAKE)" --master "$(MASTER)" $(if $(CONF_ENV),--conf-env $(CONF_ENV))

.PHONY: help setup setup-s3 class-archive package run-local run-continuous $(STEPS) report full-refresh optimize publish export-csv forget sql serve serve-stop beeline status generate test test-quick test-spark airflow-test airflow-lock bench bench-sample bench-freshness bench-history bench-counts bench-landing clean-lake image airflow-image container-base compose-up compose-down

help:  ## list the targets
	@grep -E '^[a-z0-9 -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'
	@printf "  %-24s %s\n" "$(STEPS)" "run one step on LAKE (the steps of conf/jobs.txt)"
	@echo "  variables: LAKE=$(LAKE) MASTER=$(MASTER) CONF_ENV=$(CONF_ENV) ORDERS=$(ORDERS) SEED=$(SEED)"

setup: $(INSTALLED) $(JARS) $(CLASS_ARCHIVE)  ## virtual environment, pinned packages, Delta and PostgreSQL JDBC jars, JVM class archive (once)

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

$(JARS): scripts/delta-jars.pom.xml scripts/fetch_jars.sh $(INSTALLED)
	./scripts/fetch_jars.sh

setup-s3: setup $(S3_JARS)  ## hadoop-aws and the AWS SDK modules for lakes on s3a:// (.jars-s3/, 13 MB, once)

$(S3_JARS): scripts/s3-jars.pom.xml scripts/fetch_jars.sh $(INSTALLED) $(JARS)
	./scripts/fetch_jars.sh s3

$(CLASS_ARCHIVE): $(INSTALLED) $(JARS) scripts/class_archive.sh
	./scripts/class_archive.sh

class-archive: $(INSTALLED) $(JARS)  ## rebuild the JVM class archive that shortens every run's start-up (e.g. after a Java upgrade)
	./scripts/class_archive.sh

package:  ## build/pipeline.zip: the pipeline and jobs packages spark-submit ships with --py-files
	./scripts/package.sh
	@echo "built build/pipeline.zip"

run-local: setup  ## bronze, silver, gold and kpis in one Spark application (local mode) on LAKE
	$(call SUBMIT,all)

run-continuous: setup  ## the same, kept running: a cycle whenever files land in LAKE (INTERVAL=1s; Ctrl-C stops)
	$(call SUBMIT,all) --continuous --interval $(INTERVAL)

$(STEPS): setup
	$(call SUBMIT,$@)

report: setup  ## static HTML report of the gold tables: LAKE/reports/index.html
	$(call SUBMIT,report)

full-refresh: setup  ## rebuild silver, gold and the KPIs from bronze (same result as the incremental runs)
	$(call SUBMIT,silver) --full-refresh
	$(call SUBMIT,gold) --full-refresh
	$(call SUBMIT,kpis) --full-refresh

optimize: setup  ## compact small files (Z-order by order_id) and vacuum files older than RETAIN_HOURS
	$(call SUBMIT,optimize) --retain-hours $(RETAIN_HOURS)

publish: setup  ## copy the gold tables to PostgreSQL (settings from PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD)
	$(call SUBMIT,publish)

export-csv: setup  ## gold conversations as one CSV file: LAKE/exports/customer_agent_conversations.csv
	$(call SUBMIT,export_csv)

forget: setup  ## erase customers from every layer, for good: make forget CUSTOMER=ID[,ID...] [REWRITE_LANDING=1] (docs/operations.md#right-to-erasure)
	$(call SUBMIT,forget) --customer "$(CUSTOMER)" $(if $(filter 1,$(REWRITE_LANDING)),--rewrite-landing)

sql: setup  ## Spark's spark-sql shell on LAKE, tables by name; make sql Q="SELECT ..." or F=file.sql runs and exits; HEADER=1 prints column names
	$(call SUBMIT,sql) -S $(if $(filter 1,$(HEADER)),--hiveconf hive.cli.print.header=true) $(if $(Q),-e "$(Q)") $(if $(F),-f "$(F)")

serve: setup  ## JDBC/ODBC (THRIFT_PORT) and Spark Connect (CONNECT_PORT) SQL endpoints on LAKE, in the background, read-only
	./scripts/serve.sh start $(SERVE_PID) --lake "$(LAKE)" --master "$(MASTER)" --thrift-port $(THRIFT_PORT) --connect-port $(CONNECT_PORT) $(SERVE_OPTS)

serve-stop:  ## stop the endpoints of make serve (waits until the ports are free)
	./scripts/serve.sh stop $(SERVE_PID)

beeline: setup  ## beeline on the JDBC endpoint of make serve; Q="SELECT ..." runs one statement
	./scripts/beeline.sh $(THRIFT_PORT) $(if $(Q),-e "$(Q)")

status: setup  ## the last LAST runs (default 10) and every table's Delta version, rows, last update and operation (Delta logs read without a JVM)
	$(call SUBMIT,status) --runs $(LAST)

generate: setup  ## synthetic landing data: make generate ORDERS=N [SEED=s] [FIRST_ORDER=n] [PREFIX=name] [DAYS=29 or 27-29] [LAKE=...]
	$(PY) -m tools.generator --lake "$(LAKE)" --orders $(ORDERS) --seed $(SEED) $(if $(FIRST_ORDER),--first-order $(FIRST_ORDER)) $(if $(PREFIX),--prefix "$(PREFIX)") $(if $(DAYS),--days $(DAYS))

test: setup setup-s3 $(CONNECT_CLIENT)  ## the whole suite in random order (seeds printed; S3 on a local moto server): the e2e tier alongside the others, then the Airflow DAG's tests
	PYTHON=$(PY) scripts/test_suite.sh

# The tiers are pytest markers (pyproject.toml): unit, spark, e2e, system.
test-quick: setup  ## the unit tier: no Spark, a few seconds, for the edit loop
	$(PY) -m pytest -m unit

test-spark: setup  ## the unit and spark tiers: the suite's one in-process SparkSession, no job subprocess
	$(PY) -m pytest -m "unit or spark"

$(CONNECT_CLIENT):
	rm -rf $(CONNECT_CLIENT_VENV)
	python3 -m venv $(CONNECT_CLIENT_VENV)
	$(CONNECT_CLIENT_VENV)/bin/pip install -q --upgrade pip
	$(CONNECT_CLIENT_VENV)/bin/pip install -q pyspark-client==4.2.0
	touch $@

# Airflow lives in its own venv: its pins must never touch the pipeline's.
$(AIRFLOW_INSTALLED): airflow/requirements.lock
	rm -rf $(AIRFLOW_VENV)
	python3 -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install -q --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install -q -r airflow/requirements.lock
	touch $@

airflow-test: setup $(AIRFLOW_INSTALLED)  ## the DAG's tests (installs Airflow into .airflow-venv once)
	$(AIRFLOW_VENV)/bin/pytest airflow/tests

airflow-lock:  ## re-resolve airflow/requirements.lock from airflow/requirements.in
	rm -rf build/airflow-lock-venv && python3 -m venv build/airflow-lock-venv
	build/airflow-lock-venv/bin/pip install -q --upgrade pip
	build/airflow-lock-venv/bin/pip install -q -r airflow/requirements.in
	{ echo "# Generated by 'make airflow-lock' from airflow/requirements.in (pip freeze of a resolved install)."; \
	  build/airflow-lock-venv/bin/pip freeze; } > airflow/requirements.lock
	rm -rf build/airflow-lock-venv

bench: setup $(VENV)/.bench-installed  ## run-local against plain Spark and DuckDB on SIZE (1M) messages, then increments on FRESH_SIZE (2.5M)
	$(PY) bench/run.py --size $(SIZE) --runs $(RUNS)
	$(PY) bench/freshness.py --size $(FRESH_SIZE) $(if $(DROP),--drop $(DROP))

bench-sample: setup $(VENV)/.bench-installed  ## run-local against plain Spark and DuckDB on the bundled sample (fresh lake, RUNS runs)
	$(PY) bench/run.py --sample --runs $(RUNS)

bench-freshness: setup $(VENV)/.bench-installed  ## increments per run and in continuous mode on FRESH_SIZE (2.5M) messages, drops of DROP (1%)
	$(PY) bench/freshness.py --size $(FRESH_SIZE) $(if $(DROP),--drop $(DROP))

bench-history: setup $(VENV)/.bench-installed  ## the same "today" drop (DROP, 24k) per run on lakes of HISTORY_SIZES (1M,20M), gold with and without deletion vectors
	$(PY) bench/history.py --sizes $(HISTORY_SIZES) $(if $(DROP),--drop $(DROP))

bench-counts: setup  ## Spark jobs and Delta commits per step of a pass: first load, no-op, warm drops (ORDERS=2000)
	$(PY) bench/counts.py --orders $(if $(filter 1000,$(ORDERS)),2000,$(ORDERS))

bench-landing: setup $(VENV)/.bench-installed  ## bronze on a 2 GB .jsonl, a 1 GB .jsonl.gz and a 500 MB JSON array: time, driver peak, outcome
	$(PY) bench/landing.py

$(VENV)/.bench-installed: pyproject.toml $(INSTALLED)
	$(VENV)/bin/pip install -q -e ".[bench]"
	touch $@

image:  ## container image IMAGE from the Dockerfile (docker, else podman); BASE_IMAGE=... builds on another base
	$(CONTAINER) build $(if $(filter podman,$(CONTAINER)),--network=host) $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -t $(IMAGE) .

airflow-image:  ## container image AIRFLOW_IMAGE: Airflow (airflow/requirements.lock) and the DAG on IMAGE
	$(CONTAINER) build $(if $(filter podman,$(CONTAINER)),--network=host) --build-arg PIPELINE_IMAGE=$(IMAGE) -f airflow/Dockerfile -t $(AIRFLOW_IMAGE) .

compose-up:  ## build the images, start compose.yaml (settings in .env): Spark master + worker, PostgreSQL, one-shot pipeline, Airflow
	@test -f .env || { echo "compose-up: error: no .env file (cp .env.example .env, then set PGPASSWORD)" >&2; exit 1; }
	$(MAKE) image airflow-image
	$(COMPOSE) up -d

compose-down:  ## stop and remove the stack's containers (the lake and database volumes stay; `down -v` deletes them)
	$(COMPOSE) down

container-base:  ## a local Debian bookworm base image (debootstrap + podman import) for machines without a registry
	./scripts/container_base.sh

clean-lake:  ## delete the tables, checkpoints, report and generated files under datalake/ (keeps the sample)
	rm -rf datalake/bronze datalake/silver datalake/gold datalake/quarantine datalake/_meta datalake/_checkpoints datalake/reports
	find datalake/landing -type f ! -name 'sample-*' -delete
