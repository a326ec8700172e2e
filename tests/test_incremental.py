"""Incremental runs equal a full refresh, and killed runs lose and duplicate nothing."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from pipeline.runtime.config import REPO_ROOT, load_config
from tools.generator import generate
from tests.support.lakes import (
    JOBS, assert_gold_matches_reference, run_in_session, small_lake_env, submit, table,
    versions,
)

pytestmark = pytest.mark.e2e

# Lineage times differ between lakes built at different moments.
RUN_TIMES = ("ingested_at", "quarantined_at")
SNAPSHOT_TABLES = (
    "bronze_messages", "bronze_orders", "silver_messages", "silver_orders",
    "quarantine_messages", "quarantine_orders", "gold_conversations", "gold_daily_kpis",
)


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """A generated data set split into three landing drops, in file-name order:
    later drops hold late arrivals, repeated duplicates and city changes."""
    staging = tmp_path_factory.mktemp("staging")
    generate(str(staging), orders=60, seed=5)
    messages = sorted((staging / "landing" / "customer_agent_messages").iterdir())
    orders = sorted((staging / "landing" / "orders").iterdir())
    assert len(messages) >= 6 and len(orders) == 2
    return [messages[:2] + orders[:1], messages[2:4], messages[4:] + orders[1:]]


def land(lake: Path, files):
    for file in files:
        target = lake / "landing" / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)


def snapshot(spark, lake):
    result = {}
    for key in SNAPSHOT_TABLES:
        df = table(spark, lake, key)
        df = df.drop(*[c for c in RUN_TIMES if c in df.columns])
        if "source_file" in df.columns:  # the lake folders differ; the landing paths do not
            df = df.withColumn("source_file", F.substring_index("source_file", "/landing/", -1))
        result[key] = sorted((tuple(row) for row in df.collect()), key=repr)
    taken = spark.read.format("delta").load(f"{lake}/_meta/landed_files")  # each file taken once, in its batch
    taken = taken.select("dataset", F.substring_index("path", "/landing/", -1), "size", "ingest_batch")
    result["landed_files"] = sorted(tuple(row) for row in taken.collect())
    return result


@pytest.fixture(scope="module")
def uninterrupted(spark, tmp_path_factory, batches):
    lake = tmp_path_factory.mktemp("uninterrupted")
    for files in batches:
        land(lake, files)
        for job in (*JOBS, "kpis"):
            run_in_session(job, lake)
    return lake, snapshot(spark, lake)


def test_incremental_runs_equal_the_reference_and_a_full_refresh(spark, uninterrupted):
    lake, incremental = uninterrupted
    assert_gold_matches_reference(spark, lake)
    history = spark.sql(f"DESCRIBE HISTORY delta.`{lake}/gold/customer_agent_conversations`")
    merges = [row[0] for row in history.where("operation = 'MERGE'").select("operationMetrics").collect()]
    assert len(merges) == 2  # drops 2 and 3 merged, not rebuilt
    updating = [merge for merge in merges if int(merge["numTargetRowsUpdated"])]
    # No deletion vectors by default (every Delta reader opens gold): replaced rows' files are rewritten.
    assert updating and all(int(merge["numTargetDeletionVectorsAdded"]) == 0 for merge in updating)

    run_in_session("silver", lake, "--full-refresh")
    run_in_session("gold", lake, "--full-refresh")
    run_in_session("kpis", lake, "--full-refresh")
    assert snapshot(spark, lake) == incremental


def test_the_all_pass_writes_the_same_tables_as_the_four_jobs(spark, tmp_path, batches, uninterrupted):
    """`all` hands silver's orders to gold within its pass; the jobs run one by
    one find them in silver's change feed. The same drops give the same tables."""
    lake = tmp_path / "all"
    for files in batches:
        land(lake, files)
        run_in_session("all", lake)
    assert snapshot(spark, lake) == uninterrupted[1]


def test_rerun_with_nothing_new_is_fast_and_writes_nothing(spark, uninterrupted, capsys):
    lake, _ = uninterrupted
    before = versions(spark, lake)
    capsys.readouterr()
    run_in_session("all", lake)
    assert versions(spark, lake) == before
    assert capsys.readouterr().out.count("nothing") == 6  # two bronze landings, two silver datasets, gold, kpis


def crash(job, lake, point):
    """Run `job` and prove that its driver was killed at `point`, not before or by anything else."""
    result = submit(job, "--lake", str(lake), env={**os.environ, "PIPELINE_CRASH_AT": point})
    # Local jobs start Python first: the driver is the process, killed by SIGKILL.
    assert result.returncode == -signal.SIGKILL, f"{job} did not stop at {point}:\n{result.stderr[-2000:]}"
    assert f"crash point {point}: killing the driver" in result.stdout + result.stderr


def kill_when_committed(job, lake, table_key):
    """Start a job and kill -9 its whole process tree once it has committed to `table_key`."""
    log = Path(load_config("local", str(lake)).table(table_key)) / "_delta_log"
    commits = len(list(log.glob("*.json")))
    process = subprocess.Popen(
        [str(REPO_ROOT / "spark-submit.sh"), job, "--lake", str(lake)],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=small_lake_env(),
    )
    deadline = time.monotonic() + 300
    while len(list(log.glob("*.json"))) == commits and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    committed = len(list(log.glob("*.json"))) > commits
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, f"{job} ended before it could be killed"
    assert committed, f"{job} made no commit to {table_key} within 300 s"


def test_killed_runs_lose_and_duplicate_nothing(spark, tmp_path, batches, uninterrupted):
    _, expected = uninterrupted
    lake = tmp_path

    land(lake, batches[0])
    crash("bronze", lake, "bronze.customer_agent_messages.after_write")  # written, not checkpointed
    run_in_session("bronze", lake)
    crash("silver", lake, "silver.customer_agent_messages.after_quarantine")
    run_in_session("silver", lake)
    run_in_session("gold", lake)

    land(lake, batches[1])
    crash("bronze", lake, "bronze.before_landed_files")  # both streams done, their files not yet recorded
    assert len(list((lake / "_meta" / "pending" / "landed_files").iterdir())) == 1  # this drop: messages only
    run_in_session("bronze", lake)
    # A real kill -9 mid-job, once quarantine has committed (the generated batch has bad records).
    kill_when_committed("silver", lake, "quarantine_messages")
    run_in_session("silver", lake)
    crash("gold", lake, "gold.before_merge")
    crash("gold", lake, "gold.after_merge")
    run_in_session("gold", lake)

    land(lake, batches[2])
    kill_when_committed("bronze", lake, "bronze_messages")
    run_in_session("bronze", lake)
    crash("silver", lake, "silver.orders.after_write")
    run_in_session("all", lake)

    assert snapshot(spark, lake) == expected
