"""make bench-landing: bronze on landing files of the sizes real exports have.

    python bench/landing.py [--jsonl-gb 2] [--gz-gb 1] [--array-mb 500]

Writes into a scratch lake one large JSON Lines file, one large gzipped JSON
Lines file and one large JSON array file (generated messages, repeated), then
runs `spark-submit.sh bronze` on each alone, with the default settings (driver
2g), and prints the wall time, the peak RSS of the largest process (the driver
JVM) and whether bronze holds every record (or set the file aside, with why).
"""

import argparse
import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.run import measure  # noqa: E402
from tools.generator import generate  # noqa: E402

MESSAGES = "customer_agent_messages"


def sample_lines(scratch: Path) -> list[bytes]:
    """Generated message lines (every messy form) to repeat."""
    generate(str(scratch), orders=2000, seed=1)
    lines = []
    for path in sorted((scratch / "landing" / MESSAGES).glob("*.jsonl")):
        lines += [line + b"\n" for line in path.read_bytes().splitlines() if line.strip()]
    return lines


def write_repeated(path: Path, lines: list[bytes], size: int, opener=open) -> int:
    """Write whole copies of `lines` until `size` bytes of text; the number of lines written."""
    block = b"".join(lines)
    copies = max(1, size // len(block))
    with opener(path, "wb") as out:
        for _ in range(copies):
            out.write(block)
    return copies * len(lines)


def is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def write_array(path: Path, lines: list[bytes], size: int) -> int:
    """A JSON array of the lines that are JSON (a broken one would make the whole file no array)."""
    lines = [line for line in lines if is_json(line)]
    block = b",\n".join(line.rstrip(b"\n") for line in lines)
    copies = max(1, size // len(block))
    with open(path, "wb") as out:
        out.write(b"[\n")
        out.write(b",\n".join([block] * copies))
        out.write(b"\n]\n")
    return copies * len(lines)


def bronze_outcome(lake: Path) -> str:
    """Records in bronze, or the quarantine reason, read with DuckDB-free plain Spark SQL."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 (only after the runs, in this process)

    from pipeline.runtime.session import local_delta_jars  # noqa: PLC0415
    spark = (
        SparkSession.builder.master("local[2]").config("spark.jars", local_delta_jars())
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.ui.enabled", "false").getOrCreate()
    )
    records = spark.read.format("delta").load(str(lake / "bronze" / MESSAGES)).count()
    aside = [row.reason for row in spark.read.format("delta").load(str(lake / "quarantine" / "landing_files")).collect()]
    spark.stop()
    return f"{records:,} records in bronze" + (f", set aside: {', '.join(aside)}" if aside else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jsonl-gb", type=float, default=2.0)
    parser.add_argument("--gz-gb", type=float, default=1.0, help="size of the gzipped file on disk")
    parser.add_argument("--array-mb", type=float, default=500.0)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-landing-"))
    try:
        lines = sample_lines(scratch / "sample")
        cases = {
            "big.jsonl": lambda p: write_repeated(p, lines, int(args.jsonl_gb * 2**30)),
            # gzip compresses these lines about 8x: write 8x the text for the size on disk.
            "big.jsonl.gz": lambda p: write_repeated(p, lines, int(args.gz_gb * 2**30 * 8), gzip.open),
            "big-array.json": lambda p: write_array(p, lines, int(args.array_mb * 2**20)),
        }
        print(f"{'file':<16}{'size MiB':>10}{'lines':>14}{'seconds':>9}{'peak MiB':>10}   outcome")
        for name, write in cases.items():
            lake = scratch / name.replace(".", "-")
            folder = lake / "landing" / MESSAGES
            folder.mkdir(parents=True)
            (lake / "landing" / "orders").mkdir()
            written = write(folder / name)
            seconds, peak = measure([str(REPO / "spark-submit.sh"), "bronze", "--lake", str(lake)])
            size = (folder / name).stat().st_size / 2**20
            print(f"{name:<16}{size:>10,.0f}{written:>14,}{seconds:>9.1f}{peak:>10,.0f}   {bronze_outcome(lake)}", flush=True)
            shutil.rmtree(lake)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
