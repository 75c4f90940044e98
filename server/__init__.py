"""Grove: an experiment server for oTree-format apps."""

__version__ = "0.1.0"
