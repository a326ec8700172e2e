"""Report: a static HTML page of the gold tables at <lake>/reports/index.html.

Conversations per day, the first-response delay distribution, median and p90
per city, never-answered and reassigned shares per day and the slowest first
responses. Inline CSS and SVG only: it opens offline, from any file share or
mail attachment. Written whole (temporary file and rename); run it after kpis.
"""

import sys
from datetime import datetime, timezone

from jobs.kpis import changed_days, reflected_version
from pipeline import PipelineError, delta_io
from pipeline.cli import job_parser, run_job
from pipeline.report import collect_report, render_report


def main(spark, config, args):
    gold, kpis = config.table("gold_conversations"), config.table("gold_daily_kpis")
    delta_io.require_table(spark, gold, "gold")
    delta_io.require_table(spark, kpis, "kpis")
    current = delta_io.version(spark, gold)
    # Both tables must tell the same story: the KPIs must show gold's current data.
    if changed_days(spark, gold, reflected_version(spark, kpis), current) != []:
        raise PipelineError(f"the KPI table is behind gold (version {current}): run the kpis job first")
    data = collect_report(
        spark.read.format("delta").option("versionAsOf", current).load(gold),
        spark.read.format("delta").load(kpis),
        config.lake,
        datetime.now(timezone.utc),
    )
    path = f"{config.lake}/reports/index.html"
    delta_io.write_text(spark, path, render_report(data))
    print(f"report: {data.overview['conversations']} conversations -> {path}")
    return []


def cli(argv: list[str] | None = None) -> int:
    return run_job("report", job_parser("report", __doc__), main, argv, writes=False)


if __name__ == "__main__":
    sys.exit(cli())
