"""Real runs on one small lake, in the test session: the audit rows of every run
match the tables; runs stopped by a fail rule, the quarantine threshold or a gold
constraint change no table and record a failed row; `status` shows it all.

Each test starts from the same freshly built lake, restored at the same path
(bronze's streaming checkpoint records absolute file paths), so the tests pass
alone and in any order."""

import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import gold, silver
from pipeline import quality
from pipeline.steps import gold as gold_step
from pipeline.runtime.audit import AUDIT_SCHEMA, audit_rows
from pipeline.runtime.config import load_config
from pipeline.lake.tables import check_text
from tools.generator import generate
from tests.support import reference_model
from tests.support.lakes import run_in_session, table, versions
from tests.test_messages import event

pytestmark = pytest.mark.spark

OLD_AUDIT_SCHEMA = (  # the audit table of lakes from before this change
    "run_id string, job string, dataset string, started_at timestamp, finished_at timestamp, "
    "rows_read long, rows_written long, rows_quarantined long, duplicates long"
)


@pytest.fixture(scope="module")
def built_lake(spark, tmp_path_factory):
    """A lake after bronze, silver and gold, and a pristine copy of it."""
    lake = tmp_path_factory.mktemp("lake")
    old = (("old", "silver", "orders", datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 1), 1, 1, 0, 0),)
    spark.createDataFrame(old, OLD_AUDIT_SCHEMA).write.format("delta").save(f"{lake}/_meta/pipeline_runs")
    generate(str(lake), orders=20, seed=3)
    for job in ("bronze", "silver", "gold"):
        run_in_session(job, lake)
    pristine = tmp_path_factory.mktemp("pristine") / "lake"
    shutil.copytree(lake, pristine)
    return lake, pristine


@pytest.fixture
def lake(spark, built_lake):
    lake, pristine = built_lake
    shutil.rmtree(lake)
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()  # no snapshot of the replaced tables
    shutil.copytree(pristine, lake)
    return lake


def audit(spark, lake):
    return spark.read.format("delta").load(f"{lake}/_meta/pipeline_runs")


def last_row(spark, lake, job, dataset):
    rows = audit(spark, lake).where(F.col("job") == job).where(F.col("dataset").eqNullSafe(dataset))
    return rows.orderBy(F.desc("finished_at")).first()


def counts(df, column):
    return {row[0]: row[1] for row in df.groupBy(column).count().collect()}


def expected_warnings(lake):
    """Independently of the Spark code: the warn rules that fire on the generated data."""
    expected = reference_model.build_expected(str(lake))
    _, order_records = reference_model.read_landing(str(lake))
    no_city = sum(
        1 for r in order_records
        if r["obj"] is not None and reference_model.to_long(r["obj"].get("orderId")) is not None
        and reference_model.to_string(r["obj"].get("cityCode")) is None
    )
    by_order = {}
    for m in expected["silver_messages"]:
        by_order.setdefault(m["order_id"], []).append(m)
    early_agent = 0
    for messages in by_order.values():
        ordered = sorted(messages, key=reference_model.conversation_order_key)
        opener = next((m for m in ordered if m["chat_started_by_message"]), None)
        first = {role: next((m["message_sent_at"] for m in ordered if m["sender_role"] == role), None)
                 for role in ("agent", "customer")}
        early_agent += bool(opener and opener["sender_role"] == "customer" and first["agent"]
                            and first["agent"] < first["customer"])
    return no_city, early_agent


def test_every_run_has_rows_that_match_the_tables_in_an_older_audit_table(spark, lake):
    config = load_config("local", str(lake))
    rows = audit(spark, lake)
    assert rows.where("run_id = 'old'").select("status", "quarantined_by_rule").first() == (None, None)
    assert counts(rows.where("run_id <> 'old'"), "status") == {"succeeded": 5}  # 2 bronze, 2 silver, 1 gold

    msgs = last_row(spark, lake, "silver", "customer_agent_messages")
    quarantine = table(spark, lake, "quarantine_messages")
    assert msgs.rows_read == table(spark, lake, "bronze_messages").count()
    assert msgs.rows_written == table(spark, lake, "silver_messages").count()
    assert msgs.rows_quarantined == quarantine.count() == sum(msgs.quarantined_by_rule.values())
    assert msgs.quarantined_by_rule == counts(quarantine, "reason")
    assert msgs.duplicates == reference_model.build_expected(str(lake))["duplicates"] > 0
    assert msgs.input == "bronze/customer_agent_messages batches 0-0"
    assert msgs.delta_version == versions(spark, lake)["silver_messages"]
    assert msgs.duration_seconds == pytest.approx((msgs.finished_at - msgs.started_at).total_seconds(), abs=1e-3)

    no_city, early_agent = expected_warnings(lake)
    orders = last_row(spark, lake, "silver", "orders")
    assert orders.warnings_by_rule == {"order_without_city": no_city}
    assert orders.rows_quarantined == reference_model.build_expected(str(lake))["quarantine_orders"]
    conversations = last_row(spark, lake, "gold", "customer_agent_conversations")
    assert conversations.rows_written == table(spark, lake, "gold_conversations").count()
    assert early_agent > 0 and conversations.warnings_by_rule == {"agent_answered_before_customer_started": early_agent}
    assert conversations.input == "silver_messages v1, silver_orders v1"
    bronze = last_row(spark, lake, "bronze", "customer_agent_messages")
    assert bronze.input == f"6 new files in {config.landing('customer_agent_messages')}"
    assert bronze.rows_written == table(spark, lake, "bronze_messages").count()


def test_gold_constraints_survive_a_full_rebuild_and_reject_bad_rows(spark, lake, monkeypatch, capsys):
    path = load_config("local", str(lake)).table("gold_conversations")
    constraints = quality.load_constraints("gold_conversations")
    declared = {f"delta.constraints.{name}": check for name, check in constraints.items()}
    run_in_session("gold", lake, "--full-refresh")  # the overwrite path
    properties = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"]
    assert {k: v for k, v in properties.items() if k.startswith("delta.constraints.")} == declared

    good = table(spark, lake, "gold_conversations").limit(1)
    for column, value in (("order_id", F.lit(None).cast("long")), ("last_message_time", F.lit(datetime(2000, 1, 1)))):
        with pytest.raises(Exception, match="DELTA_VIOLATE_CONSTRAINT"):
            good.withColumn(column, value).write.format("delta").mode("append").save(path)

    # Through the job: a conversation without messages reaches Delta, which rejects the write.
    before = versions(spark, lake)
    capsys.readouterr()
    built = gold_step.build_conversations
    def without_messages(*args, **kwargs):
        return built(*args, **kwargs).withColumn("num_messages_agent", F.lit(0)).withColumn(
            "num_messages_customer", F.lit(0))

    monkeypatch.setattr(gold_step, "build_conversations", without_messages)
    assert gold.cli(["--lake", str(lake), "--full-refresh"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("gold: error: ") and "CHECK constraint at_least_one_message" in line
    assert versions(spark, lake) == before
    assert last_row(spark, lake, "gold", None).status == "failed"


def test_a_full_rebuild_adds_new_constraints_that_old_rows_break(spark, lake):
    path = load_config("local", str(lake)).table("gold_conversations")
    constraints = quality.load_constraints("gold_conversations")
    rows = table(spark, lake, "gold_conversations").count()
    for name in constraints:  # a gold table from before the constraints ...
        spark.sql(f"ALTER TABLE delta.`{path}` DROP CONSTRAINT {name}")
    silent = table(spark, lake, "gold_conversations").limit(1)
    for column in ("num_messages_agent", "num_messages_customer"):
        silent = silent.withColumn(column, F.col(column) * 0)
    silent.write.format("delta").mode("append").save(path)

    run_in_session("gold", lake, "--full-refresh")  # ... with a row that breaks one
    properties = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"]
    added = {k: check_text(v) for k, v in properties.items() if k.startswith("delta.constraints.")}
    assert added == {f"delta.constraints.{name}": check_text(check) for name, check in constraints.items()}
    assert table(spark, lake, "gold_conversations").count() == rows

    before = versions(spark, lake)["gold_conversations"]
    run_in_session("gold", lake, "--full-refresh")  # the constraints in place: no ALTER
    operations = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where(f"version > {before}").select("operation")
    assert [row.operation for row in operations.collect()] == ["WRITE"]

    gold_runs, gold_version = audit(spark, lake).where("job = 'gold'").count(), versions(spark, lake)["gold_conversations"]
    run_in_session("gold", lake)  # silver unchanged: decided from the Delta logs, nothing written or recorded
    assert audit(spark, lake).where("job = 'gold'").count() == gold_runs
    assert versions(spark, lake)["gold_conversations"] == gold_version


def land_messages(lake, name, events):
    path = lake / "landing" / "customer_agent_messages" / name
    path.write_text("".join(e + "\n" for e in events))


def test_a_broken_fail_rule_stops_the_job_before_it_writes(spark, lake, tmp_path, monkeypatch, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text(quality.RULES_FILE.read_text() + (
        '[[rule]]\nname = "order_id_positive"\nlayer = "silver_messages"\nexpect = "order_id > 0"\naction = "fail"\n'
        '[[rule]]\nname = "single_agent"\nlayer = "gold_conversations"\nexpect = "num_agents <= 1"\naction = "fail"\n'
    ))
    land_messages(lake, "zz-fail.jsonl", [event(orderId=-5), event(orderId=7), "{broken"])
    run_in_session("bronze", lake)
    before = versions(spark, lake)
    monkeypatch.setattr(quality, "RULES_FILE", rules)
    capsys.readouterr()

    assert silver.cli(["--lake", str(lake)]) == 1
    error = "quality rule failed: order_id_positive (1 of 3 customer_agent_messages records); nothing written"
    assert capsys.readouterr().err.splitlines() == [f"silver: error: {error}"]
    assert versions(spark, lake) == before
    failed = last_row(spark, lake, "silver", "customer_agent_messages")
    assert (failed.status, failed.error, failed.rows_read, failed.quarantined_by_rule) == (
        "failed", error, 3, {"invalid_json": 1})

    assert gold.cli(["--lake", str(lake), "--full-refresh"]) == 1  # reassigned chats have two agents
    [line] = capsys.readouterr().err.splitlines()
    pattern = r"gold: error: quality rule failed: single_agent \([1-9]\d* of 20 conversations\); nothing written"
    assert re.fullmatch(pattern, line)
    assert versions(spark, lake) == before

    monkeypatch.setattr(quality, "RULES_FILE", quality.CONF_DIR / "quality_rules.toml")
    assert silver.cli(["--lake", str(lake)]) == 0  # with the rule fixed the batch goes through
    assert "silver: succeeded in " in capsys.readouterr().out


def stop_then_accept_a_large_quarantined_share(spark, lake, capsys):
    """Silver refuses a batch with 9.1% quarantined, then takes it with a higher threshold."""
    start = datetime(2024, 3, 1)
    good = [event(orderId=1000 + i % 50, messageSentTime=(start + timedelta(minutes=i)).isoformat())
            for i in range(1000)]
    future = (datetime.now() + timedelta(days=3)).isoformat()
    bad = ["{not json"] * 60 + [event(messageSentTime=future)] * 40
    land_messages(lake, "zz-share.jsonl", good + bad)
    run_in_session("bronze", lake)
    before = versions(spark, lake)
    capsys.readouterr()

    assert silver.cli(["--lake", str(lake)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "silver: error: 9.1% of 1100 customer_agent_messages records would be quarantined, more than 5.0% "
        "(top reasons: invalid_json 60, message_time_in_future 40); nothing written "
        "(rerun with --max-quarantined-share to accept)"
    ]
    assert versions(spark, lake) == before
    assert last_row(spark, lake, "silver", "customer_agent_messages").quarantined_by_rule == {
        "invalid_json": 60, "message_time_in_future": 40}

    run_in_session("silver", lake, "--max-quarantined-share", "0.1")
    quarantined = table(spark, lake, "quarantine_messages").where(F.col("source_file").endswith("zz-share.jsonl"))
    assert counts(quarantined, "reason") == {"invalid_json": 60, "message_time_in_future": 40}
    assert last_row(spark, lake, "silver", "customer_agent_messages").status == "succeeded"


def test_too_large_a_quarantined_share_stops_silver_until_accepted(spark, lake, capsys):
    stop_then_accept_a_large_quarantined_share(spark, lake, capsys)


def test_status_lists_the_last_runs_and_every_table(spark, lake, capsys):
    config = load_config("local", str(lake))
    stop_then_accept_a_large_quarantined_share(spark, lake, capsys)
    capsys.readouterr()
    run_in_session("status", lake, "--runs", "2")
    out = capsys.readouterr().out.splitlines()
    header = out.index("Tables under " + str(lake) + ":")
    runs, tables = out[1:header - 1], out[header + 1:]
    assert runs[0].split()[:4] == ["finished", "(UTC)", "job", "dataset"]
    assert [line.split()[2:5] for line in runs[2:]] == [  # the two silver runs: accepted, then refused
        ["silver", "customer_agent_messages", "succeeded"], ["silver", "orders", "succeeded"],
        ["silver", "customer_agent_messages", "failed"], ["silver", "orders", "failed"],
    ]
    assert "9.1% of 1100" in runs[-2]
    current = versions(spark, lake)
    gold_line = next(line for line in tables if line.startswith("gold.customer_agent_conversations "))
    assert gold_line.split()[1:3] == [str(current["gold_conversations"]),
                                      str(table(spark, lake, "gold_conversations").count())]
    assert len(tables) == 2 + len(config.named_tables())


def test_audit_rows_keep_every_value_and_type(spark):
    started = datetime(2026, 11, 29, 9, 16, 37, 123456, tzinfo=timezone.utc)
    row = {
        "run_id": "r1", "job": "silver", "dataset": None, "started_at": started,
        "finished_at": started + timedelta(seconds=1.5), "rows_read": 3, "rows_written": 2,
        "rows_quarantined": 1, "duplicates": 0, "status": "failed", "error": 'bad "quote"\nline',
        "duration_seconds": 1.5, "input": None, "quarantined_by_rule": {"null_order_id": 1},
        "warnings_by_rule": {}, "delta_version": None,
    }
    # A job writes one row per dataset.
    other = {**row, "dataset": "orders", "error": None, "quarantined_by_rule": {}, "delta_version": 7}
    expected = spark.createDataFrame([row, other], AUDIT_SCHEMA)
    assert_df_equality(audit_rows(spark, [row, other]), expected)
    assert audit_rows(spark, [row]).first()["started_at"] == datetime(2026, 11, 29, 9, 16, 37, 123456)  # UTC
