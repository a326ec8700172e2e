"""Bad arguments and missing paths: one line on stderr and a non-zero exit."""

import subprocess

import pytest

from jobs import serve, status
from pipeline.runtime.config import REPO_ROOT

pytestmark = pytest.mark.e2e


def submit(*args):
    return subprocess.run(
        [str(REPO_ROOT / "spark-submit.sh"), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def error_lines(result):
    # spark-submit merges the Python driver's stderr into its stdout.
    output = result.stdout + result.stderr
    return [line for line in output.splitlines() if "error" in line.lower()]


def test_help_lists_jobs_and_options():
    result = submit("--help")
    assert result.returncode == 0
    for word in ("bronze", "silver", "gold", "--lake", "--master", "--conf-env"):
        assert word in result.stdout


def test_unknown_job():
    result = submit("platinum")
    assert result.returncode == 2
    assert error_lines(result) == ["spark-submit.sh: error: unknown job 'platinum' (choose from: all bronze silver gold kpis report optimize sql serve publish export_csv forget status)"]


def test_missing_lake(tmp_path):
    result = submit("bronze", "--lake", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert error_lines(result) == [f"bronze: error: lake folder not found: {tmp_path / 'nowhere'}"]
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_config_environment(tmp_path):
    result = submit("silver", "--lake", str(tmp_path), "--conf-env", "nope")
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith("silver: error: unknown config environment 'nope'")


def test_missing_landing_folder_and_missing_upstream_tables(tmp_path):
    bronze = submit("bronze", "--lake", str(tmp_path))
    assert bronze.returncode == 1
    assert error_lines(bronze) == [f"bronze: error: landing folder not found: {tmp_path}/landing/customer_agent_messages"]
    gold = submit("gold", "--lake", str(tmp_path))
    assert gold.returncode == 1
    [line] = error_lines(gold)
    assert line.endswith("run the silver job first")


def test_empty_landing_folders_are_not_an_error(tmp_path):
    for dataset in ("customer_agent_messages", "orders"):
        (tmp_path / "landing" / dataset).mkdir(parents=True)
    result = submit("bronze", "--lake", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "nothing new" in result.stdout


def test_counts_must_be_positive(capsys):
    for cli, option in ((status.cli, "--runs"), (serve.cli, "--refresh")):
        with pytest.raises(SystemExit) as exit_:
            cli([option, "0"])
        assert exit_.value.code == 2
        assert f"argument {option}: must be a whole number of at least 1, got '0'" in capsys.readouterr().err
