"""Export CSV: gold conversations as one file, <lake>/exports/customer_agent_conversations.csv.

A header line, the gold column order, ISO-8601 UTC timestamps
(2024-02-01T10:15:00Z), rows sorted by order_id. The file is replaced
atomically: a reader sees the previous export or the new one, never half a file.
"""

import sys

from pipeline.outputs.csv import KEY, export_conversations, export_path
from pipeline.runtime.audit import RunStats
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job


def main(spark, config, args):
    rows = export_conversations(spark, config)
    print(f"export {config.table_name(KEY)}: {rows} rows -> {export_path(config)}")
    return [RunStats(config.table_name(KEY), rows_written=rows)]


def cli(argv: list[str] | None = None) -> int:
    return run_job("export_csv", job_parser("export_csv", __doc__), main, argv)


if __name__ == "__main__":
    sys.exit(cli())
