"""Bronze: ingest new landing files into Delta, each file exactly once, with lineage."""

import sys

from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType, TimestampType

from pipeline import PipelineError
from pipeline.lake import incremental, tables
from pipeline.lake.files import path_exists
from pipeline.runtime.audit import RunStats
from pipeline.runtime.cli import job_parser, run_job
from pipeline.runtime.faults import crash_point
from pipeline.transforms.landing import LANDING_GLOB, split_records
from pipeline.lake.streams import process_available

BRONZE_SCHEMA = StructType(
    [
        StructField("source_file", StringType()),
        StructField("record_index", IntegerType()),
        StructField("raw", StringType()),
        StructField("ingest_batch", LongType()),
        StructField("ingested_at", TimestampType()),
    ]
)
DATASETS = {"customer_agent_messages": "bronze_messages", "orders": "bronze_orders"}


def ingest(spark, config, dataset: str, table_key: str) -> RunStats:
    landing, table = config.landing(dataset), config.table(table_key)
    if not path_exists(spark, landing):
        raise PipelineError(f"landing folder not found: {landing}")
    tables.ensure_table(spark, table, BRONZE_SCHEMA)
    before = tables.version(spark, table)

    files = (
        spark.readStream.format("text")
        .option("wholetext", "true")
        .option("pathGlobFilter", LANDING_GLOB)
        .load(landing)
        .select(F.col("_metadata.file_path").alias("source_file"), F.col("value").alias("content"))
    )

    def write_batch(batch, batch_id):
        records = split_records(batch).select(
            "source_file",
            "record_index",
            "raw",
            F.lit(batch_id).cast("long").alias("ingest_batch"),
            F.current_timestamp().alias("ingested_at"),
        )
        tables.append_once(records, table, f"bronze-{dataset}", batch_id)
        crash_point(f"bronze.{dataset}.after_write")  # before the checkpoint records the batch

    new_files = process_available(files, config.checkpoint(table_key), write_batch, f"bronze {dataset}")
    written = incremental.written_since(spark, table, before)
    stats = RunStats(
        dataset, rows_read=new_files, rows_written=written.rows, input=f"{new_files} new files in {landing}",
        delta_version=written.version,
    )
    if new_files:
        print(f"bronze {dataset}: {new_files} new files, {written.rows} records -> {table}")
    else:
        print(f"bronze {dataset}: nothing new in {landing}")
    return stats


def main(spark, config, args):
    return [ingest(spark, config, dataset, key) for dataset, key in DATASETS.items()]


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("bronze", __doc__)
    return run_job("bronze", parser, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
