"""One audit row per job run and dataset in <lake>/_meta/pipeline_runs, failed runs included."""

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import PipelineError
from pipeline.lake.tables import append

# The first nine columns are those of lakes written before the run status was
# recorded; appends add the others to such tables (mergeSchema).
AUDIT_SCHEMA = (
    "run_id string, job string, dataset string, started_at timestamp, finished_at timestamp, "
    "rows_read long, rows_written long, rows_quarantined long, duplicates long, "
    "status string, error string, duration_seconds double, input string, "
    "quarantined_by_rule map<string, long>, warnings_by_rule map<string, long>, delta_version long, "
    "dropped_by_rule map<string, long>"
)


@dataclass
class RunStats:
    dataset: str | None
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    duplicates: int = 0
    input: str | None = None  # what the run read: files, bronze batches, silver versions
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)  # reason -> records
    warnings_by_rule: dict[str, int] = field(default_factory=dict)  # warn rule -> rows
    delta_version: int | None = None  # of the table written, when the run wrote it
    # reason -> records removed, neither stored nor quarantined (erased_customer: bronze's later records of a
    # forgotten customer; forget's rows deleted per table)
    dropped_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        """Nothing read, written, quarantined or warned about: a step that found no work."""
        return not (self.rows_read or self.rows_written or self.rows_quarantined or self.warnings_by_rule
                    or self.dropped_by_rule or self.delta_version is not None)


class QualityError(PipelineError):
    """A job stopped by its data: carries what it counted, for the audit row."""

    def __init__(self, message: str, stats: list[RunStats]):
        super().__init__(message)
        self.stats = stats


def audit_records(
    run_id: str, job: str, started_at: datetime, stats: list[RunStats], error: str | None = None
) -> list[dict]:
    """A run's audit rows: one per dataset, or one without a dataset."""
    finished_at = datetime.now(timezone.utc)
    common = {
        "run_id": run_id, "job": job, "started_at": started_at, "finished_at": finished_at,
        "status": "failed" if error else "succeeded", "error": error,
        "duration_seconds": (finished_at - started_at).total_seconds(),
    }
    return [{**common, **asdict(s)} for s in stats or [RunStats(None)]]


def record_runs(spark: SparkSession, path: str, records: list[dict]) -> None:
    """Append audit rows (of one step, or of every step of a pass) in one commit."""
    if records:
        append(audit_rows(spark, records), path, merge_schema=True)


def audit_rows(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """The rows as a DataFrame of AUDIT_SCHEMA, parsed from one JSON literal by
    the JVM: spark.createDataFrame would start Python workers (~2 s) to write a
    few rows."""
    text = json.dumps(rows, default=lambda when: when.astimezone(timezone.utc).isoformat(timespec="microseconds"))
    parsed = F.from_json(
        F.lit(text), f"array<struct<{AUDIT_SCHEMA}>>", {"timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"}
    )
    return spark.range(1).select(F.inline(parsed))
