"""gold.customer_care_daily_kpis: hand-computed KPIs, and the job's incremental runs."""

import shutil
from datetime import date, datetime, time

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs import report
from pipeline.lake import incremental, tables
from tools.generator import generate
from pipeline.transforms.kpis import KPI_COLUMNS, build_daily_kpis
from tests.support.lakes import GOLD_SCHEMA, run_in_session, table

pytestmark = pytest.mark.spark

KPI_SCHEMA = (
    "conversation_date date, city_code string, conversations long, first_response_p50_seconds double, "
    "first_response_p90_seconds double, never_answered_share double, reassigned_share double, "
    "resolved_share double, priority_share double, avg_messages double"
)
DAY1, DAY2, DAY3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def conversation(order, city, day, delay, agents=1, resolved=False, priority=False, messages=(1, 1), by="customer"):
    """A gold row; only the columns the KPIs read matter."""
    at = datetime.combine(day, time(10))
    return (order, city, at, at, messages[0], messages[1], by, at, delay, at, None, agents, priority, resolved, day)


GOLD = [
    # DAY1 BCN: answered delays 10, 20, 30, 30 (a tie) -> exact p50 25 (approx_percentile would say 20),
    # p90 30; one never answered; one reassigned; two resolved; one priority; messages 2+5+2+4+2.
    conversation(1, "BCN", DAY1, 10, resolved=True),
    conversation(2, "BCN", DAY1, 20, agents=2, resolved=True, priority=True, messages=(3, 2)),
    conversation(3, "BCN", DAY1, 30),
    conversation(4, "BCN", DAY1, 30, messages=(2, 2)),
    conversation(5, "BCN", DAY1, None, agents=0, messages=(0, 2)),
    # DAY1 unknown city: agent-started, the customer never replied: never answered too.
    conversation(6, None, DAY1, None, messages=(1, 0), by="agent"),
    # DAY1 MAD: one conversation with three agents.
    conversation(7, "MAD", DAY1, 7, agents=3, priority=True, messages=(6, 4)),
    # DAY2 BCN: delays 0 and 100 -> p50 50, p90 90 by linear interpolation.
    conversation(8, "BCN", DAY2, 0, resolved=True),
    conversation(9, "BCN", DAY2, 100, resolved=True, messages=(2, 1)),
]
EXPECTED = [
    (DAY1, "BCN", 5, 25.0, 30.0, 0.2, 0.2, 0.4, 0.2, 3.0),
    (DAY1, None, 1, None, None, 1.0, 0.0, 0.0, 0.0, 1.0),
    (DAY1, "MAD", 1, 7.0, 7.0, 0.0, 1.0, 0.0, 1.0, 10.0),
    (DAY2, "BCN", 2, 50.0, 90.0, 0.0, 0.0, 1.0, 0.0, 2.5),
]

# An independent statement of the KPI definitions, to check the job on generated lakes.
KPI_SQL = """
SELECT conversation_date, city_code, count(*) AS conversations,
       percentile(first_response_time_delay_seconds, 0.5) AS first_response_p50_seconds,
       percentile(first_response_time_delay_seconds, 0.9) AS first_response_p90_seconds,
       avg(IF(first_response_time_delay_seconds IS NULL, 1.0D, 0.0D)) AS never_answered_share,
       avg(IF(num_agents > 1, 1.0D, 0.0D)) AS reassigned_share,
       avg(IF(resolved, 1.0D, 0.0D)) AS resolved_share,
       avg(IF(priority, 1.0D, 0.0D)) AS priority_share,
       avg(num_messages_agent + num_messages_customer) AS avg_messages
FROM delta.`{gold}` GROUP BY conversation_date, city_code
"""


def test_daily_kpis_on_hand_computed_conversations(spark):
    actual = build_daily_kpis(spark.createDataFrame(GOLD, GOLD_SCHEMA))
    assert actual.columns == list(KPI_COLUMNS)
    assert_df_equality(actual, spark.createDataFrame(EXPECTED, KPI_SCHEMA), ignore_nullable=True,
                       ignore_row_order=True)


def kpi_commit(spark, lake):
    """Operation parameters and metrics of the KPI table's last commit."""
    last = DeltaTable.forPath(spark, f"{lake}/gold/customer_care_daily_kpis").history(1).first()
    return last["version"], last["operationParameters"], last["operationMetrics"]


def write_gold(spark, lake, rows, mode="append"):
    (
        spark.createDataFrame(rows, GOLD_SCHEMA).write.format("delta").mode(mode)
        .option("delta.enableChangeDataFeed", "true").partitionBy("conversation_date")
        .save(f"{lake}/gold/customer_agent_conversations")
    )


def test_job_replaces_the_touched_days_only_and_drops_vanished_groups(spark, tmp_path):
    lake, gold = tmp_path, f"{tmp_path}/gold/customer_agent_conversations"
    write_gold(spark, lake, GOLD)
    run_in_session("kpis", lake)
    assert_df_equality(table(spark, lake, "gold_daily_kpis"), spark.createDataFrame(EXPECTED, KPI_SCHEMA),
                       ignore_nullable=True, ignore_row_order=True)
    built, _, _ = kpi_commit(spark, lake)

    run_in_session("kpis", lake)  # gold unchanged: nothing written
    # A gold commit that changes no conversation (OPTIMIZE): nothing written either.
    DeltaTable.forPath(spark, gold).optimize().executeCompaction()
    assert incremental.history_since(spark, gold, 0, "operation") == ["OPTIMIZE"]
    run_in_session("kpis", lake)
    assert kpi_commit(spark, lake)[0] == built
    run_in_session("report", lake)  # and the KPIs still count as up to date

    # Gold's MERGE moves MAD's only DAY1 conversation to DAY3 and answers order 6: DAY1 and DAY3 change.
    moved = [conversation(7, "MAD", DAY3, 7, agents=3, priority=True, messages=(6, 4)),
             conversation(6, None, DAY1, 40, messages=(1, 1), by="agent")]
    tables.upsert(spark, spark.createDataFrame(moved, GOLD_SCHEMA), gold, ("order_id",))
    assert report.cli(["--lake", str(lake)]) == 1  # the KPIs are behind gold: no report from both
    run_in_session("kpis", lake)
    version, parameters, metrics = kpi_commit(spark, lake)
    assert version == built + 1
    replaced = parameters["predicate"]  # replaceWhere
    assert "2024-03-01" in replaced and "2024-03-03" in replaced and "2024-03-02" not in replaced
    assert metrics["numOutputRows"] == "3"  # DAY1 BCN and unknown, DAY3 MAD; DAY2 kept as it was
    audit = spark.read.format("delta").load(f"{lake}/_meta/pipeline_runs").orderBy(F.desc("finished_at")).first()
    assert (audit.job, audit.rows_written, audit.delta_version, audit.input) == ("kpis", 3, version, "gold v2")
    expected = [row for row in EXPECTED if row[1] != "MAD" and row[1] is not None] + [
        (DAY1, None, 1, 40.0, 40.0, 0.0, 0.0, 0.0, 0.0, 2.0),
        (DAY3, "MAD", 1, 7.0, 7.0, 0.0, 1.0, 0.0, 1.0, 10.0),
    ]
    assert_df_equality(table(spark, lake, "gold_daily_kpis"), spark.createDataFrame(expected, KPI_SCHEMA),
                       ignore_nullable=True, ignore_row_order=True)

    # A gold rebuild (an overwrite: no change feed to follow) and --full-refresh rebuild the table.
    write_gold(spark, lake, GOLD, mode="overwrite")
    run_in_session("kpis", lake)
    _, parameters, _ = kpi_commit(spark, lake)
    assert parameters["mode"] == "Overwrite" and "predicate" not in parameters
    assert_df_equality(table(spark, lake, "gold_daily_kpis"), spark.createDataFrame(EXPECTED, KPI_SCHEMA),
                       ignore_nullable=True, ignore_row_order=True)
    version = kpi_commit(spark, lake)[0]
    run_in_session("kpis", lake, "--full-refresh")
    assert kpi_commit(spark, lake)[0] == version + 1


def assert_kpis_equal_sql(spark, lake):
    expected = spark.sql(KPI_SQL.format(gold=f"{lake}/gold/customer_agent_conversations"))
    actual = table(spark, lake, "gold_daily_kpis")
    assert actual.count() > 10
    assert_approx_df_equality(actual, expected, 1e-9, ignore_nullable=True, ignore_row_order=True)


def test_kpis_equal_an_sql_aggregation_of_gold_after_full_and_incremental_runs(spark, tmp_path):
    staging, lake = tmp_path / "staging", tmp_path / "lake"
    generate(str(staging), orders=60, seed=3)
    messages = sorted((staging / "landing" / "customer_agent_messages").iterdir())
    orders = sorted((staging / "landing" / "orders").iterdir())
    # The second drop holds late arrivals and city changes of orders of the first.
    for drop in (messages[:3] + orders[:1], messages[3:] + orders[1:]):
        for file in drop:
            (lake / "landing" / file.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(file, lake / "landing" / file.parent.name / file.name)
        run_in_session("all", lake)
        assert_kpis_equal_sql(spark, lake)
    _, parameters, _ = kpi_commit(spark, lake)
    assert "predicate" in parameters  # the second run replaced the touched days, not the table
