"""Report: a static HTML page of the gold tables at <lake>/reports/index.html.

Conversations per day, the first-response delay distribution, median and p90
per city, never-answered and reassigned shares per day and the slowest first
responses. Inline CSS and SVG only: it opens offline, from any file share or
mail attachment. Written whole (temporary file and rename); run it after kpis.
"""

import sys
from datetime import datetime, timezone

from pipeline import PipelineError
from pipeline.lake import incremental, tables
from pipeline.lake.files import write_text
from pipeline.outputs.report import collect_report
from pipeline.outputs.report_page import render_report
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job
from pipeline.transforms.kpis import WATERMARK


def main(spark, config, args):
    gold, kpis = config.table("gold_conversations"), config.table("gold_daily_kpis")
    tables.require_table(spark, gold, "gold")
    tables.require_table(spark, kpis, "kpis")
    current = tables.version(spark, gold)
    # Both tables must tell the same story: the KPIs must show gold's current data.
    reflected = (incremental.last_watermark(spark, kpis, WATERMARK) or {}).get(WATERMARK)
    if incremental.changed_partitions(spark, gold, reflected, current, "conversation_date") != []:
        raise PipelineError(f"the KPI table is behind gold (version {current}): run the kpis job first")
    data = collect_report(tables.read(spark, gold, current), tables.read(spark, kpis), config.lake, datetime.now(timezone.utc))
    path = f"{config.lake}/reports/index.html"
    write_text(spark, path, render_report(data))
    print(f"report: {data.overview['conversations']} conversations -> {path}")
    return []


def cli(argv: list[str] | None = None) -> int:
    return run_job("report", job_parser("report", __doc__), main, argv, writes=False)


if __name__ == "__main__":
    sys.exit(cli())
