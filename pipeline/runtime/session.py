"""The one way this project creates a SparkSession."""

from pathlib import Path

from pyspark.sql import SparkSession

from pipeline.runtime.config import REPO_ROOT, Config

JARS_DIR = REPO_ROOT / ".jars"


def local_delta_jars() -> str:
    """Comma-separated Delta jars fetched by scripts/fetch_jars.sh, for sessions
    started outside spark-submit.sh (tests, notebooks)."""
    return ",".join(str(jar) for jar in sorted(Path(JARS_DIR).glob("*.jar")))


def create_session(app_name: str, config: Config, extra: dict[str, str] | None = None) -> SparkSession:
    """A Delta-enabled session in UTC; master and jars come from spark-submit or `extra`."""
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        # Dates and timestamps must never depend on the machine's time zone.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(config.shuffle_partitions))
    )
    for key, value in {**config.spark, **(extra or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
