"""Ad-hoc Spark SQL over the lake: tables are addressable as <layer>.<name>,
e.g. gold.customer_agent_conversations or silver.customer_agent_messages."""

import logging
import sys

from pyspark.logger import PySparkLogger

from pipeline.lake import tables
from pipeline.runtime.cli import job_parser, positive_int, run_job


def register_tables(spark, config) -> list[str]:
    """Create a database per layer and point a table at each Delta table that exists."""
    names = []
    for key, relative in sorted(config.tables.items()):
        path = config.table(key)
        if not tables.exists(spark, path):
            continue
        layer, name = relative.split("/", 1)
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {layer}")
        spark.sql(f"CREATE TABLE IF NOT EXISTS {layer}.{name} USING delta LOCATION '{path}'")
        names.append(f"{layer}.{name}")
    return names


def shell(spark) -> None:
    """A minimal SQL prompt: statements end with ';', an empty line or 'exit' quits."""
    # PySpark logs every failed statement with its Java stack; the shell prints one line.
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    buffer = []
    while True:
        try:
            line = input("sql> " if not buffer else "...> ")
        except EOFError:
            print()
            return
        if not buffer and line.strip().lower() in ("", "exit", "quit"):
            return
        buffer.append(line)
        if line.rstrip().endswith(";"):
            run_statement(spark, "\n".join(buffer).rstrip().rstrip(";"))
            buffer = []


def run_statement(spark, statement: str, rows: int = 50) -> None:
    try:
        spark.sql(statement).show(rows, truncate=False)
    except Exception as err:  # a typo in the shell must not end the session
        print(f"error: {str(err).strip().splitlines()[0]}")


def main(spark, config, args):
    names = register_tables(spark, config)
    if args.execute:
        spark.sql(args.execute).show(args.rows, truncate=False)
    else:
        print("tables: " + (", ".join(names) or "none yet (run the jobs first)"))
        shell(spark)
    return []


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("sql", __doc__)
    parser.add_argument("-e", "--execute", metavar="SQL", help="run one statement and print its result")
    parser.add_argument("--rows", type=positive_int, default=50, help="rows to print (default: 50)")
    return run_job("sql", parser, main, argv, writes=False)


if __name__ == "__main__":
    sys.exit(cli())
