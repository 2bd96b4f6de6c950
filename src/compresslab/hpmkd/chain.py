"""Progressive Distillation Chain (PDC, HPM-KD component 2): teacher → f_1 → … → f_k, then the student.

Draft §4.3 (``shared/papers/hpmkd.md`` §2.2):

* capacities are geometric, **|θ_i| = |θ_T| · r^{i/L}** with r = |θ_S| / |θ_T| (i = 0 is the teacher, i = L the
  student); the intermediate models f_1 … f_{L−1} are members of the *student's* family, scaled in width (the
  width multiplier that gives |θ_i| parameters is solved for, :meth:`NetFamily.solve_width`), in depth (the
  candidate depth with the nearest count) or both (depth first, then width);
* the family is any builder callable with a depth and/or a width argument (its ``_target_``): ``width_key=None``
  makes a depth-only family (``mode=depth``), e.g. ``compresslab.learngene.recomposed``, whose members are
  learngene recompositions of the chosen depth — so the chain's models are not necessarily random inits;
* each step distils from the previous model with α·KL(f_{i−1} ‖ f_i) + (1 − α)·CE
  (:func:`compresslab.hpmkd.engine.kd_objective`);
* the chain stops when the relative accuracy gain (Acc_i − Acc_{i−1}) / Acc_{i−1} falls below ε (default 0.01);
* the student then distils from the last chain model.

**What Acc_i measures (our reading).** Read literally, Acc_i is the accuracy of f_i itself; the chain's models
shrink, so that accuracy falls step after step, the "gain" is negative at i = 1 and the chain would always stop
after one step. We read Acc_i as what the chain is for: the validation accuracy of *the student distilled from
f_i* (a probe run of the student's recipe), with Acc_0 the student distilled from the teacher itself. A step is
worth adding while it makes the student better by at least ε relative; the student's teacher is the chain model
with the best probe (the last one unless the last step made the probe worse). With ``epsilon=None`` no probes run
and every planned step is trained (TAKD: one assistant halfway, ``steps=2``).

Intermediate models are cached in the Shared Optimization Memory under ``(architecture, size)`` (draft
Eq. (25)), with a tag that fixes their lineage — the parent's weights, the data, the recipe and the seed — so a
cached model is reused only where retraining would reproduce it (:func:`cached_stage`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from compresslab.hpmkd.family import NetFamily  # noqa: F401  (re-exported: its former home)
from compresslab.hpmkd.memory import SharedOptimizationMemory, state_dict_digest
from compresslab.utils.errors import ConfigError
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

MODES = ("width", "depth", "mixed")


def geometric_capacities(teacher_params: float, student_params: float, steps: int) -> list[float]:
    """|θ_i| = |θ_T| · r^{i/L} for i = 0 … L (r = |θ_S| / |θ_T|): teacher first, student last."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ConfigError("model.chain.steps", steps, "an int L ≥ 1", "the draft's chains have 2-4 steps.")
    for key, value in (("teacher_params", teacher_params), ("student_params", student_params)):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
            raise ConfigError(f"pdc.{key}", value, "a parameter count > 0", "count the model's parameters.")
    r = student_params / teacher_params
    return [float(teacher_params) * r ** (i / steps) for i in range(steps + 1)]


@dataclass(frozen=True)
class ChainStage:
    """One planned intermediate model f_i."""

    index: int
    target_params: float
    params: int
    width: float
    depth: int | None
    arch: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "target_params": self.target_params,
            "params": self.params,
            "width": self.width,
            "depth": self.depth,
            "arch": self.arch,
        }


@dataclass
class ChainOutcome:
    """What :meth:`ProgressiveDistillationChain.run` did.

    Attributes:
        plan: every planned intermediate model.
        models: the trained chain models f_1 … f_k (k ≤ L − 1).
        scores: probe accuracies Acc_0 (student from the teacher), Acc_1 … Acc_k; empty without probes.
        gains: relative gains (Acc_i − Acc_{i−1}) / Acc_{i−1}, i = 1 … k.
        best: index of the student's teacher in [teacher, f_1, …, f_k] (0 = the teacher itself).
        reason: why the chain ended.
    """

    plan: list[ChainStage]
    models: list[nn.Module] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)
    best: int = 0
    reason: str = ""

    @property
    def steps_trained(self) -> int:
        return len(self.models)

    def last_model(self, teacher: nn.Module) -> nn.Module:
        """The model the student distils from (the teacher when no chain model helped)."""
        return teacher if self.best == 0 else self.models[self.best - 1]


class ProgressiveDistillationChain:
    """Plan and run the chain.

    Args:
        steps: L, the number of capacity steps from teacher to student (L − 1 intermediate models).
        epsilon: stop when the relative probe gain falls below it (draft: 0.01); None trains every planned step
            without probes.
        mode: ``width`` (the student's depth, solved width), ``depth`` (the candidate depth with the nearest
            count, the student's width) or ``mixed`` (that depth, then the solved width).
        depths: candidate depths for ``depth``/``mixed`` (e.g. [8, 14, 20, 32, 44, 56] for CIFAR ResNets).
    """

    def __init__(
        self,
        steps: int = 3,
        epsilon: float | None = 0.01,
        mode: Literal["width", "depth", "mixed"] = "width",
        depths: Sequence[int] | None = None,
    ) -> None:
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
            raise ConfigError("model.chain.steps", steps, "an int L ≥ 1", "e.g. 3 (two intermediate models).")
        if epsilon is not None and not (isinstance(epsilon, numbers.Real) and math.isfinite(epsilon)):
            raise ConfigError(
                "model.chain.epsilon", epsilon, "a finite number or null", "the draft uses 0.01."
            )
        if mode not in MODES:
            raise ConfigError(
                "model.chain.mode", mode, f"one of {list(MODES)}", "'width' scales the student."
            )
        if mode != "width" and not depths:
            raise ConfigError(
                "model.chain.depths",
                depths,
                f"candidate depths for mode={mode}",
                "e.g. [8, 14, 20, 32, 44, 56].",
            )
        self.steps, self.epsilon, self.mode = int(steps), epsilon, mode
        self.depths = [int(d) for d in depths] if depths else None

    def plan(
        self, family: NetFamily, teacher_params: int, student_params: int | None = None
    ) -> list[ChainStage]:
        """The intermediate models f_1 … f_{L−1} with their target and actual parameter counts."""
        student_params = student_params or family.params()
        caps = geometric_capacities(teacher_params, student_params, self.steps)
        stages = []
        for i, target in enumerate(caps[1:-1], start=1):
            depth = family.depth()
            if self.mode in ("depth", "mixed"):
                assert self.depths is not None
                depth = min(self.depths, key=lambda d: abs(math.log(family.params(1.0, d) / target)))
            width = family.solve_width(target, depth) if self.mode in ("width", "mixed") else 1.0
            stages.append(
                ChainStage(i, target, family.params(width, depth), width, depth, family.arch(width, depth))
            )
        return stages

    def run(
        self,
        plan: Sequence[ChainStage],
        teacher: nn.Module,
        train_stage: Callable[[ChainStage, nn.Module], nn.Module],
        score: Callable[[nn.Module], float] | None = None,
    ) -> ChainOutcome:
        """Train f_1, f_2, … each from the previous model; after each, probe it and stop on a gain below ε.

        ``train_stage(stage, parent)`` returns the trained f_i; ``score(model)`` returns the probe accuracy of the
        student distilled from ``model`` (required unless ``epsilon`` is None).
        """
        out = ChainOutcome(list(plan))
        probing = self.epsilon is not None
        if probing and score is None:
            raise ConfigError("pdc.score", None, "a probe function when epsilon is set", "pass score=... .")
        if probing:
            out.scores.append(float(score(teacher)))  # type: ignore[misc]
        parent = teacher
        out.reason = f"all {len(plan)} planned steps trained"
        for stage in plan:
            model = train_stage(stage, parent)
            out.models.append(model)
            if probing:
                acc, prev = float(score(model)), out.scores[-1]  # type: ignore[misc]
                gain = (acc - prev) / prev if prev > 0 else (math.inf if acc > 0 else 0.0)
                out.scores.append(acc)
                out.gains.append(gain)
                log.info(
                    f"PDC step {stage.index}: {stage.params:,} params, probe {acc:.4f}, gain {gain:+.4f}"
                )
                if gain < self.epsilon:  # type: ignore[operator]
                    out.reason = f"step {stage.index}: relative gain {gain:+.4f} < ε = {self.epsilon:g}"
                    break
            parent = model
        if probing:
            out.best = max(range(len(out.scores)), key=lambda i: (out.scores[i], -i))
        else:
            out.best = len(out.models)
        return out


# -------------------------------------------------------------------------------------------- caching
def lineage_tag(parent: nn.Module, data: Mapping[str, Any], recipe: Mapping[str, Any]) -> str:
    """A short hash of what determines a trained chain model besides its shape: parent weights, data, recipe."""
    text = json.dumps(
        {"parent": state_dict_digest(parent), "data": data, "recipe": recipe}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_stage(
    family: NetFamily,
    stage: ChainStage,
    parent: nn.Module,
    train: Callable[[nn.Module, nn.Module], nn.Module],
    som: SharedOptimizationMemory | None,
    data: Mapping[str, Any],
    recipe: Mapping[str, Any],
    seed: int = 0,
    preloaded: Mapping[str, torch.Tensor] | None = None,
    lookup: bool = True,
) -> tuple[nn.Module, bool]:
    """Build f_i and load it from the SOM model cache, or train it from ``parent`` and store it.

    ``preloaded`` is a state dict found by someone else (under DDP rank 0 looks up and broadcasts;
    ``lookup=False`` then keeps every rank from deciding on its own). Returns (model in eval mode, whether it
    came from the cache).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 1000 * stage.index)
        model = family.build(stage.width, stage.depth)
    tag = lineage_tag(parent, data, {**recipe, "seed": seed})
    state = preloaded
    if state is None and som is not None and lookup:
        state = som.get_model(stage.arch, stage.params, tag)
    if state is not None:
        try:
            model.load_state_dict(state)
            return model.eval(), True
        except (RuntimeError, KeyError) as err:  # a shape change under the same key: retrain
            if preloaded is not None:
                raise
            log.warning(f"SOM model {stage.arch} does not fit ({err}); retraining it")
    model = train(model, parent).eval()
    if som is not None:
        som.put_model(stage.arch, stage.params, copy.deepcopy(model).cpu().state_dict(), tag)
    return model, False
