"""KPIs: gold.customer_care_daily_kpis, per conversation day and city, from gold.

The table records in each commit the gold version it reflects. A run reads from
gold's commit files the days whose conversations changed since (the date
partitions of the files gold's commits removed and added: a conversation that
moves to another day touches both; no Spark job), recomputes those days from
gold and replaces them (replaceWhere, so groups that vanished go too); gold
unchanged, nothing written. No record, --full-refresh, or a gold commit that
names no partitions (a gold rebuild): rebuild the table.
"""

from datetime import date

from pyspark.sql import DataFrame, functions as F

from pipeline.lake import incremental, tables
from pipeline.steps.options import Options
from pipeline.runtime.audit import RunStats
from pipeline.transforms.kpis import WATERMARK, build_daily_kpis

TABLE = "customer_care_daily_kpis"


def write(spark, path: str, kpis: DataFrame, gold_version: int, days: list[date] | None) -> RunStats:
    """Overwrite the table (days=None) or only those days."""
    before = tables.version(spark, path) if tables.exists(spark, path) else -1
    replace_where = None if days is None else "conversation_date IN ({})".format(
        ", ".join(f"DATE'{day.isoformat()}'" for day in days)
    )
    with incremental.recording(spark, {WATERMARK: gold_version}):
        tables.overwrite(kpis, path, ("conversation_date",), replace_where, new_schema=days is None)
    written = incremental.written_since(spark, path, before)
    return RunStats(TABLE, rows_written=written.rows, input=f"gold v{gold_version}", delta_version=written.version)


def run(spark, config, options: Options = Options()) -> list[RunStats]:
    gold, path = config.table("gold_conversations"), config.table("gold_daily_kpis")
    tables.require_table(spark, gold, "gold")
    current = tables.version(spark, gold)
    built = None if options.full_refresh else (incremental.last_watermark(spark, path, WATERMARK) or {}).get(WATERMARK)
    changed = incremental.changed_partitions(spark, gold, built, current, "conversation_date")
    days = None if changed is None else [date.fromisoformat(day) for day in changed]
    if days == []:  # decided from the Delta logs alone: no Spark job
        print(f"kpis {TABLE}: no conversation changed in gold, nothing to do ({path})")
        return [RunStats(TABLE, input=f"gold v{current}")]
    conversations = tables.read(spark, gold, current)
    if days is None:
        stats = write(spark, path, build_daily_kpis(conversations), current, None)
        print(f"kpis {TABLE}: rebuilt, {stats.rows_written} day-city rows -> {path}")
        return [stats]
    kpis = build_daily_kpis(conversations.where(F.col("conversation_date").isin(days)))
    stats = write(spark, path, kpis, current, days)
    print(f"kpis {TABLE}: {len(days)} days recomputed, {stats.rows_written} day-city rows -> {path}")
    return [stats]
