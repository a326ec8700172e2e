"""make serve's choices made before Spark starts: who must authenticate, the
Spark settings of the guard, and the settings list the docs name."""

import re
from types import SimpleNamespace

import pytest

from jobs import serve as serve_job
from pipeline import PipelineError
from pipeline.outputs import serve
from pipeline.runtime.config import REPO_ROOT

pytestmark = pytest.mark.unit


def arguments(bind="127.0.0.1", auth=None, allow_writes=False):
    return SimpleNamespace(bind=bind, auth=auth, allow_writes=allow_writes, connect_port=15002, thrift_port=10000)


@pytest.fixture
def no_credentials(monkeypatch):
    monkeypatch.delenv(serve.TOKEN_VARIABLE, raising=False)
    monkeypatch.delenv(serve.PASSWORD_VARIABLE, raising=False)


def test_loopback_needs_no_credentials_and_the_guard_is_on(no_credentials):
    settings = serve.endpoint_settings(args := arguments())
    assert (args.token, args.password) == (None, None)
    assert settings["spark.sql.extensions"].endswith(",pipeline.sql.ReadOnlyExtension")
    assert settings["spark.connect.grpc.interceptor.classes"] == "pipeline.sql.ConnectGuard"
    assert settings["spark.sql.runSQLOnFiles"] == "false"
    assert "spark.connect.authenticate.token" not in settings
    assert "spark.hadoop.hive.server2.authentication" not in settings


def test_allow_writes_turns_the_guard_off(no_credentials):
    settings = serve.endpoint_settings(arguments(allow_writes=True))
    assert settings["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert "spark.connect.grpc.interceptor.classes" not in settings and "spark.sql.runSQLOnFiles" not in settings


@pytest.mark.parametrize("bind", ["0.0.0.0", "192.168.1.20", "::"])
def test_another_address_without_credentials_is_one_error(no_credentials, bind):
    with pytest.raises(PipelineError) as error:
        serve.endpoint_settings(arguments(bind=bind))
    assert str(error.value) == (f"--bind {bind} lets other machines connect: give --auth FILE (a token and a password "
                                "for this start) or set SPARK_CONNECT_AUTHENTICATE_TOKEN and PIPELINE_SERVE_PASSWORD")


def test_auth_makes_new_credentials_per_start_and_keeps_the_given_ones(no_credentials, monkeypatch, tmp_path):
    first, second = arguments(bind="0.0.0.0", auth="f"), arguments(bind="0.0.0.0", auth="f")
    settings = serve.endpoint_settings(first)
    serve.endpoint_settings(second)
    assert len(first.token) >= 32 and len(first.password) >= 32
    assert first.token != second.token and first.password != second.password
    assert settings["spark.connect.authenticate.token"] == first.token
    assert settings["spark.hadoop.hive.server2.authentication"] == "CUSTOM"

    monkeypatch.setenv(serve.PASSWORD_VARIABLE, "given")
    given = arguments(auth="f")
    serve.endpoint_settings(given)
    assert given.password == "given" and given.token

    file = tmp_path / "serve.auth"
    file.write_text("old")
    file.chmod(0o644)
    serve.write_auth_file(str(file), "t", "p")
    assert file.read_text() == f"{serve.TOKEN_VARIABLE}=t\n{serve.PASSWORD_VARIABLE}=p\n"
    assert file.stat().st_mode & 0o777 == 0o600


def test_both_variables_are_enough_for_another_address(no_credentials, monkeypatch):
    monkeypatch.setenv(serve.TOKEN_VARIABLE, "token")
    monkeypatch.setenv(serve.PASSWORD_VARIABLE, "password")
    serve.endpoint_settings(args := arguments(bind="0.0.0.0"))
    assert (args.token, args.password) == ("token", "password")


def test_help_says_what_allow_writes_means(capsys):
    with pytest.raises(SystemExit):
        serve_job.cli(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "their own code (UDFs, jars, artifacts, scripts) running as this server's user" in text
    assert "--auth FILE" in text


def test_the_docs_name_the_settings_a_client_may_change():
    java = (REPO_ROOT / "jvm/pipeline/sql/Refusal.java").read_text()
    listed = re.search(r"SETTABLE = List\.of\((.*?)\);", java, re.S).group(1)
    settable = re.findall(r'"([^"]+)"', listed)
    docs = " ".join((REPO_ROOT / "docs/operations.md").read_text().split())
    assert "a client may set or reset only " + ", ".join(f"`{key}`" for key in settable[:-1]) + \
        f" and `{settable[-1]}`" in docs
