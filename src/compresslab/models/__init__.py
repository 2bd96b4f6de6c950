"""Generic LightningModules, KD losses and LR schedules shared by the method packages (nets: compresslab.nets)."""

from compresslab.models.classifier import ClassifierModule
from compresslab.models.distill import DistillationModule, find_run_dir, load_run_net, load_table_run_net
from compresslab.models.kd import kd_loss, soft_kl
from compresslab.models.schedules import linear_warmup_decay, warmup_cosine
from compresslab.nets.small import MLP, ConvNet  # kept so that runs saved before the move load

__all__ = [
    "MLP",
    "ClassifierModule",
    "ConvNet",
    "DistillationModule",
    "find_run_dir",
    "kd_loss",
    "linear_warmup_decay",
    "load_run_net",
    "load_table_run_net",
    "soft_kl",
    "warmup_cosine",
]
