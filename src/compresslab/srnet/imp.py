"""Iterative magnitude pruning (IMP), with and without rewinding: SRNet's baseline (srnet.md §3.6, App. A.1.1).

Algorithm (paper Algo 1; official ``trainer_imp.py``), on the same Linear layers as the masks (pooler yes,
classifier no, as the official IMP):

* train the weights (fine-tuning loss: CE or a debiasing loss);
* every Δt = ``prune_every``·t_max steps prune Δs = ``prune_step`` (10 %) of the *original* weights of every
  matrix — local L1: each matrix keeps the (1 − s_r)·numel largest |W| among its surviving weights, s_r =
  min(r·Δs, s) after round r — until the target sparsity s is reached;
* after each pruning the optimiser state is reset (the official code re-creates the optimiser) and, with
  ``rewind``, the surviving weights are reset to their values at the start of training (the pre-trained θ_pt
  when IMP starts from the pre-trained model: "imp-rw").

Masks are :class:`~compresslab.srnet.masks.FixedMask` parametrizations (all ones at the start); the best mask at
the target sparsity is written to ``best_mask.pt`` like mask training's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from compresslab.srnet.masks import (
    FixedMask,
    attach_fixed_masks,
    check_sparsity,
    pruned_count,
    target_linears,
)
from compresslab.srnet.module import NLUClassifier, pruning_arguments
from compresslab.srnet.topk import exact_topk_keep
from compresslab.utils.errors import ConfigError
from compresslab.utils.logging import get_logger

log = get_logger(__name__)


@torch.no_grad()
def magnitude_prune(linears: Mapping[str, nn.Linear], sparsity: float) -> None:
    """Local L1 pruning to ``sparsity``: in each masked Linear keep the largest-|W| surviving weights.

    Already pruned weights stay pruned (their |W| counts as −1), so sparsity only grows.
    """
    sparsity = check_sparsity(sparsity)
    for linear in linears.values():
        fixed = next(p for p in linear.parametrizations.weight if isinstance(p, FixedMask))
        w = linear.parametrizations.weight.original  # [d_out, d_in]
        score = w.detach().abs().float().masked_fill(~fixed.mask, -1.0)
        fixed.mask.copy_(exact_topk_keep(score, pruned_count(w.numel(), sparsity)))


def imp_rounds(sparsity: float, prune_step: float) -> int:
    """Number of pruning rounds to reach ``sparsity`` in steps of ``prune_step``."""
    return math.ceil(sparsity / prune_step - 1e-9) if sparsity > 0 else 0


class IMPModule(NLUClassifier):
    """IMP (with optional rewinding) as a LightningModule; see the module docstring.

    Args (beyond :class:`NLUClassifier`'s):
        sparsity: target sparsity s ∈ [0, 1).
        prune_step: Δs per round (0.1).
        prune_every: Δt as a fraction of the training steps (0.1).
        rewind: reset surviving weights to their start-of-training values after each pruning (imp-rw).
        mask_pooler, mask_classifier: prune the pooler / classifier too (official IMP: pooler yes, classifier no).
    """

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "step",
        loss: str = "ce",
        bias_file: str | None = None,
        bias_features: str | None = None,
        teacher_run: str | None = None,
        reweight_normalise: bool = True,
        select_metric: str = "val/acc",
        select_start: float = 0.0,
        sparsity: float = 0.5,
        prune_step: float = 0.1,
        prune_every: float = 0.1,
        rewind: bool = False,
        mask_pooler: bool = True,
        mask_classifier: bool = False,
        compile: bool = False,
    ) -> None:
        sparsity = check_sparsity(sparsity)
        for key, v in (("model.prune_step", prune_step), ("model.prune_every", prune_every)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1:
                raise ConfigError(key, v, "a fraction in (0, 1)", f"set {key}=0.1 (the paper's 10 %).")
        rounds = imp_rounds(sparsity, prune_step)
        if rounds * prune_every >= 1:
            raise ConfigError(
                "model.prune_every",
                prune_every,
                f"< {1 / max(rounds, 1):.3f} so that the {rounds} pruning rounds to sparsity {sparsity} end before t_max",
                "lower model.prune_every or raise model.prune_step.",
            )
        super().__init__(**pruning_arguments(locals()))
        self.masks = attach_fixed_masks(self.hf, None, mask_pooler, mask_classifier)
        self.linears = target_linears(self.hf, mask_pooler, mask_classifier)
        self.rounds = rounds
        self.register_buffer("rounds_done", torch.tensor(0))  # persistent: a resumed run knows where it is
        self._rewind_state: dict[str, torch.Tensor] | None = None

    def round_sparsity(self, r: int) -> float:
        return min(r * self.hparams.prune_step, self.hparams.sparsity)

    def current_sparsity(self) -> float:
        return self.round_sparsity(int(self.rounds_done))

    def prune_at(self, r: int) -> int:
        """Global step at which round ``r`` (1-based) prunes."""
        return max(1, round(r * self.hparams.prune_every * self.total_steps))

    def on_fit_start(self) -> None:
        if (
            self.hparams.rewind
        ):  # the weights at the start of training (θ_pt for IMP from the pre-trained model)
            self._rewind_state = {
                k: v.detach().clone() for k, v in self.net.state_dict().items() if not k.endswith(".mask")
            }

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        while int(self.rounds_done) < self.rounds and self.global_step >= self.prune_at(
            int(self.rounds_done) + 1
        ):
            self.rounds_done += 1
            s = self.current_sparsity()
            magnitude_prune(self.linears, s)
            if self._rewind_state is not None:
                with torch.no_grad():
                    own = self.net.state_dict()
                    for k, v in self._rewind_state.items():
                        own[k].copy_(v)
            for opt in self.trainer.optimizers:  # fresh optimiser state after each pruning
                opt.state.clear()
            log.info(
                f"IMP round {int(self.rounds_done)}/{self.rounds} at step {self.global_step}: sparsity {s:.2f}"
            )
        self.log("train/sparsity_target", self.current_sparsity(), on_step=True, on_epoch=False)

    def selection_eligible(self) -> bool:
        return super().selection_eligible() and int(self.rounds_done) >= self.rounds

    def no_eligible_evaluation(self) -> ConfigError:
        steps = [s for s, _ in self.evaluations]
        last = self.prune_at(self.rounds)
        return ConfigError(
            "model.prune_every",
            self.hparams.prune_every,
            f"pruning rounds that end (round {self.rounds} at step {last} of {self.total_steps}) before an "
            f"evaluation in the selection window; the {len(steps)} evaluations were at steps {steps[:3]}…"
            f"{steps[-1:]} and none was eligible, so no best_mask.pt was written and val/select stayed -1",
            "lower model.prune_every, or evaluate more often (trainer.val_check_interval).",
        )

    def on_new_best(self, value: float) -> None:
        self._write_mask(value)


__all__ = ["IMPModule", "imp_rounds", "magnitude_prune"]
