"""A lake on a full disk: the failing write ends with one line, every table stays
readable at its last version, and the rerun with space completes the work."""

import subprocess

import pytest

from tools.generator import generate
from tests.support.lakes import assert_gold_matches_reference, run_pipeline, submit, versions

pytestmark = pytest.mark.e2e


@pytest.fixture
def small_disk(tmp_path):
    """A 1.5 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_the_rerun_with_space_completes(spark, small_disk):
    lake = small_disk
    generate(str(lake), orders=400, seed=2)  # the landing files take 0.5 MiB, its tables about 2 MiB
    result = submit("all", "--lake", str(lake))
    assert result.returncode == 1
    output = result.stdout + result.stderr  # spark-submit merges the driver's stderr into its stdout
    errors = [line for line in output.splitlines() if "error:" in line]
    assert len(errors) == 1 and "No space left on device" in errors[0], output[-3000:]
    assert "Traceback" not in output and "\tat " not in output
    written = versions(spark, lake)  # every table reads at its last version
    assert written["bronze_messages"] >= 1

    subprocess.run(["mount", "-o", "remount,size=64m", str(lake)], check=True)
    run_pipeline(lake)
    assert_gold_matches_reference(spark, lake)
