"""Reliability suites (slow): fuzzing every endpoint and form, killing servers mid-load."""
