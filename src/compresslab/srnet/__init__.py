"""SRNet (Liu et al., NeurIPS 2022): sparse and robust subnetworks of pre-trained language models.

:mod:`.masks` binary-mask parametrizations, sparsity control and schedules, mask files; :mod:`.losses` CE / PoE /
reweighting / conf-reg; :mod:`.bias` bias-only models and per-example prediction files; :mod:`.nets` the
transformers pair classifier; :mod:`.module` fine-tuning and mask-training LightningModules; :mod:`.imp` IMP.
"""

from compresslab.srnet.imp import IMPModule, magnitude_prune
from compresslab.srnet.losses import LOSSES, conf_reg_loss, get_loss, poe_loss, reweight_loss
from compresslab.srnet.masks import (
    BinaryMask,
    FixedMask,
    SparsitySchedule,
    attach_fixed_masks,
    attach_masks,
    load_mask_file,
    mask_state_dict,
    realised_sparsity,
    recalibrate,
    save_masks,
    target_linears,
)
from compresslab.srnet.module import MaskTrainingModule, NLUClassifier, linear_warmup_decay
from compresslab.srnet.nets import PairClassifier

__all__ = [
    "LOSSES",
    "BinaryMask",
    "FixedMask",
    "IMPModule",
    "MaskTrainingModule",
    "NLUClassifier",
    "PairClassifier",
    "SparsitySchedule",
    "attach_fixed_masks",
    "attach_masks",
    "conf_reg_loss",
    "get_loss",
    "linear_warmup_decay",
    "load_mask_file",
    "magnitude_prune",
    "mask_state_dict",
    "poe_loss",
    "realised_sparsity",
    "recalibrate",
    "reweight_loss",
    "save_masks",
    "target_linears",
]
