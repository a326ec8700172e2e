"""Silver: type, validate and deduplicate the bronze rows not processed yet.

Invalid records go to quarantine with their reason; duplicates of events already
in silver (from any earlier file or run) are counted and not inserted again.
Silver records in each commit the last bronze batch it has processed, so a
rerun with nothing new writes nothing. --full-refresh rebuilds silver and
quarantine from all of bronze.
"""

from collections.abc import Callable
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline import quality
from pipeline.lake import incremental, tables
from pipeline.steps.handoff import SilverWrites
from pipeline.steps.options import Options
from pipeline.runtime.audit import QualityError, RunStats
from pipeline.runtime.faults import crash_point
from pipeline.transforms import messages, orders
from pipeline.transforms.records import quarantine_rows, valid_records

WATERMARK = incremental.BRONZE_BATCH  # the last bronze ingest_batch processed


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


@dataclass
class Batch:
    """The new bronze rows of one dataset: parsed, checked, cached, not written yet."""
    dataset: Dataset
    parsed: DataFrame
    upto: int | None  # last bronze batch among them
    order_ids: tuple[int, int] | None  # the lowest and highest order_id of the valid ones
    rules: list[quality.Rule]
    summary: quality.Summary
    stats: RunStats


def read_new(spark, config, dataset: Dataset, full_refresh: bool) -> Batch:
    bronze, silver = config.table(f"bronze_{dataset.table}"), config.table(f"silver_{dataset.table}")
    tables.require_table(spark, bronze, "bronze")
    rules = quality.load_rules(f"silver_{dataset.table}")
    all_bronze = tables.read(spark, bronze)
    quality.validate(dataset.parse(all_bronze.limit(0)), rules)

    done = None if full_refresh else incremental.last_watermark(spark, silver, WATERMARK)
    after = done[WATERMARK] if done else -1
    new = all_bronze.where(F.col("ingest_batch") > after)
    # Quarantine rules add their reasons; one pass over the new bronze rows then
    # caches them and counts them, per reason and per warn or fail rule.
    # On local disk, not in memory: a first load's rows would otherwise compete
    # with the aggregations and sorts for execution memory.
    parsed = quality.with_quarantine_reasons(dataset.parse(new), rules).persist(StorageLevel.DISK_ONLY)
    groups = parsed.groupBy("reason").agg(
        F.max("ingest_batch").alias("upto"), F.min("order_id").alias("low"), F.max("order_id").alias("high"),
        *quality.counts(rules),
    ).collect()
    upto = max((group["upto"] for group in groups if group["upto"] is not None), default=None)
    valid = [(group["low"], group["high"]) for group in groups if group["reason"] is None and group["low"] is not None]
    summary = quality.summarize(groups, rules)
    stats = RunStats(
        dataset.name,
        rows_read=summary.rows,
        rows_quarantined=sum(summary.quarantined.values()),
        input=f"{config.tables[f'bronze_{dataset.table}']} batches {after + 1}-{upto}" if upto is not None else None,
        quarantined_by_rule=summary.quarantined,
        warnings_by_rule=summary.by_action(rules, "warn"),
    )
    return Batch(dataset, parsed, upto, valid[0] if valid else None, rules, summary, stats)


def append_quarantine(spark, rejected: DataFrame, quarantine: str) -> None:
    """Append the rejected records of the bronze batches quarantine has not
    recorded yet (its commits carry the last bronze batch, like silver's): after
    a crash before silver's write the rerun appends nothing twice, with no MERGE."""
    done = incremental.last_watermark(spark, quarantine, WATERMARK)
    tables.append(rejected.where(F.col("ingest_batch") > (done[WATERMARK] if done else -1)), quarantine)


def write(spark, config, batch: Batch, full_refresh: bool, handed: SilverWrites | None) -> RunStats:
    """Write the batch; with `handed` (a pass), record there what gold needs of it."""
    dataset, parsed, stats = batch.dataset, batch.parsed, batch.stats
    silver = config.table(f"silver_{dataset.table}")
    quarantine = config.table(f"quarantine_{dataset.table}")
    tables.ensure_table(spark, silver, dataset.to_silver(parsed.limit(0)).schema, properties=tables.CHANGE_FEED)
    tables.ensure_table(spark, quarantine, quarantine_rows(parsed.limit(0)).schema)
    if batch.upto is None:
        print(f"silver {dataset.name}: nothing new in {config.table(f'bronze_{dataset.table}')}")
        if handed is not None:
            handed.versions[f"silver_{dataset.table}"] = (tables.version(spark, silver),) * 2
        return stats

    rejected, rows = quarantine_rows(parsed), dataset.to_silver(valid_records(parsed))
    before = tables.version(spark, silver)
    # Silver still empty (version 0 is its creation) means nothing was processed
    # yet, whatever quarantine holds: plain writes replace both, no MERGE needed.
    rewrite = full_refresh or before == 0
    with incremental.recording(spark, {WATERMARK: batch.upto}):
        # Both writes are idempotent: a crash between them makes the next run
        # process these bronze rows again, and nothing is added twice.
        if rewrite:
            tables.overwrite(rejected, quarantine)
        elif stats.rows_quarantined:
            append_quarantine(spark, rejected, quarantine)
        crash_point(f"silver.{dataset.name}.after_quarantine")
        if rewrite:
            tables.overwrite(rows, silver)
        else:
            within = ("order_id", *batch.order_ids) if batch.order_ids else None  # skips the files of other orders
            tables.merge(spark, rows, silver, dataset.key, dataset.replace_matches, within)
    crash_point(f"silver.{dataset.name}.after_write")

    written = incremental.written_since(spark, silver, before)
    stats.rows_written, stats.delta_version = written.rows, written.version
    if handed is not None:  # the valid rows' orders: those written, and those of duplicates (recomputed alike)
        handed.versions[f"silver_{dataset.table}"] = (before, written.version or before)
        if batch.order_ids:
            handed.order_ids.append(valid_records(parsed).select("order_id"))
            ranges = [batch.order_ids, *([handed.order_range] if handed.order_range else [])]
            handed.order_range = (min(low for low, _ in ranges), max(high for _, high in ranges))
    # A valid record not written is a duplicate event, or for orders a record
    # replaced by a later one of the same order in the same run.
    stats.duplicates = stats.rows_read - stats.rows_quarantined - stats.rows_written
    print(
        f"silver {dataset.name}: read {stats.rows_read}, written {stats.rows_written}, "
        f"quarantined {stats.rows_quarantined}, duplicates {stats.duplicates}"
        + quality.warnings_text(stats.warnings_by_rule)
    )
    return stats


def run(spark, config, options: Options = Options()) -> list[RunStats]:
    """Read and check both datasets before writing either: a run stopped by its
    data leaves every table as it was."""
    max_share = options.max_share(config)
    batches, idle = [], {}
    handed = SilverWrites() if options.handoff else None
    try:
        for dataset in DATASETS:
            bronze, silver = config.table(f"bronze_{dataset.table}"), config.table(f"silver_{dataset.table}")
            if options.full_refresh or incremental.is_behind(spark, silver, bronze, WATERMARK):
                batches.append(read_new(spark, config, dataset, options.full_refresh))
            else:  # decided from the Delta logs alone: no Spark job
                print(f"silver {dataset.name}: nothing new in {bronze}")
                idle[dataset.name] = RunStats(dataset.name)
                if handed is not None:
                    handed.versions[f"silver_{dataset.table}"] = (tables.version(spark, silver),) * 2
        stats = {**idle, **{batch.dataset.name: batch.stats for batch in batches}}
        for batch in batches:
            problem = quality.check(
                batch.summary, batch.rules, f"{batch.dataset.name} records", max_share, config.share_min_records
            )
            if problem:
                raise QualityError(problem, [stats[dataset.name] for dataset in DATASETS])
        for batch in batches:
            stats[batch.dataset.name] = write(spark, config, batch, options.full_refresh, handed)
        if options.handoff:
            options.handoff.silver = handed
        return [stats[dataset.name] for dataset in DATASETS]
    finally:
        for batch in batches:  # in a pass, gold reads the handed order ids from them
            options.handoff.keep(batch.parsed) if options.handoff else batch.parsed.unpersist()
