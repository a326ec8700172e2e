"""Process only what is new since the last run: Structured Streaming with
trigger(availableNow) and a checkpoint per table, each micro-batch handed to a
function that writes it idempotently."""

import re
from collections.abc import Callable

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame

from pipeline import PipelineError


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
