"""The real jobs through spark-submit.sh on generated data, checked against the
pure-Python reference model of the contract (tests/support/reference_model.py).
The later runs on the same lake (a rerun, late files) run in the test's session:
the same steps, without a JVM start each."""

import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from chispa import assert_df_equality

from pipeline.runtime.config import REPO_ROOT
from tools.generator import generate
from tests.support import reference_model
from tests.support.lakes import JOB_TIME_ZONE, assert_gold_matches_reference, run_in_session, table, versions

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """`make run-local`'s `all` on a fresh lake, as a user runs it: without the
    suite's JAVA_TOOL_OPTIONS (which the JVM would announce), in a zone far from UTC."""
    lake = tmp_path_factory.mktemp("lake")
    generate(str(lake), orders=80, seed=11)
    result = subprocess.run([str(REPO_ROOT / "spark-submit.sh"), "all", "--lake", str(lake)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=600, env={**os.environ, "TZ": JOB_TIME_ZONE})
    assert result.returncode == 0, result.stdout + result.stderr
    return lake, (result.stdout + result.stderr).splitlines()


@pytest.fixture(scope="module")
def lake(first_run):
    return first_run[0]


# bronze customer_agent_messages: 6 new files, ...; silver orders: read ...; gold: succeeded in 9.1 s; all: ...
PIPELINE_LINE = re.compile(r"(bronze|silver|gold|kpis|all)( [a-z_]+)?: \S.*")


def test_the_run_prints_only_the_pipelines_lines(first_run):
    """No JVM notice (jdk.incubator.vector), no Spark banner or warning: only the steps' own lines."""
    _, lines = first_run
    assert [line for line in lines if not PIPELINE_LINE.fullmatch(line)] == []
    assert lines[-1].startswith("all: succeeded in ")


def test_gold_equals_the_reference_model_one_row_per_order(spark, lake):
    gold = table(spark, lake, "gold_conversations")
    assert gold.count() == gold.select("order_id").distinct().count() > 50
    assert_gold_matches_reference(spark, lake)


SILVER_MESSAGE_SCHEMA = (
    "order_id long, customer_id long, from_id long, to_id long, agent_id long, sender_role string, "
    "sender_device_type string, chat_started_by_message boolean, priority boolean, resolution boolean, "
    "order_stage string, message_sent_at timestamp"
)


def test_silver_and_quarantine_equal_the_reference_model_row_by_row(spark, lake):
    expected = reference_model.build_expected(str(lake))
    columns = [field.split()[0] for field in SILVER_MESSAGE_SCHEMA.split(", ")]
    silver = table(spark, lake, "silver_messages").select(*columns)
    model = spark.createDataFrame([tuple(row[c] for c in columns) for row in expected["silver_messages"]],
                                  SILVER_MESSAGE_SCHEMA)
    assert_df_equality(silver, model, ignore_nullable=True, ignore_row_order=True)

    quarantine = table(spark, lake, "quarantine_messages").select("reason", "raw")
    model = spark.createDataFrame([(r["reason"], r["raw"]) for r in expected["quarantine_messages"]],
                                  "reason string, raw string")
    assert_df_equality(quarantine, model, ignore_nullable=True, ignore_row_order=True)
    assert {row.reason for row in quarantine.select("reason").distinct().collect()} == {
        "invalid_json", "not_an_object", "null_order_id", "invalid_order_id", "null_from_id", "invalid_from_id",
        "null_customer_id", "invalid_customer_id", "null_message_sent_time", "unparseable_message_sent_time",
    }
    orders = {r["order_id"]: r["city_code"] for r in table(spark, lake, "silver_orders").collect()}
    assert orders == expected["silver_orders"]
    assert table(spark, lake, "quarantine_orders").count() == expected["quarantine_orders"]


def test_every_landing_record_is_in_silver_quarantine_or_counted_duplicate(spark, lake):
    landing_messages, _ = reference_model.read_landing(str(lake))
    silver = table(spark, lake, "silver_messages").count()
    quarantine = table(spark, lake, "quarantine_messages").count()
    audit = spark.read.format("delta").load(f"{lake}/_meta/pipeline_runs")
    duplicates = audit.where("job = 'silver' AND dataset = 'customer_agent_messages'").groupBy().sum("duplicates")
    duplicates = duplicates.first()[0]
    assert duplicates > 0
    assert len(landing_messages) == silver + quarantine + duplicates
    assert duplicates == reference_model.build_expected(str(lake))["duplicates"]


def test_rerun_without_new_files_writes_nothing(spark, lake):
    before = versions(spark, lake)
    run_in_session("all", lake)
    assert versions(spark, lake) == before


def late_message(order_id, customer_id, agent_id, at):
    return {
        "senderDeviceType": "Customer Android", "customerId": customer_id, "fromId": customer_id,
        "toId": agent_id, "chatStartedByMessage": False, "orderId": order_id, "priority": True,
        "resolution": None, "agentId": agent_id, "orderStage": "LATE", "messageSentTime": at,
    }


def test_late_files_update_the_right_rows(spark, lake):
    gold_before = {r["order_id"]: r.asDict() for r in table(spark, lake, "gold_conversations").collect()}
    silver = table(spark, lake, "silver_messages").where("sender_role = 'customer'").orderBy("order_id").first()
    target = gold_before[silver["order_id"]]
    earlier = target["conversation_started_at"].replace(tzinfo=timezone.utc).timestamp() - 2 * 86400
    at = datetime.fromtimestamp(earlier, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")

    landing = Path(lake, "landing")
    late = late_message(silver["order_id"], silver["customer_id"], silver["agent_id"], at)
    (landing / "customer_agent_messages" / "zz-late-1.jsonl").write_text(json.dumps(late) + "\n" + json.dumps(late) + "\n")
    (landing / "orders" / "zz-late-1.jsonl").write_text(json.dumps({"orderId": silver["order_id"], "cityCode": "NEW"}) + "\n")
    run_in_session("all", lake)

    assert_gold_matches_reference(spark, lake)
    after = {r["order_id"]: r.asDict() for r in table(spark, lake, "gold_conversations").collect()}
    changed = {order for order in after if after[order] != gold_before.get(order)}
    assert changed == {silver["order_id"]}
    row = after[silver["order_id"]]
    assert row["city_code"] == "NEW" and row["priority"] is True
    assert row["conversation_date"] < target["conversation_date"]


def test_an_order_without_messages_stops_nothing_and_gold_records_that_it_saw_it(spark, lake, capsys):
    """Silver orders change, no conversation does: gold's MERGE has no row to
    write. It still commits its watermark, so the next run has nothing to do."""
    (lake / "landing/orders/no-messages.jsonl").write_text('{"orderId": 987654321, "cityCode": "ZZZ"}\n')
    gold_rows = table(spark, lake, "gold_conversations").count()
    capsys.readouterr()
    run_in_session("all", lake)
    output = capsys.readouterr().out
    assert "gold customer_agent_conversations: 0 new and 0 updated conversations" in output
    assert table(spark, lake, "gold_conversations").count() == gold_rows
    run_in_session("all", lake)
    assert "gold customer_agent_conversations: silver unchanged, nothing to do" in capsys.readouterr().out
