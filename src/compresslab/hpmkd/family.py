"""The student's architecture family for the Progressive Distillation Chain (:mod:`compresslab.hpmkd.chain`) and
TAKD's assistant: its config node, rebuilt at other widths or depths, with the width that gives a parameter count
solved for (:meth:`NetFamily.solve_width`)."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from compresslab.measure.report import num_params as count_params
from compresslab.utils.errors import ConfigError


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
