"""What every job shares: arguments, config, lake checks, the session, one-line errors."""

import argparse
import os
import sys
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timezone

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from pipeline import PipelineError
from pipeline.audit import RunStats, record_runs
from pipeline.config import Config, load_config, local_path
from pipeline.lock import job_lock
from pipeline.session import create_session

JobBody = Callable[[SparkSession, Config, argparse.Namespace], list[RunStats]]


def job_parser(job: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"spark-submit.sh {job}", description=description)
    parser.add_argument("--lake", help="lake root: a local folder or any Hadoop URI (default: from the config)")
    parser.add_argument(
        "--conf-env", default="local",
        help="settings file conf/<ENV>.toml (default: local; spark-submit.sh passes cluster for non-local masters)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Spark's INFO logs")
    return parser


def check_lake(lake: str) -> None:
    """Fail fast with one line when a local lake is missing or unreadable."""
    path = local_path(lake)
    if path is None:
        return  # checked by Hadoop when the job reads it
    if not os.path.isdir(path):
        raise PipelineError(f"lake folder not found: {path}")
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise PipelineError(f"lake folder not readable and writable: {path}")


def run_job(
    job: str,
    parser: argparse.ArgumentParser,
    body: JobBody | dict[str, JobBody],
    argv: list[str] | None = None,
    writes: bool = True,
) -> int:
    """Parse arguments and run `body` in one session; errors become one line and exit 1.

    `body` may be several named steps (the `all` job): they share the session,
    and each runs under its own job lock and writes its own audit row, exactly
    as when run as separate jobs. Read-only jobs pass writes=False: no lock, no
    audit row."""
    args = parser.parse_args(argv)
    steps = body if isinstance(body, dict) else {job: body}
    step = job
    try:
        config = load_config(args.conf_env, args.lake)
        check_lake(config.lake)
        spark = None
        for step, step_body in steps.items():
            with job_lock(config.lake, step) if writes else nullcontext():
                if spark is None:
                    spark = create_session(f"customer-care-{job}", config)
                    spark.sparkContext.setLogLevel("INFO" if args.verbose else "WARN")
                started_at = datetime.now(timezone.utc)
                stats = step_body(spark, config, args)
                if writes:
                    record_runs(spark, config.meta("pipeline_runs"), uuid.uuid4().hex, step, started_at, stats)
    except PipelineError as err:
        print(f"{step}: error: {err}", file=sys.stderr)
        return 1
    except PySparkException as err:
        if args.verbose:
            raise
        first_line = str(err).strip().splitlines()[0]
        print(f"{step}: error: {first_line} (rerun with --verbose for details)", file=sys.stderr)
        return 1
    return 0
