"""The gold job: pipeline.steps.gold as its own Spark application (clusters, Airflow)."""

import sys

from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job
from pipeline.steps import gold, job_body


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("gold", gold.__doc__, full_refresh="rebuild the whole table from silver")
    return run_job("gold", parser, job_body(gold.run), argv)


if __name__ == "__main__":
    sys.exit(cli())
