"""All: bronze, silver and gold one after the other in one Spark application.

This is what `make run-local` runs: the JVM, the session and Delta's caches are
started once instead of three times. Each step still takes its own lock and
writes its own audit row, so the result is the same as running the three jobs
separately (which is what clusters and Airflow do).
"""

import sys

from jobs import bronze, gold, silver
from pipeline.cli import job_parser, run_job
from pipeline.quality import add_share_option


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("all", __doc__)
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild silver and gold from all of bronze after ingesting"
    )
    add_share_option(parser)
    return run_job("all", parser, {"bronze": bronze.main, "silver": silver.main, "gold": gold.main}, argv)


if __name__ == "__main__":
    sys.exit(cli())
