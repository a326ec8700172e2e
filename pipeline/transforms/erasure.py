"""Erasure (right to be forgotten): which raw message records belong to a
customer, and the salted hash the suppression list keeps instead of the id."""

from pyspark.sql import Column
from pyspark.sql import functions as F

from pipeline.transforms.records import json_problem, parse_json_object, to_id

# `"customerId": 51` (or "51", 51.0, "51.0") in the text of a record that is no
# valid JSON object (cut short, broken): the id as the field's value, never as
# a substring of another number (2101959 does not match 21019590 or 12101959).
CUSTOMER_ID_TEXT = r'"customerId"\s*:\s*"?(-?[0-9]+(?:\.0+)?)"?(?![0-9.])'


def record_customer_id(raw: Column) -> Column:
    """The customerId of a raw message record as silver types it (a whole
    number, else null): parsed from a JSON object; for a record that is no JSON
    object, the id its text holds as `"customerId": <id>`, so that a broken
    record of a customer counts as theirs too."""
    parsed = parse_json_object(raw, ("customerId",))
    from_text = F.regexp_extract(raw, CUSTOMER_ID_TEXT, 1)
    return F.when(json_problem(raw, parsed).isNull(), to_id(parsed["customerId"])).otherwise(
        F.when(from_text != "", to_id(from_text))
    )


def salted_hash(salt: str, customer_id: Column) -> Column:
    """sha2-256 of salt || the id's decimal text: what the suppression list
    stores (the same as hashlib.sha256((salt + str(id)).encode()).hexdigest())."""
    return F.sha2(F.concat(F.lit(salt), customer_id.cast("string")), 256)
