"""Process only what is new since the last run: Structured Streaming with
trigger(availableNow) and a checkpoint per table, each micro-batch handed to a
function that writes it idempotently."""

import json
import re
from collections.abc import Callable

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame

from pipeline import PipelineError
from pipeline.lake.files import file_names, read_text


def cause(message: str) -> str:
    """One line of a failed query's message that says why: the innermost Java
    cause, else the exception line of a Python traceback, else its first line."""
    java = re.findall(r"^Caused by: (.+)$", message, re.MULTILINE)
    python = re.findall(r"^(?:\w+\.)*\w+(?:Error|Exception): .+$", message, re.MULTILINE)
    return (java or python or message.splitlines() or [""])[-1 if java or python else 0]


def process_available(
    stream: DataFrame, checkpoint: str, handle_batch: Callable[[DataFrame, int], None], name: str
) -> int:
    """Run `handle_batch` over everything not yet processed; return the input rows seen."""
    query = (
        stream.writeStream.queryName(name)
        .foreachBatch(handle_batch)
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    try:
        query.awaitTermination()
    except StreamingQueryException as err:
        raise PipelineError(f"{name} failed: {cause(err.getMessage() or str(err))}") from err
    return sum(progress.numInputRows for progress in query.recentProgress)


def batch_ids(spark, folder: str, suffix: str = "") -> list[int]:
    """The batch ids of a checkpoint log folder (files named <id><suffix>), sorted."""
    pattern = re.compile(r"(\d+)" + re.escape(suffix))
    return sorted(int(m[1]) for name in file_names(spark, folder) if (m := pattern.fullmatch(name)))


def files_taken(spark, checkpoint: str) -> dict[str, int] | None:
    """{path URI: modification ms} of every file a file stream's checkpoint has
    taken, read from its source log (metadata, no Spark job); None when there
    is no checkpoint yet or its last batch was planned but not committed (a
    crash mid-batch: the next run replays it)."""
    planned, committed = batch_ids(spark, f"{checkpoint}/offsets"), batch_ids(spark, f"{checkpoint}/commits")
    if not planned or planned[-1] not in committed:
        return None
    log = f"{checkpoint}/sources/0"
    # The newest compacted file holds every entry up to it; the later files one batch each.
    compacted = batch_ids(spark, log, ".compact")
    since = compacted[-1] if compacted else -1
    names = ([f"{since}.compact"] if compacted else []) + [f"{b}" for b in batch_ids(spark, log) if b > since]
    taken = {}
    for name in names:
        for line in read_text(spark, f"{log}/{name}").splitlines()[1:]:  # after the version line
            if line.strip():
                entry = json.loads(line)
                taken[entry["path"]] = entry["timestamp"]
    return taken
