"""Split landing files into raw records, keeping each record's place in its file.

A file is a JSON array when its first non-blank character is `[`, else JSON
Lines, whatever its extension. A broken array file becomes one record holding
the whole file text, so silver quarantines it instead of losing it.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

LANDING_GLOB = "*.{json,jsonl,json.gz,jsonl.gz}"


def split_records(files: DataFrame) -> DataFrame:
    """(source_file, content) per file -> (source_file, record_index, raw) per record."""
    content = F.regexp_replace(F.col("content"), "^\uFEFF", "")  # a UTF-8 byte order mark is no record text
    elements = F.from_json(content, "array<string>")
    lines = F.filter(F.split(content, r"\r\n?|\n"), lambda line: line.rlike(r"\S"))
    records = F.when(content.rlike(r"^\s*\["), F.coalesce(elements, F.array(content))).otherwise(lines)
    return files.select("source_file", F.posexplode(records).alias("record_index", "raw"))
