"""A job's arguments checked in plain Python before any JVM starts.

spark-submit.sh runs `python -m pipeline.runtime.check_args <job> [args]` first:
the job's own parser answers --help and rejects a bad option in a fraction of a
second, where the same answer from inside spark-submit costs a JVM start. Only
when the arguments parse does spark-submit.sh start Spark.

The check runs the job's real entry point with PIPELINE_CHECK_ARGS=1, and the
jobs' argument handling (pipeline.runtime.runner.run_job, jobs/sql.py,
jobs/status.py) returns right after parsing when `checking()` says so: the
parser that is checked is the one the job then uses, never a copy.

Exit codes: 0 the arguments are good (go on), 2 a usage error (argparse's, one
line on stderr), ANSWERED when the parser printed what was asked (--help) and
there is nothing to run.
"""

import importlib
import os
import sys

from pipeline.runtime.arguments import USAGE_ERROR

CHECK_ONLY = "PIPELINE_CHECK_ARGS"
ANSWERED = 3  # spark-submit.sh turns it into exit 0 without starting Spark


def checking() -> bool:
    """Whether this process only checks the arguments (nothing may start)."""
    return os.environ.get(CHECK_ONLY) == "1"


def check(job: str, argv: list[str]) -> int:
    """Parse `argv` with the job's own parser, starting nothing; the exit code above."""
    os.environ[CHECK_ONLY] = "1"
    module = importlib.import_module(f"jobs.{job}")
    entry = getattr(module, "cli", None) or module.main
    try:
        code = entry(argv)
    except SystemExit as exit_:
        if exit_.code in (0, None):
            return ANSWERED
        if isinstance(exit_.code, int):
            return exit_.code
        print(exit_.code, file=sys.stderr)
        return USAGE_ERROR
    return code or 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1], sys.argv[2:]))
