"""Helpers for the tests that run the real jobs on a lake folder."""

import importlib
import os
import subprocess
from pathlib import Path

from chispa import assert_df_equality

from pipeline.runtime.config import REPO_ROOT, load_config
from pipeline.transforms.conversations import GOLD_COLUMNS
from tests.support import reference_model

JOBS = ("bronze", "silver", "gold")
GOLD_SCHEMA = (
    "order_id long, city_code string, first_agent_message timestamp, first_customer_message timestamp, "
    "num_messages_agent long, num_messages_customer long, first_message_by string, "
    "conversation_started_at timestamp, first_response_time_delay_seconds long, last_message_time timestamp, "
    "last_message_order_stage string, num_agents int, priority boolean, resolved boolean, conversation_date date"
)


def assert_gold_matches_reference(spark, lake):
    expected_rows = reference_model.build_expected(str(lake))["gold"].values()
    expected = spark.createDataFrame([tuple(row[c] for c in GOLD_COLUMNS) for row in expected_rows], GOLD_SCHEMA)
    assert_df_equality(table(spark, lake, "gold_conversations"), expected, ignore_nullable=True, ignore_row_order=True)


# Jobs run in a zone far from UTC with a part-hour offset: a result that
# depended on the machine's zone would differ from the reference model.
JOB_TIME_ZONE = "Asia/Kathmandu"


# For the short job JVMs on small test lakes, not for real runs:
# - the C1 JIT alone, which starts them faster; C1 alone gets a 48 MB code
#   cache, which an S3 run (the AWS SDK's classes) filled;
# - expressions interpreted, not compiled: a cold `all` on 80 orders 37.3 s
#   against 43.6 s (medians of 3, alternated). The generated code the real runs
#   run is still tested: the in-process tiers' session compiles it (test_backends'
#   local case runs the whole pass there), and so do the container tests.
SMALL_LAKE_JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m "
                           "-Dspark.sql.codegen.factoryMode=NO_CODEGEN -Dspark.sql.codegen.wholeStage=false")


def small_lake_env(env=None):
    """The environment for jobs on small test lakes: a non-UTC zone, and the JVM options above."""
    return {**(env or os.environ), "JAVA_TOOL_OPTIONS": SMALL_LAKE_JAVA_OPTIONS, "TZ": JOB_TIME_ZONE}


def submit(*args, env=None, stdin=None):
    return subprocess.run(
        [str(REPO_ROOT / "spark-submit.sh"), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=small_lake_env(env), input=stdin,
    )


def run_job(job, lake, *options, env=None, stdin=None):
    result = submit(job, "--lake", str(lake), *options, env=env, stdin=stdin)
    assert result.returncode == 0, f"{job} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def run_pipeline(lake):
    """bronze, silver and gold in one application, as `make run-local` runs them."""
    return run_job("all", lake)


def run_in_session(job, lake, *options):
    """Run a job in the test's own SparkSession: the same code as spark-submit.sh
    runs, without a JVM start per job, where a test needs no separate process."""
    module = importlib.import_module(f"jobs.{job}")
    assert module.cli(["--lake", str(lake), *options]) == 0, f"{job} failed"


def table(spark, lake, key):
    return spark.read.format("delta").load(load_config("local", str(lake)).table(key))


def versions(spark, lake):
    """The current version of every table the jobs have made in the lake."""
    config = load_config("local", str(lake))
    return {
        key: spark.sql(f"DESCRIBE HISTORY delta.`{config.table(key)}` LIMIT 1").first()["version"]
        for key in config.tables
        if (Path(config.table(key)) / "_delta_log").is_dir()
    }
