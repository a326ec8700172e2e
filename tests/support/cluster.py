"""A real Spark standalone cluster for the jobs: one master and one worker on 127.0.0.1.

pip's pyspark ships sbin/spark-daemon.sh but not start-master.sh/start-worker.sh,
which only wrap it; `standalone_cluster` calls spark-daemon.sh the same way.
"""

import json
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pyspark
from tests.support.ports import free_port

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

    def submit_env(self) -> dict:
        """The jobs' environment. No PYSPARK_PYTHON: the executors use the node's
        python3 (they run no Python)."""
        return {key: value for key, value in self.env.items() if key != "PYSPARK_PYTHON"}

    def executor_apps(self) -> set[str]:
        """The ids of the applications whose executors ran on the worker."""
        return {path.parent.parent.name for path in self.work_dir.glob("app-*/*/stderr")}  # <app id>/<executor id>/


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


@contextmanager
def standalone_cluster(folder: Path):
    """A master and a worker (2 cores, 2 GiB) whose logs, pids and work live in `folder`."""
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key != "SPARK_MASTER"}  # would make it rsync
    env.update(
        SPARK_HOME=str(SPARK_HOME),
        SPARK_LOG_DIR=str(folder / "logs"),
        SPARK_PID_DIR=str(folder / "pids"),
        SPARK_WORKER_DIR=str(folder / "work"),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_IDENT_STRING="pytest",
        # C1 only, for every JVM here (daemons, drivers, executors): they live
        # seconds, and full JIT compiling costs a third of the time on 2 cores.
        JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1",
    )
    url = f"spark://127.0.0.1:{port}"
    cluster = Cluster(url, f"http://127.0.0.1:{master_ui}", folder / "work", env)

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
                path.read_text()[-2000:] for path in (folder / "logs").glob("*.out")
            )
            time.sleep(0.5)
        yield cluster
    finally:
        stop_daemons(folder / "pids")
