"""Benchmarks: each prints its figure and its ratio to a ceiling measured in the same run."""
