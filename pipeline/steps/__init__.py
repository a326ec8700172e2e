"""The pipeline's steps, in the order they feed each other: bronze, silver, gold,
kpis. Each is a function `run(spark, config, options)` that returns its audit
rows (RunStats); the jobs of spark-submit.sh, the all job's pass and its
continuous cycles call the same functions."""

from pipeline.steps import bronze, gold, kpis, silver
from pipeline.steps.options import Options

STEPS = {"bronze": bronze.run, "silver": silver.run, "gold": gold.run, "kpis": kpis.run}


def job_body(run):
    """A step as a job body: (spark, config, parsed arguments) -> its RunStats."""
    return lambda spark, config, args: run(spark, config, Options.of(args))
