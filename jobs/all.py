"""All: bronze, silver, gold and kpis one after the other in one Spark application.

This is what `make run-local` runs: the JVM, the session and Delta's caches are
started once instead of four times. Each step still takes its own lock and
writes its own audit row, so the result is the same as running the four jobs
separately (which is what clusters and Airflow do).

--continuous keeps the application running: it checks the landing folders
every --interval and runs the four steps whenever new files have landed, one
line per cycle. SIGTERM or Ctrl-C stops it after the current cycle.
"""

import argparse
import re
import sys

from jobs import STEPS, step_main
from pipeline.lake import landing
from pipeline.runtime.audit import RunStats
from pipeline.runtime.cli import Continuous, add_share_option, job_parser, positive_int, run_job
from pipeline.runtime.config import LANDING_FEEDS


def duration(text: str) -> float:
    """argparse type of --interval: seconds, as 10, 10s, 2m or 0.5s."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", text.strip())
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive duration such as 10s or 2m, got {text!r}")
    return float(match[1]) * (60 if match[2] == "m" else 1)


def waiting(spark, config) -> dict[str, int] | None:
    """{file: modification ms} of the landed files bronze has not taken; None
    when a checkpoint cannot tell. A listing and checkpoint reads, no Spark job."""
    found = {}
    for dataset, table_key in LANDING_FEEDS.items():
        files = landing.waiting_files(spark, config.landing(dataset), config.checkpoint(table_key))
        if files is None:
            return None
        found.update(files)
    return found


def summary(results: dict[str, tuple[list[RunStats], float]]) -> str:
    """One line of a cycle: what each step took in or changed, and its seconds."""
    parts = []
    for step, (stats, seconds) in results.items():
        if step == "bronze":
            done = f"{sum(s.rows_read for s in stats)} files, {sum(s.rows_written for s in stats)} records"
        else:
            done = f"{sum(s.rows_written for s in stats)} rows"
            quarantined = sum(s.rows_quarantined for s in stats)
            done += f" ({quarantined} quarantined)" if quarantined and step == "silver" else ""
        parts.append(f"{step} {done} in {seconds:.1f} s")
    return ", ".join(parts)


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("all", __doc__, full_refresh="rebuild silver, gold and the KPIs from bronze after ingesting")
    add_share_option(parser)
    parser.add_argument("--continuous", action="store_true",
                        help="keep running: a cycle of the four steps whenever new files have landed")
    parser.add_argument("--interval", type=duration, default=10.0, metavar="DURATION",
                        help="with --continuous: how often to look for new files, e.g. 10s or 1m (default: 10s)")
    parser.add_argument("--max-failures", type=positive_int, default=5, metavar="N",
                        help="with --continuous: exit with code 1 when the same error ends N cycles in a row "
                        "(default: 5); each failed cycle is retried after a growing back-off")
    args = parser.parse_args(argv)
    if args.continuous and args.full_refresh:
        parser.error("--full-refresh runs once: run it without --continuous first")
    return run_job("all", parser, {name: step_main(name) for name in STEPS}, argv, continuous=Continuous(waiting, summary))


if __name__ == "__main__":
    sys.exit(cli())
