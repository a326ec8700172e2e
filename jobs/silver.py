"""Silver: type, validate and deduplicate the bronze records not processed yet.

Invalid records go to quarantine with their reason; duplicates of events already
in silver (from any earlier file or run) are counted and not inserted again.
"""

import sys

from pyspark.sql import functions as F

from pipeline import delta_io, messages, orders
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.streams import process_available


def quarantine_schema(parsed):
    return messages.quarantined(parsed).withColumn("quarantined_at", F.current_timestamp()).schema


def process(spark, config, dataset, bronze_key, silver_key, quarantine_key, parse, to_silver, write_silver):
    """Stream new bronze rows of one dataset into its silver and quarantine tables."""
    bronze, silver = config.table(bronze_key), config.table(silver_key)
    quarantine = config.table(quarantine_key)
    delta_io.require_table(spark, bronze, "bronze")
    sample = parse(spark.read.format("delta").load(bronze).limit(0))
    delta_io.ensure_table(spark, silver, to_silver(sample).schema, change_feed=True)
    delta_io.ensure_table(spark, quarantine, quarantine_schema(sample))
    stats = RunStats(dataset)

    def write_batch(batch, batch_id):
        parsed = parse(batch).persist()
        rejected = messages.quarantined(parsed).withColumn("quarantined_at", F.current_timestamp())
        delta_io.append_once(rejected, quarantine, f"silver-{dataset}-quarantine", batch_id)
        before = delta_io.version(spark, silver)
        write_silver(spark, to_silver(parsed.where("reason IS NULL")), silver)
        written = sum(
            int(m.get("numTargetRowsInserted", 0)) + int(m.get("numTargetRowsUpdated", 0))
            for m in delta_io.commits_since(spark, silver, before)
        )
        counts = parsed.groupBy().agg(F.count("*").alias("read"), F.count("reason").alias("rejected")).first()
        parsed.unpersist()
        stats.rows_read += counts["read"]
        stats.rows_quarantined += counts["rejected"]
        stats.rows_written += written

    process_available(
        spark.readStream.format("delta").load(bronze), config.checkpoint(silver_key), write_batch, f"silver {dataset}"
    )
    return stats


def insert_new_messages(spark, deduplicated, path):
    delta_io.insert_new(spark, deduplicated, path, messages.EVENT_KEY)


def upsert_orders(spark, latest, path):
    delta_io.upsert(spark, latest, path, ("order_id",))


def main(spark, config, args):
    message_stats = process(
        spark, config, "customer_agent_messages", "bronze_messages", "silver_messages", "quarantine_messages",
        messages.parse_messages, messages.deduplicate_messages, insert_new_messages,
    )
    order_stats = process(
        spark, config, "orders", "bronze_orders", "silver_orders", "quarantine_orders",
        orders.parse_orders, orders.latest_orders, upsert_orders,
    )
    for s in (message_stats, order_stats):
        # A valid record not written is a duplicate event, or for orders a record
        # replaced by a later one of the same order in the same batch.
        s.duplicates = s.rows_read - s.rows_quarantined - s.rows_written
        print(
            f"silver {s.dataset}: read {s.rows_read}, written {s.rows_written}, "
            f"quarantined {s.rows_quarantined}, duplicates {s.duplicates}"
        )
    return [message_stats, order_stats]


if __name__ == "__main__":
    parser = job_parser("silver", __doc__)
    sys.exit(run_job("silver", parser, main))
