"""All: bronze, silver, gold and kpis one after the other in one Spark application.

This is what `make run-local` runs: the JVM, the session and Delta's caches are
started once instead of four times. Each step still takes its own lock and
writes its own audit row, so the result is the same as running the four jobs
separately (which is what clusters and Airflow do).
"""

import sys

from jobs import STEPS, step_main
from pipeline.runtime.cli import add_share_option, job_parser, run_job


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("all", __doc__, full_refresh="rebuild silver, gold and the KPIs from bronze after ingesting")
    add_share_option(parser)
    return run_job("all", parser, {name: step_main(name) for name in STEPS}, argv)


if __name__ == "__main__":
    sys.exit(cli())
