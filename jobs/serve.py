"""SQL endpoints on the lake in one long-lived Spark application: the Thrift
JDBC/ODBC server for BI tools and beeline (jdbc:hive2://127.0.0.1:10000) and
Spark Connect for notebooks and scripts (sc://127.0.0.1:15002). The lake's
tables have the names of `make sql`; tables created later are registered within
--refresh seconds, and every query reads the latest committed version. Read-only
unless --allow-writes: clients read the lake's tables and nothing else, change
only a few harmless settings and run none of their own code. Bound to 127.0.0.1
unless --bind says otherwise; another address needs a Spark Connect token and a
JDBC password (--auth). Threat model: docs/operations.md#sql-endpoints.
SIGTERM or Ctrl-C stops it."""

import sys

from pipeline.outputs import serve
from pipeline.runtime.arguments import ip_address, job_parser, positive_int
from pipeline.runtime.runner import run_job


def main(spark, config, args):
    serve.serve(spark, config, args)
    return []


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("serve", __doc__)
    parser.add_argument("--thrift-port", type=positive_int, default=10000, help="JDBC/ODBC port (default: 10000)")
    parser.add_argument("--connect-port", type=positive_int, default=15002, help="Spark Connect port (default: 15002)")
    parser.add_argument("--bind", type=ip_address, default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface, which "
                             "needs --auth)")
    parser.add_argument("--allow-writes", action="store_true",
                        help="trust every client completely: DDL and writes, reads of any file and other sources, "
                             "any setting, and their own code (UDFs, jars, artifacts, scripts) running as this "
                             "server's user (default: all refused with one line)")
    parser.add_argument("--auth", metavar="FILE",
                        help=f"require a Spark Connect token and a JDBC password: ${serve.TOKEN_VARIABLE} and "
                             f"${serve.PASSWORD_VARIABLE} when set, else new ones for this start; written to FILE "
                             "(mode 600) for the clients. Needed with a non-loopback --bind unless both variables are set")
    parser.add_argument("--refresh", type=positive_int, default=10, metavar="SECONDS",
                        help="how often tables created after the start are looked for (default: 10)")
    parser.add_argument("--pid-file", help="write the server's pid here when it is ready; removed at the end")
    return run_job("serve", parser, main, argv, writes=False, settings=serve.endpoint_settings, says_done=False)


if __name__ == "__main__":
    sys.exit(cli())
