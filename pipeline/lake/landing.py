"""Landing files: list the new ones, read them into raw records, and tell the
files that cannot be read from the others.

Files are found at any depth below a landing folder; names starting with `.`
or `_` (Spark's rule for hidden files) and names that do not end in .json,
.jsonl, .json.gz or .jsonl.gz (so also .tmp, .part, .crdownload) are skipped.
A small file is read whole and split into records (JSON Lines or a JSON
array); a large JSON Lines file is read line by line, in blocks (splittable
when not compressed), and a large JSON array file is split by a streaming
parser first (json_arrays), so memory never depends on a file's size.
"""

import fnmatch
import gzip
import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import reduce

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import root_cause
from pipeline.lake import delta_log, json_arrays
from pipeline.lake.files import delete, file_names, local_path, path_exists, read_text, write_text
from pipeline.lake.streams import files_taken
from pipeline.lake.tables import append, exists, read, update

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
LANDING_GLOB = "*.{json,jsonl,json.gz,jsonl.gz}"
# Read whole up to this size on disk (compressed files expand about tenfold).
WHOLE_FILE_MAX_BYTES = {"plain": 64 << 20, "gzip": 8 << 20}
LANDED_FILE_SCHEMA = "dataset string, path string, size long, modification_time timestamp, ingest_batch long"
LANDING_FILE_SCHEMA = (
    "dataset string, path string, size long, modification_time timestamp, reason string, error string, "
    "ingest_batch long, quarantined_at timestamp"
)


@dataclass(frozen=True)
class LandingFile:
    path: str
    size: int

    @property
    def compressed(self) -> bool:
        return self.path.endswith(".gz")

    @property
    def large(self) -> bool:
        return self.size > WHOLE_FILE_MAX_BYTES["gzip" if self.compressed else "plain"]


def file_stream(spark: SparkSession, landing: str) -> DataFrame:
    """A stream of the landing files: path, length, modificationTime. The
    binaryFile source reads no file content when that column is not selected."""
    return (
        spark.readStream.format("binaryFile")
        .schema("path string, modificationTime timestamp, length long, content binary")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", LANDING_GLOB)
        .load(landing)
        .select("path", "length", "modificationTime")
    )


def column_names(schema: str) -> list[str]:
    return [column.split()[0] for column in schema.split(", ")]


def is_landing_file(relative: str) -> bool:
    """The stream's rule for a path below a landing folder: no hidden part, a landing suffix."""
    parts = relative.split("/")
    name = parts[-1]
    return not any(part.startswith((".", "_")) for part in parts) and any(
        fnmatch.fnmatchcase(name, f"*{suffix}") for suffix in (".json", ".jsonl", ".json.gz", ".jsonl.gz")
    )


def statuses(spark: SparkSession, folder: str):
    """The Hadoop FileStatus of each landing file now below `folder` (one listing, no Spark job)."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    root = hadoop.Path(folder)
    fs = root.getFileSystem(spark._jsc.hadoopConfiguration())
    prefix = fs.makeQualified(root).toString().rstrip("/") + "/"
    files = fs.listFiles(root, True)
    while files.hasNext():
        status = files.next()
        if is_landing_file(status.getPath().toString().removeprefix(prefix)):
            yield status


def listing(spark: SparkSession, folder: str) -> dict[str, tuple[int, int]]:
    """{path: (size, modification time in ms)} of the landing files now below `folder`."""
    return {s.getPath().toString(): (s.getLen(), s.getModificationTime()) for s in statuses(spark, folder)}


def waiting_files(spark: SparkSession, folder: str, checkpoint: str) -> dict[str, int] | None:
    """{file URI: modification ms} of the landing files below `folder` that the
    file stream of `checkpoint` has not taken, or that changed since; None when
    the checkpoint cannot tell (none yet, or a batch left unfinished). From a
    listing and the checkpoint's log: no Spark job."""
    taken = files_taken(spark, checkpoint)
    if taken is None or not path_exists(spark, folder):  # a missing folder: the run says so
        return None
    found = ((s.getPath().toUri().toString(), s.getModificationTime()) for s in statuses(spark, folder))
    return {uri: modified for uri, modified in found if taken.get(uri) != modified}


def changed_since_taken(spark: SparkSession, folder: str, taken: dict[str, tuple[int, int]]) -> list[str]:
    """Files taken before (`taken`: {path: (size, ms)}) whose size or time is no longer the same."""
    return sorted(path for path, now in listing(spark, folder).items() if path in taken and taken[path] != now)


def glob_escaped(path: str) -> str:
    """A path as a literal for Spark's readers, which expand glob characters."""
    return "".join("\\" + c if c in "{}[]*?\\" else c for c in path)


def first_character(spark: SparkSession, file: LandingFile) -> str:
    """The first non-blank character of a file ('' for none), read from its first bytes."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    path = hadoop.Path(file.path)
    stream = path.getFileSystem(spark._jsc.hadoopConfiguration()).open(path)
    try:
        head = bytes(spark._jvm.org.apache.commons.io.IOUtils.toByteArray(stream, min(file.size, 4096)))
    finally:
        stream.close()
    if file.compressed:
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)  # the start of a gzip stream
    return head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")[:1]


def read_whole(spark: SparkSession, files: list[LandingFile]) -> DataFrame:
    """(source_file, content): each file as one text."""
    whole = spark.read.format("text").option("wholetext", "true").load([glob_escaped(f.path) for f in files])
    return whole.select(F.col("_metadata.file_path").alias("source_file"), F.col("value").alias("content"))


def read_lines(spark: SparkSession, files: list[LandingFile]) -> DataFrame:
    """(source_file, block_start, raw): each line, with the start of the block it was read in."""
    lines = spark.read.format("text").load([glob_escaped(f.path) for f in files])
    return lines.select(
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_block_start").alias("block_start"),
        F.col("value").alias("raw"),
    )


def read_problem(file: LandingFile, error: str) -> tuple[str, str]:
    """(reason, error) of a file that could not be read."""
    io_problem = any(word in error for word in ("denied", "Denied", "FileNotFound", "No such file"))
    return ("corrupt_compressed_file" if file.compressed and not io_problem else "unreadable_file"), error


def unreadable(spark: SparkSession, file: LandingFile) -> tuple[str, str] | None:
    """(reason, error) when the file cannot be read through to its end, else None."""
    try:
        spark.read.format("text").load(glob_escaped(file.path)).count()
    except (Py4JJavaError, PySparkException) as err:
        return read_problem(file, root_cause(err))
    return None


def stage_large_arrays(spark, files: list[LandingFile], folder: str):
    """Split the large JSON array files among `files` into JSON Lines below
    `folder` (json_arrays): ({path: staged file}, {path: (reason, error)} of
    the large array files that are no valid JSON array or cannot be read)."""
    staged, problems = {}, {}
    for number, file in enumerate(f for f in files if f.large):
        try:
            if first_character(spark, file) != "[":
                continue
            target = f"{folder}/{number}.jsonl"
            json_arrays.stage(spark, file.path, target)
            staged[file.path] = target
        except json_arrays.ArrayError as err:
            problems[file.path] = ("invalid_json_array", str(err))
        except (zlib.error, EOFError, OSError, Py4JJavaError, PySparkException) as err:  # corrupt gzip, gone, denied
            problems[file.path] = read_problem(file, root_cause(err))
    return staged, problems


def read_staged(spark: SparkSession, staged: dict[str, str]) -> DataFrame:
    """(source_file, record_index, raw) of staged array files {landing path: staged file}."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    parts = [
        spark.read.schema(json_arrays.STAGED_SCHEMA).json(glob_escaped(target)).select(
            # The landing file's URI as Spark's _metadata.file_path spells it (a space is %20).
            F.lit(hadoop.Path(path).toUri().toString()).alias("source_file"),
            F.col("i").cast("int").alias("record_index"),
            "raw",
        )
        for path, target in staged.items()
    ]
    return reduce(DataFrame.unionByName, parts)


def remove(spark: SparkSession, folder: str) -> None:
    """Delete a folder and what it holds, if it is there."""
    path = spark._jvm.org.apache.hadoop.fs.Path(folder)
    path.getFileSystem(spark._jsc.hadoopConfiguration()).delete(path, True)


# Below the lake's _meta: each micro-batch's files until the run records them all in landed_files.
PENDING_TAKEN = "pending/landed_files"
FILE_ROW = "dataset string, path string, size long, modified_ms long, reason string, error string, ingest_batch long"


def file_entries(dataset: str, files: dict, batch_id: int, problems: dict) -> list[dict]:
    """One entry per file {path: (size, modified_ms)} of a batch, with its (reason, error) if any."""
    return [{"dataset": dataset, "path": path, "size": size, "modified_ms": modified,
             "reason": problems.get(path, (None, None))[0], "error": problems.get(path, (None, None))[1],
             "ingest_batch": batch_id} for path, (size, modified) in sorted(files.items())]


def file_rows(spark, entries: list[dict]) -> DataFrame:
    """The rows of file entries (file_entries), built in the JVM from one JSON
    literal (no Python workers for a few rows)."""
    parsed = F.from_json(F.lit(json.dumps(entries)), f"array<struct<{FILE_ROW}>>")
    return spark.range(1).select(F.inline(parsed)).select(
        "dataset", "path", "size", F.timestamp_millis("modified_ms").alias("modification_time"),
        "reason", "error", "ingest_batch", F.current_timestamp().alias("quarantined_at"),
    )


def stage_taken(spark, pending: str, entries: list[dict], dataset: str, batch_id: int) -> None:
    """Keep a batch's files for the record of files taken, in a small file below
    `pending` (no Delta commit): record_taken records every dataset's in one."""
    write_text(spark, f"{pending}/{dataset}-{batch_id}.json", json.dumps(entries))


def record_taken(spark, manifest: str, pending: str) -> None:
    """Append the files kept below `pending` to the record of files taken, in one
    commit, then remove them; a batch recorded already (a crash after the commit)
    is not recorded twice."""
    names = sorted(name for name in file_names(spark, pending) if name.endswith(".json"))
    if not names:
        return
    recorded = {(row["dataset"], row["ingest_batch"]) for row in manifest_rows(spark, manifest)}
    batches = [json.loads(read_text(spark, f"{pending}/{name}")) for name in names]
    entries = [entry for batch in batches for entry in batch if (entry["dataset"], entry["ingest_batch"]) not in recorded]
    if entries:  # the first append creates the table
        append(file_rows(spark, entries).select(*column_names(LANDED_FILE_SCHEMA)), manifest)
    for name in names:
        delete(spark, f"{pending}/{name}")


MANIFEST_COLUMNS = ["dataset", "path", "size", "modification_time", "ingest_batch"]
_manifest_rows: dict[str, list[dict]] = {}  # a local manifest's data file -> its rows (files never change)


def manifest_rows(spark, manifest: str) -> list[dict]:
    """The rows of the record of files taken (a row per file: metadata, not data); [] before it exists.
    A local manifest is read in plain Python, no Spark job, each of its data
    files once per process: a continuous application reads only the new ones."""
    local = local_path(manifest)
    if not (delta_log.is_table(local) if local else exists(spark, manifest)):
        return []
    snapshot = delta_log.snapshot(local) if local else None
    if snapshot is None or any(file.deleted for file in snapshot.files):
        return [row.asDict() for row in read(spark, manifest).select(*MANIFEST_COLUMNS).collect()]
    rows = []
    for file in snapshot.files:
        if file.path not in _manifest_rows:
            _manifest_rows[file.path] = delta_log.read_rows(delta_log.Snapshot(0, 0, "", [file], []), MANIFEST_COLUMNS)
        rows += _manifest_rows[file.path]
    return rows


def taken_files(spark, manifest: str, dataset: str) -> dict[str, tuple[int, int]]:
    """{path: (size, modified_ms)} of the files bronze took before."""
    taken: dict[str, tuple[int, int]] = {}
    rows = (r for r in manifest_rows(spark, manifest) if r["dataset"] == dataset)
    for row in sorted(rows, key=lambda r: r["ingest_batch"]):
        taken.setdefault(row["path"], (row["size"], _millis(row["modification_time"])))  # the first batch wins
    return taken


def _millis(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive time is UTC (Spark's timestamps as pyarrow reads them)."""
    return (moment.replace(tzinfo=moment.tzinfo or timezone.utc) - EPOCH) // timedelta(milliseconds=1)


def local_landing_file(spark: SparkSession, source_file: str) -> LandingFile | None:
    """The local landing file bronze recorded as `source_file` (a file: URI),
    named as the file stream names it, with its size now; None when it is gone."""
    path = spark._jvm.org.apache.hadoop.fs.Path(spark._jvm.java.net.URI(source_file)).toString()
    file = local_path(path)
    return LandingFile(path, os.path.getsize(file)) if os.path.isfile(file) else None


def local_size(file: LandingFile) -> int | None:
    """The size of a local landing file now; None when it is gone."""
    path = local_path(file.path)
    return os.path.getsize(path) if os.path.isfile(path) else None


def set_taken_sizes(spark: SparkSession, manifest: str, dataset: str, sizes: dict[str, int]) -> None:
    """Set the sizes of files in the record of files taken ({path: size}) in one commit."""
    size_of = F.create_map(*[F.lit(value) for item in sorted(sizes.items()) for value in item])
    condition = (F.col("dataset") == dataset) & F.col("path").isin(list(sizes))
    update(spark, manifest, condition, {"size": size_of[F.col("path")].cast("long")})


def replace_local_file(path: str, records: Iterable[str], array: bool) -> None:
    """Replace a local landing file by one of these records (a JSON array or
    JSON Lines, gzipped for a .gz name), keeping its modification time, so the
    file stream's checkpoint still sees the file it took; with no record left,
    remove it. Written beside it under a hidden name, then renamed over it."""
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".forget-{name}.tmp")  # hidden: no reader takes it
    opener = gzip.open if name.endswith(".gz") else open
    written = False
    with opener(temporary, "wt", encoding="utf-8", newline="") as out:
        for record in records:
            out.write((",\n" if written else "[\n") if array else "")
            out.write(record if array else f"{record}\n")
            written = True
        if array and written:
            out.write("\n]\n")
    if not written:
        os.remove(temporary)
        os.remove(path)
        return
    modified = os.stat(path).st_mtime_ns
    os.utime(temporary, ns=(modified, modified))
    os.replace(temporary, path)
