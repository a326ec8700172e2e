"""Thin entry points: each job module has main(spark, config, args) and cli(argv)."""
