"""The jobs spark-submit.sh runs, one module each, with a `main(spark, config,
args)` that returns its audit rows. No job imports another: the `all` job
finds the incremental steps here."""

import importlib

STEPS = ("bronze", "silver", "gold", "kpis")  # in the order they feed each other


def step_main(name: str):
    """The `main` of the job module `name`."""
    return importlib.import_module(f"jobs.{name}").main
