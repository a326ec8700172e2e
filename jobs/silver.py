"""The silver job: pipeline.steps.silver as its own Spark application (clusters, Airflow)."""

import sys

from pipeline.runtime.arguments import add_share_option, job_parser
from pipeline.runtime.runner import run_job
from pipeline.steps import silver, job_body


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("silver", silver.__doc__, full_refresh="rebuild silver and quarantine from all of bronze")
    add_share_option(parser)
    return run_job("silver", parser, job_body(silver.run), argv)


if __name__ == "__main__":
    sys.exit(cli())
