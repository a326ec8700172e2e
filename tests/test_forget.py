"""forget (right to erasure) on a generated lake of two drops: afterwards no
Parquet file, Delta log, export or landing file (--rewrite-landing) under the
lake holds the customer; gold and
the KPIs are what the reference model and an SQL aggregation give without
their records; everyone else's rows are untouched; their later records are
dropped by bronze and counted; an id without records writes nothing."""

import gzip
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import forget as forget_job
from pipeline.outputs import status
from pipeline.lake import erasure, landing, tables
from pipeline.runtime.config import load_config
from pipeline.runtime.lock import job_lock
from pipeline.steps.forget import customer_hash
from pipeline.transforms.conversations import GOLD_COLUMNS
from pipeline.transforms.erasure import record_customer_id
from tests.support import reference_model
from tests.support.lakes import GOLD_SCHEMA, run_in_session, table, versions
from tests.test_kpis import assert_kpis_equal_sql
from tools.generator import generate

pytestmark = pytest.mark.spark


def holders(lake: Path, customer: int, landing: bool = True) -> list[str]:
    """Every file under the lake whose content holds the id as a number of its
    own: Parquet files decoded whole (every column, raw included), Delta logs,
    checksums, exports and (unless `landing` is off) landing files, gzip
    decoded, as text."""
    pattern = re.compile(rf"(?<![0-9]){customer}(?![0-9])")
    found = []
    for path in sorted(lake.rglob("*")):
        in_landing = "landing" in path.relative_to(lake).parts
        if not path.is_file() or path.name.endswith(".crc.crc") or (in_landing and not landing):
            continue
        if in_landing:
            text = (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).decode()
        elif path.suffix == ".parquet":
            text = str(pq.read_table(path).to_pylist())
        elif "_delta_log" in path.parts or path.suffix in (".csv", ".json"):
            text = path.read_text(errors="replace")
        else:
            continue
        if pattern.search(text):
            found.append(str(path.relative_to(lake)))
    return found


def rows(df) -> list[str]:
    """The rows, comparable (None sorts as text), in an order of their own."""
    return sorted(repr(tuple(row)) for row in df.collect())


def is_theirs(record: dict, customer: int) -> bool:
    """The reference model's view of a landing record of the customer: a JSON
    object whose customerId is theirs, or a broken record with `"customerId": <id>`."""
    if record["obj"] is not None:
        return reference_model.to_long(record["obj"].get("customerId")) == customer
    match = re.search(r'"customerId"\s*:\s*"?(-?[0-9]+)(?:\.0+)?"?(?![0-9.])', record["raw"])
    return bool(match) and int(match[1]) == customer


def pick_customer(spark, lake) -> int:
    """A customer with messages in silver and a record in quarantine, the lowest
    such id: so it is the minimum statistic of some file in the Delta log."""
    quarantined = {row[0] for row in table(spark, lake, "quarantine_messages")
                   .select(record_customer_id(F.col("raw"))).collect() if row[0] is not None}
    silver = table(spark, lake, "silver_messages")
    return silver.where(F.col("customer_id").isin(list(quarantined))).agg(F.min("customer_id")).first()[0]


def assert_gold_and_kpis_without(spark, lake, customer):
    """Gold equals the reference model run on the landing records without the
    customer's; the KPIs equal an SQL aggregation of gold."""
    messages, orders = reference_model.read_landing(str(lake))
    silver, _, _ = reference_model.build_silver_messages([r for r in messages if not is_theirs(r, customer)])
    cities, _ = reference_model.build_silver_orders(orders)
    expected_rows = reference_model.build_gold(silver, cities).values()
    expected = spark.createDataFrame([tuple(row[c] for c in GOLD_COLUMNS) for row in expected_rows], GOLD_SCHEMA)
    assert_df_equality(table(spark, lake, "gold_conversations"), expected, ignore_nullable=True,
                       ignore_row_order=True)
    assert_kpis_equal_sql(spark, lake)


@pytest.fixture(scope="module")
def erased(spark, tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate(str(lake), orders=40, seed=21)
    run_in_session("all", lake)
    # The reference model takes files in name order: the second drop's names sort after the first's.
    generate(str(lake), orders=30, seed=22, first_order=40, prefix="later")
    run_in_session("all", lake)
    run_in_session("export_csv", lake)
    customer = pick_customer(spark, lake)
    others = {"silver_messages": rows(table(spark, lake, "silver_messages").where(f"customer_id != {customer}"))}
    others["quarantine_messages"] = sorted(row.raw for row in table(spark, lake, "quarantine_messages").where(
        ~record_customer_id(F.col("raw")).eqNullSafe(customer)).collect())
    others["landing"] = [r for r in reference_model.read_landing(str(lake))[0] if not is_theirs(r, customer)]
    before = holders(lake, customer)
    bronze_before = table(spark, lake, "bronze_messages").count()
    manifest_before = tables.version(spark, str(lake / "_meta" / "landed_files"))
    run_in_session("forget", lake, "--customer", str(customer), "--rewrite-landing")
    # Read now: a later test of this module lands a drop, which bronze records there too.
    manifest_after = tables.version(spark, str(lake / "_meta" / "landed_files"))
    return {"lake": lake, "customer": customer, "others": others, "holders_before": before,
            "bronze_before": bronze_before, "manifest_versions": (manifest_before, manifest_after)}


def test_no_parquet_file_log_or_export_under_the_lake_holds_the_customer(erased):
    lake, customer = erased["lake"], erased["customer"]
    # The check can fail: before, the tables, their logs and landing files held them.
    assert {"bronze", "silver", "quarantine", "_delta_log", "landing"} <= {
        part for path in erased["holders_before"] for part in Path(path).parts}
    landing_formats = {"".join(Path(path).suffixes) for path in erased["holders_before"] if path.startswith("landing")}
    assert any(suffix.endswith(".gz") for suffix in landing_formats)
    assert holders(lake, customer) == []
    # Their deletes' change data files are gone (silver orders, untouched, keeps its own).
    for folder in ("silver/customer_agent_messages", "gold/customer_agent_conversations"):
        assert not list((lake / folder).rglob("_change_data/*.parquet"))


def test_gold_and_kpis_equal_the_reference_model_without_the_customer(spark, erased):
    assert_gold_and_kpis_without(spark, erased["lake"], erased["customer"])


def test_every_other_customers_rows_are_unchanged(spark, erased):
    lake, customer = erased["lake"], erased["customer"]
    silver = table(spark, lake, "silver_messages")
    assert silver.where(f"customer_id = {customer}").count() == 0
    assert rows(silver) == erased["others"]["silver_messages"]
    assert sorted(row.raw for row in table(spark, lake, "quarantine_messages").collect()) == \
        erased["others"]["quarantine_messages"]
    audit = table_of(spark, lake, "_meta/pipeline_runs").where("job = 'forget'")
    dropped = {row.dataset: row.dropped_by_rule.get("erased_customer", 0) for row in audit.collect()}
    assert table(spark, lake, "bronze_messages").count() == erased["bronze_before"] - dropped["bronze_messages"]
    assert dropped["bronze_messages"] >= dropped["silver_messages"] > 0 and dropped["quarantine_messages"] > 0


def test_the_rewritten_landing_files_keep_every_other_record_and_are_not_taken_again(spark, erased):
    lake = erased["lake"]
    assert reference_model.read_landing(str(lake))[0] == erased["others"]["landing"]  # in their order
    config = load_config("local", str(lake))
    folder = config.landing("customer_agent_messages")
    assert landing.waiting_files(spark, folder, config.checkpoint("bronze_messages")) == {}
    taken = landing.taken_files(spark, config.meta("landed_files"), "customer_agent_messages")
    assert landing.changed_since_taken(spark, folder, taken) == []
    assert not list(Path(folder).rglob(".forget-*"))
    # The new sizes in one commit of the record of files taken (several files: tests/test_landing.py).
    before, after = erased["manifest_versions"]
    assert after == before + 1


def table_of(spark, lake, relative):
    return spark.read.format("delta").load(str(lake / relative))


def test_the_audit_and_the_suppression_list_hold_hashes_only(spark, erased):
    lake, customer = erased["lake"], erased["customer"]
    config = load_config("local", str(lake))
    salt = erasure.salt(spark, config.meta("erased_customers"))
    assert [row.customer_hash for row in table_of(spark, lake, "_meta/erased_customers").collect()] == [
        customer_hash(salt, customer)]
    runs = status.local_last_runs(config.meta("pipeline_runs"), 10)
    forget_rows = [run for run in runs if run[1] == "forget"]
    assert {run[2] for run in forget_rows} == {
        "bronze_messages", "silver_messages", "quarantine_messages", "gold_conversations", "gold_daily_kpis"}
    assert all(customer_hash(salt, customer) in run[-1] for run in forget_rows)


def test_the_next_runs_have_nothing_to_do(spark, erased):
    lake = erased["lake"]
    before = versions(spark, lake)
    run_in_session("all", lake)
    assert versions(spark, lake) == before


def test_a_later_drop_of_the_customer_is_dropped_by_bronze_and_counted(spark, erased):
    lake, customer = erased["lake"], erased["customer"]
    order = table(spark, lake, "silver_orders").agg(F.max("order_id")).first()[0]
    message = {"senderDeviceType": "Customer iOS", "customerId": customer, "fromId": customer, "toId": 7001,
               "chatStartedByMessage": True, "orderId": order, "priority": False, "resolution": False,
               "agentId": 7001, "orderStage": "LATE", "messageSentTime": "2024-02-01T10:00:00Z"}
    broken = json.dumps(message)[:-20]  # cut short: no JSON object, its text still names the customer
    drop = lake / "landing" / "customer_agent_messages" / "zz-after-erasure.jsonl"
    drop.write_text(json.dumps(message) + "\n" + json.dumps({**message, "customerId": str(customer)}) + "\n"
                    + broken + "\n")
    gold_before = table(spark, lake, "gold_conversations").count()
    try:
        run_in_session("all", lake)
    finally:  # the drop itself is the producer's to remove; the module's other tests read the landing files
        drop.unlink()
    audit = table_of(spark, lake, "_meta/pipeline_runs").where("job = 'bronze' AND dataset = 'customer_agent_messages'")
    last = audit.orderBy(F.desc("finished_at")).first()
    assert last.dropped_by_rule == {"erased_customer": 3}
    assert last.rows_written == 0
    assert holders(lake, customer) == []
    assert table(spark, lake, "gold_conversations").count() == gold_before


def test_a_raw_record_is_the_customers_by_its_parsed_id_or_a_broken_records_text(spark):
    raws = [
        ('{"customerId": 2101959, "fromId": 7001}', 2101959),
        ('{"customerId": "2101959.0"}', 2101959),  # an id as silver reads it
        ('{"fromId": 2101959, "customerId": 12}', 12),  # the id elsewhere is not the customer's
        ('{"customerId": 21019590}', 21019590),
        ('{"note": "\\"customerId\\": 2101959", "customerId": null}', None),  # a valid object: parsed only
        ('{"customerId": 2101959, "orderId": ', 2101959),  # cut short: from the text
        ('{"customerId": 21019591, "x', 21019591),
        ('[{"customerId": 2101959}]', 2101959),  # no object: from the text
        ('{"customerId": "abc", ', None),
    ]
    df = spark.createDataFrame([(raw,) for raw, _ in raws], "raw string")
    actual = df.select("raw", record_customer_id(F.col("raw")).alias("customer"))
    expected = spark.createDataFrame(raws, "raw string, customer long")
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_an_id_without_records_writes_nothing(spark, erased, capsys):
    lake = erased["lake"]
    meta = [str(lake / "_meta" / name) for name in ("erased_customers", "pipeline_runs")]
    before = versions(spark, lake), [tables.version(spark, path) for path in meta]
    capsys.readouterr()
    run_in_session("forget", lake, "--customer", "17")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"forget: no records of customer 17 in {lake}"
    assert (versions(spark, lake), [tables.version(spark, path) for path in meta]) == before


def test_forget_waits_for_every_step_it_writes_for(erased, capsys):
    lake = erased["lake"]
    with job_lock(str(lake), "gold"):  # a gold run in progress
        assert forget_job.cli(["--lake", str(lake), "--customer", "17"]) == 1
    assert capsys.readouterr().err.startswith("gold: error: another gold run is using this lake")
