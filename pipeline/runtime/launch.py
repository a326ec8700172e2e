"""Run a job file as spark-submit.sh starts local jobs (Python first):

    python pipeline/runtime/launch.py jobs/<job>.py [job options]

Until the runner takes over (pipeline.runtime.runner.run_job: imports, argument
parsing), Ctrl-C ends the job with one line instead of a KeyboardInterrupt
traceback from whatever module was being imported; nothing has started yet.
Run as a script, so that nothing is imported before the handler is in place.
"""

import os
import runpy
import signal
import sys


def main() -> None:
    job_file, *options = sys.argv[1:]
    job = os.path.basename(job_file).removesuffix(".py")

    def interrupted(_signum, _frame):
        os.write(2, f"{job}: interrupted before it started\n".encode())
        os._exit(0 if "--continuous" in options else 130)

    signal.signal(signal.SIGINT, interrupted)
    if sys.flags.no_site:  # started with -S, so that the handler is in place sooner (see spark-submit.sh)
        import site
        site.main()
    sys.argv = [job_file, *options]
    sys.path[0] = os.path.dirname(os.path.abspath(job_file))  # as `python jobs/<job>.py` would have it
    try:
        runpy.run_path(job_file, run_name="__main__")
    finally:
        wait_for_the_jvm()


def wait_for_the_jvm(seconds: float = 120) -> None:
    """End the JVM that pyspark started before the driver ends: it stops when its
    stdin closes, runs Spark's shutdown hooks and, for make setup, writes its class
    archive; whoever waits for the job must not find it still running."""
    pyspark = sys.modules.get("pyspark")
    process = getattr(getattr(pyspark, "SparkContext", None), "_gateway", None) and pyspark.SparkContext._gateway.proc
    if process and process.poll() is None:
        process.stdin.close()
        try:
            process.wait(timeout=seconds)
        except Exception:  # noqa: BLE001 - a JVM that does not stop must not hang the job
            process.kill()


if __name__ == "__main__":
    main()
