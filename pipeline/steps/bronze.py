"""Bronze: ingest new landing files into Delta, each file exactly once, with lineage.

Files are found at any depth below each landing folder. A file that cannot be
read or decompressed (or a large JSON array file that is no valid array) goes to
quarantine/landing_files with its reason and error; the other files of the run
are ingested. The run fails only when more than the quarantined share allowed
of at least MIN_FILES_FOR_SHARE new files was set aside. The files a run took
are recorded in _meta/landed_files in one commit after both landing folders'
streams; until then each micro-batch keeps its own in a small file (a run
stopped in between records them first).
"""

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType, TimestampType

from pipeline import PipelineError
from pipeline.lake import incremental, landing, tables
from pipeline.lake.files import path_exists
from pipeline.lake.streams import process_available
from pipeline.steps.forget import Suppression
from pipeline.steps.landing_records import read_records
from pipeline.steps.options import Options
from pipeline.runtime.audit import QualityError, RunStats
from pipeline.runtime.config import LANDING_FEEDS
from pipeline.runtime.faults import crash_point

BRONZE_SCHEMA = StructType(
    [
        StructField("source_file", StringType()),
        StructField("record_index", IntegerType()),
        StructField("raw", StringType()),
        StructField("ingest_batch", LongType()),
        StructField("ingested_at", TimestampType()),
    ]
)
MIN_FILES_FOR_SHARE = 20  # 1 bad file of 3 says little about the feed


def ingest(spark, config, dataset: str, table_key: str) -> RunStats:
    folder, table = config.landing(dataset), config.table(table_key)
    files_table, manifest = config.table("quarantine_landing_files"), config.meta("landed_files")
    if not path_exists(spark, folder):
        raise PipelineError(f"landing folder not found: {folder}")
    if landing.waiting_files(spark, folder, config.checkpoint(table_key)) == {}:  # metadata only: no Spark job
        print(f"bronze {dataset}: nothing new in {folder}")
        return RunStats(dataset, input=f"0 new files in {folder}")
    tables.ensure_table(spark, table, BRONZE_SCHEMA)
    tables.ensure_table(spark, files_table, StructType.fromDDL(landing.LANDING_FILE_SCHEMA))
    before = tables.version(spark, table)
    taken_before = landing.taken_files(spark, manifest, dataset)
    set_aside: dict[str, int] = {}  # reason -> files, over the run's micro-batches
    suppression = Suppression(spark, config, dataset)  # forgotten customers' later records: dropped, counted

    def append(files: list[landing.LandingFile], staged: dict[str, str], batch_id: int) -> None:
        if not files:  # every file set aside: no commit, so bronze's last batch is one with rows
            return
        records = read_records(spark, files, staged).select(
            "source_file", "record_index", "raw",
            F.lit(batch_id).cast("long").alias("ingest_batch"), F.current_timestamp().alias("ingested_at"),
        )
        records = suppression.drop(records, table)
        with incremental.recording(spark, {incremental.BRONZE_BATCH: batch_id}):  # silver compares it with its own
            tables.append_once(records, table, f"bronze-{dataset}", batch_id)
        suppression.count_written()

    def write_batch(listing, batch_id):
        found = listing.select("path", "length", F.unix_millis("modificationTime").alias("modified")).collect()
        files = {row.path: landing.LandingFile(row.path, row.length) for row in found}
        for path in [path for path in files if path in taken_before]:  # re-sent under a taken name: warned below
            del files[path]
        # Large array files are split first, into a staging folder the batch removes when done.
        staging = config.meta(f"staging/bronze-{dataset}-{batch_id}")
        staged, problems = landing.stage_large_arrays(spark, list(files.values()), staging)
        version_before = tables.version(spark, table)

        def unreadable():
            return {path: p for path, f in files.items()
                    if path not in problems and path not in staged and (p := landing.unreadable(spark, f))}

        try:
            try:
                append([f for path, f in files.items() if path not in problems], staged, batch_id)
            except (Py4JJavaError, PySparkException):
                # Some file cannot be read: find which, set them aside, take the others.
                found_unreadable = unreadable()
                if not found_unreadable:
                    raise
                problems.update(found_unreadable)
                append([f for path, f in files.items() if path not in problems], staged, batch_id)
            else:
                if tables.version(spark, table) == version_before:  # a replay after a crash: Delta skipped the
                    problems.update(unreadable())                    # append, so find the files it had set aside
        finally:
            landing.remove(spark, staging)
        crash_point(f"bronze.{dataset}.after_write")  # before the checkpoint records the batch
        taken = {row.path: (row.length, row.modified) for row in found if row.path in files}
        entries = landing.file_entries(dataset, taken, batch_id, problems)
        if problems:  # before the record of files taken: a replay skips the files recorded there
            rows = landing.file_rows(spark, entries).where(F.col("reason").isNotNull())
            tables.append_once(rows, files_table, f"landing-files-{dataset}", batch_id)
        # Recorded with the other folder's batches after both streams (record_taken): one commit per run.
        landing.stage_taken(spark, config.meta(landing.PENDING_TAKEN), entries, dataset, batch_id)
        for reason, _ in problems.values():
            set_aside[reason] = set_aside.get(reason, 0) + 1

    new_files = process_available(landing.file_stream(spark, folder), config.checkpoint(table_key), write_batch,
                                  f"bronze {dataset}")
    written = incremental.written_since(spark, table, before)
    changed = landing.changed_since_taken(spark, folder, taken_before)  # files taken in this run are as listed
    stats = RunStats(
        dataset, rows_read=new_files, rows_written=written.rows, rows_quarantined=sum(set_aside.values()),
        input=f"{new_files} new files in {folder}", quarantined_by_rule=set_aside, delta_version=written.version,
        warnings_by_rule={"file_changed_after_ingestion": len(changed)} if changed else {},
        dropped_by_rule=suppression.dropped_by_rule(),
    )
    if changed:
        print(f"bronze {dataset}: warning: {len(changed)} files changed after they were ingested and are not read "
              f"again (land corrections under new names): {', '.join(changed[:5])}" + (" ..." if len(changed) > 5 else ""))
    if not new_files:
        print(f"bronze {dataset}: nothing new in {folder}")
        return stats
    aside = ", ".join(f"{reason} {n}" for reason, n in sorted(set_aside.items()))
    print(f"bronze {dataset}: {new_files} new files, {written.rows} records -> {table}"
          + (f"; files quarantined: {aside} -> {files_table}" if aside else ""))
    return stats


def check_share(stats: list[RunStats], max_share: float, files_table: str) -> None:
    """Stop (after the good files are in) when too large a share of the new files was set aside."""
    files, aside = sum(s.rows_read for s in stats), sum(s.rows_quarantined for s in stats)
    if files >= MIN_FILES_FOR_SHARE and aside > max_share * files:
        raise QualityError(
            f"{aside} of {files} new landing files ({aside / files:.1%}) were quarantined, more than "
            f"{max_share:.1%}; the others were ingested (see {files_table})", stats
        )


def run(spark, config, options: Options = Options()) -> list[RunStats]:
    manifest, pending = config.meta("landed_files"), config.meta(landing.PENDING_TAKEN)
    landing.record_taken(spark, manifest, pending)  # a run stopped before it recorded them
    stats = [ingest(spark, config, dataset, key) for dataset, key in LANDING_FEEDS.items()]
    crash_point("bronze.before_landed_files")  # both streams' checkpoints committed, their files not recorded
    landing.record_taken(spark, manifest, pending)
    check_share(stats, options.max_share(config), config.table("quarantine_landing_files"))
    return stats
