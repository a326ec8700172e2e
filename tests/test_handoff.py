"""Gold in a pass takes the orders silver wrote from the handoff, and only when
the handoff covers exactly what gold has not reflected; otherwise the change feed."""

import shutil

import pytest

from pipeline.lake import incremental, tables
from pipeline.runtime.config import load_config
from pipeline.steps import Options, gold
from pipeline.steps.handoff import Handoff, SilverWrites
from tools.conversations import ORDER_BASE
from tools.generator import generate
from tests.support.lakes import assert_gold_matches_reference, run_in_session

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def lake_with_late_messages(tmp_path_factory):
    """20 orders in gold, then late messages for the first 10 of them in silver only."""
    lake = tmp_path_factory.mktemp("handoff")
    generate(str(lake), orders=20, seed=5)
    for job in ("bronze", "silver", "gold"):
        run_in_session(job, lake)
    generate(str(lake), orders=10, seed=6, prefix="late")
    for job in ("bronze", "silver"):
        run_in_session(job, lake)
    return lake


def silver_versions(spark, config, reflected: bool):
    """{silver table: (before, after)}: from what gold reflects to now, or (reflected) nothing new."""
    built = incremental.last_watermark(spark, config.table("gold_conversations"), gold.SOURCES["silver_messages"])
    now = {key: tables.version(spark, config.table(key)) for key in gold.SOURCES}
    return {key: (now[key] if reflected else built[name], now[key]) for key, name in gold.SOURCES.items()}


def updated_orders(spark, config):
    merge = tables.commits(spark, config.table("gold_conversations"), -1, 1)[0]
    assert merge["operation"] == "MERGE"
    return int(merge["operationMetrics"]["numSourceRows"])


def run_gold(spark, lake, copy, handed):
    shutil.copytree(lake, copy)
    config = load_config("local", str(copy))
    gold.run(spark, config, Options(handoff=Handoff(silver=handed(config))))
    return config


def test_a_handoff_that_covers_what_gold_lacks_replaces_the_change_feed(spark, lake_with_late_messages, tmp_path):
    lake, first = lake_with_late_messages, ORDER_BASE

    def handing_one_order(config):  # fewer orders than silver changed: gold must take the handoff's word
        return SilverWrites(silver_versions(spark, config, reflected=False),
                            [spark.range(first, first + 1).withColumnRenamed("id", "order_id")], (first, first))

    config = run_gold(spark, lake, tmp_path / "covered", handing_one_order)
    assert updated_orders(spark, config) == 1

    def handing_stale_versions(config):  # says silver did not change: not what gold lacks, so the change feed
        return SilverWrites(silver_versions(spark, config, reflected=True), [], None)

    config = run_gold(spark, lake, tmp_path / "stale", handing_stale_versions)
    # The late drop's orders: 10 with messages, and order 10, of which it carries a city record only.
    assert updated_orders(spark, config) == 11
    assert_gold_matches_reference(spark, tmp_path / "stale")
