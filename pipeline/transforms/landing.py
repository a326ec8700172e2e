"""Landing files -> raw records, keeping each record's place in its file.

A file is a JSON array when its first non-blank character is `[`, else JSON
Lines, whatever its extension. A broken array file becomes one record holding
the whole file text, so silver quarantines it instead of losing it. Small
files arrive whole (split_records); large JSON Lines files arrive line by line,
in blocks read in parallel (number_lines). A UTF-8 byte order mark is dropped.
"""

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

BOM = "^\uFEFF"


def split_records(files: DataFrame) -> DataFrame:
    """(source_file, content) per file -> (source_file, record_index, raw) per record."""
    content = F.regexp_replace(F.col("content"), BOM, "")
    # An element comes back as its JSON text, except a string (its value,
    # unquoted: "{...}" would read as an object) and null (a SQL NULL): those
    # take their JSON text from the element parsed as a variant.
    elements = F.zip_with(
        F.from_json(content, "array<string>"), F.from_json(content, "array<variant>"),
        lambda text, value: F.when(F.schema_of_variant(value) == "STRING", F.to_json(value))
        .otherwise(F.coalesce(text, F.lit("null"))),
    )
    lines = F.filter(F.split(content, r"\r\n?|\n"), lambda line: line.rlike(r"\S"))
    records = F.when(content.rlike(r"^\s*\["), F.coalesce(elements, F.array(content))).otherwise(lines)
    return files.select("source_file", F.posexplode(records).alias("record_index", "raw"))


def number_lines(lines: DataFrame) -> DataFrame:
    """(source_file, block_start, raw) per line, as Spark's line reader gives a
    file in blocks -> (source_file, record_index, raw) per non-blank line.

    A line's index is the number of non-blank lines in the file's earlier
    blocks plus its place in its own block: within a block, the ids of
    monotonically_increasing_id are consecutive. The per-block counts are a
    small aggregate, broadcast back to the lines."""
    rows = (
        lines.withColumn("raw", F.regexp_replace("raw", BOM, ""))
        .where(F.col("raw").rlike(r"\S"))
        .withColumn("row_id", F.monotonically_increasing_id())
    )
    earlier = Window.partitionBy("source_file").orderBy("block_start").rowsBetween(Window.unboundedPreceding, -1)
    blocks = (
        rows.groupBy("source_file", "block_start")
        .agg(F.min("row_id").alias("first_id"), F.count(F.lit(1)).alias("lines"))
        .withColumn("offset", F.coalesce(F.sum("lines").over(earlier), F.lit(0)))
    )
    index = F.col("offset") + F.col("row_id") - F.col("first_id")
    return rows.join(F.broadcast(blocks), ["source_file", "block_start"], how="inner").select(
        "source_file", index.cast("int").alias("record_index"), "raw"
    )
