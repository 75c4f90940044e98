"""Benchmarks: figures and ratios against a baseline taken in the same run."""
