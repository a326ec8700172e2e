"""The records of landing files as bronze reads them, and a landing file
rewritten without some of them (forget --rewrite-landing)."""

import os
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.lake import landing, tables
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
    sizes in the record of files taken, so bronze sees no file changed after it
    took it. Returns {path: records removed} of the files rewritten (a file left
    with no record is removed) and the files that can no longer be read as
    bronze read them (left as they are). A file already without such records is
    left as it is: a rerun after a crash redoes only what is left."""
    manifest = config.meta("landed_files")
    taken = landing.taken_files(spark, manifest, dataset)
    removed, unreadable = {}, []
    for number, source_file in enumerate(paths):
        hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(spark._jvm.java.net.URI(source_file))
        path, file = hadoop_path.toString(), hadoop_path.toUri().getPath()  # as the stream and the OS name it
        if not os.path.isfile(file):  # removed at the source already
            continue
        source = landing.LandingFile(path, os.path.getsize(file))
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
                    landing.replace_local_file(file, (row.raw for row in kept.toLocalIterator()), array)
                    removed[source_file] = count
            finally:
                records.unpersist()
        finally:
            landing.remove(spark, staging)
        size = os.path.getsize(file) if os.path.isfile(file) else None
        if size is not None and path in taken and taken[path][0] != size:
            condition = (F.col("dataset") == dataset) & (F.col("path") == path)
            tables.update(spark, manifest, condition, {"size": F.lit(size).cast("long")})
    return removed, unreadable
