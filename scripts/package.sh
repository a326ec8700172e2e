#!/usr/bin/env bash
# Build build/pipeline.zip: the `pipeline` and `jobs` packages that spark-submit
# ships with --py-files (a cluster's driver and executors have no copy of this
# repo). The one way it is built: `make package` and spark-submit.sh both run this.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
tmp=$(mktemp build/.pipeline.zip.XXXXXX)
trap 'rm -f "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import pathlib, sys, zipfile

with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    for package in ("pipeline", "jobs"):
        for path in sorted(pathlib.Path(package).rglob("*.py")):  # no __pycache__
            archive.write(path)
PY
# A rename, so that a spark-submit running at the same time never reads half a zip.
chmod 644 "$tmp" && mv -f "$tmp" build/pipeline.zip
