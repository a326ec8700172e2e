#!/usr/bin/env bash
# Build build/sql-guard.jar from jvm/: the Spark SQL extension that keeps the
# endpoints of `make serve` read-only (jvm/pipeline/sql/ReadOnlyExtension.java).
# Compiled against the pinned pyspark's jars; rebuilt only when the source is newer.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=build/sql-guard.jar
sources=$(find jvm -name '*.java')
if [ -f "$jar" ] && [ -z "$(find jvm -name '*.java' -newer "$jar")" ]; then
  exit 0
fi
command -v javac >/dev/null || { echo "error: javac not found: a JDK 17 is needed to build $jar" >&2; exit 1; }
spark_jars=$("${PYTHON:-.venv/bin/python}" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
javac --release 17 -d "$tmp/classes" -cp "$spark_jars/*" $sources
mkdir -p build
jar cf "$tmp/sql-guard.jar" -C "$tmp/classes" .
mv -f "$tmp/sql-guard.jar" "$jar"
