"""Process only what is new since the last run: Structured Streaming with
trigger(availableNow) and a checkpoint per table, each micro-batch handed to a
function that writes it idempotently."""

from collections.abc import Callable

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame

from pipeline import PipelineError


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
        cause = err.getMessage().splitlines()[0] if err.getMessage() else str(err)
        raise PipelineError(f"{name} failed: {cause}") from err
    return sum(progress.numInputRows for progress in query.recentProgress)
