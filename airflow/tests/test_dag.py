"""The customer_care_pipeline DAG: its definition, and one whole run on a scratch lake."""

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import AIRFLOW, REPO

pytestmark = pytest.mark.system  # Airflow, in its own venv (make airflow-test)

DAG_ID = "customer_care_pipeline"
PIPELINE_PYTHON = REPO / ".venv" / "bin" / "python"
# Read with the pipeline's own venv: Airflow's has no Spark.
GOLD_CHECK = """
import json, sys
from pipeline.runtime.config import load_config
from pipeline.runtime.session import create_session, local_delta_jars
config = load_config("local", sys.argv[1])
spark = create_session("airflow-test-check", config, {
    "spark.master": "local[2]", "spark.jars": local_delta_jars(), "spark.ui.enabled": "false"})
gold = spark.read.format("delta").load(config.table("gold_conversations"))
silver = spark.read.format("delta").load(config.table("silver_messages"))
print(json.dumps([gold.count(), gold.select("order_id").distinct().count(),
                  silver.select("order_id").distinct().count()]))
"""


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    assert bag.dag_ids == [DAG_ID]
    return bag.dags[DAG_ID]


def steps(dag) -> list[str]:
    """The task ids along the DAG, which must be one straight chain."""
    (task,) = dag.roots
    order = [task.task_id]
    while task.downstream_list:
        (task,) = task.downstream_list
        order.append(task.task_id)
    assert len(order) == len(dag.tasks)
    return order


def test_tasks_run_the_steps_in_order(dag):
    assert steps(dag) == ["bronze", "silver", "gold", "kpis"]
    for task in dag.tasks:
        assert task.bash_command == f'"$PIPELINE_REPO/spark-submit.sh" {task.task_id} --lake "$LAKE" --master "$MASTER"'
        assert task.env["LAKE"] == "{{ params.lake }}" and task.append_env


def test_schedule_retries_and_params(dag):
    assert dag.schedule == "*/30 * * * *"
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert dict(dag.params) == {"lake": "datalake", "master": "local[*]"}
    assert "customer_care_repo" in dag.doc_md
    for task in dag.tasks:
        assert (task.retries, task.retry_delay, task.retry_exponential_backoff) == (3, timedelta(minutes=1), 2.0)
        assert task.max_retry_delay == timedelta(minutes=15)


def test_a_dag_run_builds_gold_on_a_scratch_lake(airflow_db, dag, tmp_path):
    lake = tmp_path / "lake"
    subprocess.run([PIPELINE_PYTHON, "-m", "tools.generator", "--lake", lake, "--orders", "40", "--seed", "5"],
                   cwd=REPO, check=True, capture_output=True)

    run = subprocess.run([AIRFLOW, "dags", "test", DAG_ID, "--conf", json.dumps({"lake": str(lake)})],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with sqlite3.connect(airflow_db) as db:
        states = dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (DAG_ID,)))
    assert states == {step: "success" for step in steps(dag)}, run.stdout[-3000:]

    check = subprocess.run([PIPELINE_PYTHON, "-c", GOLD_CHECK, lake], cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-3000:]
    gold_rows, gold_orders, silver_orders = json.loads(check.stdout.splitlines()[-1])
    assert gold_rows == gold_orders == silver_orders > 30  # one row per order with a valid message


def test_a_deployment_sets_the_params_defaults_in_its_environment():
    # A fresh interpreter: the DAG file reads the environment when it is parsed.
    code = "import runpy; print(sorted(dict(runpy.run_path('dags/customer_care_pipeline.py')['dag'].params).items()))"
    env = {**os.environ, "CUSTOMER_CARE_LAKE": "/lake", "CUSTOMER_CARE_MASTER": "spark://spark-master:7077"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[('lake', '/lake'), ('master', 'spark://spark-master:7077')]"


def test_a_deployment_may_turn_the_schedule_off():
    code = "import runpy; print(repr(runpy.run_path('dags/customer_care_pipeline.py')['dag'].schedule))"
    env = {**os.environ, "CUSTOMER_CARE_SCHEDULE": "none"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "None"
