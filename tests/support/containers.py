"""Helpers for the container tests: podman, the locally made base image, the
pipeline image built from the Dockerfile.

Public registries are out of reach on the CI machines, so the image is built on
a Debian bookworm made with debootstrap (scripts/container_base.sh, once per
machine) instead of debian:bookworm-slim. The image is built once per test
session; podman's layer cache makes a rebuild with unchanged code take seconds.
"""

import os
import shutil
import subprocess

from pipeline.runtime.config import REPO_ROOT

PODMAN = shutil.which("podman")
SKIP_REASON = "podman is not installed (.ci/run installs podman, runc and debootstrap for the container tests)"
BASE_IMAGE = "localhost/pipeline-base:bookworm"
IMAGE = "localhost/customer-care-pipeline:test"
# A stand-in for the host user who owns the lake when the tests run as root (CI):
# the image's own user is 1000, so files of this uid can only come from --user.
STAND_IN_UID = 4321


def podman(*args, timeout=600, check=True, **kwargs):
    result = subprocess.run([PODMAN, *args], capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:2])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def make_base(name: str) -> subprocess.CompletedProcess:
    """scripts/container_base.sh for the image `name` (made unless present)."""
    return subprocess.run([str(REPO_ROOT / "scripts" / "container_base.sh"), name],
                          capture_output=True, text=True, timeout=900)


def build_image():
    """The base image (made once per machine), then the pipeline image on it."""
    base = make_base(BASE_IMAGE)
    assert base.returncode == 0, f"container_base.sh failed:\n{base.stderr[-3000:]}"
    # --network=host: builds reach PyPI, Maven Central and Debian's mirror as the host does.
    podman("build", "--network=host", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE, str(REPO_ROOT),
           timeout=1800)
    return IMAGE


def host_user(lake):
    """The (uid, gid) the container runs as, and the podman options that make the
    files it writes in the mounted lake theirs. Root (CI) hands the lake to a
    stand-in user; a rootless user keeps their own id in the container."""
    if os.getuid() == 0:
        for path in [lake, *lake.rglob("*")]:
            os.chown(path, STAND_IN_UID, STAND_IN_UID)
        # --passwd=false: no passwd entry for the uid, as with docker (podman adds
        # one); the image's entrypoint must cope (scripts/container-entrypoint.sh).
        return (STAND_IN_UID, STAND_IN_UID), ["--passwd=false", "--user", f"{STAND_IN_UID}:{STAND_IN_UID}"]
    return (os.getuid(), os.getgid()), ["--userns=keep-id", "--user", f"{os.getuid()}:{os.getgid()}"]
