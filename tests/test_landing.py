from chispa import assert_df_equality

from pipeline.transforms.landing import split_records

BROKEN_ARRAY = '[{"orderId": 1},\n {"orderId": 2'


def test_json_lines_array_and_broken_files_become_ordered_records(spark):
    files = spark.createDataFrame(
        [
            ("a.jsonl", '{"orderId": 1}\n\n  \n{"orderId": 2}\r\n{"broken"\n'),
            ("b.json", '  \n [ {"orderId": 3},\n {"orderId": 4, "x": [1, 2]}, 5 ]\n'),
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
            ("c.json", 0, BROKEN_ARRAY),
            ("d.json", 0, '{"orderId": 6}'),
        ],
        "source_file string, record_index int, raw string",
    )
    assert_df_equality(split_records(files), expected, ignore_nullable=True)
