"""Silver: type, validate and deduplicate the bronze rows not processed yet.

Invalid records go to quarantine with their reason; duplicates of events already
in silver (from any earlier file or run) are counted and not inserted again.
Silver records in each commit the last bronze batch it has processed, so a
rerun with nothing new writes nothing. --full-refresh rebuilds silver and
quarantine from all of bronze.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline import delta_io, messages, orders
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.faults import crash_point

PROCESSED = "bronze_batch"  # commit-metadata key: last bronze ingest_batch in silver
BRONZE_RECORD = ("source_file", "record_index")  # identifies a quarantined record


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str  # config key suffix: bronze_<table>, silver_<table>, quarantine_<table>
    parse: Callable[[DataFrame], DataFrame]
    to_silver: Callable[[DataFrame], DataFrame]  # valid parsed rows -> silver rows
    key: tuple[str, ...]
    replace_matches: bool  # orders: the last record wins; messages: the first one stays


DATASETS = (
    Dataset("customer_agent_messages", "messages", messages.parse_messages, messages.deduplicate_messages,
            messages.EVENT_KEY, replace_matches=False),
    Dataset("orders", "orders", orders.parse_orders, orders.latest_orders, ("order_id",), replace_matches=True),
)


def with_quarantine_time(parsed: DataFrame) -> DataFrame:
    return messages.quarantined(parsed).withColumn("quarantined_at", F.current_timestamp())


def process(spark, config, dataset: Dataset, full_refresh: bool) -> RunStats:
    bronze = config.table(f"bronze_{dataset.table}")
    silver = config.table(f"silver_{dataset.table}")
    quarantine = config.table(f"quarantine_{dataset.table}")
    delta_io.require_table(spark, bronze, "bronze")
    all_bronze = spark.read.format("delta").load(bronze)
    empty = dataset.parse(all_bronze.limit(0))
    delta_io.ensure_table(spark, silver, dataset.to_silver(empty).schema, change_feed=True)
    delta_io.ensure_table(spark, quarantine, with_quarantine_time(empty).schema)

    done = None if full_refresh else delta_io.last_commit_metadata(spark, silver, PROCESSED)
    new = all_bronze.where(F.col("ingest_batch") > (done[PROCESSED] if done else -1))
    # One pass over the new bronze rows caches them and counts them.
    parsed = dataset.parse(new).persist()
    upto, read, rejected_count = parsed.agg(
        F.max("ingest_batch"), F.count("*"), F.count("reason")
    ).first()
    stats = RunStats(dataset.name, rows_read=read, rows_quarantined=rejected_count)
    if upto is None:
        parsed.unpersist()
        print(f"silver {dataset.name}: nothing new in {bronze}")
        return stats

    rejected = with_quarantine_time(parsed)
    rows = dataset.to_silver(messages.valid_records(parsed))
    before = delta_io.version(spark, silver)
    # Silver still empty (version 0 is its creation) means nothing was processed
    # yet, whatever quarantine holds: plain writes replace both, no MERGE needed.
    rewrite = full_refresh or before == 0
    with delta_io.commit_metadata(spark, {PROCESSED: upto}):
        # Both writes are idempotent: a crash between them makes the next run
        # process these bronze rows again, and nothing is added twice.
        if rewrite:
            rejected.write.format("delta").mode("overwrite").save(quarantine)
        else:
            delta_io.insert_new(spark, rejected, quarantine, BRONZE_RECORD)
        crash_point(f"silver.{dataset.name}.after_quarantine")
        if rewrite:
            rows.write.format("delta").mode("overwrite").save(silver)
        elif dataset.replace_matches:
            delta_io.upsert(spark, rows, silver, dataset.key)
        else:
            delta_io.insert_new(spark, rows, silver, dataset.key)
    crash_point(f"silver.{dataset.name}.after_write")
    parsed.unpersist()

    stats.rows_written = sum(
        int(m.get("numOutputRows", 0)) if rewrite
        else int(m.get("numTargetRowsInserted", 0)) + int(m.get("numTargetRowsUpdated", 0))
        for m in delta_io.commits_since(spark, silver, before)
    )
    # A valid record not written is a duplicate event, or for orders a record
    # replaced by a later one of the same order in the same run.
    stats.duplicates = stats.rows_read - stats.rows_quarantined - stats.rows_written
    print(
        f"silver {dataset.name}: read {stats.rows_read}, written {stats.rows_written}, "
        f"quarantined {stats.rows_quarantined}, duplicates {stats.duplicates}"
    )
    return stats


def main(spark, config, args):
    return [process(spark, config, dataset, args.full_refresh) for dataset in DATASETS]


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("silver", __doc__)
    parser.add_argument("--full-refresh", action="store_true", help="rebuild silver and quarantine from all of bronze")
    return run_job("silver", parser, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
