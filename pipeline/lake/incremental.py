"""What is new since a job's last run, and the record of what it processed.

Each incremental job keeps its watermark, how far it has read its inputs, in
the Delta commit metadata of the table it writes (silver: the last bronze
batch; gold: the silver versions; kpis: the gold version). The watermark is
committed atomically with the data, so a crash loses both or neither. The
inputs' changes since a watermark: silver's rows from Delta's Change Data Feed,
gold's days from the partitions its commit files name.
"""

import json
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import DataFrame, SparkSession

from pipeline.lake.tables import commit_actions, commit_versions, commits, exists

# The last bronze ingest batch a commit holds (bronze's appends) or reflects (silver's and quarantine's writes).
BRONZE_BATCH = "bronze_batch"
USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
SKIP_EMPTY_COMMITS = "spark.databricks.delta.skipRecordingEmptyCommits"
# Commits that change no data, and those whose changed partitions their files name
# (a WRITE may replace the whole table and its schema: the reader rebuilds then).
NO_DATA_CHANGE = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})
DESCRIBED_BY_FILES = NO_DATA_CHANGE | {"MERGE", "DELETE", "UPDATE"}


def last_watermark(spark: SparkSession, path: str, key: str, depth: int = 100) -> dict | None:
    """The newest watermark holding `key` recorded in the table's last `depth`
    commits (maintenance commits such as OPTIMIZE carry none); None when the
    table does not exist or recorded none. Reads the Delta log: no Spark job."""
    if not exists(spark, path):
        return None
    for info in commits(spark, path, -1, depth):
        metadata = json.loads(info["userMetadata"]) if info.get("userMetadata") else {}
        if key in metadata:
            return metadata
    return None


def is_behind(spark: SparkSession, path: str, source: str, key: str) -> bool:
    """Whether `source` has commits recording a higher `key` than the last one
    `path` recorded; True when either table recorded none. Reads the two
    tables' Delta logs only: no Spark job."""
    done, available = last_watermark(spark, path, key), last_watermark(spark, source, key)
    return not (done and available and available[key] <= done[key])


@contextmanager
def recording(spark: SparkSession, watermark: dict):
    """Attach `watermark` (as JSON) to the Delta commits made inside the block.
    A write that changes no row (a MERGE of changes that touch no conversation)
    still commits, so that the watermark advances: Delta skips such commits by default."""
    spark.conf.set(USER_METADATA, json.dumps(watermark, sort_keys=True))
    spark.conf.set(SKIP_EMPTY_COMMITS, "false")
    try:
        yield
    finally:
        spark.conf.unset(USER_METADATA)
        spark.conf.unset(SKIP_EMPTY_COMMITS)


def history_since(spark: SparkSession, path: str, after_version: int, field: str) -> list:
    """One field of the commitInfo of the commits made after `after_version`,
    newest first (None where a commit has none); reads only those commits."""
    return [info.get(field) for info in commits(spark, path, after_version)]


@dataclass(frozen=True)
class Written:
    rows: int  # rows added or replaced (a MERGE's copied, unchanged rows do not count)
    version: int | None  # the table's version after the commits; None when there were none
    metrics: list[dict]  # each commit's operation metrics, newest first


def written_since(spark: SparkSession, path: str, before: int) -> Written:
    """What the commits after version `before` wrote."""
    metrics = [m or {} for m in history_since(spark, path, before, "operationMetrics")]
    rows = sum(
        int(m.get("numTargetRowsInserted", 0)) + int(m.get("numTargetRowsUpdated", 0))
        if "numTargetRowsInserted" in m else int(m.get("numOutputRows", 0))
        for m in metrics
    )
    return Written(rows, before + len(metrics) if metrics else None, metrics)


def changes(spark: SparkSession, path: str, after_version: int, upto_version: int) -> DataFrame:
    """The change feed rows of the commits after `after_version` up to `upto_version`."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", upto_version)
        .load(path)
    )


def changed_keys(spark: SparkSession, ranges: dict[str, tuple[int, int]], column: str) -> DataFrame:
    """Distinct `column` of every row changed in each table {path: (after, upto)}."""
    keys = [changes(spark, path, after, upto).select(column) for path, (after, upto) in ranges.items()]
    return reduce(DataFrame.unionByName, keys).distinct()


def changed_partitions(spark: SparkSession, path: str, after: int | None, upto: int, column: str) -> list[str] | None:
    """The distinct, sorted values of the partition column `column` (such as
    days) of the files that the commits after version `after` up to `upto`
    added or removed with their data: every value a changed row had or has (a
    rewritten file's unchanged rows may add a few more). Read from the commit
    files, no Spark job. None when they cannot tell: no watermark, a table
    recreated behind it, commit files gone (log retention), or a commit that
    rewrote the table."""
    if after is None or after > upto:
        return None
    versions = [v for v in commit_versions(spark, path) if after < v <= upto]
    if len(versions) != upto - after:
        return None
    values = set()
    for number in versions:
        actions = commit_actions(spark, path, number)
        operation = next((a["commitInfo"].get("operation") for a in actions if "commitInfo" in a), None)
        if operation not in DESCRIBED_BY_FILES:
            return None
        for action in actions:
            change = action.get("add") or action.get("remove")
            if change and change.get("dataChange", True):
                value = (change.get("partitionValues") or {}).get(column)
                if value is None:  # no partition values recorded, or a null one: cannot name it
                    return None
                values.add(value)
    return sorted(values)
