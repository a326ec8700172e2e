"""All: bronze, silver, gold and kpis one after the other in one Spark application.

This is what `make run-local` runs: the JVM, the session and Delta's caches are
started once instead of four times. The steps are those of the four jobs, each
under its own lock; their audit rows are recorded together at the end of the
pass, so the tables are the same as when the four jobs run separately (which
is what clusters and Airflow do).

--continuous keeps the application running: it checks the landing folders
every --interval and runs a pass whenever new files have landed, one line per
cycle. SIGTERM or Ctrl-C stops it after the current cycle.
"""

import sys

from pipeline.runtime.arguments import add_share_option, duration, job_parser, positive_int
from pipeline.runtime.continuous import run_continuously
from pipeline.runtime.runner import run_job
from pipeline.steps import STEPS, job_body


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("all", __doc__, full_refresh="rebuild silver, gold and the KPIs from bronze after ingesting")
    add_share_option(parser)
    parser.add_argument("--continuous", action="store_true",
                        help="keep running: a pass of the four steps whenever new files have landed")
    parser.add_argument("--interval", type=duration, default=1.0, metavar="DURATION",
                        help="with --continuous: how often to look for new files (a listing, no Spark job), "
                        "e.g. 1s or 1m (default: 1s)")
    parser.add_argument("--max-failures", type=positive_int, default=5, metavar="N",
                        help="with --continuous: exit with code 1 when the same error ends N cycles in a row "
                        "(default: 5); each failed cycle is retried after a growing back-off")
    args = parser.parse_args(argv)
    if args.continuous and args.full_refresh:
        parser.error("--full-refresh runs once: run it without --continuous first")
    steps = {name: job_body(run) for name, run in STEPS.items()}
    return run_job("all", parser, steps, argv, continuous=run_continuously)


if __name__ == "__main__":
    sys.exit(cli())
