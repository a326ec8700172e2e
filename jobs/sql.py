"""Ad-hoc SQL on the lake in Spark's own spark-sql shell: line editing, history,
multi-line statements, -e "SQL", -f file.sql, -S (silent), --hiveconf
hive.cli.print.header=true for column names. Delta is configured and the lake's
tables have names: gold.customer_agent_conversations, silver.orders,
quarantine.landing_files, meta.pipeline_runs, ... (SHOW TABLES IN gold).
Options other than the ones below go to spark-sql (spark-sql --help lists them)."""

import os
import shlex
import sys

from pipeline.lake import catalog
from pipeline.outputs import sql_shell
from pipeline.runtime.arguments import job_parser
from pipeline.runtime.check_args import checking
from pipeline.runtime.errors import one_line
from pipeline.runtime.runner import check_lake
from pipeline.runtime.config import load_config
from pipeline.runtime.session import session_settings


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("sql", __doc__)
    parser.allow_abbrev = False  # --conf is spark-sql's, not an abbreviation of --conf-env
    args, shell_args = parser.parse_known_args(argv)
    if checking():  # spark-submit.sh's check before Spark starts
        return 0
    submit = shlex.split(os.environ.get("PIPELINE_SUBMIT", ""))
    if not submit:
        print("sql: error: run it through spark-submit.sh sql (or make sql)", file=sys.stderr)
        return 2
    try:
        config = load_config(args.conf_env, args.lake)
        check_lake(config.lake, writes=False)
        settings = session_settings(config, catalog.catalog_settings())
        tables = sql_shell.existing_tables(config, submit)
        init = sql_shell.write_init_file(config, tables, settings["spark.sql.warehouse.dir"])
    except Exception as err:
        print(f"sql: error: {one_line(err)}", file=sys.stderr)
        return 1
    confs = [f"--conf={key}={value}" for key, value in settings.items()]
    if args.verbose:
        confs.append("--verbose")
    command = [*submit, *confs, "--class", sql_shell.SQL_SHELL, "-i", init, *shell_args]
    if not {"-e", "-f"} & set(shell_args):  # the interactive shell keeps the terminal
        os.execvp(command[0], command)
    with open(init, encoding="utf-8") as statements:
        hidden = sum(1 for _ in statements) if "-S" not in shell_args else None
    return sql_shell.run_statements(command, hidden)


if __name__ == "__main__":
    sys.exit(main())
