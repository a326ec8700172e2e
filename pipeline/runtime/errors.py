"""Errors as the one line a job prints, their stack traces in the run's log file."""

import logging
import os
import re
import traceback
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException

from pipeline import PipelineError, root_cause


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


def describe(err: Exception) -> str:
    """An error as the one line a job prints, its stack trace logged where it helps."""
    if isinstance(err, PipelineError):  # one that wraps a Spark failure (a stream's) logs its trace too
        return f"{err}{log_traceback() if err.__cause__ else ''}"
    return f"{one_line(err)}{log_traceback()}"


def append_log(text: str) -> None:
    """Add the text to the run's log file, when there is one (spark-submit.sh sets it)."""
    log = os.environ.get("PIPELINE_LOG_FILE")
    if log and text:
        try:
            with open(log, "a", encoding="utf-8") as out:
                out.write(text)
        except OSError:
            pass  # e.g. a full disk: the cycle's own line still reports the outcome


def python_logs_to_the_log_file() -> None:
    """Python's own log records go to the run's log file, not the terminal: py4j
    logs a traceback for a connection cut by Ctrl-C, through the root logger,
    which would otherwise print to stderr. A process that set up logging keeps it.
    A log file that cannot be written (a full disk) is skipped, not reported with
    a traceback on the terminal."""
    root = logging.getLogger()
    if not root.handlers:
        logging.raiseExceptions = False
        log = os.environ.get("PIPELINE_LOG_FILE")
        root.addHandler(logging.FileHandler(log, delay=True) if log else logging.NullHandler())


SPARK_ERROR = re.compile(r"^(\[[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)*\]|Error in query:)")  # [TABLE_OR_VIEW_NOT_FOUND] ...


def condensed_sql_errors(lines: Iterable[str], details: str = "") -> Iterator[str]:
    """spark-sql's stderr as the terminal shows it: each Spark error message
    (from its error class to its SQLSTATE) as one `sql: error:` line ending in
    `details`, without the query plan or SQL excerpt that follows it; other
    lines as they are. A message without a SQLSTATE is passed on whole."""
    message: list[str] = []
    after_error = False
    for line in lines:
        if SPARK_ERROR.match(line):
            yield from message
            message, after_error = [line], False
        elif message:
            message.append(line)
        elif not after_error:
            yield line
        if message and "SQLSTATE" in line:
            text = " ".join(part.strip() for part in message if part.strip()).rstrip(";")
            yield f"sql: error: {text}{details}\n"
            message, after_error = [], True
    yield from message
