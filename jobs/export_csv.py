"""Export CSV: gold conversations as one file, <lake>/exports/customer_agent_conversations.csv.

A header line, the gold column order, ISO-8601 UTC timestamps
(2024-02-01T10:15:00Z), rows sorted by order_id. The file is replaced
atomically: a reader sees the previous export or the new one, never half a file.
"""

import sys

from pipeline.lake import tables
from pipeline.runtime.audit import RunStats
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job
from pipeline.transforms.conversations import GOLD_COLUMNS
from pipeline.outputs.csv import with_iso_timestamps, write_single_csv

KEY = "gold_conversations"


def main(spark, config, args):
    gold = config.table(KEY)
    tables.require_table(spark, gold, "gold")
    target = f"{config.lake}/exports/{config.table_name(KEY)}.csv"
    # One snapshot for the file and the count, even if gold changes meanwhile.
    conversations = tables.read(spark, gold, tables.version(spark, gold))
    write_single_csv(spark, with_iso_timestamps(conversations.select(*GOLD_COLUMNS)), target, ("order_id",))
    rows = conversations.count()
    print(f"export {config.table_name(KEY)}: {rows} rows -> {target}")
    return [RunStats(config.table_name(KEY), rows_written=rows)]


def cli(argv: list[str] | None = None) -> int:
    return run_job("export_csv", job_parser("export_csv", __doc__), main, argv)


if __name__ == "__main__":
    sys.exit(cli())
