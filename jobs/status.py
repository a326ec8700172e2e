"""Status: the last runs recorded in _meta/pipeline_runs and, for every table
(by its SQL name), its Delta version, row count, last update and operation.
Read-only: no lock, no audit row. On a local lake it reads the Delta logs in
plain Python, no Spark (spark-submit.sh starts no JVM for it); on other file
systems it reads them through Spark."""

import sys

from pipeline.lake.files import local_path
from pipeline.outputs import status
from pipeline.runtime.arguments import job_parser, positive_int
from pipeline.runtime.check_args import checking
from pipeline.runtime.config import load_config
from pipeline.runtime.errors import one_line
from pipeline.runtime.runner import check_lake, run_job


def main(spark, config, args):
    """Status through Spark: lakes on other file systems than the local one."""
    status.show(config, status.last_runs(spark, config.meta("pipeline_runs"), args.runs),
                status.table_status(spark, config), args.runs)
    return []


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("status", __doc__)
    parser.add_argument("--runs", type=positive_int, default=10, help="how many recent runs to list (default: 10)")
    args = parser.parse_args(argv)
    if checking():  # spark-submit.sh's check before Spark starts
        return 0
    try:
        config = load_config(args.conf_env, args.lake)
        check_lake(config.lake, writes=False)
        if local_path(config.lake) is not None:
            status.show(config, status.local_last_runs(config.meta("pipeline_runs"), args.runs),
                        status.local_table_status(config), args.runs)
            return 0
    except Exception as err:  # noqa: BLE001: one line, as every job's errors
        if args.verbose:
            raise
        print(f"status: error: {one_line(err)}", file=sys.stderr)
        return 1
    return run_job("status", parser, main, argv, writes=False, says_done=False)


if __name__ == "__main__":
    sys.exit(cli())
