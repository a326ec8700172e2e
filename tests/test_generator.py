"""Tests of the synthetic landing data generator (pure Python, no Spark).

The generated files are read back with the contract's pure-Python oracle, so the
counts generate() reports are the ones the Spark jobs must reconcile to.
"""

import gzip
import os
import re
from datetime import date, timedelta

import pytest

from tools.generator import generate, main
from tests.support.reference_model import (
    build_gold,
    build_silver_messages,
    build_silver_orders,
    parse_message_sent_time,
    read_landing,
    to_bool,
    to_long,
)

pytestmark = pytest.mark.unit

ORDERS = 50  # the smallest size that must still show every case
MESSAGES = os.path.join("landing", "customer_agent_messages")
ORDERS_DIR = os.path.join("landing", "orders")


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("lake")
    summary = generate(str(path), ORDERS, seed=7)
    messages, orders = read_landing(str(path))
    return path, summary, messages, orders


def contents(lake_path) -> dict[str, bytes]:
    return {
        os.path.join(sub, name): (lake_path / sub / name).read_bytes()
        for sub in (MESSAGES, ORDERS_DIR)
        for name in sorted(os.listdir(lake_path / sub))
    }


def text(path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode()


def test_same_seed_gives_identical_files(lake, tmp_path):
    generate(str(tmp_path), ORDERS, seed=7)
    assert contents(tmp_path) == contents(lake[0])


def test_another_seed_gives_other_data(lake, tmp_path):
    generate(str(tmp_path), ORDERS, seed=8)
    assert all(a != b for a, b in zip(contents(tmp_path).values(), contents(lake[0]).values()))


def test_counts_match_the_files(lake):
    path, summary, messages, orders = lake
    silver, quarantine, duplicates = build_silver_messages(messages)
    _, bad_orders = build_silver_orders(orders)
    assert summary == {
        "message_files": len(os.listdir(path / MESSAGES)),
        "order_files": len(os.listdir(path / ORDERS_DIR)),
        "message_records": len(messages),
        "bad_message_records": len(quarantine),
        "duplicate_message_records": duplicates,
        "late_message_records": summary["late_message_records"],  # checked with the late arrivals
        "order_records": len(orders),
        "bad_order_records": bad_orders,
    }
    assert 6 < len(messages) / ORDERS < 10  # about 8, plus at least one bad record of each kind
    assert {q["reason"] for q in quarantine} == {
        "invalid_json", "not_an_object", "null_order_id", "invalid_order_id", "null_from_id", "invalid_from_id",
        "null_customer_id", "invalid_customer_id", "null_message_sent_time", "unparseable_message_sent_time",
    }


def test_every_file_format_is_present(lake):
    folder = lake[0] / MESSAGES
    names = sorted(os.listdir(folder))
    assert {n.split(".", 1)[1] for n in names} == {"jsonl", "json", "jsonl.gz", "json.gz"}
    texts = {n: text(folder / n) for n in names}
    arrays = [t for t in texts.values() if t.lstrip().startswith("[")]
    assert sum(t.rstrip().endswith("]") for t in arrays) == len(arrays) - 1  # exactly one broken array
    assert any(n.endswith(".json") and t.lstrip().startswith("{") for n, t in texts.items())
    assert any("\n\n" in t for t in texts.values())  # blank lines
    lines = [line for t in texts.values() if not t.lstrip().startswith("[") for line in t.splitlines()]
    assert "42" in lines


TIME_FORMS = {
    "epoch string": r"\d{13}",
    "T separator": r"\d{4}-.+T.+",
    "space separator": r"\d{4}-\S+ \S+",
    "no fraction": r".+:\d\d?(Z|[+-].+)?",
    "'.' alone": r".+:\d\d?\.(Z|[+-].+)?",
    "9 fraction digits": r".+\.\d{9}(Z|[+-].+)?",
    "Z": r".+Z",
    "+HH:MM": r".+\+\d\d:\d\d",
    "-HH:MM": r".+-\d\d:\d\d",
    "+HHMM": r".+\+\d{4}",
    "-HHMM": r".+\d\d:\d\d?(\.\d*)?-\d{4}",
    "no zone": r".+:\d\d?(\.\d*)?",
    "unpadded month and day": r"\d{4}-\d-\d\D.+",
    "unpadded hour": r".+[T ]\d:.+",
    "unpadded minute": r".+:\d:.+",
}


def test_every_time_form_is_present(lake):
    values = [r["obj"].get("messageSentTime") for r in lake[2] if r["obj"]]
    strings = [v.strip(" ") for v in values if isinstance(v, str)]
    missing = [form for form, regex in TIME_FORMS.items() if not any(re.fullmatch(regex, s) for s in strings)]
    assert missing == []
    assert any(isinstance(v, int) and v > 10**12 for v in values)  # epoch number
    assert any(v != v.strip(" ") for v in values if isinstance(v, str))  # leading or trailing spaces


def test_every_field_form_is_present(lake):
    objects = [r["obj"] for r in lake[2] if r["obj"]]
    assert any(isinstance(o.get("orderId"), str) and to_long(o["orderId"]) for o in objects)
    flags = [o.get(f, "absent") for o in objects for f in ("chatStartedByMessage", "priority", "resolution")]
    assert {"true", "false", None, "absent"} <= set(flags)
    assert any("orderStage" in o and o["orderStage"] is None for o in objects)
    assert any("orderStage" not in o for o in objects)
    assert any(o.get("senderDeviceType") is None for o in objects)
    assert {o.get("orderStage") for o in objects} >= {"PLACED", "PICKING", "IN_TRANSIT", "DELIVERED"}


def test_every_conversation_case_is_present(lake):
    _, _, messages, orders = lake
    silver, _, _ = build_silver_messages(messages)
    cities, _ = build_silver_orders(orders)
    gold = build_gold(silver, cities).values()
    assert any(g["first_message_by"] == "agent" and g["num_messages_customer"] for g in gold)
    assert any(g["num_messages_agent"] == 0 for g in gold)  # never answered
    assert any(g["num_messages_customer"] == 0 for g in gold)  # agent only
    assert {g["num_agents"] for g in gold} >= {0, 1, 2}  # unassigned, one agent, reassigned
    assert {g["priority"] for g in gold} == {g["resolved"] for g in gold} == {True, False}
    assert any(g["conversation_started_at"].date() != g["last_message_time"].date() for g in gold)
    assert any(g["order_id"] not in cities for g in gold)  # unknown order
    assert None in cities.values()  # a later null city
    seen = {}
    for m in silver:
        seen.setdefault((m["order_id"], m["message_sent_at"]), set()).add(m["sender_role"])
    assert any(len(roles) == 2 for roles in seen.values())  # a customer-agent tie


def test_late_arrivals_and_duplicates_come_in_later_files(lake):
    def valid(o) -> bool:
        ids = [to_long(o.get(field)) for field in ("orderId", "fromId", "customerId")]
        return None not in ids and parse_message_sent_time(o.get("messageSentTime")) is not None

    messages = [r for r in lake[2] if r["obj"] and valid(r["obj"])]
    last = max(r["source_file"] for r in messages)
    first, late, copies = {}, [], {}
    for r in messages:
        o = r["obj"]
        order, sent = to_long(o.get("orderId")), parse_message_sent_time(o["messageSentTime"])
        if r["source_file"] != last:
            first[order] = min(first.get(order, sent), sent)
        elif order in first and sent < first[order]:
            late.append(first[order] - sent)
        key = (order, to_long(o.get("fromId")), to_long(o.get("toId")), sent,
               o.get("senderDeviceType"), to_bool(o.get("chatStartedByMessage")))
        copies.setdefault(key, []).append(r)
    assert len(late) == lake[1]["late_message_records"] > 0
    assert max(late) > timedelta(days=1)  # moves the conversation date
    duplicated = [c for c in copies.values() if len(c) > 1]
    assert duplicated and all(a["source_file"] < b["source_file"] for a, b in duplicated)
    assert any(a["obj"]["messageSentTime"] != b["obj"]["messageSentTime"] for a, b in duplicated)
    assert any(to_bool(a["obj"].get("priority")) != to_bool(b["obj"].get("priority")) for a, b in duplicated)


def test_orders_change_city_in_a_later_file(lake):
    cities = {}
    for r in lake[3]:
        if r["obj"] and to_long(r["obj"].get("orderId")):
            cities.setdefault(to_long(r["obj"]["orderId"]), []).append(r["obj"]["cityCode"])
    assert any(len(set(c)) > 1 and None not in c for c in cities.values())


def test_refuses_to_overwrite(tmp_path):
    generate(str(tmp_path), 1)
    before = contents(tmp_path)
    with pytest.raises(FileExistsError):
        generate(str(tmp_path), 1, files=7)
    assert contents(tmp_path) == before
    generate(str(tmp_path), 1, prefix="more")


def test_cli_reports_bad_arguments_in_one_line(tmp_path, capsys):
    for bad in (["--orders", "0"], ["--orders", "1", "--files", "5"], ["--orders", "1", "--prefix", "_x"]):
        with pytest.raises(SystemExit) as exit_:
            main(["--lake", str(tmp_path), *bad])
        assert exit_.value.code == 2
        assert len(capsys.readouterr().err.splitlines()) == 1
    assert main(["--lake", str(tmp_path), "--orders", "3"]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    assert main(["--lake", str(tmp_path), "--orders", "3"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_days_keep_a_drop_to_one_day_of_the_span(tmp_path):
    """A "today" drop: 200 new orders that start on day 29 (2024-03-14); only
    late arrivals, sent before a chat's first message, start a day or two earlier."""
    generate(str(tmp_path), 200, seed=3, days=(29, 29))
    messages, orders = read_landing(str(tmp_path))
    silver, _, _ = build_silver_messages(messages)
    dates = [g["conversation_date"] for g in build_gold(silver, build_silver_orders(orders)[0]).values()]
    today = date(2024, 3, 14)
    assert all(today - timedelta(days=2) <= day <= today + timedelta(days=1) for day in dates)
    assert sum(day == today for day in dates) > 0.9 * len(dates)


@pytest.mark.parametrize("days", ["30", "5-3", "x"])
def test_days_outside_the_span_are_one_error_line(days, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["--lake", str(tmp_path), "--orders", "5", "--days", days])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("python -m tools.generator: error: ")
    assert not (tmp_path / "landing").exists()
