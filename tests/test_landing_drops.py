"""Landing drops shaped like real exports: dated folders, hidden and temporary
files, a byte order mark, CRLF, a truncated gzip next to good files, JSON
Lines and JSON array files too large to read whole (plain, gzipped, broken),
values that are no object and ids sent as 51.0. Every landed record ends in
bronze, or its file in quarantine/landing_files with a reason; the good files
flow in the same run and the next; a file changed after it was taken is reported."""

import gzip
import json

import pytest
from pyspark.sql import functions as F

from pipeline.lake import landing
from tests.support.lakes import run_in_session, table
from tests.test_messages import event

pytestmark = pytest.mark.spark

MESSAGES = "customer_agent_messages"


def lines(*records, end="\n"):
    return "".join(record + end for record in records)


def events(n, order=500, **fields):
    return [event(orderId=order + i, messageSentTime=f"2024-05-02T10:{i % 60:02d}:00Z", **fields) for i in range(n)]


@pytest.fixture
def small_blocks(spark):
    """Spark reads large files in blocks of 8 kB instead of 4 MB or more."""
    settings = {"spark.sql.files.maxPartitionBytes": "8k", "spark.sql.files.openCostInBytes": "1k"}
    for key, value in settings.items():
        spark.conf.set(key, value)
    yield
    for key in settings:
        spark.conf.unset(key)


@pytest.fixture
def lake(tmp_path, monkeypatch, small_blocks):
    """The landing folders of one drop; {relative path: records the file holds} of the readable files."""
    monkeypatch.setitem(landing.WHOLE_FILE_MAX_BYTES, "plain", 4000)  # the large-file paths, on small files
    monkeypatch.setitem(landing.WHOLE_FILE_MAX_BYTES, "gzip", 1000)
    root = tmp_path / "landing" / MESSAGES
    big = events(120, order=700)  # ~30 kB: read line by line, in several blocks
    files = {
        "2024/05/02/dated.jsonl": (lines(*events(3)), 3),
        "bom.jsonl": ("\ufeff" + lines(*events(2, order=600)), 2),
        "crlf.jsonl": (lines(*events(2, order=610), end="\r\n"), 2),
        "odd-values.jsonl": (lines("42", "null", '"text"', "[1]", event(fromId=51.0, orderId="620", customerId=51.0)), 5),
        "big.jsonl": ("\ufeff" + lines(big[0], "", *big[1:60], "   ", *big[60:]), 120),
    }
    for name, (text, _) in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "good.jsonl.gz").write_bytes(gzip.compress(lines(*events(4, order=630)).encode()))
    (root / "big.jsonl.gz").write_bytes(gzip.compress(lines(*events(60, order=1000)).encode()))  # line by line
    (root / "truncated.jsonl.gz").write_bytes(gzip.compress(lines(*events(50, order=640)).encode())[:200])
    # Pretty-printed, elements over several lines, some no object: split by the streaming parser.
    (root / "big-array.json").write_text("\ufeff[\n" + ",\n".join(ARRAY_ELEMENTS) + "\n]\n")
    compact = json.dumps([json.loads(e) for e in events(60, order=1100)])
    (root / "big array.json.gz").write_bytes(gzip.compress(compact.encode()))
    (root / "broken-array.json").write_text(compact[:-100])  # cut short: no valid array
    for ignored in (".hidden.jsonl", "_tmp.jsonl", "upload.jsonl.part", "upload.jsonl.tmp", "x.json.crdownload"):
        (root / ignored).write_text(lines(*events(1, order=900)))
    (root / ".hidden-folder").mkdir()
    (root / ".hidden-folder" / "inside.jsonl").write_text(lines(*events(1, order=910)))
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    (tmp_path / "landing" / "orders" / "orders.jsonl").write_text(lines('{"orderId": 500, "cityCode": "MAD"}'))
    readable = {name: count for name, (_, count) in files.items()} | {
        "good.jsonl.gz": 4, "big.jsonl.gz": 60, "big-array.json": len(ARRAY_ELEMENTS),
        "big%20array.json.gz": 60}  # source_file is a URI, as Spark's readers spell it
    return tmp_path, readable


# The array's elements as written: 40 objects over several lines each, with four
# values that are no object among them.
ARRAY_ELEMENTS = [json.dumps(json.loads(e), indent=2) for e in events(40, order=800)]
ARRAY_ELEMENTS[5:5], ARRAY_ELEMENTS[20:20], ARRAY_ELEMENTS[30:30] = ["42", '"text"'], ["null"], ["[1, {\"a\": 2}]"]


def relative(column):
    return F.substring_index(column, f"/{MESSAGES}/", -1)


def test_every_record_lands_in_bronze_or_its_file_in_quarantine(spark, lake, capsys):
    lake, readable = lake
    run_in_session("bronze", lake)
    out = capsys.readouterr().out
    assert f"bronze {MESSAGES}: 11 new files, {sum(readable.values())} records" in out
    assert "files quarantined: corrupt_compressed_file 1, invalid_json_array 1" in out

    bronze = table(spark, lake, "bronze_messages").withColumn("file", relative("source_file"))
    per_file = {row.file: row.n for row in bronze.groupBy("file").agg(F.count("*").alias("n")).collect()}
    assert per_file == readable  # hidden, temporary and quarantined files are not in bronze
    # record_index is the place among the file's non-blank lines, across the blocks of a large file.
    big = bronze.where("file = 'big.jsonl'").orderBy("record_index")
    assert [row.record_index for row in big.collect()] == list(range(120))
    assert [json.loads(row.raw)["orderId"] for row in big.collect()] == list(range(700, 820))
    assert bronze.where("file = 'bom.jsonl' AND record_index = 0").first().raw.startswith("{")
    assert big.first().raw.startswith("{")
    # A large array's records are its elements, each as written, at its place in the array
    # (the staged elements are read in several partitions of 8 kB).
    array = bronze.where("file = 'big-array.json'").orderBy("record_index").collect()
    assert [(row.record_index, row.raw) for row in array] == list(enumerate(ARRAY_ELEMENTS))
    gzipped = bronze.where("file = 'big%20array.json.gz'").orderBy("record_index").collect()
    assert [(row.record_index, json.loads(row.raw)["orderId"]) for row in gzipped] == list(enumerate(range(1100, 1160)))
    assert {row.source_file for row in array} == {big.first().source_file.replace("big.jsonl", "big-array.json")}

    files = table(spark, lake, "quarantine_landing_files").withColumn("file", relative("path"))
    found = {row.file: (row.dataset, row.reason, row.size) for row in files.collect()}
    assert found == {
        "truncated.jsonl.gz": (MESSAGES, "corrupt_compressed_file", 200),
        "broken-array.json": (MESSAGES, "invalid_json_array", (lake / "landing" / MESSAGES / "broken-array.json").stat().st_size),
    }
    assert "not a JSON array at character" in files.where("file = 'broken-array.json'").first().error
    truncated = files.where("file = 'truncated.jsonl.gz'").first()
    assert "EOFException" in truncated.error and truncated.modification_time is not None

    run_in_session("silver", lake)
    reasons = {row.reason: row.n for row in table(spark, lake, "quarantine_messages").groupBy("reason")
               .agg(F.count("*").alias("n")).collect()}
    assert reasons == {"not_an_object": 8}  # 42, null, "text", [1] in odd-values.jsonl and big-array.json
    silver = table(spark, lake, "silver_messages")
    assert silver.count() + sum(reasons.values()) == bronze.count()  # no duplicates in this drop
    coerced = silver.where("order_id = 620").first()
    assert (coerced.from_id, coerced.customer_id, coerced.sender_role) == (51, 51, "customer")


def test_a_poison_file_lets_the_others_through_now_and_later(spark, lake, capsys):
    lake, readable = lake
    run_in_session("bronze", lake)
    root = lake / "landing" / MESSAGES
    (root / "later.jsonl").write_text(lines(*events(2, order=950)))
    # The sender replaces the broken transfer with a good copy under a new name.
    (root / "truncated-again.jsonl.gz").write_bytes(gzip.compress(lines(*events(50, order=640)).encode()))
    (root / "crlf.jsonl").write_text(lines(*events(3, order=612)))  # sent again under the same name
    capsys.readouterr()
    run_in_session("bronze", lake)
    out = capsys.readouterr().out
    assert f"bronze {MESSAGES}: 2 new files, 52 records" in out
    # A file is taken as it is when first seen: a changed one is reported, not read again.
    assert f"bronze {MESSAGES}: warning: 1 files changed after they were ingested" in out and "crlf.jsonl" in out
    bronze = table(spark, lake, "bronze_messages")
    assert bronze.count() == sum(readable.values()) + 52
    assert table(spark, lake, "quarantine_landing_files").count() == 2  # nothing set aside twice
    assert not (lake / "_meta" / "staging").exists() or not any((lake / "_meta" / "staging").iterdir())
    # The record of files taken, as bronze reads it without Spark, is the table's as Spark reads it.
    path = str(lake / "_meta" / "landed_files")
    manifest = spark.read.format("delta").load(path).where(F.col("dataset") == MESSAGES).orderBy(F.desc("ingest_batch"))
    by_spark = {row.path: (row.size, row.ms) for row in manifest.select(  # the first batch's row written last
        "path", "size", F.unix_millis("modification_time").alias("ms")).collect()}
    assert landing.taken_files(spark, path, MESSAGES) == by_spark
    assert any(name.endswith("/crlf.jsonl") for name in by_spark) and any(name.endswith("/later.jsonl") for name in by_spark)
