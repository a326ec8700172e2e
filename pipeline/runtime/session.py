"""The one way this project creates a SparkSession."""

from pathlib import Path

from pyspark.sql import SparkSession

from pipeline.runtime.config import REPO_ROOT, Config

JARS_DIR = REPO_ROOT / ".jars"


def local_delta_jars() -> str:
    """Comma-separated Delta jars fetched by scripts/fetch_jars.sh, for sessions
    started outside spark-submit.sh (tests, notebooks)."""
    return ",".join(str(jar) for jar in sorted(Path(JARS_DIR).glob("*.jar")))


def session_settings(config: Config, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The Spark settings of every session of the project, spark-sql's and the
    SQL server's included: Delta, UTC, the config's [spark] table, then `extra`."""
    return {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # Dates and timestamps must never depend on the machine's time zone.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(config.shuffle_partitions),
        # Silver's rows leave the dedup window sorted by order_id: files of at
        # most this many rows then each hold a narrow range of orders, which
        # MERGE and gold's reads use to skip the files of other orders.
        "spark.sql.files.maxRecordsPerFile": "100000",
        **config.spark,
        **(extra or {}),
    }


def create_session(app_name: str, config: Config, extra: dict[str, str] | None = None) -> SparkSession:
    """A Delta-enabled session in UTC; master and jars come from spark-submit or `extra`."""
    builder = SparkSession.builder.appName(app_name)
    for key, value in session_settings(config, extra).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
