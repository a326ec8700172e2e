"""Forget: erase customers from every layer of the lake, for good (right to erasure, GDPR art. 17).

Deletes every message whose customerId is one of the given ids from bronze (the
parsed id of each raw record), silver and quarantine, gold's conversations of
their orders (rebuilt from other customers' messages where there are any) and
recomputes the KPIs of their days; then removes the older versions' files,
the change data feed files and the tables' history before the erasure. Their
salted hashes go on _meta/erased_customers: bronze drops their later records.
Orders stay. The landing files that hold their records are listed, or with
--rewrite-landing rewritten without them. The CSV export is rewritten when there is one; with PostgreSQL
settings in the environment (PGDATABASE, ...) the gold tables are published
again, else the PostgreSQL copy must be (make publish). Holds the locks of
every step: stop continuous mode first.
"""

import os
import sys

from pipeline.lake import tables
from pipeline.lake.files import path_exists
from pipeline.outputs import publish
from pipeline.outputs.csv import export_conversations, export_path
from pipeline.runtime.errors import one_line
from pipeline.runtime.arguments import customer_ids, job_parser
from pipeline.runtime.runner import run_job
from pipeline.steps import STEPS, forget

# The jobs whose tables or files forget changes: their runs must wait for it.
LOCKS = (*STEPS, "export_csv", "publish")


def main(spark, config, args):
    stats = forget.run(spark, config, forget.Request(args.customer, args.rewrite_landing))
    if not forget.erased(stats):
        return stats
    target = export_path(config)
    if path_exists(spark, target) and tables.exists(spark, config.table("gold_conversations")):
        rows = export_conversations(spark, config)
        print(f"forget: the CSV export rewritten without them ({rows} rows) -> {target}")
    if not os.environ.get("PGDATABASE"):
        print("forget: a PostgreSQL copy published before still holds their conversations: run 'make publish' "
              "(spark-submit.sh publish) with its PG* settings to replace it")
        return stats
    try:  # the lake is done: a failure here must not make the erasure look failed
        publish.publish_gold(spark, config, publish.settings_from_env())
        print("forget: the PostgreSQL copy published again without them")
    except Exception as err:
        print(f"forget: warning: could not publish to PostgreSQL again ({one_line(err)}): run 'make publish'",
              file=sys.stderr)
    return stats


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("forget", __doc__)
    parser.add_argument("--customer", required=True, type=customer_ids, metavar="ID[,ID...]",
                        help="the customer ids to erase (customerId of the messages)")
    parser.add_argument("--rewrite-landing", action="store_true",
                        help="also rewrite the local landing files that hold their records without them (each in "
                        "its format, same name and modification time); else forget lists those files")
    return run_job("forget", parser, main, argv, other_locks=LOCKS,
                   refuse=lambda config, args: forget.refuse_remote_rewrite(config, args.rewrite_landing))


if __name__ == "__main__":
    sys.exit(cli())
