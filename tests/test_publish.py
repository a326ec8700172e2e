"""The publish job against a real PostgreSQL server started for these tests
(Debian's `postgresql` package; `.ci/run` installs it)."""

import argparse
import dataclasses
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import publish as publish_job
from pipeline.outputs import publish
from pipeline.runtime.config import load_config
from tools.generator import generate
from tests.support.lakes import run_in_session, submit, table
from tests.support.ports import free_port

pytestmark = pytest.mark.system

USER, PASSWORD, DATABASE = "pipeline", "test-secret", "postgres"
TABLE = "customer_agent_conversations"


def server_binaries() -> Path:
    initdb = shutil.which("initdb") or max(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), default=None
    )
    if initdb is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install them with "
                    "'apt-get install -y postgresql' (.ci/run does this)")
    return Path(initdb).resolve().parent


def run(command, log: Path | None = None):
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        server_log = log.read_text() if log and log.exists() else ""
        pytest.fail(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}{server_log}")


@pytest.fixture(scope="module")
def postgres():
    """A throw-away server on a free port of 127.0.0.1, password (scram) auth;
    yields its PG* environment and is stopped even when a test fails."""
    binaries = server_binaries()
    # Not under pytest's tmp folder: its parents are private to root, and the
    # server must run as an unprivileged user (postgres refuses to run as root).
    folder = Path(tempfile.mkdtemp(prefix="pipeline-pg-"))
    data, log, password_file = folder / "data", folder / "server.log", folder / "password"
    password_file.write_text(PASSWORD + "\n")
    as_user = []
    if os.geteuid() == 0:
        account = next(a for a in map(getpwnam, ("postgres", "nobody")) if a)
        for path in (folder, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", account.pw_name, "--"]
    pg_ctl = [*as_user, binaries / "pg_ctl", "-D", data, "-l", log]
    try:
        run([*as_user, binaries / "initdb", "-D", data, "-U", USER, f"--pwfile={password_file}",
             "--auth=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"])
        port = free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run([*pg_ctl, "-o", options, "-w", "-t", "30", "start"], log)
        try:
            yield {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGDATABASE": DATABASE,
                   "PGUSER": USER, "PGPASSWORD": PASSWORD}
        finally:
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def getpwnam(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


@pytest.fixture
def pg_env(postgres, monkeypatch):
    for key, value in postgres.items():
        monkeypatch.setenv(key, value)
    return postgres


def build_lake(lake):
    """A lake with the 30 conversations of seed 5 in gold."""
    generate(str(lake), orders=30, seed=5)
    for job in ("bronze", "silver", "gold"):
        run_in_session(job, lake)
    return lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Shared by the tests that only read it."""
    return build_lake(tmp_path_factory.mktemp("lake"))


def query(spark, env, sql):
    settings = publish.settings_from_env(env)
    return (
        spark.read.format("jdbc")
        .options(**settings.properties())
        .option("url", settings.url)
        .option("driver", publish.DRIVER)
        .option("query", sql)
        .load()
    )


def assert_published_equals_gold(spark, lake, env):
    published = query(spark, env, f"SELECT * FROM {TABLE}")
    gold = table(spark, lake, "gold_conversations")
    # Every row and column, with the same Spark types read back and the same column order.
    assert_df_equality(published, gold, ignore_nullable=True, ignore_metadata=True, ignore_row_order=True)
    return gold.count()


def test_publish_copies_gold_with_sensible_types_and_a_primary_key(spark, lake, pg_env):
    run_in_session("publish", lake)
    assert assert_published_equals_gold(spark, lake, pg_env) == 30

    types = dict(query(spark, pg_env, f"SELECT column_name, data_type FROM information_schema.columns "
                                      f"WHERE table_name = '{TABLE}'").collect())
    assert types == {
        "order_id": "bigint", "city_code": "text",
        "first_agent_message": "timestamp with time zone", "first_customer_message": "timestamp with time zone",
        "num_messages_agent": "bigint", "num_messages_customer": "bigint", "first_message_by": "text",
        "conversation_started_at": "timestamp with time zone", "first_response_time_delay_seconds": "bigint",
        "last_message_time": "timestamp with time zone", "last_message_order_stage": "text",
        "num_agents": "integer", "priority": "boolean", "resolved": "boolean", "conversation_date": "date",
    }
    key = query(spark, pg_env, "SELECT tc.constraint_name, k.column_name FROM information_schema.table_constraints tc "
                               "JOIN information_schema.key_column_usage k USING (constraint_name) "
                               f"WHERE tc.table_name = '{TABLE}' AND tc.constraint_type = 'PRIMARY KEY'").collect()
    assert [tuple(row) for row in key] == [(f"{TABLE}_pkey", "order_id")]
    tables = {row[0] for row in query(spark, pg_env, "SELECT tablename FROM pg_tables").collect()}
    assert TABLE in tables and not any(name.endswith("__staging") for name in tables)

    # The instants themselves, as the server prints them in UTC, not only as Spark reads them back.
    server = query(spark, pg_env, f"SELECT order_id, to_char(conversation_started_at AT TIME ZONE 'UTC', "
                                  f"'YYYY-MM-DD HH24:MI:SS.US') AS started FROM {TABLE}")
    lake_side = table(spark, lake, "gold_conversations").selectExpr(
        "order_id", "date_format(conversation_started_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS started")
    assert_df_equality(server, lake_side, ignore_nullable=True, ignore_metadata=True, ignore_row_order=True)


def test_gold_tables_missing_from_the_lake_are_skipped_and_others_published(spark, lake, pg_env, capsys):
    """Every gold_* key of the config is published; one whose job has not run yet is skipped."""
    config = load_config("local", str(lake))
    config = dataclasses.replace(
        config, tables={**config.tables, "gold_daily_kpis": "gold/test_daily_kpis", "gold_later": "gold/test_later"}
    )
    kpis = spark.createDataFrame([(date(2024, 2, 1), 12), (date(2024, 2, 2), 7)], "kpi_date date, conversations long")
    kpis.write.format("delta").save(config.table("gold_daily_kpis"))
    try:
        stats = publish_job.main(spark, config, argparse.Namespace())
    finally:
        shutil.rmtree(config.table("gold_daily_kpis"))
    assert sorted((s.dataset, s.rows_written) for s in stats) == [(TABLE, 30), ("test_daily_kpis", 2)]
    assert f"publish gold_later: no Delta table at {lake}/gold/test_later yet, skipped" in capsys.readouterr().out
    assert_df_equality(query(spark, pg_env, "SELECT * FROM test_daily_kpis"), kpis, ignore_row_order=True,
                       ignore_nullable=True, ignore_metadata=True)


def test_connection_errors_are_one_line(lake, pg_env, monkeypatch, capsys):
    where = f"127.0.0.1:{pg_env['PGPORT']}/{DATABASE} as {USER}"
    monkeypatch.setenv("PGPASSWORD", "wrong")
    assert publish_job.cli(["--lake", str(lake)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f'publish: error: cannot connect to PostgreSQL at {where}: password authentication failed for user "{USER}"'
    ]

    closed = free_port()
    monkeypatch.setenv("PGPORT", str(closed))
    assert publish_job.cli(["--lake", str(lake)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"publish: error: cannot connect to PostgreSQL at 127.0.0.1:{closed}/{DATABASE} as {USER}: "
        f"Connection to 127.0.0.1:{closed} refused"
    ]

    monkeypatch.delenv("PGDATABASE")
    assert publish_job.cli(["--lake", str(lake)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("publish: error: PGDATABASE is not set")


def test_wrong_password_through_spark_submit_is_one_line_and_exit_1(lake, postgres):
    result = submit("publish", "--lake", str(lake), env={**os.environ, **postgres, "PGPASSWORD": "wrong"})
    assert result.returncode == 1
    output = result.stdout + result.stderr  # spark-submit merges the driver's stderr into its stdout
    assert [line for line in output.splitlines() if "error" in line.lower()] == [
        f"publish: error: cannot connect to PostgreSQL at 127.0.0.1:{postgres['PGPORT']}/{DATABASE} as {USER}: "
        f'password authentication failed for user "{USER}"'
    ]
    assert "Traceback" not in output and "Exception" not in output


def test_rerun_and_new_data_leave_exactly_the_gold_rows(spark, drops_lake_to_write, pg_env):
    lake = drops_lake_to_write  # 80 orders; this test adds data
    run_in_session("publish", lake)
    run_in_session("publish", lake)  # a rerun replaces, never appends
    assert assert_published_equals_gold(spark, lake, pg_env) == 80

    # Late messages for orders 75-79 and new orders 80-89 (order ids do not depend on the seed).
    generate(str(lake), orders=15, seed=8, prefix="more", first_order=75)
    for job in ("bronze", "silver", "gold", "publish"):
        run_in_session(job, lake)
    assert assert_published_equals_gold(spark, lake, pg_env) == 90


def test_forget_publishes_gold_again_without_the_customer(spark, drops_lake_to_write, pg_env, capsys):
    lake = drops_lake_to_write  # 80 orders; forget changes it
    run_in_session("publish", lake)
    silver = table(spark, lake, "silver_messages")
    customer, orders = silver.groupBy("customer_id").agg(F.collect_set("order_id").alias("orders")).orderBy(
        "customer_id").first()
    capsys.readouterr()
    run_in_session("forget", lake, "--customer", str(customer))
    assert "forget: the PostgreSQL copy published again without them" in capsys.readouterr().out
    assert assert_published_equals_gold(spark, lake, pg_env) == 80 - len(orders)
    published = {row[0] for row in query(spark, pg_env, f"SELECT order_id FROM {TABLE}").collect()}
    assert published.isdisjoint(orders)
