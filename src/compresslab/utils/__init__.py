"""Shared helpers: errors, config schemas and validation, job plumbing, atomic I/O, logging."""

from compresslab.utils.errors import CompresslabError, ConfigError, DataError
from compresslab.utils.io import atomic_write_json, atomic_write_text
from compresslab.utils.logging import get_logger

__all__ = [
    "CompresslabError",
    "ConfigError",
    "DataError",
    "atomic_write_json",
    "atomic_write_text",
    "get_logger",
]
