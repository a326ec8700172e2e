"""The small I/O layer: create Delta tables, append exactly once, merge, inspect
commits; and replace a small text file (the report) whole."""

import json
import os
import re
import tempfile
from contextlib import contextmanager

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructField, StructType

from pipeline import PipelineError
from pipeline.config import local_path

USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
CONSTRAINT = "delta.constraints."  # table property prefix of CHECK constraints


def path_exists(spark: SparkSession, path: str) -> bool:
    """Whether a file or folder exists, on any Hadoop file system."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).exists(hadoop_path)


def write_text(spark: SparkSession, path: str, content: str) -> None:
    """Write a small UTF-8 file through a temporary file and a rename, so readers
    see the old or the new file whole. (On object stores Hadoop's rename copies.)"""
    local = local_path(path)
    if local is not None:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(local), prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(content)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the report from other users
            os.replace(temporary, local)
        except BaseException:
            os.unlink(temporary)
            raise
        return
    jvm = spark._jvm
    final = jvm.org.apache.hadoop.fs.Path(path)
    temporary = jvm.org.apache.hadoop.fs.Path(final.getParent(), f".{final.getName()}.tmp")
    fs = final.getFileSystem(spark._jsc.hadoopConfiguration())
    out = fs.create(temporary, True)
    try:
        out.write(bytearray(content.encode("utf-8")))
    finally:
        out.close()
    replace_file(spark, temporary.toString(), path)


def replace_file(spark: SparkSession, source: str, target: str) -> None:
    """Rename `source` over `target` in one step. FileContext.rename with OVERWRITE
    replaces the target atomically on HDFS and local disks (FileSystem.rename
    refuses an existing target; on object stores any rename is a copy)."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    final = hadoop.Path(target)
    overwrite = spark.sparkContext._gateway.new_array(hadoop.Options.Rename, 1)
    overwrite[0] = hadoop.Options.Rename.OVERWRITE
    context = hadoop.FileContext.getFileContext(final.toUri(), spark._jsc.hadoopConfiguration())
    context.rename(hadoop.Path(source), final, overwrite)


def ensure_table(
    spark: SparkSession,
    path: str,
    schema: StructType,
    partitioned_by: tuple[str, ...] = (),
    change_feed: bool = False,
    constraints: dict[str, str] | None = None,
) -> None:
    """Create an empty Delta table at `path` unless one is there (with its CHECK
    constraints in the same commit)."""
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
    if partitioned_by:
        builder = builder.partitionedBy(*partitioned_by)
    if change_feed:
        builder = builder.property("delta.enableChangeDataFeed", "true")
    for name, check in (constraints or {}).items():
        builder = builder.property(CONSTRAINT + name, check)
    builder.execute()


def nullable(schema: StructType) -> StructType:
    """The schema with every column nullable, as a DataFrame write creates a Delta table."""
    return StructType([StructField(f.name, f.dataType, True, f.metadata) for f in schema])


def check_text(expression: str) -> str:
    """A CHECK expression without the whitespace outside its string literals:
    Delta stores an added constraint's text re-spaced (`IN ( 'a' , 'b' )`)."""
    parts = re.split(r"('(?:[^'\\]|\\.)*')", expression)
    return "".join(part if part.startswith("'") else re.sub(r"\s+", "", part) for part in parts)


def ensure_constraints(spark: SparkSession, path: str, constraints: dict[str, str], add: bool = True) -> None:
    """Make the table's CHECK constraints exactly `constraints` (only drop the
    stale ones when not `add`): a constraint added to a table with data makes
    Delta check every row there first."""
    current = {
        key.removeprefix(CONSTRAINT): check_text(value) for key, value in properties(spark, path).items()
        if key.startswith(CONSTRAINT)
    }
    for name, check in current.items():
        if check_text(constraints.get(name, "")) != check:
            spark.sql(f"ALTER TABLE delta.`{path}` DROP CONSTRAINT {name}")
    for name, check in constraints.items():
        if add and current.get(name) != check_text(check):
            spark.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT {name} CHECK ({check})")


def require_table(spark: SparkSession, path: str, produced_by: str) -> None:
    if not DeltaTable.isDeltaTable(spark, path):
        raise PipelineError(f"no Delta table at {path}: run the {produced_by} job first")


def version(spark: SparkSession, path: str) -> int:
    return DeltaTable.forPath(spark, path).history(1).first()["version"]


def history_since(spark: SparkSession, path: str, after_version: int, column: str) -> list:
    """One history column of the commits made after `after_version`, newest
    first; reads only those commits, not the whole (ever-growing) history."""
    count = version(spark, path) - after_version
    if count <= 0:
        return []
    return [row[column] for row in DeltaTable.forPath(spark, path).history(count).select(column).collect()]


def commits_since(spark: SparkSession, path: str, after_version: int) -> list[dict]:
    """Operation metrics of the commits made after `after_version`."""
    return [metrics or {} for metrics in history_since(spark, path, after_version, "operationMetrics")]


def properties(spark: SparkSession, path: str) -> dict[str, str]:
    return DeltaTable.forPath(spark, path).detail().first()["properties"]


def change_feed_enabled(spark: SparkSession, path: str) -> bool:
    return properties(spark, path).get("delta.enableChangeDataFeed") == "true"


def enable_change_feed(spark: SparkSession, path: str) -> None:
    """Turn on an existing table's Change Data Feed (one commit, only when it is off)."""
    if not change_feed_enabled(spark, path):
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)")


def append_once(df: DataFrame, path: str, app_id: str, batch_id: int) -> None:
    """Append a batch; a replay of the same (app_id, batch_id) after a crash is skipped by Delta."""
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", batch_id)
        .save(path)
    )


def null_safe_match(key: tuple[str, ...]) -> str:
    return " AND ".join(f"target.`{name}` <=> source.`{name}`" for name in key)


def insert_new(spark: SparkSession, source: DataFrame, path: str, key: tuple[str, ...]) -> None:
    """Insert the source rows whose key is not in the table yet (idempotent on replay)."""
    (
        DeltaTable.forPath(spark, path)
        .alias("target")
        .merge(source.alias("source"), null_safe_match(key))
        .whenNotMatchedInsertAll()
        .execute()
    )


def upsert(spark: SparkSession, source: DataFrame, path: str, key: tuple[str, ...]) -> None:
    """Replace matching rows as a whole and insert the others (idempotent on replay)."""
    (
        DeltaTable.forPath(spark, path)
        .alias("target")
        .merge(source.alias("source"), null_safe_match(key))
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


@contextmanager
def commit_metadata(spark: SparkSession, metadata: dict):
    """Attach `metadata` (JSON) to the Delta commits made inside the block: a job
    records what it has processed atomically with the data it writes."""
    spark.conf.set(USER_METADATA, json.dumps(metadata, sort_keys=True))
    try:
        yield
    finally:
        spark.conf.unset(USER_METADATA)


def last_commit_metadata(spark: SparkSession, path: str, key: str, depth: int = 100) -> dict | None:
    """The newest commit metadata holding `key` (maintenance commits such as
    OPTIMIZE carry none), or None."""
    rows = (
        DeltaTable.forPath(spark, path)
        .history(depth)
        .where("userMetadata IS NOT NULL")
        .orderBy("version", ascending=False)
        .select("userMetadata")
        .collect()
    )
    for row in rows:
        metadata = json.loads(row["userMetadata"])
        if key in metadata:
            return metadata
    return None
