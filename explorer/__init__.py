"""errseq-explorer: exhaustive exploration of Linux writeback-error reporting (errseq_t)."""

__version__ = "0.1.0"
