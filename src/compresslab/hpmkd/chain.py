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

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from compresslab.hpmkd.memory import SharedOptimizationMemory, state_dict_digest
from compresslab.hpmkd.nets import count_params
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


# -------------------------------------------------------------------------------------------------- family
class NetFamily:
    """The student's architecture family: its config node, rebuilt at other widths or depths.

    Args:
        spec: the student's ``model.net`` config (a ``_target_`` node; pass ``${model.net}`` with
            ``_recursive_: false`` on the family node so that it arrives as config, not as a module).
        width_key: the argument that sets the width: a number (multiplied, e.g. ``build_net``'s ``width``) or a
            list of sizes (each multiplied and rounded, e.g. ``MLP``'s ``hidden``); None for a depth-only family
            (members differ only in depth; the chain then needs ``mode=depth``).
        depth_key: the argument that sets the depth (``depth`` modes), or None.
        count_on_meta: count parameters on members built on the meta device (no memory, no initialisation);
            false for builders that read trained tensors (e.g. a learngene recomposition loads a checkpoint).
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        width_key: str | None = "width",
        depth_key: str | None = "depth",
        count_on_meta: bool = True,
    ) -> None:
        if isinstance(spec, DictConfig):
            spec = OmegaConf.to_container(spec, resolve=True)  # type: ignore[assignment]
        if not isinstance(spec, Mapping) or "_target_" not in spec:
            raise ConfigError(
                "model.family.spec",
                spec if not isinstance(spec, nn.Module) else type(spec).__name__,
                "the student's net config (a mapping with _target_)",
                "set model.family.spec=${model.net} and model.family._recursive_=false.",
            )
        self.spec = {k: v for k, v in spec.items() if k not in ("_partial_",)}
        self.width_key, self.depth_key, self.count_on_meta = width_key, depth_key, bool(count_on_meta)
        if width_key is None and depth_key is None:
            raise ConfigError(
                "model.family.width_key/depth_key",
                (None, None),
                "at least one of them (the argument that scales the net)",
                "set width_key=width (build_net) or depth_key=depth (a depth-only family).",
            )
        base = 1.0 if width_key is None else self.spec.get(width_key, 1.0)
        if isinstance(base, numbers.Real) and not isinstance(base, bool):
            self.base_width: float | list[int] = float(base)
        elif isinstance(base, Sequence) and base and all(isinstance(v, numbers.Real) for v in base):
            self.base_width = [int(v) for v in base]
        else:
            raise ConfigError(
                f"model.family.spec.{width_key}",
                base,
                "a positive number or a list of layer sizes",
                "set width_key to the net's width argument (e.g. 'width' for build_net, 'hidden' for MLP).",
            )

    def kwargs(self, mult: float = 1.0, depth: int | None = None) -> dict[str, Any]:
        """The net's config with width × ``mult`` and, if given, ``depth``."""
        out = dict(self.spec)
        if self.width_key is None:
            if not math.isclose(mult, 1.0):
                raise ConfigError(
                    "model.chain.mode",
                    f"width multiplier {mult:g}",
                    "width 1 for a depth-only family (model.family.width_key=null)",
                    "set model.chain.mode=depth with model.chain.depths.",
                )
        elif isinstance(self.base_width, list):
            out[self.width_key] = [max(1, int(round(v * mult))) for v in self.base_width]
        else:
            out[self.width_key] = self.base_width * mult
        if depth is not None:
            if self.depth_key is None:
                raise ConfigError("model.family.depth_key", None, "the net's depth argument", "e.g. 'depth'.")
            out[self.depth_key] = int(depth)
        return out

    def build(self, mult: float = 1.0, depth: int | None = None) -> nn.Module:
        """A new (randomly initialised) member of the family."""
        return hydra.utils.instantiate(self.kwargs(mult, depth), _convert_="all")

    def params(self, mult: float = 1.0, depth: int | None = None) -> int:
        """Parameter count of the member (built on the meta device: no memory, no initialisation cost)."""
        if not self.count_on_meta:
            return count_params(self.build(mult, depth))
        try:
            with torch.device("meta"):
                return count_params(self.build(mult, depth))
        except (NotImplementedError, RuntimeError):  # a constructor that touches data
            return count_params(self.build(mult, depth))

    def arch(self, mult: float = 1.0, depth: int | None = None) -> str:
        """Architecture name of a member (the SOM model-cache key's ``arch``): the target, a digest of the other
        arguments (input shape, classes, depth, …) and the width."""
        kw = self.kwargs(mult, depth)
        width = kw.pop(self.width_key) if self.width_key is not None else mult
        digest = hashlib.sha1(json.dumps(kw, sort_keys=True, default=str).encode()).hexdigest()[:8]
        shown = width if isinstance(width, list) else round(float(width), 6)
        return f"{self.spec['_target_'].rsplit('.', 1)[-1]}[{digest}]w={shown}"

    def depth(self) -> int | None:
        """The student's depth (None if the spec does not set it)."""
        return None if self.depth_key is None else self.spec.get(self.depth_key)

    def solve_width(
        self,
        target: float,
        depth: int | None = None,
        lo: float = 1 / 64,
        hi: float = 64.0,
        max_evals: int = 40,
    ) -> float:
        """The width multiplier whose member has the parameter count nearest to ``target`` (in log ratio).

        Secant steps on log(params) vs log(mult) (counts grow ~ quadratically with width), safeguarded by a
        bisection bracket; widths are rounded to integers inside the net, so the count is a step function and
        the nearest step wins.
        """
        if not (isinstance(target, numbers.Real) and target > 0):
            raise ConfigError(
                "pdc.target_params", target, "a parameter count > 0", "check the teacher/student."
            )
        if self.width_key is None:
            raise ConfigError(
                "model.chain.mode",
                "width or mixed",
                "mode=depth for a depth-only family (model.family.width_key=null)",
                "set model.chain.mode=depth and model.chain.depths=[...].",
            )
        cache: dict[float, int] = {}

        def f(x: float) -> float:  # log(params) − log(target) at multiplier e^x
            m = math.exp(x)
            if m not in cache:
                cache[m] = self.params(m, depth)
            return math.log(cache[m]) - math.log(target)

        a, b = math.log(lo), math.log(hi)
        if f(a) >= 0:
            return lo
        if f(b) <= 0:
            raise ConfigError(
                "pdc.target_params",
                int(target),
                f"at most {cache[math.exp(b)]:,} parameters (width × {hi:g} of the student's family)",
                "the teacher is far larger than the student's family can reach; use mode=mixed with depths.",
            )
        f0 = f(0.0)
        guess = min(max(0.5 * (math.log(target) - math.log(cache[1.0])), a + 1e-3), b - 1e-3)
        xs, fs = [0.0, guess], [f0, f(guess)]
        for x, fx in zip(xs, fs):
            if fx < 0:
                a = max(a, x)
            else:
                b = min(b, x)
        while len(cache) < max_evals and abs(fs[-1]) > 1e-4 and b - a > 1e-7:
            (x0, x1), (f0, f1) = xs[-2:], fs[-2:]
            x2 = x1 - f1 * (x1 - x0) / (f1 - f0) if f1 != f0 else (a + b) / 2
            if not a < x2 < b or x2 in xs:
                x2 = (a + b) / 2
            f2 = f(x2)
            if f2 < 0:
                a = x2
            else:
                b = x2
            xs.append(x2)
            fs.append(f2)
        return min(cache, key=lambda m: (abs(math.log(cache[m]) - math.log(target)), m))


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
