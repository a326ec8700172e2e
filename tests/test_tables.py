"""The lake layer's table helpers."""

import json
from pathlib import Path

from delta.tables import DeltaTable

from pipeline.lake import incremental, tables
from pipeline.lake.tables import check_text
import pytest

pytestmark = pytest.mark.spark


def test_check_text_ignores_spacing_but_not_string_literals():
    # As the file writes it, and as Delta stores it after ALTER TABLE ... ADD CONSTRAINT.
    assert check_text("first_message_by IN ('customer', 'agent')") == check_text(
        "first_message_by IN ( 'customer' , 'agent' )"
    )
    assert check_text("a  >=\n 0") == check_text("a >= 0")
    assert check_text("device = 'Agent Web'") != check_text("device = 'AgentWeb'")
    assert check_text("x = 'it\\'s  ok' AND y") == "x='it\\'s  ok'ANDy"
    assert check_text("a >= 0") != check_text("a > 0")


def test_ensure_properties_turns_on_what_an_older_table_lacks_once(spark, tmp_path):
    path = str(tmp_path / "gold")
    spark.range(3).write.format("delta").save(path)  # made before the properties were given
    wanted = {**tables.CHANGE_FEED, **tables.deletion_vectors(True)}
    tables.ensure_properties(spark, path, wanted)
    assert wanted.items() <= tables.table_properties(spark, path).items()
    version = tables.version(spark, path)
    tables.ensure_properties(spark, path, wanted)  # nothing differs: no commit
    assert tables.version(spark, path) == version == 1


def file_ranges(path) -> dict[str, list[tuple[int, int, int]]]:
    """Per partition folder, each live file's (min k, max k, rows) from its add action's statistics."""
    live = {}
    for log in sorted(Path(path, "_delta_log").glob("*.json")):
        for action in map(json.loads, log.open()):
            if "add" in action:
                live[action["add"]["path"]] = json.loads(action["add"]["stats"])
            elif "remove" in action:
                live.pop(action["remove"]["path"], None)
    ranges = {}
    for name, stats in live.items():
        bounds = (stats["minValues"]["k"], stats["maxValues"]["k"], stats["numRecords"])
        ranges.setdefault(name.split("/")[0], []).append(bounds)
    return {part: sorted(found) for part, found in ranges.items()}


def test_writes_follow_the_layout_and_a_merge_rewrites_only_the_files_of_touched_keys(spark, tmp_path):
    path = str(tmp_path / "laid_out")
    rows = spark.range(200).selectExpr("id * 7919 % 200 AS k", "k % 2 AS p", "'old' AS v")  # k in no order
    tables.ensure_table(spark, path, tables.nullable(rows.schema), ("p",), tables.layout(("k",), 10))
    tables.overwrite(rows, path, ("p",))
    # 100 rows per partition, sorted: ten files of ten consecutive keys each (p=0: 0, 2, ..., 18 in the first).
    expected = {f"p={p}": [(lo, lo + 18, 10) for lo in range(p, 200, 20)] for p in (0, 1)}
    assert file_ranges(path) == expected

    # Keys 180-199 sit in the last file of each partition: the MERGE, which
    # states their range, rewrites those two and no other.
    updates = spark.range(180, 200).selectExpr("id AS k", "k % 2 AS p", "'new' AS v")
    tables.upsert(spark, updates, path, ("k",), within=("k", 180, 199))
    metrics = tables.commits(spark, path, -1, 1)[0]["operationMetrics"]
    assert (metrics["numTargetFilesRemoved"], metrics["numTargetRowsUpdated"]) == ("2", "20")
    after = file_ranges(path)
    assert {part: found[:-1] for part, found in after.items()} == {part: found[:-1] for part, found in expected.items()}
    assert [found[-1][2] for found in after.values()] == [10, 10]
    assert tables.read(spark, path).where("v = 'new'").count() == 20

    # make optimize sorts them back into the layout (OPTIMIZE would make every file span all keys).
    tables.optimize(spark, path, ("k",), 168.0)
    assert file_ranges(path) == expected
    assert tables.read(spark, path).where("v = 'new'").count() == 20


def test_changed_partitions_names_the_days_of_files_changed_and_none_when_the_log_cannot_tell(spark, tmp_path):
    path = str(tmp_path / "by_day")
    rows = spark.createDataFrame([(1, "2024-03-01"), (2, "2024-03-02"), (3, "2024-03-03")], "k long, day string")
    tables.overwrite(rows.selectExpr("k", "CAST(day AS date) AS day"), path, ("day",), new_schema=True)  # v0
    DeltaTable.forPath(spark, path).delete("k = 2")  # v1: a DELETE removes 2024-03-02's file
    moved = spark.createDataFrame([(3, "2024-03-01")], "k long, day string").selectExpr("k", "CAST(day AS date) AS day")
    tables.upsert(spark, moved, path, ("k",))  # v2: k 3 moves from 03-03 to 03-01
    DeltaTable.forPath(spark, path).optimize().executeCompaction()  # v3: no data change
    assert incremental.changed_partitions(spark, path, 0, 1, "day") == ["2024-03-02"]
    assert incremental.changed_partitions(spark, path, 1, 2, "day") == ["2024-03-01", "2024-03-03"]
    assert incremental.changed_partitions(spark, path, 2, 3, "day") == []
    assert incremental.changed_partitions(spark, path, 3, 3, "day") == []
    assert incremental.changed_partitions(spark, path, None, 3, "day") is None  # no watermark
    assert incremental.changed_partitions(spark, path, 4, 3, "day") is None  # a table recreated behind it
    tables.overwrite(rows.selectExpr("k", "CAST(day AS date) AS day"), path, ("day",))  # v4: a rewrite
    assert incremental.changed_partitions(spark, path, 3, 4, "day") is None
    Path(path, "_delta_log", f"{1:020d}.json").unlink()  # log retention removed a commit
    assert incremental.changed_partitions(spark, path, 0, 2, "day") is None
    assert incremental.changed_partitions(spark, path, 1, 2, "day") == ["2024-03-01", "2024-03-03"]
