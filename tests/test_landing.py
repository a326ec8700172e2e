from chispa import assert_df_equality

from datetime import datetime

from pipeline.lake import landing, tables
from pipeline.lake.streams import cause
from pipeline.transforms.landing import number_lines, split_records
import pytest

pytestmark = pytest.mark.spark

BROKEN_ARRAY = '[{"orderId": 1},\n {"orderId": 2'


def test_json_lines_array_and_broken_files_become_ordered_records(spark):
    files = spark.createDataFrame(
        [
            ("a.jsonl", '{"orderId": 1}\n\n  \n{"orderId": 2}\r\n{"broken"\n'),
            ("b.json", '  \n [ {"orderId": 3},\n {"orderId": 4, "x": [1, 2]}, 5, null, "text", "{\\"orderId\\": 7}" ]\n'),
            ("c.json", BROKEN_ARRAY),
            ("d.json", '{"orderId": 6}'),  # JSON Lines despite the extension
            ("e.jsonl", ""),
            ("f.json", "[]"),
        ],
        "source_file string, content string",
    )
    expected = spark.createDataFrame(
        [
            ("a.jsonl", 0, '{"orderId": 1}'),
            ("a.jsonl", 1, '{"orderId": 2}'),
            ("a.jsonl", 2, '{"broken"'),
            ("b.json", 0, '{"orderId":3}'),
            ("b.json", 1, '{"orderId":4,"x":[1,2]}'),
            ("b.json", 2, "5"),
            ("b.json", 3, "null"),  # JSON null stays its text, for silver's not_an_object
            ("b.json", 4, '"text"'),  # a string stays a JSON string: no object, whatever it holds
            ("b.json", 5, '"{\\"orderId\\": 7}"'),
            ("c.json", 0, BROKEN_ARRAY),
            ("d.json", 0, '{"orderId": 6}'),
        ],
        "source_file string, record_index int, raw string",
    )
    assert_df_equality(split_records(files), expected, ignore_nullable=True)


def test_lines_read_in_blocks_are_numbered_across_the_blocks_of_their_file(spark):
    # As Spark's line reader gives two files: a.jsonl in blocks starting at bytes 0 and 100
    # (given out of order), b.jsonl in one block. One partition keeps each block's lines together.
    lines = spark.createDataFrame(
        [
            ("a.jsonl", 100, '{"n": 3}'), ("a.jsonl", 100, "   "), ("a.jsonl", 100, '{"n": 4}'),
            ("a.jsonl", 0, '\ufeff{"n": 0}'), ("a.jsonl", 0, ""), ("a.jsonl", 0, '{"n": 1}'), ("a.jsonl", 0, '{"n": 2}'),
            ("b.jsonl", 0, '{"n": 5}'),
        ],
        "source_file string, block_start long, raw string",
    ).coalesce(1)
    # a.jsonl's first block holds three non-blank lines (0-2), so its second block starts at 3.
    expected = spark.createDataFrame(
        [
            ("a.jsonl", 0, '{"n": 0}'), ("a.jsonl", 1, '{"n": 1}'), ("a.jsonl", 2, '{"n": 2}'),
            ("a.jsonl", 3, '{"n": 3}'), ("a.jsonl", 4, '{"n": 4}'), ("b.jsonl", 0, '{"n": 5}'),
        ],
        "source_file string, record_index int, raw string",
    )
    assert_df_equality(number_lines(lines), expected, ignore_nullable=True, ignore_row_order=True)


def test_a_failed_query_is_reported_by_its_innermost_cause():
    java = "[STREAM_FAILED] Query terminated\n\tat x\nCaused by: org.a.SparkException: task\nCaused by: java.io.IOException: No space left"
    python = "[FOREACH_BATCH_USER_FUNCTION_ERROR] ...\nTraceback (most recent call last):\n  File x\nKeyError: 'path'\n"
    assert cause(java) == "java.io.IOException: No space left"
    assert cause(python) == "KeyError: 'path'"
    assert cause("[STREAM_FAILED] one line\nmore") == "[STREAM_FAILED] one line"


def test_the_sizes_of_several_files_taken_are_set_in_one_commit(spark, tmp_path):
    manifest = str(tmp_path / "landed_files")
    at = datetime(2024, 5, 1)
    rows = [("messages", "file:/l/a.jsonl", 10, at, 1), ("messages", "file:/l/b.json", 20, at, 1),
            ("messages", "file:/l/c.json", 30, at, 2), ("orders", "file:/l/a.jsonl", 40, at, 1)]
    schema = "dataset string, path string, size long, modification_time timestamp, ingest_batch long"
    spark.createDataFrame(rows, schema).write.format("delta").save(manifest)
    landing.set_taken_sizes(spark, manifest, "messages", {"file:/l/a.jsonl": 7, "file:/l/c.json": 3})
    assert tables.version(spark, manifest) == 1
    assert {(path, size) for path, (size, _) in landing.taken_files(spark, manifest, "messages").items()} == {
        ("file:/l/a.jsonl", 7), ("file:/l/b.json", 20), ("file:/l/c.json", 3)}
    assert landing.taken_files(spark, manifest, "orders")["file:/l/a.jsonl"][0] == 40  # another dataset's file
