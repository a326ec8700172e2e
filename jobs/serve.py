"""SQL endpoints on the lake in one long-lived Spark application: the Thrift
JDBC/ODBC server for BI tools and beeline (jdbc:hive2://127.0.0.1:10000) and
Spark Connect for notebooks and scripts (sc://127.0.0.1:15002). The lake's
tables have the names of `make sql`; tables created later are registered within
--refresh seconds, and every query reads the latest committed version. Read-only
unless --allow-writes; bound to 127.0.0.1 unless --bind says otherwise (no
authentication: see docs/operations.md). SIGTERM or Ctrl-C stops it."""

import ipaddress
import os
import signal
import socket
import sys
import threading

from pipeline import PipelineError
from pipeline.lake import catalog
from pipeline.runtime.arguments import job_parser, positive_int
from pipeline.runtime.errors import log_traceback, one_line
from pipeline.runtime.runner import run_job

READ_ONLY_EXTENSION = "pipeline.sql.ReadOnlyExtension"  # jvm/, built into build/sql-guard.jar


def endpoint_settings(args) -> dict[str, str]:
    """Spark settings of the server's session, fixed when it starts."""
    extensions = "io.delta.sql.DeltaSparkSessionExtension"
    return {
        **catalog.catalog_settings(),
        "spark.sql.extensions": extensions if args.allow_writes else f"{extensions},{READ_ONLY_EXTENSION}",
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": args.bind,
        "spark.connect.grpc.binding.port": str(args.connect_port),
        "spark.hadoop.hive.server2.thrift.bind.host": args.bind,
        "spark.hadoop.hive.server2.thrift.port": str(args.thrift_port),
        "spark.hadoop.hive.server2.transport.mode": "binary",
    }


def listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def write_pid_file(path: str) -> None:
    """This process (SIGTERM stops it cleanly) and its parent, the JVM: a stop
    waits for both, so that the ports are free when it returns."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{os.getpid()}\n{os.getppid()}\n")


def register_new_tables(spark, tables, registered) -> None:
    """Name the tables created since the last look; a failure (a table being
    replaced at that moment, a file system hiccup) is retried at the next look."""
    try:
        for name in catalog.register_new(spark, tables, registered):
            print(f"serve: registered {name}", flush=True)
    except Exception as err:
        print(f"serve: warning: tables not registered this time: {one_line(err)}{log_traceback()}", flush=True)


def main(spark, config, args):
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if not args.allow_writes:  # the server's own session registers the tables
        spark._jvm.pipeline.sql.ReadOnlyExtension.trust(spark._jsparkSession)
    tables, registered = config.named_tables(), set()
    catalog.register_new(spark, tables, registered)
    thrift = spark._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    server = thrift.startWithContext(spark._jsparkSession.sqlContext())
    host = "127.0.0.1" if args.bind in ("0.0.0.0", "::") else args.bind
    for port in (args.thrift_port, args.connect_port):
        if not listening(host, port):
            server.stop()
            raise PipelineError(f"nothing listens on {host}:{port} after the start (details in the log)")
    try:
        if args.pid_file:
            write_pid_file(args.pid_file)
        mode = "read-write" if args.allow_writes else "read-only"
        print(f"serve: {mode} SQL on {config.lake} ({len(registered)} tables): JDBC jdbc:hive2://{args.bind}:"
              f"{args.thrift_port}, Spark Connect sc://{args.bind}:{args.connect_port}; stop with make serve-stop "
              f"or kill -TERM {os.getpid()}", flush=True)
        if not ipaddress.ip_address(args.bind).is_loopback:
            print(f"serve: warning: listening on {args.bind} without authentication; put LDAP/Kerberos or a proxy "
                  "in front (docs/operations.md#sql-endpoints)", flush=True)
        while not stop.wait(args.refresh):
            register_new_tables(spark, tables, registered)
    finally:
        server.stop()
        # Spark Connect's and Thrift's threads would keep the JVM alive after this process ends.
        spark.stop()
        if args.pid_file and os.path.exists(args.pid_file):
            os.unlink(args.pid_file)
    print("serve: stopped", flush=True)
    return []


def address(text: str) -> str:
    """argparse type of --bind: an IP address."""
    ipaddress.ip_address(text)  # a ValueError makes argparse report an invalid value
    return text


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("serve", __doc__)
    parser.add_argument("--thrift-port", type=positive_int, default=10000, help="JDBC/ODBC port (default: 10000)")
    parser.add_argument("--connect-port", type=positive_int, default=15002, help="Spark Connect port (default: 15002)")
    parser.add_argument("--bind", type=address, default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--allow-writes", action="store_true",
                        help="let clients run DDL and writes (default: refused with one line)")
    parser.add_argument("--refresh", type=positive_int, default=10, metavar="SECONDS",
                        help="how often tables created after the start are looked for (default: 10)")
    parser.add_argument("--pid-file", help="write the server's pid here when it is ready; removed at the end")
    return run_job("serve", parser, main, argv, writes=False, settings=endpoint_settings, says_done=False)


if __name__ == "__main__":
    sys.exit(cli())
