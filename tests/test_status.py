"""status reads the Delta logs without Spark: its versions, row counts, last
updates, operations and last runs equal what Spark says, on a lake whose gold
has updated rows (deletion vectors) and a table read from a checkpoint."""

import dataclasses

import pytest

from pipeline.outputs import status
from pipeline.lake import delta_log
from pipeline.runtime import runner
from pipeline.runtime.config import load_config
from tests.support.lakes import run_in_session
from tools import generator

pytestmark = pytest.mark.spark


def test_status_without_spark_equals_spark(spark, drops_lake_to_write, capsys, monkeypatch):
    # Gold with deletion vectors (a setting, off by default), so that status must subtract them.
    monkeypatch.setattr(runner, "load_config", lambda env, lake: dataclasses.replace(
        load_config(env, lake), gold_deletion_vectors=True))
    lake = drops_lake_to_write
    # A drop for orders gold has: its MERGE updates rows, marking the old ones deleted.
    generator.main(["--lake", str(lake), "--orders", "40", "--seed", "2", "--prefix", "again"])
    run_in_session("all", lake)
    config = load_config("local", str(lake))
    gold = config.table("gold_conversations")
    assert sum(f.deleted for f in delta_log.snapshot(gold).files) > 0, "gold should have deletion vectors"
    # One table read from a checkpoint, with commits after it.
    messages = config.table("silver_messages")
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, messages).checkpoint()
    spark.sql(f"DELETE FROM delta.`{messages}` WHERE order_id % 7 = 0")  # a commit after the checkpoint

    for name, path in config.named_tables().items():
        if not delta_log.is_table(path):
            continue
        table = delta_log.snapshot(path)
        last = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()
        assert (table.version, table.rows, table.operation) == (
            last["version"], spark.read.format("delta").load(path).count(), last["operation"]), name
    assert status.local_table_status(config) == status.table_status(spark, config)
    audit = config.meta("pipeline_runs")
    assert status.local_last_runs(audit, 3) == status.last_runs(spark, audit, 3)
    assert len(status.local_last_runs(audit, 100)) == len(status.last_runs(spark, audit, 100)) > 8
