"""The SQL endpoints of `serve`: the Thrift JDBC/ODBC server and Spark Connect
in one Spark application, read-only unless asked otherwise, with the lake's
tables by name and the ones created later registered as they appear."""

import ipaddress
import os
import secrets
import signal
import socket
import threading

from pipeline import PipelineError
from pipeline.lake import catalog
from pipeline.runtime.errors import log_traceback, one_line

# jvm/pipeline/sql/, built into build/sql-guard.jar
READ_ONLY_EXTENSION = "pipeline.sql.ReadOnlyExtension"
CONNECT_GUARD = "pipeline.sql.ConnectGuard"
PASSWORD_CHECK = "pipeline.sql.PasswordAuthentication"
TOKEN_VARIABLE = "SPARK_CONNECT_AUTHENTICATE_TOKEN"  # Spark's own name: its server and client read it too
PASSWORD_VARIABLE = "PIPELINE_SERVE_PASSWORD"


def credentials(args) -> tuple[str | None, str | None]:
    """The Spark Connect token and the JDBC password of this start: from the
    environment, else (with --auth) new ones; a non-loopback --bind needs both."""
    token, password = os.environ.get(TOKEN_VARIABLE) or None, os.environ.get(PASSWORD_VARIABLE) or None
    if args.auth:
        token, password = token or secrets.token_urlsafe(24), password or secrets.token_urlsafe(24)
    if not ipaddress.ip_address(args.bind).is_loopback and not (token and password):
        raise PipelineError(f"--bind {args.bind} lets other machines connect: give --auth FILE (a token and a "
                            f"password for this start) or set {TOKEN_VARIABLE} and {PASSWORD_VARIABLE}")
    return token, password


def endpoint_settings(args) -> dict[str, str]:
    """Spark settings of the server's session, fixed when it starts; settles
    args.token and args.password (credentials) on the way."""
    args.token, args.password = credentials(args)
    extensions = "io.delta.sql.DeltaSparkSessionExtension"
    guard = {} if args.allow_writes else {
        "spark.sql.extensions": f"{extensions},{READ_ONLY_EXTENSION}",
        "spark.connect.grpc.interceptor.classes": CONNECT_GUARD,
        # Path-based SQL (text.`/etc/passwd`) is off; the guard also refuses DataFrame reads of other paths.
        "spark.sql.runSQLOnFiles": "false",
        # A refusal reaches a Connect client as its one line, without the server's stack trace.
        "spark.sql.connect.serverStacktrace.enabled": "false",
        "spark.sql.pyspark.jvmStacktrace.enabled": "false",
    }
    token = {"spark.connect.authenticate.token": args.token} if args.token else {}
    password = {"spark.hadoop.hive.server2.authentication": "CUSTOM"} if args.password else {}
    return {
        **catalog.catalog_settings(),
        "spark.sql.extensions": extensions,
        **guard,
        **token,
        **password,
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


def write_auth_file(path: str, token: str, password: str) -> None:
    """The credentials for clients, readable by this user only, as shell assignments
    (`set -a; . FILE` before make beeline or a Spark Connect client)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(f"{TOKEN_VARIABLE}={token}\n{PASSWORD_VARIABLE}={password}\n")


def register_new_tables(spark, tables, registered) -> None:
    """Name the tables created since the last look; a failure (a table being
    replaced at that moment, a file system hiccup) is retried at the next look."""
    try:
        for name in catalog.register_new(spark, tables, registered):
            print(f"serve: registered {name}", flush=True)
    except Exception as err:
        print(f"serve: warning: tables not registered this time: {one_line(err)}{log_traceback()}", flush=True)


def serve(spark, config, args) -> None:
    """Serve until SIGTERM or SIGINT; `args` are the job's options."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if not args.allow_writes:  # the server's own session registers the tables
        spark._jvm.pipeline.sql.ReadOnlyExtension.trust(spark._jsparkSession)
    if args.password:  # before the endpoint opens: until then every login fails
        spark._jvm.pipeline.sql.PasswordAuthentication.expect(args.password)
        # Hive finds the class in a HiveConf of its own, made from system properties, not Spark's settings.
        spark._jvm.java.lang.System.setProperty("hive.server2.custom.authentication.class", PASSWORD_CHECK)
    if args.auth:
        write_auth_file(args.auth, args.token, args.password)
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
        if args.auth:
            print(f"serve: clients authenticate with the token and password in {args.auth} (mode 600)", flush=True)
        if args.allow_writes:
            print("serve: warning: --allow-writes: clients can change the lake, read any file and run their own "
                  "code as this user", flush=True)
        while not stop.wait(args.refresh):
            register_new_tables(spark, tables, registered)
    finally:
        server.stop()
        # Spark Connect's and Thrift's threads would keep the JVM alive after this process ends.
        spark.stop()
        if args.pid_file and os.path.exists(args.pid_file):
            os.unlink(args.pid_file)
    print("serve: stopped", flush=True)
