"""Status: the last runs recorded in _meta/pipeline_runs and, for every table,
its Delta version, row count and last update. Read-only: no lock, no audit row."""

import sys

from pyspark.sql import functions as F

from pipeline.lake import tables
from pipeline.runtime.arguments import job_parser, positive_int
from pipeline.runtime.runner import run_job

TIME = "yyyy-MM-dd HH:mm:ss"  # formatted by Spark, in the session's UTC
RUN_HEADERS = (
    "finished (UTC)", "job", "dataset", "status", "read", "written", "quarantined", "duplicates", "version",
    "seconds", "details",
)
TABLE_HEADERS = ("table", "version", "rows", "last update (UTC)")


def format_table(headers, rows) -> str:
    """An aligned plain-text table; numbers are right-aligned, None is blank."""
    text = [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[i]) for row in text]) for i, header in enumerate(headers)]

    def line(values, raw):
        cells = (
            cell.rjust(width) if isinstance(value, (int, float)) else cell.ljust(width)
            for cell, value, width in zip(values, raw, widths)
        )
        return "  ".join(cells).rstrip()

    rule = ["-" * w for w in widths[:-1]] + ["-" * len(headers[-1])]  # the last column may be long
    return "\n".join(
        [line(headers, headers), line(rule, headers)]
        + [line(cells, row) for cells, row in zip(text, rows)]
    )


def details(run) -> str:
    """The error of a failed run, else its quarantine reasons and warnings."""
    if run["error"]:
        return run["error"]
    parts = [
        f"{label}: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        for label, counts in (("quarantined", run["quarantined_by_rule"]), ("warnings", run["warnings_by_rule"]))
        if counts
    ]
    return "; ".join(parts)


def last_runs(spark, path: str, count: int) -> list[tuple]:
    """The rows of the last `count` runs, newest first (lakes from before the
    status columns have them as null)."""
    if not tables.exists(spark, path):
        return []
    runs = tables.read(spark, path)

    def column(name):
        return F.col(name) if name in runs.columns else F.lit(None)

    latest = runs.groupBy("run_id").agg(F.max("finished_at").alias("run_finished")).orderBy(
        F.desc("run_finished")
    ).limit(count)
    rows = (
        runs.join(latest, "run_id")
        .orderBy(F.desc("run_finished"), "started_at", "dataset")
        .select(
            F.date_format("finished_at", TIME).alias("finished"), "job", "dataset",
            F.coalesce(column("status"), F.lit("succeeded")).alias("status"),
            "rows_read", "rows_written", "rows_quarantined", "duplicates",
            column("delta_version").alias("version"),
            F.round(column("duration_seconds"), 1).alias("seconds"),
            column("error").alias("error"),
            column("quarantined_by_rule").alias("quarantined_by_rule"),
            column("warnings_by_rule").alias("warnings_by_rule"),
        )
        .collect()
    )
    return [(*row[:10], details(row)) for row in rows]


def table_status(spark, config) -> list[tuple]:
    result = []
    for key in sorted(config.tables):
        path = config.table(key)
        if not tables.exists(spark, path):
            result.append((key, None, None, "not created yet"))
            continue
        last = tables.history(spark, path, 1).select("version", F.date_format("timestamp", TIME)).first()
        rows = tables.read(spark, path).count()  # from the Delta log's file statistics
        result.append((key, last[0], rows, last[1]))
    return result


def main(spark, config, args):
    runs = last_runs(spark, config.meta("pipeline_runs"), args.runs)
    print(f"Last {args.runs} runs ({config.meta('pipeline_runs')}), newest first:")
    print(format_table(RUN_HEADERS, runs) if runs else "  no runs recorded yet")
    print(f"\nTables under {config.lake}:")
    print(format_table(TABLE_HEADERS, table_status(spark, config)))
    return []


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("status", __doc__)
    parser.add_argument("--runs", type=positive_int, default=10, help="how many recent runs to list (default: 10)")
    return run_job("status", parser, main, argv, writes=False)


if __name__ == "__main__":
    sys.exit(cli())
