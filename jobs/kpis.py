"""KPIs: gold.customer_care_daily_kpis, per conversation day and city, from gold.

The table records in each commit the gold version it reflects. A run reads from
gold's Change Data Feed the days whose conversations changed since (pre- and
post-images: a conversation that moves to another day touches both), recomputes
those days from gold and replaces them (replaceWhere, so groups that vanished
go too); gold unchanged, nothing written. No record, --full-refresh, or a gold
commit the change feed does not describe (a gold rebuild): rebuild the table.
"""

import sys
from datetime import date

from pyspark.sql import DataFrame, functions as F

from pipeline import delta_io
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.kpis import build_daily_kpis

TABLE = "customer_care_daily_kpis"
RECORD = "gold_version"
# Gold commits that change no data, and those whose changes the change feed describes.
NO_DATA_CHANGE = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})
INCREMENTAL_OPERATIONS = NO_DATA_CHANGE | {"MERGE", "DELETE", "UPDATE"}


def reflected_version(spark, path: str) -> int | None:
    """The gold version the KPI table at `path` was computed from, if recorded."""
    if not delta_io.path_exists(spark, f"{path}/_delta_log"):
        return None
    return (delta_io.last_commit_metadata(spark, path, RECORD) or {}).get(RECORD)


def changed_days(spark, gold: str, built: int | None, current: int) -> list[date] | None:
    """conversation_date of every gold row changed after version `built` up to `current`, read
    from gold's Change Data Feed; None when that cannot tell (no record, a gold rebuild)."""
    if built is None or built > current:
        return None
    operations = set(delta_io.history_since(spark, gold, built, "operation"))
    if operations <= NO_DATA_CHANGE:
        return []
    if not operations <= INCREMENTAL_OPERATIONS or not delta_io.change_feed_enabled(spark, gold):
        return None
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", built + 1)
        .option("endingVersion", current)
        .load(gold)
    )
    return sorted(row[0] for row in changes.select("conversation_date").distinct().collect())


def write(spark, path: str, kpis: DataFrame, gold_version: int, days: list[date] | None) -> RunStats:
    """Overwrite the table (days=None) or only those days."""
    writer = kpis.write.format("delta").mode("overwrite").partitionBy("conversation_date")
    if days is None:
        writer = writer.option("overwriteSchema", "true")
    else:
        writer = writer.option("replaceWhere", "conversation_date IN ({})".format(
            ", ".join(f"DATE'{day.isoformat()}'" for day in days)
        ))
    with delta_io.commit_metadata(spark, {RECORD: gold_version}):
        writer.save(path)
    version = delta_io.version(spark, path)
    written = int(delta_io.commits_since(spark, path, version - 1)[0]["numOutputRows"])
    return RunStats(TABLE, rows_written=written, input=f"gold v{gold_version}", delta_version=version)


def main(spark, config, args):
    gold, path = config.table("gold_conversations"), config.table("gold_daily_kpis")
    delta_io.require_table(spark, gold, "gold")
    current = delta_io.version(spark, gold)
    conversations = spark.read.format("delta").option("versionAsOf", current).load(gold)

    built = None if args.full_refresh else reflected_version(spark, path)
    days = changed_days(spark, gold, built, current)
    if days is None:
        stats = write(spark, path, build_daily_kpis(conversations), current, None)
        print(f"kpis {TABLE}: rebuilt, {stats.rows_written} day-city rows -> {path}")
        return [stats]
    if not days:
        print(f"kpis {TABLE}: no conversation changed in gold, nothing to do ({path})")
        return [RunStats(TABLE, input=f"gold v{current}")]
    kpis = build_daily_kpis(conversations.where(F.col("conversation_date").isin(days)))
    stats = write(spark, path, kpis, current, days)
    print(f"kpis {TABLE}: {len(days)} days recomputed, {stats.rows_written} day-city rows -> {path}")
    return [stats]


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("kpis", __doc__)
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the whole table from gold")
    return run_job("kpis", parser, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
