"""Copy DataFrames to PostgreSQL tables over JDBC, atomically for readers.

Each table is loaded into a staging table with Spark's JDBC writer (in
parallel, from the executors); then one transaction drops the old tables and
renames the staging ones (PostgreSQL DDL is transactional), so a reader sees
the old tables or the new ones, never a half load. The DDL runs on a
java.sql connection in the driver JVM, with the same driver Spark uses.
Connection settings come from the libpq environment variables only.
"""

import getpass
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from py4j.java_gateway import JavaObject, is_instance_of
from py4j.protocol import Py4JJavaError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import DataType, DecimalType

from pipeline import PipelineError
from pipeline.lake import tables

DRIVER = "org.postgresql.Driver"
# Spark type -> column type; timestamps are instants, hence timestamptz.
PG_TYPES = {
    "bigint": "bigint",
    "int": "integer",
    "smallint": "smallint",
    "double": "double precision",
    "float": "real",
    "string": "text",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
    "timestamp_ntz": "timestamp",
}


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database: str
    user: str
    password: str | None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"jdbc:postgresql://{host}:{self.port}/{urllib.parse.quote(self.database, safe='')}"

    def properties(self) -> dict[str, str]:
        props = {"user": self.user, "ApplicationName": "customer-care-publish", "connectTimeout": "10"}
        if self.password is not None:
            props["password"] = self.password
        return props

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.database} as {self.user}"


def settings_from_env(env: Mapping[str, str] = os.environ) -> Settings:
    """PGHOST (localhost), PGPORT (5432), PGDATABASE (required), PGUSER (the
    login name, as libpq does), PGPASSWORD (none)."""
    database = env.get("PGDATABASE")
    if not database:
        raise PipelineError(
            "PGDATABASE is not set (connection settings: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD)"
        )
    port = env.get("PGPORT") or "5432"
    if not port.isdigit():
        raise PipelineError(f"PGPORT must be a port number, got '{port}'")
    return Settings(
        host=env.get("PGHOST") or "localhost",
        port=int(port),
        database=database,
        user=env.get("PGUSER") or getpass.getuser(),
        password=env.get("PGPASSWORD"),
    )


@contextmanager
def sql_errors(spark: SparkSession, what: str) -> Iterator[None]:
    """A java.sql.SQLException raised inside becomes one line: "<what>: <first
    sentence of its message>"; other errors pass unchanged."""
    try:
        yield
    except Py4JJavaError as err:
        java = err.java_exception
        if not is_instance_of(spark.sparkContext._gateway, java, "java.sql.SQLException"):
            raise
        message = (java.getMessage() or java.getClass().getName()).strip().splitlines()[0]
        reason = message.removeprefix("FATAL: ").removeprefix("ERROR: ").split(". ")[0].rstrip(".")
        raise PipelineError(f"{what}: {reason}") from None


@contextmanager
def connect(spark: SparkSession, settings: Settings) -> Iterator[JavaObject]:
    """A java.sql.Connection (auto-commit); a failure to connect is one line."""
    props = spark._jvm.java.util.Properties()
    for key, value in settings.properties().items():
        props.setProperty(key, value)
    with sql_errors(spark, f"cannot connect to PostgreSQL at {settings}"):
        # Driver.connect, not DriverManager: the driver jar is not on the JVM's
        # system class path, so DriverManager would not find it.
        connection = getattr(spark._jvm, DRIVER)().connect(settings.url, props)
    try:
        yield connection
    finally:
        connection.close()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def execute(spark: SparkSession, connection: JavaObject, *statements: str) -> None:
    for statement in statements:
        with sql_errors(spark, f"PostgreSQL refused '{statement[:80]}'"):
            statement_object = connection.createStatement()
            try:
                statement_object.execute(statement)
            finally:
                statement_object.close()


def count_rows(connection: JavaObject, table: str) -> int:
    statement = connection.createStatement()
    try:
        result = statement.executeQuery(f"SELECT count(*) FROM {quote_ident(table)}")
        result.next()
        return result.getLong(1)
    finally:
        statement.close()


def column_type(data_type: DataType) -> str:
    if isinstance(data_type, DecimalType):
        return f"numeric({data_type.precision},{data_type.scale})"
    if data_type.simpleString() not in PG_TYPES:
        raise PipelineError(f"no PostgreSQL column type for Spark type {data_type.simpleString()}")
    return PG_TYPES[data_type.simpleString()]


def staging_name(table: str) -> str:
    return f"{table}__staging"


def stage(
    spark: SparkSession,
    connection: JavaObject,
    settings: Settings,
    df: DataFrame,
    table: str,
    primary_key: tuple[str, ...] = (),
    partitions: int = 4,
) -> int:
    """Load `df` into a fresh staging table for `table` (a leftover one from a
    failed run is replaced); add the primary key; return its row count."""
    staging = staging_name(table)
    columns = ", ".join(
        f"{quote_ident(f.name)} {column_type(f.dataType)}{'' if f.nullable else ' NOT NULL'}" for f in df.schema
    )
    execute(
        spark,
        connection,
        f"DROP TABLE IF EXISTS {quote_ident(staging)}",
        f"CREATE TABLE {quote_ident(staging)} ({columns})",
    )
    (
        df.write.format("jdbc")
        .options(**settings.properties())
        .option("url", settings.url)
        .option("driver", DRIVER)
        .option("dbtable", quote_ident(staging))
        .option("batchsize", 10000)
        .option("numPartitions", partitions)  # concurrent connections at most
        .option("reWriteBatchedInserts", "true")  # multi-row INSERTs: several times faster
        .mode("append")
        .save()
    )
    if primary_key:
        # Built before the swap, so readers are not blocked while it builds.
        key = ", ".join(quote_ident(name) for name in primary_key)
        add_key = f"ADD CONSTRAINT {quote_ident(staging + '_pkey')} PRIMARY KEY ({key})"
        execute(spark, connection, f"ALTER TABLE {quote_ident(staging)} {add_key}")
    execute(spark, connection, f"ANALYZE {quote_ident(staging)}")
    return count_rows(connection, staging)


def replace_tables(spark: SparkSession, connection: JavaObject, tables: list[str]) -> None:
    """In one transaction: drop each table and rename its staging table (and
    its primary key, if any) to it."""
    connection.setAutoCommit(False)
    try:
        for table in tables:
            staging = staging_name(table)
            execute(
                spark,
                connection,
                f"DROP TABLE IF EXISTS {quote_ident(table)}",
                f"ALTER TABLE {quote_ident(staging)} RENAME TO {quote_ident(table)}",
                f"ALTER INDEX IF EXISTS {quote_ident(staging + '_pkey')} RENAME TO {quote_ident(table + '_pkey')}",
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.setAutoCommit(True)


PRIMARY_KEYS = {"gold_conversations": ("order_id",)}


def publish_gold(spark: SparkSession, config, settings: Settings) -> dict[str, int]:
    """Publish every gold table (config key gold_*) that exists: {PostgreSQL table: rows}."""
    published = {}  # config key -> PostgreSQL table name
    for key in sorted(k for k in config.tables if k.startswith("gold_")):
        if tables.exists(spark, config.table(key)):
            published[key] = config.table_name(key)
        else:  # e.g. a gold table added to the config whose job has not run yet
            print(f"publish {key}: no Delta table at {config.table(key)} yet, skipped")
    if not published:
        raise PipelineError(f"no gold table in {config.lake}: run the gold job first")
    with connect(spark, settings) as connection:
        rows = {
            name: stage(spark, connection, settings, tables.read(spark, config.table(key)), name,
                        PRIMARY_KEYS.get(key, ()))
            for key, name in published.items()
        }
        replace_tables(spark, connection, list(rows))
    for name, count in rows.items():
        print(f"publish {name}: {count} rows -> PostgreSQL {settings}")
    return rows
