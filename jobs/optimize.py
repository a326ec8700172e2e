"""Maintenance: compact small files and vacuum old ones in every table of the lake.

OPTIMIZE rewrites many small files into few large ones (Z-ordered by order_id
where lookups go by order: silver messages); gold, which has a write layout, is
rewritten in it instead (sorted by order_id in each date). VACUUM then deletes files
no longer referenced and older than the retention (default 168 hours, Delta's
safe minimum: readers and time travel within a week keep working).
"""

import sys

from pipeline.lake import tables
from pipeline.runtime.audit import RunStats
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.runner import run_job

Z_ORDERED = {"silver_messages"}


def main(spark, config, args):
    stats = []
    for key in sorted(config.tables):
        path = config.table(key)
        if not tables.exists(spark, path):
            continue
        z_order = ("order_id",) if key in Z_ORDERED else ()
        metrics = tables.optimize(spark, path, z_order, args.retain_hours)
        print(
            f"optimize {key}: {metrics['numFilesRemoved']} files compacted into {metrics['numFilesAdded']}, "
            f"vacuumed files older than {args.retain_hours} h"
        )
        stats.append(RunStats(key, rows_written=metrics["numFilesAdded"]))
    return stats


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("optimize", __doc__)
    parser.add_argument(
        "--retain-hours", type=float, default=168.0, help="keep unreferenced files this recent (default: 168)"
    )
    return run_job("optimize", parser, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
