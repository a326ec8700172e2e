"""One audit row per job and dataset in <lake>/_meta/pipeline_runs."""

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from pyspark.sql import SparkSession

AUDIT_SCHEMA = (
    "run_id string, job string, dataset string, started_at timestamp, finished_at timestamp, "
    "rows_read long, rows_written long, rows_quarantined long, duplicates long"
)


@dataclass
class RunStats:
    dataset: str
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    duplicates: int = 0


def record_runs(
    spark: SparkSession, path: str, run_id: str, job: str, started_at: datetime, stats: list[RunStats]
) -> None:
    if not stats:
        return
    finished_at = datetime.now(timezone.utc)
    rows = [
        {"run_id": run_id, "job": job, "started_at": started_at, "finished_at": finished_at, **asdict(s)}
        for s in stats
    ]
    spark.createDataFrame(rows, AUDIT_SCHEMA).write.format("delta").mode("append").save(path)
