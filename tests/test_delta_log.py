"""The plain-Python Delta log reader (pipeline/lake/delta_log.py) on hand-written
logs: replay of commits over a checkpoint, deletion vectors, missing statistics,
a log with a gap, and the rows of a small table whose older files lack a column."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import PipelineError
from pipeline.lake import delta_log

pytestmark = pytest.mark.unit


def add(path, records=None, dv_cardinality=None, offset=1):
    action = {"path": path, "partitionValues": {}, "size": 1, "modificationTime": 0, "dataChange": True}
    if records is not None:
        action["stats"] = json.dumps({"numRecords": records})
    if dv_cardinality is not None:
        action["deletionVector"] = {"storageType": "u", "pathOrInlineDv": "ab12", "offset": offset,
                                    "sizeInBytes": 34, "cardinality": dv_cardinality}
    return {"add": action}


def remove(path, dv_offset=None):
    action = {"path": path, "deletionTimestamp": 0, "dataChange": True}
    if dv_offset is not None:
        action["deletionVector"] = {"storageType": "u", "pathOrInlineDv": "ab12", "offset": dv_offset,
                                    "sizeInBytes": 34, "cardinality": 1}
    return {"remove": action}


def commit(table, version, operation, *actions):
    log = table / "_delta_log"
    log.mkdir(parents=True, exist_ok=True)
    lines = [{"commitInfo": {"timestamp": 1, "operation": operation}}, *actions]
    (log / f"{version:020d}.json").write_text("".join(json.dumps(a) + "\n" for a in lines))


def history(table):
    """Three commits: a.parquet (5 rows) and b (3); b replaced by c (4); then a
    gets a deletion vector of 2 rows: its new add is written BEFORE the remove of
    its old entry, which a reader keyed by path alone would get wrong."""
    metadata = {"metaData": {"id": "t", "partitionColumns": [], "configuration": {}}}
    commit(table, 0, "WRITE", metadata, add("a.parquet", 5), add("b.parquet", 3))
    commit(table, 1, "WRITE", remove("b.parquet"), add("c.parquet", 4))
    commit(table, 2, "MERGE", add("a.parquet", 5, dv_cardinality=2), remove("a.parquet"))


ADD_TYPE = pa.struct([
    ("path", pa.string()), ("partitionValues", pa.map_(pa.string(), pa.string())), ("size", pa.int64()),
    ("modificationTime", pa.int64()), ("dataChange", pa.bool_()), ("stats", pa.string()),
    ("deletionVector", pa.struct([("storageType", pa.string()), ("pathOrInlineDv", pa.string()),
                                  ("offset", pa.int32()), ("sizeInBytes", pa.int32()),
                                  ("cardinality", pa.int64())])),
])


def checkpoint(table, version, adds, name=None):
    """A classic checkpoint file holding these add actions (the live files at `version`)."""
    rows = [{"add": {**a["add"], "partitionValues": []}} for a in adds]
    schema = pa.schema([("add", ADD_TYPE), ("metaData", pa.struct([("partitionColumns", pa.list_(pa.string()))]))])
    rows.append({"metaData": {"partitionColumns": []}})
    pq.write_table(pa.Table.from_pylist(rows, schema), table / "_delta_log" / (name or f"{version:020d}.checkpoint.parquet"))


def test_commits_replayed_with_deletion_vectors(tmp_path):
    history(tmp_path)
    snapshot = delta_log.snapshot(str(tmp_path))
    # a: 5 records - 2 deleted; c: 4. b was removed.
    assert (snapshot.version, snapshot.operation, snapshot.rows) == (2, "MERGE", 3 + 4)
    assert sorted(os.path.basename(f.path) for f in snapshot.files) == ["a.parquet", "c.parquet"]
    assert delta_log.is_table(str(tmp_path)) and not delta_log.is_table(str(tmp_path / "nothing"))


def test_replay_starts_at_the_newest_complete_checkpoint(tmp_path):
    history(tmp_path)
    # The checkpoint of v1 lists a and c; commit 0 is gone, as after log clean-up.
    checkpoint(tmp_path, 1, [add("a.parquet", 5), add("c.parquet", 4)])
    (tmp_path / "_delta_log" / f"{0:020d}.json").unlink()
    # Half of a two-part checkpoint of v2 must not be taken for a checkpoint.
    checkpoint(tmp_path, 2, [add("zzz.parquet", 100)], name=f"{2:020d}.checkpoint.0000000001.0000000002.parquet")
    snapshot = delta_log.snapshot(str(tmp_path))
    assert (snapshot.version, snapshot.rows) == (2, 7)


def test_the_checkpoints_own_version_gives_its_commit_info(tmp_path):
    history(tmp_path)
    checkpoint(tmp_path, 2, [add("a.parquet", 5, dv_cardinality=2), add("c.parquet", 4)])
    for version in (0, 1):
        (tmp_path / "_delta_log" / f"{version:020d}.json").unlink()
    snapshot = delta_log.snapshot(str(tmp_path))
    assert (snapshot.version, snapshot.operation, snapshot.rows) == (2, "MERGE", 7)


def test_a_file_without_statistics_makes_the_count_unknown(tmp_path):
    commit(tmp_path, 0, "WRITE", add("a.parquet", 5), add("b.parquet"))
    assert delta_log.snapshot(str(tmp_path)).rows is None


def test_a_gap_after_the_checkpoint_is_one_line(tmp_path):
    history(tmp_path)
    (tmp_path / "_delta_log" / f"{1:020d}.json").unlink()
    with pytest.raises(PipelineError, match="lacks commits after its newest checkpoint"):
        delta_log.snapshot(str(tmp_path))
    with pytest.raises(PipelineError, match="no Delta table"):
        delta_log.snapshot(str(tmp_path / "nothing"))


def test_rows_of_files_written_before_a_column_existed(tmp_path):
    pq.write_table(pa.table({"job": ["bronze"]}), tmp_path / "old.parquet")
    pq.write_table(pa.table({"job": ["gold"], "status": ["failed"]}), tmp_path / "new.parquet")
    commit(tmp_path, 0, "WRITE", add("old.parquet", 1))
    commit(tmp_path, 1, "WRITE", add("new.parquet", 1))
    rows = delta_log.read_rows(delta_log.snapshot(str(tmp_path)), ["job", "status"])
    assert sorted(rows, key=lambda r: r["job"]) == [{"job": "bronze", "status": None}, {"job": "gold", "status": "failed"}]


def test_rows_of_a_table_with_deletion_vectors_are_refused(tmp_path):
    commit(tmp_path, 0, "MERGE", add("a.parquet", 5, dv_cardinality=1))
    with pytest.raises(PipelineError, match="deletion vectors"):
        delta_log.read_rows(delta_log.snapshot(str(tmp_path)), ["job"])
