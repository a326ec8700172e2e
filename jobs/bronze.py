"""The bronze job: pipeline.steps.bronze as its own Spark application (clusters, Airflow)."""

import sys

from pipeline.runtime.arguments import add_share_option, job_parser
from pipeline.runtime.runner import run_job
from pipeline.steps import bronze, job_body


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("bronze", bronze.__doc__)
    add_share_option(parser)
    return run_job("bronze", parser, job_body(bronze.run), argv)


if __name__ == "__main__":
    sys.exit(cli())
