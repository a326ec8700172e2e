"""forget --rewrite-landing killed (SIGKILL, as a lost machine) after it erased
the customer from silver, gold, the KPIs and the landing files, then run again:
the same end state as an uninterrupted run, and no landing file taken again."""

import os
import signal

import pytest

from tests.support.lakes import run_in_session, submit, versions
from tests.test_forget import assert_gold_and_kpis_without, holders, pick_customer

pytestmark = pytest.mark.e2e


def test_forget_killed_midway_then_run_again_erases_the_customer(spark, drops_lake_to_write):
    lake = drops_lake_to_write
    customer = pick_customer(spark, lake)
    point = "forget.after_landing"  # silver, gold, KPIs and landing done; quarantine and bronze not yet
    result = submit("forget", "--lake", str(lake), "--customer", str(customer), "--rewrite-landing",
                    env={**os.environ, "PIPELINE_CRASH_AT": point})
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]  # local jobs start Python first
    assert f"crash point {point}: killing the driver" in result.stdout + result.stderr, result.stdout[-3000:]
    assert holders(lake, customer)  # bronze and quarantine still hold them

    run_in_session("forget", lake, "--customer", str(customer), "--rewrite-landing")
    assert holders(lake, customer) == []
    assert_gold_and_kpis_without(spark, lake, customer)
    before = versions(spark, lake)
    run_in_session("all", lake)
    assert versions(spark, lake) == before
