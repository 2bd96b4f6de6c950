"""Generic LightningModules and small networks shared by the method packages."""

from compresslab.models.classifier import ClassifierModule
from compresslab.models.distill import (
    DistillationModule,
    find_run_dir,
    kd_loss,
    load_run_net,
    load_table_run_net,
    warmup_cosine,
)
from compresslab.models.nets import MLP, ConvNet

__all__ = [
    "MLP",
    "ClassifierModule",
    "ConvNet",
    "DistillationModule",
    "find_run_dir",
    "kd_loss",
    "load_run_net",
    "load_table_run_net",
    "warmup_cosine",
]
