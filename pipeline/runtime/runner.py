"""How a job runs: its arguments parsed, the config loaded, the lake checked, the
locks taken, one Spark session, its steps run with their audit rows, and any
error as one line and exit code 1."""

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from datetime import datetime, timezone

from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

from pipeline import PipelineError, root_cause
from pipeline.lake.files import local_path, path_exists
from pipeline.runtime.audit import QualityError, RunStats, audit_records, record_runs
from pipeline.runtime.check_args import checking
from pipeline.runtime.config import Config, load_config
from pipeline.runtime.errors import describe, one_line, python_logs_to_the_log_file
from pipeline.runtime.interrupts import end_children, plain_interrupts
from pipeline.runtime.lock import job_lock, store_lock
from pipeline.runtime.session import create_session
from pipeline.steps.handoff import Handoff

JobBody = Callable[[SparkSession, Config, argparse.Namespace], list[RunStats]]
# The continuous mode of a job: (spark, config, args, steps) -> exit code.
ContinuousMode = Callable[[SparkSession, Config, argparse.Namespace, dict[str, JobBody]], int]


def check_lake(lake: str, writes: bool = True) -> None:
    """Fail fast with one line when a local lake is missing, unreadable or (for
    jobs that write) not writable."""
    path = local_path(lake)
    if path is None:
        return  # checked by Hadoop when the job reads it
    if not os.path.isdir(path):
        raise PipelineError(f"lake folder not found: {path}")
    if not os.access(path, os.R_OK | os.X_OK | (os.W_OK if writes else 0)):
        raise PipelineError(f"lake folder not {'readable and writable' if writes else 'readable'}: {path}")


def check_store(spark: SparkSession, lake: str) -> None:
    """Fail with one line, before anything is written, when the store of a
    non-local lake cannot be reached (wrong endpoint, no or bad credentials)."""
    try:
        path_exists(spark, lake)
    except Py4JJavaError as err:
        cause = root_cause(err)
        if "credentials" in cause.lower():
            raise PipelineError(
                f"no credentials for {lake}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, "
                f"or use an instance role) ({cause})"
            ) from err
        raise PipelineError(f"cannot reach the lake {lake}: {cause}") from err


def run_step(
    spark: SparkSession, config: Config, args: argparse.Namespace, step: str, body: JobBody,
    audit: list[dict] | None = None,
) -> list[RunStats]:
    """Run one writing step and record its audit rows, also when it fails (best
    effort: a failure to record never hides the step's own error). With `audit`,
    a pass collects the rows of a step that succeeded there and records them with
    its others in one commit; a failure records them all at once."""
    run_id, started_at = uuid.uuid4().hex, datetime.now(timezone.utc)
    path = config.meta("pipeline_runs")
    try:
        stats = body(spark, config, args)
    except Exception as err:
        try:
            counted = err.stats if isinstance(err, QualityError) else []
            record_runs(spark, path, (audit or []) + audit_records(run_id, step, started_at, counted, one_line(err)))
            if audit:
                audit.clear()
        except Exception as audit_err:
            print(f"{step}: could not record the failed run in {path}: {one_line(audit_err)}", file=sys.stderr)
        raise
    # A step that found nothing to do decided so from metadata alone; recording
    # it would cost a Delta write (and, in a fresh JVM, seconds of warm-up).
    if not (stats and all(s.idle for s in stats)):
        records = audit_records(run_id, step, started_at, stats)
        if audit is None:
            record_runs(spark, path, records)
        else:
            audit.extend(records)
    print(f"{step}: succeeded in {(datetime.now(timezone.utc) - started_at).total_seconds():.1f} s")
    return stats


def run_pass(
    spark: SparkSession, config: Config, args: argparse.Namespace, steps: dict[str, JobBody],
    on_step: Callable[[str], None] = lambda step: None,
) -> dict[str, tuple[list[RunStats], float]]:
    """The steps one after the other, their audit rows recorded in one commit at
    the end ({step: (stats, seconds)}); `on_step` hears which step starts. The
    steps hand what they wrote to the next ones (pipeline.steps.handoff)."""
    audit, results, handoff = [], {}, Handoff()
    args = argparse.Namespace(**vars(args), handoff=handoff)
    try:
        for step, body in steps.items():
            on_step(step)
            started = time.monotonic()
            results[step] = (run_step(spark, config, args, step, body, audit), time.monotonic() - started)
    finally:
        handoff.release()
    record_runs(spark, config.meta("pipeline_runs"), audit)
    return results


def run_job(
    job: str,
    parser: argparse.ArgumentParser,
    body: JobBody | dict[str, JobBody],
    argv: list[str] | None = None,
    writes: bool = True,
    settings: Callable[[argparse.Namespace], dict[str, str]] | None = None,
    continuous: ContinuousMode | None = None,
    says_done: bool = True,
    other_locks: tuple[str, ...] = (),
    refuse: Callable[[Config, argparse.Namespace], None] | None = None,
) -> int:
    """Parse arguments and run `body` in one session; errors become one line and exit 1.

    `body` may be several named steps (the `all` job): they share the session,
    each runs under its own job lock (local lakes) and they record their audit
    rows together at the end, one row per step and dataset as when run as
    separate jobs. Read-only jobs pass writes=False: no lock, no audit row.
    `settings` adds Spark settings that depend on the arguments. A job ends
    with `<job>: succeeded in X s` unless `says_done` is off (status, whose
    answer is its output, and serve). `other_locks` names other jobs whose locks the
    run holds too (forget, which writes every step's tables). `refuse` raises
    a PipelineError for arguments this lake cannot take, before Spark starts. With
    `continuous` and --continuous, it runs the steps until a signal stops it,
    their locks held all along."""
    args = parser.parse_args(argv)
    if checking():  # spark-submit.sh's check before Spark starts (runtime.check_args)
        return 0
    steps = body if isinstance(body, dict) else {job: body}
    step, started = job, time.monotonic()

    def start() -> SparkSession:
        session = create_session(f"customer-care-{job}", config, settings(args) if settings else None)
        plain_interrupts()  # pyspark put its own handler in place
        session.sparkContext.setLogLevel("INFO" if args.verbose else "WARN")
        return session

    def entering(name: str) -> None:
        nonlocal step
        step = name

    python_logs_to_the_log_file()
    plain_interrupts()  # from here Ctrl-C is a KeyboardInterrupt, answered below
    try:
        config = load_config(args.conf_env, args.lake)
        if refuse:
            refuse(config, args)
        check_lake(config.lake, writes)
        spark = None
        if local_path(config.lake) is None:
            # The store's check and write lease go through Hadoop: start Spark first.
            spark = start()
            check_store(spark, config.lake)
        # Local lakes: a lock per step, taken before Spark starts (a refused run
        # ends at once). s3a:// lakes: one lease for the whole run (lock.py).
        with store_lock(spark, config.lake, job, config.lease_seconds) if writes and spark else nullcontext():
            with ExitStack() as locks:
                for step in dict.fromkeys((*steps, *other_locks)) if writes else ():
                    locks.enter_context(job_lock(config.lake, step))
                step = job
                spark = spark or start()
                if continuous and getattr(args, "continuous", False):
                    return continuous(spark, config, args, steps)
                if not writes:
                    body(spark, config, args)
                elif len(steps) == 1:
                    run_step(spark, config, args, job, steps[job])
                else:
                    run_pass(spark, config, args, steps, entering)
    except KeyboardInterrupt:
        where = f" during {step}" if step != job else ""
        print(f"{job}: interrupted{where}: every table keeps its last commit; run it again to go on",
              file=sys.stderr, flush=True)
        end_children()
        return 0 if getattr(args, "continuous", False) else 130  # a continuous run is stopped this way
    except Exception as err:  # one line here, the stack trace in the log
        if args.verbose and not isinstance(err, PipelineError):
            raise
        print(f"{step}: error: {describe(err)}", file=sys.stderr)
        return 1
    if len(steps) > 1 or (not writes and says_done):  # a single writing step said so in run_step
        print(f"{job}: succeeded in {time.monotonic() - started:.1f} s")
    return 0
