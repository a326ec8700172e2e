"""The kpis job: pipeline.steps.kpis as its own Spark application (clusters, Airflow)."""

import sys

from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job
from pipeline.steps import kpis, job_body


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("kpis", kpis.__doc__, full_refresh="rebuild the whole table from gold")
    return run_job("kpis", parser, job_body(kpis.run), argv)


if __name__ == "__main__":
    sys.exit(cli())
