"""What every job shares: arguments, config, lake checks, the session, one-line errors."""

import argparse
import io
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import ExitStack, nullcontext, redirect_stdout, suppress
from dataclasses import dataclass
from datetime import datetime, timezone

from py4j.protocol import Py4JError, Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from pipeline import PipelineError, root_cause
from pipeline.runtime.arguments import ArgumentParser, checking
from pipeline.runtime.audit import QualityError, RunStats, record_runs
from pipeline.lake.files import local_path, path_exists
from pipeline.runtime.config import Config, is_share, load_config
from pipeline.runtime.continuous import run_cycles
from pipeline.runtime.lock import job_lock, store_lock
from pipeline.runtime.session import create_session

JobBody = Callable[[SparkSession, Config, argparse.Namespace], list[RunStats]]


@dataclass(frozen=True)
class Continuous:
    """What a job's --continuous mode needs besides its steps."""
    waiting: Callable[[SparkSession, Config], dict[str, int] | None]  # landed files not taken yet (runtime.continuous)
    summary: Callable[[dict[str, tuple[list[RunStats], float]]], str]  # {step: (stats, seconds)} -> one line


def job_parser(job: str, description: str, full_refresh: str | None = None) -> argparse.ArgumentParser:
    """The options every job takes, and --full-refresh with this help text when given."""
    parser = ArgumentParser(prog=f"spark-submit.sh {job}", description=description)
    parser.add_argument("--lake", help="lake root: a local folder or any Hadoop URI (default: from the config)")
    parser.add_argument(
        "--conf-env", default="local",
        help="settings file conf/<ENV>.toml (default: local; spark-submit.sh passes cluster for non-local masters)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Spark's INFO logs")
    if full_refresh:
        parser.add_argument("--full-refresh", action="store_true", help=full_refresh)
    return parser


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


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


def one_line(err: Exception) -> str:
    """An error as one line: our own message, or the first line of Spark's (or
    Delta's) with its root cause when that says more (No space left on device)."""
    if isinstance(err, PipelineError):
        return str(err)
    if isinstance(err, Py4JJavaError):  # e.g. Delta rejecting a write that breaks a CHECK constraint
        text = str(err.java_exception).strip().splitlines()[0]
    else:
        text = (str(err).strip().splitlines() or [""])[0]
        if not isinstance(err, PySparkException):
            return f"{type(err).__name__}: {text}"
    cause = root_cause(err)
    return text if cause.split(": ", 1)[-1] in text else f"{text} ({cause})"


def log_traceback() -> str:
    """Append the current exception's stack trace to the run's log file (set by
    spark-submit.sh, which sends Spark's own logs there too); where to look."""
    log = os.environ.get("PIPELINE_LOG_FILE")
    if not log:
        return " (rerun with --verbose for details)"
    try:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{datetime.now(timezone.utc).isoformat()} pipeline error\n{traceback.format_exc()}\n")
    except OSError as err:  # e.g. the disk that filled up holds the log too
        return f" (no log written: {err.strerror}; rerun with --verbose for details)"
    return f" (details: {log})"


def run_step(
    spark: SparkSession, config: Config, args: argparse.Namespace, step: str, body: JobBody
) -> list[RunStats]:
    """Run one writing step and append its audit rows, also when it fails (best
    effort: a failure to record never hides the step's own error)."""
    run_id, started_at = uuid.uuid4().hex, datetime.now(timezone.utc)
    audit = config.meta("pipeline_runs")
    try:
        stats = body(spark, config, args)
    except Exception as err:
        try:
            counted = err.stats if isinstance(err, QualityError) else []
            record_runs(spark, audit, run_id, step, started_at, counted, error=one_line(err))
        except Exception as audit_err:
            print(f"{step}: could not record the failed run in {audit}: {one_line(audit_err)}", file=sys.stderr)
        raise
    # A step that found nothing to do decided so from metadata alone; recording
    # it would cost a Delta write (and, in a fresh JVM, seconds of warm-up).
    if not (stats and all(s.idle for s in stats)):
        record_runs(spark, audit, run_id, step, started_at, stats)
    print(f"{step}: succeeded in {(datetime.now(timezone.utc) - started_at).total_seconds():.1f} s")
    return stats


def describe(err: Exception) -> str:
    """An error as the one line run_job prints, its stack trace logged where it helps."""
    if isinstance(err, PipelineError):  # one that wraps a Spark failure (a stream's) logs its trace too
        return f"{err}{log_traceback() if err.__cause__ else ''}"
    return f"{one_line(err)}{log_traceback()}"


def run_continuously(
    spark: SparkSession, config: Config, args: argparse.Namespace, steps: dict[str, JobBody], mode: Continuous
) -> int:
    """The steps in cycles (runtime.continuous), in this one session. Each cycle
    prints one line; the steps' own lines go to the log file."""
    current = ""  # the step running, named in an error line

    def cycle() -> str:
        nonlocal current
        results, output = {}, io.StringIO()
        try:
            with redirect_stdout(output):
                for current, body in steps.items():
                    started = time.monotonic()
                    results[current] = (run_step(spark, config, args, current, body), time.monotonic() - started)
        finally:
            append_log(output.getvalue())
        return mode.summary(results)

    code = run_cycles(cycle, lambda: mode.waiting(spark, config), args.interval, args.max_failures,
                      lambda err: f"{current}: {describe(err)}")
    with suppress(Py4JError, ConnectionError):  # the JVM may be gone already: a SIGTERM to the whole process group
        spark.stop()
    return code


def append_log(text: str) -> None:
    """Add the text to the run's log file, when there is one (spark-submit.sh sets it)."""
    log = os.environ.get("PIPELINE_LOG_FILE")
    if log and text:
        try:
            with open(log, "a", encoding="utf-8") as out:
                out.write(text)
        except OSError:
            pass  # e.g. a full disk: the cycle's own line still reports the outcome


def run_job(
    job: str,
    parser: argparse.ArgumentParser,
    body: JobBody | dict[str, JobBody],
    argv: list[str] | None = None,
    writes: bool = True,
    settings: Callable[[argparse.Namespace], dict[str, str]] | None = None,
    continuous: Continuous | None = None,
) -> int:
    """Parse arguments and run `body` in one session; errors become one line and exit 1.

    `body` may be several named steps (the `all` job): they share the session,
    and each runs under its own job lock (local lakes) and writes its own audit
    rows, exactly as when run as separate jobs. Read-only jobs pass
    writes=False: no lock, no audit row. `settings` adds Spark settings that
    depend on the arguments. With `continuous` and --continuous, the steps run
    in cycles until a signal stops them, their locks held all along."""
    args = parser.parse_args(argv)
    if checking():  # spark-submit.sh's check before Spark starts (runtime.arguments)
        return 0
    steps = body if isinstance(body, dict) else {job: body}
    step, started = job, time.monotonic()

    def start() -> SparkSession:
        session = create_session(f"customer-care-{job}", config, settings(args) if settings else None)
        session.sparkContext.setLogLevel("INFO" if args.verbose else "WARN")
        return session

    try:
        config = load_config(args.conf_env, args.lake)
        check_lake(config.lake, writes)
        spark = None
        if local_path(config.lake) is None:
            # The store's check and write lease go through Hadoop: start Spark first.
            spark = start()
            check_store(spark, config.lake)
        # Local lakes: a lock per step, taken before Spark starts (a refused run
        # ends at once). s3a:// lakes: one lease for the whole run (lock.py).
        with store_lock(spark, config.lake, job, config.lease_seconds) if writes and spark else nullcontext():
            if continuous and args.continuous:
                with ExitStack() as locks:
                    for step in steps:
                        locks.enter_context(job_lock(config.lake, step))
                    step = job
                    return run_continuously(spark or start(), config, args, steps, continuous)
            for step, step_body in steps.items():
                with job_lock(config.lake, step) if writes else nullcontext():
                    spark = spark or start()
                    if writes:
                        run_step(spark, config, args, step, step_body)
                    else:
                        step_body(spark, config, args)
    except Exception as err:  # one line here, the stack trace in the log
        if args.verbose and not isinstance(err, PipelineError):
            raise
        print(f"{step}: error: {describe(err)}", file=sys.stderr)
        return 1
    if writes and len(steps) > 1:
        print(f"{job}: succeeded in {time.monotonic() - started:.1f} s")
    return 0


def share(text: str) -> float:
    """argparse type of --max-quarantined-share: a number from 0 to 1."""
    value = float(text)  # a ValueError makes argparse report an invalid share value
    if not is_share(value):
        raise ValueError(text)
    return value


def add_share_option(parser) -> None:
    parser.add_argument(
        "--max-quarantined-share", type=share, metavar="SHARE",
        help="stop silver before writing when more than this share of a batch would be quarantined; fail bronze "
        "(after ingesting the good files) when more than this share of 20 or more new files was set aside "
        "(default: from the config)",
    )
