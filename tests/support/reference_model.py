"""Independent pure-Python model of the data contract (issue 2), used as a test oracle.

It deliberately shares no code with `pipeline/` and never imports pyspark, so a bug in the
Spark jobs cannot hide by being repeated here. It models one ingestion run over every file
in the landing folders (files by full path, records in file order).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from datetime import datetime, timedelta, timezone

MESSAGES_DIR = "customer_agent_messages"
ORDERS_DIR = "orders"
LANDING_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
JSON_WHITESPACE = " \t\r\n"

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The quarantine rules of conf/quality_rules.toml, by hand (a test checks the names).
QUARANTINE_RULES = ("message_time_in_future", "message_time_before_2015")
EARLIEST_MESSAGE_TIME = datetime(2015, 1, 1, tzinfo=timezone.utc)

# [0-9] rather than \d: Python's \d also matches non-ASCII digits.
EPOCH_MILLIS_RE = re.compile(r"[0-9]{1,13}")
ISO_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"[T ]"
    r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2}):(?P<second>[0-9]{1,2})"
    r"(?:\.(?P<fraction>[0-9]{0,9}))?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zh>[0-9]{2}):?(?P<zm>[0-9]{2}))?"
)
LONG_TEXT_RE = re.compile(r"(-?[0-9]+)(\.0+)?")  # "51" and "51.0" both mean 51
LINE_END_RE = re.compile(r"\r\n|\r|\n")


# ---------------------------------------------------------------- landing files


def _landing_files(folder: str) -> list[str]:
    """Every landing file under `folder`, sorted by full path.

    Names starting with '.' or '_' are skipped, as Spark's file listing skips them
    (checkpoints, _SUCCESS, editor temp files).
    """
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found += [
            os.path.join(root, name)
            for name in files
            if name.endswith(LANDING_SUFFIXES) and not name.startswith((".", "_"))
        ]
    return sorted(found)


def _reject_constant(name: str):
    # NaN / Infinity are not JSON, although Python's json module accepts them.
    raise ValueError(f"not JSON: {name}")


def _loads(text: str):
    return json.loads(text, parse_constant=_reject_constant)


def _compact_json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _record(raw: str, source_file: str, value, is_json: bool = True) -> dict:
    """`obj`: the JSON object, else None; `not_object`: JSON, but no object."""
    obj = value if isinstance(value, dict) else None
    return {"raw": raw, "source_file": source_file, "obj": obj, "not_object": is_json and obj is None}


def _read_file(path: str) -> list[dict]:
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError):  # truncated or corrupt: bronze sets the whole file aside
            return []
    text = data.decode("utf-8-sig", errors="replace")  # a leading byte order mark is dropped

    if text.lstrip(JSON_WHITESPACE).startswith("["):
        try:
            elements = _loads(text)
        except (ValueError, RecursionError):
            return [_record(text, path, None, is_json=False)]  # a broken array file is one record
        # Non-object elements are kept (obj None) so they are quarantined, not dropped.
        return [_record(_compact_json(e), path, e) for e in elements]

    records = []
    # Line ends as Hadoop's line reader (and so Spark) sees them: \n, \r\n or a lone \r.
    for line in LINE_END_RE.split(text):
        if not line.strip(JSON_WHITESPACE):
            continue
        try:
            records.append(_record(line, path, _loads(line)))
        except (ValueError, RecursionError):
            records.append(_record(line, path, None, is_json=False))
    return records


def read_landing(lake: str) -> tuple[list[dict], list[dict]]:
    """(message_records, order_records) in ingestion order; a missing folder reads as empty."""
    def read(sub: str) -> list[dict]:
        folder = os.path.join(lake, "landing", sub)
        return [rec for path in _landing_files(folder) for rec in _read_file(path)]

    return read(MESSAGES_DIR), read(ORDERS_DIR)


# ---------------------------------------------------------------- field coercion


def parse_message_sent_time(value) -> datetime | None:
    """UTC-aware datetime (microsecond precision) for a messageSentTime JSON value, else None."""
    if isinstance(value, bool):  # bool is an int subclass in Python
        return None
    if isinstance(value, int):
        return _from_epoch_millis(value) if 0 <= value < 10**13 else None
    if not isinstance(value, str):
        return None  # floats (1.5, 1e3), objects, arrays, null

    text = value.strip(" ")
    if EPOCH_MILLIS_RE.fullmatch(text):
        return _from_epoch_millis(int(text))
    m = ISO_RE.fullmatch(text)
    if not m:
        return None

    offset = timedelta(0)
    if m["sign"]:
        zh, zm = int(m["zh"]), int(m["zm"])
        if zh > 18 or zm > 59 or zh * 60 + zm > 18 * 60:
            return None
        offset = (1 if m["sign"] == "+" else -1) * timedelta(hours=zh, minutes=zm)

    # Digits beyond microseconds are truncated, never rounded.
    micros = int((m["fraction"] or "")[:6].ljust(6, "0"))
    try:
        local = datetime(
            int(m["year"]), int(m["month"]), int(m["day"]),
            int(m["hour"]), int(m["minute"]), int(m["second"]), micros,
            tzinfo=timezone(offset),
        )
        return local.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        # Impossible dates, hour 24, second 60, and instants outside years 1..9999.
        return None


def _from_epoch_millis(millis: int) -> datetime:
    return EPOCH + timedelta(milliseconds=millis)


def to_long(value) -> int | None:
    """A JSON integer or integral float, or a digit string (optional '-', optional
    '.0...'), fitting a signed 64-bit long, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():  # 51.0, as Spark writes the number: "51.0"
        value = int(value)
    match = LONG_TEXT_RE.fullmatch(value) if isinstance(value, str) else None
    if match:
        value = int(match.group(1))
    if isinstance(value, int) and LONG_MIN <= value <= LONG_MAX:
        return value
    return None


def to_bool(value) -> bool:
    """JSON true or the exact string "true"; anything else (null, absent, junk) is false."""
    return value is True or value == "true"


def to_string(value) -> str | None:
    """Strings as-is; other JSON values as their compact JSON text, as Spark reads them."""
    if value is None or isinstance(value, str):
        return value
    return _compact_json(value)


# ---------------------------------------------------------------- silver


def _quarantine_reason(rec: dict, ingested_at: datetime) -> str | None:
    obj = rec["obj"]
    if obj is None:
        return "not_an_object" if rec["not_object"] else "invalid_json"
    for field, name in (("orderId", "order_id"), ("fromId", "from_id"), ("customerId", "customer_id")):
        if obj.get(field) is None:
            return f"null_{name}"
        if to_long(obj.get(field)) is None:
            return f"invalid_{name}"
    if obj.get("messageSentTime") is None:
        return "null_message_sent_time"
    sent = parse_message_sent_time(obj["messageSentTime"])
    if sent is None:
        return "unparseable_message_sent_time"
    if sent > ingested_at + timedelta(days=1):
        return "message_time_in_future"
    if sent < EARLIEST_MESSAGE_TIME:
        return "message_time_before_2015"
    return None


def _silver_message(obj: dict) -> dict:
    customer_id, from_id = to_long(obj.get("customerId")), to_long(obj.get("fromId"))
    return {
        "order_id": to_long(obj.get("orderId")),
        "customer_id": customer_id,
        "from_id": from_id,
        "to_id": to_long(obj.get("toId")),
        "agent_id": to_long(obj.get("agentId")),
        "sender_role": "customer" if from_id == customer_id else "agent",
        "sender_device_type": to_string(obj.get("senderDeviceType")),
        "chat_started_by_message": to_bool(obj.get("chatStartedByMessage")),
        "priority": to_bool(obj.get("priority")),
        "resolution": to_bool(obj.get("resolution")),
        "order_stage": to_string(obj.get("orderStage")),
        "message_sent_at": parse_message_sent_time(obj.get("messageSentTime")),
    }


def _dedup_key(msg: dict) -> tuple:
    return tuple(
        msg[c]
        for c in (
            "order_id", "from_id", "to_id", "message_sent_at",
            "sender_device_type", "chat_started_by_message",
        )
    )


def build_silver_messages(
    records: list[dict], ingested_at: datetime | None = None
) -> tuple[list[dict], list[dict], int]:
    """(silver rows in ingestion order, quarantine rows, duplicate count).

    `ingested_at` (default: now) stands for the time bronze ingested the records;
    only a message sent within moments of a day after it could be judged otherwise."""
    ingested_at = ingested_at or datetime.now(timezone.utc)
    silver, quarantine, seen, duplicates = [], [], set(), 0
    for rec in records:
        reason = _quarantine_reason(rec, ingested_at)
        if reason:
            quarantine.append({"reason": reason, "raw": rec["raw"]})
            continue
        msg = _silver_message(rec["obj"])
        key = _dedup_key(msg)
        if key in seen:
            duplicates += 1  # the first ingested copy already won
            continue
        seen.add(key)
        silver.append(msg)
    return silver, quarantine, duplicates


def build_silver_orders(records: list[dict]) -> tuple[dict[int, str | None], int]:
    """({order_id: city_code}, quarantined count); the last ingested record wins as a whole."""
    orders, quarantined = {}, 0
    for rec in records:
        order_id = None if rec["obj"] is None else to_long(rec["obj"].get("orderId"))
        if order_id is None:
            quarantined += 1
            continue
        orders[order_id] = to_string(rec["obj"].get("cityCode"))
    return orders, quarantined


# ---------------------------------------------------------------- gold


def _nulls_first(value) -> tuple:
    return (value is not None, value if value is not None else 0)


def conversation_order_key(msg: dict) -> tuple:
    """The contract's total order of the messages of one conversation."""
    return (
        msg["message_sent_at"],
        not msg["chat_started_by_message"],  # the chat-opening message first
        msg["sender_role"] != "customer",  # customer before agent
        _nulls_first(msg["from_id"]),
        _nulls_first(msg["to_id"]),
        _nulls_first(msg["sender_device_type"]),
    )


def _gold_row(order_id: int, city_code: str | None, messages: list[dict]) -> dict:
    ordered = sorted(messages, key=conversation_order_key)
    first, last = ordered[0], ordered[-1]
    started = first["message_sent_at"]

    def first_time(role: str) -> datetime | None:
        return next((m["message_sent_at"] for m in ordered if m["sender_role"] == role), None)

    response = next((m for m in ordered if m["sender_role"] != first["sender_role"]), None)
    return {
        "order_id": order_id,
        "city_code": city_code,
        "first_agent_message": first_time("agent"),
        "first_customer_message": first_time("customer"),
        "num_messages_agent": sum(m["sender_role"] == "agent" for m in ordered),
        "num_messages_customer": sum(m["sender_role"] == "customer" for m in ordered),
        "first_message_by": first["sender_role"],
        "conversation_started_at": started,
        # Floor division of timedeltas is exact (no float rounding at sub-second level).
        "first_response_time_delay_seconds": (
            None if response is None else (response["message_sent_at"] - started) // timedelta(seconds=1)
        ),
        "last_message_time": last["message_sent_at"],
        "last_message_order_stage": last["order_stage"],
        "num_agents": len({m["agent_id"] for m in ordered if m["agent_id"] is not None}),
        "priority": any(m["priority"] for m in ordered),
        "resolved": any(m["resolution"] for m in ordered),
        "conversation_date": started.date(),  # started is UTC, so this is the UTC date
    }


def build_gold(silver_messages: list[dict], orders: dict[int, str | None]) -> dict[int, dict]:
    by_order: dict[int, list[dict]] = {}
    for msg in silver_messages:
        by_order.setdefault(msg["order_id"], []).append(msg)
    return {oid: _gold_row(oid, orders.get(oid), msgs) for oid, msgs in by_order.items()}


def build_expected(lake: str) -> dict:
    """Everything the three jobs should produce from `<lake>/landing` (lineage columns aside)."""
    message_records, order_records = read_landing(lake)
    silver, quarantine, duplicates = build_silver_messages(message_records)
    orders, quarantined_orders = build_silver_orders(order_records)
    return {
        "silver_messages": silver,
        "quarantine_messages": quarantine,
        "duplicates": duplicates,
        "silver_orders": orders,
        "quarantine_orders": quarantined_orders,
        "gold": build_gold(silver, orders),
    }

