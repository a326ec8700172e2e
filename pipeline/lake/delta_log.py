"""A Delta table's current state read straight from its _delta_log on a local
file system, in plain Python (no JVM): version, last commit, row count, and the
data files of the snapshot. What `status` needs in well under a second, where a
Spark session costs 10-20 s to start.

The state is the newest classic checkpoint (`<v>.checkpoint.parquet`, or all
parts of a multi-part one) replayed with the commit files after it, as the Delta
protocol defines it. A file is identified by its path and deletion vector, so a
commit that replaces a file's deletion vector (remove + add of the same path)
is applied in any action order. Rows are each file's `numRecords` statistic
minus its deletion vector's cardinality: the count Spark gives without reading
the data, as long as every file has statistics (Delta writes them by default).
"""

import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PipelineError

LOG = "_delta_log"
COMMIT = re.compile(r"(\d{20})\.json")
# Classic checkpoints: <v>.checkpoint.parquet or <v>.checkpoint.<part>.<parts>.parquet
# (v2 checkpoints, <v>.checkpoint.<uuid>.*, are not written by this pipeline and are skipped).
CHECKPOINT = re.compile(r"(\d{20})\.checkpoint(?:\.(\d{10})\.(\d{10}))?\.parquet")


@dataclass
class DataFile:
    path: str  # absolute local path
    rows: int | None  # live rows: numRecords minus the deletion vector's cardinality; None without statistics
    deleted: int  # rows marked deleted by its deletion vector
    partition_values: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Snapshot:
    version: int
    updated_ms: int  # the last commit's time (its file's modification time, as DESCRIBE HISTORY shows it)
    operation: str  # the last commit's operation: WRITE, MERGE, STREAMING UPDATE, ...
    files: list[DataFile]
    partition_columns: list[str]

    @property
    def rows(self) -> int | None:
        """The table's row count; None when a file has no statistics."""
        counts = [f.rows for f in self.files]
        return None if any(c is None for c in counts) else sum(counts)


def is_table(path: str) -> bool:
    """Whether a committed Delta table is at the local `path`."""
    try:
        return any(COMMIT.fullmatch(name) for name in os.listdir(os.path.join(path, LOG)))
    except (FileNotFoundError, NotADirectoryError):
        return False


def _file_key(action: dict) -> tuple[str, str | None]:
    vector = action.get("deletionVector")
    if not vector:
        return action["path"], None
    return action["path"], f"{vector['storageType']}{vector['pathOrInlineDv']}@{vector.get('offset')}"


def _record_count(action: dict) -> int | None:
    stats = action.get("stats")
    if stats:
        value = json.loads(stats).get("numRecords")
    else:  # checkpoints written with delta.checkpoint.writeStatsAsJson=false
        value = (action.get("stats_parsed") or {}).get("numRecords")
    return None if value is None else int(value)


def _checkpoint(names: list[str], log: str) -> tuple[int, list[str]]:
    """The newest complete classic checkpoint: (version, its files); (-1, []) without one."""
    parts: dict[int, dict[int, str]] = {}
    expected: dict[int, int] = {}
    for name in names:
        match = CHECKPOINT.fullmatch(name)
        if match:
            version = int(match[1])
            part, count = (int(match[2]), int(match[3])) if match[2] else (1, 1)
            parts.setdefault(version, {})[part] = os.path.join(log, name)
            expected[version] = count
    for version in sorted(parts, reverse=True):
        if len(parts[version]) == expected[version]:
            return version, [parts[version][p] for p in sorted(parts[version])]
    return -1, []


def snapshot(path: str) -> Snapshot:
    """The current state of the Delta table at the local `path`."""
    log = os.path.join(path, LOG)
    try:
        names = os.listdir(log)
    except FileNotFoundError:
        raise PipelineError(f"no Delta table at {path}") from None
    commits = sorted(int(m[1]) for name in names if (m := COMMIT.fullmatch(name)))
    if not commits:
        raise PipelineError(f"no Delta table at {path}")
    start, checkpoint_files = _checkpoint(names, log)
    needed = list(range(start + 1, commits[-1] + 1))
    if not set(needed) <= set(commits):
        raise PipelineError(f"the Delta log of {path} lacks commits after its newest checkpoint (v{start})")

    live: dict[tuple[str, str | None], dict] = {}
    partition_columns: list[str] = []
    for file in checkpoint_files:
        # Only the columns status needs: the add actions and the table's metadata.
        columns = [c for c in ("add", "metaData") if c in pq.read_schema(file).names]
        for row in pq.read_table(file, columns=columns).to_pylist():
            if row.get("add"):
                live[_file_key(row["add"])] = row["add"]
            if row.get("metaData"):
                partition_columns = list(row["metaData"].get("partitionColumns") or [])
    info: dict = {}
    for number in needed:
        with open(os.path.join(log, f"{number:020d}.json"), encoding="utf-8") as commit:
            for line in commit:
                if not line.strip():
                    continue
                action = json.loads(line)
                if "add" in action:
                    live[_file_key(action["add"])] = action["add"]
                elif "remove" in action:
                    live.pop(_file_key(action["remove"]), None)
                elif "metaData" in action:
                    partition_columns = list(action["metaData"].get("partitionColumns") or [])
                elif "commitInfo" in action and number == commits[-1]:
                    info = action["commitInfo"]
    if not info:  # the last commit is the checkpoint's: read its commitInfo
        info = _commit_info(os.path.join(log, f"{commits[-1]:020d}.json"))
    last = os.path.join(log, f"{commits[-1]:020d}.json")
    updated = info.get("inCommitTimestamp") or int(os.stat(last).st_mtime * 1000)

    files = []
    for add in live.values():
        count = _record_count(add)
        deleted = int((add.get("deletionVector") or {}).get("cardinality") or 0)
        relative = unquote(add["path"])
        if relative.startswith("file:"):
            location = relative.removeprefix("file://").removeprefix("file:")
        else:
            location = relative if os.path.isabs(relative) else os.path.join(path, relative)
        values = add.get("partitionValues") or {}
        if isinstance(values, list):  # a checkpoint's map column reads as (key, value) pairs
            values = dict(values)
        files.append(DataFile(location, None if count is None else count - deleted, deleted, values))
    return Snapshot(commits[-1], int(updated), info.get("operation", ""), files, partition_columns)


def _commit_info(commit: str) -> dict:
    with open(commit, encoding="utf-8") as lines:
        for line in lines:
            if '"commitInfo"' in line:
                return json.loads(line).get("commitInfo", {})
    return {}


def read_rows(table: Snapshot, columns: list[str]) -> list[dict]:
    """The rows of a small table's snapshot, these columns only (a column that
    older files lack reads as None). Refuses files with deletion vectors: this
    reader does not decode them (the audit table is only ever appended to)."""
    if any(f.deleted for f in table.files):
        raise PipelineError("rows of a table with deletion vectors cannot be read without Spark")
    rows = []
    for file in table.files:
        present = set(pq.read_schema(file.path).names)
        data = pq.read_table(file.path, columns=[c for c in columns if c in present])
        for i, column in enumerate(data.schema):  # INT96 timestamps read as ns: make them datetimes
            if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
                data = data.set_column(i, column.name, data.column(i).cast(pa.timestamp("us", column.type.tz)))
        for row in data.to_pylist():
            rows.append({c: row.get(c, file.partition_values.get(c)) for c in columns})
    return rows

