"""`make run-local` on the bundled sample prints only the pipeline's own lines:
no JVM notice (jdk.incubator.vector), no Spark banner or warning."""

import os
import re
import shutil
import subprocess

import pytest

from pipeline.runtime.config import REPO_ROOT

pytestmark = pytest.mark.e2e

# bronze customer_agent_messages: 6 new files, ...; silver orders: read ...; gold: succeeded in 9.1 s; all: ...
PIPELINE_LINE = re.compile(r"(bronze|silver|gold|kpis|all)( [a-z_]+)?: \S.*")


def test_the_sample_run_prints_only_the_pipelines_lines(tmp_path):
    lake = tmp_path / "lake"
    for dataset in ("customer_agent_messages", "orders"):  # the sample-* files only, as in a fresh checkout
        (lake / "landing" / dataset).mkdir(parents=True)
        for sample in (REPO_ROOT / "datalake" / "landing" / dataset).glob("sample-*"):
            shutil.copy(sample, lake / "landing" / dataset)
    # As a user runs it: without the suite's JAVA_TOOL_OPTIONS, which the JVM would announce.
    result = subprocess.run([str(REPO_ROOT / "spark-submit.sh"), "all", "--lake", str(lake)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=600, env=os.environ)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if not PIPELINE_LINE.fullmatch(line)] == []
    assert lines[-1].startswith("all: succeeded in ")
