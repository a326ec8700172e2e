"""The jobs on a real Spark standalone cluster: one master and one worker on 127.0.0.1.

pip's pyspark ships sbin/spark-daemon.sh but not start-master.sh/start-worker.sh,
which only wrap it; the fixture calls spark-daemon.sh the same way.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import zipfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest
from chispa import assert_df_equality

from pipeline.runtime.config import REPO_ROOT
from tools.generator import generate
from tests.support.lakes import JOBS, run_in_session, run_job, submit, table

pytestmark = pytest.mark.e2e

SPARK_HOME = Path(pyspark.__file__).parent
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
# Loopback only, and never through an HTTP proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Cluster:
    url: str
    web_ui: str
    work_dir: Path
    env: dict

    def state(self) -> dict:
        """The master's JSON API: workers, active and completed applications."""
        with HTTP.open(f"{self.web_ui}/json/", timeout=5) as response:
            return json.load(response)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_java(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "java"
    except FileNotFoundError:
        return False


def stop_daemons(pid_dir: Path) -> None:
    """Stop the processes the pid files name (if still java), TERM then KILL."""
    pids = [pid for pid in (int(path.read_text()) for path in pid_dir.glob("*.pid")) if is_java(pid)]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pids and time.monotonic() < deadline:
        time.sleep(0.2)
        pids = [pid for pid in pids if is_java(pid)]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path):
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key != "SPARK_MASTER"}  # would make it rsync
    env.update(
        SPARK_HOME=str(SPARK_HOME),
        SPARK_LOG_DIR=str(tmp_path / "logs"),
        SPARK_PID_DIR=str(tmp_path / "pids"),
        SPARK_WORKER_DIR=str(tmp_path / "work"),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_IDENT_STRING="pytest",
        # C1 only, for every JVM here (daemons, drivers, executors): they live
        # seconds, and full JIT compiling costs a third of the time on 2 cores.
        JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1",
    )
    url = f"spark://127.0.0.1:{port}"
    cluster = Cluster(url, f"http://127.0.0.1:{master_ui}", tmp_path / "work", env)

    def daemon(*args):
        subprocess.run(["bash", str(SPARK_HOME / "sbin" / "spark-daemon.sh"), "start", *args],
                       env=env, check=True, capture_output=True, timeout=60)

    try:
        daemon(MASTER, "1", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(master_ui))
        daemon(WORKER, "1", "--host", "127.0.0.1", "--cores", "2", "--memory", "2g",
               "--webui-port", str(worker_ui), url)
        deadline = time.monotonic() + 60
        while True:
            try:
                if cluster.state()["aliveworkers"] == 1:
                    break
            except OSError:
                pass  # the web UI is not up yet
            assert time.monotonic() < deadline, "the worker did not register:\n" + "".join(
                path.read_text()[-2000:] for path in (tmp_path / "logs").glob("*.out")
            )
            time.sleep(0.5)
        yield cluster
    finally:
        stop_daemons(tmp_path / "pids")


def test_jobs_on_a_standalone_cluster_equal_local_mode(spark, cluster, tmp_path):
    lake, local_lake = tmp_path / "lake", tmp_path / "local"
    generate(str(lake), orders=60, seed=11)
    shutil.copytree(lake / "landing", local_lake / "landing")

    # No PYSPARK_PYTHON: the executors use the node's python3 (they run no Python).
    env = {key: value for key, value in cluster.env.items() if key != "PYSPARK_PYTHON"}
    for job in JOBS:
        # conf/local.toml: cluster.toml's 200 shuffle and 50 Delta snapshot
        # partitions cost ~40 s more on 2 cores for a lake this small.
        run_job(job, lake, "--master", cluster.url, "--conf-env", "local", env=env)
    for job in JOBS:
        run_in_session(job, local_lake)

    gold = table(spark, lake, "gold_conversations")
    assert gold.count() > 50
    assert_df_equality(gold, table(spark, local_lake, "gold_conversations"), ignore_row_order=True)

    # The three applications ran on this master, and their executors on the worker.
    apps = cluster.state()["completedapps"]
    assert sorted((app["name"], app["state"]) for app in apps) == [
        (f"customer-care-{job}", "FINISHED") for job in sorted(JOBS)
    ]
    executor_logs = cluster.work_dir.glob("app-*/*/stderr")  # <work dir>/<app id>/<executor id>/
    assert {path.parent.parent.name for path in executor_logs} == {app["id"] for app in apps}


@pytest.fixture
def printed_submit(tmp_path):
    """Environment for spark-submit.sh with a stand-in spark-submit that prints its arguments."""
    fake = tmp_path / "spark-submit"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    return {**os.environ, "SPARK_SUBMIT": str(fake)}


@pytest.mark.parametrize("master", ["spark://host:7077", "yarn", "k8s://https://host:6443"])
def test_cluster_masters_get_the_package_the_jars_and_the_cluster_settings(printed_submit, master):
    result = submit("gold", "--master", master, "--lake", "s3a://bucket/lake", env=printed_submit)
    assert result.returncode == 0, result.stderr
    args = result.stdout.splitlines()
    assert args[args.index("--master") + 1] == master
    assert args[args.index("--py-files") + 1] == str(REPO_ROOT / "build" / "pipeline.zip")
    assert "/delta-spark_" in args[args.index("--jars") + 1]
    assert args[-5:] == [str(REPO_ROOT / "jobs" / "gold.py"), "--lake", "s3a://bucket/lake", "--conf-env", "cluster"]
    with zipfile.ZipFile(REPO_ROOT / "build" / "pipeline.zip") as package:
        names = set(package.namelist())
    assert {"pipeline/runtime/runner.py", "pipeline/lake/incremental.py", "pipeline/steps/gold.py", "jobs/gold.py"} <= names
    assert not any(name.startswith("tools/") for name in names)  # the generator is no runtime code


def test_an_explicit_conf_env_wins_over_the_cluster_default(printed_submit):
    result = submit("gold", "--master", "yarn", "--conf-env", "local", env=printed_submit)
    assert result.stdout.splitlines()[-2:] == ["--conf-env", "local"]
