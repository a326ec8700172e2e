"""Publish: copy every gold table to PostgreSQL for BI tools.

Each gold table (config key gold_*) that exists is loaded into a staging table
over JDBC; then one transaction replaces the published tables with the staging
ones, so readers never see a half load and a rerun gives the same rows. The
PostgreSQL table is named after the table's last path segment. Connection
settings come only from PGHOST (default localhost), PGPORT (5432), PGDATABASE
(required), PGUSER and PGPASSWORD.
"""

import sys

from pipeline.outputs import publish
from pipeline.runtime.audit import RunStats
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job


def main(spark, config, args):
    rows = publish.publish_gold(spark, config, publish.settings_from_env())
    return [RunStats(name, rows_written=count) for name, count in rows.items()]


def cli(argv: list[str] | None = None) -> int:
    return run_job("publish", job_parser("publish", __doc__), main, argv)


if __name__ == "__main__":
    sys.exit(cli())
