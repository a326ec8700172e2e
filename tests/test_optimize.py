"""make optimize: compaction and VACUUM keep every table's content."""

from pathlib import Path

from tests.support.lakes import run_in_session, table
import pytest

pytestmark = pytest.mark.spark

TABLES = ("bronze_messages", "silver_messages", "quarantine_messages", "gold_conversations", "gold_daily_kpis")


def content(spark, lake):
    return {key: sorted(map(tuple, table(spark, lake, key).collect()), key=repr) for key in TABLES}


def data_files(path: Path) -> set[str]:
    return {str(f.relative_to(path)) for f in path.rglob("*.parquet")}


def test_optimize_and_vacuum_keep_the_content_and_delete_only_unreferenced_files(spark, drops_lake_to_write):
    lake = drops_lake_to_write  # two drops: small files to compact
    before = content(spark, lake)
    bronze = lake / "bronze" / "customer_agent_messages"
    files_before = data_files(bronze)

    # VACUUM with a zero retention needs Delta's safety check off (the default 168 h keeps every fresh file).
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        run_in_session("optimize", lake, "--retain-hours", "0")
    finally:
        spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")

    assert content(spark, lake) == before
    referenced = {row[0] for row in spark.sql(f"SELECT input_file_name() FROM delta.`{bronze}`").distinct().collect()}
    files_after = data_files(bronze)
    assert len(files_after) == len(referenced) == 1 < len(files_before)  # compacted, and the old files vacuumed
