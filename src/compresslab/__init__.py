"""compresslab: model compression research on Lightning + Hydra."""

__version__ = "0.1.0"
