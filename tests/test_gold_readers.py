"""Gold opens in the mainstream Delta readers besides Spark (delta-rs, polars,
DuckDB), each table stays at the lowest protocol its features need, and the
deletion vector setting does what the docs say, both ways."""

import dataclasses
import json
from pathlib import Path

import deltalake
import duckdb
import duckdb_extension_delta
import polars
import pyarrow as pa
import pytest

from pipeline.lake import tables
from pipeline.runtime import runner
from pipeline.runtime.config import load_config
from tests.support.lakes import run_in_session
from tools.generator import generate

pytestmark = pytest.mark.spark

STEPS = ("bronze", "silver", "gold", "kpis")
# The writer features each table needs (reader version 1 everywhere): Delta
# lists the legacy ones (invariants, appendOnly) with every table-features protocol.
WRITER_FEATURES = {
    "silver_messages": {"changeDataFeed", "invariants", "appendOnly"},
    "silver_orders": {"changeDataFeed", "invariants", "appendOnly"},
    "gold_conversations": {"changeDataFeed", "checkConstraints", "invariants", "appendOnly"},
}


def run_steps(lake, steps=STEPS):
    for step in steps:
        run_in_session(step, lake)


@pytest.fixture
def lake(drops_lake):
    """conftest's two-drop lake: gold's second write is a MERGE that updates conversations."""
    return drops_lake


def gold_path(lake) -> str:
    return load_config("local", str(lake)).table("gold_conversations")


def protocol(path) -> dict:
    """The table's current protocol: the last protocol action in its commit files."""
    actions = [json.loads(line) for log in sorted(Path(path, "_delta_log").glob("*.json")) for line in log.open()]
    return [action["protocol"] for action in actions if "protocol" in action][-1]


def duckdb_with_delta() -> duckdb.DuckDBPyConnection:
    """DuckDB with the delta extension of the pinned package: loaded from the
    wheel's file, never installed from the network."""
    extension = Path(duckdb_extension_delta.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    connection = duckdb.connect()
    connection.execute("SET autoinstall_known_extensions = false")
    connection.execute("SET autoload_known_extensions = false")
    connection.execute(f"LOAD '{extension / 'delta.duckdb_extension'}'")
    return connection


def spark_rows(spark, path) -> tuple[pa.Schema, list[dict]]:
    table = spark.read.format("delta").load(path).toArrow()
    return table.schema, table.sort_by("order_id").to_pylist()


def as_rows(table: pa.Table, schema: pa.Schema) -> list[dict]:
    """Another reader's rows in Spark's column order and types (timestamps: UTC microseconds)."""
    return table.select(schema.names).cast(schema).sort_by("order_id").to_pylist()


READERS = {
    "deltalake": lambda path: deltalake.DeltaTable(path).to_pyarrow_table(),
    "polars": lambda path: polars.read_delta(path).to_arrow(),
    "duckdb": lambda path: duckdb_with_delta().sql(f"SELECT * FROM delta_scan('{path}')").to_arrow_table(),
}


def test_the_second_run_updated_existing_conversations(spark, lake):
    merge = tables.commits(spark, gold_path(lake), -1, 1)[0]
    assert merge["operation"] == "MERGE"
    assert int(merge["operationMetrics"]["numTargetRowsUpdated"]) > 0  # late messages for orders 40-59
    assert int(merge["operationMetrics"]["numTargetRowsInserted"]) > 0  # orders 60-79


@pytest.mark.parametrize("reader", sorted(READERS))
def test_gold_read_by_another_reader_equals_sparks_gold(spark, lake, reader):
    schema, expected = spark_rows(spark, gold_path(lake))
    assert len(expected) == 80
    assert as_rows(READERS[reader](gold_path(lake)), schema) == expected


def test_every_table_stays_at_reader_version_1_with_only_the_features_it_needs(lake):
    config = load_config("local", str(lake))
    made = [key for key in config.tables if (Path(config.table(key)) / "_delta_log").is_dir()]
    assert len(made) == len(config.tables)
    for key in made:
        found = protocol(config.table(key))
        assert found["minReaderVersion"] == 1 and "readerFeatures" not in found, key
        if key in WRITER_FEATURES:
            assert (found["minWriterVersion"], set(found["writerFeatures"])) == (7, WRITER_FEATURES[key]), key
        else:  # bronze, quarantine, the KPIs: no feature at all
            assert (found["minWriterVersion"], found.get("writerFeatures")) == (2, None), key


def test_deletion_vectors_on_by_setting_then_dropped_when_it_is_off_again(spark, drops_lake_to_write, monkeypatch):
    copy = drops_lake_to_write
    gold = gold_path(copy)
    schema, before = spark_rows(spark, gold)
    with_vectors = lambda env, lake: dataclasses.replace(load_config(env, lake), gold_deletion_vectors=True)

    # On: the next run's MERGE marks the replaced rows; the table has the reader feature, Spark reads it.
    monkeypatch.setattr(runner, "load_config", with_vectors)
    generate(str(copy), orders=10, seed=8, prefix="later", first_order=70)  # late messages for 70-79
    run_steps(copy, STEPS[:3])
    assert protocol(gold)["readerFeatures"] == ["deletionVectors"]
    merge = tables.commits(spark, gold, -1, 1)[0]
    assert merge["operation"] == "MERGE" and int(merge["operationMetrics"]["numTargetRowsUpdated"]) > 0
    assert int(merge["operationMetrics"]["numTargetDeletionVectorsAdded"]) > 0
    _, marked = spark_rows(spark, gold)
    assert len(marked) == len(before) == 80 and marked != before  # updated in place, none twice
    with pytest.raises(Exception, match="deletionVectors"):
        READERS["deltalake"](gold)  # as the docs warn

    # Off again: gold's next run that writes drops the feature (no history
    # truncated), then MERGEs without deletion vectors.
    monkeypatch.undo()
    version = tables.version(spark, gold)
    generate(str(copy), orders=10, seed=9, prefix="latest", first_order=75)
    run_steps(copy, STEPS[:3])
    dropped = protocol(gold)
    assert dropped["minReaderVersion"] == 1 and "readerFeatures" not in dropped
    assert "checkpointProtection" in dropped["writerFeatures"]  # Delta's guard instead of TRUNCATE HISTORY
    operations = [(info["operation"], info.get("operationMetrics", {})) for info in tables.commits(spark, gold, version)]
    assert "DROP FEATURE" in [name for name, _ in operations]
    merge = operations[0]
    assert merge[0] == "MERGE" and int(merge[1]["numTargetRowsUpdated"]) > 0
    assert int(merge[1]["numTargetDeletionVectorsAdded"]) == 0
    _, after = spark_rows(spark, gold)
    assert len(after) == 85 and as_rows(READERS["deltalake"](gold), schema) == after
