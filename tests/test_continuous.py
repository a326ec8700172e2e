"""The continuous mode (`spark-submit.sh all --continuous`) in real processes,
and steps with nothing to do, which must decide so without a Spark job."""

import os
import queue
import re
import signal
import subprocess
import threading
import time

import pytest
from pyspark.sql import functions as F

from pipeline.runtime.config import REPO_ROOT
from tests.support.lakes import (
    assert_gold_matches_reference, run_in_session, small_lake_env, versions,
)
from tools.generator import generate

pytestmark = pytest.mark.e2e

CYCLE_TIMEOUT = 240  # seconds: a first cycle on a busy 2-core machine


class Continuous:
    """`spark-submit.sh all --continuous` in its own process group, as a
    terminal runs it, with its output lines collected as they come."""

    def __init__(self, lake, *options, env=None):
        self.process = subprocess.Popen(
            [str(REPO_ROOT / "spark-submit.sh"), "all", "--lake", str(lake), "--continuous", "--interval", "1s",
             *options],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=small_lake_env(env), start_new_session=True,
        )
        self.lines, self.new_lines = [], queue.Queue()
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self.collect, args=(stream,), daemon=True).start()

    def collect(self, stream):
        for line in stream:
            self.lines.append(line.rstrip("\n"))
            self.new_lines.put(line)

    def wait_for(self, pattern, timeout=CYCLE_TIMEOUT):
        """The next output line matching `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.new_lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None and self.new_lines.empty():
                    break
                continue
            if re.search(pattern, line):
                return line.rstrip("\n")
        pytest.fail(f"no line matching {pattern!r}; output:\n" + "\n".join(self.lines[-40:]))

    def signal_group(self, sig):
        """What Ctrl-C (SIGINT) does in a terminal: the signal to every process of the group."""
        os.killpg(self.process.pid, sig)

    def finish(self, timeout=CYCLE_TIMEOUT) -> int:
        code = self.process.wait(timeout=timeout)
        time.sleep(0.5)  # the reader threads take the last lines
        return code

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def lake(tmp_path):
    generate(str(tmp_path / "lake"), orders=60, seed=21)
    return tmp_path / "lake"


def drop(lake, seed, below="", folders=("customer_agent_messages", "orders")):
    """Land a generated drop as producers must: each file written elsewhere,
    then renamed into its landing folder (`below`: a subfolder there)."""
    staging = lake.parent / f"staging-{seed}"
    # "later" sorts after "generated": the reference model takes files in name order.
    generate(str(staging), orders=10, seed=seed, prefix="later")
    for file in sorted(f for folder in folders for f in (staging / "landing" / folder).rglob("*.json*")):
        target = lake / "landing" / file.parent.name / below / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        file.rename(target)


@pytest.fixture
def continuous():
    started = []

    def start(lake, *options, env=None):
        started.append(Continuous(lake, *options, env=env))
        return started[-1]

    yield start
    for run in started:
        run.stop()


def test_drops_a_failed_cycle_and_ctrl_c_mid_cycle_end_equal_to_the_reference(spark, lake, continuous):
    run = continuous(lake)
    run.wait_for(r"^all: cycle 1: bronze 8 files")
    drop(lake, 22, below="2024/05/02")
    line = run.wait_for(r"^all: cycle 2: ")
    assert re.search(r"bronze 8 files, \d+ records in [\d.]+ s, silver \d+ rows .*gold \d+ rows .*, lag [\d.]+ s$", line)

    # A cycle fails (bronze takes the messages, then misses the orders folder),
    # is recorded, and the next one, once the folder is back, finishes the work.
    orders = lake / "landing" / "orders"
    orders.rename(lake / "orders-away")
    drop(lake, 23, folders=("customer_agent_messages",))
    line = run.wait_for(r"^all: cycle 3: error: ")
    assert line.startswith("all: cycle 3: error: bronze: landing folder not found: ") and line.endswith("(1 of 5 in a row)")
    (lake / "orders-away").rename(orders)
    run.wait_for(r"^all: cycle 4: bronze 0 files, 0 records .*, silver [1-9]\d* rows")

    drop(lake, 24)
    time.sleep(3)  # the next check (every second) has found the files: cycle 5 runs
    run.signal_group(signal.SIGINT)  # Ctrl-C in a terminal
    assert run.finish() == 0, "\n".join(run.lines)
    assert "all: SIGINT received: stopping after the current cycle" in run.lines, "\n".join(run.lines)
    assert any(line.startswith("all: cycle 5: bronze 8 files") for line in run.lines), "\n".join(run.lines)
    assert "all: stopped after 5 cycles" in run.lines
    failed = spark.read.format("delta").load(f"{lake}/_meta/pipeline_runs").where(F.col("status") == "failed")
    assert [(row.job, "landing folder not found" in row.error) for row in failed.collect()] == [("bronze", True)]
    assert_gold_matches_reference(spark, lake)


def test_a_kill_mid_cycle_then_a_restart_equals_an_uninterrupted_run(spark, lake, continuous):
    crashing = continuous(lake, env={**os.environ, "PIPELINE_CRASH_AT": "gold.before_merge"})
    crashing.wait_for(r"^all: cycle 1: ")  # gold's first run rebuilds: no MERGE, no crash
    drop(lake, 25)
    crashing.wait_for(r"crash point gold.before_merge: killing the driver")
    assert crashing.finish() == -signal.SIGKILL
    restarted = continuous(lake)
    restarted.wait_for(r"^all: cycle 1: bronze 0 files.* gold \d+ rows")  # bronze and silver had finished
    restarted.process.send_signal(signal.SIGTERM)  # `kill PID`, as a supervisor stops a service
    assert restarted.finish() == 0, "\n".join(restarted.lines)
    assert_gold_matches_reference(spark, lake)


def test_the_same_error_max_failures_times_ends_the_application(lake, continuous):
    (lake / "landing" / "orders").rename(lake / "orders-away")
    run = continuous(lake, "--max-failures", "2")
    assert run.finish() == 1
    errors = [line for line in run.lines if ": error: " in line]
    assert len(errors) == 2 and errors[-1].endswith("(2 of 2 in a row)"), "\n".join(run.lines)


def test_a_step_with_nothing_to_do_runs_no_spark_job(spark, drops_lake_to_write):
    lake = drops_lake_to_write  # built: nothing new in it
    before = versions(spark, lake)
    runs_before = spark.read.format("delta").load(f"{lake}/_meta/pipeline_runs").count()
    jobs_before = spark.sparkContext._jsc.sc().dagScheduler().nextJobId()
    run_in_session("all", lake)
    assert spark.sparkContext._jsc.sc().dagScheduler().nextJobId() == jobs_before
    assert versions(spark, lake) == before
    # Idle steps write no audit rows (that would be a Delta write, jobs and all).
    assert spark.read.format("delta").load(f"{lake}/_meta/pipeline_runs").count() == runs_before
