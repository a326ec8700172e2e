"""The spark-sql shell of `sql` on the lake: the init file that names the
lake's tables, and -e/-f statements run in a child whose errors reach the
terminal as one line each."""

import hashlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile

from pipeline.lake import catalog
from pipeline.lake.files import local_path
from pipeline.runtime.config import Config
from pipeline.runtime.errors import append_log, condensed_sql_errors
from pipeline.runtime.session import create_session

SQL_SHELL = "org.apache.spark.sql.hive.thriftserver.SparkSQLCLIDriver"


def existing_tables(config: Config, submit: list[str]) -> dict[str, str]:
    """The lake's tables that exist now. Remote lakes are asked through a short
    Spark session (Hadoop's file systems live in the JVM)."""
    tables = config.named_tables()
    spark = None
    if local_path(config.lake) is None:
        os.environ["PYSPARK_SUBMIT_ARGS"] = shlex.join(submit[1:] + ["pyspark-shell"])
        spark = create_session("customer-care-sql-catalog", config)
    try:
        return {name: path for name, path in tables.items() if catalog.is_delta_table(spark, path)}
    finally:
        if spark is not None:
            spark.stop()


def write_init_file(config: Config, tables: dict[str, str], folder: str) -> str:
    """The statements spark-sql runs first (-i): a database per layer, a name per
    table. One file per lake, replaced whole, so sessions leave none behind."""
    statements = [catalog.database(name) for name in dict.fromkeys(n.split(".")[0] for n in tables)]
    statements += [catalog.registration(name, path) for name, path in tables.items()]
    path = os.path.join(folder, f"init-{hashlib.sha1(config.lake.encode()).hexdigest()[:12]}.sql")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".init-", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("".join(f"{statement};\n" for statement in statements))
    os.replace(temporary, path)
    return path


def run_statements(command: list[str], hidden_timings: int | None) -> int:
    """spark-sql -e/-f as a child: its errors reach the terminal as one line
    each, their query plans only the log file; the first `hidden_timings`
    "Time taken" lines (the init file's; None: all, as -S asks) are dropped.
    Ctrl-C reaches spark-sql (the terminal's process group), which stops; its
    exit code is ours."""
    log = os.environ.get("PIPELINE_LOG_FILE")
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # after the start: spark-sql must not inherit it
    lines = without_timings(logged(child.stderr), hidden_timings)
    for line in condensed_sql_errors(lines, f" (details: {log})" if log else ""):
        sys.stderr.write(line)
        sys.stderr.flush()
    code = child.wait()
    return 128 - code if code < 0 else code


def logged(lines):
    for line in lines:
        append_log(line)
        yield line


def without_timings(lines, hidden: int | None):
    """The lines without spark-sql's first `hidden` "Time taken: ..." lines (None: without any)."""
    for line in lines:
        if line.startswith("Time taken: ") and (hidden is None or hidden > 0):
            hidden = None if hidden is None else hidden - 1
            continue
        yield line
