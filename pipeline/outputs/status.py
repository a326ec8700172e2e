"""What `status` prints: the last runs recorded in _meta/pipeline_runs and, for
every table (by its SQL name), its Delta version, row count, last update and
operation. A local lake's are read from the Delta logs in plain Python (no
Spark); other file systems' through Spark."""

from datetime import datetime, timezone

from pyspark.sql import functions as F

from pipeline.lake import delta_log, tables

TIME = "yyyy-MM-dd HH:mm:ss"  # formatted by Spark, in the session's UTC
PY_TIME = "%Y-%m-%d %H:%M:%S"  # the same, formatted in Python
RUN_HEADERS = (
    "finished (UTC)", "job", "dataset", "status", "read", "written", "quarantined", "duplicates", "version",
    "seconds", "details",
)
TABLE_HEADERS = ("table", "version", "rows", "last update (UTC)", "operation")
RUN_COLUMNS = (
    "run_id", "finished_at", "started_at", "job", "dataset", "status", "rows_read", "rows_written",
    "rows_quarantined", "duplicates", "delta_version", "duration_seconds", "error", "quarantined_by_rule",
    "warnings_by_rule", "dropped_by_rule", "input",
)


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
    """The error of a failed run, else its quarantine reasons, warnings and dropped rows (most first, ties by
    name); for an erasure (forget) also the hashed ids it erased."""
    if run["error"]:
        return run["error"]
    parts = [
        f"{label}: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        for label, counts in (("quarantined", run["quarantined_by_rule"]), ("warnings", run["warnings_by_rule"]),
                              ("dropped", run["dropped_by_rule"]))
        if counts
    ]
    if run["job"] == "forget" and run["input"]:
        parts.append(run["input"])
    return "; ".join(parts)


def utc(value) -> str:
    """A timestamp from parquet (aware UTC, or naive UTC from INT96) as status shows it."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime(PY_TIME)


def as_map(value) -> dict:
    """A map column as pyarrow returns it ((key, value) pairs), or None, as a dict."""
    return dict(value or [])


def local_last_runs(path: str, count: int) -> list[tuple]:
    """last_runs, from the audit table's parquet files (no Spark)."""
    if not delta_log.is_table(path):
        return []
    rows = delta_log.read_rows(delta_log.snapshot(path), list(RUN_COLUMNS))
    finished: dict[str, datetime] = {}
    for row in rows:
        if row["finished_at"] is not None:
            finished[row["run_id"]] = max(finished.get(row["run_id"], row["finished_at"]), row["finished_at"])
    latest = sorted(finished, key=finished.get, reverse=True)[:count]
    chosen = [row for row in rows if row["run_id"] in set(latest)]

    def nulls_first(value):
        return (value is not None, value if value is not None else "")

    chosen.sort(key=lambda r: (-finished[r["run_id"]].timestamp(), r["started_at"], nulls_first(r["dataset"])))
    result = []
    for row in chosen:
        row = {**row, "quarantined_by_rule": as_map(row["quarantined_by_rule"]),
               "warnings_by_rule": as_map(row["warnings_by_rule"]), "dropped_by_rule": as_map(row["dropped_by_rule"])}
        seconds = row["duration_seconds"]
        result.append((
            utc(row["finished_at"]), row["job"], row["dataset"], row["status"] or "succeeded", row["rows_read"],
            row["rows_written"], row["rows_quarantined"], row["duplicates"], row["delta_version"],
            None if seconds is None else round(seconds, 1), details(row),
        ))
    return result


def local_table_status(config) -> list[tuple]:
    """table_status, from the Delta logs (no Spark)."""
    result = []
    for name, path in sorted(config.named_tables().items()):
        if not delta_log.is_table(path):
            result.append((name, None, None, "not created yet", None))
            continue
        table = delta_log.snapshot(path)
        updated = datetime.fromtimestamp(table.updated_ms / 1000, timezone.utc)
        result.append((name, table.version, table.rows, updated.strftime(PY_TIME), table.operation))
    return result


def show(config, runs: list[tuple], table_rows: list[tuple], count: int) -> None:
    print(f"Last {count} runs ({config.meta('pipeline_runs')}), newest first:")
    print(format_table(RUN_HEADERS, runs) if runs else "  no runs recorded yet")
    print(f"\nTables under {config.lake}:")
    print(format_table(TABLE_HEADERS, table_rows))


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
            column("dropped_by_rule").alias("dropped_by_rule"),
            column("input").alias("input"),
        )
        .collect()
    )
    return [(*row[:10], details(row)) for row in rows]


def table_status(spark, config) -> list[tuple]:
    result = []
    for name, path in sorted(config.named_tables().items()):
        if not tables.exists(spark, path):
            result.append((name, None, None, "not created yet", None))
            continue
        last = tables.history(spark, path, 1).select("version", F.date_format("timestamp", TIME), "operation").first()
        rows = tables.read(spark, path).count()  # from the Delta log's file statistics
        result.append((name, last[0], rows, last[1], last[2]))
    return result
