from datetime import datetime

from chispa import assert_df_equality

from pipeline.transforms.orders import latest_orders, parse_orders
import pytest

pytestmark = pytest.mark.spark

SCHEMA = "source_file string, record_index int, raw string, ingest_batch long, ingested_at timestamp"
T = datetime(2024, 4, 1)


def test_last_ingested_record_wins_as_a_whole_and_bad_records_are_flagged(spark):
    bronze = spark.createDataFrame(
        [
            ("a.jsonl", 0, '{"orderId": 1, "cityCode": "BCN"}', 0, T),
            ("a.jsonl", 1, '{"orderId": "2", "cityCode": "MAD"}', 0, T),
            ("b.jsonl", 0, '{"orderId": 1, "cityCode": "LIS"}', 0, T),
            ("a.jsonl", 0, '{"orderId": 1}', 1, T),  # later run: city becomes null
            ("a.jsonl", 2, '{"orderId": null, "cityCode": "PAR"}', 0, T),
            ("a.jsonl", 3, "{not json", 0, T),
            ("a.jsonl", 4, '{"orderId": 3, "cityCode": 7}', 0, T),
            ("a.jsonl", 5, '{"orderId": "4.0", "cityCode": "OPO"}', 0, T),  # the same whole number
            ("a.jsonl", 6, '{"orderId": 4.5, "cityCode": "OPO"}', 0, T),
            ("a.jsonl", 7, '["orderId", 5]', 0, T),
        ],
        SCHEMA,
    )
    parsed = parse_orders(bronze)
    reasons = parsed.where("reason IS NOT NULL").select("raw", "reason")
    assert sorted(map(tuple, reasons.collect())) == [
        ('["orderId", 5]', "not_an_object"),
        ('{"orderId": 4.5, "cityCode": "OPO"}', "invalid_order_id"),
        ('{"orderId": null, "cityCode": "PAR"}', "null_order_id"),
        ("{not json", "invalid_json"),
    ]
    actual = latest_orders(parsed.where("reason IS NULL")).select("order_id", "city_code", "source_file")
    expected = spark.createDataFrame(
        [(1, None, "a.jsonl"), (2, "MAD", "a.jsonl"), (3, "7", "a.jsonl"), (4, "OPO", "a.jsonl")],
        "order_id long, city_code string, source_file string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_fields_not_in_the_contract_are_rescued_in_silver_orders(spark):
    bronze = spark.createDataFrame(
        [
            ("a.jsonl", 0, '{"orderId": 1, "cityCode": "BCN"}', 0, T),  # nothing unknown: NULL
            ("a.jsonl", 1, '{"orderId": 2, "cityCode": "MAD", "country": "ES", "zone": {"id": 7}}', 0, T),
        ],
        SCHEMA,
    )
    actual = latest_orders(parse_orders(bronze)).select("order_id", "_rescued")
    expected = spark.createDataFrame(
        [(1, None), (2, '{"country":"ES","zone":{"id":7}}')], "order_id long, _rescued string"
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)
