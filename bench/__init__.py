"""Benchmarks: each `bench/<name>.py` runs the project's path and its baseline in one run."""
