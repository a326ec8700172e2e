from datetime import datetime

import pytest
from chispa import assert_df_equality

from pipeline.transforms.timestamps import with_parsed_time

pytestmark = pytest.mark.spark

# (raw value as the JSON reader hands it over, expected UTC time or None)
CASES = [
    ("2024-03-01T08:01:05Z", datetime(2024, 3, 1, 8, 1, 5)),
    ("2024-03-01 08:01:05Z", datetime(2024, 3, 1, 8, 1, 5)),
    ("2024-03-01T8:1:5Z", datetime(2024, 3, 1, 8, 1, 5)),
    ("2024-3-1T08:01:05", datetime(2024, 3, 1, 8, 1, 5)),
    ("  2024-03-01T08:01:05  ", datetime(2024, 3, 1, 8, 1, 5)),
    ("2024-03-01T08:01:05.", datetime(2024, 3, 1, 8, 1, 5)),
    ("2024-03-01T08:01:05.5Z", datetime(2024, 3, 1, 8, 1, 5, 500000)),
    ("2024-03-01T08:01:05.123456Z", datetime(2024, 3, 1, 8, 1, 5, 123456)),
    ("2024-03-01T08:01:05.123456999Z", datetime(2024, 3, 1, 8, 1, 5, 123456)),  # truncated
    ("2024-03-01T08:01:05.999999999", datetime(2024, 3, 1, 8, 1, 5, 999999)),
    ("2024-03-01T08:01:05+02:00", datetime(2024, 3, 1, 6, 1, 5)),
    ("2024-03-01T01:01:05+0230", datetime(2024, 2, 29, 22, 31, 5)),
    ("2024-03-01T23:01:05-05:00", datetime(2024, 3, 2, 4, 1, 5)),
    ("2024-03-01T23:01:05-0530", datetime(2024, 3, 2, 4, 31, 5)),
    ("2024-03-01 23:01:05.25-00:00", datetime(2024, 3, 1, 23, 1, 5, 250000)),
    ("1709280065000", datetime(2024, 3, 1, 8, 1, 5)),
    ("0", datetime(1970, 1, 1)),
    ("1709280065123", datetime(2024, 3, 1, 8, 1, 5, 123000)),
    ("2024-02-29T00:00:00Z", datetime(2024, 2, 29)),
    # unparseable
    ("2024-03-01t08:01:05Z", None),
    ("2024-03-01T08:01:05z", None),
    ("2024-03-01T08:01:05+05", None),
    ("2024-03-01T24:00:00Z", None),
    ("2024-03-01T23:59:60Z", None),
    ("2024-02-30T08:01:05Z", None),
    ("2023-02-29T08:01:05Z", None),
    ("2024-03-01T08:01Z", None),
    ("2024-03-01  08:01:05Z", None),
    ("2024-03-01T08:01:05.1234567890Z", None),
    ("2024-03-01T08:01:05+19:00", None),
    ("2024-03-01T08:01:05+05:60", None),
    ("24-03-01T08:01:05Z", None),
    ("17092800650001", None),  # 14 digits
    ("1.709e12", None),
    ("1709280065000.5", None),
    ("-1", None),
    ("", None),
    ("   ", None),
    ("a|b|c|d|e|f|g|h", None),
    ("not a time", None),
    (None, None),
]


def test_every_messy_form_parses_to_utc_or_null(spark):
    source = spark.createDataFrame([(i, raw) for i, (raw, _) in enumerate(CASES)], "id int, raw string")
    expected = spark.createDataFrame(
        [(i, raw, want) for i, (raw, want) in enumerate(CASES)], "id int, raw string, at timestamp"
    )
    actual = with_parsed_time(source, "raw", "at")
    assert_df_equality(actual, expected, ignore_nullable=True)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_result_does_not_depend_on_the_session_time_zone(spark, zone):
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        source = spark.createDataFrame([("2024-03-01T08:01:05+01:00",), ("1709280065000",)], "raw string")
        micros = [r[0] for r in with_parsed_time(source, "raw", "at").selectExpr("unix_micros(at)").collect()]
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)
    assert micros == [1709276465000000, 1709280065000000]
