"""Generic record helpers shared by the silver datasets: parse a raw JSON
object, type ids and flags, split valid from quarantined records, keep the
first (or last) ingested record per key."""

import re

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

CORRUPT = "_corrupt_record"
# Ingestion order: runs (bronze batches) in order, files by path, records in file order.
INGESTION_ORDER = ("ingest_batch", "source_file", "record_index")
QUARANTINE_COLUMNS = ("reason", "raw", "source_file", "record_index", "ingest_batch", "ingested_at")


def parse_json_object(raw: Column, fields: tuple[str, ...]) -> Column:
    """Struct of the given fields as strings plus `_corrupt_record`, set when
    `raw` is not one valid JSON object."""
    schema = ", ".join(f"`{name}` string" for name in (*fields, CORRUPT))
    return F.from_json(raw, schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})


def rescued(raw: Column, known: tuple[str, ...]) -> Column:
    """The fields of the JSON object `raw` whose names are not in `known`
    (compared case-sensitively), as one JSON object, like Auto Loader's
    rescued-data column; NULL when there are none or `raw` is no JSON object.
    Values keep their JSON type and structure; variant writes numbers in
    their shortest form (51.0 as 51)."""
    names = F.array(*(F.lit(name) for name in known))
    # A JSON parse per record doubled silver's parsing time, and nearly every
    # record holds known fields only. A quick check finds the records that may
    # not: a key (a quoted text after `{` or `,`, before `:`) that is not
    # literally a known name, or an escaped quote (which a key may hold). It
    # may flag a record that has none (a nested key, an escaped known name) but
    # never misses one; only flagged records are parsed again. (No alternation
    # under a repetition: Java's regex recurses per repetition of a group, and
    # a long text would overflow the stack.)
    known_name = "|".join(map(re.escape, known))
    maybe_unknown = raw.rlike(rf'[{{,]\s*"(?!(?:{known_name})"\s*:)[^"]*"\s*:') | raw.contains('\\"')
    unknown_names = F.filter(F.json_object_keys(raw), lambda name: ~F.array_contains(names, name))
    fields = F.from_json(raw, "map<string, variant>")
    unknown = F.map_filter(fields, lambda name, _: ~F.array_contains(names, name))
    return F.when(maybe_unknown & (F.size(unknown_names) > 0), F.to_json(unknown))


def json_problem(raw: Column, parsed: Column) -> Column:
    """`invalid_json` (not JSON at all), `not_an_object` (JSON, but a number,
    string, array or null), or null for one JSON object. Only a record that
    does not start with `{` pays for the second parse."""
    return (
        F.when(raw.isNull(), "invalid_json")
        .when(raw.rlike(r"^\s*\{"), F.when(parsed[CORRUPT].isNotNull(), "invalid_json"))
        .when(F.try_parse_json(raw).isNull(), "invalid_json")
        .otherwise("not_an_object")
    )


def to_id(value: Column) -> Column:
    """A whole-number id: a JSON integer, an integral float (51.0) or such a
    string ("51", "51.0"), fitting a long; else null."""
    whole = F.regexp_extract(value, r"^(-?[0-9]+)(\.0+)?\z", 1)  # \z: $ would allow a final newline
    return F.when(whole != "", whole.try_cast("long"))


def id_problem(raw: Column, typed: Column, name: str) -> Column:
    """`null_<name>` when the field is missing or null, `invalid_<name>` when it
    is there but no whole number, else null."""
    return F.when(raw.isNull(), f"null_{name}").when(typed.isNull(), f"invalid_{name}")


def to_flag(value: Column) -> Column:
    """JSON true/false or those strings; null, absent or anything else is false."""
    return F.coalesce(value == "true", F.lit(False))


def valid_records(parsed: DataFrame) -> DataFrame:
    """Records that passed every check (messages or orders)."""
    return parsed.where(F.col("reason").isNull())


def quarantined(parsed: DataFrame) -> DataFrame:
    """Rejected records with their reason, raw text and lineage."""
    return parsed.where(F.col("reason").isNotNull()).select(*QUARANTINE_COLUMNS)


def first_ingested(df: DataFrame, key: tuple[str, ...], last: bool = False) -> DataFrame:
    """One row per key (nulls compare equal): the first ingested, or the last one."""
    order = [F.col(name).desc() if last else F.col(name).asc() for name in INGESTION_ORDER]
    window = Window.partitionBy(*key).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def quarantine_rows(parsed: DataFrame) -> DataFrame:
    """The rejected records as quarantine stores them: with the time they were set aside."""
    return quarantined(parsed).withColumn("quarantined_at", F.current_timestamp())
