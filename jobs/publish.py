"""Publish: copy every gold table to PostgreSQL for BI tools.

Each gold table (config key gold_*) that exists is loaded into a staging table
over JDBC; then one transaction replaces the published tables with the staging
ones, so readers never see a half load and a rerun gives the same rows. The
PostgreSQL table is named after the table's last path segment. Connection
settings come only from PGHOST (default localhost), PGPORT (5432), PGDATABASE
(required), PGUSER and PGPASSWORD.
"""

import sys

from pipeline import PipelineError
from pipeline.lake import tables
from pipeline.outputs import publish
from pipeline.runtime.audit import RunStats
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job

PRIMARY_KEYS = {"gold_conversations": ("order_id",)}


def main(spark, config, args):
    settings = publish.settings_from_env()
    published = {}  # config key -> PostgreSQL table name
    for key in sorted(k for k in config.tables if k.startswith("gold_")):
        if tables.exists(spark, config.table(key)):
            published[key] = config.table_name(key)
        else:  # e.g. a gold table added to the config whose job has not run yet
            print(f"publish {key}: no Delta table at {config.table(key)} yet, skipped")
    if not published:
        raise PipelineError(f"no gold table in {config.lake}: run the gold job first")

    with publish.connect(spark, settings) as connection:
        rows = {
            name: publish.stage(
                spark,
                connection,
                settings,
                tables.read(spark, config.table(key)),
                name,
                PRIMARY_KEYS.get(key, ()),
            )
            for key, name in published.items()
        }
        publish.replace_tables(spark, connection, list(rows))
    for name, count in rows.items():
        print(f"publish {name}: {count} rows -> PostgreSQL {settings}")
    return [RunStats(name, rows_written=count) for name, count in rows.items()]


def cli(argv: list[str] | None = None) -> int:
    return run_job("publish", job_parser("publish", __doc__), main, argv)


if __name__ == "__main__":
    sys.exit(cli())
