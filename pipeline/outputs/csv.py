"""A table as one CSV file: ISO-8601 UTC timestamps, header, sorted, replaced atomically."""

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import TimestampType

from pipeline import PipelineError
from pipeline.lake import tables
from pipeline.lake.files import replace_file
from pipeline.transforms.conversations import GOLD_COLUMNS

KEY = "gold_conversations"


def export_path(config) -> str:
    """<lake>/exports/customer_agent_conversations.csv"""
    return f"{config.lake}/exports/{config.table_name(KEY)}.csv"


def export_conversations(spark: SparkSession, config) -> int:
    """Write gold conversations as the CSV export (sorted by order_id); the rows written."""
    gold = config.table(KEY)
    tables.require_table(spark, gold, "gold")
    # One snapshot for the file and the count, even if gold changes meanwhile.
    conversations = tables.read(spark, gold, tables.version(spark, gold))
    rows = with_iso_timestamps(conversations.select(*GOLD_COLUMNS))
    write_single_csv(spark, rows, export_path(config), ("order_id",))
    return conversations.count()


def iso_utc(timestamp: Column) -> Column:
    """ISO-8601 UTC text as java.time's ISO_INSTANT writes it: the fraction of a
    second in groups of three digits, none when zero (2024-02-01T10:15:00Z,
    2024-02-01T10:15:00.250Z, 2024-02-01T10:15:00.000123Z). Null stays null.
    date_format uses the session time zone, which create_session pins to UTC."""
    text = F.date_format(timestamp, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")
    return F.concat(F.regexp_replace(text, r"\.?(000)+$", ""), F.lit("Z"))


def with_iso_timestamps(df: DataFrame) -> DataFrame:
    """Every timestamp column as ISO-8601 UTC text; other columns unchanged, same order."""
    return df.select(
        *(
            iso_utc(F.col(f.name)).alias(f.name) if isinstance(f.dataType, TimestampType) else F.col(f.name)
            for f in df.schema
        )
    )


def write_single_csv(spark: SparkSession, df: DataFrame, target: str, order_by: tuple[str, ...]) -> None:
    """Write `df` sorted by `order_by` as the one CSV file `target` (any Hadoop path).

    Spark writes a folder; the folder goes next to the target (a hidden name, so
    readers of the folder skip it) and its single part file is renamed over the
    target in one step, so a reader sees the old file or the new one, never half a file."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    conf = spark._jsc.hadoopConfiguration()
    final = hadoop.Path(target)
    temporary = hadoop.Path(final.getParent(), f".{final.getName()}.tmp")
    (
        df.repartition(1)  # one file; the read before it stays parallel
        .sortWithinPartitions(*order_by)
        .write.mode("overwrite")  # also replaces what a killed run left behind
        .option("header", True)
        .option("escape", '"')  # RFC 4180: a quote inside a field is doubled
        .csv(temporary.toString())
    )
    fs = temporary.getFileSystem(conf)
    parts = [status.getPath() for status in fs.listStatus(temporary) if status.getPath().getName().startswith("part-")]
    if len(parts) != 1:
        raise PipelineError(f"expected one CSV part file in {temporary.toString()}, found {len(parts)}")
    replace_file(spark, parts[0].toString(), target)
    # The local file system renames the part's checksum file with it: no hidden
    # .<name>.crc beside the export (a reader through Hadoop needs none).
    fs.delete(hadoop.Path(final.getParent(), f".{final.getName()}.crc"), False)
    fs.delete(temporary, True)
