"""Schema drift: fields the contract does not know are kept in silver's
`_rescued` column, and a lake whose silver tables were made before that column
gains it on its next incremental run, with gold unchanged."""

import shutil

from pyspark.sql import functions as F

from pipeline.transforms import messages, orders
from tests.support.lakes import assert_gold_matches_reference, run_in_session, table
from tests.test_messages import event
from tools.generator import generate
import pytest

pytestmark = pytest.mark.spark

OLD_COLUMNS = {messages: messages.SILVER_COLUMNS[:-1], orders: orders.SILVER_COLUMNS[:-1]}  # before `_rescued`


def land(lake, files):
    for file in files:
        target = lake / "landing" / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)


def test_a_lake_made_before_rescued_gains_it_on_the_next_incremental_run(spark, tmp_path, monkeypatch):
    staging, lake = tmp_path / "staging", tmp_path / "lake"
    generate(str(staging), orders=20, seed=7)
    drop = sorted((staging / "landing" / "customer_agent_messages").iterdir())
    order_files = sorted((staging / "landing" / "orders").iterdir())
    land(lake, drop[:2] + order_files[:1])
    with monkeypatch.context() as old_code:  # silver as it was written before `_rescued`
        for module, columns in OLD_COLUMNS.items():
            old_code.setattr(module, "SILVER_COLUMNS", columns)
        for job in ("bronze", "silver", "gold"):
            run_in_session(job, lake)
    assert "_rescued" not in table(spark, lake, "silver_messages").columns
    assert "_rescued" not in table(spark, lake, "silver_orders").columns

    land(lake, drop[2:] + order_files[1:])
    folder = lake / "landing" / "customer_agent_messages"
    (folder / "zz-drift.jsonl").write_text(
        event(orderId=990001, channel="chat", meta={"v": 2}) + "\n" + event(orderId=990002) + "\n"
    )
    (lake / "landing" / "orders" / "zz-drift.jsonl").write_text('{"orderId": 990001, "cityCode": "BCN", "tier": 1}\n')
    for job in ("bronze", "silver", "gold"):
        run_in_session(job, lake)

    silver = table(spark, lake, "silver_messages")
    drift = silver.where(F.col("order_id").isin(990001, 990002)).select("order_id", "_rescued").collect()
    assert sorted(map(tuple, drift)) == [(990001, '{"channel":"chat","meta":{"v":2}}'), (990002, None)]
    # Rows written before the column came keep NULL (a --full-refresh of silver fills them).
    bronze = table(spark, lake, "bronze_messages")
    first_files = bronze.where("ingest_batch = 0").select("source_file").distinct()
    assert silver.join(first_files, "source_file").where(F.col("_rescued").isNotNull()).count() == 0
    assert silver.join(first_files, "source_file").count() > 0
    city = table(spark, lake, "silver_orders").where("order_id = 990001").select("city_code", "_rescued").first()
    assert tuple(city) == ("BCN", '{"tier":1}')
    assert_gold_matches_reference(spark, lake)
