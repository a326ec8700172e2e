# The pipeline in one image: Java 17, Python 3.11, the pinned PySpark and Delta
# packages, Delta's and PostgreSQL's jars, the jobs and build/pipeline.zip.
#   docker build -t customer-care-pipeline .            (or: make image)
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/datalake:/lake" customer-care-pipeline all --lake /lake
# The same image is the Spark master, worker and pipeline service of compose.yaml.
# Layers go from the least to the most often changed: system packages, Python
# packages (pyproject.toml), jars (scripts/delta-jars.pom.xml), then the code.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
# bookworm-slim leaves out /usr/share/man, where the JRE's postinst puts links.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless python3 python3-venv ca-certificates \
    libnss-wrapper \
 && rm -rf /var/lib/apt/lists/*
# The user the jobs run as by default; `--user UID:GID` runs them as another
# (e.g. the owner of a mounted lake), see docs/containers.md.
# /lake belongs to it, so that a new named volume mounted there does too.
RUN useradd --uid 1000 --user-group --create-home --shell /bin/bash pipeline \
 && mkdir /lake && chown pipeline:pipeline /lake
WORKDIR /opt/pipeline
# Only the pinned dependencies of pyproject.toml, so that this layer stays
# cached while the code changes. spark-submit.sh finds them in .venv/.
COPY pyproject.toml ./
RUN python3 -m venv .venv \
 && python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' >/tmp/requirements.txt \
 && .venv/bin/pip install -q --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Delta's and the JDBC driver's jars, resolved by Maven as `make setup` does;
# Maven itself stays in this stage, out of the image.
FROM runtime AS jars
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends maven \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/fetch_jars.sh scripts/delta-jars.pom.xml scripts/
RUN PYTHON=.venv/bin/python scripts/fetch_jars.sh

FROM runtime
COPY --from=jars /opt/pipeline/.jars .jars
COPY spark-submit.sh ./
COPY conf conf
COPY scripts/package.sh scripts/container-entrypoint.sh scripts/compose-pipeline.sh scripts/
COPY jobs jobs
COPY pipeline pipeline
# build/pipeline.zip is made here, once; PIPELINE_PACKAGED tells spark-submit.sh
# to use it as it is (the image's code cannot change, and the user may not
# write here). logs/ takes the log files of runs whose lake is not a local folder.
RUN scripts/package.sh && mkdir -m 1777 logs
# SPARK_WORKER_DIR: where a standalone worker (compose.yaml) keeps its executors' files.
ENV PIPELINE_PACKAGED=1 PATH=/opt/pipeline/.venv/bin:$PATH SPARK_WORKER_DIR=/tmp/spark-worker
USER pipeline
# spark-submit.sh, after giving a uid without a passwd entry one (--user UID:GID).
ENTRYPOINT ["/opt/pipeline/scripts/container-entrypoint.sh"]
CMD ["--help"]
