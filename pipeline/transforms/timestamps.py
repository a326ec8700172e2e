"""Parse the backend's messy `messageSentTime` with built-in Spark functions only.

Accepted (after trimming spaces): epoch milliseconds of 1 to 13 digits, or ISO
`YYYY-M[M]-D[D]` + `T` or one space + `H[H]:M[M]:S[S]` + optional `.` and 0-9
fraction digits (truncated to microseconds) + optional zone `Z`, `+HH:MM`,
`-HH:MM`, `+HHMM`, `-HHMM` (none means UTC). Anything else gives null.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

EPOCH_MILLIS = r"^[0-9]{1,13}$"
ISO = (
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[T ]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})"
    r"(?:\.([0-9]{0,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
# One regex pass rewrites a matching value into its eight fields joined by '|'
# (a character the grammar never contains), instead of one regex run per field.
FIELDS = "$1|$2|$3|$4|$5|$6|$7|$8"
MAX_OFFSET_MINUTES = 18 * 60


def with_parsed_time(df: DataFrame, source: str, target: str) -> DataFrame:
    """Add `target`: the UTC timestamp (microseconds) of messy `source`, or null if unparseable.

    The regex runs once per row in its own projection; later expressions only
    read the fields it produced.
    """
    text, fields = "_sent_time_text", "_sent_time_fields"
    with_fields = df.withColumn(text, F.trim(F.col(source))).withColumn(
        fields, F.split(F.regexp_replace(text, ISO, FIELDS), r"\|")
    )

    def field(i: int) -> Column:
        return F.col(fields).getItem(i).try_cast("int")

    wall_clock = F.try_make_timestamp(
        field(0), field(1), field(2), field(3), field(4), field(5).cast("decimal(16,6)"), F.lit("UTC")
    )
    fraction_micros = F.rpad(F.substring(F.col(fields).getItem(6), 1, 6), 6, "0").try_cast("long")

    zone = F.regexp_replace(F.col(fields).getItem(7), ":", "")
    zone_minutes = F.coalesce(F.substring(zone, 4, 2).try_cast("int"), F.lit(0))
    offset_minutes = F.when(zone.isin("", "Z"), F.lit(0)).otherwise(
        F.when(F.substring(zone, 1, 1) == "-", -1).otherwise(1)
        * (F.substring(zone, 2, 2).try_cast("int") * 60 + zone_minutes)
    )
    # make_timestamp would roll second 60 into the next minute; the contract rejects it.
    valid = (field(5) < 60) & (zone_minutes < 60) & (F.abs(offset_minutes) <= MAX_OFFSET_MINUTES)
    iso_micros = F.unix_micros(wall_clock) + fraction_micros - offset_minutes.cast("long") * 60_000_000

    parsed = (
        F.when(F.col(text).rlike(EPOCH_MILLIS), F.timestamp_millis(F.col(text).try_cast("long")))
        .when((F.size(fields) == 8) & valid, F.timestamp_micros(iso_micros))
        .otherwise(F.lit(None).cast("timestamp"))
    )
    return with_fields.withColumn(target, parsed).drop(text, fields)
