"""Chat events to customer-agent conversation facts, on a Delta medallion lake."""


class PipelineError(Exception):
    """An expected failure (bad input, bad argument, missing path): reported as one line."""


def root_cause(err: Exception) -> str:
    """The innermost Java cause of a Spark error as one line (e.g. `java.io.IOException:
    No space left on device`); the first line of any other error."""
    java = getattr(err, "java_exception", None) or getattr(err, "_origin", None)
    if java is None:
        return (str(err).strip().splitlines() or [type(err).__name__])[0]
    while java.getCause() is not None:
        java = java.getCause()
    return str(java.toString()).splitlines()[0]
