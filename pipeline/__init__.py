"""Chat events to customer-agent conversation facts, on a Delta medallion lake."""


class PipelineError(Exception):
    """An expected failure (bad input, bad argument, missing path): reported as one line."""
