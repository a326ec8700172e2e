import json
from datetime import datetime

from chispa import assert_df_equality

from pipeline.transforms.messages import SILVER_COLUMNS, deduplicate_messages, parse_messages
from pipeline.transforms.records import quarantined, valid_records
import pytest

pytestmark = pytest.mark.spark

BRONZE_SCHEMA = "source_file string, record_index int, raw string, ingest_batch long, ingested_at timestamp"
INGESTED = datetime(2024, 4, 1)


def event(**overrides):
    base = {
        "senderDeviceType": "Customer iOS",
        "customerId": 1,
        "fromId": 1,
        "toId": 100,
        "chatStartedByMessage": True,
        "orderId": 10,
        "priority": None,
        "resolution": False,
        "agentId": 100,
        "orderStage": "PLACED",
        "messageSentTime": "2024-03-01T08:00:00Z",
    }
    base.update(overrides)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def bronze(spark, raws, batch=0, source="f.jsonl"):
    rows = [(source, i, raw, batch, INGESTED) for i, raw in enumerate(raws)]
    return spark.createDataFrame(rows, BRONZE_SCHEMA)


def test_fields_are_typed_and_coerced(spark):
    raws = [
        event(),
        event(
            senderDeviceType="Agent Web", fromId="100", toId="1", customerId="1", agentId="abc",
            chatStartedByMessage="true", priority="true", resolution=True, orderStage=None,
            messageSentTime=1709280000000,
        ),
        event(fromId=1, toId=1.5, priority="yes", resolution="TRUE", agentId=..., orderStage=..., chatStartedByMessage=...),
    ]
    columns = (
        "order_id customer_id from_id to_id agent_id sender_role sender_device_type "
        "chat_started_by_message priority resolution order_stage message_sent_at reason"
    ).split()
    actual = parse_messages(bronze(spark, raws)).select(*columns)
    expected = spark.createDataFrame(
        [
            (10, 1, 1, 100, 100, "customer", "Customer iOS", True, False, False, "PLACED", datetime(2024, 3, 1, 8), None),
            (10, 1, 100, 1, None, "agent", "Agent Web", True, True, True, None, datetime(2024, 3, 1, 8), None),
            (10, 1, 1, None, None, "customer", "Customer iOS", False, False, False, None, datetime(2024, 3, 1, 8), None),
        ],
        "order_id long, customer_id long, from_id long, to_id long, agent_id long, sender_role string, "
        "sender_device_type string, chat_started_by_message boolean, priority boolean, resolution boolean, "
        "order_stage string, message_sent_at timestamp, reason string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_the_first_applicable_reason_is_recorded(spark):
    raws = [
        '{"orderId": 1',  # truncated
        "42",  # valid JSON, not an object
        "[1]",
        "\ufeff{}",  # a byte order mark inside a record is no JSON
        "null",
        event(orderId=None, fromId=None),
        event(orderId="x1"),
        event(orderId=1.5),
        event(fromId=None, customerId=None),
        event(fromId="12x"),
        event(customerId=..., messageSentTime=None),
        event(customerId=True),
        event(messageSentTime=None),
        event(messageSentTime=...),
        event(messageSentTime="2024-03-01T24:00:00Z"),
        event(messageSentTime=""),
        event(),
    ]
    actual = parse_messages(bronze(spark, raws)).select("record_index", "reason")
    expected = spark.createDataFrame(
        list(
            enumerate(
                ["invalid_json", "not_an_object", "not_an_object", "invalid_json", "not_an_object"]
                + ["null_order_id", "invalid_order_id", "invalid_order_id"]
                + ["null_from_id", "invalid_from_id", "null_customer_id", "invalid_customer_id"]
                + ["null_message_sent_time"] * 2
                + ["unparseable_message_sent_time"] * 2
                + [None]
            )
        ),
        "record_index int, reason string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_quarantine_keeps_reason_raw_record_and_lineage(spark):
    parsed = parse_messages(bronze(spark, ["nope", event()], batch=3, source="x.jsonl"))
    expected = spark.createDataFrame(
        [("invalid_json", "nope", "x.jsonl", 0, 3, INGESTED)],
        "reason string, raw string, source_file string, record_index int, ingest_batch long, ingested_at timestamp",
    )
    assert_df_equality(quarantined(parsed), expected, ignore_nullable=True)
    assert valid_records(parsed).count() == 1


def test_first_ingested_copy_wins_across_files_batches_and_time_formats(spark):
    same_instant = ["2024-03-01T08:00:00Z", "1709280000000", "2024-03-01 09:00:00.000+01:00"]
    batches = [
        bronze(spark, [event(messageSentTime=same_instant[2], priority=True)], batch=1, source="a.jsonl"),
        bronze(spark, [event(messageSentTime=same_instant[1], priority=True)], batch=0, source="b.jsonl"),
        bronze(spark, [event(messageSentTime=same_instant[0], orderStage="FIRST")], batch=0, source="a.jsonl"),
        # differs in to_id (null): a different event, nulls compare equal to nulls only
        bronze(spark, [event(toId=None), event(toId=None, orderStage="DUP")], batch=2, source="c.jsonl"),
    ]
    union = batches[0]
    for b in batches[1:]:
        union = union.unionByName(b)
    kept = deduplicate_messages(valid_records(parse_messages(union)))
    assert kept.columns == list(SILVER_COLUMNS)
    actual = kept.select("to_id", "order_stage", "priority", "source_file")
    expected = spark.createDataFrame(
        [(None, "PLACED", False, "c.jsonl"), (100, "FIRST", False, "a.jsonl")],
        "to_id long, order_stage string, priority boolean, source_file string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_fields_not_in_the_contract_are_rescued_as_one_json_object(spark):
    raws = [
        event(),  # only known fields: NULL
        # Unknown fields of every JSON type, in the record's order; variant writes 51.0 as 51.
        event(channel="chat", meta={"tags": ["a", 1]}, score=51.0, note=None),
        event(OrderId=11),  # names compare case-sensitively: not orderId
        "nope",  # no JSON object: nothing to rescue (and quarantined)
        '[{"extra": 1}]',
        # Text the quick check flags but no unknown field: a key inside a string
        # value, a nested key, a known name escaped.
        event(orderStage='a", "x": {"y": 1}').replace('"orderId"', '"order\\u0049d"'),
        event(orderStage={"nested": 1})[:-1] + ' , "x\\"orderId" : 2}',  # spaces, an escaped quote in a key
        '{"orderId": 1, "' + "x" * 200_000,  # a long broken record: the check must not overflow the stack
    ]
    actual = parse_messages(bronze(spark, raws)).select("record_index", "reason", "_rescued")
    expected = spark.createDataFrame(
        [
            (0, None, None),
            (1, None, '{"channel":"chat","meta":{"tags":["a",1]},"score":51,"note":null}'),
            (2, None, '{"OrderId":11}'),
            (3, "invalid_json", None),
            (4, "not_an_object", None),
            (5, None, None),
            (6, None, '{"x\\"orderId":2}'),
            (7, "invalid_json", None),
        ],
        "record_index int, reason string, _rescued string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)
    kept = deduplicate_messages(valid_records(parse_messages(bronze(spark, raws[1:2]))))
    assert [row._rescued for row in kept.collect()] == [expected.collect()[1]._rescued]
