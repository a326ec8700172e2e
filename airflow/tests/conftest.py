"""Airflow in a scratch home (sqlite metadata DB), pointed at this repo's dags/.

Runs with .airflow-venv's pytest (`make airflow-test`): the pipeline's own
pytest collects only tests/ and never imports Airflow."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"
# Set before Airflow is imported: it reads its configuration once, on import.
os.environ.update(
    AIRFLOW_HOME=tempfile.mkdtemp(prefix="airflow-home-"),
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
)


def pytest_unconfigure(config):
    shutil.rmtree(os.environ["AIRFLOW_HOME"], ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db():
    """The metadata DB, created by `airflow db migrate` as on a real deployment."""
    subprocess.run([AIRFLOW, "db", "migrate"], check=True, capture_output=True, timeout=300)
    return Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
