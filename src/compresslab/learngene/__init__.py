"""Learngene: linear decomposition of ViTs into learngenes and recomposition to any depth (NeurIPS 2024, TLEG)."""

from compresslab.learngene.builders import load_learngene_run, load_recomposed, recomposed, save_recomposed
from compresslab.learngene.decomposition import (
    BASES,
    LearngeneViT,
    basis_functions,
    coefficients,
    load_learngenes,
    recompose,
)

__all__ = [
    "BASES",
    "LearngeneViT",
    "basis_functions",
    "coefficients",
    "load_learngene_run",
    "load_learngenes",
    "load_recomposed",
    "recompose",
    "recomposed",
    "save_recomposed",
]
