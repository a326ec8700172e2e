"""The rules of conf/quality_rules.toml on crafted rows, and the checks that stop a job."""

from datetime import date, datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from pipeline import PipelineError, quality
from pipeline.transforms.conversations import build_conversations
from pipeline.transforms.messages import parse_messages
from pipeline.transforms.orders import parse_orders
from tests.support.lakes import GOLD_SCHEMA
from tests.test_conversations import MESSAGES, msg
from tests.test_messages import bronze, event

pytestmark = pytest.mark.spark

# test_messages.bronze() ingests at 2024-04-01 00:00.
FUTURE, PAST = "2024-04-02T00:00:00.000001Z", "2014-12-31T23:59:59Z"


def judged(df, rules):
    """(label, quarantine reason, sorted names of the warn and fail rules broken) per row;
    as in summarize(), a quarantined row counts for no other rule."""
    df = quality.with_quarantine_reasons(df, rules)
    counted = [rule for rule in rules if rule.action != "quarantine"]
    broken = F.array_sort(F.filter(F.array(*(F.when(r.broken(), r.name) for r in counted)), lambda x: x.isNotNull()))
    broken = F.when(F.col("reason").isNull(), broken).otherwise(F.array().cast("array<string>"))
    return df.select("label", "reason", broken.alias("broken"))


def expect(spark, rows):
    return spark.createDataFrame(rows, "label string, reason string, broken array<string>")


def assert_every_rule_covered(layer, rows):
    named = {row[1] for row in rows} | {name for row in rows for name in row[2]}
    assert named >= {rule.name for rule in quality.load_rules(layer)}


def test_message_rules_on_crafted_records(spark):
    agent = {"fromId": 100, "senderDeviceType": "Agent Web"}
    cases = [
        ("clean customer message", event(), None, []),
        ("clean agent message", event(**agent), None, []),
        ("agent on an unknown device", event(fromId=100, senderDeviceType=None), None, []),
        ("a day ahead of ingestion", event(messageSentTime="2024-04-02T00:00:00Z"), None, []),
        ("further ahead", event(messageSentTime=FUTURE), "message_time_in_future", []),
        ("before 2015", event(messageSentTime=PAST), "message_time_before_2015", []),
        ("parse reasons first", event(orderId=None, messageSentTime=PAST), "null_order_id", []),
        ("quarantined, not warned", event(**agent, agentId=7, messageSentTime=PAST), "message_time_before_2015", []),
        ("not the customer, customer device", event(fromId=100, senderDeviceType="Customer iOS"), None,
         ["sender_neither_customer_nor_agent"]),
        ("not the customer, odd device", event(fromId=100, senderDeviceType="Kiosk"), None,
         ["sender_neither_customer_nor_agent"]),
        ("customer on an agent device", event(senderDeviceType="agent android"), None, ["customer_on_agent_device"]),
        ("not the assigned agent", event(**agent, agentId=101), None, ["agent_message_from_other_agent"]),
    ]
    parsed = parse_messages(bronze(spark, [raw for _, raw, _, _ in cases]))
    labels = spark.createDataFrame([(i, case[0]) for i, case in enumerate(cases)], "record_index int, label string")
    parsed = parsed.join(labels, "record_index")
    rows = [(label, reason, broken) for label, _, reason, broken in cases]
    assert_df_equality(judged(parsed, quality.load_rules("silver_messages")), expect(spark, rows),
                       ignore_row_order=True, ignore_nullable=True)
    assert_every_rule_covered("silver_messages", rows)


def test_order_rules_on_crafted_records(spark):
    cases = [
        ("clean", '{"orderId": 1, "cityCode": "BCN"}', None, []),
        ("no city", '{"orderId": 2}', None, ["order_without_city"]),
        ("null city", '{"orderId": 3, "cityCode": null}', None, ["order_without_city"]),
        ("a name, not a code", '{"orderId": 4, "cityCode": "Barcelona"}', None, ["malformed_city_code"]),
        ("a number", '{"orderId": 5, "cityCode": 7}', None, ["malformed_city_code"]),
        ("parse reasons stay", '{"cityCode": "x"}', "null_order_id", []),
    ]
    records = spark.createDataFrame(
        [("f", i, raw, 0, datetime(2024, 4, 1), label) for i, (label, raw, _, _) in enumerate(cases)],
        "source_file string, record_index int, raw string, ingest_batch long, ingested_at timestamp, label string",
    )
    parsed = parse_orders(records).join(records.select("record_index", "label"), "record_index")
    rows = [(label, reason, broken) for label, _, reason, broken in cases]
    assert_df_equality(judged(parsed, quality.load_rules("silver_orders")), expect(spark, rows),
                       ignore_row_order=True, ignore_nullable=True)
    assert_every_rule_covered("silver_orders", rows)


def test_gold_rules_on_crafted_conversations(spark):
    t = datetime(2024, 3, 1, 10)
    late = datetime(2024, 3, 1, 9, 59)
    messages = spark.createDataFrame(
        [
            msg(1, 1, 1, 100, 100, True, t, "A"),  # customer opens, agent answers: clean
            msg(1, 1, 100, 1, 100, False, datetime(2024, 3, 1, 10, 1), "A"),
            msg(2, 2, 2, 200, 200, True, t, "A"),  # customer opens, yet an agent message is earlier
            msg(2, 2, 200, 2, 200, False, late, "A"),
            msg(3, 3, 300, 3, 300, True, t, "A"),  # agent opens, customer answers: clean
            msg(3, 3, 3, 300, 300, False, datetime(2024, 3, 1, 10, 2), "A"),
            msg(4, 4, 400, 4, 400, False, late, "A"),  # no chat-starting message at all: clean
            msg(4, 4, 4, 400, 400, False, t, "A"),
        ],
        MESSAGES,
    )
    built = build_conversations(messages, spark.createDataFrame([], "order_id long, city_code string"), True)
    # A negative delay cannot come out of build_conversations: craft the row.
    crafted = spark.createDataFrame(
        [(5, None, t, late, 1, 1, "customer", late, -60, t, None, 1, False, False, date(2024, 3, 1), "customer")],
        f"{GOLD_SCHEMA}, chat_started_by string",
    )
    gold = built.unionByName(crafted).withColumn("label", F.col("order_id").cast("string")).withColumn(
        "reason", F.lit(None).cast("string")
    )
    rows = [("1", None, []), ("2", None, ["agent_answered_before_customer_started"]), ("3", None, []),
            ("4", None, []), ("5", None, ["negative_first_response_delay"])]
    assert_df_equality(judged(gold, quality.load_rules("gold_conversations")), expect(spark, rows),
                       ignore_row_order=True, ignore_nullable=True)
    assert_every_rule_covered("gold_conversations", rows)


def test_counts_in_one_aggregation_and_the_checks_that_stop_a_job(spark):
    rules = [
        quality.Rule("late", "silver_messages", "n < 10", "quarantine"),
        quality.Rule("odd", "silver_messages", "n % 2 = 0", "warn"),
        quality.Rule("huge", "silver_messages", "n < 1000", "fail"),
    ]
    df = spark.range(20).select(F.col("id").alias("n"), F.when(F.col("id") == 0, "invalid_json").alias("reason"))
    parsed = quality.with_quarantine_reasons(df, rules)
    summary = quality.summarize(parsed.groupBy("reason").agg(*quality.counts(rules)).collect(), rules)
    # 0 keeps its parse reason; 10..19 break `late`; among the 9 kept rows 1..9, 5 are odd.
    assert summary == quality.Summary(20, {"invalid_json": 1, "late": 10}, {"odd": 5, "huge": 0})
    assert summary.by_action(rules, "warn") == {"odd": 5}
    assert quality.check(summary, rules, "records", max_share=0.55) is None
    assert quality.check(summary, rules, "records", max_share=0.5, min_rows=21) is None  # batch too small
    assert quality.check(summary, rules, "records", max_share=0.5) == (
        "55.0% of 20 records would be quarantined, more than 50.0% (top reasons: late 10, invalid_json 1); "
        "nothing written (rerun with --max-quarantined-share to accept)"
    )
    summary.broken["huge"] = 2
    assert quality.check(summary, rules, "records") == "quality rule failed: huge (2 of 20 records); nothing written"


@pytest.mark.parametrize(
    "rule, message",
    [
        ('name = "x"\nlayer = "gold_conversations"\nexpect = "true"\naction = "quarantine"', "only silver rules"),
        ('name = "x"\nlayer = "silver_orders"\nexpect = "true"\naction = "drop"', "action one of"),
        ('name = "Bad Name"\nlayer = "silver_orders"\nexpect = "true"\naction = "warn"', "lower_snake_case"),
        ('name = "x"\nlayer = "silver_orders"\naction = "warn"', "needs exactly"),
    ],
)
def test_a_malformed_rules_file_is_one_clear_error(tmp_path, monkeypatch, rule, message):
    monkeypatch.setattr(quality, "RULES_FILE", tmp_path / "rules.toml")
    (tmp_path / "rules.toml").write_text(f"[[rule]]\n{rule}\n")
    with pytest.raises(PipelineError, match=message):
        quality.load_rules("silver_orders")


@pytest.mark.parametrize(
    "text, message",
    [
        ('[constraints.gold_conversation]\nx = "true"', "only \\[constraints.<table>\\] for gold_conversations"),
        ("constraints = 1", "only \\[constraints.<table>\\]"),
        ("[constraints]\ngold_conversations = 1", "must be a table"),
        ('[constraints.gold_conversations]\nBad = "true"', "lower_snake_case"),
    ],
)
def test_a_malformed_constraints_section_is_one_clear_error(tmp_path, monkeypatch, text, message):
    monkeypatch.setattr(quality, "RULES_FILE", tmp_path / "rules.toml")
    (tmp_path / "rules.toml").write_text(text + "\n")
    with pytest.raises(PipelineError, match=message):
        quality.load_constraints("gold_conversations")


def test_a_rule_naming_an_unknown_column_is_one_line_naming_the_rule(spark):
    rules = [quality.Rule("typo", "silver_orders", "city_cod IS NOT NULL", "warn")]
    with pytest.raises(PipelineError, match=r"^quality rule 'typo' \(silver_orders\): .*city_cod"):
        quality.validate(spark.createDataFrame([], "city_code string"), rules)
