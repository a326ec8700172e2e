"""The records of landing files as bronze reads them, and a landing file
rewritten without some of them (forget --rewrite-landing)."""

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.lake import landing
from pipeline.lake.files import local_path
from pipeline.transforms.landing import number_lines, split_records


def read_records(spark, files: list[landing.LandingFile], staged: dict[str, str]) -> DataFrame:
    """(source_file, record_index, raw) of every record: small files whole, large
    array files from their staged elements ({path: staged file}), other large
    files line by line."""
    whole = [f for f in files if not f.large]
    large = [f for f in files if f.large and f.path not in staged]
    parts = [split_records(landing.read_whole(spark, whole))] if whole else []
    parts += [number_lines(landing.read_lines(spark, large))] if large else []
    parts += [landing.read_staged(spark, staged)] if staged else []
    if not parts:
        return spark.range(0).selectExpr("'' AS source_file", "0 AS record_index", "'' AS raw")
    return reduce(DataFrame.unionByName, parts)


def rewrite_without(spark, config, dataset: str, paths: list[str], theirs: Column) -> tuple[dict[str, int], list[str]]:
    """Rewrite the local landing files `paths` (as bronze names them) without the
    records that match `theirs`, each file in its own format; then set their
    sizes in the record of files taken (one commit), so bronze sees no file
    changed after it took it. Returns {path: records removed} of the files
    rewritten (a file left with no record is removed) and the files that can no
    longer be read as bronze read them (left as they are). A file already
    without such records is left as it is: a rerun after a crash redoes only
    what is left, and sets the sizes the crash left unset."""
    manifest = config.meta("landed_files")
    landing.record_taken(spark, manifest, config.meta(landing.PENDING_TAKEN))  # a bronze run stopped before it did
    taken = landing.taken_files(spark, manifest, dataset)
    removed, unreadable, sizes = {}, [], {}
    for number, source_file in enumerate(paths):
        source = landing.local_landing_file(spark, source_file)
        if source is None:  # removed at the source already
            continue
        staging = config.meta(f"staging/forget-{number}")
        staged, problems = landing.stage_large_arrays(spark, [source], staging)
        try:
            if problems:
                unreadable.append(source_file)
                continue
            records = read_records(spark, [source], staged).withColumn("theirs", F.coalesce(theirs, F.lit(False)))
            records = records.persist()
            try:
                count = records.where("theirs").count()
                if count:
                    kept = records.where(~F.col("theirs")).orderBy("record_index").select("raw")
                    array = landing.first_character(spark, source) == "["
                    rows = (row.raw for row in kept.toLocalIterator())
                    landing.replace_local_file(local_path(source.path), rows, array)
                    removed[source_file] = count
            finally:
                records.unpersist()
        finally:
            landing.remove(spark, staging)
        size = landing.local_size(source)
        if size is not None and source.path in taken and taken[source.path][0] != size:
            sizes[source.path] = size
    if sizes:
        landing.set_taken_sizes(spark, manifest, dataset, sizes)
    return removed, unreadable
