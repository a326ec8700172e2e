#!/usr/bin/env bash
# Build .cds/spark.jsa, the JVM class archive (Class Data Sharing) that
# spark-submit.sh gives the driver: the classes a pipeline run loads, stored
# parsed and verified, so that each run's JVM starts several seconds sooner.
# Made by one run of the `all` job on a small generated scratch lake, which
# dumps the classes it loaded when it exits. The JVM ignores an archive that
# does not match its version or class path (a stale one only costs that time);
# `make setup` rebuilds it when the packages or jars change, `make
# class-archive` by hand (e.g. after a Java upgrade).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
archive="$here/.cds/spark.jsa"
# Dumped next to the archive, then renamed over it: a run starting meanwhile maps
# the old archive or the new one, never half a file (same for two builds at once).
dump="$here/.cds/.spark.jsa.$$"
work=$(mktemp -d)
trap 'rm -rf "$work"; rm -f "$dump"' EXIT
log="$work/run.log"

mkdir -p "$here/.cds"
echo "class_archive.sh: building $archive (one pipeline run on generated data, about 1.5 minutes)"
if ! { "$here/.venv/bin/python" -m tools.generator --lake "$work/lake" --orders 300 &&
       CLASS_ARCHIVE_DUMP="$dump" "$here/spark-submit.sh" all --lake "$work/lake"; } >"$log" 2>&1 ||
   [ ! -s "$dump" ]; then
  tail -n 20 "$log" >&2
  echo "class_archive.sh: error: the training run failed (the end of its log is above)" >&2
  exit 1
fi
mv -f "$dump" "$archive"
