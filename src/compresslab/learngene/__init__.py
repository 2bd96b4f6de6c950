"""Learngene: linear decomposition of ViTs into learngenes and recomposition to any depth (NeurIPS 2024, TLEG)."""

from compresslab.learngene.builders import (
    export_timm,
    load_learngene_run,
    load_recomposed,
    pretrained_vit,
    recomposed,
    save_recomposed,
    timm_create_kwargs,
)
from compresslab.learngene.decomposition import (
    BASES,
    LearngeneViT,
    basis_functions,
    coefficients,
    load_learngenes,
    recompose,
)
from compresslab.learngene.optim import weight_decay_groups

__all__ = [
    "BASES",
    "LearngeneViT",
    "basis_functions",
    "coefficients",
    "export_timm",
    "load_learngene_run",
    "load_learngenes",
    "load_recomposed",
    "pretrained_vit",
    "recompose",
    "recomposed",
    "save_recomposed",
    "timm_create_kwargs",
    "weight_decay_groups",
]
