"""Every job's arguments checked before Spark (pipeline/runtime/check_args.py):
--help answers, a bad option is one line and exit 2, good arguments start nothing."""

import pytest

from jobs import forget as forget_job
from pipeline.runtime import check_args as arguments
from pipeline.runtime import runner

pytestmark = pytest.mark.unit

JOBS = ("all", "bronze", "silver", "gold", "kpis", "report", "optimize", "sql", "serve", "publish", "export_csv",
        "status")


@pytest.fixture(autouse=True)
def restore_environment(monkeypatch):
    monkeypatch.setenv(arguments.CHECK_ONLY, "0")  # check() sets it; monkeypatch puts it back afterwards


@pytest.mark.parametrize("job", JOBS)
def test_help_is_answered(job, capsys):
    assert arguments.check(job, ["--help"]) == arguments.ANSWERED
    assert f"usage: spark-submit.sh {job}" in capsys.readouterr().out


@pytest.mark.parametrize("job", [job for job in JOBS if job != "sql"])  # sql hands unknown options to spark-sql
def test_a_bad_option_is_one_line_and_exit_2(job, capsys):
    assert arguments.check(job, ["--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert err == (f"spark-submit.sh {job}: error: unrecognized arguments: --no-such-option "
                   f"(see spark-submit.sh {job} --help)\n")


@pytest.mark.parametrize("job, option, value", [
    ("all", "--interval", "soon"), ("status", "--runs", "0"), ("serve", "--thrift-port", "-1"),
    ("silver", "--max-quarantined-share", "2"), ("optimize", "--retain-hours", "many"),
])
def test_a_bad_value_is_one_line_and_exit_2(job, option, value, capsys):
    assert arguments.check(job, [option, value]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"spark-submit.sh {job}: error: argument {option}")


def test_a_job_that_checks_its_options_after_parsing_is_checked_too(capsys):
    assert arguments.check("all", ["--continuous", "--full-refresh"]) == 2
    assert "--full-refresh runs once" in capsys.readouterr().err


@pytest.mark.parametrize("job", JOBS)
def test_good_arguments_start_nothing(job, tmp_path, capsys):
    # The lake does not exist: a job that went past parsing would fail on it.
    assert arguments.check(job, ["--lake", str(tmp_path / "nowhere")]) == 0
    assert capsys.readouterr() == ("", "")


def test_forget_takes_customer_ids(tmp_path, capsys):
    assert arguments.check("forget", ["--help"]) == arguments.ANSWERED
    assert "--customer ID[,ID...]" in capsys.readouterr().out
    assert arguments.check("forget", ["--lake", str(tmp_path), "--customer", "2101959, 2101960,-7"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("value, problem", [
    ("", "an empty customer id in ''"), ("12,,13", "an empty customer id in '12,,13'"),
    ("abc", "not a customer id (a whole number such as 2101959): 'abc'"),
    ("51.0", "not a customer id (a whole number such as 2101959): '51.0'"),
    ("12 OR 1=1", "not a customer id (a whole number such as 2101959): '12 OR 1=1'"),
    ("9223372036854775808", "not a customer id (a whole number such as 2101959): '9223372036854775808'"),
])
def test_a_bad_customer_id_is_one_error_line_and_exit_2(value, problem, capsys):
    assert arguments.check("forget", ["--customer", value]) == 2
    assert capsys.readouterr().err == (f"spark-submit.sh forget: error: argument --customer: {problem} "
                                       "(see spark-submit.sh forget --help)\n")


def test_forget_needs_a_customer(capsys):
    assert arguments.check("forget", []) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("spark-submit.sh forget: error: the following arguments are required: --customer")


def test_rewrite_landing_on_a_remote_lake_is_refused_before_spark_starts(monkeypatch, capsys):
    def no_session(*_args, **_kwargs):
        raise AssertionError("a Spark session was started")

    monkeypatch.setattr(runner, "create_session", no_session)
    assert forget_job.cli(["--lake", "s3a://bucket/lake", "--customer", "7", "--rewrite-landing"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "forget: error: --rewrite-landing rewrites local landing files only, not "
        "s3a://bucket/lake/landing/customer_agent_messages: rewrite the files that forget lists at the source"]
