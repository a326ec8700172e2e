"""Gold conversations as one CSV file: format, order, atomic replacement."""

from datetime import date, datetime

from chispa import assert_df_equality

from pipeline.outputs.csv import with_iso_timestamps
from tests.support.lakes import GOLD_SCHEMA, run_in_session
import pytest

pytestmark = pytest.mark.spark

HEADER = (
    "order_id,city_code,first_agent_message,first_customer_message,num_messages_agent,num_messages_customer,"
    "first_message_by,conversation_started_at,first_response_time_delay_seconds,last_message_time,"
    "last_message_order_stage,num_agents,priority,resolved,conversation_date"
)
T = datetime  # naive datetimes are UTC in the tests (conftest pins TZ)
ROW_7 = (7, "BCN", T(2024, 2, 1, 10, 16, 30), T(2024, 2, 1, 10, 15), 2, 3, "customer", T(2024, 2, 1, 10, 15), 90,
         T(2024, 2, 1, 10, 20, 0, 250000), "DELIVERED", 1, True, False, date(2024, 2, 1))
ROW_3 = (3, 'Sant "A", B', None, T(2024, 2, 29, 23, 59, 59, 123), 0, 1, "customer", T(2024, 2, 29, 23, 59, 59, 123),
         None, T(2024, 2, 29, 23, 59, 59, 123), None, 0, False, False, date(2024, 2, 29))
ROW_5 = (5, None, T(2024, 3, 1, 0, 0, 1), None, 1, 0, "agent", T(2024, 3, 1, 0, 0, 1), None,
         T(2024, 3, 1, 0, 0, 1), "PICKING", 1, False, True, date(2024, 3, 1))
LINE_7 = ("7,BCN,2024-02-01T10:16:30Z,2024-02-01T10:15:00Z,2,3,customer,2024-02-01T10:15:00Z,90,"
          "2024-02-01T10:20:00.250Z,DELIVERED,1,true,false,2024-02-01")
LINE_3 = ('3,"Sant ""A"", B",,2024-02-29T23:59:59.000123Z,0,1,customer,2024-02-29T23:59:59.000123Z,,'
          "2024-02-29T23:59:59.000123Z,,0,false,false,2024-02-29")
LINE_5 = "5,,2024-03-01T00:00:01Z,,1,0,agent,2024-03-01T00:00:01Z,,2024-03-01T00:00:01Z,PICKING,1,false,true,2024-03-01"


def test_timestamps_become_iso_utc_text_and_other_columns_stay(spark):
    df = spark.createDataFrame(
        [(1, T(2024, 2, 1, 10, 15), "x"), (2, T(2024, 2, 1, 10, 15, 0, 631400), None), (3, None, "z"),
         (4, T(1969, 12, 31, 23, 59, 59, 1000), "w")],
        "id long, at timestamp, note string",
    )
    expected = spark.createDataFrame(
        [(1, "2024-02-01T10:15:00Z", "x"), (2, "2024-02-01T10:15:00.631400Z", None), (3, None, "z"),
         (4, "1969-12-31T23:59:59.001Z", "w")],
        "id long, at string, note string",
    )
    assert_df_equality(with_iso_timestamps(df), expected, ignore_nullable=True)


def write_gold(spark, lake, rows):
    spark.createDataFrame(rows, GOLD_SCHEMA).write.format("delta").mode("overwrite").save(
        f"{lake}/gold/customer_agent_conversations"
    )


def test_export_writes_one_sorted_csv_file_and_a_rerun_replaces_it(spark, tmp_path):
    write_gold(spark, tmp_path, [ROW_7, ROW_3, ROW_5])
    run_in_session("export_csv", tmp_path)
    exports = tmp_path / "exports"
    target = exports / "customer_agent_conversations.csv"
    assert target.read_text().splitlines() == [HEADER, LINE_3, LINE_5, LINE_7]
    # One file, nothing beside it: Spark's folder is gone and so is the checksum file the rename moved.
    assert [p.name for p in exports.iterdir()] == [target.name]

    write_gold(spark, tmp_path, [ROW_7])
    run_in_session("export_csv", tmp_path)
    assert target.read_text().splitlines() == [HEADER, LINE_7]
    assert [p.name for p in exports.iterdir()] == [target.name]
