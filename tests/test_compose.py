"""compose.yaml with podman-compose: the one-shot pipeline service runs the jobs
on the stack's Spark standalone master and publishes gold to its PostgreSQL;
a DAG run triggered in the stack's Airflow runs the steps on the same master.

Public registries are out of reach here, so the stack runs the image built from
the Dockerfile (PIPELINE_IMAGE) and a stand-in for the official postgres image
built from tests/containers/postgres (POSTGRES_IMAGE), both on the local base,
and Airflow's image from airflow/Dockerfile on the first (AIRFLOW_IMAGE).
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest

from pipeline.runtime.config import REPO_ROOT
from tests.support import containers, reference_model
from tests.support.containers import podman
from tests.support.ports import free_port

COMPOSE = Path(sys.executable).parent / "podman-compose"
pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(containers.PODMAN is None, reason=containers.SKIP_REASON),
    pytest.mark.skipif(not COMPOSE.exists(), reason="podman-compose is not installed (pip install -e '.[test]')"),
]
POSTGRES_IMAGE = "localhost/pipeline-postgres:test"
AIRFLOW_IMAGE = "localhost/customer-care-airflow:test"
DAG = "customer_care_pipeline"
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy


def compose(project, env, *args, timeout=600):
    # --env-file /dev/null: a developer's .env (their stack's settings) stays out of the tests.
    return subprocess.run([str(COMPOSE), "--env-file", "/dev/null", "-p", project, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def project_objects(project):
    """The containers and volumes of the compose project still there."""
    label = f"label=io.podman.compose.project={project}"
    names = podman("ps", "-a", "--filter", label, "--format", "{{.Names}}").stdout.split()
    volumes = podman("volume", "ls", "--filter", label, "--format", "{{.Name}}").stdout.split()
    return names + volumes


@pytest.fixture(scope="module")
def stack(container_image, tmp_path_factory):
    """The stack brought up on the bundled sample; the pipeline service's exit
    code and logs once it has finished; `down -v` afterwards."""
    podman("build", "--network=host", "--build-arg", f"BASE_IMAGE={containers.BASE_IMAGE}", "-t", POSTGRES_IMAGE,
           str(REPO_ROOT / "tests" / "containers" / "postgres"))
    podman("build", "--network=host", "--build-arg", f"PIPELINE_IMAGE={container_image}", "-f",
           str(REPO_ROOT / "airflow" / "Dockerfile"), "-t", AIRFLOW_IMAGE, str(REPO_ROOT), timeout=1200)
    landing = tmp_path_factory.mktemp("compose") / "landing"
    shutil.copytree(REPO_ROOT / "datalake" / "landing", landing)
    project = f"cc-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "PIPELINE_IMAGE": container_image, "POSTGRES_IMAGE": POSTGRES_IMAGE, "AIRFLOW_IMAGE": AIRFLOW_IMAGE,
        "PGDATABASE": "customer_care", "PGUSER": "pipeline", "PGPASSWORD": uuid.uuid4().hex,
        "LANDING": str(landing), "CONF_ENV": "local",  # few partitions: a small lake on 2 cores
        "CUSTOMER_CARE_SCHEDULE": "none",  # only the test's triggered run, not also a scheduled one
        "SPARK_UI_PORT": str(free_port()), "PG_PORT_ON_HOST": str(free_port()), "AIRFLOW_PORT": str(free_port()),
    }
    up = compose(project, env, "up", "-d")
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        pipeline = f"{project}_pipeline_1"
        exit_code = int(podman("wait", pipeline, timeout=900).stdout.strip())
        logs = podman("logs", pipeline)
        logs = logs.stdout + logs.stderr
        yield project, env, landing, exit_code, logs
    finally:
        down = compose(project, env, "down", "-v")
        assert down.returncode == 0, down.stderr[-3000:]
        assert project_objects(project) == []


def test_the_pipeline_service_succeeds(stack):
    *_, exit_code, logs = stack
    assert exit_code == 0, logs[-3000:]
    assert "all: succeeded" in logs and "publish: succeeded" in logs


def test_executors_of_the_standalone_worker_ran_the_tasks(stack):
    project, *_ = stack
    lake = Path(podman("volume", "inspect", f"{project}_lake", "--format", "{{.Mountpoint}}").stdout.strip())
    logs = sorted((lake / "_meta" / "spark-events").glob("*/events_*"))
    assert len(logs) == 2  # the two applications: all, publish
    for log in logs:
        ran = Counter(event["Task Info"]["Executor ID"] for event in map(json.loads, log.open())
                      if event["Event"] == "SparkListenerTaskEnd")
        assert sum(ran.values()) > 0 and "driver" not in ran, (log, ran)


def test_postgres_holds_the_gold_rows(stack):
    project, env, landing, *_ = stack
    lake = landing.parent  # the reference model reads <lake>/landing
    expected = len(reference_model.build_expected(str(lake))["gold"])
    count = podman("exec", f"{project}_postgres_1", "psql", "-U", env["PGUSER"], "-d", env["PGDATABASE"], "-tAc",
                   "SELECT count(*) FROM customer_agent_conversations").stdout.strip()
    assert int(count) == expected > 0


def get_json(url):
    with HTTP.open(url, timeout=10) as response:
        return json.load(response)


def wait_for(what, check, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass  # not answering yet
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(3)


def airflow(project, *args):
    return podman("exec", f"{project}_airflow_1", "airflow", *args, timeout=120)


def test_a_dag_run_triggered_in_airflow_runs_the_steps_on_the_master(stack, tmp_path):
    project, env, *_ = stack
    web = f"http://127.0.0.1:{env['AIRFLOW_PORT']}"
    wait_for("Airflow's health", lambda: get_json(f"{web}/api/v2/monitor/health")["scheduler"]["status"] == "healthy",
             180)
    wait_for("the DAG to be parsed", lambda: DAG in airflow(project, "dags", "list", "-o", "plain").stdout, 180)
    # The DAG is paused at creation, and a paused DAG's triggered runs stay
    # queued: unpause (with no schedule in this stack: no run of its own), then trigger.
    airflow(project, "dags", "unpause", DAG)
    airflow(project, "dags", "trigger", DAG, "--run-id", "compose-test",
            "--conf", json.dumps({"lake": "/lake", "master": "spark://spark-master:7077"}))

    def finished():
        output = airflow(project, "dags", "list-runs", DAG, "-o", "json").stdout
        runs = json.loads(output.strip().splitlines()[-1])  # the last line: Airflow may print warnings first
        state = {run["run_id"]: run["state"] for run in runs}["compose-test"]
        return state if state in ("success", "failed") else None

    assert wait_for("the DAG run", finished, 900) == "success"
    # The four steps ran as applications of the stack's master (executors on its worker).
    apps = get_json(f"http://127.0.0.1:{env['SPARK_UI_PORT']}/json/")["completedapps"]
    for step in ("bronze", "silver", "gold", "kpis"):
        assert any(app["name"] == f"customer-care-{step}" and app["state"] == "FINISHED" for app in apps), step

    # The web UI shows the DAG and its run, in headless Chromium.
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: apt-get install -y chromium (.ci/run installs it)"
    page = f"{web}/dags/{DAG}/runs/compose-test"
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--window-size=1400,900"]
    dom = subprocess.run([*common, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
    assert DAG in dom and "compose-test" in dom
    png = tmp_path / "airflow-dag-run.png"
    subprocess.run([*common, f"--screenshot={png}", page], capture_output=True, timeout=120, check=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000
    print(f"screenshot: {png}")


def test_a_missing_credential_stops_compose_with_a_clear_line(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(PGDATABASE="customer_care", PGUSER="pipeline", PIPELINE_IMAGE="unused")
    result = compose("cc-test-no-password", env, "config")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].endswith(
        "required variable PGPASSWORD is missing a value: set PGPASSWORD in .env (see .env.example)")
