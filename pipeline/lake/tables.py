"""Delta tables: create, read, write (append once, overwrite, insert-new, upsert),
versions, properties and CHECK constraints."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructField, StructType

from pipeline import PipelineError
from pipeline.lake.files import delete as delete_file, file_names, path_exists, read_text

CONSTRAINT = "delta.constraints."  # table property prefix of CHECK constraints
COMMIT_FILE = re.compile(r"(\d{20})\.json")  # _delta_log/<version>.json, one per commit
# A writer feature only: the table stays at reader version 1, which every Delta reader reads.
CHANGE_FEED = {"delta.enableChangeDataFeed": "true"}
# MERGE then marks replaced rows deleted instead of rewriting every file that
# holds one. A reader feature (reader version 3): delta-rs's default API
# (DeltaTable.to_pyarrow_table / to_pandas) and engines without deletion vector
# support refuse the table. Off, ensure_properties drops the feature again.
DELETION_VECTOR_KEY = "delta.enableDeletionVectors"
DELETION_VECTOR_FEATURE = "deletionVectors"
# The table's write layout, kept in its own properties (other readers ignore
# them), which every write through this module follows: rows sorted by these
# columns inside each partition, at most this many rows per file. A MERGE that
# states its key range then rewrites only the few files whose range holds a
# touched key, not every file of each touched partition.
SORTED_BY = "pipeline.layout.sortedBy"
ROWS_PER_FILE = "pipeline.layout.maxRowsPerFile"
MAX_RECORDS_PER_FILE = "spark.sql.files.maxRecordsPerFile"


def deletion_vectors(enabled: bool) -> dict[str, str]:
    """The property that turns deletion vectors on, or keeps (and makes) them off."""
    return {DELETION_VECTOR_KEY: str(enabled).lower()}


def layout(sorted_by: tuple[str, ...], rows_per_file: int) -> dict[str, str]:
    """The properties of a write layout (see SORTED_BY)."""
    return {SORTED_BY: ",".join(sorted_by), ROWS_PER_FILE: str(rows_per_file)}


def exists(spark: SparkSession, path: str) -> bool:
    """Whether a Delta table is at `path` (any Hadoop file system): a Delta log
    with a commit. A creation cut short (Ctrl-C, kill -9) leaves a log without one."""
    return bool(commit_versions(spark, path))


def require_table(spark: SparkSession, path: str, produced_by: str) -> None:
    if not exists(spark, path):
        raise PipelineError(f"no Delta table at {path}: run the {produced_by} job first")


def read(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
    """The table, at `version` when given (one snapshot even if writers go on)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def commit_versions(spark: SparkSession, path: str) -> list[int]:
    """The versions whose commit files are in the table's Delta log, sorted (a listing: no Spark job)."""
    return sorted(int(m[1]) for name in file_names(spark, f"{path}/_delta_log") if (m := COMMIT_FILE.fullmatch(name)))


def version(spark: SparkSession, path: str) -> int:
    """The table's latest version."""
    versions = commit_versions(spark, path)
    if not versions:
        raise PipelineError(f"no Delta table at {path}")
    return versions[-1]


def commits(spark: SparkSession, path: str, after: int, limit: int | None = None) -> list[dict]:
    """The commitInfo (operation, operationMetrics, userMetadata, ...) of the
    commits after version `after`, newest first and at most `limit`, each with
    its "version". Read from the commit files, the Delta protocol's record of
    each commit: no Spark job, where DeltaTable.history reconstructs the table's
    state first. Commits whose files the log retention removed are left out."""
    infos = []
    for number in [v for v in commit_versions(spark, path) if v > after][::-1][:limit]:
        info = next((action["commitInfo"] for action in commit_actions(spark, path, number) if "commitInfo" in action), {})
        infos.append({**info, "version": number})
    return infos


def commit_actions(spark: SparkSession, path: str, version: int) -> list[dict]:
    """The actions (commitInfo, add, remove, metaData, ...) of one commit, from its commit file: no Spark job."""
    text = read_text(spark, f"{path}/_delta_log/{version:020d}.json")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def history(spark: SparkSession, path: str, limit: int) -> DataFrame:
    """The table's last `limit` commits (version, timestamp, operation, ...), newest first."""
    return DeltaTable.forPath(spark, path).history(limit)


def ensure_table(
    spark: SparkSession,
    path: str,
    schema: StructType,
    partitioned_by: tuple[str, ...] = (),
    properties: dict[str, str] | None = None,
    constraints: dict[str, str] | None = None,
) -> None:
    """Create an empty Delta table at `path` unless one is there (with its CHECK
    constraints in the same commit); add the columns of `schema` that a table
    made before them lacks (NULL in its rows)."""
    if not exists(spark, path) and path_exists(spark, f"{path}/_delta_log"):
        delete_file(spark, f"{path}/_delta_log", recursive=True)  # cut short: Delta would take it for a table
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
    if partitioned_by:
        builder = builder.partitionedBy(*partitioned_by)
    for name, value in (properties or {}).items():
        builder = builder.property(name, value)
    for name, check in (constraints or {}).items():
        builder = builder.property(CONSTRAINT + name, check)
    builder.execute()
    present = set(read(spark, path).columns)
    missing = [f"`{f.name}` {f.dataType.simpleString()}" for f in schema if f.name not in present]
    if missing:
        spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({', '.join(missing)})")


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
        key.removeprefix(CONSTRAINT): check_text(value) for key, value in table_properties(spark, path).items()
        if key.startswith(CONSTRAINT)
    }
    for name, check in current.items():
        if check_text(constraints.get(name, "")) != check:
            spark.sql(f"ALTER TABLE delta.`{path}` DROP CONSTRAINT {name}")
    for name, check in constraints.items():
        if add and current.get(name) != check_text(check):
            spark.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT {name} CHECK ({check})")


def table_properties(spark: SparkSession, path: str) -> dict[str, str]:
    return DeltaTable.forPath(spark, path).detail().first()["properties"]


def table_features(spark: SparkSession, path: str) -> set[str]:
    """The reader and writer features of the table's protocol (empty below writer version 7)."""
    return set(DeltaTable.forPath(spark, path).detail().first()["tableFeatures"] or ())


def ensure_properties(spark: SparkSession, path: str, properties: dict[str, str]) -> None:
    """Set the properties an existing table lacks (one commit, only when one differs),
    e.g. on a table made before the property was given. A property wanted "false"
    is met when absent (Delta's switches are off by default). Deletion vectors
    wanted off on a table that has the feature: the feature is dropped from the
    protocol, so that readers without support can read the table again (Delta
    purges the deletion vectors, rewriting the files that have them, and protects
    the older history by a checkpoint instead of truncating it)."""
    if properties.get(DELETION_VECTOR_KEY) == "false" and DELETION_VECTOR_FEATURE in table_features(spark, path):
        spark.sql(f"ALTER TABLE delta.`{path}` DROP FEATURE {DELETION_VECTOR_FEATURE}")
    current = table_properties(spark, path)
    missing = {
        name: value for name, value in properties.items()
        if current.get(name, "false" if value == "false" else None) != value
    }
    if missing:
        settings = ", ".join(f"'{name}' = '{value}'" for name, value in missing.items())
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({settings})")


def append(df: DataFrame, path: str, merge_schema: bool = False) -> None:
    df.write.format("delta").mode("append").option("mergeSchema", str(merge_schema).lower()).save(path)


def append_once(df: DataFrame, path: str, app_id: str, batch_id: int) -> None:
    """Append a batch; a replay of the same (app_id, batch_id) after a crash is skipped by Delta."""
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", batch_id)
        .save(path)
    )


def overwrite(
    df: DataFrame,
    path: str,
    partitioned_by: tuple[str, ...] = (),
    replace_where: str | None = None,
    new_schema: bool = False,
) -> None:
    """Replace the table's rows, or only those matching `replace_where`; with
    `new_schema`, its schema and partitioning too. Follows the table's layout."""
    sorted_by, rows_per_file = write_layout(df.sparkSession, path)
    if sorted_by:  # a range per task: each partition's files then hold narrow, disjoint key ranges
        df = df.orderBy(*partitioned_by, *sorted_by)
    writer = df.write.format("delta").mode("overwrite")
    if rows_per_file:
        writer = writer.option("maxRecordsPerFile", rows_per_file)
    if partitioned_by:
        writer = writer.partitionBy(*partitioned_by)
    if replace_where is not None:
        writer = writer.option("replaceWhere", replace_where)
    if new_schema:
        writer = writer.option("overwriteSchema", "true")
    writer.save(path)


def null_safe_match(key: tuple[str, ...]) -> str:
    return " AND ".join(f"target.`{name}` <=> source.`{name}`" for name in key)


def upsert(spark: SparkSession, source: DataFrame, path: str, key: tuple[str, ...], within: tuple | None = None) -> None:
    """Replace matching rows as a whole and insert the others (idempotent on replay)."""
    merge(spark, source, path, key, replace_matches=True, within=within)


def merge(
    spark: SparkSession, source: DataFrame, path: str, key: tuple[str, ...], replace_matches: bool,
    within: tuple | None = None,
) -> None:
    """Insert the source rows whose key is not in the table yet, and with
    `replace_matches` replace the matching rows as a whole (idempotent on replay).

    `within` = (column, low, high): the range of a key column that holds every
    source row. Stated on the target, it lets Delta skip the files whose
    statistics lie outside it instead of reading the whole table's keys."""
    condition = null_safe_match(key)
    if within is not None:
        column, low, high = within
        condition += f" AND target.`{column}` BETWEEN {int(low)} AND {int(high)}"
    builder = DeltaTable.forPath(spark, path).alias("target").merge(source.alias("source"), condition)
    if replace_matches:
        builder = builder.whenMatchedUpdateAll()
    # MERGE takes no write options: the layout's file size is the session's for its duration.
    with session_setting(spark, MAX_RECORDS_PER_FILE, write_layout(spark, path)[1]):
        builder.whenNotMatchedInsertAll().execute()


def write_layout(spark: SparkSession, path: str) -> tuple[tuple[str, ...], int | None]:
    """The table's layout (SORTED_BY): its sort columns and rows per file; none for a new table."""
    if not exists(spark, path):
        return (), None
    properties = table_properties(spark, path)
    sorted_by = tuple(name for name in properties.get(SORTED_BY, "").split(",") if name)
    rows = properties.get(ROWS_PER_FILE)
    return sorted_by, int(rows) if rows else None


@contextmanager
def session_setting(spark: SparkSession, key: str, value) -> Iterator[None]:
    """`key` set to `value` inside the block (nothing changes for None), then restored."""
    if value is None:
        yield
        return
    before = spark.conf.get(key, None)
    spark.conf.set(key, str(value))
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def optimize(spark: SparkSession, path: str, z_order_by: tuple[str, ...], retain_hours: float) -> dict:
    """Compact small files (Z-ordered when `z_order_by`; a table with a layout is
    rewritten in it instead), then vacuum unreferenced files older than
    `retain_hours`; the OPTIMIZE metrics (numFilesRemoved, numFilesAdded)."""
    table = DeltaTable.forPath(spark, path)
    if write_layout(spark, path)[0]:
        metrics = relayout(spark, path)
    else:
        optimizer = table.optimize()
        result = optimizer.executeZOrderBy(*z_order_by) if z_order_by else optimizer.executeCompaction()
        metrics = result.first()["metrics"]
    table.vacuum(retain_hours)
    return metrics


def relayout(spark: SparkSession, path: str) -> dict:
    """Rewrite a table with a layout in it (sorted, rows per file) as one commit
    that changes no data: OPTIMIZE would merge or Z-order its files into ones
    that each span the whole key range (a one-column Z-order does not sort), and
    MERGEs write their rewritten rows unsorted; this restores the narrow ranges."""
    detail = DeltaTable.forPath(spark, path).detail().first()
    before = version(spark, path)
    rows = read(spark, path, before)
    sorted_by, rows_per_file = write_layout(spark, path)
    (
        rows.orderBy(*detail["partitionColumns"], *sorted_by).write.format("delta").mode("overwrite")
        .option("dataChange", "false").option("maxRecordsPerFile", rows_per_file).save(path)
    )
    written = commits(spark, path, before, 1)[0].get("operationMetrics", {})
    return {"numFilesRemoved": int(written.get("numRemovedFiles", 0)), "numFilesAdded": int(written.get("numFiles", 0))}


def delete(spark: SparkSession, path: str, condition) -> None:
    """Delete the rows matching `condition` (a Column or SQL text) in one commit."""
    DeltaTable.forPath(spark, path).delete(condition)


def update(spark: SparkSession, path: str, condition, values: dict) -> None:
    """Set columns ({name: Column}) of the rows matching `condition` in one commit."""
    DeltaTable.forPath(spark, path).update(condition, values)


RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
# Commit, checkpoint, checksum and compacted log files: <version>.<kind>
LOG_FILE = re.compile(r"(\d{20})\.(json|crc|checkpoint(\.[^/]*)?\.parquet|\d{20}\.compacted\.json)")


def purge_removed(spark: SparkSession, path: str) -> None:
    """Remove from storage every file the current version does not reference:
    the data files of every older version and all change data feed files
    (VACUUM with no retention; Delta's check against a retention below 7 days
    is off for this command only). Deletion vectors are purged first: a row
    a DELETE only marked deleted would otherwise stay in its file."""
    if DELETION_VECTOR_FEATURE in table_features(spark, path):
        spark.sql(f"REORG TABLE delta.`{path}` APPLY (PURGE)")
    with session_setting(spark, RETENTION_CHECK, "false"):
        DeltaTable.forPath(spark, path).vacuum(0)


def forget_history(spark: SparkSession, path: str, keep_from: int) -> None:
    """Drop the table's history before version `keep_from`: a checkpoint of the
    current version is written, then the older commit, checksum and checkpoint
    files are deleted (their add actions' statistics hold column values, the
    min and max of each file). Delta's own log cleanup cannot do this: it keeps
    the logs of the last day whatever the retention. Time travel to an older
    version fails from then on; the table itself reads as before."""
    DeltaTable.forPath(spark, path).history(1).collect()  # brings the JVM's view of the log up to date
    log = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    log.checkpoint()
    latest = version(spark, path)
    checkpoint = json.loads(read_text(spark, f"{path}/_delta_log/_last_checkpoint"))["version"]
    if checkpoint != latest:  # never delete the commits a reader still needs
        raise PipelineError(f"no checkpoint of version {latest} of {path} (found {checkpoint}); history kept")
    for name in file_names(spark, f"{path}/_delta_log"):
        match = LOG_FILE.fullmatch(name)
        if match and int(match[1]) < keep_from:
            delete_file(spark, f"{path}/_delta_log/{name}")
