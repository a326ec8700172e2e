"""The jobs spark-submit.sh runs, one module each: argument parsing around a
step of pipeline.steps or an output of pipeline.outputs. No job imports another."""
