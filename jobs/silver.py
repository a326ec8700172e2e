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

from pipeline import delta_io, messages, orders, quality
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.faults import crash_point

PROCESSED = "bronze_batch"  # commit-metadata key: last bronze ingest_batch in silver


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


@dataclass
class Batch:
    """The new bronze rows of one dataset: parsed, checked, cached, not written yet."""
    dataset: Dataset
    parsed: DataFrame
    upto: int | None  # last bronze batch among them
    rules: list[quality.Rule]
    summary: quality.Summary
    stats: RunStats


def read_new(spark, config, dataset: Dataset, full_refresh: bool) -> Batch:
    bronze, silver = config.table(f"bronze_{dataset.table}"), config.table(f"silver_{dataset.table}")
    delta_io.require_table(spark, bronze, "bronze")
    rules = quality.load_rules(f"silver_{dataset.table}")
    all_bronze = spark.read.format("delta").load(bronze)
    quality.validate(dataset.parse(all_bronze.limit(0)), rules)

    done = None
    if not full_refresh and delta_io.path_exists(spark, f"{silver}/_delta_log"):
        done = delta_io.last_commit_metadata(spark, silver, PROCESSED)
    after = done[PROCESSED] if done else -1
    new = all_bronze.where(F.col("ingest_batch") > after)
    # Quarantine rules add their reasons; one pass over the new bronze rows then
    # caches them and counts them, per reason and per warn or fail rule.
    parsed = quality.with_quarantine_reasons(dataset.parse(new), rules).persist()
    groups = parsed.groupBy("reason").agg(F.max("ingest_batch").alias("upto"), *quality.counts(rules)).collect()
    upto = max((group["upto"] for group in groups if group["upto"] is not None), default=None)
    summary = quality.summarize(groups, rules)
    stats = RunStats(
        dataset.name,
        rows_read=summary.rows,
        rows_quarantined=sum(summary.quarantined.values()),
        input=f"{config.tables[f'bronze_{dataset.table}']} batches {after + 1}-{upto}" if upto is not None else None,
        quarantined_by_rule=summary.quarantined,
        warnings_by_rule=summary.by_action(rules, "warn"),
    )
    return Batch(dataset, parsed, upto, rules, summary, stats)


def append_quarantine(spark, rejected: DataFrame, quarantine: str) -> None:
    """Append the rejected records of the bronze batches quarantine has not
    recorded yet (its commits carry the last bronze batch, like silver's): after
    a crash before silver's write the rerun appends nothing twice, with no MERGE."""
    done = delta_io.last_commit_metadata(spark, quarantine, PROCESSED)
    new = rejected.where(F.col("ingest_batch") > (done[PROCESSED] if done else -1))
    new.write.format("delta").mode("append").save(quarantine)


def write(spark, config, batch: Batch, full_refresh: bool) -> RunStats:
    dataset, parsed, stats = batch.dataset, batch.parsed, batch.stats
    bronze = config.table(f"bronze_{dataset.table}")
    silver = config.table(f"silver_{dataset.table}")
    quarantine = config.table(f"quarantine_{dataset.table}")
    empty = parsed.limit(0)
    delta_io.ensure_table(spark, silver, dataset.to_silver(empty).schema, change_feed=True)
    delta_io.ensure_table(spark, quarantine, with_quarantine_time(empty).schema)
    if batch.upto is None:
        print(f"silver {dataset.name}: nothing new in {bronze}")
        return stats

    rejected = with_quarantine_time(parsed)
    rows = dataset.to_silver(messages.valid_records(parsed))
    before = delta_io.version(spark, silver)
    # Silver still empty (version 0 is its creation) means nothing was processed
    # yet, whatever quarantine holds: plain writes replace both, no MERGE needed.
    rewrite = full_refresh or before == 0
    with delta_io.commit_metadata(spark, {PROCESSED: batch.upto}):
        # Both writes are idempotent: a crash between them makes the next run
        # process these bronze rows again, and nothing is added twice.
        if rewrite:
            rejected.write.format("delta").mode("overwrite").save(quarantine)
        elif stats.rows_quarantined:
            append_quarantine(spark, rejected, quarantine)
        crash_point(f"silver.{dataset.name}.after_quarantine")
        if rewrite:
            rows.write.format("delta").mode("overwrite").save(silver)
        elif dataset.replace_matches:
            delta_io.upsert(spark, rows, silver, dataset.key)
        else:
            delta_io.insert_new(spark, rows, silver, dataset.key)
    crash_point(f"silver.{dataset.name}.after_write")

    commits = delta_io.commits_since(spark, silver, before)
    stats.rows_written = sum(
        int(m.get("numOutputRows", 0)) if rewrite
        else int(m.get("numTargetRowsInserted", 0)) + int(m.get("numTargetRowsUpdated", 0))
        for m in commits
    )
    stats.delta_version = before + len(commits)
    # A valid record not written is a duplicate event, or for orders a record
    # replaced by a later one of the same order in the same run.
    stats.duplicates = stats.rows_read - stats.rows_quarantined - stats.rows_written
    print(
        f"silver {dataset.name}: read {stats.rows_read}, written {stats.rows_written}, "
        f"quarantined {stats.rows_quarantined}, duplicates {stats.duplicates}"
        + quality.warnings_text(stats.warnings_by_rule)
    )
    return stats


def main(spark, config, args):
    """Read and check both datasets before writing either: a run stopped by its
    data leaves every table as it was."""
    max_share = args.max_quarantined_share
    max_share = config.max_quarantined_share if max_share is None else max_share
    batches = []
    try:
        for dataset in DATASETS:
            batches.append(read_new(spark, config, dataset, args.full_refresh))
        for batch in batches:
            problem = quality.check(
                batch.summary, batch.rules, f"{batch.dataset.name} records", max_share, config.share_min_records
            )
            if problem:
                raise quality.QualityError(problem, [b.stats for b in batches])
        return [write(spark, config, batch, args.full_refresh) for batch in batches]
    finally:
        for batch in batches:
            batch.parsed.unpersist()


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("silver", __doc__)
    parser.add_argument("--full-refresh", action="store_true", help="rebuild silver and quarantine from all of bronze")
    quality.add_share_option(parser)
    return run_job("silver", parser, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
