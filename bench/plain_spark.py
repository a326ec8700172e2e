"""The plain one-job PySpark baseline of make bench: landing JSON -> gold Parquet.

    spark-submit --driver-memory 2g bench/plain_spark.py LAKE

The same landing-to-gold logic as the pipeline (its pure transforms and
quarantine rules: built-in functions only) in one Spark job with none of the
medallion: no Delta tables, no bronze or silver written, no incremental
bookkeeping, audit or locks. Writes LAKE/plain_spark/customer_agent_conversations
(Parquet, partitioned by conversation_date); bench/run.py checks it row for row
against the pipeline's gold.
"""

import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline import quality  # noqa: E402
from pipeline.transforms import messages, orders  # noqa: E402
from pipeline.transforms.conversations import GOLD_COLUMNS, build_conversations  # noqa: E402
from pipeline.transforms.landing import split_records  # noqa: E402
from pipeline.transforms.records import valid_records  # noqa: E402

LANDING_GLOB = "*.{json,jsonl,json.gz,jsonl.gz}"


def records(spark, folder: str):
    files = (
        spark.read.format("text").option("wholetext", "true").option("recursiveFileLookup", "true")
        .option("pathGlobFilter", LANDING_GLOB).load(folder)
        .select(F.col("_metadata.file_path").alias("source_file"), F.col("value").alias("content"))
    )
    return split_records(files).select(
        "*", F.lit(0).cast("long").alias("ingest_batch"), F.current_timestamp().alias("ingested_at")
    )


def silver(spark, lake: str, dataset: str, parse, to_silver, layer: str):
    parsed = quality.with_quarantine_reasons(parse(records(spark, f"{lake}/landing/{dataset}")), quality.load_rules(layer))
    return to_silver(valid_records(parsed))


def main(lake: str) -> None:
    spark = SparkSession.builder.appName("plain-spark-baseline").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    spark.conf.set("spark.sql.shuffle.partitions", "4")  # as conf/local.toml gives the pipeline
    chats = silver(spark, lake, "customer_agent_messages", messages.parse_messages, messages.deduplicate_messages,
                   "silver_messages")
    cities = silver(spark, lake, "orders", orders.parse_orders, orders.latest_orders, "silver_orders")
    gold = build_conversations(chats, cities).select(*GOLD_COLUMNS)
    gold.write.mode("overwrite").partitionBy("conversation_date").parquet(f"{lake}/plain_spark/customer_agent_conversations")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
