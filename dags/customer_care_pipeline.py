"""Airflow DAG: the pipeline's jobs, one task each, in order, every 30 minutes."""

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, chain

# Where this repository is checked out on the Airflow workers: the Airflow
# Variable `customer_care_repo`, else $CUSTOMER_CARE_REPO, else this file's repo.
DEFAULT_REPO = os.environ.get("CUSTOMER_CARE_REPO", str(Path(__file__).resolve().parent.parent))


def read_steps(jobs_file: Path) -> list[str]:
    """The pipeline's steps in the order they run, from the repository's one list of jobs."""
    rows = (line.split() for line in jobs_file.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return [row[0] for row in rows if row[1] == "step"]


STEPS = read_steps(Path(DEFAULT_REPO) / "conf" / "jobs.txt")

# The params' defaults, i.e. what scheduled runs use: a deployment may set them
# in the Airflow workers' environment (compose.yaml does); a trigger's conf
# overrides them per run.
DEFAULT_LAKE = os.environ.get("CUSTOMER_CARE_LAKE", "datalake")
DEFAULT_MASTER = os.environ.get("CUSTOMER_CARE_MASTER", "local[*]")
# A cron expression, or "none" for triggered runs only (e.g. where
# `spark-submit.sh all --continuous` keeps gold fresh and the DAG only backfills).
SCHEDULE = os.environ.get("CUSTOMER_CARE_SCHEDULE", "*/30 * * * *")

# Values reach the shell as environment variables, never pasted into the
# command, so a lake or master typed into a manual trigger cannot inject shell.
COMMAND = '"$PIPELINE_REPO/spark-submit.sh" {step} --lake "$LAKE" --master "$MASTER"'
ENV = {
    "PIPELINE_REPO": "{{ var.value.get('customer_care_repo', default_repo) }}",
    "LAKE": "{{ params.lake }}",
    "MASTER": "{{ params.master }}",
}

with DAG(
    dag_id="customer_care_pipeline",
    doc_md="""
Chat events to `gold.customer_agent_conversations`: runs `spark-submit.sh <step>`
of this repository for each step (bronze, silver, gold, kpis), one after the other.
Every job is incremental and idempotent, so a retry or the next run completes
what a failed run left. Params: `lake` (folder or Hadoop URI such as
`s3a://bucket/lake`; relative paths are under the repository) and `master`
(`local[*]`, `spark://host:7077`, `yarn`, `k8s://...`; any non-local master uses
`conf/cluster.toml`). Repository path: Variable `customer_care_repo`.
""",
    schedule=None if SCHEDULE.strip().lower() == "none" else SCHEDULE,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # one writer per lake: the jobs' own locks only cover local lakes
    params={
        "lake": Param(DEFAULT_LAKE, type="string", minLength=1, description="lake root: folder or Hadoop URI"),
        "master": Param(DEFAULT_MASTER, type="string", minLength=1, description="Spark master URL"),
    },
    user_defined_macros={"default_repo": DEFAULT_REPO},
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,  # 1, 2, 4 minutes
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(hours=2),
    },
    tags=["customer-care", "spark", "delta"],
) as dag:
    tasks = [
        BashOperator(task_id=step, bash_command=COMMAND.format(step=step), env=ENV, append_env=True)
        for step in STEPS
    ]
    chain(*tasks)
