"""Tests of the pure-Python oracle itself: if the oracle is wrong, the end-to-end tests are too.

Every expectation here is computed by hand from the contract in issue 2, never by the model.
"""

import gzip
import json
import os
import sys
import tomllib
from datetime import date, datetime, timezone

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))  # runs with --noconftest

from reference_model import (  # noqa: E402
    QUARANTINE_RULES,
    build_expected,
    build_silver_messages,
    build_silver_orders,
    conversation_order_key,
    parse_message_sent_time,
    read_landing,
    to_bool,
    to_long,
    to_string,
)

pytestmark = pytest.mark.unit


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


T = utc(2024, 3, 1, 8, 1, 5)  # = 1709280065000 epoch ms


def write(path, text: str):
    """Write a landing file; `.gz` names are gzipped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def jsonl(*objs) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def msg(order=1, frm=10, to=20, customer=10, time="2024-03-01T08:01:05Z", **extra) -> dict:
    """A valid message event; customer == from makes it a customer message by default."""
    return {"orderId": order, "fromId": frm, "toId": to, "customerId": customer,
            "messageSentTime": time, **extra}


def records(*objs) -> list[dict]:
    return [{"raw": json.dumps(o), "source_file": "f", "obj": o} for o in objs]


# ---------------------------------------------------------------- messageSentTime grammar


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-03-01T08:01:05Z", T),
        ("2024-03-01T8:1:5Z", T),  # unpadded hour/minute/second
        ("2024-3-1T08:01:05Z", T),  # unpadded month/day
        ("2024-03-01 08:01:05Z", T),  # one space instead of T
        ("2024-03-01T08:01:05", T),  # no zone means UTC
        ("  2024-03-01T08:01:05Z  ", T),  # surrounding spaces trimmed
        ("2024-03-01T08:01:05.Z", T),  # '.' with zero digits
        ("2024-03-01T08:01:05.5Z", utc(2024, 3, 1, 8, 1, 5, 500000)),
        ("2024-03-01T08:01:05.123456Z", utc(2024, 3, 1, 8, 1, 5, 123456)),
        ("2024-03-01T08:01:05.123456789Z", utc(2024, 3, 1, 8, 1, 5, 123456)),
        ("2024-03-01T08:01:05.999999999Z", utc(2024, 3, 1, 8, 1, 5, 999999)),  # truncated, not rounded
        ("2024-03-01T10:01:05+02:00", T),
        ("2024-03-01T10:01:05+0200", T),
        ("2024-03-01T06:01:05-02:00", T),
        ("2024-03-01T06:01:05-0200", T),
        ("2024-03-01T08:01:05-00:00", T),
        ("2024-03-02T02:01:05+18:00", T),  # largest offset, crosses the date
        ("2024-02-29T00:00:00Z", utc(2024, 2, 29)),  # leap day
        (1709280065000, T),  # epoch millis as a JSON number
        ("1709280065000", T),  # ... and as a digit string
        (" 1709280065123 ", utc(2024, 3, 1, 8, 1, 5, 123000)),
        (0, utc(1970, 1, 1)),
        ("7", utc(1970, 1, 1, 0, 0, 0, 7000)),  # one digit
        (9999999999999, utc(2286, 11, 20, 17, 46, 39, 999000)),  # 13 digits
    ],
)
def test_time_accepted(value, expected):
    parsed = parse_message_sent_time(value)
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01t08:01:05Z",  # lowercase t
        "2024-03-01T08:01:05z",  # lowercase z
        "2024-03-01T08:01:05+02",  # +HH alone
        "2024-03-01T08:01:05+2:00",
        "2024-03-01T08:01:05+18:01",  # beyond 18:00
        "2024-03-01T08:01:05+19:00",
        "2024-03-01T08:01:05+05:60",
        "2024-03-01T08:01:05 Z",
        "2024-03-01T24:00:00Z",  # hour 24
        "2024-03-01T08:60:00Z",
        "2024-03-01T08:01:60Z",  # second 60
        "2024-02-30T08:01:05Z",  # impossible date
        "2023-02-29T08:01:05Z",
        "2024-13-01T08:01:05Z",
        "2024-03-01T08:01Z",  # seconds required
        "2024-03-01",
        "2024-03-01  08:01:05Z",  # two spaces
        "24-03-01T08:01:05Z",
        "2024-03-01T08:01:05.1234567890Z",  # 10 fraction digits
        "2024-03-01T008:01:05Z",
        "",
        "   ",
        "\t2024-03-01T08:01:05Z",  # only ' ' is trimmed
        "2024-03-01T08:01:05Z\n",
        "12345678901234",  # 14 digits
        10**13,
        "-1",
        -1,
        "+1709280065000",
        "1709280065000.0",
        "١٢٣",  # non-ASCII digits
        json.loads("1.5"),
        json.loads("1e3"),  # a float in JSON, even if integral
        json.loads("1.0"),
        True,
        False,
        None,
        {"t": 1},
        [1709280065000],
    ],
)
def test_time_rejected(value):
    assert parse_message_sent_time(value) is None


# ---------------------------------------------------------------- coercion


@pytest.mark.parametrize(
    "value, expected",
    [
        (12, 12), ("12", 12), ("-12", -12), (-12, -12), ("007", 7), (0, 0),
        (2**63 - 1, 2**63 - 1), (str(-(2**63)), -(2**63)),
        (2**63, None), ("9223372036854775808", None), (-(2**63) - 1, None),
        (True, None), (False, None), (12.0, 12), (json.loads("1e3"), 1000), (12.5, None), ("12.0", 12), ("12.", None),
        ("abc", None), (" 12", None), ("12 ", None), ("+12", None), ("", None), ("-", None),
        ("1e3", None), (None, None), ([12], None),
    ],
)
def test_to_long(value, expected):
    assert to_long(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(True, True), ("true", True), (False, False), ("false", False), (None, False),
     (1, False), (0, False), ("TRUE", False), ("True", False), (" true", False), ("yes", False)],
)
def test_to_bool(value, expected):
    assert to_bool(value) is expected


@pytest.mark.parametrize(
    "value, expected",
    [("Agent Web", "Agent Web"), ("", ""), (None, None), (5, "5"), (1.5, "1.5"),
     (True, "true"), ({"a": [1, "b"]}, '{"a":[1,"b"]}')],
)
def test_to_string(value, expected):
    assert to_string(value) == expected


# ---------------------------------------------------------------- quarantine and silver


def test_quarantine_reason_is_the_first_that_applies():
    cases = [
        (None, "invalid_json"),
        ({"fromId": None, "customerId": None, "messageSentTime": None}, "null_order_id"),
        (msg(order="x", frm=None, customer=None, time="bad"), "invalid_order_id"),
        (msg(frm=True, customer=None, time=None), "invalid_from_id"),
        (msg(frm=None, customer=None, time=None), "null_from_id"),
        (msg(customer=" 10", time="bad"), "invalid_customer_id"),
        (msg(customer=10.5, time="bad"), "invalid_customer_id"),
        (msg(customer=None, time="bad"), "null_customer_id"),
        ({k: v for k, v in msg().items() if k != "messageSentTime"}, "null_message_sent_time"),
        (msg(time=None), "null_message_sent_time"),
        (msg(time=""), "unparseable_message_sent_time"),
        (msg(time=1.5), "unparseable_message_sent_time"),
    ]
    recs = [{"raw": f"r{i}", "source_file": "f", "obj": obj, "not_object": False} for i, (obj, _) in enumerate(cases)]
    silver, quarantine, duplicates = build_silver_messages(recs)
    assert silver == [] and duplicates == 0
    assert quarantine == [{"reason": r, "raw": f"r{i}"} for i, (_, r) in enumerate(cases)]


def test_quarantine_rules_of_the_rules_file_by_message_time():
    ingested = utc(2024, 3, 1, 12)
    cases = [
        (msg(time="2024-03-02T12:00:00Z"), None),  # exactly a day ahead of ingestion: kept
        (msg(time="2024-03-02T12:00:00.000001Z"), "message_time_in_future"),
        (msg(time="2015-01-01T00:00:00Z"), None),
        (msg(time="2014-12-31T23:59:59.999999Z"), "message_time_before_2015"),
        (msg(time=0), "message_time_before_2015"),  # epoch 0
        (msg(order=None, time=0), "null_order_id"),  # parse-level reasons come first
    ]
    recs = [{"raw": f"r{i}", "source_file": "f", "obj": obj, "not_object": False} for i, (obj, _) in enumerate(cases)]
    silver, quarantine, _ = build_silver_messages(recs, ingested_at=ingested)
    assert len(silver) == 2
    assert quarantine == [{"reason": r, "raw": f"r{i}"} for i, (_, r) in enumerate(cases) if r]


def test_the_model_mirrors_every_quarantine_rule_of_the_rules_file():
    with open(os.path.join(os.path.dirname(__file__), "..", "conf", "quality_rules.toml"), "rb") as f:
        rules = tomllib.load(f)["rule"]
    assert QUARANTINE_RULES == tuple(r["name"] for r in rules if r["action"] == "quarantine")


def test_silver_row_typing():
    [row], _, _ = build_silver_messages(records(msg(
        order="7", frm=30, to="10", customer=10, agentId="-5", senderDeviceType=5,
        chatStartedByMessage="true", priority=None, resolution="TRUE", orderStage={"s": 1},
        time="2024-03-01T10:01:05.5+02:00",
    )))
    assert row == {
        "order_id": 7, "customer_id": 10, "from_id": 30, "to_id": 10, "agent_id": -5,
        "sender_role": "agent", "sender_device_type": "5", "chat_started_by_message": True,
        "priority": False, "resolution": False, "order_stage": '{"s":1}',
        "message_sent_at": utc(2024, 3, 1, 8, 1, 5, 500000),
    }


def test_missing_optional_fields_are_null_or_false():
    [row], _, _ = build_silver_messages(records(msg(to=None)))
    assert row["sender_role"] == "customer"
    assert (row["to_id"], row["agent_id"], row["sender_device_type"], row["order_stage"]) == (None,) * 4
    assert (row["chat_started_by_message"], row["priority"], row["resolution"]) == (False,) * 3


def test_dedup_first_wins_across_formats_of_the_same_instant():
    first = msg(time="2024-03-01T08:01:05Z", orderStage="placed", senderDeviceType=None)
    same_instant = [
        msg(time=1709280065000, orderStage="late"),
        msg(time="1709280065000", orderStage="late", chatStartedByMessage=False),
        msg(time="2024-3-1 10:1:5.000+0200", orderStage="late", chatStartedByMessage="false"),
        msg(time="2024-03-01T08:01:05.0000009Z", orderStage="late"),  # truncates to the same µs
    ]
    different = [
        msg(time="2024-03-01T08:01:05.001Z"),
        msg(chatStartedByMessage=True),
        msg(senderDeviceType="Customer iOS"),
        msg(to=21),
        msg(order=2),
    ]
    silver, _, duplicates = build_silver_messages(records(first, *same_instant, *different))
    assert duplicates == 4
    assert len(silver) == 1 + len(different)
    assert silver[0]["order_stage"] == "placed"


def test_orders_last_record_wins_as_a_whole():
    recs = records(
        {"orderId": 1, "cityCode": "BCN"},
        {"orderId": "2", "cityCode": "MAD"},
        {"orderId": 1, "cityCode": "LIS"},
        {"orderId": 2},  # a later missing city replaces MAD
        {"orderId": 3, "cityCode": 42},
        {"orderId": None, "cityCode": "X"},
        {"orderId": "abc", "cityCode": "X"},
        {"cityCode": "X"},
    ) + [{"raw": "{oops", "source_file": "f", "obj": None}]
    orders, quarantined = build_silver_orders(recs)
    assert orders == {1: "LIS", 2: None, 3: "42"}
    assert quarantined == 4


# ---------------------------------------------------------------- landing files


def test_read_landing_formats_and_ingestion_order(tmp_path):
    m = tmp_path / "landing" / "customer_agent_messages"
    write(m / "b.jsonl", '{"a": 1}\n\n   \n{broken\r\n[1]\r"s"\n{"a": 2}\r\n')
    write(m / "a.json", '\n  [\n {"a": 3},\n 7,\n {"a": 4}\n]\n')  # array spanning lines
    write(m / "c.jsonl", ' [{"a": 5}]')  # an array, whatever the extension
    write(m / "d.json", '[{"a": 6},\n')  # broken array: one record
    write(m / "e.json.gz", jsonl({"a": 8}))
    write(m / "sub" / "f.jsonl.gz", '[{"a": 9}]')
    write(m / "g.json", "")
    write(m / "x.txt", jsonl({"a": 0}))  # not a landing file name
    write(m / "_x.json", jsonl({"a": 0}))
    write(m / ".x.json", jsonl({"a": 0}))
    write(tmp_path / "landing" / "orders" / "o.jsonl", '{"orderId": 1}\n')

    messages, orders = read_landing(str(tmp_path))

    assert [(os.path.basename(r["source_file"]), r["obj"]) for r in messages] == [
        ("a.json", {"a": 3}), ("a.json", None), ("a.json", {"a": 4}),
        ("b.jsonl", {"a": 1}), ("b.jsonl", None), ("b.jsonl", None), ("b.jsonl", None),
        ("b.jsonl", {"a": 2}),
        ("c.jsonl", {"a": 5}),
        ("d.json", None),
        ("e.json.gz", {"a": 8}),
        ("f.jsonl.gz", {"a": 9}),
    ]
    assert [r["raw"] for r in messages if r["source_file"].endswith("b.jsonl")][1:3] == ["{broken", "[1]"]
    assert messages[1]["raw"] == "7"
    assert messages[9]["raw"] == '[{"a": 6},\n'  # the whole broken file
    assert messages[0]["source_file"] == str(m / "a.json")
    assert [r["obj"] for r in orders] == [{"orderId": 1}]


def test_missing_landing_folders_read_as_empty(tmp_path):
    assert read_landing(str(tmp_path)) == ([], [])


# ---------------------------------------------------------------- total order and gold


def test_total_order_tie_breakers():
    def m(csm=False, role="agent", frm=1, to=2, dev="d", time=T):
        return {"message_sent_at": time, "chat_started_by_message": csm, "sender_role": role,
                "from_id": frm, "to_id": to, "sender_device_type": dev}

    expected = [
        m(time=utc(2024, 3, 1), csm=False),  # earlier time beats everything
        m(csm=True, role="agent", frm=9),  # chat-opening message first
        m(role="customer", frm=9),  # then customer before agent
        m(frm=1, to=5),
        m(frm=2, to=None, dev="z"),  # null to_id first
        m(frm=2, to=1, dev=None),  # null device first
        m(frm=2, to=1, dev="A"),
        m(frm=2, to=1, dev="a"),  # byte order: 'A' < 'a'
    ]
    assert sorted(reversed(expected), key=conversation_order_key) == expected


def test_build_expected_end_to_end(tmp_path):
    landing = tmp_path / "landing"
    # Order 100: ties, a reassignment (agent 50 -> 51), priority and resolution as strings.
    write(landing / "customer_agent_messages" / "01.jsonl", jsonl(
        msg(100, 1, 50, 1, "2024-03-01T08:00:00.250Z", agentId=50, chatStartedByMessage=True,
            orderStage="placed", senderDeviceType="Customer iOS"),
        # Same instant, not chat-opening: second in the total order.
        msg(100, 1, 50, 1, "2024-03-01 09:00:00.250+01:00", agentId=50,
            senderDeviceType="Customer Android", orderStage="placed"),
        msg(100, 50, 1, 1, "2024-03-01T08:01:10.100999Z", agentId=50, priority="true",
            senderDeviceType="Agent Web", orderStage="placed"),
    ))
    write(landing / "customer_agent_messages" / "02.json", json.dumps([
        # Both at 08:05: customer before agent, so the agent message (stage in_delivery) is last.
        msg(100, 51, 1, 1, "2024-03-01T08:05:00Z", agentId=51, resolution=True,
            orderStage="in_delivery", senderDeviceType="Agent Web"),
        msg(100, 1, 51, 1, "1709280300000", agentId="51", orderStage="delivered",
            senderDeviceType="Customer iOS"),
        # Duplicate of the first message of order 100, in epoch millis.
        msg(100, 1, 50, 1, 1709280000250, agentId=99, chatStartedByMessage="true",
            orderStage="ignored", senderDeviceType="Customer iOS"),
        # Order 200: never answered, unknown order; 00:30+01:00 is 23:30 UTC the day before.
        msg(200, 2, 60, 2, "2024-03-02T00:30:00+01:00", chatStartedByMessage=True),
        msg(200, 2, 60, 2, "2024-03-01T23:45Z"),  # no seconds: quarantined
        msg(200, 2, 60, 2, 1709336700000, orderStage="waiting"),  # 23:45 UTC
    ], indent=1))
    # Order 300: agent-started; the customer writes at the same instant but does not open the chat.
    write(landing / "customer_agent_messages" / "03.jsonl.gz", jsonl(
        msg(300, 3, 70, 3, "2024-03-05T10:00:00Z", agentId=70),
        msg(300, 70, 3, 3, "2024-03-05T10:00:00Z", agentId=70, chatStartedByMessage=True),
        msg(300, 70, 3, 3, "2024-03-05T10:00:01Z", agentId=None),
    ) + "not json\n")
    write(landing / "orders" / "01.jsonl", jsonl(
        {"orderId": 100, "cityCode": "BCN"}, {"orderId": 300, "cityCode": "MAD"}, {"orderId": None},
    ))
    write(landing / "orders" / "02.jsonl", jsonl({"orderId": 300, "cityCode": None}) + "{\n")

    out = build_expected(str(tmp_path))

    assert len(out["silver_messages"]) == 10
    assert out["duplicates"] == 1
    assert out["quarantine_messages"] == [
        {"reason": "unparseable_message_sent_time",
         "raw": json.dumps(msg(200, 2, 60, 2, "2024-03-01T23:45Z"), separators=(",", ":"))},
        {"reason": "invalid_json", "raw": "not json"},
    ]
    assert out["silver_orders"] == {100: "BCN", 300: None}
    assert out["quarantine_orders"] == 2
    # The first copy of the duplicated message won: agent 99 never appears.
    assert {m["agent_id"] for m in out["silver_messages"] if m["order_id"] == 100} == {50, 51}

    assert out["gold"] == {
        100: {
            "order_id": 100, "city_code": "BCN",
            "first_agent_message": utc(2024, 3, 1, 8, 1, 10, 100999),
            "first_customer_message": utc(2024, 3, 1, 8, 0, 0, 250000),
            "num_messages_agent": 2, "num_messages_customer": 3,
            "first_message_by": "customer",
            "conversation_started_at": utc(2024, 3, 1, 8, 0, 0, 250000),
            "first_response_time_delay_seconds": 69,  # 69.850999 s, floored
            "last_message_time": utc(2024, 3, 1, 8, 5),
            "last_message_order_stage": "in_delivery",
            "num_agents": 2, "priority": True, "resolved": True,
            "conversation_date": date(2024, 3, 1),
        },
        200: {
            "order_id": 200, "city_code": None,
            "first_agent_message": None,
            "first_customer_message": utc(2024, 3, 1, 23, 30),
            "num_messages_agent": 0, "num_messages_customer": 2,
            "first_message_by": "customer",
            "conversation_started_at": utc(2024, 3, 1, 23, 30),
            "first_response_time_delay_seconds": None,
            "last_message_time": utc(2024, 3, 1, 23, 45),
            "last_message_order_stage": "waiting",
            "num_agents": 0, "priority": False, "resolved": False,
            "conversation_date": date(2024, 3, 1),
        },
        300: {
            "order_id": 300, "city_code": None,
            "first_agent_message": utc(2024, 3, 5, 10),
            "first_customer_message": utc(2024, 3, 5, 10),
            "num_messages_agent": 2, "num_messages_customer": 1,
            "first_message_by": "agent",
            "conversation_started_at": utc(2024, 3, 5, 10),
            "first_response_time_delay_seconds": 0,
            "last_message_time": utc(2024, 3, 5, 10, 0, 1),
            "last_message_order_stage": None,
            "num_agents": 1, "priority": False, "resolved": False,
            "conversation_date": date(2024, 3, 5),
        },
    }
    # Nothing dropped silently: landing = silver + quarantine + duplicates.
    landing_messages = len(read_landing(str(tmp_path))[0])
    assert landing_messages == (
        len(out["silver_messages"]) + len(out["quarantine_messages"]) + out["duplicates"]
    )
